// The objects path's JavaScript half alone (`selectCalls` of
// js/pick.js: the pick and the text, no wasm), one copy of the file
// against others, in one Node process, interleaved:
//   node --expose-gc bench/select.mjs [--calls N] [--rounds R] [--scenarios plain,dates,some-dates] FILE ...
// FILE: a pick.js (this checkout's js/pick.js, another
// checkout's, or a built package's pkg/snippets/*/js/pick.js). The
// wasm half is the same for builds that differ only in that file, and on a
// shared machine the whole path's timing varies more than the change
// measured. Prints per file and scenario the median and min of wall and of
// CPU time (this process's user + system, less sensitive to other
// processes), and paired ratios against the first file. Never asserted.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { generate } from './data.mjs';
import { parseJsonl } from './baseline.mjs';
import { SCENARIOS } from './objects-suite.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { calls: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '41' }, scenarios: { type: 'string', default: Object.keys(SCENARIOS).join(',') } },
});
if (positionals.length === 0) throw new Error('give one or more pick.js files');
if (!globalThis.gc) console.log('(run with --expose-gc for a collected heap before each run)');
const files = positionals.map((f) => resolve(f));
const mods = [];
for (const f of files) mods.push(await import(pathToFileURL(f).href));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const { body, roots } = generate(Number(values.calls));
const parsed = parseJsonl(body);
console.log(`${parsed.length} calls, ${roots.length} roots, ${values.rounds} rounds; files:\n${files.map((f, i) => `  ${i}: ${f}`).join('\n')}`);
for (const scenario of values.scenarios.split(',')) {
  const calls = SCENARIOS[scenario](parsed);
  const texts = mods.map((m) => m.selectCalls(calls, roots)[0]);
  const same = texts.map((t) => t === texts[0]);
  const wall = mods.map(() => []);
  const cpu = mods.map(() => []);
  for (let r = 0; r < Number(values.rounds); r++) {
    for (let k = 0; k < mods.length; k++) {
      const i = (r + k) % mods.length;
      globalThis.gc?.();
      await new Promise((done) => setTimeout(done, 50));
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      mods[i].selectCalls(calls, roots);
      wall[i].push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[i].push((c.user + c.system) / 1000);
    }
  }
  console.log(`\n${scenario}`);
  for (let i = 0; i < mods.length; i++) {
    const paired = (xs) => median(xs[0].map((t, r) => t / xs[i][r]));
    console.log(
      `  ${i}: wall median ${median(wall[i]).toFixed(1)} ms (min ${Math.min(...wall[i]).toFixed(1)}), cpu median ${median(cpu[i]).toFixed(1)} ms (min ${Math.min(...cpu[i]).toFixed(1)})` +
        (i === 0 ? '' : `; 0 / ${i} paired: wall ${paired(wall).toFixed(3)}x, cpu ${paired(cpu).toFixed(3)}x`) +
        `; text ${texts[i].length} chars${same[i] ? '' : ', OTHER than 0’s'}`,
    );
  }
}
