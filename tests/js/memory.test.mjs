// Inputs too large for memory, through the built package: every one ends in
// an Error with a status (413 for calls or a request that do not fit, 500
// for an answer too long for one JavaScript string), never a wasm trap, and
// the module's memory does not grow from one such error to the next. The
// calls that fill the 4 GiB are read in a worker thread (its own instance
// of the module), so that the memory goes with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { callsUsage, callsUsageFromJson, traceUsage, traceUsageFromJson, UsageAccumulator, wasmMemoryBytes } from 'weave-usage';

const enc = new TextEncoder();

/** What `run` threw (it must throw). */
function thrown(run) {
  try {
    run();
  } catch (e) {
    return e;
  }
  assert.fail('expected it to throw');
}

/** Runs a scenario of workers/memory-worker.mjs in a worker of its own. */
function inWorker(scenario) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./workers/memory-worker.mjs', import.meta.url), { workerData: { scenario } });
    worker.once('message', (report) => {
      worker.terminate();
      resolve(report);
    });
    worker.once('error', reject);
  });
}

/** A parent chain of `n` calls, each with a model of its own. */
function chain(n) {
  return Array.from({ length: n }, (_, i) => ({
    id: `c${i}`,
    trace_id: 't',
    parent_id: i ? `c${i - 1}` : null,
    ended_at: '2025-01-01T00:00:01Z',
    summary: { usage: { [`model-${i}`]: { requests: 1, prompt_tokens: 10 } } },
  }));
}

const TOO_LONG = /^The answer is at least (\d+) bytes of JSON, more than the 536870888 bytes one JavaScript string can hold \(V8's longest string\); ask for fewer call ids or a smaller limit$/;

test('calls that outgrow the 4 GiB, streamed through UsageAccumulator: a 413, repeated by finish; then a request too large for the memory left is a 413 too; freed, memory stays flat', async () => {
  const r = await inWorker('accumulator');
  assert.deepEqual(r.pushing.error, 'Error', JSON.stringify(r.pushing));
  assert.equal(r.pushing.status, 413);
  assert.deepEqual(r.pushing.detail.map((d) => [d.loc, d.type]), [[['body'], 'payload_too_large']]);
  assert.match(r.pushing.detail[0].msg, /^The calls do not fit in the module's memory: \d+ calls read \(\d+ distinct ids and names\) take \d+ MiB, and \d+ MiB more could not be allocated \(a wasm module addresses at most 4 GiB\)$/);
  assert.ok(r.calls > 500 && r.memory > 2 ** 31, `${r.calls} calls read, ${r.memory} bytes of memory`);
  assert.deepEqual(r.finish, r.pushing, 'finish repeats the error');
  assert.equal(r.bigRequest.status, 413, JSON.stringify(r.bigRequest));
  assert.deepEqual(r.bigRequest.detail.map((d) => [d.loc, d.type]), [[['body'], 'request_too_large']]);
  assert.match(r.bigRequest.detail[0].msg, /^The request \(\d+ bytes of JSON\) needs up to \d+ MiB of memory to read, more than the module has left/);
  const small = JSON.parse(r.smallWhileHeld);
  assert.equal(small.call_usage.c0.m1.requests, 2);
  assert.deepEqual(r.afterFree, { answers: [r.smallWhileHeld], grew: 0 });
});

test('a body that outgrows the 4 GiB in one call: the same 413 three times over, memory flat, answers after', async () => {
  const r = await inWorker('bytes');
  assert.equal(r.first.status, 413, JSON.stringify(r.first));
  assert.deepEqual(r.first.detail.map((d) => [d.loc, d.type]), [[['body'], 'payload_too_large']]);
  const kind = (o) => [o.status, o.detail?.map((d) => [d.loc, d.type])];
  assert.deepEqual(r.again.map(kind), [kind(r.first), kind(r.first)]);
  assert.equal(r.memoryAfter, r.memory, 'memory grew from one error to the next');
  assert.equal(r.afterwards.grew, 0);
  assert.equal(JSON.parse(r.afterwards.answers[0]).call_usage.c0.m1.requests, 2);
});

test('a chain of 3,000 calls with a model each, every id requested: a 500 from every path (the answer would be 1.3 GB of JSON), memory flat over 10 more of each, answers still right', () => {
  const n = 3000;
  const calls = chain(n);
  const body = enc.encode(calls.map((c) => JSON.stringify(c)).join('\n'));
  const request = { project_id: 'p', call_ids: calls.map((c) => c.id), limit: n };
  const acc = new UsageAccumulator();
  acc.push(body);
  const runs = {
    bytes: () => callsUsageFromJson(body, request),
    objects: () => callsUsage(calls, request),
    accumulator: () => acc.finish(request),
    'trace bytes': () => traceUsageFromJson(body, { project_id: 'p', limit: n }),
    'trace objects': () => traceUsage(calls, { project_id: 'p', limit: n }),
  };
  const small = { body: '{"id":"a","trace_id":"t","summary":{"usage":{"m":{"requests":2}}}}', request: { project_id: 'p', call_ids: ['a'] } };
  const want = callsUsageFromJson(small.body, small.request);
  for (const [name, run] of Object.entries(runs)) {
    const e = thrown(run);
    assert.ok(e instanceof Error, `${name}: ${e}`);
    assert.equal(e.status, 500, `${name}: ${e.message}`);
    assert.deepEqual(e.detail.map((d) => [d.loc, d.type]), [[['response'], 'response_too_large']], name);
    assert.ok(Number(TOO_LONG.exec(e.detail[0].msg)?.[1]) > 536870888, `${name}: ${e.detail[0].msg}`);
  }
  // No error keeps anything: ten more from bytes and from objects grow nothing.
  const level = wasmMemoryBytes();
  for (let k = 0; k < 10; k++) {
    assert.equal(thrown(runs.bytes).status, 500);
    assert.equal(thrown(runs.objects).status, 500);
  }
  assert.equal(wasmMemoryBytes(), level, 'memory grew over 20 more errors');
  // The module answers as before, the accumulator too: the root's 3,000 models.
  assert.deepEqual(callsUsageFromJson(small.body, small.request), want);
  const root = acc.finish({ ...request, call_ids: ['c0'] }).call_usage.c0;
  assert.equal(Object.keys(root).length, n);
  assert.ok(Object.values(root).every((u) => u.requests === 1 && u.prompt_tokens === 10));
  acc.free();
  assert.equal(wasmMemoryBytes(), level);
});

test('5,400,000 distinct call_ids and an empty body: answered, each id {} (its text was reserved at 400 bytes an id, more than wasm32 can allocate)', () => {
  const n = 5_400_000;
  const ids = Array.from({ length: n }, (_, i) => `c${i}`);
  const res = callsUsageFromJson('', { project_id: 'p', call_ids: ids });
  const keys = Object.keys(res.call_usage);
  assert.equal(keys.length, n);
  assert.deepEqual([keys[0], keys[n - 1]], ['c0', `c${n - 1}`]);
  assert.deepEqual([res.call_usage.c0, res.call_usage.c4321987, res.unfinished_call_ids], [{}, {}, []]);
});
