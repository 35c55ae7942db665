// The types of weave-usage/parallel: one body aggregated across workers
// (docs/parallel.md).
import type { CallsUsageReq, CallsUsageRes, TraceUsageReq, TraceUsageRes, UsageOptions, UsageAccumulatorOptions } from 'weave-usage';

export { callsUsageFromParts, traceUsageFromParts } from 'weave-usage';

/** A body as `splitBody` and `shardsAt` take it. */
export type Body = Uint8Array | ArrayBuffer | string;

/** What a pool reads of a `Blob` (or a `File`): it is read in pieces,
 * never whole, and the page or process never holds all of it. A DOM or
 * Node `Blob` is one. (In browsers a real Blob's slices go to the workers,
 * which read them with `stream()`.) */
export interface BlobLike {
  readonly size: number;
  slice(start?: number, end?: number): BlobLike;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A body as a pool and the parallel functions take it: bytes, text, or a
 * Blob, whose pieces the workers get as they are read. */
export type ParallelBody = Body | BlobLike;

/** One shard of a body: its bytes are `body.subarray(start, end)`, read
 * after `prefix` and before `suffix`; `atLeastOne`: it must hold a call. */
export interface Shard {
  start: number;
  end: number;
  prefix: '' | '[';
  suffix: '' | ']';
  atLeastOne: boolean;
}

/** Where to cut a body into at most `n` shards, at call boundaries. */
export function splitBody(body: Body, n: number): { format: 'lines' | 'array'; shards: Shard[] };

/** What `readShard` and `shardHandler` use of an accumulator (the
 * package's `UsageAccumulator`, of `weave-usage` or `weave-usage/stats`). */
export interface ShardAccumulator {
  push(chunk: Uint8Array | ArrayBuffer | string): void;
  part(select?: { traces?: string[]; ids?: string[] } | null): Uint8Array;
  readonly calls: number;
  free(): void;
}

/** The package's API as `readShard` and `shardHandler` use it (the module
 * namespace of `weave-usage`, or of `weave-usage/stats`). */
export interface UsageLib<A extends ShardAccumulator = ShardAccumulator> {
  UsageAccumulator: new (options?: UsageAccumulatorOptions | null) => A;
}

/** The shards of `body` cut at `cuts` (byte offsets), or null when a cut
 * is not where the rules allow one (docs/parallel.md). */
export function shardsAt(body: Body, cuts: number[]): { format: 'lines' | 'array'; shards: Shard[] } | null;

/** Reads a shard's bytes into a new accumulator (the caller frees it);
 * `acc.part(select)` then gives its part. */
export function readShard<A extends ShardAccumulator>(lib: UsageLib<A>, bytes: Uint8Array, shard: Shard, progress?: (bytesRead: number) => void): A;

/** The ids and trace ids of a part's calls, in order. */
export function partCalls(part: Uint8Array): { ids: string[]; traces: string[] };

/** The message handler of a shard worker (for workers of your own);
 * `loadStats` gives the stats module (`weave-usage/stats`) for shards read
 * with stats fields. */
export function shardHandler(
  lib: UsageLib,
  post: (message: unknown, transfer?: ArrayBuffer[]) => void,
  options?: { loadStats?: () => Promise<UsageLib> },
): (message: unknown) => void;

/** Progress of the shards' reading: bytes read so far of `total`. */
export interface ParallelProgress {
  bytes: number;
  total: number;
}

/** What a pool uses of an `AbortSignal` (the DOM's and Node's are ones). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: any;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** How long work may run: until `signal` aborts, when the promise rejects
 * with its reason (an `AbortError` by default) and the workers stop
 * reading the body and let it go; the pool then serves the next request. */
export interface ParallelAbortOptions {
  signal?: AbortSignalLike;
}

export interface ParallelRunOptions extends ParallelAbortOptions {
  onProgress?: (p: ParallelProgress) => void;
}

/** A body read into a pool's workers, for many requests. */
export interface LoadedBody {
  /** How many shards it was read as (0: not read across workers; its answers come from the one-shot path). */
  readonly shards: number;
  callsUsage(request: CallsUsageReq, options?: UsageOptions | null, run?: ParallelAbortOptions): Promise<CallsUsageRes>;
  traceUsage(request: TraceUsageReq, options?: UsageOptions | null, run?: ParallelAbortOptions): Promise<TraceUsageRes>;
  /** Every call, as the shards' parts in body order (with stats fields if
   * loaded with `stats`): `UsageAccumulator.fromParts(parts)` makes one
   * accumulator of them. Rejects when the body is not loaded (`shards` 0). */
  parts(): Promise<Uint8Array[]>;
  /** Releases the workers' tables (loading another body does too); later answers come from the one-shot path. */
  free(): Promise<void>;
}

/** Workers kept for many requests (one at a time). */
export interface UsagePool {
  readonly workers: number;
  /** How the last answer was made: across `shards` workers, or by the
   * one-shot path; `rereads`: shards read again in full because, read for
   * one request's calls alone, they passed over calls the other shards
   * showed it reaches (docs/parallel.md). */
  readonly last: { shards: number; oneShot: boolean; rereads?: number } | null;
  /** Reads `body` into the workers once; its answers then cost only the
   * merge. `stats`: the shards also read the fields stats need (with
   * `weave-usage/stats`), so that `parts()` carry them. */
  load(body: ParallelBody, run?: ParallelRunOptions & { stats?: boolean }): Promise<LoadedBody>;
  callsUsage(body: ParallelBody, request: CallsUsageReq, options?: UsageOptions | null, run?: ParallelRunOptions): Promise<CallsUsageRes>;
  traceUsage(body: ParallelBody, request: TraceUsageReq, options?: UsageOptions | null, run?: ParallelRunOptions): Promise<TraceUsageRes>;
  close(): Promise<void>;
}

/** What a pool needs of a port: a `MessagePort` of the DOM or of `node:worker_threads`. */
export interface ShardPort {
  postMessage(message: any, transfer: any[]): void;
  addEventListener(type: 'message' | 'messageerror', listener: (event: { data: any }) => void): void;
  start?(): void;
  close?(): void;
}

/** A shard worker made on another thread, reached through a port (`createUsagePool({ connect })`). */
export interface ShardLink {
  /** An end of a `MessageChannel` whose other end the shard worker serves (`startShardWorker(port)`). */
  port: ShardPort;
  /** Ends the worker (the pool's `close()` calls it). */
  close?(): unknown;
  /** Called once with `fail`, which the link calls if the worker dies or
   * cannot load (a port says nothing of the worker behind it): the pool then
   * answers by the one-shot path, as for a worker of its own that failed. */
  onFailure?(fail: (why: unknown) => void): void;
}

export interface UsagePoolOptions {
  /** How many shard workers (browsers: the cores, at most 4; Node: 2). */
  workers?: number;
  /** The shard workers are made elsewhere: `connect(i)` reaches the i-th.
   * E.g. a pool in a Web Worker whose page makes its shard workers, because
   * in Firefox a worker that makes a worker can hang (docs/parallel.md). */
  connect?: (index: number) => ShardLink;
}

export function createUsagePool(options?: UsagePoolOptions): UsagePool;

/** The worker `startShardWorker` made: a DOM `Worker` in browsers (its
 * `error` event tells that it failed), a `node:worker_threads` `Worker` in
 * Node (its `'error'` event). */
export interface ShardWorker {
  terminate(): unknown;
}

/** A shard worker made here serving `port`, for a pool made with `connect`
 * on another thread. `terminate()` ends it; its error event is what the
 * link's `onFailure` should report. */
export function startShardWorker(port: ShardPort): ShardWorker;

/** `callsUsageFromJson(body, request, options)`, the same answer or error, across workers made for this call. */
export function callsUsageParallel(
  body: ParallelBody,
  request: CallsUsageReq,
  options?: UsageOptions | null,
  run?: ParallelRunOptions & { workers?: number },
): Promise<CallsUsageRes>;

/** `traceUsageFromJson(body, request, options)`, the same answer or error, across workers made for this call. */
export function traceUsageParallel(
  body: ParallelBody,
  request: TraceUsageReq,
  options?: UsageOptions | null,
  run?: ParallelRunOptions & { workers?: number },
): Promise<TraceUsageRes>;
