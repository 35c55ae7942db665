// A/B of two builds of the package in one Node process:
//   node --expose-gc bench/ab.mjs DIR_A DIR_B [--calls N] [--rounds R] [--paths bytes,accumulator,objects]
// DIR_A and DIR_B are built package folders (`scripts/build.sh` writes pkg/;
// copy it aside before rebuilding). Each round times every path once in A
// and once in B, in alternating order (A first on even rounds, B first on
// odd ones), each run from a settled heap, and keeps the paired ratio B/A of
// that round: on a VM with slow and fast phases, a ratio of two runs made
// seconds apart is steadier than a ratio of two medians. Prints the median,
// min and max time of each side and the median paired ratio (< 1: B faster).
// Both builds must give the same answer; the first round checks it.
import { isDeepStrictEqual } from 'node:util';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generate } from './data.mjs';
import { parseJsonl } from './baseline.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const [v] = args.splice(i, 2).slice(1);
  return v;
};
const calls = Number(opt('--calls', 100_000));
const rounds = Number(opt('--rounds', 15));
const paths = opt('--paths', 'bytes,accumulator').split(',');
if (args.length !== 2) {
  console.error('usage: node --expose-gc bench/ab.mjs DIR_A DIR_B [--calls N] [--rounds R] [--paths bytes,accumulator,objects]');
  process.exit(2);
}
if (!globalThis.gc) {
  console.error('run with node --expose-gc');
  process.exit(2);
}
const [a, b] = await Promise.all(args.map((d) => import(pathToFileURL(resolve(d, 'node.js')).href)));

const { body, roots } = generate(calls);
const request = { project_id: 'acme/agents', call_ids: roots, include_costs: true, limit: 100_000_000 };
const objects = paths.includes('objects') ? parseJsonl(body) : null;

const runs = {
  bytes: (lib) => lib.callsUsageFromJson(body, request),
  accumulator: (lib) => {
    const acc = new lib.UsageAccumulator();
    for (let at = 0; at < body.length; at += 1 << 20) acc.push(body.subarray(at, at + (1 << 20)));
    const res = acc.finish(request);
    acc.free();
    return res;
  },
  objects: (lib) => lib.callsUsage(objects, request),
};

const settle = () => {
  globalThis.gc();
  return new Promise((r) => setTimeout(r, 150));
};
const time = async (f) => {
  await settle();
  const t = performance.now();
  const res = f();
  return [performance.now() - t, res];
};
const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

console.log(`${calls} calls, ${(body.length / 1e6).toFixed(1)} MB, ${rounds} rounds; A = ${args[0]}, B = ${args[1]}`);
for (const p of paths) {
  const run = runs[p];
  if (!run) throw new Error(`unknown path ${p}`);
  // Untimed warm-up, and the answers must agree.
  if (!isDeepStrictEqual(run(a), run(b))) {
    console.error(`${p}: the two builds DISAGREE`);
    process.exit(1);
  }
  const ta = [];
  const tb = [];
  const ratios = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [b, a] : [a, b];
    const got = new Map();
    for (const lib of order) got.set(lib, (await time(() => run(lib)))[0]);
    ta.push(got.get(a));
    tb.push(got.get(b));
    ratios.push(got.get(b) / got.get(a));
  }
  const fmt = (xs) => `${median(xs).toFixed(1)} ms (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
  console.log(`${p.padEnd(12)} A ${fmt(ta)}  B ${fmt(tb)}  B/A paired median ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})`);
}
