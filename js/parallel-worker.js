// A shard worker of weave-usage/parallel in browsers (a module Worker; see
// parallel-core.js). The package is imported dynamically: its browser entry
// instantiates the module with a top-level await, and a message reaching a
// worker before its handler is installed is lost, so the handler is
// installed first and holds messages until the package is ready.
import { shardHandlerWith } from './parallel-core.js';

let post = (message, transfer) => self.postMessage(message, transfer);
const waiting = [];
let handle = (m) => waiting.push(m);
self.addEventListener('message', (e) => {
  // A pool on another thread than the one that made this worker
  // (`createUsagePool({ connect })`, `startShardWorker`) hands over the
  // port to serve instead, first.
  if (e.data?.connect instanceof MessagePort) {
    const port = e.data.connect;
    post = (message, transfer) => port.postMessage(message, transfer);
    port.addEventListener('message', (m) => handle(m.data));
    port.start();
    return;
  }
  handle(e.data);
});
Promise.all([import('./index.js'), import('./guard.js')]).then(
  ([lib, { shardReading }]) => {
    // With stats fields, shards are read by weave-usage/stats, loaded when first needed.
    handle = shardHandlerWith(lib, (message, transfer) => post(message, transfer), { loadStats: () => import('./stats.js') }, shardReading);
    for (const m of waiting.splice(0)) handle(m);
  },
  (e) => {
    // Every request is answered with the failure; the pool then answers by the one-shot path.
    const failed = { error: { message: `weave-usage could not be loaded in a worker: ${e?.message ?? e}` } };
    handle = (m) => {
      if (m?.op !== 'open' && m?.op !== 'push') post(failed);
    };
    for (const m of waiting.splice(0)) handle(m);
  },
);
