// The objects path against the bytes path on random forests (the native
// property tests, tests/properties.rs, cannot reach the objects path's JS
// half): orphans, cycles, self-parents, duplicate and hostile ids, deleted
// calls, other projects, unreadable timestamps, junk fields, random limits.
// Objects, JSON Lines bytes, a JSON array string and an accumulator fed in
// random chunks must give identical answers, and permuting the calls (those
// sharing an id keep their order) must not change them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callsUsage, callsUsageFromJson, UsageAccumulator } from 'weave-usage';
import { accumulate } from './helpers.mjs';

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

const IDS = ['a', 'b', 'c', 'd', 'e', '__proto__', 'toString', 'x y', '', 'é'];
const MODELS = ['gpt-4o', 'claude', 'constructor', '__proto__'];
const STARTS = ['2025-01-01T00:00:00Z', '2025-01-01T01:00:00+01:00', '2025-01-01T00:00:00.5Z', 'not a time', undefined, null];
const VALUES = [0, 1, 2, 3, '4', ' 5 ', 2.9, true, null, 'x', -1, [], {}];

function call(r) {
  const usage = {};
  const costs = {};
  for (let k = r.int(4); k > 0; k--) {
    const m = r.pick(MODELS);
    usage[m] = { prompt_tokens: r.pick(VALUES), completion_tokens: r.pick(VALUES), input_tokens: r.pick(VALUES), requests: r.pick(VALUES), total_tokens: r.chance(0.3) ? r.pick(VALUES) : undefined };
    costs[m] = { prompt_tokens_total_cost: r.pick([0.1, 0.25, '1e-3', 0, null]), completion_tokens_total_cost: r.pick([0.01, 0, true]) };
  }
  const c = {
    id: r.pick(IDS),
    trace_id: r.pick(['t1', 't2']),
    parent_id: r.chance(0.8) ? r.pick([...IDS, 'nowhere']) : r.pick([null, undefined]),
    started_at: r.pick(STARTS),
    ended_at: r.chance(0.5) ? '2025-01-02T00:00:00Z' : r.pick([null, undefined]),
    summary: { usage, weave: { costs } },
    inputs: { deep: [[{ id: 'not this' }]], text: 'é'.repeat(r.int(40)) },
  };
  if (r.chance(0.15)) c.deleted_at = '2025-01-03T00:00:00Z';
  if (r.chance(0.3)) c.project_id = r.pick(['p', 'other']);
  return c;
}

/** A permutation in which calls that share an id keep their order. */
function permute(r, calls) {
  const order = calls.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const queues = new Map();
  for (const c of calls) queues.set(c.id, [...(queues.get(c.id) ?? []), c]);
  return order.map((i) => queues.get(calls[i].id).shift());
}

test('objects, JSON Lines, JSON array and random chunks agree on 500 random forests; so does any id-stable permutation', () => {
  const enc = new TextEncoder();
  let withUsage = 0;
  for (let seed = 1; seed <= 500; seed++) {
    const r = rng(seed * 2654435761);
    const calls = Array.from({ length: r.int(24) }, () => call(r));
    const ids = Array.from({ length: r.int(5) }, () => r.pick([...IDS, 'missing']));
    const request = { project_id: 'p', call_ids: ids, include_costs: r.chance(0.5), limit: 1 + r.int(25) };
    const jsonl = calls.map((c) => JSON.stringify(c)).join(r.chance(0.5) ? '\n' : '\r\n\n');
    const want = callsUsageFromJson(enc.encode(jsonl), request);
    const forms = {
      objects: callsUsage(calls, request),
      'JSON array string': callsUsageFromJson(JSON.stringify(calls, null, r.int(3)), request),
      'accumulator, random chunks': accumulate(UsageAccumulator, enc.encode(jsonl), request, 1 + r.int(50)),
      'objects, permuted': callsUsage(permute(r, calls), request),
    };
    for (const [form, got] of Object.entries(forms)) assert.deepEqual(got, want, `seed ${seed}: ${form}`);
    if (Object.values(want.call_usage).some((models) => Object.keys(models).length > 0)) withUsage++;
  }
  assert.ok(withUsage > 150, `answers with usage in them: ${withUsage} of 500`);
});
