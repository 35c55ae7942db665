// Every reference fixture through the built package in Node, imported by
// name as users import it: callsUsage on objects, callsUsageFromJson on
// JSON array and JSON Lines, each as a string and as bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callsUsage, callsUsageFromJson } from 'weave-usage';
import { fixtures, requestAsSent, assertMatches, bodies } from './helpers.mjs';

const all = fixtures();

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
