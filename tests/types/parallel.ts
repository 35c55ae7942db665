// weave-usage/parallel as docs/parallel.md shows it, under tsc --strict with no DOM.
import { UsageAccumulator, callsUsageFromParts, type CallsUsageRes, type TraceUsageRes } from 'weave-usage';
import * as lib from 'weave-usage';
import { createUsagePool, startShardWorker, callsUsageParallel, splitBody, shardsAt, readShard, partCalls, shardHandler, type AbortSignalLike, type BlobLike, type LoadedBody, type Shard, type ShardLink, type ShardPort } from 'weave-usage/parallel';

declare const bytes: Uint8Array;
declare const blob: BlobLike;
declare const signal: AbortSignalLike;
const request = { project_id: 'p', call_ids: ['a'], include_costs: true };

async function run(): Promise<void> {
  const pool = createUsagePool({ workers: 2 });
  const usage: CallsUsageRes = await pool.callsUsage(bytes, request, null, { onProgress: ({ bytes, total }) => void (bytes / total) });
  const data: LoadedBody = await pool.load(bytes);
  const again: CallsUsageRes = await data.callsUsage(request, { rollup: 'dedupe' });
  const trace: TraceUsageRes = await data.traceUsage({ project_id: 'p' });
  await data.free();
  // Loaded for stats, gathered into one accumulator of the stats module.
  const statsLib = await import('weave-usage/stats');
  const loaded: LoadedBody = await pool.load(bytes, { stats: true, onProgress: ({ bytes }) => void bytes });
  const parts: Uint8Array[] = await loaded.parts();
  const gathered: UsageAccumulator = UsageAccumulator.fromParts(parts);
  const withStats = statsLib.UsageAccumulator.fromParts(parts);
  void [gathered.finish(request), withStats.finishStats({ project_id: 'p' })];
  const once: CallsUsageRes = await callsUsageParallel('{"id":"a","trace_id":"t"}', request, undefined, { workers: 4 });
  // A Blob, read in pieces as the workers need them.
  const fromBlob: CallsUsageRes = await pool.callsUsage(blob, request);
  const loadedBlob: LoadedBody = await pool.load(blob.slice(0, 10), { stats: true });
  void [usage, again, trace, once, fromBlob, loadedBlob, pool.last?.oneShot];
  // Work that may be given up: every call that reads or merges takes a signal.
  const stoppable: LoadedBody = await pool.load(blob, { signal, onProgress: () => {} });
  const answers: [CallsUsageRes, TraceUsageRes, CallsUsageRes, CallsUsageRes] = [
    await stoppable.callsUsage(request, null, { signal }),
    await stoppable.traceUsage({ project_id: 'p' }, undefined, { signal }),
    await pool.callsUsage(bytes, request, null, { signal }),
    await callsUsageParallel(bytes, request, null, { workers: 2, signal }),
  ];
  void answers;
  // @ts-expect-error a signal is an AbortSignal, not a flag
  await pool.callsUsage(bytes, request, null, { signal: true });
  await pool.close();
}
void run;

// Shard workers made on another thread, reached through ports.
declare const ports: ShardPort[];
const linkedPool = createUsagePool({
  workers: 2,
  connect: (i): ShardLink => ({ port: ports[i]!, close: () => startShardWorker(ports[i]!).terminate(), onFailure: (fail) => fail('gone') }),
});
void linkedPool;
// @ts-expect-error connect gives a link, not a port
createUsagePool({ connect: (i: number) => ports[i] });

// The building blocks, as a worker of one's own uses them.
const { shards } = splitBody(bytes, 4);
const first: Shard | undefined = shards[0];
if (first) {
  const acc: UsageAccumulator = readShard(lib, bytes.subarray(first.start, first.end), first);
  const part: Uint8Array = acc.part({ traces: ['t'], ids: ['a'] });
  const all: Uint8Array = acc.part();
  const { ids, traces }: { ids: string[]; traces: string[] } = partCalls(part);
  const res: CallsUsageRes = callsUsageFromParts([part, all], request);
  void [ids, traces, res, shardsAt(bytes, [10])?.format];
  acc.free();
}
const handle: (m: unknown) => void = shardHandler(lib, (message, transfer) => void [message, transfer]);
const withStats: (m: unknown) => void = shardHandler(lib, () => {}, { loadStats: () => import('weave-usage/stats') });
void [handle, withStats];
// @ts-expect-error fromParts takes parts, not calls
UsageAccumulator.fromParts([{ id: 'a' }]);

// @ts-expect-error splitBody needs the bytes, not a Blob
splitBody(blob, 2);
// @ts-expect-error a pool takes bodies, not calls
void createUsagePool().callsUsage([{ id: 'a', trace_id: 't' }], request);
// @ts-expect-error a selection names traces and ids as lists
new UsageAccumulator().part({ traces: 't' });
