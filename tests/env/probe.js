// What every environment runs against the package: the three ways in
// (call objects, a body of JSON Lines, a stream of chunks of each kind push
// takes), an error and its type guard. The environment's answer is compared
// with the one computed in the test runner's Node. `statsProbe`: the same
// for weave-usage/stats (its own module), by objects, bytes and a stats
// accumulator.
const calls = [
  { id: 'r', trace_id: 't', project_id: 'p', parent_id: null, started_at: '2025-01-01T00:00:00Z', ended_at: '2025-01-01T00:00:02Z', summary: { usage: { 'gpt-4o': { prompt_tokens: 10, completion_tokens: 5, requests: 1 } }, weave: { costs: { 'gpt-4o': { prompt_tokens_total_cost: 0.25, completion_tokens_total_cost: 0.5 } } } } },
  { id: 'c', trace_id: 't', project_id: 'p', parent_id: 'r', started_at: '2025-01-01T00:00:01Z', ended_at: '2025-01-01T00:00:02Z', summary: { usage: { 'claude-x': { input_tokens: 3, output_tokens: 2, requests: 1 } } } },
  { id: 'u', trace_id: 'v', project_id: 'p', parent_id: null, started_at: '2025-01-01T00:00:03Z', ended_at: null, summary: {} },
];

export function probe(w) {
  const request = { project_id: 'p', call_ids: ['r', 'u'], include_costs: true };
  const text = calls.map((c) => JSON.stringify(c)).join('\n') + '\n';
  const bytes = new TextEncoder().encode(text);
  const out = { objects: w.callsUsage(calls, request), json: w.callsUsageFromJson(bytes, request) };
  const acc = new w.UsageAccumulator();
  acc.push(bytes.subarray(0, 100));
  acc.push(bytes.slice(100, 300).buffer);
  acc.push(text.slice(300));
  out.streamed = acc.finish(request);
  out.calls = acc.calls;
  acc.free();
  try {
    w.callsUsageFromJson('{', request);
  } catch (e) {
    out.error = { guard: w.isUsageError(e), status: e.status, type: e.detail[0].type };
  }
  return out;
}

export function statsProbe(s) {
  const request = { project_id: 'p', start: '2025-01-01T00:00:00Z', end: '2025-01-01T03:00:00Z', granularity: 'hour', group_by: ['model'], include_costs: true };
  const text = calls.map((c) => JSON.stringify(c)).join('\n') + '\n';
  const out = { objects: s.usageStats(calls, request), json: s.usageStatsFromJson(new TextEncoder().encode(text), request) };
  const acc = new s.UsageAccumulator({ stats: true });
  acc.push(text);
  out.streamed = acc.finishStats(request);
  acc.free();
  return out;
}
