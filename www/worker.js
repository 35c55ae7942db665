// The dashboard's worker: reads a calls export and aggregates it with the
// weave-usage package off the main thread, so a file of tens of MB leaves
// the page responsive.
//
// Messages in:  { type: 'open', id, file, workers } or { type: 'open', id, url, name, workers }
//                 (workers: shard workers for a large file; null: as many as
//                 the machine has cores to spare, 0: none)
//               { type: 'usage', id, request, options, trace, compare, defaultPrices, stats }
//                 (trace: null, or { request, traceId } for the trace view;
//                 stats: null, or { timeline, breakdown }: two usageStats
//                 requests over the project's calls;
//                 compare: also answer with Weave's own rollup, for the
//                 provider-true totals' comparison; defaultPrices: price
//                 models from weave-usage/prices too)
// Messages out: { type: 'progress', id, loaded, total, aggregating, workers }
//                 (workers: > 0 while a large file is aggregated across them,
//                 after it was read)
//               { type: 'opened', id, name, size, workers, ...CallScanner summary }
//                 (workers: how many workers the file was read across; 0: here)
//               { type: 'usage', id, result, trace, reference, pricing, stats } or { type: 'error', id, report }
//                 (stats: null, { timeline, breakdown } answers, or { report }
//                 when the stats alone failed)
//                 (reference: null, or the answer with `rollup: "reference"`;
//                 pricing: null, or pricesFor's { matches, unmatched })
//                 (trace: null, or { result, calls }: traceUsage's answer and
//                 the trace's calls as the file has them)
// Each answer carries the id of the message it answers.
import { CallScanner, traceCalls } from './scan.js';
import { errorReport } from './errors.js';

// weave-usage/stats (pkg/stats.js): the dashboard shows stats, which the
// main entry's module is built without. Imported dynamically: the package instantiates its wasm with top-level
// await, and messages that reach a worker before its handler is installed
// are lost; a static import would hold the handler back until then.
const loading = import('./pkg/stats.js');
let weave; // the package, once loaded

/** The open file: its bytes (kept for error excerpts, and for requests when
 * the package has no accumulator) and the accumulator fed with them, which
 * answers every request without reading the file again. */
let file = null;

// One message at a time: a file opened while another is still being read
// waits for it, so they never interleave; the one being read is given up
// (its signal aborts), so the wait is short.
let queue = Promise.resolve();
/** Aborts when a newer file is chosen: the latest file's. */
let opening = null;
/** The id of the page's latest message: the page shows only its answer. */
let latest = 0;
let turn = null;
/** The next turn of this worker's event loop: messages already sent come in before it. */
const nextTurn = () => (turn ??= typeof MessageChannel === 'function' ? yielder() : () => new Promise((resolve) => setTimeout(resolve, 0)))();
self.onmessage = ({ data }) => {
  // Not queued: a shard worker's failure matters while a file is being read.
  if (data.type === 'shard-failed') return failures.get(data.shard)?.(data.message);
  if (typeof data.id === 'number' && data.id > latest) latest = data.id;
  if (data.type === 'open') {
    opening?.abort();
    opening = new AbortController();
    data.signal = opening.signal;
  }
  queue = queue.then(() => handle(data));
};

// The pool's shard workers are made by the page, each reached through a
// MessagePort: in Firefox a worker that makes a worker can hang for good.
let shardSeq = 0;
/** shard → the pool's `fail`, told when the page sees that worker fail. */
const failures = new Map();
function connectViaPage() {
  const shard = ++shardSeq;
  const { port1, port2 } = new MessageChannel();
  self.postMessage({ type: 'shard', shard, port: port2 }, [port2]);
  return {
    port: port1,
    close: () => {
      failures.delete(shard);
      self.postMessage({ type: 'end-shard', shard });
    },
    onFailure: (fail) => failures.set(shard, fail),
  };
}

async function handle(data) {
  try {
    weave ??= await loading.catch((e) => {
      throw new Error(`The weave-usage package could not be loaded (${e.message}). Is pkg/ built? Run scripts/build.sh.`);
    });
    if (data.type === 'open') await open(data);
    else if (data.type === 'usage') {
      // The messages the page has sent come in first: a request a newer one
      // replaced (settings changed quickly) is not answered, as the page
      // would drop the answer; with a large file each costs seconds.
      await nextTurn();
      if (data.id < latest) return;
      await usage(data);
    }
  } catch (e) {
    const about = !weave ? {} : file ?? { name: data.name ?? data.file?.name };
    self.postMessage({ type: 'error', id: data.id, report: errorReport(e, about) });
  }
}

/** Files at least this large are aggregated across workers (weave-usage/parallel). */
const PARALLEL_FROM = 64 << 20;

/** The pool of shard workers, made for the first large file and kept. */
let pool = null;

/** How many shard workers to read a file of `size` bytes with: as many as
 * `asked` (the page's setting), whatever the size; else 0 for a small file,
 * and for a large one a worker per core but one, left for this worker,
 * which scans the file meanwhile. */
function shardWorkers(asked, size) {
  if (typeof MessageChannel !== 'function') return 0;
  if (asked !== null && asked !== undefined) return Math.max(0, Math.min(8, Math.floor(Number(asked)) || 0));
  if (size < PARALLEL_FROM) return 0;
  const cores = self.navigator?.hardwareConcurrency || 1;
  return cores < 2 ? 0 : Math.min(4, cores - 1);
}

/** Reads the file `source` names and tells the page what it holds;
 * returns having told nothing if `source.signal` aborts meanwhile. */
async function open(source) {
  const { signal } = source;
  if (signal.aborted) return;
  file?.accumulator?.free();
  file = null;
  let stream, total, name;
  if (source.file) {
    ({ name, size: total } = source.file);
    stream = source.file.stream();
  } else {
    name = source.name;
    const res = await fetch(source.url, { signal });
    if (!res.ok) throw new Error(`${source.url}: HTTP ${res.status}`);
    total = Number(res.headers.get('content-length')) || 0;
    stream = res.body;
  }
  const scanner = new CallScanner();
  // A large file is read whole first, then aggregated across workers while
  // this worker scans it (`acrossWorkers`): into shared memory where there is
  // any (a cross-origin isolated page), which the workers then read in place.
  const shards = typeof weave.UsageAccumulator === 'function' ? shardWorkers(source.workers, total) : 0;
  const bytes = new Bytes(total, shards > 0 && typeof SharedArrayBuffer === 'function');
  // Otherwise the streaming accumulator, where the package has it: it
  // aggregates while the file is read, so the progress bar covers the
  // aggregation too. Made for stats: it also reads each call's op, user,
  // thread and exception.
  const accumulator = shards === 0 && typeof weave.UsageAccumulator === 'function' ? new weave.UsageAccumulator({ stats: true }) : null;
  const progress = throttle(source.id, total);
  const reader = stream.getReader();
  let gathered = accumulator;
  let across = 0; // the workers the file was read across (0: read here)
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (signal.aborted) {
        reader.cancel().catch(() => {});
        accumulator?.free();
        return;
      }
      bytes.push(value);
      if (shards === 0) scanner.push(value);
      accumulator?.push(value);
      progress(bytes.length, !!accumulator);
    }
    // Its own progress: the file's bytes again, as the workers read them and this one scans them.
    if (shards > 0) {
      const read = await acrossWorkers(bytes.done(), scanner, shards, throttle(source.id, bytes.length, shards), signal);
      if (read === null) return; // given up
      ({ accumulator: gathered, workers: across } = read);
    }
  } catch (e) {
    // Reading failed, or the accumulator (which parses as it goes) refused a
    // chunk: the bytes read so far hold the offending line for the report,
    // and the scan so far maps a call's index to its line.
    accumulator?.free();
    let lineOfCall = null;
    try {
      lineOfCall = scanner.finish().lineOfCall;
    } catch {
      // The scan may stop at the same bad line; the report then goes without.
    }
    self.postMessage({ type: 'error', id: source.id, report: errorReport(e, { name, bytes: bytes.done(), lineOfCall }) });
    return;
  }
  if (signal.aborted) {
    gathered?.free();
    return;
  }
  const summary = scanner.finish();
  file = { name, bytes: bytes.done(), lineOfCall: summary.lineOfCall, accumulator: gathered, scanner };
  self.postMessage({ type: 'opened', id: source.id, name, size: file.bytes.length, workers: across, ...summary });
}

/** How long the pool may say nothing (no progress, no answer) before the
 * file is read on this thread instead. */
const STALL = 15_000;

/** Bytes scanned between turns of this worker's event loop, so that the
 * pool's messages and the progress get through while it scans. */
const SLICE = 4 << 20;

/**
 * Aggregates `bytes` across `shards` workers (the pool, loaded for stats)
 * while scanning them here, then gathers the workers' calls into one
 * accumulator (`UsageAccumulator.fromParts`): the same answers as one fed
 * the whole file. Where the workers could not read it (it is not JSON, a
 * worker failed) it is read here, whose error, with its line, is the one to
 * report. Returns `{ accumulator, workers }` (workers: 0 when read here),
 * or null once `signal` aborts (the pool lets the file go, and is kept).
 */
async function acrossWorkers(bytes, scanner, shards, progress, signal) {
  let scanned = 0;
  let read = 0;
  let heard = performance.now(); // when the pool last said something
  const tell = () => progress((scanned + read) / 2, true);
  let loading;
  try {
    if (pool === null || pool.workers !== shards) {
      await pool?.close();
      pool = null;
      const { createUsagePool } = await import('./pkg/parallel.js');
      pool = createUsagePool({ workers: shards, connect: connectViaPage });
    }
    loading = pool.load(bytes, { stats: true, signal, onProgress: (p) => ((read = p.bytes), (heard = performance.now()), tell()) });
  } catch {
    // No workers here after all (the entry did not load, a worker could
    // not be made): the file is read on this thread, below.
    loading = Promise.resolve({ shards: 0 });
  }
  const turn = yielder();
  for (let at = 0; at < bytes.length; at += SLICE) {
    await turn();
    if (signal.aborted) {
      loading.catch(() => {}); // rejects with the reason: nothing to report
      return null;
    }
    scanner.push(bytes.subarray(at, Math.min(bytes.length, at + SLICE)));
    scanned = Math.min(bytes.length, at + SLICE);
    tell();
  }
  // A pool that says nothing for STALL ms is given up on (its workers
  // ended), so that a worker that never answers cannot hold the page.
  const unlessStalled = (promise) =>
    new Promise((resolve, reject) => {
      promise.then(resolve, reject);
      const check = setInterval(() => {
        if (performance.now() - heard < STALL) return;
        clearInterval(check);
        reject(new Error('the workers stopped answering'));
      }, 1000);
      promise.finally(() => clearInterval(check)).catch(() => {});
    });
  let loaded = { shards: 0 };
  try {
    loaded = await unlessStalled(loading);
    if (loaded.shards > 0) {
      heard = performance.now();
      const parts = await unlessStalled(loaded.parts());
      heard = performance.now();
      await unlessStalled(loaded.free());
      return { accumulator: weave.UsageAccumulator.fromParts(parts), workers: loaded.shards };
    }
  } catch {
    if (signal.aborted) return null;
    // Read here instead (below); a stalled pool is not used again.
    const stalled = pool;
    pool = null;
    stalled?.close().catch(() => {});
  }
  const acc = new weave.UsageAccumulator({ stats: true });
  try {
    for (let at = 0; at < bytes.length; at += SLICE) acc.push(bytes.subarray(at, Math.min(bytes.length, at + SLICE)));
    return { accumulator: acc, workers: 0 };
  } catch (e) {
    acc.free();
    throw e;
  }
}

/** A turn of the event loop, without a timer's clamping. */
function yielder() {
  const channel = new MessageChannel();
  let wake = null;
  channel.port1.onmessage = () => wake?.();
  return () =>
    new Promise((resolve) => {
      wake = resolve;
      channel.port2.postMessage(null);
    });
}

async function usage({ id, request, options, trace, compare, defaultPrices, stats }) {
  if (!file) throw new Error('No file is open.');
  const acc = file.accumulator;
  const answer = (opts) => (acc ? acc.finish(request, opts) : weave.callsUsageFromJson(file.bytes, request, opts));
  let pricing = null;
  if (defaultPrices) {
    ({ options, pricing } = await withDefaultPrices(answer, options));
  }
  const result = answer(options);
  const reference = compare ? answer({ ...options, rollup: 'reference', diagnostics: false }) : null;
  let traced = null;
  if (trace) {
    const res = acc?.finishTrace ? acc.finishTrace(trace.request, options) : weave.traceUsageFromJson(file.bytes, trace.request, options);
    // The trace's calls do not change with the request: read them once.
    file.traces ??= new Map();
    if (!file.traces.has(trace.traceId)) file.traces.set(trace.traceId, traceCalls(file.bytes, file.scanner.spansOf(trace.traceId)));
    traced = { result: res, calls: file.traces.get(trace.traceId) };
  }
  let statsAnswer = null;
  if (stats) {
    // Stats do not depend on the roots selected or the trace shown: asked
    // again with the same requests and prices, the last answer stands.
    const key = JSON.stringify([stats, options.prices ?? null, options.reprice ?? null, !!defaultPrices]);
    if (file.stats?.key !== key) file.stats = { key, value: await statsOf(stats, options, defaultPrices) };
    statsAnswer = file.stats.value;
  }
  self.postMessage({ type: 'usage', id, result, trace: traced, reference, pricing, stats: statsAnswer });
}

/**
 * The stats panel's two answers. Stats take only the price options, and
 * cover every call of the project, so Weave's default prices (when asked
 * for) are looked up for every model the timeline found. A failure is the
 * panel's alone: the rest of the page keeps its answer.
 */
async function statsOf({ timeline, breakdown }, options, defaultPrices) {
  const acc = file.accumulator;
  const answer = (req, opts) => (acc ? acc.finishStats(req, opts) : weave.usageStatsFromJson(file.bytes, req, opts));
  try {
    let opts = options.prices ? { prices: options.prices, reprice: options.reprice } : {};
    let first = answer(timeline, opts);
    if (defaultPrices) {
      defaults ??= await import('./pkg/prices.js');
      const models = [...new Set(first.usage_buckets.map((r) => r.model).filter((m) => typeof m === 'string'))];
      opts = { ...opts, prices: [...(opts.prices ?? []), ...defaults.pricesFor(models).prices] };
      first = answer(timeline, opts);
    }
    return { timeline: first, breakdown: answer(breakdown, opts) };
  } catch (e) {
    return { report: errorReport(e, file) };
  }
}

/**
 * `options` with Weave's default prices (weave-usage/prices, loaded the
 * first time they are asked for) after the user's rows, which so win over
 * them for the same model and date. The models that need a price are those
 * the diagnostics call unpriced once the user's rows apply: each is matched
 * to the table exactly or through its rules (`pricesFor`), and what matched
 * how is returned for the page to show.
 */
async function withDefaultPrices(compute, options) {
  defaults ??= await import('./pkg/prices.js');
  const own = options.prices ?? [];
  const probe = compute({ ...options, prices: own, diagnostics: true });
  const { prices, matches, unmatched } = defaults.pricesFor(probe.diagnostics?.unpriced_models ?? []);
  return { options: { ...options, prices: [...own, ...prices] }, pricing: { matches, unmatched, source: defaults.PRICES_SOURCE } };
}
let defaults = null; // weave-usage/prices, once loaded

/** A growing byte buffer, allocated once when the size is known; in shared
 * memory if `shared`. */
class Bytes {
  #buf;
  #shared;
  length = 0;
  constructor(size, shared = false) {
    this.#shared = shared;
    this.#buf = this.#alloc(size || 1 << 16);
  }
  #alloc(n) {
    return new Uint8Array(this.#shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n));
  }
  push(chunk) {
    if (this.length + chunk.length > this.#buf.length) {
      const bigger = this.#alloc(Math.max(this.#buf.length * 2, this.length + chunk.length));
      bigger.set(this.#buf.subarray(0, this.length));
      this.#buf = bigger;
    }
    this.#buf.set(chunk, this.length);
    this.length += chunk.length;
  }
  done() {
    return this.#buf.subarray(0, this.length);
  }
}

/** Posts progress at most once per percent (or per MB when the size is unknown). */
function throttle(id, total, workers = 0) {
  const step = total ? total / 100 : 1 << 20;
  let next = 0;
  return (loaded, aggregating) => {
    if (loaded < next) return;
    next = loaded + step;
    self.postMessage({ type: 'progress', id, loaded, total, aggregating, workers });
  };
}
