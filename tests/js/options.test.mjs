// Issue 5 through the built package in Node: options.prices / reprice,
// traceUsage (objects, bytes, accumulator), options.rollup on star, chain,
// mixed and distributed traces, options.diagnostics, and their errors. Each
// case runs through every path that takes calls: objects, bytes, the
// accumulator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { callsUsage, callsUsageFromJson, traceUsage, traceUsageFromJson, UsageAccumulator } from 'weave-usage';

const enc = new TextEncoder();
const jsonl = (calls) => calls.map((c) => JSON.stringify(c)).join('\n') + '\n';

/** The answer of `/calls/usage` through every path; they must agree. */
function usage(calls, request, options) {
  const objects = callsUsage(structuredClone(calls), request, options);
  const bytes = callsUsageFromJson(enc.encode(jsonl(calls)), request, options);
  const acc = new UsageAccumulator();
  const body = enc.encode(JSON.stringify(calls));
  for (let at = 0; at < body.length; at += 7) acc.push(body.subarray(at, at + 7));
  const streamed = acc.finish(request, options);
  acc.free();
  assert.deepEqual(bytes, objects, 'bytes and objects agree');
  assert.deepEqual(streamed, objects, 'accumulator and objects agree');
  return objects;
}

/** The same for `/trace/usage`. */
function trace(calls, request, options) {
  const objects = traceUsage(structuredClone(calls), request, options);
  const bytes = traceUsageFromJson(jsonl(calls), request, options);
  const acc = new UsageAccumulator();
  acc.push(enc.encode(jsonl(calls)));
  const streamed = acc.finishTrace(request, options);
  // The accumulator answers both endpoints, any number of times.
  assert.deepEqual(acc.finishTrace(request, options), streamed);
  acc.free();
  assert.deepEqual(bytes, objects, 'bytes and objects agree');
  assert.deepEqual(streamed, objects, 'accumulator and objects agree');
  return objects;
}

function thrown(run, status = 422) {
  let error;
  assert.throws(run, (e) => {
    error = e;
    return true;
  });
  assert.ok(error instanceof Error);
  assert.equal(error.status, status, error.message);
  return error;
}

const call = (id, parent, summary, extra = {}) => ({ id, trace_id: 't', parent_id: parent, started_at: '2025-03-01T09:00:00Z', ended_at: '2025-03-01T09:01:00Z', summary, ...extra });
const tokens = (prompt, requests = 1, model = 'm') => ({ usage: { [model]: { requests, prompt_tokens: prompt } } });
const req = (call_ids, include_costs = false) => ({ project_id: 'p', call_ids, include_costs });
const row = (llm_id, prompt, completion, effective_date, extra = {}) => ({ llm_id, prompt_token_cost: prompt, completion_token_cost: completion, effective_date, ...extra });
const COSTS = ['prompt_tokens_total_cost', 'completion_tokens_total_cost', 'cache_read_input_tokens_total_cost', 'cache_creation_input_tokens_total_cost'];
const costs = (u) => COSTS.map((k) => u[k]);

// ---- prices ----

test('prices: models without costs are priced, given costs kept, reprice replaces them', () => {
  const calls = [
    call('r', null, { usage: { gpt: { prompt_tokens: 1000, completion_tokens: 100, cache_read_input_tokens: 200 }, claude: { prompt_tokens: 10 } }, weave: { costs: { claude: { prompt_tokens_total_cost: 0.5 } } } }),
    call('c', 'r', { usage: { gpt: { prompt_tokens: 10 } } }),
  ];
  const prices = [
    row('gpt', 2e-6, 8e-6, '2024-01-01', { cache_read_input_token_cost: 1e-6 }),
    // /costs/query rows carry ids and units: accepted as they are.
    { id: 'x', llm_id: 'claude', prompt_token_cost: 1, completion_token_cost: 1, prompt_token_cost_unit: 'USD', completion_token_cost_unit: 'USD', effective_date: new Date('2024-01-01T00:00:00Z'), provider_id: 'anthropic' },
  ];
  const res = usage(calls, req(['r'], true), { prices });
  assert.deepEqual(costs(res.call_usage.r.gpt), [(1000 - 200) * 2e-6 + 10 * 2e-6, 100 * 8e-6, 200 * 1e-6, 0]);
  assert.deepEqual(costs(res.call_usage.r.claude), [0.5, 0, 0, 0]);
  assert.deepEqual(costs(usage(calls, req(['r'], true), { prices, reprice: true }).call_usage.r.claude), [10, 0, 0, 0]);
  assert.equal(usage(calls, req(['r'], false), { prices }).call_usage.r.gpt.prompt_tokens_total_cost, null, 'only with include_costs');
});

test('reprice needs prices: without them (absent or null) stored costs stay; with [] every model is priced at 0', () => {
  const stored = { usage: { m: { prompt_tokens: 10 } }, weave: { costs: { m: { prompt_tokens_total_cost: 1.5 } } } };
  const calls = [call('r', null, stored)];
  const cost = (options) => usage(calls, req(['r'], true), options).call_usage.r.m.prompt_tokens_total_cost;
  assert.equal(cost(), 1.5);
  assert.equal(cost({ reprice: true }), 1.5);
  assert.equal(cost({ reprice: true, prices: null }), 1.5);
  assert.equal(cost({ reprice: true, prices: [] }), 0);
  assert.equal(cost({ reprice: true, prices: [row('m', 0.5, 0, '2024-01-01')] }), 5);
});

test('diagnostics: unpriced_models names the models priced from the rows without one, not those with stored costs', () => {
  const stored = (model) => ({ usage: { [model]: { prompt_tokens: 10 } }, weave: { costs: { [model]: { prompt_tokens_total_cost: 1 } } } });
  // s: stored costs everywhere; b: stored in one call, not in another; n: never.
  const calls = [call('r', null, stored('s')), call('c1', 'r', stored('b')), call('c2', 'r', tokens(3, 1, 'b')), call('c3', 'r', tokens(3, 1, 'n'))];
  const unpriced = (options) => usage(calls, req(['r'], true), { diagnostics: true, ...options }).diagnostics.unpriced_models;
  assert.deepEqual(unpriced({ prices: [] }), ['b', 'n']);
  assert.deepEqual(unpriced({ prices: [row('b', 1, 1, '2024-01-01')] }), ['n']);
  // Repriced, stored costs count for nothing: every model without a row.
  assert.deepEqual(unpriced({ prices: [row('b', 1, 1, '2024-01-01')], reprice: true }), ['n', 's']);
  assert.equal(unpriced({}), undefined);
});

test('prices: the reference server’s row choice (corpus from its own code)', () => {
  const { cases } = JSON.parse(readFileSync(new URL('../fixtures/python/pricing.json', import.meta.url), 'utf8'));
  let compared = 0;
  for (const c of cases.slice(0, 120)) {
    const res = trace(c.calls, { project_id: c.project, include_costs: true }, { prices: c.rows, reprice: true });
    for (const [id, models] of Object.entries(res.call_usage)) {
      for (const [model, u] of Object.entries(models)) {
        assert.deepEqual(costs(u), c.costs[id]?.[model] ?? [0, 0, 0, 0], `${id} ${model}`);
        compared++;
      }
    }
  }
  assert.ok(compared > 200, `compared ${compared}`);
});

test('prices: 40,000 rows of one model price 40,000 calls, each by the row in effect at its start (rows indexed, not scanned per call)', () => {
  const n = 40_000;
  const t0 = Date.UTC(2025, 0, 1);
  const at = (ms) => new Date(t0 + ms).toISOString();
  // Rows one second apart, the project's on odd seconds; call i starts just before second i + 1.
  const prices = Array.from({ length: n }, (_, i) => row('m', i, 0, at(i * 1000), i % 2 ? { pricing_level: 'project', pricing_level_id: 'p' } : { pricing_level: 'default' }));
  const calls = Array.from({ length: n }, (_, i) => ({ id: `c${i}`, trace_id: `t${i}`, started_at: at(i * 1000 + 999), ended_at: at(i * 1000 + 999), summary: { usage: { m: { prompt_tokens: 1 } } } }));
  const request = { project_id: 'p', call_ids: calls.map((c) => c.id), include_costs: true, limit: n };
  for (const res of [callsUsageFromJson(enc.encode(jsonl(calls)), request, { prices }), callsUsage(calls, request, { prices })]) {
    for (let i = 0; i < n; i++) {
      // The latest project row in effect; before the first one, the default row of second 0.
      const want = i === 0 ? 0 : i % 2 ? i : i - 1;
      assert.equal(res.call_usage[`c${i}`].m.prompt_tokens_total_cost, want, `c${i}`);
    }
  }
});

test('prices: a bad row is a 422 naming the row and the field; unknown options still refused', () => {
  const calls = [call('r', null, tokens(1))];
  const e = thrown(() => callsUsage(calls, req(['r'], true), { prices: [row('m', 1, 1, '2024-01-01'), { llm_id: 7, prompt_token_cost: 'cheap', effective_date: '2024-02-30', pricing_level: 'org', prompt_cost: 1 }] }));
  assert.deepEqual(e.detail, [
    { loc: ['options', 'prices', 1, 'llm_id'], msg: 'Input should be a valid string', type: 'string_type' },
    { loc: ['options', 'prices', 1, 'prompt_token_cost'], msg: 'Input should be a valid number, unable to parse string as a number', type: 'float_parsing' },
    { loc: ['options', 'prices', 1, 'effective_date'], msg: 'Input should be a valid datetime or date, day value is outside expected range', type: 'datetime_from_date_parsing' },
    { loc: ['options', 'prices', 1, 'pricing_level'], msg: "Input should be 'project' or 'default'", type: 'literal_error' },
    { loc: ['options', 'prices', 1, 'prompt_cost'], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' },
  ]);
  assert.match(e.message, /^422: options\.prices\.1\.llm_id: Input should be a valid string; /);
  assert.deepEqual(thrown(() => callsUsageFromJson('', req(['r']), { prices: [{ effective_date: '2024-01-01' }] })).detail, [{ loc: ['options', 'prices', 0, 'llm_id'], msg: 'Field required', type: 'missing' }]);
  assert.deepEqual(thrown(() => traceUsage(calls, { project_id: 'p' }, { price: [] })).detail, [{ loc: ['options', 'price'], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' }]);
  assert.equal(thrown(() => callsUsage(calls, req(['r']), { rollup: 'dedup' })).detail[0].type, 'literal_error');
  // NaN reaches the library as null, as JSON.stringify sends it: a null rate is 0.
  assert.deepEqual(costs(usage(calls, req(['r'], true), { prices: [row('m', NaN, 1, '2024-01-01')] }).call_usage.r.m), [0, 0, 0, 0]);
});

// ---- rollup ----

test('rollup dedupe: a star counts each leaf once', () => {
  const calls = [call('r', null, tokens(61, 4)), call('a', 'r', tokens(10)), call('b', 'r', tokens(20)), call('c', 'r', tokens(30))];
  assert.equal(usage(calls, req(['r'])).call_usage.r.m.prompt_tokens, 121, 'reference: 2x');
  assert.equal(usage(calls, req(['r']), { rollup: 'reference' }).call_usage.r.m.prompt_tokens, 121);
  const res = usage(calls, req(['r', 'a']), { rollup: 'dedupe', diagnostics: true });
  assert.equal(res.call_usage.r.m.prompt_tokens, 61);
  assert.equal(res.call_usage.r.m.requests, 4);
  assert.equal(res.call_usage.a.m.prompt_tokens, 10);
  assert.deepEqual(res.diagnostics.deduped_call_ids, ['r']);
});

test('rollup dedupe: a chain counts its leaf once', () => {
  const calls = [call('r', null, tokens(7)), call('a', 'r', tokens(7)), call('b', 'a', tokens(7))];
  assert.equal(usage(calls, req(['r'])).call_usage.r.m.prompt_tokens, 21, 'reference: 3x');
  const res = trace(calls, { project_id: 'p' }, { rollup: 'dedupe' });
  assert.deepEqual(Object.values(res.call_usage).map((u) => u.m.prompt_tokens), [7, 7, 7]);
});

test('rollup dedupe: distributed traces are the reference’s, mixed ones dedupe their local parts', () => {
  const withCost = (p, c) => ({ usage: { m: { prompt_tokens: p } }, weave: { costs: { m: { prompt_tokens_total_cost: c } } } });
  const distributed = [call('r', null, {}), call('a', 'r', withCost(5, 0.1)), call('b', 'r', withCost(3, 0.2)), call('c', 'a', withCost(9, 0.7))];
  const ids = ['r', 'a', 'b', 'c'];
  const { diagnostics, ...dedupe } = usage(distributed, req(ids, true), { rollup: 'dedupe', diagnostics: true });
  assert.deepEqual(dedupe, usage(distributed, req(ids, true)));
  assert.deepEqual(diagnostics.deduped_call_ids, []);

  const mixed = [
    call('r', null, {}),
    call('a', 'r', tokens(31, 3)),
    call('a1', 'a', tokens(10)),
    call('a2', 'a', tokens(20)),
    call('b', 'r', tokens(2)),
    call('b1', 'b', tokens(43, 2)),
    call('b2', 'b1', tokens(40)),
  ];
  const res = trace(mixed, { project_id: 'p', filter: { trace_ids: ['t'] } }, { rollup: 'dedupe', diagnostics: true });
  assert.equal(res.call_usage.r.m.prompt_tokens, 1 + 10 + 20 + 2 + 3 + 40);
  assert.equal(res.call_usage.b.m.prompt_tokens, 45);
  assert.deepEqual(res.diagnostics.deduped_call_ids, ['a', 'b1']);
});

// ---- diagnostics ----

test('diagnostics: only when asked, every item reported', () => {
  const calls = [
    call('r', null, { usage: { m: { prompt_tokens: '1.5', input_tokens: 4, completion_tokens: [] }, n: { prompt_tokens: 2, input_tokens: 2 } }, weave: { costs: { m: { prompt_tokens_total_cost: 'cheap' } } } }),
    call('o', 'gone', tokens(1)),
    call('y1', 'y2', tokens(1)),
    call('y2', 'y1', tokens(1)),
    call('dup', 'r', tokens(1)),
    call('dup', 'r', tokens(2)),
    call('late', 'r', tokens(1), { started_at: '2025-03-01T10:00:00Z' }),
  ];
  const plain = usage(calls, req(['r'], true));
  assert.equal('diagnostics' in plain, false);
  assert.equal('diagnostics' in usage(calls, req(['r'], true), { diagnostics: false }), false);
  const request = { ...req(['r'], true), limit: 5 };
  const { diagnostics, ...rest } = usage(calls, request, { diagnostics: true, prices: [row('m', 1, 1, '2024-01-01')] });
  assert.deepEqual(rest, usage(calls, request, { prices: [row('m', 1, 1, '2024-01-01')] }), 'the answer is unchanged');
  assert.deepEqual(diagnostics, {
    calls_in_scope: 5,
    calls_cut_by_limit: 1,
    orphan_call_ids: ['o'],
    cycle_call_ids: ['y1', 'y2'],
    duplicate_call_ids: ['dup'],
    unreadable_values: [
      { call_id: 'r', model: 'm', field: 'prompt_tokens' },
      { call_id: 'r', model: 'm', field: 'completion_tokens' },
      { call_id: 'r', model: 'm', field: 'prompt_tokens_total_cost' },
    ],
    prompt_and_input_tokens: [{ call_id: 'r', model: 'n' }],
    negative_costs: [],
    unpriced_models: ['n'],
  });
  // Hostile ids stay plain keys and values in the diagnostics too.
  const hostile = [call('__proto__', 'constructor', tokens(1))];
  const d = traceUsage(hostile, { project_id: 'p' }, { diagnostics: true }).diagnostics;
  assert.deepEqual(d.orphan_call_ids, ['__proto__']);
  assert.equal(Object.getPrototypeOf(d), Object.prototype);
});

// ---- traceUsage ----

test('traceUsage: every call with its subtree, in the server’s order', () => {
  const calls = [
    call('r', null, tokens(1)),
    call('a', 'r', tokens(10)),
    call('b', 'a', tokens(100), { ended_at: null, started_at: '2025-03-01T09:00:02Z' }),
    { id: 'x', trace_id: 't2', started_at: '2025-03-01T08:00:00Z', ended_at: 'y', summary: tokens(1000) },
    { id: 'z', trace_id: 't2', project_id: 'other', summary: tokens(1) },
  ];
  const res = trace(calls, { project_id: 'p' });
  assert.deepEqual(Object.keys(res), ['call_usage', 'unfinished_call_ids']);
  assert.deepEqual(Object.keys(res.call_usage), ['x', 'a', 'r', 'b']);
  assert.deepEqual(Object.fromEntries(Object.entries(res.call_usage).map(([id, u]) => [id, u.m.prompt_tokens])), { x: 1000, a: 110, r: 111, b: 100 });
  assert.deepEqual(res.unfinished_call_ids, ['b']);
  for (const id of ['r', 'a', 'b']) assert.deepEqual(res.call_usage[id], usage(calls, req([id])).call_usage[id], id);
  assert.deepEqual(Object.keys(trace(calls, { project_id: 'p', filter: { trace_ids: ['t2'] } }).call_usage), ['x']);
  assert.deepEqual(Object.keys(trace(calls, { project_id: 'p', filter: { call_ids: ['r', 'b'] }, limit: '1' }).call_usage), ['r']);
  const priced = trace(calls, { project_id: 'p', include_costs: 'yes' }, { prices: [row('m', 0.5, 0, 1704067200)] });
  assert.equal(priced.call_usage.r.m.prompt_tokens_total_cost, 55.5);
});

test('traceUsage: its request is validated like the server’s, with filter and query limits', () => {
  const e = thrown(() => traceUsage([], { call_ids: ['r'], limit: 0, query: { $expr: {} }, filter: { op_names: ['x'], trace_ids: 't' } }));
  assert.deepEqual(e.detail.map((d) => [d.loc.join('.'), d.type]), [
    ['body.project_id', 'missing'],
    ['body.filter.op_names', 'not_supported'],
    ['body.filter.trace_ids', 'list_type'],
    ['body.query', 'not_supported'],
    ['body.limit', 'greater_than_equal'],
    ['body.call_ids', 'extra_forbidden'],
  ]);
  assert.equal(thrown(() => traceUsage([], 'p')).detail[0].msg, 'Input should be a valid dictionary or instance of TraceUsageReq');
  assert.equal(thrown(() => traceUsage({}, { project_id: 'p' })).detail[0].type, 'list_type');
  assert.deepEqual(thrown(() => traceUsage([call('a', null, {}), { id: 'b' }], { project_id: 'p' })).detail[0].loc, ['calls', 1, 'trace_id']);
  assert.equal(thrown(() => traceUsageFromJson('{', { project_id: 'p' }), 400).detail[0].type, 'json_invalid');
  // And the module keeps working.
  assert.deepEqual(traceUsage([], { project_id: 'p' }), { call_usage: {}, unfinished_call_ids: [] });
});
