// The first call after import against warm calls, each run in a fresh Node
// process (the first call of an instance compiles the module's JavaScript
// and runs the warm-up in guard.js):
//   node bench/first-call.mjs [calls] [processes]
// Prints, per process, import time, the first callsUsageFromJson, and the
// median of the next five, then the median ratio first/warm over processes.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const n = Number(process.argv[2] ?? 100_000);
const processes = Number(process.argv[3] ?? 7);

if (process.env.FIRST_CALL_CHILD) {
  const { generate } = await import('./data.mjs');
  const { body, roots, count } = generate(n);
  const request = { project_id: 'acme/agents', call_ids: roots, include_costs: true, limit: count + 1 };
  let t = performance.now();
  const lib = await import('weave-usage');
  const imported = performance.now() - t;
  t = performance.now();
  lib.callsUsageFromJson(body, request);
  const first = performance.now() - t;
  const warm = [];
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    lib.callsUsageFromJson(body, request);
    warm.push(performance.now() - t);
  }
  warm.sort((a, b) => a - b);
  console.log(JSON.stringify({ imported, first, warm: warm[2], bytes: body.length }));
} else {
  const ratios = [];
  for (let i = 0; i < processes; i++) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), String(n)], { env: { ...process.env, FIRST_CALL_CHILD: '1' }, encoding: 'utf8', maxBuffer: 1 << 20 });
    const r = JSON.parse(out.trim().split('\n').at(-1));
    ratios.push(r.first / r.warm);
    console.log(`process ${i + 1}: import ${r.imported.toFixed(1)} ms, first call ${r.first.toFixed(1)} ms, warm median ${r.warm.toFixed(1)} ms, first/warm ${(r.first / r.warm).toFixed(2)} (${(r.bytes / 1e6).toFixed(0)} MB)`);
  }
  ratios.sort((a, b) => a - b);
  console.log(`Node ${process.version}, ${n} calls: first/warm median over ${processes} processes ${ratios[ratios.length >> 1].toFixed(2)} (min ${ratios[0].toFixed(2)}, max ${ratios.at(-1).toFixed(2)})`);
}
