// A worker thread for tests/js/workers.test.mjs (see handler.mjs).
import { parentPort, workerData } from 'node:worker_threads';
import * as lib from 'weave-usage';
import { usageHandler } from './handler.mjs';

const handle = usageHandler(lib, 65536);
parentPort.on('message', (m) => parentPort.postMessage({ name: workerData.name, ...handle(m) }));
