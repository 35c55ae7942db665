// The benchmark itself, for any JS engine: bench/node.mjs runs it in Node,
// bench/chromium.mjs in headless Chromium (bench/page.html). It measures,
// per size, each path against the plain-JavaScript rollup it replaces, and
// checks that they agree. Timing is reported, never asserted.
import { generate } from './data.mjs';
import { parseJsonl, rollup } from './baseline.mjs';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** How long to let the heap settle after a forced collection (ms). */
const SETTLE_MS = 150;

/** Deep equality, costs within 1e-9 relative. */
function agree(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && agree(a[k], b[k]));
}

/**
 * lib: the weave-usage module. env: { heap(): bytes of JS heap in use or
 * null, gc(): collect garbage if possible }.
 *
 * Every timed run starts from the same quiet heap: a forced collection
 * (so that none falls inside a run), then a pause of SETTLE_MS. After a
 * full collection V8 sweeps the freed memory on other threads for tens of
 * milliseconds, and on a 2-core machine whatever runs meanwhile goes up
 * to half speed, by chance more or less: at 100k calls in Chromium the JS
 * rollup on objects took a median of 28 ms after a pause and 42–44 ms
 * straight after the collection (single runs 21–53), the objects path 26
 * against 45. The pause takes that chance out of every path alike. sizes: call counts. runs: per
 * size and path (objectRuns for the objects path and the JS rollup it is
 * compared with, alternating). log: progress lines. Returns one row per
 * (size, path).
 */
export async function runSuite({ lib, env, sizes, runs, log, baselineLimit = 200_000, objectRuns = 21 }) {
  const rows = [];
  for (const n of sizes) {
    const t0 = performance.now();
    const { body, roots, count } = generate(n);
    const mb = body.length / 1e6;
    const request = { project_id: 'acme/agents', call_ids: roots, include_costs: true, limit: count + 1 };
    log(`${count} calls, ${mb.toFixed(0)} MB generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const settle = async () => {
      env.gc();
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    };
    const time = async (label, k, f) => {
      const ms = [];
      // One run untimed first: the engine compiles and tiers up the code
      // (wasm and JS alike) on its first calls.
      let out = f();
      for (let i = 0; i < k; i++) {
        await settle();
        const t = performance.now();
        out = f();
        ms.push(performance.now() - t);
      }
      log(`  ${label}: median ${median(ms).toFixed(1)} ms`);
      return { ms, out };
    };
    const row = (path, ms, extra = {}) => rows.push({ calls: count, mb, path, median: median(ms), min: Math.min(...ms), max: Math.max(...ms), runs: ms.length, ...extra });

    // The paths that read bytes run first, before the baseline fills the
    // heap with parsed calls, as they are used (instead of parsing): run
    // after it, with its 600 MB of calls still live, the same bytes call
    // took a third longer in Chromium (193 against 142 ms at 100k calls).
    const bytes = await time('callsUsageFromJson(bytes)', runs, () => lib.callsUsageFromJson(body, request));
    const bytesWasm = lib.wasmMemoryBytes();
    // Streaming, in 1 MB chunks as a fetch body would arrive.
    const streamed = await time('UsageAccumulator (1 MB chunks)', Math.min(runs, 3), () => {
      const acc = new lib.UsageAccumulator();
      try {
        for (let at = 0; at < body.length; at += 1 << 20) acc.push(body.subarray(at, at + (1 << 20)));
        return acc.finish(request);
      } finally {
        acc.free();
      }
    });
    const streamedWasm = lib.wasmMemoryBytes();

    // Baseline: JSON.parse per line + JS rollup (skipped when too big for the heap).
    let base = null;
    let calls = null;
    if (count <= baselineLimit) {
      env.gc();
      const heap0 = env.heap();
      const parse = await time('JSON.parse (per line)', runs, () => parseJsonl(body));
      calls = parse.out;
      const heap = env.heap() === null ? null : env.heap() - heap0;
      const roll = await time('JS rollup', runs, () => rollup(calls, request));
      base = roll.out;
      const total = parse.ms.map((m, i) => m + roll.ms[i]);
      row('JSON.parse + JS rollup', total, { jsHeap: heap });
    }
    row('callsUsageFromJson(bytes)', bytes.ms, { wasm: bytesWasm, agrees: base ? agree(bytes.out, base) : null });

    // Objects path against the JS rollup on the same parsed objects: both
    // take tens of ms, so more runs, alternating, each from a settled heap.
    if (calls) {
      const k = Math.max(runs, objectRuns);
      const ms = { js: [], ours: [] };
      let out = lib.callsUsage(calls, request);
      for (let i = 0; i < k; i++) {
        await settle();
        let t = performance.now();
        rollup(calls, request);
        ms.js.push(performance.now() - t);
        await settle();
        t = performance.now();
        out = lib.callsUsage(calls, request);
        ms.ours.push(performance.now() - t);
      }
      log(`  JS rollup / callsUsage(objects), ${k} runs alternating: medians ${median(ms.js).toFixed(1)} / ${median(ms.ours).toFixed(1)} ms`);
      row('JS rollup on objects', ms.js);
      row('callsUsage(objects)', ms.ours, { wasm: lib.wasmMemoryBytes(), agrees: agree(out, base) });
    }
    row('UsageAccumulator.push + finish', streamed.ms, { wasm: streamedWasm, agrees: agree(streamed.out, bytes.out) });
    calls = null;
  }
  return rows;
}

/** The rows as a text table, with ratios against the baseline of each size. */
export function table(rows) {
  const base = new Map(rows.filter((r) => r.path === 'JSON.parse + JS rollup').map((r) => [r.calls, r.median]));
  const roll = new Map(rows.filter((r) => r.path === 'JS rollup on objects').map((r) => [r.calls, r.median]));
  const fmt = (x, d = 1) => (x === null || x === undefined ? '—' : x.toFixed(d));
  const head = ['calls', 'MB', 'path', 'median ms', 'min', 'max', 'MB/s', 'speed-up', 'wasm MB', 'JS heap MB', 'agrees'];
  const lines = rows.map((r) => {
    const ref = r.path === 'callsUsage(objects)' ? roll.get(r.calls) : r.path.startsWith('JS rollup') || r.path.startsWith('JSON.parse') ? null : base.get(r.calls);
    return [
      r.calls.toLocaleString('en-US'),
      fmt(r.mb, 0),
      r.path,
      fmt(r.median),
      fmt(r.min),
      fmt(r.max),
      r.path === 'JS rollup on objects' || r.path === 'callsUsage(objects)' ? '—' : fmt(r.mb / (r.median / 1000), 0),
      ref ? `${(ref / r.median).toFixed(2)}x` : '—',
      r.wasm ? fmt(r.wasm / 1e6, 0) : '—',
      r.jsHeap ? fmt(r.jsHeap / 1e6, 0) : '—',
      r.agrees === null || r.agrees === undefined ? '—' : r.agrees ? 'yes' : 'NO',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmtLine = (l) => l.map((c, i) => (i === 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [fmtLine(head), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(fmtLine)].join('\n');
}
