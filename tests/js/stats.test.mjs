// Usage stats through the built package (docs/stats.md): on the real-client
// corpus, every row summed equals the `rollup: "dedupe"` totals of all roots
// from callsUsage, and objects, bytes, JSON arrays and an accumulator agree;
// buckets in zones with DST (New York, Lord Howe's half hour) and odd
// offsets (Kathmandu); errors with their loc. Stats come from
// weave-usage/stats; the main entry, built without them, refuses them (501).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { callsUsage, usageStats, usageStatsFromJson, UsageAccumulator } from 'weave-usage/stats';
import * as main from 'weave-usage';
import * as mainInit from 'weave-usage/init';

const dir = new URL('../fixtures/client/', import.meta.url);
const corpus = readdirSync(dir)
  .filter((f) => f.endsWith('.json') && f !== 'coverage.json')
  .sort()
  .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')));

const TOKENS = ['requests', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'];
const COSTS = ['prompt_tokens_total_cost', 'completion_tokens_total_cost', 'cache_read_input_tokens_total_cost', 'cache_creation_input_tokens_total_cost'];

/** model → summed fields, over `rows` (usage_buckets or callsUsage entries). */
function byModel(entries) {
  const out = {};
  for (const [model, u] of entries) {
    const t = (out[model] ??= Object.fromEntries([...TOKENS, ...COSTS].map((k) => [k, 0])));
    for (const k of [...TOKENS, ...COSTS]) t[k] += u[k] ?? 0;
  }
  for (const m of Object.keys(out)) if (TOKENS.every((k) => out[m][k] === 0) && COSTS.every((k) => Math.abs(out[m][k]) < 1e-12)) delete out[m];
  return out;
}

function assertClose(got, want, what) {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), what);
  for (const m of Object.keys(want)) {
    for (const k of TOKENS) assert.equal(got[m][k], want[m][k], `${what} ${m} ${k}`);
    for (const k of COSTS) assert.ok(Math.abs(got[m][k] - want[m][k]) <= 1e-9 * Math.max(1, Math.abs(want[m][k])), `${what} ${m} ${k}: ${got[m][k]} vs ${want[m][k]}`);
  }
}

/** The live calls' roots of a project: no parent among its live calls. */
function roots(calls, project) {
  const live = calls.filter((c) => !c.deleted_at && (c.project_id == null || c.project_id === project));
  const ids = new Set(live.map((c) => c.id));
  return live.filter((c) => !c.parent_id || !ids.has(c.parent_id)).map((c) => c.id);
}

test('on real client traces, stats count what the dedupe rollup of every root counts', () => {
  let checked = 0;
  for (const fixture of corpus) {
    const projects = [...new Set(fixture.calls.map((c) => c.project_id).filter((p) => p != null))];
    for (const project_id of projects) {
      const rootIds = roots(fixture.calls, project_id);
      const usage = callsUsage(fixture.calls, { project_id, call_ids: rootIds, include_costs: true, limit: 1e6 }, { rollup: 'dedupe' });
      const want = byModel(Object.values(usage.call_usage).flatMap((m) => Object.entries(m)));
      const request = { project_id, group_by: ['model'], include_costs: true, granularity: 'hour' };
      const res = usageStats(fixture.calls, request);
      const got = byModel(res.usage_buckets.map((r) => [r.model, r]));
      assertClose(got, want, `${fixture.name} ${project_id}`);
      // Roots only: the same totals, each tree at its root.
      const rootsOnly = usageStats(fixture.calls, { ...request, filter: { trace_roots_only: true } });
      assertClose(byModel(rootsOnly.usage_buckets.map((r) => [r.model, r])), want, `${fixture.name} ${project_id} roots only`);
      assert.equal(rootsOnly.call_buckets.reduce((n, r) => n + r.call_count, 0), rootIds.length);
      // Every input form answers alike.
      const lines = fixture.calls.map((c) => JSON.stringify(c)).join('\n');
      const text = JSON.stringify(res);
      assert.equal(JSON.stringify(usageStatsFromJson(new TextEncoder().encode(lines), request)), text);
      assert.equal(JSON.stringify(usageStatsFromJson(JSON.stringify(fixture.calls), request)), text);
      const acc = new UsageAccumulator({ stats: true });
      for (let at = 0; at < lines.length; at += 997) acc.push(lines.slice(at, at + 997));
      assert.equal(JSON.stringify(acc.finishStats(request)), text);
      assert.equal(JSON.stringify(acc.finishStats(request)), text, 'finishStats again');
      acc.free();
      // Errors and unfinished calls, by hand.
      const live = fixture.calls.filter((c) => !c.deleted_at && (c.project_id == null || c.project_id === project_id));
      const sum = (k) => res.call_buckets.reduce((n, r) => n + r[k], 0);
      assert.equal(sum('call_count'), live.filter((c) => c.started_at).length);
      assert.equal(sum('error_count'), live.filter((c) => c.started_at && c.exception != null).length);
      assert.equal(sum('unfinished_count'), live.filter((c) => c.started_at && c.ended_at == null).length);
      checked++;
    }
  }
  assert.ok(checked >= 7, `projects checked: ${checked}`);
});

test('the client corpus groups by op name, root op and user, and top-N keeps the totals', () => {
  const fixture = corpus.find((f) => f.name === 'agents');
  const project_id = fixture.calls[0].project_id;
  const all = usageStats(fixture.calls, { project_id, group_by: ['op_name', 'root_op_name'], granularity: 'month' });
  const names = new Set(all.call_buckets.map((r) => r.op_name));
  assert.ok(names.has('research_agent'), [...names].join());
  assert.ok(all.call_buckets.every((r) => r.root_op_name !== undefined));
  const top = usageStats(fixture.calls, { project_id, group_by: ['op_name'], granularity: 'month', limit: 2 });
  assert.equal(top.call_buckets.length, 3);
  assert.equal(top.call_buckets.at(-1).other, true);
  const total = (res, k) => res.usage_buckets.reduce((n, r) => n + r[k], 0);
  for (const k of TOKENS) assert.equal(total(top, k), total(all, k), k);
  // Filters: op names by NAME or full ref.
  const ref = fixture.calls.find((c) => c.op_name?.includes('/research_agent:')).op_name;
  const a = usageStats(fixture.calls, { project_id, filter: { op_names: ['research_agent'] } });
  const b = usageStats(fixture.calls, { project_id, filter: { op_names: [ref] } });
  assert.deepEqual(a, b);
  assert.ok(a.call_buckets.reduce((n, r) => n + r.call_count, 0) > 0);
});

/** One call a minute apart from `times` (ISO strings), each with 1 token. */
const callsAt = (times) => times.map((t, i) => ({ id: `c${i}`, trace_id: `t${i}`, started_at: t, ended_at: t, summary: { usage: { m: { prompt_tokens: 1 } } } }));
const stamps = (res) => res.call_buckets.map((r) => `${r.timestamp} ${r.call_count}`);

test('days in America/New_York across both DST changes', () => {
  const calls = callsAt(['2025-03-09T04:59:00Z', '2025-03-09T05:00:00Z', '2025-03-10T03:59:00Z', '2025-03-10T04:00:00Z', '2025-11-02T04:00:00Z', '2025-11-03T04:59:00Z']);
  const res = usageStats(calls, { project_id: 'p', timezone: 'America/New_York', start: '2025-03-08T05:00:00Z', end: '2025-03-11T04:00:00Z' });
  assert.deepEqual(stamps(res), ['2025-03-08T00:00:00-05:00 1', '2025-03-09T00:00:00-05:00 2', '2025-03-10T00:00:00-04:00 1']);
  assert.equal(res.end, '2025-03-11T00:00:00-04:00');
  const fall = usageStats(calls, { project_id: 'p', timezone: 'America/New_York', start: '2025-11-02T04:00:00Z', end: '2025-11-04T05:00:00Z' });
  // 2025-11-02 is 25 hours long; 04:59Z on the 3rd is 23:59 on the 2nd.
  assert.deepEqual(stamps(fall), ['2025-11-02T00:00:00-04:00 2', '2025-11-03T00:00:00-05:00 0']);
  const hours = usageStats(calls, { project_id: 'p', timezone: 'America/New_York', granularity: 'hour', start: '2025-03-09T06:00:00Z', end: '2025-03-09T08:00:00Z' });
  // 02:00 does not exist: 01:00 EST is followed by 03:00 EDT.
  assert.deepEqual(hours.call_buckets.map((r) => r.timestamp), ['2025-03-09T01:00:00-05:00', '2025-03-09T03:00:00-04:00']);
});

test('half-hour DST (Australia/Lord_Howe) and a +05:45 zone (Asia/Kathmandu)', () => {
  // Lord Howe leaves DST on 2025-04-06 at 02:00 (+11:00) for 01:30 (+10:30).
  const calls = callsAt(['2025-04-05T14:10:00Z', '2025-04-05T15:10:00Z', '2025-04-05T15:40:00Z']);
  const res = usageStats(calls, { project_id: 'p', timezone: 'Australia/Lord_Howe', granularity: 'hour' });
  // The wall-clock hour 01:00 happens one and a half times: one bucket.
  assert.deepEqual(stamps(res), ['2025-04-06T01:00:00+11:00 2', '2025-04-06T02:00:00+10:30 1']);
  const day = usageStats(calls, { project_id: 'p', timezone: 'Australia/Lord_Howe' });
  assert.deepEqual(stamps(day), ['2025-04-06T00:00:00+11:00 3']);
  const k = usageStats(callsAt(['2025-01-01T18:14:00Z', '2025-01-01T18:15:00Z']), { project_id: 'p', timezone: 'Asia/Kathmandu' });
  assert.deepEqual(stamps(k), ['2025-01-01T00:00:00+05:45 1', '2025-01-02T00:00:00+05:45 1']);
  const fixed = usageStats(callsAt(['2025-01-01T18:14:00Z']), { project_id: 'p', timezone: '+05:45' });
  assert.deepEqual(stamps(fixed), stamps(k).slice(0, 1));
  // Weeks start on Monday, months on the 1st, in the zone.
  const w = usageStats(callsAt(['2025-03-02T20:00:00Z']), { project_id: 'p', timezone: 'Asia/Kolkata', granularity: 'week' });
  assert.deepEqual(stamps(w), ['2025-03-03T00:00:00+05:30 1']);
  const m = usageStats(callsAt(['2025-03-01T03:00:00Z']), { project_id: 'p', timezone: 'America/Los_Angeles', granularity: 'month' });
  assert.deepEqual(stamps(m), ['2025-02-01T00:00:00-08:00 1']);
});

test('errors: 422 with loc, 409 for an accumulator not made for stats', () => {
  const calls = callsAt(['2025-01-01T00:00:00Z']);
  const refused = (f, status, loc, type) => {
    assert.throws(f, (e) => {
      assert.equal(e.status, status);
      assert.deepEqual(e.detail[0].loc, loc);
      assert.equal(e.detail[0].type, type);
      return true;
    });
  };
  refused(() => usageStats(calls, { project_id: 'p', timezone: 'Mars/Olympus' }), 422, ['body', 'timezone'], 'value_error');
  refused(() => usageStats(calls, { project_id: 'p', granularity: 'hour', start: '2020-01-01T00:00:00Z', end: '2025-01-01T00:00:00Z' }), 422, ['body', 'granularity'], 'value_error');
  refused(() => usageStats(calls, { project_id: 'p', group_by: ['model', 'cost'] }), 422, ['body', 'group_by', 1], 'literal_error');
  refused(() => usageStats(calls, { project_id: 'p', filter: { trace_ids: ['t'] } }), 422, ['body', 'filter', 'trace_ids'], 'not_supported');
  refused(() => usageStats(calls, { project_id: 'p' }, { rollup: 'dedupe' }), 422, ['options', 'rollup'], 'not_supported');
  refused(() => usageStats([{ ...calls[0], op_name: 5 }], { project_id: 'p' }), 422, ['calls', 0, 'op_name'], 'string_type');
  refused(() => usageStatsFromJson(JSON.stringify([{ ...calls[0], thread_id: [] }]), { project_id: 'p' }), 422, ['calls', 0, 'thread_id'], 'string_type');
  refused(() => new UsageAccumulator({ stats: 'yes please' }), 422, ['options', 'stats'], 'bool_type');
  const acc = new UsageAccumulator();
  acc.push(JSON.stringify(calls[0]));
  refused(() => acc.finishStats({ project_id: 'p' }), 409, ['accumulator'], 'accumulator_not_for_stats');
  // The same calls with odd stats fields are fine for /calls/usage.
  assert.deepEqual(callsUsage([{ ...calls[0], op_name: 5 }], { project_id: 'p', call_ids: ['c0'] }).call_usage.c0.m.prompt_tokens, 1);
  acc.free();
});

test('finishCalls lists the roots and a trace as every answer counts them; finishProjects names the projects', () => {
  const at = (s) => `2025-01-01T00:00:0${s}Z`;
  const calls = [
    { id: 'r1', trace_id: 't1', project_id: 'e/a', op_name: 'weave:///e/a/op/agent:1', started_at: at(2), ended_at: at(3), display_name: 'Run 1', inputs: { display_name: 'no' } },
    { id: 'k1', trace_id: 't1', parent_id: 'r1', project_id: 'e/a', op_name: 'weave:///e/a/op/llm:1', started_at: at(2), exception: 'boom' },
    { id: 'r2', trace_id: 't2', project_id: 'e/a', started_at: '2025-01-01T00:00:01.5Z', display_name: 7 },
    { id: 'r3', trace_id: 't3', started_at: at(4) },
    { id: 'r4', trace_id: 't4', project_id: 'e/b', started_at: at(0) },
    { id: 'r5', trace_id: 't5', project_id: 'e/a', deleted_at: at(9) },
    // A later duplicate of k1 replaces it: now a root of its own trace.
    { id: 'k1', trace_id: 't6', project_id: 'e/a', op_name: 'weave:///e/a/op/llm:1', started_at: at(5) },
  ];
  const text = calls.map((c) => JSON.stringify(c)).join('\n');
  const acc = new UsageAccumulator({ stats: true });
  acc.push(text.slice(0, 100));
  acc.push(text.slice(100));
  const roots = acc.finishCalls({ project_id: 'e/a', filter: { trace_roots_only: true } });
  assert.deepEqual(roots.calls.map((c) => c.id), ['r2', 'r1', 'r3', 'k1']);
  assert.deepEqual(roots.calls[1], {
    id: 'r1', trace_id: 't1', parent_id: null, project_id: 'e/a', op_name: 'weave:///e/a/op/agent:1', display_name: 'Run 1',
    started_at: '2025-01-01T00:00:02Z', ended: true, has_exception: false, trace_calls: 1,
  });
  assert.equal(roots.calls[0].started_at, '2025-01-01T00:00:01.500000Z');
  assert.equal(roots.calls[0].display_name, null);
  assert.equal(roots.calls[2].project_id, null);
  // The listing agrees with what the answers count.
  const usage = acc.finish({ project_id: 'e/a', call_ids: roots.calls.map((c) => c.id) });
  assert.deepEqual(Object.keys(usage.call_usage).sort(), roots.calls.map((c) => c.id).sort());
  const trace = acc.finishCalls({ project_id: 'e/a', filter: { trace_ids: ['t6'] }, limit: 5 });
  assert.deepEqual(trace.calls.map((c) => [c.id, c.parent_id, c.has_exception]), [['k1', null, false]]);
  assert.deepEqual(acc.finishProjects(), { projects: [{ project_id: 'e/a', calls: 3 }, { project_id: 'e/b', calls: 1 }] });
  // From parts, in the worker pool's way: the same listing.
  const joined = UsageAccumulator.fromParts([acc.part()]);
  assert.deepEqual(joined.finishCalls({ project_id: 'e/a', filter: { trace_roots_only: true } }), roots);
  joined.free();
  acc.free();

  const plain = new UsageAccumulator();
  plain.push(text);
  assert.throws(() => plain.finishCalls({ project_id: 'e/a' }), (e) => e.status === 409 && e.detail[0].type === 'accumulator_not_for_stats');
  assert.deepEqual(plain.finishProjects().projects.map((p) => p.project_id), ['e/a', 'e/b']);
  // The request is checked first, as for finishStats.
  assert.throws(() => plain.finishCalls({ project_id: 'e/a', filter: { op_names: ['x'] } }), (e) => e.status === 422 && e.detail[0].type === 'not_supported');
  plain.free();
  const bad = new UsageAccumulator({ stats: true });
  assert.throws(() => bad.finishCalls({ filter: { trace_roots_only: 'maybe' }, limit: 0 }), (e) => {
    assert.equal(e.status, 422);
    assert.deepEqual(e.detail.map((d) => [d.loc, d.type]), [
      [['body', 'project_id'], 'missing'],
      [['body', 'filter', 'trace_roots_only'], 'bool_parsing'],
      [['body', 'limit'], 'greater_than_equal'],
    ]);
    return true;
  });
  bad.free();
});

test('objects held in odd ways read as their JSON for the stats fields', () => {
  const base = callsAt(['2025-01-01T00:00:00Z'])[0];
  const odd = [
    { ...base, id: 'a', exception: { toJSON: () => undefined } },
    { ...base, id: 'b', exception: NaN },
    { ...base, id: 'c', exception: { toJSON: () => 'boom' } },
    Object.defineProperty({ ...base, id: 'd' }, 'op_name', { get: () => 'weave:///e/p/op/f:1', enumerable: true }),
    { ...base, id: 'e', op_name: new String('weave:///e/p/op/g:1'), exception: false },
  ];
  const request = { project_id: 'p', group_by: ['op_name'] };
  const res = usageStats(odd, request);
  assert.deepEqual(res, usageStatsFromJson(JSON.stringify(odd), request));
  assert.equal(res.call_buckets.reduce((n, r) => n + r.error_count, 0), 2);
  assert.deepEqual(res.call_buckets.map((r) => r.op_name).sort(), ['f', 'g', null].sort());
});

test('the main entry (and weave-usage/init) refuse stats with a 501 that names weave-usage/stats, and work on', async () => {
  await mainInit.init();
  const request = { project_id: 'p' };
  const calls = [{ id: 'a', trace_id: 't', started_at: '2025-01-01T00:00:00Z' }];
  for (const lib of [main, mainInit]) {
    const refused = (f, loc) =>
      assert.throws(f, (e) => {
        assert.ok(lib.isUsageError(e));
        assert.equal(e.status, 501);
        assert.deepEqual(e.detail.map((d) => [d.loc, d.type]), [[loc, 'stats_unavailable']]);
        assert.match(e.message, /weave-usage\/stats/);
        return true;
      });
    refused(() => lib.usageStats(calls, request), ['module']);
    refused(() => lib.usageStatsFromJson(JSON.stringify(calls), request), ['module']);
    refused(() => new lib.UsageAccumulator({ stats: true }), ['options', 'stats']);
    const acc = new lib.UsageAccumulator();
    acc.push(JSON.stringify(calls[0]) + '\n');
    refused(() => acc.finishStats(request), ['accumulator']);
    refused(() => acc.finishCalls(request), ['accumulator']);
    refused(() => acc.finishProjects(), ['accumulator']);
    // Neither the module nor the accumulator is the worse for it.
    assert.deepEqual(acc.finish({ project_id: 'p', call_ids: ['a'] }), lib.callsUsage(calls, { project_id: 'p', call_ids: ['a'] }));
    acc.free();
  }
  // The two entries are two modules: the same answers, from separate memories.
  assert.deepEqual(main.callsUsage(calls, { project_id: 'p', call_ids: ['a'] }), callsUsage(calls, { project_id: 'p', call_ids: ['a'] }));
  assert.equal(usageStats(calls, request).call_buckets[0].call_count, 1);
});
