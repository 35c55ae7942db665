// Worker scaling in Node: `node --expose-gc bench/parallel.mjs [calls...]`
// (default 100000; scripts/bench.sh runs it, and `1000000` adds 1M calls).
// For each size: callsUsageFromJson(bytes) on this thread, and
// weave-usage/parallel pools of 1, 2 and 4 worker threads (made and warmed
// before timing, as an app keeps its pool), one after the other in each
// round from a settled heap, the order rotating; the pools copy an
// ArrayBuffer body into shared memory they keep, and the last path gives
// them a body already in a SharedArrayBuffer. Then the same body as a file
// (written to the temporary directory once, so read from the page cache):
// read whole and answered on this thread, against a pool of 2 given the file
// as a Blob (fs.openAsBlob), whose workers get it in pieces. "vs one-shot" is
// the median over rounds of the one-shot's time (from the file, for the file
// rows) over the pool's in the same round.
// Prints figures; asserts only that the answers are the same.
import assert from 'node:assert/strict';
import os from 'node:os';
import { mkdtempSync, openAsBlob, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { callsUsageFromJson } from 'weave-usage';
import { createUsagePool } from 'weave-usage/parallel';
import { generate } from './data.mjs';
import { median, paired, rotatedRounds } from './rounds.mjs';

const sizes = process.argv.slice(2).map(Number).filter(Boolean);
const rounds = Number(process.env.ROUNDS) || 5;
console.log(`Node ${process.version}, ${os.cpus()[0].model}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const keep = createUsagePool({ workers: 2 });
const dir = mkdtempSync(join(os.tmpdir(), 'weave-usage-bench-'));
const pools = Object.fromEntries([1, 2, 4].map((n) => [`${n} worker${n > 1 ? 's' : ''}`, createUsagePool({ workers: n })]));
try {
  for (const n of sizes.length ? sizes : [100_000]) {
    const { body, roots, count } = generate(n);
    const request = { project_id: 'acme/agents', call_ids: roots, include_costs: true, limit: count + 1 };
    const paths = { 'one-shot (this thread)': async () => callsUsageFromJson(body, request) };
    for (const [name, pool] of Object.entries(pools)) paths[name] = () => pool.callsUsage(body, request);
    // The body already in a SharedArrayBuffer (read into one by the app): nothing is copied.
    const shared = new Uint8Array(new SharedArrayBuffer(body.length));
    shared.set(body);
    paths['2 workers, body in a SharedArrayBuffer'] = () => pools['2 workers'].callsUsage(shared, request);
    // An answer over a body loaded before (pool.load): the merge alone. Its
    // own pool, so that the timed paths above do not unload it.
    const loaded = await keep.load(body);
    paths['2 workers, body loaded before (merge only)'] = () => loaded.callsUsage(request);
    // The body as a file: read whole first, or handed to the pool as a Blob.
    const file = join(dir, 'calls.jsonl');
    writeFileSync(file, body);
    const fromFile = 'one-shot, the file read whole first';
    paths[fromFile] = async () => callsUsageFromJson(readFileSync(file), request);
    paths['2 workers, the file as a Blob'] = async () => pools['2 workers'].callsUsage(await openAsBlob(file), request);
    const want = callsUsageFromJson(body, request);
    for (const [name, run] of Object.entries(paths)) assert.deepEqual(await run(), want, name); // untimed: warms every path
    // CPU time of the whole process (every thread): how much work a path
    // does, whatever the neighbours leave it of the cores.
    const cpuTime = () => {
      const c = process.cpuUsage();
      return () => {
        const used = process.cpuUsage(c);
        return (used.user + used.system) / 1000;
      };
    };
    const { ms, extra: cpu } = await rotatedRounds(paths, rounds, cpuTime);
    const names = Object.keys(paths);
    console.log(`\n${count} calls (${(body.length / 1e6).toFixed(0)} MB), ${rounds} rounds, load average after: ${os.loadavg()[0].toFixed(2)}`);
    console.log('| path | median ms (min–max) | vs one-shot (paired) | CPU ms, all threads (median) |\n|---|---|---|---|');
    const base = ms[names[0]];
    await loaded.free();
    for (const name of names) {
      const xs = ms[name];
      const against = name.includes('the file') && name !== fromFile ? ms[fromFile] : base;
      console.log(`| ${name} | ${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}) | ${name === names[0] || name === fromFile ? '' : paired(against, xs).toFixed(2) + '×'} | ${median(cpu[name]).toFixed(0)} |`);
    }
  }
} finally {
  await Promise.all([...Object.values(pools), keep].map((p) => p.close()));
  rmSync(dir, { recursive: true, force: true });
}
