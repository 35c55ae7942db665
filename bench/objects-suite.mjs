// The objects path alone (`callsUsage` on calls already parsed), for any JS
// engine, comparing builds of the package with each other and with the
// plain-JavaScript rollup on the same objects: bench/objects.mjs runs it in
// Node, bench/objects-chromium.mjs in headless Chromium. Timing is
// reported, never asserted.
import { generate } from './data.mjs';
import { parseJsonl, rollup } from './baseline.mjs';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Deep equality, costs within 1e-9 relative (as bench/suite.mjs checks). */
function agree(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && agree(a[k], b[k]));
}

/** How long to let the heap settle after a forced collection (ms), as bench/suite.mjs does. */
const SETTLE_MS = 200;

/**
 * The calls each scenario holds, made from the parsed benchmark calls:
 * `plain` as JSON.parse made them (the common case); `dates`, every
 * `started_at` a Date (every call is then serialised the long way);
 * `some-dates`, one call in 100 so.
 */
export const SCENARIOS = {
  plain: (calls) => calls,
  dates: (calls) => calls.map((c) => ({ ...c, started_at: new Date(c.started_at) })),
  'some-dates': (calls) => calls.map((c, i) => (i % 100 === 0 ? { ...c, started_at: new Date(c.started_at) } : c)),
};

/**
 * libs: `{name: module}`, the builds to compare (the first is the
 * reference of the paired ratios). env: `{ gc() }`. n: calls. rounds:
 * rounds per scenario; each round runs the JS rollup and every build once,
 * one after the other, each from a settled heap, in an order that rotates
 * from round to round. Returns one row per (scenario, path): median, min,
 * max, the median over rounds of the JS rollup's time (and the first
 * build's) divided by this path's in the same round, and whether its
 * answer agrees with the JS rollup's.
 */
export async function runObjects({ libs, env, n, rounds, scenarios = Object.keys(SCENARIOS), log }) {
  const { body, roots, count } = generate(n);
  const request = { project_id: 'acme/agents', call_ids: roots, include_costs: true, limit: count + 1 };
  const parsed = parseJsonl(body);
  const names = Object.keys(libs);
  const rows = [];
  const settle = async () => {
    env.gc();
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  };
  log(`${count} calls, ${roots.length} roots; builds: ${names.join(', ')}; ${rounds} rounds per scenario`);
  for (const scenario of scenarios) {
    const calls = SCENARIOS[scenario](parsed);
    const paths = { 'JS rollup': () => rollup(calls, request) };
    for (const name of names) paths[name] = () => libs[name].callsUsage(calls, request);
    // One untimed run of each first (the engine compiles and tiers up), and
    // the answers compared with the JS rollup's (the request's limit is
    // above the call count, so it gives the server's answer).
    const answers = Object.fromEntries(Object.entries(paths).map(([p, run]) => [p, run()]));
    const agrees = Object.fromEntries(names.map((name) => [name, agree(answers[name], answers['JS rollup'])]));
    const ms = Object.fromEntries(Object.keys(paths).map((p) => [p, []]));
    const order = Object.keys(paths);
    for (let i = 0; i < rounds; i++) {
      for (let k = 0; k < order.length; k++) {
        const p = order[(i + k) % order.length];
        await settle();
        const t = performance.now();
        paths[p]();
        ms[p].push(performance.now() - t);
      }
    }
    const paired = (ref, p) => median(ms[ref].map((t, i) => t / ms[p][i]));
    for (const p of order) {
      rows.push({
        scenario,
        path: p,
        median: median(ms[p]),
        min: Math.min(...ms[p]),
        max: Math.max(...ms[p]),
        vsJs: p === 'JS rollup' ? null : paired('JS rollup', p),
        vsFirst: p === 'JS rollup' || p === names[0] ? null : paired(names[0], p),
        agrees: p === 'JS rollup' ? null : agrees[p],
      });
    }
    log(`  ${scenario}: ` + order.map((p) => `${p} ${median(ms[p]).toFixed(1)} ms`).join(', ') + names.filter((name) => !agrees[name]).map((name) => ` — ${name} DISAGREES with the JS rollup`).join(''));
  }
  return rows;
}

/** The rows as a text table. */
export function objectsTable(rows, first) {
  const fmt = (x, d = 1) => (x === null ? '—' : x.toFixed(d));
  const head = ['scenario', 'path', 'median ms', 'min', 'max', 'JS / this (paired)', `${first} / this (paired)`, 'agrees with JS'];
  const lines = rows.map((r) => [r.scenario, r.path, fmt(r.median), fmt(r.min), fmt(r.max), r.vsJs === null ? '—' : `${r.vsJs.toFixed(2)}x`, r.vsFirst === null ? '—' : `${r.vsFirst.toFixed(3)}x`, r.agrees === null ? '—' : r.agrees ? 'yes' : 'NO']);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmtLine = (l) => l.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [fmtLine(head), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(fmtLine)].join('\n');
}
