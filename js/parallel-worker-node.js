// A shard worker of weave-usage/parallel in Node, Deno and Bun (see parallel-core.js).
import { parentPort } from 'node:worker_threads';
import * as lib from './node.js';
import { shardHandler } from './parallel-core.js';

const handle = shardHandler(lib, (message, transfer) => parentPort.postMessage(message, transfer));
parentPort.on('message', handle);
