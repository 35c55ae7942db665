// A shard worker of weave-usage/parallel in Node, Deno and Bun (see parallel-core.js).
import { parentPort } from 'node:worker_threads';
import * as lib from './node.js';
import { shardHandler } from './parallel-core.js';

// With stats fields, shards are read by weave-usage/stats, loaded when first needed.
const handle = shardHandler(lib, (message, transfer) => parentPort.postMessage(message, transfer), { loadStats: () => import('./stats-node.js') });
parentPort.on('message', handle);
