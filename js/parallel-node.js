// weave-usage/parallel in Node (20+), Deno and Bun: one body aggregated
// across worker_threads, each with its own instance of the module
// (parallel-worker-node.js). See parallel-core.js and docs/parallel.md.
import { Worker } from 'node:worker_threads';
import * as lib from './node.js';
import { forOneCall, linked, makePool } from './parallel-core.js';

export { splitBody, shardsAt, readShard, partCalls, shardHandler } from './parallel-core.js';
export { callsUsageFromParts, traceUsageFromParts } from './node.js';

function spawn() {
  const worker = new Worker(new URL('./parallel-worker-node.js', import.meta.url));
  // The pool's workers do not keep the process alive between requests.
  worker.unref();
  return {
    worker,
    on: (message, error) => (worker.on('message', message), worker.on('error', error)),
    close: () => worker.terminate(),
  };
}

/** A pool of `workers` worker threads (default 2), or of workers reached
 * through `connect(i)` (see parallel.d.ts); `close()` ends them. */
export function createUsagePool({ workers = 2, connect } = {}) {
  return makePool(lib, connect ? linked(connect) : spawn, workers);
}

/** A shard worker (a worker thread, made here) serving `port`, for a pool
 * on another thread made with `createUsagePool({ connect })`. Returns the
 * Worker; its `error` event is the link's `onFailure`. */
export function startShardWorker(port) {
  const worker = new Worker(new URL('./parallel-worker-node.js', import.meta.url));
  worker.unref();
  worker.postMessage({ connect: port }, [port]);
  return worker;
}

/** `callsUsageParallel(body, request, options, { workers, onProgress, signal })`
 * and `traceUsageParallel(...)`: the answer across a pool made for this call. */
export const { callsUsageParallel, traceUsageParallel } = forOneCall(createUsagePool);
