// Concurrent use from two worker threads (Node; tests/e2e/workers.test.mjs
// does the same with two Web Workers in Chromium): each has its own
// instance of the module, and neither disturbs the other, whether they
// stream interleaved chunks or compute flat out at the same time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { callsUsageFromJson } from 'weave-usage';
import { generate } from '../../bench/data.mjs';
import { badJson } from './helpers.mjs';

/** A worker and a way to send it a message and await its reply. */
function spawn(name) {
  const worker = new Worker(new URL('./workers/usage-worker.mjs', import.meta.url), { workerData: { name } });
  const replies = [];
  let waiting = null;
  worker.on('message', (m) => (waiting ? (waiting(m), (waiting = null)) : replies.push(m)));
  worker.on('error', (e) => {
    throw e;
  });
  const ask = (message, transfer) =>
    new Promise((resolve) => {
      waiting = resolve;
      worker.postMessage(message, transfer);
      if (replies.length) resolve(replies.shift());
    });
  return { ask, close: () => worker.terminate() };
}

const one = generate(1500, 3);
const two = generate(1500, 11);
const request = (g) => ({ project_id: 'acme/agents', call_ids: g.roots, include_costs: true });
const wantOne = callsUsageFromJson(one.body, request(one));
const wantTwo = callsUsageFromJson(two.body, request(two));

test('two workers stream two bodies in interleaved chunks; a failing third stream disturbs neither', async () => {
  const a = spawn('a');
  const b = spawn('b');
  try {
    await Promise.all([a.ask({ op: 'open' }), b.ask({ op: 'open' })]);
    const size = 10_007;
    for (let at = 0; at < Math.max(one.body.length, two.body.length); at += size) {
      const replies = await Promise.all([a.ask({ op: 'push', bytes: one.body.slice(at, at + size) }), b.ask({ op: 'push', bytes: two.body.slice(at, at + size) })]);
      for (const r of replies) assert.equal(r.error, undefined, r.error?.message);
    }
    const [ra, rb] = await Promise.all([a.ask({ op: 'finish', request: request(one) }), b.ask({ op: 'finish', request: request(two) })]);
    assert.deepEqual(ra.result, wantOne);
    assert.deepEqual(rb.result, wantTwo);
    // Now a stream that fails half-way in one worker, next to a good one in the other.
    await Promise.all([a.ask({ op: 'open' }), b.ask({ op: 'open' })]);
    const bad = new TextEncoder().encode('{"id":"x","trace_id":"t"}\n{"id":');
    const [ea] = await Promise.all([a.ask({ op: 'push', bytes: bad }), b.ask({ op: 'push', bytes: one.body })]);
    assert.equal(ea.error, undefined, 'an incomplete value waits for more');
    const [fa, fb] = await Promise.all([a.ask({ op: 'finish', request: request(one) }), b.ask({ op: 'finish', request: request(one) })]);
    assert.deepEqual(fa.error, { isError: true, status: 400, detail: badJson(32, 2, 7, 'unexpected end of input'), message: `400: body.32: ${badJson(32, 2, 7, 'unexpected end of input')[0].msg}` });
    assert.deepEqual(fb.result, wantOne);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('two workers computing flat out at the same time get the same answers as the main thread', async () => {
  const a = spawn('a');
  const b = spawn('b');
  try {
    // Both loaded first: a worker still starting on a busy machine would
    // let the other's burst end before its own began.
    await Promise.all([a.ask({ op: 'ping' }), b.ask({ op: 'ping' })]);
    const [ra, rb] = await Promise.all([a.ask({ op: 'burst', body: one.body, request: request(one), times: 8 }), b.ask({ op: 'burst', body: two.body, request: request(two), times: 8 })]);
    assert.equal(ra.error, undefined, ra.error?.message);
    assert.equal(rb.error, undefined, rb.error?.message);
    assert.ok(ra.started < rb.ended && rb.started < ra.ended, `the two bursts overlapped in time: a ${ra.started}–${ra.ended}, b ${rb.started}–${rb.ended}`);
    for (const r of ra.result) assert.deepEqual(r, wantOne);
    for (const r of rb.result) assert.deepEqual(r, wantTwo);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
