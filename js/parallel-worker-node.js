// A shard worker of weave-usage/parallel in Node, Deno and Bun (see parallel-core.js).
import { MessagePort, parentPort } from 'node:worker_threads';
import * as lib from './node.js';
import { shardReading } from './guard.js';
import { shardHandlerWith } from './parallel-core.js';

// With stats fields, shards are read by weave-usage/stats, loaded when first needed.
let post = (message, transfer) => parentPort.postMessage(message, transfer);
const handle = shardHandlerWith(lib, (message, transfer) => post(message, transfer), { loadStats: () => import('./stats-node.js') }, shardReading);
parentPort.on('message', (m) => {
  // A pool on another thread than the one that made this worker
  // (`createUsagePool({ connect })`) hands over the port to serve instead, first.
  if (m?.connect instanceof MessagePort) {
    const port = m.connect;
    post = (message, transfer) => port.postMessage(message, transfer);
    port.on('message', handle);
    return;
  }
  handle(m);
});
