// The dashboard's worker: reads a calls export and aggregates it with the
// weave-usage package off the main thread, so a file of tens of MB leaves
// the page responsive.
//
// Messages in:  { type: 'open', id, file, workers, project } or { type: 'open', id, url, name, workers, project }
//                 (workers: shard workers for a large file; null: as many as
//                 the machine has cores, 0: none; project: the one to list
//                 roots of, if the file has it)
//               { type: 'roots', id, project }: the roots of another project
//               { type: 'usage', id, request, options, trace, compare, defaultPrices, stats }
//                 (trace: null, or { request, traceId } for the trace view;
//                 stats: null, or { timeline, breakdown }: two usageStats
//                 requests over the project's calls;
//                 compare: also answer with Weave's own rollup, for the
//                 provider-true totals' comparison; defaultPrices: price
//                 models from weave-usage/prices too)
// Messages out: { type: 'progress', id, loaded, total, aggregating, workers }
//                 (workers: > 0 while a large file is read across them)
//               { type: 'opened', id, name, size, workers, format, calls, projects, project, roots }
//                 (workers: how many workers the file was read across, 0:
//                 here; calls: calls read; projects: { id, calls } each;
//                 roots: those of `project`, as www/calls.js lists them)
//               { type: 'roots', id, project, roots }
//               { type: 'usage', id, result, trace, reference, pricing, stats } or { type: 'error', id, report }
//                 (stats: null, { timeline, breakdown } answers, or { report }
//                 when the stats alone failed)
//                 (reference: null, or the answer with `rollup: "reference"`;
//                 pricing: null, or pricesFor's { matches, unmatched })
//                 (trace: null, or { result, calls }: traceUsage's answer and
//                 the trace's calls)
// Each answer carries the id of the message it answers.
import { firstProject, formatOf, projectsOf, rootsOf, traceCallsOf } from './calls.js';
import { errorReport } from './errors.js';

// weave-usage/stats (pkg/stats.js): the dashboard shows stats, which the
// main entry's module is built without. Imported dynamically: the package instantiates its wasm with top-level
// await, and messages that reach a worker before its handler is installed
// are lost; a static import would hold the handler back until then.
const loading = import('./pkg/stats.js');
let weave; // the package, once loaded

/** The open file: its name and the accumulator that read it, which answers
 * every request and lists its calls without reading the file again (the
 * file's bytes are not kept). */
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
    else {
      // The messages the page has sent come in first: a request a newer one
      // replaced (settings changed quickly) is not answered, as the page
      // would drop the answer; with a large file each costs seconds.
      await nextTurn();
      if (data.id < latest) return;
      if (data.type === 'roots') roots(data);
      else if (data.type === 'usage') await usage(data);
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
 * and for a large one a worker per core (this worker only waits meanwhile). */
function shardWorkers(asked, size) {
  if (typeof MessageChannel !== 'function') return 0;
  if (asked !== null && asked !== undefined) return Math.max(0, Math.min(8, Math.floor(Number(asked)) || 0));
  if (size < PARALLEL_FROM) return 0;
  const cores = self.navigator?.hardwareConcurrency || 1;
  return cores < 2 ? 0 : Math.min(4, cores);
}

/** Reads the file `source` names and tells the page what it holds;
 * returns having told nothing if `source.signal` aborts meanwhile. */
async function open(source) {
  const { signal } = source;
  if (signal.aborted) return;
  file?.accumulator.free();
  file = null;
  let name = source.name;
  let size = 0;
  let blob = null; // the file, or a fetched body read across workers
  let stream = null;
  if (source.file) {
    ({ name, size } = source.file);
    blob = source.file;
  } else {
    const res = await fetch(source.url, { signal });
    if (!res.ok) throw new Error(`${source.url}: HTTP ${res.status}`);
    size = Number(res.headers.get('content-length')) || 0;
    stream = res.body;
  }
  // A large file goes to the pool's workers as it is (a File), each of
  // which reads its slice of it: it is never whole in memory.
  const shards = shardWorkers(source.workers, size);
  let read = null;
  if (shards > 0) {
    if (blob === null) {
      blob = await new Response(stream).blob();
      stream = null;
    }
    read = await acrossWorkers(blob, shards, throttle(source.id, size, shards), signal);
    if (signal.aborted) return read?.accumulator.free();
  }
  if (read === null) {
    read = await readHere(stream ?? blob.stream(), size, name, source, blob);
    if (read === null) return; // given up, or its error told
  }
  if (signal.aborted) return read.accumulator.free();
  const acc = read.accumulator;
  file = { name, accumulator: acc };
  const projects = projectsOf(acc);
  const project = firstProject(projects, source.project);
  const { workers, format } = read;
  self.postMessage({ type: 'opened', id: source.id, name, size: acc.bytesRead || size, workers, format, calls: acc.calls, projects, project, roots: rootsOf(acc, project) });
}

/** The roots of another project of the open file. */
function roots({ id, project }) {
  if (!file) throw new Error('No file is open.');
  self.postMessage({ type: 'roots', id, project, roots: rootsOf(file.accumulator, project) });
}

/**
 * Streams a file through an accumulator made for stats here, as it is
 * read, so the progress bar covers the aggregation too. Returns `{
 * accumulator, workers: 0, format }`; or null once `source.signal` aborts,
 * or once the error is told. The report's excerpt and line need the bytes
 * up to the error: `blob`'s are read again then; a fetched body's (no
 * `blob`) are kept while it is read.
 */
async function readHere(stream, total, name, source, blob) {
  const { signal } = source;
  const kept = blob ? null : new Bytes(total);
  const head = new Bytes(HEAD); // enough to tell the format
  const acc = new weave.UsageAccumulator({ stats: true });
  const progress = throttle(source.id, total);
  const reader = stream.getReader();
  let loaded = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (signal.aborted) {
        reader.cancel().catch(() => {});
        acc.free();
        return null;
      }
      if (head.length < HEAD) head.push(value.subarray(0, HEAD - head.length));
      kept?.push(value);
      acc.push(value);
      progress((loaded += value.length), true);
    }
    return { accumulator: acc, workers: 0, format: formatOf(head.done()) };
  } catch (e) {
    // Reading failed, or the accumulator (which parses as it goes) refused
    // a chunk: the bytes up to it hold the offending line.
    acc.free();
    reader.cancel().catch(() => {});
    let bytes = kept?.done() ?? null;
    if (blob) bytes = await blob.arrayBuffer().then((b) => new Uint8Array(b), () => null);
    self.postMessage({ type: 'error', id: source.id, report: errorReport(e, { name, bytes, format: formatOf(head.done()) }) });
    return null;
  }
}

/** Bytes of a file's start kept to tell its format. */
const HEAD = 1 << 16;

/** How long the pool may say nothing (no progress, no answer) before the
 * file is read on this thread instead. */
const STALL = 15_000;

/**
 * Aggregates the file `blob` across `shards` workers (the pool, loaded for
 * stats, each worker reading its slice), then gathers their calls into one
 * accumulator (`UsageAccumulator.fromParts`): the same answers as one fed
 * the whole file. Returns `{ accumulator, workers, format }`, or null where
 * the workers could not read it (it is not JSON, a worker failed or stopped
 * answering: the caller reads it here, whose error, with its line, is the
 * one to report) or once `signal` aborts (the pool lets the file go, and is
 * kept).
 */
async function acrossWorkers(blob, shards, progress, signal) {
  let heard = performance.now(); // when the pool last said something
  let loading;
  try {
    if (pool === null || pool.workers !== shards) {
      await pool?.close();
      pool = null;
      const { createUsagePool } = await import('./pkg/parallel.js');
      pool = createUsagePool({ workers: shards, connect: connectViaPage });
    }
    loading = pool.load(blob, { stats: true, signal, onProgress: (p) => ((heard = performance.now()), progress(p.bytes, true)) });
  } catch {
    // No workers here after all (the entry did not load, a worker could
    // not be made): the file is read on this thread.
    return null;
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
  try {
    const loaded = await unlessStalled(loading);
    if (loaded.shards === 0) return null;
    heard = performance.now();
    const parts = await unlessStalled(loaded.parts());
    heard = performance.now();
    await unlessStalled(loaded.free());
    const head = new Uint8Array(await blob.slice(0, 1 << 16).arrayBuffer());
    return { accumulator: weave.UsageAccumulator.fromParts(parts), workers: loaded.shards, format: formatOf(head) };
  } catch {
    if (signal.aborted) return null;
    // Read here instead; a stalled pool is not used again.
    const stalled = pool;
    pool = null;
    stalled?.close().catch(() => {});
    return null;
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
  const answer = (opts) => acc.finish(request, opts);
  let pricing = null;
  if (defaultPrices) {
    ({ options, pricing } = await withDefaultPrices(answer, options));
  }
  const result = answer(options);
  const reference = compare ? answer({ ...options, rollup: 'reference', diagnostics: false }) : null;
  let traced = null;
  if (trace) {
    const res = acc.finishTrace(trace.request, options);
    traced = { result: res, calls: traceCallsOf(acc, request.project_id, trace.traceId) };
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
  const answer = (req, opts) => acc.finishStats(req, opts);
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

/** A growing byte buffer, allocated once when the size is known. */
class Bytes {
  #buf;
  length = 0;
  constructor(size) {
    this.#buf = new Uint8Array(size || 1 << 16);
  }
  push(chunk) {
    if (this.length + chunk.length > this.#buf.length) {
      const bigger = new Uint8Array(Math.max(this.#buf.length * 2, this.length + chunk.length));
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
