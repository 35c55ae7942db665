import { generate } from './data.mjs';
import { parseJsonl, rollup } from './baseline.mjs';
import { callsUsage, callsUsageFromJson } from 'weave-usage';
const t0 = performance.now();
const { body, roots, count } = generate(100_000);
console.log('gen', count, (body.length / 1e6).toFixed(1), 'MB', (performance.now() - t0).toFixed(0), 'ms');
const req = { project_id: 'acme/agents', call_ids: roots, include_costs: true, limit: 1_000_000 };
for (let i = 0; i < 3; i++) {
  let t = performance.now();
  const text = new TextDecoder().decode(body);
  const calls = parseJsonl(text);
  const tp = performance.now() - t;
  t = performance.now();
  const js = rollup(calls, req);
  const tr = performance.now() - t;
  t = performance.now();
  const w = callsUsageFromJson(body, req);
  const tw = performance.now() - t;
  t = performance.now();
  const wo = callsUsage(calls, req);
  const to = performance.now() - t;
  console.log(`JSON.parse ${tp.toFixed(0)} ms, JS rollup ${tr.toFixed(0)} ms | wasm bytes ${tw.toFixed(0)} ms | wasm objects ${to.toFixed(0)} ms | agree ${JSON.stringify(js) === JSON.stringify(w)}`);
}
