// weave-usage/parallel in this runtime: a pool of 2 worker threads over a
// body's bytes and over a Blob of them, each against the one-shot here;
// then work given up through an AbortSignal.
import { createUsagePool } from 'weave-usage/parallel';
import { callsUsageFromJson } from 'weave-usage';

const lines = [];
for (let i = 0; i < 200; i++) {
  const usage = { m: { prompt_tokens: i, completion_tokens: 1, requests: 1 } };
  lines.push(JSON.stringify({ id: `c${i}`, trace_id: `t${i % 5}`, project_id: 'p', parent_id: i < 5 ? null : `c${i % 5}`, started_at: '2025-01-01T00:00:00Z', ended_at: '2025-01-01T00:00:02Z', summary: { usage } }));
}
const bytes = new TextEncoder().encode(lines.join('\n') + '\n');
const request = { project_id: 'p', call_ids: ['c0', 'c1', 'c2'], include_costs: true };
const want = JSON.stringify(callsUsageFromJson(bytes, request));
const pool = createUsagePool({ workers: 2 });
const out = {};
for (const [name, body] of [['bytes', bytes], ['blob', new Blob([bytes])]]) {
  out[name] = { same: JSON.stringify(await pool.callsUsage(body, request)) === want, last: pool.last };
}
// Given up (an AbortSignal), before and while the workers read: the reason,
// and the pool answers exactly after.
const reason = new Error('no longer wanted');
const given = (promise) => promise.then(() => 'answered', (e) => (e === reason ? 'the reason' : String(e)));
const during = new AbortController();
const reading = given(pool.callsUsage(bytes, request, null, { signal: during.signal }));
during.abort(reason);
out.aborted = {
  before: await given(pool.callsUsage(bytes, request, null, { signal: AbortSignal.abort(reason) })),
  during: await reading,
  after: JSON.stringify(await pool.callsUsage(bytes, request)) === want,
};
await pool.close();
console.log(JSON.stringify(out));
