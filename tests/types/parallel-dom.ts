// weave-usage/parallel with the DOM's own MessagePort and Worker: a pool
// whose shard workers another thread makes (createUsagePool({ connect })).
import { createUsagePool, startShardWorker, type ShardLink } from 'weave-usage/parallel';

const pool = createUsagePool({
  workers: 2,
  connect: (): ShardLink => {
    const { port1, port2 } = new MessageChannel();
    const worker = startShardWorker(port2) as Worker;
    return {
      port: port1,
      close: () => worker.terminate(),
      onFailure: (fail) => worker.addEventListener('error', (e) => fail(e.message)),
    };
  },
});
// A File (a Blob) as it comes from an <input type=file>: the DOM's Blob is a BlobLike.
declare const file: File;
void pool.callsUsage(file, { project_id: 'p', call_ids: ['a'] }).then(() => pool.close());
// The DOM's AbortSignal gives up work.
const controller = new AbortController();
void pool.load(file, { signal: controller.signal }).then((loaded) => loaded.callsUsage({ project_id: 'p', call_ids: ['a'] }, null, { signal: AbortSignal.timeout(1000) }));
controller.abort();
