import { UsageAccumulator } from 'weave-usage/stats';
import { generate } from '../../bench/data.mjs';
const g = generate(200000);
const acc = new UsageAccumulator({ stats: true });
for (let at = 0; at < g.body.length; at += 1 << 20) acc.push(g.body.subarray(at, at + (1 << 20)));
const reqs = {
  timelineUTC: { project_id: 'acme/agents', granularity: 'day', timezone: 'UTC', group_by: ['model'], include_costs: true },
  timelineNY: { project_id: 'acme/agents', granularity: 'day', timezone: 'America/New_York', group_by: ['model'], include_costs: true },
  breakdown: { project_id: 'acme/agents', group_by: ['op_name'], include_costs: true },
};
for (let r = 0; r < 3; r++) {
  const out = [];
  for (const [k, q] of Object.entries(reqs)) { const t = performance.now(); acc.finishStats(q); out.push(`${k} ${(performance.now() - t).toFixed(0)}`); }
  const t = performance.now(); acc.finish({ project_id: 'acme/agents', call_ids: g.roots, include_costs: true }, { diagnostics: true }); out.push(`usage+diag ${(performance.now() - t).toFixed(0)}`);
  console.log(out.join(', '));
}
