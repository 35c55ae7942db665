// A/B of two builds of the package in one Node process, on the bench's
// generated calls: `node --expose-gc bench/ab.mjs A/node.js B/node.js
// [calls] [rounds]` (entry modules of two built packages, e.g. a copy of
// pkg/ from before a change and pkg/ after it). With `--stats` and the
// stats entries (A/stats-node.js B/stats-node.js): the dashboard's two stats
// requests, answered by a filled stats accumulator (`finishStats`, the
// computation alone) and by `usageStatsFromJson` (reading too). Each round runs both on the
// same body from a settled heap, in alternating order (AB, then BA), so
// that the VM's slow and fast phases land on both; the paired ratio is the
// median over rounds of B's time over A's in the same round. Wall time, and
// the process's CPU time (user + system), which other processes on a busy
// machine do not inflate by taking the core away.
import os from 'node:os';
import { generate } from './data.mjs';

const statsMode = process.argv.includes('--stats');
// Every root call requested (so every call is in scope), not the first 100.
const everyRoot = process.argv.includes('--every-root');
const args = process.argv.slice(2).filter((x) => x !== '--stats' && x !== '--every-root');
const [a, b] = args;
const n = Number(args[2] ?? 100_000);
const rounds = Number(args[3] ?? 21);
if (!a || !b || !globalThis.gc) {
  console.error('usage: node --expose-gc bench/ab.mjs [--stats] [--every-root] A/node.js B/node.js [calls] [rounds]');
  process.exit(2);
}
const libs = { A: await import(new URL(a, `file://${process.cwd()}/`)), B: await import(new URL(b, `file://${process.cwd()}/`)) };
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
const settle = async () => {
  globalThis.gc();
  await new Promise((resolve) => setTimeout(resolve, 200));
};

const { body, roots, count } = generate(n);
const request = { project_id: 'acme/agents', call_ids: everyRoot ? everyRootOf(body) : roots, include_costs: true, limit: count + 1 };
// The dashboard's stats panels (www/stats.js statsRequests): a timeline by
// day and model, a breakdown by month and op name.
const statsRequests = {
  'day x model': { project_id: 'acme/agents', granularity: 'day', timezone: 'UTC', include_costs: true, group_by: ['model'] },
  'month x op_name': { project_id: 'acme/agents', granularity: 'month', timezone: 'UTC', include_costs: true, group_by: ['op_name'], limit: 12 },
};
const filled = {};
if (statsMode) {
  for (const k of ['A', 'B']) {
    filled[k] = new libs[k].UsageAccumulator({ stats: true });
    filled[k].push(body);
  }
}
const statsPaths = Object.fromEntries(
  Object.entries(statsRequests).flatMap(([name, req]) => [
    [`finishStats ${name}`, (lib) => filled[lib === libs.A ? 'A' : 'B'].finishStats(req)],
    [`usageStatsFromJson ${name}`, (lib) => lib.usageStatsFromJson(body, req)],
  ]),
);
const paths = statsMode ? statsPaths : {
  'callsUsageFromJson(bytes)': (lib) => lib.callsUsageFromJson(body, request),
  'UsageAccumulator (1 MB chunks)': (lib) => {
    const acc = new lib.UsageAccumulator();
    for (let at = 0; at < body.length; at += 1 << 20) acc.push(body.subarray(at, at + (1 << 20)));
    const out = acc.finish(request);
    acc.free();
    return out;
  },
};
console.log(`Node ${process.version}, ${os.cpus()[0].model}, ${os.cpus().length} cores; ${count} calls, ${(body.length / 1e6).toFixed(0)} MB; ${request.call_ids.length} ids requested; ${rounds} rounds`);
console.log(`A: ${a}\nB: ${b}`);
for (const [name, run] of Object.entries(paths)) {
  // Untimed first runs (compilation, tier-up), which must agree.
  if (JSON.stringify(run(libs.A)) !== JSON.stringify(run(libs.B))) throw new Error(`${name}: A and B disagree`);
  const ms = { A: [], B: [] };
  const cpu = { A: [], B: [] };
  for (let i = 0; i < rounds; i++) {
    for (const k of i % 2 ? ['B', 'A'] : ['A', 'B']) {
      await settle();
      const t = performance.now();
      const c = process.cpuUsage();
      run(libs[k]);
      const used = process.cpuUsage(c);
      ms[k].push(performance.now() - t);
      cpu[k].push((used.user + used.system) / 1000);
    }
  }
  for (const [what, x] of [['wall', ms], ['CPU', cpu]]) {
    const ratios = x.B.map((t, i) => t / x.A[i]);
    console.log(`${name}, ${what}: A ${median(x.A).toFixed(1)} ms, B ${median(x.B).toFixed(1)} ms (medians); B/A paired ${median(ratios).toFixed(3)} (min ${Math.min(...ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)})`);
  }
}

/** The ids of every call without a parent in a generated body (one call a
 * line, written by JSON.stringify). */
function everyRootOf(bytes) {
  const ids = [];
  const decoder = new TextDecoder();
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(10, start);
    if (end < 0) end = bytes.length;
    const call = JSON.parse(decoder.decode(bytes.subarray(start, end)));
    if (call.parent_id === null) ids.push(call.id);
    start = end + 1;
  }
  return ids;
}
