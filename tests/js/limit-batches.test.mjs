// The `limit` rule of Weave 0.53.12's /calls/usage (tests/fixtures/limit-batches,
// made by tests/gen/limit_batches_corpus.py from both servers' own code; the
// rule is in that directory's README): whole traces in batches of at most
// `limit` calls, 413 for a single trace over `limit`, 400 for `limit` < 1.
// The library offers it as `options.limit: "per-batch"`; its default stays
// 0.53.0's. So:
// - every fixture is checked for structure and internal consistency;
// - every case's 0.53.0 answer (recorded next to 0.53.12's) must come out of
//   the default path — callsUsage on objects, callsUsageFromJson on each body
//   form, UsageAccumulator — except `limit` < 1, which the library refuses
//   with 422 by design (docs/semantics.md), where 0.53.0 read it as no limit;
// - every 0.53.12 expectation, errors included (status, and the server's
//   message in `detail`), must come out of the same paths with the case's
//   `options` ({limit: "per-batch"}).
//
// Cases in KNOWN_FAILURES are expected to differ on the default path (each
// with the reason); a listed case that passes fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { callsUsage, callsUsageFromJson, UsageAccumulator } from 'weave-usage';
import { assertMatches, bodies, expectError, accumulate } from './helpers.mjs';

const dir = new URL('../fixtures/limit-batches/', import.meta.url);

/** Per-batch answers that matched, over every path (checked at the end). */
let perBatchPasses = 0;

/** `${scenario}/${case}` → why the default path differs from 0.53.0. */
const KNOWN_FAILURES = new Map([]);

const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const scenarios = files.map((f) => {
  const s = JSON.parse(readFileSync(new URL(f, dir), 'utf8'));
  const calls = s.calls_from ? JSON.parse(readFileSync(new URL(s.calls_from, dir), 'utf8')).calls : s.calls;
  return { file: f, bytes: statSync(new URL(f, dir)).size, ...s, calls };
}).sort((a, b) => (a.name < b.name ? -1 : 1));

/** What 0.53.0 answered (it never fails for limit >= 1). */
const reference = (c) => (c.reference_0_53_0.same_as_expected ? c.expected : c.reference_0_53_0.expected);

test('the limit-batches fixtures are here and consistent', () => {
  assert.deepEqual(
    scenarios.map((s) => s.name),
    [
      'at-below-above', 'client-agents', 'client-agents-running', 'client-evals', 'client-mixed-projects',
      'client-stream-open', 'client-support', 'cross-trace-parents', 'deleted-other-projects', 'duplicates',
      'limit-values', 'many-small', 'one-big', 'unfinished',
    ],
  );
  const cases = scenarios.flatMap((s) => s.cases);
  assert.equal(cases.length, 82);
  assert.ok(scenarios.reduce((n, s) => n + s.bytes, 0) < 600_000, 'well under 1 MB');
  for (const s of scenarios) {
    assert.equal(s.file, `${s.name}.json`);
    assert.equal(s.generator, 'tests/gen/limit_batches_corpus.py');
    assert.equal(s.versions.weave, '0.53.12');
    assert.equal(s.versions.reference_0_53_0, '0.53.0');
    assert.ok(Array.isArray(s.calls) && s.calls.length > 0, `${s.name}: calls`);
    assert.ok(Array.isArray(s.prices) && s.prices.length > 0, `${s.name}: prices`);
    const names = new Set();
    for (const c of s.cases) {
      const id = `${s.name}/${c.name}`;
      assert.ok(!names.has(c.name), `${id}: unique name`);
      names.add(c.name);
      assert.equal(typeof c.description, 'string', id);
      assert.equal(typeof c.request.project_id, 'string', id);
      assert.ok(Array.isArray(c.request.call_ids), id);
      assert.deepEqual(c.options, { limit: 'per-batch' }, id);
      assert.ok(Number.isInteger(c.validated_limit), id);
      assert.equal(typeof c.differs, 'boolean', id);
      assert.ok(('expected' in c) !== ('expected_error' in c), `${id}: expected or expected_error`);
      // The requested ids' traces: live calls of the project, the last copy of an id.
      const live = new Map();
      for (const x of s.calls) if (x.project_id === c.request.project_id && x.deleted_at == null) live.set(x.id, x);
      const traces = new Set(c.request.call_ids.filter((x) => live.has(x)).map((x) => live.get(x).trace_id));
      if (c.expected_error) {
        const e = c.expected_error;
        if (c.validated_limit < 1) {
          assert.deepEqual(e, { status: 400, body: { reason: 'Usage aggregation limit must be positive' }, exception: 'InvalidRequest', message: 'Usage aggregation limit must be positive' }, id);
          assert.deepEqual(c.batches, [], id);
        } else {
          assert.deepEqual(e, {
            status: 413,
            body: { reason: 'Request too large' },
            exception: 'RequestTooLarge',
            message: `Cannot compute complete usage: a single trace exceeds the ${c.validated_limit}-call aggregation limit. Increase limit and retry.`,
          }, id);
          // The request stopped at a single trace over the limit.
          const last = c.batches.at(-1);
          assert.equal(last.trace_ids.length, 1, id);
          assert.equal(last.fits, false, id);
          assert.equal(last.calls_read, c.validated_limit + 1, id);
        }
      } else {
        assert.ok(c.validated_limit >= 1, id);
        assert.deepEqual(Object.keys(c.expected.call_usage), [...new Set(c.request.call_ids)], `${id}: one key per requested id`);
        assert.deepEqual(c.expected.unfinished_call_ids, [...c.expected.unfinished_call_ids].sort(), id);
        // Batches: the first holds every trace of the requested ids (sorted);
        // the ones that fit hold each of them exactly once, whole.
        if (traces.size === 0 || c.request.call_ids.length === 0) assert.deepEqual(c.batches, [], id);
        else {
          assert.deepEqual(c.batches[0].trace_ids, [...traces].sort(), id);
          const fitted = c.batches.filter((b) => b.fits).flatMap((b) => b.trace_ids);
          assert.deepEqual([...fitted].sort(), [...traces].sort(), id);
          for (const b of c.batches) assert.ok(b.fits ? b.calls_read <= c.validated_limit : b.trace_ids.length > 1 && b.calls_read === c.validated_limit + 1, id);
        }
      }
      const ref = c.reference_0_53_0;
      assert.ok(Number.isInteger(ref.calls_in_scope), id);
      assert.equal(ref.same_as_expected === true, !c.differs, `${id}: same_as_expected iff not differs`);
      if (!ref.same_as_expected) assert.ok('expected' in ref && !('expected_error' in ref), `${id}: 0.53.0 never fails`);
      if (c.validated_limit >= 1) assert.ok(ref.calls_in_scope <= c.validated_limit, id);
    }
  }
});

for (const s of scenarios) {
  test(`limit-batches ${s.name}: 0.53.0's answers from the default path`, () => {
    const forms = bodies(s.calls);
    const lines = forms['JSONL bytes'];
    const failures = [];
    for (const c of s.cases) {
      const id = `${s.name}/${c.name}`;
      const runs = {
        'callsUsage(objects)': () => callsUsage(structuredClone(s.calls), c.request),
        ...Object.fromEntries(Object.entries(forms).map(([form, body]) => [`callsUsageFromJson(${form})`, () => callsUsageFromJson(body, c.request)])),
        'UsageAccumulator(JSONL, 4 KiB chunks)': () => accumulate(UsageAccumulator, lines, c.request, 4096),
      };
      let failed = false;
      for (const [path, run] of Object.entries(runs)) {
        try {
          if (c.validated_limit < 1) {
            // The library's documented addition: 422 where 0.53.0 read no limit.
            expectError(run, 422, [{ loc: ['body', 'limit'], msg: 'Input should be greater than or equal to 1', type: 'greater_than_equal' }]);
          } else {
            assertMatches(run(), reference(c));
          }
        } catch (e) {
          failed = true;
          if (!KNOWN_FAILURES.has(id)) failures.push(`${id} via ${path}: ${e.message}`);
        }
      }
      if (KNOWN_FAILURES.has(id)) assert.ok(failed, `${id} is a known failure but passes: remove it from KNOWN_FAILURES`);
    }
    assert.deepEqual(failures, []);
  });

  test(`limit-batches ${s.name}: 0.53.12's answers with {limit: "per-batch"}`, () => {
    const forms = bodies(s.calls);
    const lines = forms['JSONL bytes'];
    const failures = [];
    for (const c of s.cases) {
      const runs = {
        'callsUsage(objects)': () => callsUsage(structuredClone(s.calls), c.request, c.options),
        ...Object.fromEntries(Object.entries(forms).map(([form, body]) => [`callsUsageFromJson(${form})`, () => callsUsageFromJson(body, c.request, c.options)])),
        'UsageAccumulator(JSONL, 4 KiB chunks)': () => accumulate(UsageAccumulator, lines, c.request, 4096, c.options),
      };
      for (const [path, run] of Object.entries(runs)) {
        try {
          if (c.expected) {
            assertMatches(run(), c.expected);
          } else {
            const e = c.expected_error;
            const type = e.status === 400 ? 'invalid_request' : 'request_too_large';
            expectError(run, e.status, [{ loc: ['body', 'limit'], msg: e.message, type }]);
          }
          perBatchPasses++;
        } catch (e) {
          failures.push(`${s.name}/${c.name} via ${path}: ${e.message}`);
        }
      }
    }
    assert.deepEqual(failures, []);
  });
}

test('per-batch: every case through every path', () => {
  const cases = scenarios.reduce((n, s) => n + s.cases.length, 0);
  console.log(`limit-batches: ${perBatchPasses} per-batch answers matched (${cases} cases)`);
  assert.equal(perBatchPasses, cases * 6);
});

test('every known failure names a case', () => {
  const ids = new Set(scenarios.flatMap((s) => s.cases.map((c) => `${s.name}/${c.name}`)));
  for (const id of KNOWN_FAILURES.keys()) assert.ok(ids.has(id), id);
});
