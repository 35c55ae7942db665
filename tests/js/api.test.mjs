// The package's behaviour at the JS boundary, beyond the fixtures: result
// shape, hostile keys, every error shape, and that errors leave the module
// working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callsUsage, callsUsageFromJson } from 'weave-usage';

const usage = (p, c) => ({ usage: { m: { prompt_tokens: p, completion_tokens: c, requests: 1 } } });
const call = (id, extra = {}) => ({
  id,
  trace_id: 't',
  started_at: '2025-01-01T00:00:00Z',
  ended_at: '2025-01-01T00:00:01Z',
  ...extra,
});
const req = (call_ids, extra = {}) => ({ project_id: 'p', call_ids, ...extra });

/** Throws `run` and returns the error, after checking it is a proper one. */
function thrown(run, status) {
  let error;
  assert.throws(run, (e) => {
    error = e;
    return true;
  });
  assert.ok(error instanceof Error, 'an Error instance');
  assert.equal(error.status, status, error.message);
  assert.ok(Array.isArray(error.detail));
  for (const d of error.detail) assert.deepEqual(Object.keys(d).sort(), ['loc', 'msg', 'type']);
  return error;
}

test('a root absorbs its descendants; results are plain objects', () => {
  const calls = [call('r', { summary: usage(10, 5) }), call('c', { parent_id: 'r', summary: usage(1, 2) }), call('g', { parent_id: 'c', summary: usage(100, 0) })];
  const res = callsUsage(calls, req(['r', 'c', 'missing']));
  assert.deepEqual(Object.keys(res), ['call_usage', 'unfinished_call_ids']);
  assert.equal(Object.getPrototypeOf(res), Object.prototype);
  assert.ok(!(res.call_usage instanceof Map));
  assert.deepEqual(res.call_usage.r.m, {
    requests: 3, prompt_tokens: 111, completion_tokens: 7, total_tokens: 118,
    cache_read_input_tokens: 0, cache_creation_input_tokens: 0,
    prompt_tokens_total_cost: null, completion_tokens_total_cost: null,
    cache_read_input_tokens_total_cost: null, cache_creation_input_tokens_total_cost: null,
  });
  assert.equal(res.call_usage.c.m.prompt_tokens, 101);
  assert.deepEqual(res.call_usage.missing, {});
});

test('ids and model names like __proto__, constructor, toString are ordinary own keys', () => {
  const hostile = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
  const calls = hostile.map((id) => call(id, { trace_id: id, summary: { usage: Object.fromEntries(hostile.map((m) => [m, { prompt_tokens: 1 }])) } }));
  // Object.fromEntries defines own properties, like JSON.parse.
  const res = callsUsage(calls, req(hostile));
  assert.deepEqual(Object.keys(res.call_usage), hostile);
  assert.equal(Object.getPrototypeOf(res.call_usage), Object.prototype, 'prototype untouched');
  for (const id of hostile) {
    assert.ok(Object.hasOwn(res.call_usage, id), id);
    assert.deepEqual(Object.keys(res.call_usage[id]), hostile);
    assert.equal(Object.getPrototypeOf(res.call_usage[id]), Object.prototype);
    assert.equal(res.call_usage[id].__proto__.prompt_tokens, 1);
    assert.equal(res.call_usage[id].toString.total_tokens, 1);
  }
  assert.equal({}.polluted, undefined);
  // The same through the bytes path, where __proto__ arrives as JSON text.
  const viaJson = callsUsageFromJson(calls.map((c) => JSON.stringify(c)).join('\n'), req(hostile));
  assert.deepEqual(JSON.parse(JSON.stringify(viaJson)), JSON.parse(JSON.stringify(res)));
});

test('reads values as JSON.stringify presents them to the server', () => {
  const calls = [
    call('a', { parent_id: undefined, project_id: undefined, started_at: new Date('2025-01-01T00:00:02Z'), ended_at: undefined, summary: { usage: { m: { prompt_tokens: NaN, completion_tokens: Infinity, total_tokens: undefined, requests: 2 } } } }),
    call('b', { started_at: new Date('2025-01-01T00:00:01Z'), inputs: { big: 'x'.repeat(1000) }, output: () => 1 }),
  ];
  const res = callsUsage(calls, req(['a'], { limit: 1 }));
  // NaN and Infinity are null (0); ended_at undefined means unfinished.
  assert.deepEqual(res.call_usage.a, {});
  assert.deepEqual(res.unfinished_call_ids, []);
  const both = callsUsage(calls, req(['a']));
  assert.equal(both.call_usage.a.m.requests, 2);
  assert.equal(both.call_usage.a.m.total_tokens, 0);
  assert.deepEqual(both.unfinished_call_ids, ['a']);
});

test('limit keeps the earliest calls by instant, whatever the offset', () => {
  const calls = [
    call('late', { parent_id: 'root', started_at: '2025-01-01T01:00:00+00:00', summary: usage(1000, 0) }),
    call('early', { parent_id: 'root', started_at: '2025-01-01T02:00:00+02:00', summary: usage(1, 0) }),
    call('root', { started_at: '2024-12-31T23:00:00-01:00', summary: usage(10, 0) }),
  ];
  // root = 00:00Z, early = 00:00Z (id order: early < root), late = 01:00Z.
  const res = callsUsage(calls, req(['root'], { limit: 2 }));
  assert.equal(res.call_usage.root.m.prompt_tokens, 11);
});

test('costs: null without include_costs, summed with it, NaN kept as a number', () => {
  const summary = (cost) => ({ usage: { m: { prompt_tokens: 1 } }, weave: { costs: { m: { prompt_tokens_total_cost: cost, completion_tokens_total_cost: '1e-3' } } } });
  const calls = [call('r', { summary: summary(0.1) }), call('c', { parent_id: 'r', summary: summary(0.2) })];
  assert.equal(callsUsage(calls, req(['r'])).call_usage.r.m.prompt_tokens_total_cost, null);
  const withCosts = callsUsage(calls, req(['r'], { include_costs: true })).call_usage.r.m;
  assert.equal(withCosts.prompt_tokens_total_cost, 0.1 + 0.2);
  assert.equal(withCosts.completion_tokens_total_cost, 0.002);
  const nan = callsUsage([call('r', { summary: summary('nan') })], req(['r'], { include_costs: 'yes' })).call_usage.r.m;
  assert.ok(Number.isNaN(nan.prompt_tokens_total_cost));
  const inf = callsUsageFromJson(JSON.stringify([call('r', { summary: summary('-inf') })]), req(['r'], { include_costs: true })).call_usage.r.m;
  assert.equal(inf.prompt_tokens_total_cost, -Infinity);
});

test('integers beyond 2^53 are summed exactly, then rounded once', () => {
  const body = ['{"id":"r","trace_id":"t","ended_at":"x","summary":{"usage":{"m":{"prompt_tokens":9007199254740993}}}}', '{"id":"c","trace_id":"t","parent_id":"r","ended_at":"x","summary":{"usage":{"m":{"prompt_tokens":9007199254740993}}}}'].join('\n');
  const res = callsUsageFromJson(body, req(['r']));
  assert.equal(res.call_usage.r.m.prompt_tokens, 18014398509481986);
});

test('cycles terminate and calls on them are never absorbed', () => {
  const calls = [call('a', { parent_id: 'b', summary: usage(1, 0) }), call('b', { parent_id: 'a', summary: usage(2, 0) }), call('s', { parent_id: 's', summary: usage(4, 0) }), call('x', { parent_id: 'a', summary: usage(8, 0) })];
  const res = callsUsage(calls, req(['a', 'b', 's']));
  assert.equal(res.call_usage.a.m.prompt_tokens, 9);
  assert.equal(res.call_usage.b.m.prompt_tokens, 2);
  assert.equal(res.call_usage.s.m.prompt_tokens, 4);
});

test('invalid requests: 422 with FastAPI detail, every problem listed', () => {
  const e = thrown(() => callsUsage([], { call_ids: 'a', limit: 0, zz: 1, aa: 2 }), 422);
  assert.deepEqual(e.detail, [
    { loc: ['body', 'project_id'], msg: 'Field required', type: 'missing' },
    { loc: ['body', 'call_ids'], msg: 'Input should be a valid list', type: 'list_type' },
    { loc: ['body', 'limit'], msg: 'Input should be greater than or equal to 1', type: 'greater_than_equal' },
    { loc: ['body', 'zz'], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' },
    { loc: ['body', 'aa'], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' },
  ]);
  assert.match(e.message, /^422: body\.project_id: Field required; /);
  for (const bad of [undefined, null, [], 'x', 7]) {
    const e2 = thrown(() => callsUsage([], bad), 422);
    assert.deepEqual(e2.detail, [{ loc: ['body'], msg: 'Input should be a valid dictionary or instance of CallsUsageReq', type: 'model_type' }]);
  }
  // A NaN limit reaches the server as null.
  assert.equal(thrown(() => callsUsage([], req([], { limit: NaN })), 422).detail[0].type, 'int_type');
});

test('options: omitted, undefined, null or {} are fine; anything else is refused', () => {
  const calls = [call('r', { summary: usage(1, 1) })];
  for (const o of [undefined, null, {}]) assert.equal(callsUsage(calls, req(['r']), o).call_usage.r.m.total_tokens, 2);
  const e = thrown(() => callsUsage(calls, req(['r']), { includeCosts: true }), 422);
  assert.deepEqual(e.detail, [{ loc: ['options', 'includeCosts'], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' }]);
  assert.equal(thrown(() => callsUsageFromJson('', req(['r']), 5), 422).detail[0].loc[0], 'options');
});

test('malformed calls: 422 at ["calls", index, field]', () => {
  const cases = [
    [{ not: 'an array' }, [{ loc: ['calls'], type: 'list_type' }]],
    [[call('ok'), 7], [{ loc: ['calls', 1], type: 'dict_type' }]],
    [[{ trace_id: 5 }], [{ loc: ['calls', 0, 'id'], type: 'missing' }, { loc: ['calls', 0, 'trace_id'], type: 'string_type' }]],
    [[call('a', { parent_id: 1, started_at: false, deleted_at: {} })], [
      { loc: ['calls', 0, 'parent_id'], type: 'string_type' },
      { loc: ['calls', 0, 'started_at'], type: 'string_type' },
      { loc: ['calls', 0, 'deleted_at'], type: 'string_type' },
    ]],
    [[call('a', { summary: [] })], [{ loc: ['calls', 0, 'summary'], type: 'dict_type' }]],
  ];
  for (const [calls, want] of cases) {
    const e = thrown(() => callsUsage(calls, req(['a'])), 422);
    assert.deepEqual(e.detail.map(({ loc, type }) => ({ loc, type })), want, JSON.stringify(calls));
    if (Array.isArray(calls)) {
      const e2 = thrown(() => callsUsageFromJson(calls.map((c) => JSON.stringify(c)).join('\n'), req(['a'])), 422);
      assert.deepEqual(e2.detail, e.detail, 'same error through the bytes path');
    }
  }
});

test('unparsable bodies: 400 naming the line (JSONL) and the byte offset', () => {
  const e = thrown(() => callsUsageFromJson('{"id":"a","trace_id":"t"}\n{"id": nope}\n', req(['a'])), 400);
  assert.deepEqual(e.detail, [{ loc: ['body', 33], msg: 'Invalid JSON at line 2, column 8 (byte 33): invalid literal', type: 'json_invalid' }]);
  assert.match(thrown(() => callsUsageFromJson('[{"id":"a","trace_id":"t"}', req(['a'])), 400).detail[0].msg, /byte 26\): unexpected end of input/);
  const enc = (s) => new TextEncoder().encode(s);
  const withBadByte = (before, after) => new Uint8Array([...enc(before), 0xff, ...enc(after)]);
  assert.equal(thrown(() => callsUsageFromJson(withBadByte('{"', '":1}'), req(['a'])), 400).detail[0].msg, 'Invalid JSON at line 1, column 3 (byte 2): invalid UTF-8');
  // Also inside a value that is skipped, not read.
  assert.match(thrown(() => callsUsageFromJson(withBadByte('{"id":"a","trace_id":"t","inputs":"', '"}'), req(['a'])), 400).detail[0].msg, /\(byte 35\): invalid UTF-8/);
  assert.match(thrown(() => callsUsageFromJson('not json', req(['a'])), 400).detail[0].msg, /line 1, column 1/);
  assert.equal(thrown(() => callsUsageFromJson(42, req(['a'])), 422).detail[0].type, 'bytes_type');
});

test('the request is validated before the body is read', () => {
  assert.equal(thrown(() => callsUsageFromJson('garbage', {}), 422).detail[0].loc[1], 'project_id');
});

test('after any error the module keeps working', () => {
  const calls = [call('r', { summary: usage(3, 4) })];
  for (let i = 0; i < 50; i++) {
    thrown(() => callsUsageFromJson('{', req(['r'])), 400);
    thrown(() => callsUsage([1], req(['r'])), 422);
    thrown(() => callsUsage(calls, {}), 422);
  }
  assert.equal(callsUsage(calls, req(['r'])).call_usage.r.m.total_tokens, 7);
  assert.equal(callsUsageFromJson(new TextEncoder().encode(JSON.stringify(calls)), req(['r'])).call_usage.r.m.total_tokens, 7);
});

test('ArrayBuffer bodies, BOM, CRLF and blank lines', () => {
  const text = '\uFEFF\r\n' + JSON.stringify(call('r', { summary: usage(1, 1) })) + '\r\n\r\n   \r\n';
  const bytes = new TextEncoder().encode(text);
  assert.equal(callsUsageFromJson(bytes.buffer, req(['r'])).call_usage.r.m.total_tokens, 2);
  assert.equal(callsUsageFromJson(text, req(['r'])).call_usage.r.m.total_tokens, 2);
});

test('a body is read for its request: calls before their requested call count too', () => {
  // Each line is a trace's call; `callsUsageFromJson` reads in full only the
  // calls its request reaches, and reads the body again when one it passed
  // over turns out to count (here the root and a sibling, before the
  // requested child, and an earlier copy of a call that counts). The answer
  // is the objects path's, which reads every call, for every body form.
  const calls = [
    call('r', { summary: usage(10, 5) }),
    call('s', { parent_id: 'r', summary: usage(7, 0) }),
    { ...call('g', { parent_id: 'c', summary: usage(3, 3) }), trace_id: 'other' },
    call('x', { trace_id: 'u', summary: usage(1000, 0) }),
    call('c', { parent_id: 'r', summary: usage(1, 2) }),
    call('g', { parent_id: 'c', summary: usage(100, 0) }),
  ];
  const text = calls.map((c) => JSON.stringify(c)).join('\n');
  const bytes = new TextEncoder().encode(text);
  for (const ids of [['c'], ['r'], ['s', 'x'], ['g']]) {
    for (const options of [undefined, { diagnostics: true }]) {
      const want = callsUsage(calls, req(ids), options);
      for (const body of [text, bytes, bytes.buffer]) assert.deepEqual(callsUsageFromJson(body, req(ids), options), want, `${ids} ${typeof body}`);
    }
  }
  assert.equal(callsUsageFromJson(text, req(['c'])).call_usage.c.m.prompt_tokens, 101);
});
