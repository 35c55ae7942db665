// The benchmark in Node: `node --expose-gc bench/node.mjs [--stats-only]
// [sizes...]` (scripts/bench.sh runs it). Prints progress, then the table.
// `--stats-only`: just the stats rows (e.g. for 1M calls, where the rest
// takes long).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import * as lib from 'weave-usage';
import * as statsLib from 'weave-usage/stats';
import { runSuite, table } from './suite.mjs';

const statsOnly = process.argv.includes('--stats-only');
const sizes = process.argv.slice(2).map(Number).filter(Boolean);
const wasm = readFileSync(new URL('../pkg/weave_usage_bg.wasm', import.meta.url));
const statsWasm = readFileSync(new URL('../pkg/weave_usage_stats_bg.wasm', import.meta.url));
const env = {
  heap: () => process.memoryUsage().heapUsed,
  gc: () => globalThis.gc?.(),
};
console.log(`Node ${process.version}, ${os.cpus()[0].model}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`);
console.log(`wasm: ${wasm.length} bytes, ${gzipSync(wasm, { level: 9 }).length} gzipped; stats module ${statsWasm.length} bytes, ${gzipSync(statsWasm, { level: 9 }).length} gzipped`);
const rows = await runSuite({ lib, statsLib, env, sizes: sizes.length ? sizes : [10_000, 100_000, 1_000_000], runs: 5, log: (l) => console.log(l), statsOnly });
console.log('\n' + table(rows));
if (rows.some((r) => r.agrees === false)) {
  console.error('\nresults DISAGREE');
  process.exit(1);
}
