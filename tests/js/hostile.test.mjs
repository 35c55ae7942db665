// Hostile inputs, from JavaScript, through the built package: each test
// names the outcome, a correct answer or an Error with its exact status,
// detail and message. Why each outcome is the right one is written down in
// docs/hostile-inputs.md (and the rules behind it in docs/semantics.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callsUsage, callsUsageFromJson, UsageAccumulator } from 'weave-usage';
import { accumulate, badJson, bytesOf, expectError } from './helpers.mjs';

const enc = new TextEncoder();
const req = (call_ids, extra = {}) => ({ project_id: 'p', call_ids, ...extra });
const line = (id, usage = { prompt_tokens: 1 }, extra = {}) => JSON.stringify({ id, trace_id: 't', ended_at: 'x', summary: { usage: { m: usage } }, ...extra });
const notADict = (index) => [{ loc: ['calls', index], msg: 'Input should be a valid dictionary', type: 'dict_type' }];
/** The usage every path reports for `text` (JSON Lines), which must agree. */
function everyPath(text, request, check) {
  const calls = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  const results = {
    objects: callsUsage(calls, request),
    'JSON Lines bytes': callsUsageFromJson(enc.encode(text), request),
    'JSON array string': callsUsageFromJson(JSON.stringify(calls), request),
    'accumulator, 7-byte chunks': accumulate(UsageAccumulator, enc.encode(text), request, 7),
  };
  for (const [path, res] of Object.entries(results)) check(res, path);
}
const zeros = { requests: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
const noCosts = { prompt_tokens_total_cost: null, completion_tokens_total_cost: null, cache_read_input_tokens_total_cost: null, cache_creation_input_tokens_total_cost: null };

// ---------------------------------------------------------------- names

test('__proto__, constructor, toString… as call ids, trace ids, project id and model names: ordinary own keys, correct sums', () => {
  const names = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'prototype'];
  const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).join();
  // Object.fromEntries (like JSON.parse of fetched data) defines "__proto__" as an own key.
  const byName = (value) => Object.fromEntries(names.map((m) => [m, value]));
  const text = names
    .flatMap((n) => [
      JSON.stringify({ id: n, trace_id: n, project_id: '__proto__', ended_at: 'x', summary: { usage: byName({ prompt_tokens: 1, completion_tokens: 2 }), weave: { costs: byName({ prompt_tokens_total_cost: 0.5 }) } } }),
      JSON.stringify({ id: `${n}.child`, trace_id: n, parent_id: n, ended_at: 'x', summary: { usage: Object.fromEntries([['__proto__', { prompt_tokens: 10 }]]) } }),
    ])
    .join('\n');
  const request = { project_id: '__proto__', call_ids: [...names, '__lookupGetter__'], include_costs: true };
  everyPath(text, request, (res, path) => {
    assert.deepEqual(Object.keys(res.call_usage), [...names, '__lookupGetter__'], path);
    assert.equal(Object.getPrototypeOf(res.call_usage), Object.prototype, path);
    for (const n of names) {
      const usage = res.call_usage[n];
      assert.ok(Object.hasOwn(res.call_usage, n), `${path}: ${n} is an own key`);
      assert.deepEqual(Object.keys(usage), names, `${path}: models of ${n}`);
      assert.equal(Object.getPrototypeOf(usage), Object.prototype);
      const cost = { prompt_tokens_total_cost: 0.5, completion_tokens_total_cost: 0, cache_read_input_tokens_total_cost: 0, cache_creation_input_tokens_total_cost: 0 };
      assert.deepEqual({ ...usage.__proto__ }, { ...zeros, prompt_tokens: 11, completion_tokens: 2, total_tokens: 13, ...cost }, `${path}: ${n}.__proto__`);
      assert.deepEqual({ ...usage.toString }, { ...zeros, prompt_tokens: 1, completion_tokens: 2, total_tokens: 3, ...cost }, `${path}: ${n}.toString`);
    }
    assert.deepEqual(res.call_usage.__lookupGetter__, {});
    assert.deepEqual(res.unfinished_call_ids, []);
  });
  assert.equal(Object.getOwnPropertyNames(Object.prototype).join(), prototypeBefore, 'Object.prototype untouched');
  assert.equal({}.prompt_tokens, undefined);
});

test('inherited properties are not data, as for JSON.stringify: a {__proto__: …} literal, Object.create, a polluted Object.prototype', () => {
  const call = { id: 'a', trace_id: 't', ended_at: 'x', summary: { usage: { __proto__: { prompt_tokens: 5 }, m: { prompt_tokens: 1 } } } };
  const child = Object.assign(Object.create({ parent_id: 'a', summary: { usage: { m: { prompt_tokens: 100 } } } }), { id: 'b', trace_id: 't', ended_at: 'x' });
  const entry = Object.assign(Object.create({ completion_tokens: 7 }), { prompt_tokens: 2 });
  const third = { id: 'c', trace_id: 't', ended_at: 'x', summary: { usage: { m: entry } } };
  const want = { a: { m: { ...zeros, prompt_tokens: 1, total_tokens: 1, ...noCosts } }, b: {}, c: { m: { ...zeros, prompt_tokens: 2, total_tokens: 2, ...noCosts } } };
  assert.deepEqual(callsUsage([call, child, third], req(['a', 'b', 'c'])).call_usage, want);
  // What JSON.stringify sends is exactly what is read.
  assert.deepEqual(callsUsageFromJson(JSON.stringify([call, child, third]), req(['a', 'b', 'c'])).call_usage, want);
  Object.prototype.deleted_at = 'polluted';
  Object.prototype.parent_id = 'a';
  try {
    assert.deepEqual(callsUsage([call, child, third], req(['a', 'b', 'c'])).call_usage, want);
  } finally {
    delete Object.prototype.deleted_at;
    delete Object.prototype.parent_id;
  }
});

test('non-enumerable own properties are not data, as for JSON.stringify (the objects path reads most calls directly)', () => {
  const hidden = (o, k, value) => Object.defineProperty(o, k, { value, enumerable: false, writable: true, configurable: true });
  const root = { id: 'r', trace_id: 't', ended_at: 'x', summary: { usage: { m: { prompt_tokens: 1 } } } };
  // A parent_id JSON.stringify does not send: the call is a root of its own.
  const orphan = hidden({ id: 'o', trace_id: 't', ended_at: 'x', summary: { usage: { m: { prompt_tokens: 10 } } } }, 'parent_id', 'r');
  // A hidden summary and a hidden counter count for nothing.
  const noSummary = hidden({ id: 'n', trace_id: 't', parent_id: 'r', ended_at: 'x' }, 'summary', { usage: { m: { prompt_tokens: 100 } } });
  const entry = hidden({ prompt_tokens: 1000 }, 'completion_tokens', 5);
  const half = { id: 'h', trace_id: 't', parent_id: 'r', ended_at: 'x', summary: { usage: { m: entry } } };
  const calls = [root, orphan, noSummary, half];
  const want = { ...zeros, prompt_tokens: 1001, total_tokens: 1001, ...noCosts };
  const res = callsUsage(calls, req(['r', 'o']));
  assert.deepEqual(res.call_usage.r.m, want);
  assert.equal(res.call_usage.o.m.prompt_tokens, 10);
  assert.deepEqual(callsUsageFromJson(JSON.stringify(calls), req(['r', 'o'])), res, 'what JSON.stringify sends is what is read');
  // Hidden at every level the rollup reads: ended_at (so unfinished), the
  // summary's usage and weave, weave's costs, a cost field.
  const costs = (c) => ({ costs: { m: c } });
  const deep = [
    { id: 'd', trace_id: 'd', ended_at: 'x', summary: { usage: { m: { prompt_tokens: 1 } }, weave: costs(hidden({ prompt_tokens_total_cost: 0.5 }, 'completion_tokens_total_cost', 9)) } },
    hidden({ id: 'e', trace_id: 'd', parent_id: 'd', summary: { usage: { m: { prompt_tokens: 2 } } } }, 'ended_at', 'x'),
    { id: 'f', trace_id: 'd', parent_id: 'd', ended_at: 'x', summary: hidden({ weave: costs({ prompt_tokens_total_cost: 1 }) }, 'usage', { m: { prompt_tokens: 40 } }) },
    { id: 'g', trace_id: 'd', parent_id: 'd', ended_at: 'x', summary: hidden({ usage: { m: { prompt_tokens: 8 } } }, 'weave', costs({ prompt_tokens_total_cost: 70 })) },
    { id: 'h', trace_id: 'd', parent_id: 'd', ended_at: 'x', summary: { usage: { m: { prompt_tokens: 16 } }, weave: hidden({}, 'costs', { m: { prompt_tokens_total_cost: 300 } }) } },
  ];
  const deepRes = callsUsage(deep, req(['d'], { include_costs: true }));
  assert.deepEqual(deepRes.call_usage.d.m, { ...zeros, prompt_tokens: 27, total_tokens: 27, prompt_tokens_total_cost: 0.5, completion_tokens_total_cost: 0, cache_read_input_tokens_total_cost: 0, cache_creation_input_tokens_total_cost: 0 });
  assert.deepEqual(deepRes.unfinished_call_ids, ['e']);
  assert.deepEqual(callsUsageFromJson(JSON.stringify(deep), req(['d'], { include_costs: true })), deepRes, 'what JSON.stringify sends is what is read');
  // A hidden id or trace_id is a missing one, wherever the call is.
  const other = { id: 'z', trace_id: 'elsewhere' };
  expectError(() => callsUsage([root, hidden({ trace_id: 'u' }, 'id', 'q')], req(['r'])), 422, [{ loc: ['calls', 1, 'id'], msg: 'Field required', type: 'missing' }]);
  expectError(() => callsUsage([other, root, hidden({ id: 'q' }, 'trace_id', 'u')], req(['r'])), 422, [{ loc: ['calls', 2, 'trace_id'], msg: 'Field required', type: 'missing' }]);
});

test('the objects path picks every call of a trace however its calls are spread, and every copy of a picked id', () => {
  // Ids as written, UUID-like (distinct sketches), and sharing their last
  // eight characters (sketched alike when as long): the pick's filters must
  // find the same calls either way.
  const forms = {
    short: (s) => s,
    uuid: (s) => `0190f3a4-5b6c-7d8e-9f00-${[...s].map((ch) => ch.charCodeAt(0).toString(16)).join('').padStart(12, '0')}`,
    'shared suffix': (s) => `${s.padEnd(6, '_')}-shared-suffix`,
  };
  for (const [form, f] of Object.entries(forms)) {
    const call = (id, trace, parent, tokens, extra = {}) => ({ id: f(id), trace_id: f(trace), parent_id: parent && f(parent), ended_at: 'x', summary: { usage: { m: { prompt_tokens: tokens } } }, ...extra });
    // Trace t in three runs between calls of other traces; ids that share
    // their last characters with the wanted one; a later copy of a t call in
    // another trace (it replaces the first), and a deleted later copy (it does not).
    const calls = [
      call('root', 't', null, 1),
      call('x-root', 'u', null, 1000),
      call('a', 't', 'root', 10),
      call('b', 'u', 'x-root', 1000),
      call('xroot', 'v', null, 1000),
      call('c', 't', 'a', 100),
      call('c', 'w', null, 5000, { deleted_at: 'y' }),
      call('b2', 't', 'root', 1),
      call('b2', 'v', 'xroot', 7),
    ];
    const root = f('root');
    const res = callsUsage(calls, req([root]));
    assert.equal(res.call_usage[root].m.prompt_tokens, 111, form);
    assert.deepEqual(callsUsageFromJson(JSON.stringify(calls), req([root])), res, form);
    // Reversed, the copies swap roles: the t copies of c and b2 come last and count.
    const reversed = [...calls].reverse();
    const back = callsUsage(reversed, req([root]));
    assert.deepEqual(callsUsageFromJson(JSON.stringify(reversed), req([root])), back, form);
    assert.equal(back.call_usage[root].m.prompt_tokens, 112, form);
  }
});

test('exotic values from JavaScript: a throwing getter, a hole, boxed primitives, a BigInt', () => {
  const getter = { id: 'a', trace_id: 't' };
  Object.defineProperty(getter, 'parent_id', { enumerable: true, get() { throw new Error('boom'); } });
  expectError(() => callsUsage([getter], req(['a'])), 422, [{ loc: ['calls'], msg: 'Input is not JSON-serializable: boom', type: 'json_type' }]);
  // A hole reads as undefined, which JSON.stringify writes as null.
  expectError(() => callsUsage([, { id: 'a', trace_id: 't' }], req(['a'])), 422, notADict(0));
  // A boxed string is written as the string it holds.
  expectError(() => callsUsage([new String('x')], req(['a'])), 422, notADict(0));
  const boxed = callsUsage([{ id: new String('a'), trace_id: 't', summary: { usage: { m: { prompt_tokens: new Number(3) } } } }], req(['a']));
  assert.equal(boxed.call_usage.a.m.prompt_tokens, 3);
  expectError(() => callsUsage([{ id: 'a', trace_id: 't', summary: { usage: { m: { prompt_tokens: 1n } } } }], req(['a'])), 422, [
    { loc: ['calls'], msg: 'Input is not JSON-serializable: Do not know how to serialize a BigInt', type: 'json_type' },
  ]);
  // A request whose call_ids answer differently when read again: the ids
  // validated (read once, by JSON.stringify) are the ids answered for.
  let reads = 0;
  const fickle = { project_id: 'p', get call_ids() { return reads++ ? ['b'] : ['a']; } };
  const both = [JSON.parse(line('a')), JSON.parse(line('b', { prompt_tokens: 2 }, { trace_id: 'u' }))];
  const fickleRes = callsUsage(both, fickle);
  assert.equal(reads, 1, 'call_ids read once');
  assert.deepEqual(Object.keys(fickleRes.call_usage), ['a']);
  assert.equal(fickleRes.call_usage.a.m.prompt_tokens, 1, "the calls of the validated id's trace were picked");
  // A parent_id, trace_id or project_id that is text when first read and a
  // number after: read as that number (not a string), never as the call at
  // that index, which the objects path writes a number there for.
  for (const field of ['parent_id', 'trace_id', 'project_id']) {
    let first = true;
    const shifty = { id: 'b', trace_id: 't', parent_id: 'a', project_id: 'p' };
    Object.defineProperty(shifty, field, { enumerable: true, get: () => (first ? ((first = false), field === 'parent_id' ? 'a' : 'p') : 0) });
    expectError(() => callsUsage([{ id: 'a', trace_id: 't', project_id: 'p' }, shifty], req(['a'])), 422, [{ loc: ['calls', 1, field], msg: 'Input should be a valid string', type: 'string_type' }]);
  }
  // And the module answers normally afterwards.
  assert.equal(callsUsage([JSON.parse(line('a'))], req(['a'])).call_usage.a.m.prompt_tokens, 1);
});

test('toJSON and boxed values where the objects path would write a compact call: read as JSON.stringify sends them, never as a compact call', () => {
  const list = [1, 2, 0, 0, 0, 0, 0, 0];
  const toJSON = (v) => ({ toJSON: () => v });
  const call = (summary, extra = {}) => ({ id: 'a', trace_id: 't', ended_at: 'x', summary, ...extra });
  const cases = {
    'an entry whose toJSON gives an object': [call({ usage: { m: toJSON({ prompt_tokens: 4 }) } })],
    'an entry whose toJSON gives a list': [call({ usage: { m: toJSON(list), n: { prompt_tokens: 1 } } })],
    'an entry that is a list': [call({ usage: { m: list, n: { prompt_tokens: 1 } } })],
    'a boxed number as an entry': [call({ usage: { m: new Number(5), n: { prompt_tokens: 1 } } })],
    'a usage map whose toJSON gives a map': [call({ usage: toJSON({ m: { prompt_tokens: 6 } }) })],
    'a costs map whose toJSON gives a map': [call({ usage: { m: { prompt_tokens: 1 } }, weave: { costs: toJSON({ m: { prompt_tokens_total_cost: 0.5 } }) } })],
    'a cost entry whose toJSON gives a list': [call({ usage: { m: { prompt_tokens: 1 } }, weave: { costs: { m: toJSON([0.5, 0, 0, 0]) } } })],
    'a summary whose toJSON gives a summary': [call(toJSON({ usage: { m: { prompt_tokens: 7 } } }))],
    'a call in a class': [Object.assign(new (class Call {})(), call({ usage: { m: { prompt_tokens: 8 } } }))],
  };
  for (const [what, calls] of Object.entries(cases)) {
    const request = req(['a'], { include_costs: true });
    assert.deepEqual(callsUsage(calls, request), callsUsageFromJson(JSON.stringify(calls), request), what);
  }
  assert.equal(callsUsage(cases['an entry whose toJSON gives an object'], req(['a'])).call_usage.a.m.prompt_tokens, 4);
  assert.deepEqual(Object.keys(callsUsage(cases['an entry whose toJSON gives a list'], req(['a'])).call_usage.a), ['n'], 'a list is no entry');
  // A call that is (or whose toJSON gives) an array shaped like a compact call is no call.
  const shaped = ['a', 't', null, null, null, 'x', null, { m: list }, null];
  for (const calls of [[shaped], [toJSON(shaped)], [call(null), toJSON(shaped)]]) {
    expectError(() => callsUsage(calls, req(['a'])), 422, [{ loc: ['calls', calls.length - 1], msg: 'Input should be a valid dictionary', type: 'dict_type' }]);
    expectError(() => callsUsageFromJson(JSON.stringify(calls), req(['a'])), 422, [{ loc: ['calls', calls.length - 1], msg: 'Input should be a valid dictionary', type: 'dict_type' }]);
  }
});

// ---------------------------------------------------------------- size and depth

const N = 1_000_000;

test('a 1,000,000-deep parent chain: no recursion anywhere, objects and bytes', () => {
  const lines = new Array(N);
  for (let i = 0; i < N; i++) {
    lines[i] = `{"id":"c${i}","trace_id":"t","parent_id":${i ? `"c${i - 1}"` : 'null'},"started_at":"2025-01-01T00:00:00Z"${i < N - 1 ? ',"ended_at":"x"' : ''},"summary":{"usage":{"m":{"prompt_tokens":1,"requests":1}}}}`;
  }
  const text = lines.join('\n');
  const request = req(['c0', 'c500000', `c${N - 1}`], { limit: N });
  const m = (n) => ({ m: { ...zeros, requests: n, prompt_tokens: n, total_tokens: n, ...noCosts } });
  const want = { call_usage: { c0: m(N), c500000: m(N - 500000), [`c${N - 1}`]: m(1) }, unfinished_call_ids: [`c${N - 1}`] };
  const bytes = enc.encode(text);
  lines.length = 0;
  assert.deepEqual(callsUsageFromJson(bytes, request), want, 'bytes');
  assert.deepEqual(accumulate(UsageAccumulator, bytes, request, 1 << 20), want, 'accumulator');
  const calls = text.split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(callsUsage(calls, request), want, 'objects');
});

test('1,000,001 calls in 1,001 traces, bytes and objects; the default limit cuts as the server does', () => {
  const lines = ['{"id":"lonely","trace_id":"alone","summary":{"usage":{"m":{"prompt_tokens":1}}},"ended_at":"x"}'];
  const ids = ['lonely'];
  for (let k = 0; k < 1000; k++) {
    lines.push(`{"id":"r${k}","trace_id":"t${k}","ended_at":"x","summary":{"usage":{"m":{"prompt_tokens":1}}}}`);
    ids.push(`r${k}`);
    for (let j = 0; j < 999; j++) {
      lines.push(`{"id":"r${k}.${j}","trace_id":"t${k}","parent_id":"r${k}","ended_at":"x","summary":{"usage":{"m":{"prompt_tokens":1}}}}`);
      ids.push(`r${k}.${j}`);
    }
  }
  assert.equal(lines.length, 1_000_001);
  const bytes = enc.encode(lines.join('\n'));
  const roots = ['lonely', ...Array.from({ length: 1000 }, (_, k) => `r${k}`)];
  const whole = (n) => (n ? { m: { ...zeros, prompt_tokens: n, total_tokens: n, ...noCosts } } : {});
  const everything = { call_usage: Object.fromEntries(roots.map((r) => [r, whole(r === 'lonely' ? 1 : 1000)])), unfinished_call_ids: [] };
  // No started_at: the server's order is by id; the default limit (10,000) keeps the first ids.
  const kept = new Set([...ids].sort().slice(0, 10_000));
  const count = (r) => (kept.has(r) ? 1 + Array.from({ length: 999 }, (_, j) => `${r}.${j}`).filter((c) => kept.has(c)).length : 0);
  const limited = { call_usage: Object.fromEntries(roots.map((r) => [r, whole(r === 'lonely' ? 1 : count(r))])), unfinished_call_ids: [] };
  assert.deepEqual(callsUsageFromJson(bytes, req(roots, { limit: 2_000_000 })), everything, 'bytes');
  assert.deepEqual(accumulate(UsageAccumulator, bytes, req(roots), 1 << 20), limited, 'accumulator, default limit');
  const calls = lines.map((l) => JSON.parse(l));
  lines.length = 0;
  assert.deepEqual(callsUsage(calls, req(roots, { limit: 2_000_000 })), everything, 'objects');
  assert.deepEqual(callsUsage(calls, req(roots)), limited, 'objects, default limit');
});

test('a request with 100,000 call_ids: each distinct id once, in request order; missing ones {}', () => {
  const lines = [];
  for (let k = 0; k < 100_000; k++) lines.push(`{"id":"c${k}","trace_id":"t${k % 100}","ended_at":"x","summary":{"usage":{"m":{"prompt_tokens":${k}}}}}`);
  const text = lines.join('\n');
  // Every third id is missing, every fifth a duplicate of an earlier one.
  const callIds = Array.from({ length: 100_000 }, (_, i) => (i % 5 === 4 ? `c${i - 4}` : i % 3 === 0 ? `missing${i}` : `c${i}`));
  const distinct = [...new Set(callIds)];
  const check = (res, path) => {
    assert.deepEqual(Object.keys(res.call_usage), distinct, path);
    for (const id of distinct) {
      const k = Number(id.slice(1));
      const want = id.startsWith('missing') || k === 0 ? {} : { m: { ...zeros, prompt_tokens: k, total_tokens: k, ...noCosts } };
      assert.deepEqual(res.call_usage[id], want, `${path}: ${id}`);
    }
  };
  check(callsUsageFromJson(enc.encode(text), req(callIds, { limit: 200_000 })), 'bytes');
  check(callsUsage(lines.map((l) => JSON.parse(l)), req(callIds, { limit: 200_000 })), 'objects');
  // Validation reports every bad item at its index, and only those.
  const bad = [...callIds];
  bad[99_999] = 7;
  bad[50_000] = null;
  expectError(() => callsUsage([], req(bad)), 422, [
    { loc: ['body', 'call_ids', 50000], msg: 'Input should be a valid string', type: 'string_type' },
    { loc: ['body', 'call_ids', 99999], msg: 'Input should be a valid string', type: 'string_type' },
  ]);
});

test('a body that is one huge string (100 MiB): read in one pass, refused as a call or as JSON', () => {
  const huge = 'x'.repeat(100 << 20);
  const text = `"${huge}"`;
  expectError(() => callsUsageFromJson(text, req(['a'])), 422, notADict(0));
  const bytes = enc.encode(text);
  expectError(() => callsUsageFromJson(bytes, req(['a'])), 422, notADict(0));
  expectError(() => accumulate(UsageAccumulator, bytes, req(['a']), 1 << 20), 422, notADict(0));
  expectError(() => callsUsageFromJson(`[${text}]`, req(['a'])), 422, notADict(0));
  // Unterminated: 400 at its very end.
  const open = bytes.subarray(0, bytes.length - 1);
  expectError(() => callsUsageFromJson(open, req(['a'])), 400, badJson(open.length, 1, open.length + 1, 'unterminated string'));
  expectError(() => accumulate(UsageAccumulator, open, req(['a']), 1 << 20), 400, badJson(open.length, 1, open.length + 1, 'unterminated string'));
  // As the `inputs` of a call it is skipped, on both paths.
  const call = { id: 'a', trace_id: 't', ended_at: 'x', inputs: huge, summary: { usage: { m: { prompt_tokens: 2 } } } };
  const want = { call_usage: { a: { m: { ...zeros, prompt_tokens: 2, total_tokens: 2, ...noCosts } } }, unfinished_call_ids: [] };
  assert.deepEqual(callsUsageFromJson(JSON.stringify(call), req(['a'])), want);
  assert.deepEqual(callsUsage([call], req(['a'])), want);
});

test('deeply nested junk (1,000,000 levels) is skipped, never built or recursed into', () => {
  const D = 1_000_000;
  const deepArray = '['.repeat(D) + ']'.repeat(D);
  const deepObject = '{"a":'.repeat(D) + '1' + '}'.repeat(D);
  const want = { call_usage: { a: { m: { ...zeros, prompt_tokens: 3, total_tokens: 3, ...noCosts } } }, unfinished_call_ids: [] };
  for (const junk of [deepArray, deepObject]) {
    const text = `{"id":"a","trace_id":"t","inputs":${junk},"output":${junk},"ended_at":"x","summary":{"junk":${junk},"usage":{"m":{"prompt_tokens":3,"junk":${junk}}},"weave":{"costs":${junk}}}}`;
    assert.deepEqual(callsUsageFromJson(text, req(['a'])), want);
    assert.deepEqual(accumulate(UsageAccumulator, enc.encode(text), req(['a']), 1 << 16), want);
  }
  // Unbalanced junk: 400 at the byte where it goes wrong.
  const broken = `{"id":"a","trace_id":"t","inputs":${'['.repeat(D)}1}`;
  expectError(() => callsUsageFromJson(broken, req(['a'])), 400, badJson(broken.length - 1, 1, broken.length, "expected ',' or ']' after an array element"));

  // Objects: JSON.stringify would throw on such depth (V8: a few thousand
  // levels); the objects path never stringifies anything but the fields read.
  let deep = [];
  let deepObj = {};
  for (let i = 0; i < D; i++) {
    deep = [deep];
    deepObj = { a: deepObj };
  }
  assert.throws(() => JSON.stringify(deep), RangeError);
  const call = { id: 'a', trace_id: 't', ended_at: 'x', inputs: deep, output: deepObj, attributes: { x: deep }, summary: { junk: deep, usage: { m: { prompt_tokens: 3, completion_tokens: deep, junk: deepObj }, n: deep }, weave: { junk: deep, costs: { m: deepObj } } } };
  assert.deepEqual(callsUsage([call], req(['a'])), want);
  // Even a malformed call gets its precise error, not a stack overflow.
  expectError(() => callsUsage([{ trace_id: 't', inputs: deep, summary: deep }], req(['a'])), 422, [
    { loc: ['calls', 0, 'id'], msg: 'Field required', type: 'missing' },
    { loc: ['calls', 0, 'summary'], msg: 'Input should be a valid dictionary', type: 'dict_type' },
  ]);
  expectError(() => callsUsage([{ id: deep, trace_id: deepObj }], req(['a'])), 422, [
    { loc: ['calls', 0, 'id'], msg: 'Input should be a valid string', type: 'string_type' },
    { loc: ['calls', 0, 'trace_id'], msg: 'Input should be a valid string', type: 'string_type' },
  ]);
  // The request is JSON.stringify'd as a whole (it is what the server would
  // receive): junk too deep for that is refused with JSON.stringify's reason.
  expectError(() => callsUsage([call], req(['a'], { junk: deep })), 422, [{ loc: ['body'], msg: 'Input is not JSON-serializable: Maximum call stack size exceeded', type: 'json_type' }]);
  let shallow = [];
  for (let i = 0; i < 1000; i++) shallow = [shallow];
  expectError(() => callsUsage([call], req(['a'], { junk: shallow })), 422, [{ loc: ['body', 'junk'], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' }]);
});

// ---------------------------------------------------------------- numbers

test('NaN, ±Infinity, -0, 2^53+1 and 1e308 as token and cost values in objects: read as JSON.stringify sends them', () => {
  const calls = [
    { id: 'a', trace_id: 't', ended_at: 'x', summary: {
      usage: { m: { prompt_tokens: NaN, completion_tokens: Infinity, requests: -Infinity, cache_read_input_tokens: -0, total_tokens: 2 ** 53 + 1, cache_creation_input_tokens: 1e308 }, gone: { prompt_tokens: NaN, requests: -0 } },
      weave: { costs: { m: { prompt_tokens_total_cost: NaN, completion_tokens_total_cost: 1e308, cache_read_input_tokens_total_cost: -Infinity, cache_creation_input_tokens_total_cost: -0 } } },
    } },
    { id: 'b', trace_id: 't', parent_id: 'a', ended_at: 'x', summary: { usage: { m: { requests: 1 } }, weave: { costs: { m: { completion_tokens_total_cost: 1e308 } } } } },
  ];
  const res = callsUsage(calls, req(['a'], { include_costs: true }));
  assert.deepEqual(Object.keys(res.call_usage.a), ['m'], 'a model with nothing but NaN and -0 is left out');
  assert.deepEqual(res.call_usage.a.m, {
    requests: 1, // -Infinity → null → 0, plus the child's 1
    prompt_tokens: 0, // NaN → null → 0
    completion_tokens: 0, // Infinity → null → 0
    total_tokens: 9007199254740992, // 2**53 + 1 is 2**53 in JavaScript already
    cache_read_input_tokens: 0, // -0 → 0
    cache_creation_input_tokens: 2 ** 127, // int(1e308) saturates at 2**127 - 1, which rounds to 2**127
    prompt_tokens_total_cost: 0, // NaN → null → 0.0
    completion_tokens_total_cost: Infinity, // 1e308 + 1e308 overflows, as Python's float sum does
    cache_read_input_tokens_total_cost: 0, // -Infinity → null → 0.0
    cache_creation_input_tokens_total_cost: 0,
  });
  assert.ok(Object.is(res.call_usage.a.m.cache_creation_input_tokens_total_cost, 0), '-0 is sent as 0');
});

test('NaN and ±Infinity are not JSON: in a body they are 400 at their byte; -0, 2^53+1, 1e308 and 1E400 are read', () => {
  const prefix = '{"id":"a","trace_id":"t","summary":{"usage":{"m":{"prompt_tokens":';
  const at = prefix.length;
  expectError(() => callsUsageFromJson(`${prefix}NaN}}}}`, req(['a'])), 400, badJson(at, 1, at + 1, 'expected a value'));
  expectError(() => callsUsageFromJson(`${prefix}Infinity}}}}`, req(['a'])), 400, badJson(at, 1, at + 1, 'expected a value'));
  expectError(() => callsUsageFromJson(`${prefix}-Infinity}}}}`, req(['a'])), 400, badJson(at + 1, 1, at + 2, 'invalid number'));
  const body = (v) => `${prefix}${v}}}}}`;
  const read = (v) => callsUsageFromJson(body(v), req(['a'])).call_usage.a.m?.prompt_tokens ?? 0;
  assert.equal(read('-0'), 0);
  assert.equal(read('-0.0'), 0);
  assert.equal(read('9007199254740993'), 9007199254740992, 'exact, then rounded once by JSON.parse');
  assert.equal(read('1e308'), 2 ** 127, 'int(1e308) saturates');
  assert.equal(read('1E400'), 0, 'an infinite float is no integer (Python raises): 0');
  assert.equal(read('-1e308'), -(2 ** 127));
  assert.equal(read('2.9'), 2);
  assert.equal(read('-2.9'), -2);
});

test('sums beyond 2^53: integers add exactly (to ±2^127, then saturate) and are rounded once, to the nearest double', () => {
  // Objects: 2^53 + 1 + 1 exactly is 9007199254740994; adding doubles one at a time would give 2^53.
  const calls = [
    { id: 'r', trace_id: 't', ended_at: 'x', summary: { usage: { m: { prompt_tokens: 2 ** 53 } } } },
    { id: 'c1', trace_id: 't', parent_id: 'r', ended_at: 'x', summary: { usage: { m: { prompt_tokens: 1 } } } },
    { id: 'c2', trace_id: 't', parent_id: 'r', ended_at: 'x', summary: { usage: { m: { prompt_tokens: 1 } } } },
  ];
  assert.equal(2 ** 53 + 1 + 1, 2 ** 53, 'JavaScript alone loses both ones');
  assert.equal(callsUsage(calls, req(['r'])).call_usage.r.m.prompt_tokens, 9007199254740994);
  assert.equal(callsUsageFromJson(JSON.stringify(calls), req(['r'])).call_usage.r.m.prompt_tokens, 9007199254740994);

  const sum = (...values) => {
    const text = values.map((v, i) => `{"id":"c${i}","trace_id":"t",${i ? '"parent_id":"c0",' : ''}"ended_at":"x","summary":{"usage":{"m":{"prompt_tokens":${v}}}}}`).join('\n');
    return callsUsageFromJson(text, req(['c0'])).call_usage.c0.m?.prompt_tokens ?? 0;
  };
  // Exact 18014398509481986 is a tie between two doubles: JSON.parse picks the even one.
  assert.equal(sum('9007199254740993', '9007199254740993'), 18014398509481984);
  assert.equal(sum('9007199254740993', '1'), 9007199254740994, 'literals beyond 2^53 are read exactly');
  // Numeric strings beyond i64, as Python's int() reads them.
  assert.equal(sum('"9223372036854775807"', '"1"'), 2 ** 63);
  assert.equal(sum('"99999999999999999999"', '1'), 1e20);
  assert.equal(sum('" 1_000 "', '"1e3"', '"1.5"', '"٣"'), 1003, '"1e3" and "1.5" are not integers to int(); Arabic-Indic digits are');
  // At ±2^127 the sum saturates (Python's would grow; the JS number is ±1.7e38 either way).
  const max = '170141183460469231731687303715884105727';
  assert.equal(sum(`"${max}"`, '"1"'), 2 ** 127);
  assert.equal(sum(`"-${max}"`, '"-1"', '"-1"'), -(2 ** 127));
  assert.equal(sum(`"${max}"`, `"-${max}"`), 0, 'saturation only at the bounds: max + (-max) is exact');
  // CPython refuses strings of more than 4300 digits: 0.
  assert.equal(sum(`"${'9'.repeat(4300)}"`), 2 ** 127);
  assert.equal(sum(`"${'9'.repeat(4301)}"`), 0);
  // total_tokens falls back to prompt + completion, saturating too.
  const text = `{"id":"a","trace_id":"t","summary":{"usage":{"m":{"prompt_tokens":"${max}","completion_tokens":"${max}"}}}}`;
  assert.equal(callsUsageFromJson(text, req(['a'])).call_usage.a.m.total_tokens, 2 ** 127);
});

// ---------------------------------------------------------------- encoding and framing

test('invalid UTF-8: 400 at the first bad byte (line, column in characters), wherever it is, whatever the chunking', () => {
  const first = line('a') + '\n';
  const cases = [
    ['a stray 0xFF in a string', [first, '{"id":"é', [0xff], '","trace_id":"t"}'], first.length + 9, 2, 9, 'invalid UTF-8'],
    ['a lead byte without its continuation', [first, '{"id":"', [0xc3], '","trace_id":"t"}'], first.length + 7, 2, 8, 'invalid UTF-8'],
    ['an overlong encoding of "/"', [first, '{"id":"', [0xc0, 0xaf], '","trace_id":"t"}'], first.length + 7, 2, 8, 'invalid UTF-8'],
    ['a UTF-16 surrogate encoded as UTF-8', [first, '{"id":"', [0xed, 0xa0, 0x80], '","trace_id":"t"}'], first.length + 7, 2, 8, 'invalid UTF-8'],
    ['inside a value that is skipped, not read', [first, '{"id":"b","trace_id":"t","inputs":"', [0xfe], '"}'], first.length + 35, 2, 36, 'invalid UTF-8'],
    ['outside any string', [first, '{"id":"b",', [0xff], '}'], first.length + 10, 2, 11, 'expected a string key'],
  ];
  for (const [what, parts, at, lineNo, column, msg] of cases) {
    const bytes = bytesOf(...parts);
    expectError(() => callsUsageFromJson(bytes, req(['a'])), 400, badJson(at, lineNo, column, msg));
    for (const size of [1, 3, 64]) expectError(() => accumulate(UsageAccumulator, bytes, req(['a']), size), 400, badJson(at, lineNo, column, msg));
    void what;
  }
  // Not UTF-8 at all (UTF-16 with its BOM): 400 at byte 0.
  expectError(() => callsUsageFromJson(new Uint8Array([0xff, 0xfe, 0x7b, 0x00]), req(['a'])), 400, badJson(0, 1, 1, 'expected a value'));
});

test('a string body is read as TextEncoder would encode it, whatever its characters and wherever the first non-ASCII one falls', () => {
  const pieces = ['a', 'b', ' ', 'é', 'ß', '€', '中', '😀', '\u{10FFFF}', '\uD800', '\uDC00', '\uFFFD'];
  let seed = 7;
  const rand = (n) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let k = 0; k < 200; k++) {
    const name = Array.from({ length: rand(12) }, () => pieces[rand(pieces.length)]).join('');
    const pad = 'x'.repeat(rand(40));
    const text = JSON.stringify([{ id: 'a', trace_id: pad, ended_at: 'x', summary: { usage: { [name]: { prompt_tokens: 1 } } } }]);
    assert.deepEqual(callsUsageFromJson(text, req(['a'])), callsUsageFromJson(enc.encode(text), req(['a'])), JSON.stringify(name));
  }
});

test('a string body crosses into wasm 4 MiB at a time: characters of every UTF-8 length (and a lone surrogate) across that edge read whole', () => {
  const edge = 4 << 20;
  const name = 'é€😀\uD800中ß😀€é';
  for (let shift = 0; shift < 12; shift++) {
    const head = `${JSON.stringify({ id: 'a', trace_id: 't', ended_at: 'x', inputs: '' }).slice(0, -2)}`;
    const tail = `"}\n{"id":"b","trace_id":"t","parent_id":"a","ended_at":"x","summary":{"usage":{"`;
    // All ASCII up to the name, so its first character starts at byte `start`.
    const start = edge - 10 + shift;
    const text = `${head}${'x'.repeat(start - head.length - tail.length)}${tail}${name}":{"prompt_tokens":3}}}}\n`;
    assert.equal(text.indexOf(name), start);
    const res = callsUsageFromJson(text, req(['a']));
    assert.deepEqual(Object.keys(res.call_usage.a), [name.replace('\uD800', '\uFFFD')], `shift ${shift}`);
    assert.equal(Object.values(res.call_usage.a)[0].prompt_tokens, 3);
    assert.deepEqual(res, callsUsageFromJson(enc.encode(text), req(['a'])), `shift ${shift}: as its TextEncoder bytes`);
  }
});

test('lone surrogates in JS strings (not Unicode) become U+FFFD, as TextEncoder makes them', () => {
  const calls = [{ id: 'a\uD800', trace_id: 't', ended_at: 'x', summary: { usage: { 'm\uDC00': { prompt_tokens: 1 } } } }];
  const res = callsUsage(calls, req(['a\uD800']));
  assert.deepEqual(Object.keys(res.call_usage), ['a\uFFFD']);
  assert.deepEqual(Object.keys(res.call_usage['a\uFFFD']), ['m\uFFFD']);
  assert.deepEqual(callsUsageFromJson(JSON.stringify(calls), req(['a\uD800'])), res, 'the string body the same way');
  // So an id with a lone surrogate and its U+FFFD twin are one id.
  assert.equal(callsUsage(calls, req(['a\uFFFD'])).call_usage['a\uFFFD']['m\uFFFD'].prompt_tokens, 1);
});

test('a UTF-8 byte order mark: skipped at the start (bytes, string, array, split across chunks); anywhere else it is 400', () => {
  const text = `${line('a')}\n${line('b', { prompt_tokens: 2 }, { parent_id: 'a' })}\n`;
  const want = { call_usage: { a: { m: { ...zeros, prompt_tokens: 3, total_tokens: 3, ...noCosts } } }, unfinished_call_ids: [] };
  const withBom = bytesOf([0xef, 0xbb, 0xbf], text);
  assert.deepEqual(callsUsageFromJson(withBom, req(['a'])), want);
  assert.deepEqual(callsUsageFromJson('\uFEFF' + text, req(['a'])), want);
  assert.deepEqual(callsUsageFromJson(bytesOf([0xef, 0xbb, 0xbf], ' [', text.trim().split('\n').join(','), ']'), req(['a'])), want);
  for (const size of [1, 2, 4]) assert.deepEqual(accumulate(UsageAccumulator, withBom, req(['a']), size), want, `chunks of ${size}`);
  // A second BOM, or one on a later line, is not white space.
  expectError(() => callsUsageFromJson(bytesOf([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf], text), req(['a'])), 400, badJson(3, 1, 2, 'expected a value'));
  const at = line('a').length + 1;
  expectError(() => callsUsageFromJson(bytesOf(line('a'), '\n', [0xef, 0xbb, 0xbf], line('b')), req(['a'])), 400, badJson(at, 2, 1, 'expected a value'));
  // Only a whole BOM is one: its first two bytes alone are not JSON.
  expectError(() => callsUsageFromJson(new Uint8Array([0xef, 0xbb]), req(['a'])), 400, badJson(0, 1, 1, 'expected a value'));
});

test('CRLF line endings are fine; lines are counted by LF; a lone CR is no line break', () => {
  const calls = [JSON.parse(line('a')), JSON.parse(line('b', { prompt_tokens: 2 }, { parent_id: 'a' }))];
  const want = { call_usage: { a: { m: { ...zeros, prompt_tokens: 3, total_tokens: 3, ...noCosts } } }, unfinished_call_ids: [] };
  const crlf = calls.map((c) => JSON.stringify(c)).join('\r\n') + '\r\n';
  assert.deepEqual(callsUsageFromJson(crlf, req(['a'])), want);
  assert.deepEqual(callsUsageFromJson(JSON.stringify(calls, null, 2).replaceAll('\n', '\r\n'), req(['a'])), want, 'a pretty array with CRLF');
  assert.deepEqual(callsUsageFromJson(JSON.stringify(calls[0], null, 2).replaceAll('\n', '\r\n') + '\r\n' + JSON.stringify(calls[1]), req(['a'])), want, 'a JSON Lines value spanning CRLF lines');
  const third = `${crlf}{"id":"c","trace_id":1}\r\n`;
  expectError(() => callsUsageFromJson(third, req(['a'])), 422, [{ loc: ['calls', 2, 'trace_id'], msg: 'Input should be a valid string', type: 'string_type' }]);
  const broken = `${crlf}{"id":}\r\n`;
  expectError(() => callsUsageFromJson(broken, req(['a'])), 400, badJson(crlf.length + 6, 3, 7, 'expected a value'));
  const cr = line('a') + '\r' + line('b');
  expectError(() => callsUsageFromJson(cr, req(['a'])), 400, badJson(line('a').length + 1, 1, line('a').length + 2, 'expected a line break after the value'));
  // A raw CR inside a string is a control character.
  expectError(() => callsUsageFromJson('{"id":"a\rb","trace_id":"t"}', req(['a'])), 400, badJson(8, 1, 9, 'control character in a string'));
});

test('blank and white-space-only lines are skipped (and not counted as calls); other white space is not JSON', () => {
  const text = `\n \t\r\n${line('a')}\n\n   \n\t\n${line('b', { prompt_tokens: 2 }, { parent_id: 'a' })}\n \n\r\n`;
  const want = { call_usage: { a: { m: { ...zeros, prompt_tokens: 3, total_tokens: 3, ...noCosts } } }, unfinished_call_ids: [] };
  assert.deepEqual(callsUsageFromJson(text, req(['a'])), want);
  assert.deepEqual(accumulate(UsageAccumulator, enc.encode(text), req(['a']), 3), want);
  assert.deepEqual(callsUsageFromJson(' \n\t\r\n ', req(['a'])), { call_usage: { a: {} }, unfinished_call_ids: [] }, 'only blank lines: no calls');
  assert.deepEqual(callsUsageFromJson('', req(['a'])), { call_usage: { a: {} }, unfinished_call_ids: [] }, 'empty: no calls');
  // The call after three blank lines is calls[1].
  expectError(() => callsUsageFromJson(`${line('a')}\n\n\n\n{"id":"b"}`, req(['a'])), 422, [{ loc: ['calls', 1, 'trace_id'], msg: 'Field required', type: 'missing' }]);
  const at = line('a').length + 1;
  for (const space of ['\f', '\v', '\u00a0', '\u2028']) {
    expectError(() => callsUsageFromJson(`${line('a')}\n${space}\n${line('b')}`, req(['a'])), 400, badJson(at, 2, 1, 'expected a value'));
  }
});

test('a JSON Lines line (or array element) that is not an object: 422 at its index', () => {
  for (const value of ['7', '"x"', '[]', 'null', 'true', '[{"id":"b","trace_id":"t"}]']) {
    const text = `${line('a')}\n\n${value}\n${line('c')}`;
    expectError(() => callsUsageFromJson(text, req(['a'])), 422, notADict(1));
    expectError(() => accumulate(UsageAccumulator, enc.encode(text), req(['a']), 5), 422, notADict(1));
    expectError(() => callsUsageFromJson(`[${line('a')},${value},${line('c')}]`, req(['a'])), 422, notADict(1));
    expectError(() => callsUsage([JSON.parse(line('a')), JSON.parse(value), JSON.parse(line('c'))], req(['a'])), 422, notADict(1));
  }
  // Two values on one line are not JSON Lines.
  expectError(() => callsUsageFromJson(`${line('a')} ${line('c')}`, req(['a'])), 400, badJson(line('a').length + 1, 1, line('a').length + 2, 'expected a line break after the value'));
});

test('a truncated last line: 400 at the very end, naming its line, at every cut and in any chunking', () => {
  const head = `${line('a')}\n`;
  const last = '{"id":"b","trace_id":"t","started_at":"2025-01-01T00:00:00Z","summary":{"usage":{"m":{"prompt_tokens":12,"x":[true,null,-1.5e3,"\\u00e9"]}}},"ended_at":null}';
  const reasons = new Set(['unexpected end of input', 'unterminated string', 'invalid number', 'expected a string key', "expected ':' after an object key", "expected ',' or '}' after an object member", "expected ',' or ']' after an array element"]);
  const seen = new Set();
  const ok = { call_usage: { a: { m: { ...zeros, prompt_tokens: 1, total_tokens: 1, ...noCosts } } }, unfinished_call_ids: ['b'] };
  for (let cut = 1; cut <= last.length; cut++) {
    const bytes = enc.encode(head + last.slice(0, cut));
    if (cut === last.length) {
      // Complete: no final line break is needed.
      assert.deepEqual(callsUsageFromJson(bytes, req(['a'])), ok);
      continue;
    }
    let error;
    try {
      callsUsageFromJson(bytes, req(['a']));
    } catch (e) {
      error = e;
    }
    const reason = error?.detail?.[0]?.msg?.split('): ')[1];
    assert.ok(reasons.has(reason), `cut ${cut}: ${error?.message}`);
    seen.add(reason);
    const detail = badJson(bytes.length, 2, cut + 1, reason);
    expectError(() => callsUsageFromJson(bytes, req(['a'])), 400, detail);
    for (const size of [1, 7, 64]) expectError(() => accumulate(UsageAccumulator, bytes, req(['a']), size), 400, detail);
  }
  assert.equal(seen.size, reasons.size, 'every kind of cut was met');
});

test('a truncated array: 400 at its end, also when its last call arrives whole in a later chunk', () => {
  const body = `[${line('a')},\n ${line('b')}`;
  const detail = badJson(body.length, 2, body.length - line('a').length - 2, 'unexpected end of input');
  expectError(() => callsUsageFromJson(body, req(['a'])), 400, detail);
  // The last call cut in two, its end pushed alone: the error is the same
  // (this once named a byte past the end, found by the stream fuzzer).
  const bytes = enc.encode(body);
  for (const cut of [body.length - 1, body.length - 5, line('a').length + 4]) {
    const acc = new UsageAccumulator();
    try {
      acc.push(bytes.subarray(0, cut));
      acc.push(bytes.subarray(cut));
      expectError(() => acc.finish(req(['a'])), 400, detail);
    } finally {
      acc.free();
    }
  }
  expectError(() => callsUsageFromJson(`[${line('a')},`, req(['a'])), 400, badJson(line('a').length + 2, 1, line('a').length + 3, 'unexpected end of input'));
  expectError(() => callsUsageFromJson('[', req(['a'])), 400, badJson(1, 1, 2, 'unexpected end of input'));
});
