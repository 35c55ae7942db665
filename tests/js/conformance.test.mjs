// Every reference fixture through the built package in Node, imported by
// name as users import it: callsUsage on objects, callsUsageFromJson on
// JSON array and JSON Lines, each as a string and as bytes; and with options
// that must not change the reference's answer (rollup "reference",
// diagnostics on).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callsUsage, callsUsageFromJson } from 'weave-usage';
import { fixtures, requestAsSent, assertMatches, bodies } from './helpers.mjs';

const all = fixtures();

/** The result without its `diagnostics`, which must be there. */
function withoutDiagnostics(res) {
  assert.equal(typeof res.diagnostics?.calls_in_scope, 'number', 'diagnostics present');
  const { diagnostics, ...rest } = res;
  return rest;
}

test('all 76 reference fixtures are here', () => {
  assert.equal(all.length, 76);
});

for (const f of all) {
  test(`fixture ${f.name}`, () => {
    const request = requestAsSent(f);
    const runs = { 'callsUsage(objects)': () => callsUsage(structuredClone(f.calls), request) };
    for (const [form, body] of Object.entries(bodies(f.calls))) {
      runs[`callsUsageFromJson(${form})`] = () => callsUsageFromJson(body, request);
    }
    // Options that only add to the answer leave the reference's part alone.
    const neutral = { rollup: 'reference', diagnostics: true };
    runs['callsUsage(objects, neutral options)'] = () => withoutDiagnostics(callsUsage(structuredClone(f.calls), request, neutral));
    runs['callsUsageFromJson(JSONL bytes, neutral options)'] = () => withoutDiagnostics(callsUsageFromJson(bodies(f.calls)['JSONL bytes'], request, neutral));
    for (const [how, run] of Object.entries(runs)) {
      if (f.expected_error) {
        assert.throws(run, (e) => {
          assert.ok(e instanceof Error, `${how}: throws an Error`);
          assert.equal(e.status, 422, how);
          assert.deepEqual(e.detail, f.expected_error.detail, how);
          return true;
        });
      } else {
        const got = run();
        try {
          assertMatches(got, f.expected);
        } catch (e) {
          throw new Error(`${how}: ${e.message}`);
        }
      }
    }
  });
}

test('the comparison itself can fail', () => {
  assert.throws(() => assertMatches({ a: 1 }, { a: 2 }));
  assert.throws(() => assertMatches({ a: 1.0 }, { a: 1.000001 }));
  assert.throws(() => assertMatches({ a: null }, { a: 0 }));
  assert.throws(() => assertMatches({ a: {} }, { b: {} }));
  assert.doesNotThrow(() => assertMatches({ a: 0.1 + 0.2 }, { a: 0.3 }));
});
