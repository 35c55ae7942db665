// weave-usage/parallel in browsers and bundlers: one body aggregated across
// module Web Workers (parallel-worker.js), each with its own instance of the
// module. The worker is created as `new Worker(new URL(...,
// import.meta.url), { type: 'module' })`, which Vite, webpack and others
// follow. See parallel-core.js and docs/parallel.md.
import * as lib from './index.js';
import { forOneCall, linked, makePool } from './parallel-core.js';

export { splitBody, shardsAt, readShard, partCalls, shardHandler } from './parallel-core.js';
export { callsUsageFromParts, traceUsageFromParts } from './index.js';

function spawn() {
  const worker = new Worker(new URL('./parallel-worker.js', import.meta.url), { type: 'module' });
  return {
    worker,
    on: (message, error) => {
      worker.addEventListener('message', (e) => message(e.data));
      worker.addEventListener('error', (e) => error(e));
      worker.addEventListener('messageerror', (e) => error(e));
    },
    close: () => worker.terminate(),
  };
}

/** A pool of `workers` module workers (default: the cores, at most 4), or
 * of workers reached through `connect(i)`; `close()` ends them. */
export function createUsagePool({ workers = Math.min(4, globalThis.navigator?.hardwareConcurrency || 2), connect } = {}) {
  // A Blob's slices go to the workers, which read them (`sendBlobs`).
  return makePool(lib, connect ? linked(connect) : spawn, workers, null, true);
}

/**
 * A shard worker (a module Worker, made here) serving `port`, for a pool on
 * another thread made with `createUsagePool({ connect })`: e.g. a page makes
 * the shard workers of a pool in its own worker, because in Firefox a worker
 * that makes a worker can hang. Returns the Worker; its `error` event is the
 * link's `onFailure`.
 */
export function startShardWorker(port) {
  const worker = new Worker(new URL('./parallel-worker.js', import.meta.url), { type: 'module' });
  worker.postMessage({ connect: port }, [port]);
  return worker;
}

/** `callsUsageParallel(body, request, options, { workers, onProgress, signal })`
 * and `traceUsageParallel(...)`: the answer across a pool made for this call. */
export const { callsUsageParallel, traceUsageParallel } = forOneCall(createUsagePool);
