// CSV export: quoting, formulas defused, the usage table's columns, and the
// numbers exactly as the package answered them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callsUsage, traceUsage } from 'weave-usage';
import { csvField, toCsv, traceCsv, usageCsv } from '../../www/csv.js';
import { traceRows } from '../../www/trace.js';
import { usageRows } from '../../www/table.js';

test('fields are quoted only when they must be, and formulas are defused', () => {
  assert.deepEqual(['a', 'a,b', 'say "hi"', 'two\nlines', null, undefined, 1.5e-7, NaN, '=SUM(A1)', '-3', -3, '@x'].map(csvField), [
    'a',
    '"a,b"',
    '"say ""hi"""',
    '"two\nlines"',
    '',
    '',
    '1.5e-7',
    '',
    "'=SUM(A1)",
    "'-3",
    '-3',
    "'@x",
  ]);
  assert.equal(toCsv([['x', (r) => r.x], ['y', (r) => r.y]], [{ x: 1, y: 'a,b' }]), 'x,y\r\n1,"a,b"\r\n');
});

test('the usage table as CSV: one line per root and model, exact numbers', () => {
  const calls = [
    { id: 'r', trace_id: 't', started_at: '2025-03-01T09:00:00Z', ended_at: 'x', summary: { usage: { 'gpt-4o': { requests: 1, prompt_tokens: 12345678901, completion_tokens: 2 } }, weave: { costs: { 'gpt-4o': { prompt_tokens_total_cost: 0.1, completion_tokens_total_cost: 0.2 } } } } },
    { id: 'q', trace_id: 'u', started_at: '2025-03-01T09:00:00Z', ended_at: 'x', summary: {} },
  ];
  const res = callsUsage(calls, { project_id: 'p', call_ids: ['r', 'q'], include_costs: true });
  const rows = usageRows(res, [{ id: 'r', name: 'agent.run', trace_id: 't' }, { id: 'q', name: 'idle, op', trace_id: 'u' }]);
  const lines = usageCsv(rows).split('\r\n');
  assert.equal(lines[0], 'root_id,root_op,trace_id,model,requests,prompt_tokens,completion_tokens,total_tokens,cache_read_input_tokens,cache_creation_input_tokens,prompt_tokens_total_cost,completion_tokens_total_cost,cache_read_input_tokens_total_cost,cache_creation_input_tokens_total_cost,cost');
  assert.equal(lines[1], 'r,agent.run,t,gpt-4o,1,12345678901,2,12345678903,0,0,0.1,0.2,0,0,0.30000000000000004');
  assert.equal(lines[2], 'q,"idle, op",u,,0,0,0,0,0,0,,,,,');
  assert.equal(lines.length, 4);
});

test('the trace view as CSV: one line per call, depth-first, rolled-up usage', () => {
  const calls = [
    { id: 'a', trace_id: 't', parent_id: null, started_at: '2025-03-01T09:00:00Z', ended_at: 'x', summary: {} },
    { id: 'b', trace_id: 't', parent_id: 'a', started_at: '2025-03-01T09:00:01Z', summary: { usage: { m: { requests: 2, prompt_tokens: 5, completion_tokens: 1 } } } },
  ];
  const res = traceUsage(calls, { project_id: 'p', filter: { trace_ids: ['t'] }, include_costs: false });
  const rows = traceRows(res, [{ id: 'a', parent_id: null, name: 'agent.run' }, { id: 'b', parent_id: 'a', name: 'chat' }]);
  assert.equal(traceCsv(rows), 'call_id,op,depth,models,requests,total_tokens,own_tokens,cost,own_cost,unfinished\r\na,agent.run,0,m,2,6,0,,,false\r\nb,chat,1,m,2,6,6,,,true\r\n');
});
