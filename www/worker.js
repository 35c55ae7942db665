// The dashboard's worker: reads a calls export and aggregates it with the
// weave-usage package off the main thread, so a file of tens of MB leaves
// the page responsive.
//
// Messages in:  { type: 'open', id, file } or { type: 'open', id, url, name }
//               { type: 'usage', id, request, options, trace, compare, defaultPrices }
//                 (trace: null, or { request, traceId } for the trace view;
//                 compare: also answer with Weave's own rollup, for the
//                 provider-true totals' comparison; defaultPrices: price
//                 models from weave-usage/prices too)
// Messages out: { type: 'progress', id, loaded, total, aggregating }
//               { type: 'opened', id, name, size, ...CallScanner summary }
//               { type: 'usage', id, result, trace, reference, pricing } or { type: 'error', id, report }
//                 (reference: null, or the answer with `rollup: "reference"`;
//                 pricing: null, or pricesFor's { matches, unmatched })
//                 (trace: null, or { result, calls }: traceUsage's answer and
//                 the trace's calls as the file has them)
// Each answer carries the id of the message it answers.
import { CallScanner, traceCalls } from './scan.js';
import { errorReport } from './errors.js';

// Imported dynamically: the package instantiates its wasm with top-level
// await, and messages that reach a worker before its handler is installed
// are lost; a static import would hold the handler back until then.
const loading = import('./pkg/index.js');
let weave; // the package, once loaded

/** Files at least this large are read across workers (weave-usage/parallel)
 * where the machine has more than one core: reading is most of the time, and
 * it splits. Smaller ones stream through one accumulator as they are read.
 * An `open` message may set its own (`parallelMin`). */
const PARALLEL_MIN = 64 << 20;
let parallel = null; // weave-usage/parallel's pool, made on first use

/** The open file: its bytes (kept for error excerpts, and for requests when
 * the package has no accumulator) and the accumulator fed with them, which
 * answers every request without reading the file again. */
let file = null;

// One message at a time: a file opened while another is still being read
// waits for it, so they never interleave.
let queue = Promise.resolve();
self.onmessage = ({ data }) => {
  queue = queue.then(() => handle(data));
};

async function handle(data) {
  try {
    weave ??= await loading.catch((e) => {
      throw new Error(`The weave-usage package could not be loaded (${e.message}). Is pkg/ built? Run scripts/build.sh.`);
    });
    if (data.type === 'open') await open(data);
    else if (data.type === 'usage') await usage(data);
  } catch (e) {
    const about = !weave ? {} : file ?? { name: data.name ?? data.file?.name };
    self.postMessage({ type: 'error', id: data.id, report: errorReport(e, about) });
  }
}

async function open(source) {
  file?.accumulator?.free();
  await file?.loaded?.free();
  file = null;
  let stream, total, name;
  if (source.file) {
    ({ name, size: total } = source.file);
    stream = source.file.stream();
  } else {
    name = source.name;
    const res = await fetch(source.url);
    if (!res.ok) throw new Error(`${source.url}: HTTP ${res.status}`);
    total = Number(res.headers.get('content-length')) || 0;
    stream = res.body;
  }
  const bytes = new Bytes(total);
  const scanner = new CallScanner();
  const cores = self.navigator?.hardwareConcurrency ?? 1;
  const wide = total >= (source.parallelMin ?? PARALLEL_MIN) && cores > 1 && typeof Worker === 'function';
  // The streaming accumulator, where the package has it: it aggregates while
  // the file is read, so the progress bar covers the aggregation too. A
  // large file is read whole first, then across workers.
  let accumulator = !wide && typeof weave.UsageAccumulator === 'function' ? new weave.UsageAccumulator() : null;
  const progress = throttle(source.id, total);
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes.push(value);
      scanner.push(value);
      accumulator?.push(value);
      progress(bytes.length, !!accumulator);
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
  let loaded = null;
  if (wide) {
    try {
      parallel ??= (await import('./pkg/parallel.js')).createUsagePool({ workers: Math.min(4, cores) });
      const aggregating = throttle(source.id, bytes.length);
      loaded = await parallel.load(bytes.done(), { onProgress: ({ bytes: n }) => aggregating(n, true) });
    } catch {
      loaded = null;
    }
    if (!loaded?.shards) {
      // Not read across workers (a body that does not read is one): the
      // accumulator reads it, and says where it breaks as it always does.
      await loaded?.free();
      loaded = null;
      accumulator = new weave.UsageAccumulator();
      try {
        accumulator.push(bytes.done());
        accumulator.finish({ project_id: '', call_ids: [] });
      } catch (e) {
        accumulator.free();
        let lineOfCall = null;
        try {
          lineOfCall = scanner.finish().lineOfCall;
        } catch {
          // As above.
        }
        self.postMessage({ type: 'error', id: source.id, report: errorReport(e, { name, bytes: bytes.done(), lineOfCall }) });
        return;
      }
    }
  }
  const summary = scanner.finish();
  file = { name, bytes: bytes.done(), lineOfCall: summary.lineOfCall, accumulator, loaded };
  self.postMessage({ type: 'opened', id: source.id, name, size: file.bytes.length, ...summary });
}

async function usage({ id, request, options, trace, compare, defaultPrices }) {
  if (!file) throw new Error('No file is open.');
  const acc = file.accumulator;
  const loaded = file.loaded;
  const answer = async (opts) => (acc ? acc.finish(request, opts) : loaded ? loaded.callsUsage(request, opts) : weave.callsUsageFromJson(file.bytes, request, opts));
  let pricing = null;
  if (defaultPrices) {
    ({ options, pricing } = await withDefaultPrices(answer, options));
  }
  const result = await answer(options);
  const reference = compare ? await answer({ ...options, rollup: 'reference', diagnostics: false }) : null;
  let traced = null;
  if (trace) {
    const res = acc?.finishTrace
      ? acc.finishTrace(trace.request, options)
      : loaded
        ? await loaded.traceUsage(trace.request, options)
        : weave.traceUsageFromJson(file.bytes, trace.request, options);
    // The trace's calls do not change with the request: read them once.
    file.traces ??= new Map();
    if (!file.traces.has(trace.traceId)) file.traces.set(trace.traceId, traceCalls(new TextDecoder().decode(file.bytes), trace.traceId));
    traced = { result: res, calls: file.traces.get(trace.traceId) };
  }
  self.postMessage({ type: 'usage', id, result, trace: traced, reference, pricing });
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
  const probe = await compute({ ...options, prices: own, diagnostics: true });
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
function throttle(id, total) {
  const step = total ? total / 100 : 1 << 20;
  let next = 0;
  return (loaded, aggregating) => {
    if (loaded < next) return;
    next = loaded + step;
    self.postMessage({ type: 'progress', id, loaded, total, aggregating });
  };
}
