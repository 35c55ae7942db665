// UsageAccumulator through the built package: the same answer as
// callsUsageFromJson on the concatenated chunks, whatever the chunking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callsUsageFromJson, UsageAccumulator } from 'weave-usage';
import { fixtures, requestAsSent, assertMatches } from './helpers.mjs';

/** A deterministic random generator (xorshift32). */
function random(seed) {
  let x = seed || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

/** `bytes` cut at random places (sizes 0 to `max`), including mid-UTF-8. */
function chunks(bytes, seed, max) {
  const rand = random(seed);
  const out = [];
  for (let at = 0; at < bytes.length; ) {
    const n = rand(max + 1);
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** Runs `f` and returns [result, error]. */
function outcome(f) {
  try {
    return [f(), null];
  } catch (e) {
    return [null, e];
  }
}

const enc = new TextEncoder();

test('every fixture, JSON Lines and JSON array, in random chunks', () => {
  let runs = 0;
  for (const f of fixtures()) {
    const request = requestAsSent(f);
    const forms = [f.calls.map((c) => JSON.stringify(c)).join('\n') + '\n', JSON.stringify(f.calls, null, 1)];
    for (const text of forms) {
      const bytes = enc.encode(text);
      const [want, wantError] = outcome(() => callsUsageFromJson(bytes, request));
      for (const [seed, max] of [[1, 1], [2, 7], [3, 64], [4, 4096]]) {
        const acc = new UsageAccumulator();
        const [got, error] = outcome(() => {
          for (const c of chunks(bytes, seed, max)) acc.push(c);
          return acc.finish(request);
        });
        acc.free();
        runs++;
        if (wantError) {
          assert.ok(error, `${f.name}: expected an error`);
          assert.equal(error.status, wantError.status, f.name);
          assert.deepEqual(error.detail, wantError.detail, f.name);
        } else {
          assert.equal(error, null, `${f.name}: ${error?.message}`);
          assertMatches(got, want);
          if (f.expected) assertMatches(got, f.expected);
        }
      }
    }
  }
  assert.equal(runs, 76 * 2 * 4);
});

test('multi-byte characters split across chunks', () => {
  const text = JSON.stringify({ id: 'é€😀', trace_id: 't', ended_at: 'x', summary: { usage: { 'モデル-α': { prompt_tokens: 3 } } } }) + '\n';
  const bytes = enc.encode(text);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const acc = new UsageAccumulator();
    acc.push(bytes.subarray(0, cut));
    acc.push(bytes.subarray(cut));
    const res = acc.finish({ project_id: 'p', call_ids: ['é€😀'] });
    assert.equal(res.call_usage['é€😀']['モデル-α'].prompt_tokens, 3, `cut at ${cut}`);
    acc.free();
  }
});

test('progress, repeated finish, errors', () => {
  const line = (id) => JSON.stringify({ id, trace_id: 't', summary: { usage: { m: { prompt_tokens: 1 } } } }) + '\n';
  const acc = new UsageAccumulator();
  assert.equal(acc.calls, 0);
  acc.push(enc.encode(line('a') + line('b').slice(0, 5)));
  assert.equal(acc.calls, 1);
  assert.equal(acc.bytesRead, line('a').length);
  acc.push(enc.encode(line('b').slice(5)));
  assert.equal(acc.calls, 2);
  // finish answers any number of requests over what was read.
  assert.equal(acc.finish({ project_id: 'p', call_ids: ['a'] }).call_usage.a.m.prompt_tokens, 1);
  assert.deepEqual(acc.finish({ project_id: 'p', call_ids: ['b'], include_costs: true }).unfinished_call_ids, ['a', 'b']);
  assert.throws(() => acc.push(enc.encode(line('c'))), (e) => e.status === 422 && e.detail[0].type === 'stream_finished');
  assert.throws(() => acc.finish({ project_id: 'p' }), (e) => e.status === 422 && e.detail[0].loc[1] === 'call_ids');
  acc.free();

  const bad = new UsageAccumulator();
  assert.throws(() => bad.push(enc.encode(line('a') + '{"id": oops}\n')), (e) => e.status === 400 && /line 2, column 8/.test(e.message));
  // The error sticks: every later push and finish repeats it.
  assert.throws(() => bad.push(enc.encode(line('c'))), (e) => e.status === 400);
  assert.throws(() => bad.finish({ project_id: 'p', call_ids: ['a'] }), (e) => e.status === 400);
  bad.free();

  const truncated = new UsageAccumulator();
  truncated.push(enc.encode('[' + line('a').trim() + ','));
  assert.throws(() => truncated.finish({ project_id: 'p', call_ids: ['a'] }), (e) => e.status === 400 && /unexpected end of input/.test(e.message));
  truncated.free();
});

test('freed accumulators cannot be used', () => {
  const acc = new UsageAccumulator();
  acc.free();
  assert.throws(() => acc.push(new Uint8Array(1)));
});
