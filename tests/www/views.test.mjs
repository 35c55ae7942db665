// The dashboard's table rows, totals, sorting and chart bars (the parts
// that need no DOM).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chartBars, chartMeasure, niceTicks } from '../../www/chart.js';
import { sortRows, totals, usageRows } from '../../www/table.js';

const u = (tokens, cost) => ({
  requests: 1,
  prompt_tokens: tokens,
  completion_tokens: 0,
  total_tokens: tokens,
  cache_read_input_tokens: 0,
  cache_creation_input_tokens: 0,
  prompt_tokens_total_cost: cost,
  completion_tokens_total_cost: cost === null ? null : 0,
  cache_read_input_tokens_total_cost: cost === null ? null : 0,
  cache_creation_input_tokens_total_cost: cost === null ? null : 0,
});
const roots = [{ id: 'a', name: 'agent' }, { id: 'b', name: 'bot' }, { id: 'c', name: 'idle' }];
const result = { call_usage: { a: { 'gpt-4o': u(10, 0.5), claude: u(30, 0.1) }, b: { 'gpt-4o': u(20, 0.2) }, c: {} }, unfinished_call_ids: [] };

test('rows: one per root and model, a root without usage keeps a row', () => {
  const rows = usageRows(result, roots);
  assert.deepEqual(rows.map((r) => [r.root.id, r.model, r.total_tokens, r.cost]), [
    ['a', 'claude', 30, 0.1],
    ['a', 'gpt-4o', 10, 0.5],
    ['b', 'gpt-4o', 20, 0.2],
    ['c', null, 0, null],
  ]);
  const sum = totals(rows);
  assert.equal(sum.total_tokens, 60);
  assert.equal(sum.requests, 3);
  assert.ok(Math.abs(sum.cost - 0.8) < 1e-12);
});

test('without costs the totals have none', () => {
  const noCosts = { call_usage: { a: { m: u(5, null) } }, unfinished_call_ids: [] };
  assert.equal(totals(usageRows(noCosts, roots.slice(0, 1))).cost, null);
});

test('sorting: numbers, text, both directions, ties in root order', () => {
  const rows = usageRows(result, roots);
  const ids = (sorted) => sorted.map((r) => `${r.root.id}/${r.model}`);
  assert.deepEqual(ids(sortRows(rows, { key: 'total_tokens', dir: -1 })), ['a/claude', 'b/gpt-4o', 'a/gpt-4o', 'c/null']);
  assert.deepEqual(ids(sortRows(rows, { key: 'cost', dir: -1 })), ['a/gpt-4o', 'b/gpt-4o', 'a/claude', 'c/null']);
  assert.deepEqual(ids(sortRows(rows, { key: 'model', dir: 1 })), ['c/null', 'a/claude', 'a/gpt-4o', 'b/gpt-4o']);
  assert.deepEqual(ids(sortRows(rows, { key: 'root', dir: -1 })), ['c/null', 'b/gpt-4o', 'a/claude', 'a/gpt-4o']);
  assert.deepEqual(ids(sortRows(rows, { key: null, dir: 1 })), ['a/claude', 'a/gpt-4o', 'b/gpt-4o', 'c/null']);
});

test('chart: cost when there is any, else tokens; bars biggest first', () => {
  const rows = usageRows(result, roots);
  assert.equal(chartMeasure(rows, true), 'cost');
  assert.equal(chartMeasure(rows, false), 'tokens');
  const bars = chartBars(rows, 'cost');
  assert.deepEqual(bars.map((b) => [b.root.id, Number(b.total.toFixed(6)), b.segments.length]), [['a', 0.6, 2], ['b', 0.2, 1], ['c', 0, 0]]);
});

test('axis ticks are round and cover the largest bar', () => {
  assert.deepEqual(niceTicks(0.1489), [0, 0.05, 0.1, 0.15]);
  assert.deepEqual(niceTicks(85918), [0, 50000, 100000]);
  assert.deepEqual(niceTicks(4), [0, 1, 2, 3, 4]);
  assert.deepEqual(niceTicks(7e-9), [0, 2e-9, 4e-9, 6e-9, 8e-9]);
});
