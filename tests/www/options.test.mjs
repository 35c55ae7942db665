// The dashboard's option views without a DOM: the price editor's rows, the
// diagnostics items and the trace tree, fed with the package's real answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callsUsage, traceUsage } from 'weave-usage';
import { diagnosticItems } from '../../www/diagnostics.js';
import { blankRow, pricesOption, rowsFromJson, sentRowIndex } from '../../www/prices.js';
import { UsageAccumulator } from 'weave-usage/stats';
import { traceCallsOf } from '../../www/calls.js';

/** The calls of trace `traceId` in the export `text` (of project `p`), found as the dashboard finds them. */
function traced(text, traceId) {
  const acc = new UsageAccumulator({ stats: true });
  try {
    acc.push(text);
    return traceCallsOf(acc, 'p', traceId);
  } finally {
    acc.free();
  }
}
import { traceRows } from '../../www/trace.js';

test('price rows: uploaded JSON in its three shapes, and the option sent', () => {
  const row = { id: 'x', llm_id: 'gpt-4o', prompt_token_cost: 2.5e-6, completion_token_cost: 1e-5, effective_date: '2024-01-01T00:00:00Z', provider_id: 'openai', pricing_level: 'default' };
  for (const shape of [[row], { results: [row] }, { prices: [row] }]) {
    const rows = rowsFromJson(shape);
    assert.deepEqual(rows, [{ llm_id: 'gpt-4o', prompt_token_cost: '0.0000025', completion_token_cost: '0.00001', cache_read_input_token_cost: '', cache_creation_input_token_cost: '', effective_date: '2024-01-01T00:00:00Z', pricing_level: 'default' }]);
    assert.deepEqual(pricesOption(rows), [{ llm_id: 'gpt-4o', effective_date: '2024-01-01T00:00:00Z', pricing_level: 'default', prompt_token_cost: 2.5e-6, completion_token_cost: 1e-5 }]);
  }
  assert.throws(() => rowsFromJson({ rows: [] }), /results/);
  assert.throws(() => rowsFromJson([1]), /Row 1/);
  // Text that is not a number is sent as typed, for the package to refuse;
  // rows without a model are not sent, so error indices skip them.
  const rows = [blankRow(), { ...blankRow('m'), prompt_token_cost: 'cheap' }];
  assert.deepEqual(pricesOption(rows), [{ llm_id: 'm', effective_date: '2000-01-01', pricing_level: 'project', prompt_token_cost: 'cheap' }]);
  assert.equal(sentRowIndex(rows, 0), 1);
  assert.throws(() => callsUsage([], { project_id: 'p', call_ids: [] }, { prices: pricesOption(rows) }), (e) => e.detail[0].loc.join() === 'options,prices,0,prompt_token_cost');
});

const call = (id, parent, prompt, extra = {}) => ({ id, trace_id: 't', parent_id: parent, started_at: '2025-03-01T09:00:00Z', ended_at: 'x', summary: { usage: { m: { requests: 1, prompt_tokens: prompt } } }, ...extra });

test('diagnostics: one item per finding, optional ones only when present', () => {
  const calls = [call('r', null, 1), call('o', 'gone', 1), call('d', 'r', 1), call('d', 'r', 2), call('b', 'r', '1.5')];
  const d = callsUsage(calls, { project_id: 'p', call_ids: ['r'] }, { diagnostics: true }).diagnostics;
  const items = diagnosticItems(d);
  assert.deepEqual(items.map((i) => [i.key, i.count]), [['cut', 0], ['orphans', 1], ['cycles', 0], ['duplicates', 1], ['unreadable', 1], ['prompt-and-input', 0], ['negative-costs', 0]]);
  assert.deepEqual(items.find((i) => i.key === 'unreadable').entries, ['b › m › prompt_tokens']);
  const all = diagnosticItems(callsUsage(calls, { project_id: 'p', call_ids: ['r', 'o'] }, { diagnostics: true, rollup: 'dedupe', prices: [] }).diagnostics);
  assert.deepEqual(all.slice(-2).map((i) => [i.key, i.entries]), [['unpriced', ['m']], ['deduped', []]]);
});

test('trace tree: depth first in the server’s order, names from the file, cycles listed once', () => {
  const calls = [
    call('r', null, 1, { op_name: 'weave:///e/p/op/agent.run:abc' }),
    call('b', 'r', 10, { started_at: '2025-03-01T09:00:02Z', display_name: 'second' }),
    call('a', 'r', 100, { started_at: '2025-03-01T09:00:01Z', ended_at: null }),
    call('a1', 'a', 1000),
    call('y1', 'y2', 5),
    call('y2', 'y1', 5),
    { ...call('other', null, 1), trace_id: 'u' },
  ];
  const text = calls.map((c) => JSON.stringify(c)).join('\n');
  const inTrace = traced(text, 't');
  // The trace's live calls, in the server's order (started_at, then id).
  assert.deepEqual(inTrace.map((c) => c.id), ['a1', 'r', 'y1', 'y2', 'a', 'b']);
  assert.deepEqual(traced(JSON.stringify(calls), 'u').map((c) => c.id), ['other'], 'a JSON array too');
  const result = traceUsage(calls, { project_id: 'p', filter: { trace_ids: ['t'] } });
  const rows = traceRows(result, inTrace);
  assert.deepEqual(rows.map((r) => [r.id, r.depth, r.name, r.total_tokens, r.own_tokens, r.unfinished]), [
    ['r', 0, 'agent.run', 1111, 1, false],
    ['a', 1, 'call', 1100, 100, true],
    ['a1', 2, 'call', 1000, 1000, false],
    ['b', 1, 'second', 10, 10, false],
    // On a cycle nothing is absorbed: each keeps its own.
    ['y1', 0, 'call', 5, 5, false],
    ['y2', 1, 'call', 5, 5, false],
  ]);
  assert.equal(rows[0].cost, null, 'no costs requested');
});

test('trace tree: each call’s own part, with Weave’s sum and provider-true', () => {
  // The client summed its finished child into the root: Weave's sum counts
  // the child twice in the root, provider-true once; either way "own" is
  // what the root holds beyond what its children brought.
  const priced = (id, parent, prompt, cost) => ({ ...call(id, parent, prompt), summary: { usage: { m: { requests: 1, prompt_tokens: prompt, total_tokens: prompt } }, weave: { costs: { m: { prompt_tokens_total_cost: cost, completion_tokens_total_cost: 0 } } } } });
  const calls = [priced('r', null, 30, 0.3), priced('c', 'r', 20, 0.2), priced('g', 'c', 20, 0.2)];
  const info = calls.map((c) => ({ id: c.id, parent_id: c.parent_id, name: c.id }));
  const req = { project_id: 'p', filter: { trace_ids: ['t'] }, include_costs: true };
  const own = (rollup) => traceRows(traceUsage(calls, req, { rollup }), info).map((r) => [r.id, r.total_tokens, r.own_tokens, r.cost, r.own_cost]);
  const near = (got, want) => got.forEach((row, i) => row.forEach((v, j) => assert.ok(typeof v === 'string' ? v === want[i][j] : Math.abs(v - want[i][j]) < 1e-12, `${row} vs ${want[i]}`)));
  near(own('reference'), [['r', 70, 30, 0.7, 0.3], ['c', 40, 20, 0.4, 0.2], ['g', 20, 20, 0.2, 0.2]]);
  near(own('dedupe'), [['r', 30, 10, 0.3, 0.1], ['c', 20, 0, 0.2, 0], ['g', 20, 20, 0.2, 0.2]]);
});
