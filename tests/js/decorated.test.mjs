// The objects path reads calls as the JSON a client would send:
// `callsUsage(calls, req)` must equal `callsUsageFromJson(JSON.stringify(calls), req)`
// (or both throw the same error), and `traceUsage` must equal
// `traceUsageFromJson` alike, whatever JavaScript values the calls hold.
//
// A property test over thousands of call lists (the reference fixtures and
// random forests) decorated at every level with values that JSON.stringify
// sends otherwise than they are held: Dates, boxed primitives, toJSON
// (checking the key it is called with), getters, symbols, undefined and
// function members, prototype-less objects, class instances, non-enumerable
// and inherited properties, holes. Then the cases that were once wrong.
//
// A failure prints its seed; `WEAVE_SEED=<seed> node --test
// tests/js/decorated.test.mjs` runs that list alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callsUsage, callsUsageFromJson, traceUsage, traceUsageFromJson } from 'weave-usage';
import { expectError, fixtures } from './helpers.mjs';

/** A deterministic generator (xorshift32). */
function rng(seed) {
  let x = seed | 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  return { int: (n) => next() % n, pick: (a) => a[next() % a.length], chance: (p) => next() / 2 ** 32 < p };
}

// ------------------------------------------------------------ decorations

/** Class instances: fields as own properties, methods and decoys on the prototype. */
class Plain {}
class WithDecoys {
  // Inherited, so never sent.
  get id() {
    return 'inherited';
  }
  get summary() {
    return { usage: { inherited: { prompt_tokens: 1000 } } };
  }
}
/** The key each toJSON below expects, by object. */
const expected = new WeakMap();
class Serialised {
  toJSON(key) {
    return key === expected.get(this) ? Object.fromEntries(Object.entries(this)) : `wrong key ${key}`;
  }
}

/** A boxed number of a class of its own. */
class Counter extends Number {}

/** A class whose toJSON gives the value it holds (not an own enumerable property). */
class Held {
  constructor(v, key) {
    Object.defineProperty(this, 'held', { value: v });
    expected.set(this, key);
  }
  toJSON(key) {
    return key === expected.get(this) ? this.held : `wrong key ${key}`;
  }
}

const define = (o, k, desc) => Object.defineProperty(o, k, { configurable: true, ...desc });

/**
 * `v` (JSON data held at member `key` of its holder) decorated at every
 * level: `p` is the chance of a decoration that JSON.stringify writes as `v`
 * (or nearly: a Date's ISO string for an instant), `q` of one that it
 * writes as something else (`v` dropped, hidden or replaced).
 */
function decorate(r, odds, v, key) {
  const { p, q } = odds;
  if (Array.isArray(v)) {
    const out = v.map((x, i) => decorate(r, odds, x, String(i)));
    // A hole is written as null.
    for (let i = 0; i < out.length; i++) if (out[i] === null && r.chance(p)) delete out[i];
    return wrap(r, odds, out, key);
  }
  if (v !== null && typeof v === 'object') {
    const kind = r.chance(p) ? 1 + r.int(5) : 0;
    // The last: an object that only looks like a boxed primitive (it holds none).
    const o = kind === 0 ? {} : kind === 1 ? Object.create(null) : kind === 2 ? new Plain() : kind === 3 ? new WithDecoys() : kind === 4 ? new Serialised() : Object.create(r.pick([Number, String, Boolean]).prototype);
    if (kind === 4) expected.set(o, key);
    for (const [k, x] of Object.entries(v)) {
      const d = decorate(r, odds, x, k);
      if (r.chance(q)) define(o, k, { enumerable: false, value: d });
      else if (r.chance(p)) define(o, k, { enumerable: true, get: () => d });
      // (Set where it can be: defining is slow, and a setter-less accessor of WithDecoys refuses a set.)
      else if (kind === 3 || k === '__proto__') define(o, k, { enumerable: true, writable: true, value: d });
      else o[k] = d;
    }
    // Members JSON.stringify leaves out.
    const hidden = r.pick(['id', 'trace_id', 'parent_id', 'summary', 'usage', 'weave', 'costs', 'prompt_tokens', 'deleted_at', 'hidden']);
    if (r.chance(p) && !Object.hasOwn(o, hidden)) define(o, hidden, { enumerable: false, value: r.pick(['hidden', 7, null, { usage: {} }]) });
    if (r.chance(p)) o[Symbol(key)] = 'a symbol key';
    const extra = r.pick(['extra', 'parent_id', 'deleted_at', 'usage', 'costs', 'prompt_tokens']);
    if (r.chance(p) && !Object.hasOwn(o, extra)) define(o, extra, { enumerable: true, writable: true, value: r.pick([undefined, () => 'a function', Symbol('a symbol value')]) });
    return wrap(r, odds, o, key);
  }
  return wrap(r, odds, v, key);
}

const instant = (s) => typeof s === 'string' && /^\d{4}-\d\d-\d\dT/.test(s) && !Number.isNaN(Date.parse(s));

/** `v` replaced, now and then, by something JSON.stringify writes as `v`
 * (chance `p`) or as something else (chance `q`). */
function wrap(r, { p, q }, v, key) {
  if (r.chance(q)) {
    switch (r.int(4)) {
      case 0:
        return new Date(r.pick([0, 1.7e12 + r.int(1e9), NaN]));
      case 1:
        return r.pick([undefined, () => v, Symbol('instead')]);
      case 2: {
        const other = r.pick([undefined, 3, 'text', [v], { v }, null]);
        return { toJSON: () => other };
      }
      default:
        return r.pick([NaN, Infinity, -0, true, 'text', [], {}]);
    }
  }
  if (!r.chance(p)) return v;
  switch (r.int(3)) {
    case 0: {
      // A toJSON that gives `v` when called with this member's key, own or inherited.
      const toJSON = (k) => (k === key ? v : `wrong key ${k}`);
      return r.chance(0.3) ? Object.assign(Object.create({ toJSON }), { id: 'own, but not sent' }) : { toJSON };
    }
    case 1:
      // Written as null.
      if (v === null) return r.pick([NaN, Infinity, -Infinity]);
      if (typeof v === 'string') return instant(v) && r.chance(0.5) ? new Date(v) : new String(v);
      if (typeof v === 'number') return r.chance(0.8) ? new Number(v) : new Counter(v);
      if (typeof v === 'boolean') return new Boolean(v);
      return v;
    default:
      return new Held(v, key);
  }
}

/** A call list with its calls and every field decorated; holes now and then. */
function decorateCalls(r, odds, calls) {
  const out = calls.map((c, i) => decorate(r, odds, c, String(i)));
  for (let i = 0; i < out.length; i++) if (r.chance(odds.q / 10)) delete out[i];
  return out;
}

// ------------------------------------------------------------ call lists

const IDS = ['a', 'b', 'c', 'd', 'e', 'f', '__proto__', 'toString', ''];
const MODELS = ['gpt-4o', 'claude', 'constructor'];
const STARTS = ['2025-01-01T00:00:00Z', '2025-01-01T01:00:00+01:00', '2025-01-01T00:00:00.5Z', '2025-01-02T00:00:00.123456Z', 'not a time', null];
const VALUES = [0, 1, 2, 3, 7, '4', ' 5 ', 2.9, true, null, 'x'];

/** A random forest as JSON data: a few traces, duplicate ids, deleted calls, another project. */
function forest(r) {
  const calls = [];
  for (let n = r.int(20); n > 0; n--) {
    const usage = {};
    const costs = {};
    for (let k = r.int(3); k > 0; k--) {
      const m = r.pick(MODELS);
      usage[m] = { requests: r.pick(VALUES), prompt_tokens: r.pick(VALUES), completion_tokens: r.pick(VALUES), input_tokens: r.pick(VALUES), output_tokens: r.pick(VALUES) };
      costs[m] = { prompt_tokens_total_cost: r.pick([0.1, 0.25, '1e-3', 0, null]), completion_tokens_total_cost: r.pick([0.01, 0, true]) };
    }
    const c = {
      id: r.pick(IDS),
      trace_id: r.pick(['t1', 't2', 't3']),
      parent_id: r.chance(0.8) ? r.pick(IDS) : null,
      started_at: r.pick(STARTS),
      ended_at: r.chance(0.7) ? '2025-01-02T00:00:00Z' : null,
      summary: { usage, weave: { costs, status: 'success' } },
      inputs: { messages: [{ role: 'user', content: 'hello' }] },
    };
    if (r.chance(0.1)) c.deleted_at = '2025-01-03T00:00:00Z';
    if (r.chance(0.3)) c.project_id = r.pick(['p', 'p', 'other']);
    calls.push(c);
  }
  return calls;
}

/** Another copy of a random call, with other usage, at a random place. */
function withDuplicate(r, calls) {
  if (calls.length === 0) return calls;
  const copy = structuredClone(r.pick(calls));
  copy.summary = { usage: { [r.pick(MODELS)]: { prompt_tokens: 100 + r.int(100) } } };
  if (r.chance(0.3)) copy.trace_id = r.pick(['t1', 't2', 'elsewhere']);
  const out = [...calls];
  out.splice(r.int(out.length + 1), 0, copy);
  return out;
}

const idsOf = (calls) => calls.flatMap((c) => (typeof c?.id === 'string' ? [c.id] : []));
const tracesOf = (calls) => calls.flatMap((c) => (typeof c?.trace_id === 'string' ? [c.trace_id] : []));

/** What a function gives: its answer, or the error's status, detail and message. */
function outcome(run) {
  try {
    return { answer: run() };
  } catch (e) {
    return { status: e.status, detail: e.detail, message: e.message };
  }
}

const seedOnly = process.env.WEAVE_SEED === undefined ? null : Number(process.env.WEAVE_SEED);

/**
 * One seeded case: a call list (fixture `base` or a random forest),
 * decorated, asked for random roots (fixture requests too) on both
 * endpoints (`pollute`: with Object.prototype polluted meanwhile). Returns
 * how it went, for the counts below; throws with the seed on a
 * difference.
 */
function check(seed, base, request, pollute = false) {
  const r = rng(seed);
  let data = base ?? forest(r);
  if (r.chance(0.4)) data = withDuplicate(r, data);
  const p = r.pick([0.03, 0.1, 0.25]);
  const odds = { p, q: r.chance(0.3) ? p / 4 : 0 };
  const calls = decorateCalls(r, odds, data);
  const ids = idsOf(data);
  const traces = tracesOf(data);
  const pickIds = (k) => Array.from({ length: k }, () => (r.chance(0.9) && ids.length ? r.pick(ids) : 'missing'));
  const req = request && r.chance(0.5) ? request : { project_id: r.chance(0.9) === (base === null) ? 'p' : 'acme/agents', call_ids: pickIds(1 + r.int(4)), include_costs: r.chance(0.5), ...(r.chance(0.3) ? { limit: 1 + r.int(30) } : {}) };
  const filter = r.pick([null, { trace_ids: traces.length ? [r.pick(traces)] : ['t1'] }, { call_ids: pickIds(1 + r.int(3)) }]);
  const treq = { project_id: req.project_id ?? 'p', filter, include_costs: r.chance(0.5), ...(r.chance(0.3) ? { limit: 1 + r.int(30) } : {}) };

  const text = JSON.stringify(calls);
  // With Object.prototype polluted by a name that is read: inherited, so
  // not sent (and every call is read the long way).
  const polluted = pollute ? r.pick(['summary', 'usage', 'costs', 'prompt_tokens', 'parent_id', 'id', 'trace_id']) : null;
  const pollution = { usage: { m: { prompt_tokens: 1e6 } } };
  const pairs = {
    callsUsage: [() => callsUsage(calls, req), () => callsUsageFromJson(text, req)],
    traceUsage: [() => traceUsage(calls, treq), () => traceUsageFromJson(text, treq)],
  };
  const seen = {};
  for (const [name, [objects, json]] of Object.entries(pairs)) {
    const want = outcome(json);
    if (polluted !== null) Object.prototype[polluted] = pollution;
    let got;
    try {
      got = outcome(objects);
    } finally {
      delete Object.prototype[polluted];
    }
    try {
      assert.deepEqual(got, want);
    } catch (e) {
      e.message = `seed ${seed} (WEAVE_SEED=${seed}), ${name}: objects and JSON differ\n${e.message}`;
      throw e;
    }
    seen[name] = want.answer === undefined ? 'error' : Object.values(want.answer.call_usage).some((m) => Object.keys(m).length > 0) ? 'usage' : 'empty';
  }
  return seen;
}

/** `lists` seeded cases from the `from`-th on, half of them fixtures, half
 * random forests; asserts that most are answered with usage, and some
 * are errors, or the comparison would prove little. */
function checkMany(lists, from, pollute) {
  const withCalls = fixtures().filter((f) => f.calls.length > 0);
  const counts = { callsUsage: { usage: 0, empty: 0, error: 0 }, traceUsage: { usage: 0, empty: 0, error: 0 } };
  for (let k = from; k < from + lists; k++) {
    const seed = ((k + 1) * 2654435761) >>> 0;
    if (seedOnly !== null && seed !== seedOnly) continue;
    const f = k % 2 === 0 ? withCalls[(k / 2) % withCalls.length] : null;
    let seen;
    try {
      seen = check(seed, f?.calls ?? null, f?.request ?? null, pollute);
    } catch (e) {
      if (!String(e.message).startsWith('seed ')) e.message = `seed ${seed} (WEAVE_SEED=${seed}): ${e.message}`;
      throw e;
    }
    for (const [name, how] of Object.entries(seen)) counts[name][how]++;
  }
  if (seedOnly !== null) return;
  for (const [name, c] of Object.entries(counts)) {
    assert.ok(c.usage > lists / 3, `${name}: answers with usage ${JSON.stringify(c)}`);
    assert.ok(c.error > lists / 50, `${name}: errors ${JSON.stringify(c)}`);
  }
}

test('callsUsage and traceUsage on decorated calls equal the JSON endpoints on JSON.stringify(calls): 3,000 seeded lists', () => {
  checkMany(3000, 0, false);
});

// ------------------------------------------------------------ the cases once wrong

const zeros = { requests: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
const noCosts = { prompt_tokens_total_cost: null, completion_tokens_total_cost: null, cache_read_input_tokens_total_cost: null, cache_creation_input_tokens_total_cost: null };
const tokens = (n) => ({ m: { ...zeros, prompt_tokens: n, total_tokens: n, ...noCosts } });
const req = (call_ids, extra = {}) => ({ project_id: 'p', call_ids, ...extra });
const call = (id, parent, n, extra = {}) => ({ id, trace_id: 't', parent_id: parent, started_at: '2025-01-01T00:00:00Z', ended_at: '2025-01-01T00:01:00Z', summary: { usage: { m: { prompt_tokens: n } } }, ...extra });

/** A root `r` (own usage 1) with two children (10, 100) and a grandchild (1000). */
const tree = (root) => [root, call('c1', 'r', 10), call('c2', 'r', 100), call('g', 'c1', 1000)];

/** `callsUsage` (and `traceUsage`) of `calls` equal the JSON endpoints' on JSON.stringify(calls); the answer. */
function agrees(calls, request) {
  const text = JSON.stringify(calls);
  const got = callsUsage(calls, request);
  assert.deepEqual(got, callsUsageFromJson(text, request));
  const trace = { project_id: request.project_id, include_costs: request.include_costs };
  assert.deepEqual(traceUsage(calls, trace), traceUsageFromJson(text, trace));
  return got;
}

test('a root whose started_at is a Date keeps its children’s usage', () => {
  const root = call('r', null, 1, { started_at: new Date('2025-01-01T00:00:00Z') });
  assert.deepEqual(agrees(tree(root), req(['r'])), { call_usage: { r: tokens(1111) }, unfinished_call_ids: [] });
  // Children first, as /calls/stream_query may give them.
  assert.deepEqual(agrees(tree(root).reverse(), req(['r', 'c1'])).call_usage, { r: tokens(1111), c1: tokens(1010) });
});

test('a boxed String id or trace id is the string it holds: its trace is picked, and its children', () => {
  for (const root of [call('r', null, 1, { id: new String('r') }), call('r', null, 1, { trace_id: new String('t') })]) {
    assert.deepEqual(agrees(tree(root), req(['r'])).call_usage, { r: tokens(1111) });
  }
  // A child with a boxed id is registered: a later copy of it replaces it.
  const calls = [call('r', null, 1), call('c', 'r', 10, { id: new String('c') }), call('c', 'r', 100, { trace_id: 'elsewhere' })];
  assert.deepEqual(agrees(calls, req(['r'])).call_usage, { r: tokens(1) });
});

test('a summary with toJSON is what its toJSON gives, and its call’s trace is picked', () => {
  const summary = { toJSON: (key) => (key === 'summary' ? { usage: { m: { prompt_tokens: 2 } } } : 'wrong key') };
  const root = call('r', null, 1, { summary });
  assert.deepEqual(agrees(tree(root), req(['r'])).call_usage, { r: tokens(1112) });
  // toJSON on the call itself is called with its index, as in JSON.stringify(calls).
  const keyed = (i, v) => ({ toJSON: (key) => (key === String(i) ? v : 'wrong key') });
  const calls = tree(call('r', null, 1)).map((c, i) => keyed(i, c));
  assert.deepEqual(agrees(calls, req(['r'])).call_usage, { r: tokens(1111) });
});

test('a function-valued field is left out, as JSON.stringify leaves it out', () => {
  const root = call('r', null, 1, { parent_id: () => 'nowhere', ended_at: () => 'later', inputs: () => 'not sent' });
  // The root's parent is absent (it is a root) and so is its ended_at (unfinished).
  assert.deepEqual(agrees(tree(root), req(['r'])), { call_usage: { r: tokens(1111) }, unfinished_call_ids: ['r'] });
});

test('a later copy of an id replaces an earlier one, whichever of them is decorated', () => {
  const date = new Date('2025-01-01T00:00:00Z');
  // c's copy in t is stale: the later copy, elsewhere, replaces it.
  for (const [stale, later] of [
    [{ started_at: date }, {}],
    [{}, { started_at: date }],
    [{ summary: { toJSON: () => ({ usage: { m: { prompt_tokens: 10 } } }) } }, { id: new String('c') }],
  ]) {
    const calls = [call('r', null, 1), call('c', 'r', 10, stale), call('c', null, 100, { trace_id: 'u', ...later })];
    assert.deepEqual(agrees(calls, req(['r'])).call_usage, { r: tokens(1) });
    assert.deepEqual(agrees(calls, req(['c'])).call_usage, { c: tokens(100) });
  }
  // The requested id's later copy is decorated: its trace is the one that counts.
  const calls = [call('x', null, 1), call('x', null, 2, { trace_id: 'u', started_at: date }), call('y', 'x', 20, { trace_id: 'u' })];
  assert.deepEqual(agrees(calls, req(['x'])).call_usage, { x: tokens(22) });
});

test('getters, prototype-less objects and class instances are read as JSON.stringify reads them', () => {
  class Call {
    get summary() {
      return { usage: { m: { prompt_tokens: 1e6 } } }; // inherited: not sent
    }
  }
  const root = new Call();
  for (const [k, v] of Object.entries(call('r', null, 1))) Object.defineProperty(root, k, { enumerable: true, configurable: true, value: v });
  Object.defineProperty(root, 'summary', { enumerable: true, get: () => Object.assign(Object.create(null), { usage: { m: { prompt_tokens: 3 } } }) });
  assert.deepEqual(agrees(tree(root), req(['r'])).call_usage, { r: tokens(1113) });
});

test('a getter that answers otherwise each time: the call is one of its answers, never a mix', () => {
  let reads = 0;
  const root = call('r', null, 1, { started_at: new Date('2025-01-01T00:00:00Z') });
  Object.defineProperty(root, 'trace_id', { enumerable: true, get: () => (reads++ % 2 ? 'u' : 't') });
  const got = callsUsage(tree(root), req(['r']));
  const as = (trace) => callsUsageFromJson(JSON.stringify(tree(call('r', null, 1, { trace_id: trace }))), req(['r']));
  assert.ok([as('t'), as('u')].some((want) => JSON.stringify(want) === JSON.stringify(got)), JSON.stringify(got));
});

test('what JSON.stringify throws on, where a decorated call is read, is a 422 as for any call', () => {
  const big = [{ loc: ['calls'], msg: 'Input is not JSON-serializable: Do not know how to serialize a BigInt', type: 'json_type' }];
  const date = new Date('2025-01-01T00:00:00Z');
  // Outside the requested trace too: a call the fast check refuses is read to know its trace.
  for (const extra of [{ id: 1n }, { summary: { usage: { m: { prompt_tokens: 1n } } } }, { trace_id: 'other', summary: { weave: { costs: { m: { prompt_tokens_total_cost: 2n } } } } }]) {
    const calls = [call('r', null, 1), call('b', null, 1, { started_at: date, ...extra })];
    assert.throws(() => JSON.stringify(calls), TypeError);
    expectError(() => callsUsage(calls, req(['r'])), 422, big);
    expectError(() => traceUsage(calls, { project_id: 'p' }), 422, big);
  }
  const boom = call('b', null, 1, { trace_id: 'other', started_at: date });
  Object.defineProperty(boom, 'summary', { enumerable: true, get: () => { throw new Error('boom'); } });
  expectError(() => callsUsage([call('r', null, 1), boom], req(['r'])), 422, [{ loc: ['calls'], msg: 'Input is not JSON-serializable: boom', type: 'json_type' }]);
  const cyclic = call('r', null, 1, { started_at: date });
  cyclic.summary.usage.m.prompt_tokens = cyclic.summary;
  expectError(() => callsUsage([cyclic], req(['r'])), 422, [{ loc: ['calls'], msg: `Input is not JSON-serializable: ${(() => { try { JSON.stringify([cyclic]); } catch (e) { return e.message; } })()}`, type: 'json_type' }]);
  // What is never read is never looked at: a BigInt in a plain call
  // outside the requested traces, in `inputs` (which JSON.stringify would
  // refuse), or deep junk in a decorated call.
  const elsewhere = [call('r', null, 1), call('b', null, 1, { trace_id: 'other', summary: { usage: { m: { prompt_tokens: 1n } } } })];
  assert.deepEqual(callsUsage(elsewhere, req(['r'])).call_usage, { r: tokens(1) });
  let deep = {};
  for (let k = 0; k < 100_000; k++) deep = { deep };
  const unread = [call('r', null, 1, { started_at: date, inputs: { n: 1n }, output: deep, summary: { usage: { m: { prompt_tokens: 1, junk: deep } }, junk: [deep] } })];
  assert.deepEqual(callsUsage(unread, req(['r'])).call_usage, { r: tokens(1) });
});

test('the one difference: a boxed primitive whose prototype was replaced is read as an object', () => {
  // JSON.stringify tells a box by the engine's internal slots and sends
  // what converting it gives; the objects path tells it by its prototype
  // (docs/hostile-inputs.md).
  const id = Object.setPrototypeOf(new String('r'), Object.prototype);
  const calls = [call('r', null, 1, { id })];
  assert.equal(JSON.stringify(calls[0].id), '"[object String]"');
  assert.deepEqual(callsUsageFromJson(JSON.stringify(calls), req(['[object String]'])).call_usage, { '[object String]': tokens(1) });
  expectError(() => callsUsage(calls, req(['[object String]'])), 422, [{ loc: ['calls', 0, 'id'], msg: 'Input should be a valid string', type: 'string_type' }]);
});

// Last: once Object.prototype has been changed, V8 reads every object more
// slowly for the rest of the process.
test('the same with Object.prototype polluted by a name that is read: 200 more lists', () => {
  checkMany(200, 3000, true);
});
