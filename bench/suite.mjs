// The benchmark itself, for any JS engine: bench/node.mjs runs it in Node,
// bench/chromium.mjs in headless Chromium (bench/page.html). It measures,
// per size, each path against the plain-JavaScript rollup it replaces, and
// checks that they agree. Timing is reported, never asserted.
import { generate } from './data.mjs';
import { parseJsonl, rollup } from './baseline.mjs';
import { scanUsage } from './scanner.mjs';
import { statsFromBytes, canonical } from './stats-baseline.mjs';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** How long to let the heap settle after a forced collection (ms). */
const SETTLE_MS = 200;
// Rounds of the bytes paths at 20k calls or fewer, at the least.
const SMALL_RUNS = 15;
/** Rounds of the bytes paths for `count` calls, given `runs`. */
const roundsFor = (count, runs) => (count <= 20_000 ? Math.max(runs, SMALL_RUNS) : runs);

/** Deep equality, costs within 1e-9 relative. */
export function agree(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && agree(a[k], b[k]));
}

/**
 * lib: the weave-usage module; statsLib: weave-usage/stats (its own
 * module, which the stats rows time; default: lib). env: { heap(): bytes of JS heap in use or
 * null, gc(): collect garbage if possible }.
 *
 * Every timed run starts from the same quiet heap: a forced collection
 * (so that none falls inside a run), then a pause of SETTLE_MS. After a
 * full collection V8 sweeps the freed memory on other threads for tens of
 * milliseconds, and on a 2-core machine whatever runs meanwhile goes up
 * to half speed, by chance more or less: at 100k calls in Chromium the JS
 * rollup on objects took a median of 28 ms after a pause and 42–44 ms
 * straight after the collection (single runs 21–53), the objects path 26
 * against 45. The pause takes that chance out of every path alike.
 *
 * Every comparison is interleaved: each round runs our paths and the
 * JavaScript they replace one after the other, so both see the same
 * machine. On a shared VM the same code runs at one speed for tens of
 * seconds and then at another (seen: 230 against 430 ms for the same
 * bytes call, in phases), and paths timed one after the other in separate
 * blocks could land in different phases. `paired` is the median over
 * rounds of the JavaScript time divided by ours in the same round.
 *
 * sizes: call counts. runs: rounds per size (objectRuns for the objects
 * path and the JS rollup it is compared with, as both are short). log:
 * progress lines. statsOnly: only the stats rows (usageStatsFromJson, the
 * stats accumulator, and the plain-JS stats peer, bench/stats-baseline.mjs,
 * up to baselineLimit calls). Returns one row per (size, path).
 */
export async function runSuite({ lib, statsLib = lib, env, sizes, runs, log, baselineLimit = 200_000, objectRuns = 21, statsOnly = false }) {
  const rows = [];
  const settle = async () => {
    env.gc();
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  };
  const timed = (f) => {
    const t = performance.now();
    const out = f();
    return { ms: performance.now() - t, out };
  };
  const row = (calls, mb, path, ms, extra = {}) => rows.push({ calls, mb, path, median: median(ms), min: Math.min(...ms), max: Math.max(...ms), runs: ms.length, ...extra });
  const paired = (theirs, ours) => median(theirs.map((t, i) => t / ours[i]));

  for (const n of sizes) {
    const t0 = performance.now();
    const { body, roots, count } = generate(n);
    const mb = body.length / 1e6;
    const request = { project_id: 'acme/agents', call_ids: roots, include_costs: true, limit: count + 1 };
    log(`${count} calls, ${mb.toFixed(0)} MB generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const withBaseline = count <= baselineLimit;
    await statsRows(count, mb, body, withBaseline);
    if (statsOnly) continue;

    const paths = {
      bytes: () => lib.callsUsageFromJson(body, request),
      // Streaming, in 1 MB chunks as a fetch body would arrive.
      streamed: () => {
        const acc = new lib.UsageAccumulator();
        try {
          for (let at = 0; at < body.length; at += 1 << 20) acc.push(body.subarray(at, at + (1 << 20)));
          return acc.finish(request);
        } finally {
          acc.free();
        }
      },
    };
    // One untimed run of each first: the engine compiles and tiers up the
    // code (wasm and JS alike) on its first calls.
    // wasm memory never shrinks, so what it holds after a path's first run
    // is that path's peak (the accumulator's: at most, after the bytes path).
    const bytesOut = paths.bytes();
    const bytesWasm = lib.wasmMemoryBytes();
    const streamedOut = paths.streamed();
    const streamedWasm = lib.wasmMemoryBytes();
    const scanOut = scanUsage(body, request);
    let calls = withBaseline ? parseJsonl(body) : null;
    const base = calls ? rollup(calls, request) : null;
    if (calls) lib.callsUsage(calls, request);

    // Rounds: bytes, the JS byte scanner (bench/scanner.mjs) and the
    // accumulator, in an order that rotates from round to round (none always
    // runs first or after the same one), then JSON.parse + JS rollup. A
    // round's parsed calls are dropped before the next round's bytes run
    // (with 600 MB of parsed calls live on the heap, the same bytes call took
    // a third longer in Chromium); the last round's are kept for the objects
    // comparison below. Small sizes get more rounds: single runs of tens of
    // milliseconds swing by half.
    const ms = { bytes: [], scan: [], streamed: [], parse: [], roll: [] };
    const byteRuns = roundsFor(count, runs);
    const order = [
      ['bytes', paths.bytes],
      ['scan', () => scanUsage(body, request)],
      ['streamed', paths.streamed],
    ];
    let heap = null;
    for (let i = 0; i < byteRuns; i++) {
      calls = null;
      for (let k = 0; k < order.length; k++) {
        const [name, run] = order[(i + k) % order.length];
        await settle();
        ms[name].push(timed(run).ms);
      }
      if (!withBaseline) continue;
      await settle();
      const heap0 = env.heap();
      const parse = timed(() => parseJsonl(body));
      calls = parse.out;
      ms.parse.push(parse.ms);
      ms.roll.push(timed(() => rollup(calls, request)).ms);
      if (i === 0 && heap0 !== null) {
        // What the parsed calls hold once the parse's garbage is collected.
        env.gc();
        heap = env.heap() - heap0;
      }
    }
    const total = ms.parse.map((m, i) => m + ms.roll[i]);
    log(`  ${byteRuns} rounds: callsUsageFromJson ${median(ms.bytes).toFixed(1)} ms, JS byte scanner ${median(ms.scan).toFixed(1)} ms, UsageAccumulator ${median(ms.streamed).toFixed(1)} ms` + (withBaseline ? `, JSON.parse + JS rollup ${median(total).toFixed(1)} ms (rollup alone ${median(ms.roll).toFixed(1)})` : ''));
    if (withBaseline) row(count, mb, 'JSON.parse + JS rollup', total, { jsHeap: heap });
    row(count, mb, 'JS byte scanner', ms.scan, { agrees: agree(scanOut, bytesOut) });
    row(count, mb, 'callsUsageFromJson(bytes)', ms.bytes, { wasm: bytesWasm, agrees: base ? agree(bytesOut, base) : null, paired: withBaseline ? paired(total, ms.bytes) : null, vsScan: paired(ms.scan, ms.bytes) });
    row(count, mb, 'UsageAccumulator.push + finish', ms.streamed, { wasm: streamedWasm, agrees: agree(streamedOut, bytesOut), paired: withBaseline ? paired(total, ms.streamed) : null, vsScan: paired(ms.scan, ms.streamed), vsOneShot: paired(ms.bytes, ms.streamed) });

    // Objects path against the JS rollup on the same parsed objects: both
    // take tens of ms, so more rounds, alternating.
    if (calls) {
      const k = Math.max(runs, objectRuns);
      const obj = { js: [], ours: [] };
      let out = null;
      for (let i = 0; i < k; i++) {
        await settle();
        obj.js.push(timed(() => rollup(calls, request)).ms);
        await settle();
        const r = timed(() => lib.callsUsage(calls, request));
        obj.ours.push(r.ms);
        out = r.out;
      }
      log(`  JS rollup / callsUsage(objects), ${k} rounds: medians ${median(obj.js).toFixed(1)} / ${median(obj.ours).toFixed(1)} ms`);
      row(count, mb, 'JS rollup on objects', obj.js);
      row(count, mb, 'callsUsage(objects)', obj.ours, { wasm: lib.wasmMemoryBytes(), agrees: agree(out, base), paired: paired(obj.js, obj.ours) });
    }
    calls = null;
  }
  return rows;

  /** Stats by hour, model and op over the whole body, with costs: the
   * module's two paths and the plain-JS peer, interleaved as above. */
  async function statsRows(count, mb, body, withPeer) {
    const request = { project_id: 'acme/agents', granularity: 'hour', group_by: ['model', 'op_name'], include_costs: true };
    const paths = {
      stats: () => statsLib.usageStatsFromJson(body, request),
      statsStreamed: () => {
        const acc = new statsLib.UsageAccumulator({ stats: true });
        try {
          for (let at = 0; at < body.length; at += 1 << 20) acc.push(body.subarray(at, at + (1 << 20)));
          return acc.finishStats(request);
        } finally {
          acc.free();
        }
      },
      peer: () => statsFromBytes(body, request),
    };
    const out = paths.stats();
    const wasm = statsLib.wasmMemoryBytes();
    const streamedOut = paths.statsStreamed();
    const streamedWasm = statsLib.wasmMemoryBytes();
    const peerOut = withPeer ? paths.peer() : null;
    const ms = { stats: [], statsStreamed: [], peer: [] };
    let heap = null;
    // The one-shot and the accumulator alternate which goes first.
    const statsRuns = roundsFor(count, runs);
    for (let i = 0; i < statsRuns; i++) {
      for (const name of i % 2 ? ['statsStreamed', 'stats'] : ['stats', 'statsStreamed']) {
        await settle();
        ms[name].push(timed(paths[name]).ms);
      }
      if (!withPeer) continue;
      await settle();
      const heap0 = env.heap();
      const r = timed(paths.peer);
      ms.peer.push(r.ms);
      if (i === 0 && heap0 !== null) heap = env.heap() - heap0;
    }
    log(`  stats, ${statsRuns} rounds: usageStatsFromJson ${median(ms.stats).toFixed(1)} ms, accumulator ${median(ms.statsStreamed).toFixed(1)} ms` + (withPeer ? `, JSON.parse + JS stats ${median(ms.peer).toFixed(1)} ms` : ''));
    if (withPeer) row(count, mb, 'stats: JSON.parse + JS stats', ms.peer, { jsHeap: heap });
    row(count, mb, 'usageStatsFromJson(bytes)', ms.stats, { wasm, agrees: peerOut ? agree(canonical(out), peerOut) : null, paired: withPeer ? paired(ms.peer, ms.stats) : null });
    row(count, mb, 'stats UsageAccumulator', ms.statsStreamed, { wasm: streamedWasm, agrees: agree(streamedOut, out), paired: withPeer ? paired(ms.peer, ms.statsStreamed) : null, vsOneShot: paired(ms.stats, ms.statsStreamed) });
  }
}

/** The rows as a text table, with ratios against the baseline of each size. */
export function table(rows) {
  const base = new Map(rows.filter((r) => r.path === 'JSON.parse + JS rollup').map((r) => [r.calls, r.median]));
  const statsBase = new Map(rows.filter((r) => r.path === 'stats: JSON.parse + JS stats').map((r) => [r.calls, r.median]));
  const roll = new Map(rows.filter((r) => r.path === 'JS rollup on objects').map((r) => [r.calls, r.median]));
  const fmt = (x, d = 1) => (x === null || x === undefined ? '—' : x.toFixed(d));
  const head = ['calls', 'MB', 'path', 'median ms', 'min', 'max', 'MB/s', 'speed-up', 'paired', 'vs scanner', 'vs one-shot', 'wasm MB', 'JS heap MB', 'agrees'];
  const lines = rows.map((r) => {
    const stats = r.path.startsWith('stats') || r.path.startsWith('usageStats');
    const ref = r.path === 'callsUsage(objects)' ? roll.get(r.calls) : r.path.startsWith('JS ') || r.path.startsWith('JSON.parse') || r.path.startsWith('stats:') ? null : stats ? statsBase.get(r.calls) : base.get(r.calls);
    return [
      r.calls.toLocaleString('en-US'),
      fmt(r.mb, 0),
      r.path,
      fmt(r.median),
      fmt(r.min),
      fmt(r.max),
      r.path === 'JS rollup on objects' || r.path === 'callsUsage(objects)' ? '—' : fmt(r.mb / (r.median / 1000), 0),
      ref ? `${(ref / r.median).toFixed(2)}x` : '—',
      r.paired ? `${r.paired.toFixed(2)}x` : '—',
      r.vsScan ? `${r.vsScan.toFixed(2)}x` : '—',
      r.vsOneShot ? `${r.vsOneShot.toFixed(2)}x` : '—',
      r.wasm ? fmt(r.wasm / 1e6, 0) : '—',
      r.jsHeap ? fmt(r.jsHeap / 1e6, 0) : '—',
      r.agrees === null || r.agrees === undefined ? '—' : r.agrees ? 'yes' : 'NO',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmtLine = (l) => l.map((c, i) => (i === 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [fmtLine(head), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(fmtLine)].join('\n');
}
