// Checks the plain-JS stats peer (bench/stats-baseline.mjs) against the
// module on the benchmark's generated calls and on the real-client corpus
// (tests/fixtures/client), as bench/scanner-check.mjs checks the byte
// scanner: `node bench/stats-check.mjs [calls]`. Exits 1 on a difference.
import { readFileSync, readdirSync } from 'node:fs';
import { usageStatsFromJson } from 'weave-usage/stats';
import { generate } from './data.mjs';
import { statsFromBytes, canonical } from './stats-baseline.mjs';
import { agree } from './suite.mjs';

const enc = new TextEncoder();
const requests = (project_id) => [
  { project_id, granularity: 'hour', group_by: ['model', 'op_name'], include_costs: true },
  { project_id, granularity: 'day', timezone: '+05:30', group_by: ['op_name'] },
  { project_id, granularity: 'day', group_by: ['model'], include_costs: true },
];
let checked = 0;
let failed = 0;
const check = (what, bytes, request) => {
  const ours = canonical(usageStatsFromJson(bytes, request));
  const theirs = statsFromBytes(bytes, request);
  checked++;
  if (!agree(ours, theirs)) {
    failed++;
    console.error(`DIFFERENT: ${what} ${JSON.stringify(request)}`);
  }
};
const n = Number(process.argv[2] ?? 20_000);
const { body } = generate(n);
for (const r of requests('acme/agents')) check(`${n} generated calls`, body, r);
const dir = new URL('../tests/fixtures/client/', import.meta.url);
for (const f of readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'coverage.json')) {
  const fixture = JSON.parse(readFileSync(new URL(f, dir), 'utf8'));
  const bytes = enc.encode(fixture.calls.map((c) => JSON.stringify(c)).join('\n'));
  for (const p of new Set(fixture.calls.map((c) => c.project_id).filter(Boolean))) for (const r of requests(p)) check(f, bytes, r);
}
console.log(`stats peer vs module: ${checked - failed} of ${checked} answers agree`);
if (failed > 0) process.exit(1);
