// weave-usage/parallel: one body across shards gives exactly what
// callsUsageFromJson / traceUsageFromJson give on the whole body, answers
// (deep-equal, so cost sums to the bit) and errors alike. The shards run
// in-process here (the same handler a worker runs, behind an asynchronous
// fake worker), so that every fixture goes through 1 to 4 shards quickly;
// the last tests use real worker_threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync, openAsBlob } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lib from 'weave-usage';
import { callsUsageFromJson, traceUsageFromJson, callsUsageFromParts, UsageAccumulator } from 'weave-usage';
import { splitBody, shardsAt, callsUsageParallel, traceUsageParallel, createUsagePool, partCalls, startShardWorker } from 'weave-usage/parallel';
import { MessageChannel } from 'node:worker_threads';
import { makePool, shardHandler, shardHandlerWith, splitBlob } from '../../pkg/parallel-core.js';
import { shardReading } from '../../pkg/guard.js';
import { fixtures, requestAsSent, bodies } from './helpers.mjs';
import { generate } from '../../bench/data.mjs';

/** Workers that run the shard handler over `l` on this thread,
 * asynchronously: the package's own workers' handler, which reads a shard
 * for one request (`shardReading`), unless `reading` is null. */
const inProcessWith = (l, reading = shardReading) => () => {
  let onMessage = () => {};
  const handle = shardHandlerWith(l, (m) => setImmediate(() => onMessage(m)), {}, reading);
  return { worker: { postMessage: (m) => setImmediate(() => handle(m)) }, on: (message) => (onMessage = message), close: async () => {} };
};
const inProcess = inProcessWith(lib);

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

/** What `run` returns, or the error it throws, as comparable data. */
async function outcome(run) {
  try {
    return { answer: await run() };
  } catch (e) {
    return { error: { isError: e instanceof Error, status: e.status, detail: e.detail, message: e.message } };
  }
}

const enc = new TextEncoder();
const client = readdirSync(new URL('../fixtures/client/', import.meta.url))
  .filter((f) => f.endsWith('.json') && f !== 'coverage.json')
  .map((f) => JSON.parse(readFileSync(new URL(`../fixtures/client/${f}`, import.meta.url), 'utf8')));

/** Every (body, request, options, kind) case: the reference fixtures and the client corpus. */
function cases() {
  const out = [];
  for (const f of fixtures()) {
    const b = bodies(f.calls);
    for (const form of ['JSONL bytes', 'JSON array bytes']) {
      for (const options of [undefined, { diagnostics: true }, { rollup: 'dedupe' }, { limit: 'per-batch' }]) {
        out.push({ name: `${f.name} ${form} ${JSON.stringify(options)}`, body: b[form], request: requestAsSent(f), options, kind: 'calls' });
      }
    }
  }
  for (const f of client) {
    const forms = { JSONL: enc.encode(f.calls.map((c) => JSON.stringify(c)).join('\n') + '\n'), array: enc.encode(JSON.stringify(f.calls)) };
    for (const [form, body] of Object.entries(forms)) {
      f.requests.forEach((c, i) => out.push({ name: `client ${f.name} ${form} usage[${i}]`, body, request: c.request, kind: 'calls' }));
      f.trace_requests.forEach((c, i) => out.push({ name: `client ${f.name} ${form} trace[${i}]`, body, request: c.request, kind: 'trace' }));
    }
  }
  return out;
}

const oneShot = (c) => outcome(() => (c.kind === 'calls' ? callsUsageFromJson(c.body, c.request, c.options) : traceUsageFromJson(c.body, c.request, c.options)));
const parallel = (pool, c) => outcome(() => (c.kind === 'calls' ? pool.callsUsage(c.body, c.request, c.options) : pool.traceUsage(c.body, c.request, c.options)));

test('every fixture and client-corpus request through 1, 2, 3 and 4 shards: the one-shot answer or error', async () => {
  const all = cases();
  assert.ok(all.length > 700, `${all.length} cases`);
  let split = 0;
  for (const n of [1, 2, 3, 4]) {
    const pool = makePool(lib, inProcess, n);
    for (const c of all) {
      const want = await oneShot(c);
      assert.deepEqual(await parallel(pool, c), want, `${c.name}, ${n} shards`);
      if (pool.last?.oneShot === false && pool.last.shards > 1) split++;
    }
  }
  // Most bodies are long enough to be cut; the comparison above is not of the one-shot with itself.
  assert.ok(split > all.length, `${split} runs were split`);
});

test('random cuts at every place the rules allow, inside values and strings too: never a different answer', async () => {
  const rand = random(7);
  let merged = 0;
  let fellBack = 0;
  for (const c of cases().filter((_, i) => i % 3 === 0)) {
    const bytes = c.body;
    // Every place the rules accept: commas anywhere in an array (inside
    // strings and nested values too), line starts at a `{` in JSON Lines.
    const allowed = [];
    for (let i = 1; i < bytes.length; i++) if (shardsAt(bytes, [i]) !== null) allowed.push(i);
    if (allowed.length === 0) continue;
    for (let round = 0; round < 4; round++) {
      const k = 1 + rand(Math.min(3, allowed.length));
      const cuts = [...new Set(Array.from({ length: k }, () => allowed[rand(allowed.length)]))].sort((a, b) => a - b);
      const pool = makePool(lib, inProcess, cuts.length + 1, () => cuts);
      assert.deepEqual(await parallel(pool, c), await oneShot(c), `${c.name} cut at ${cuts}`);
      if (pool.last.oneShot) fellBack++;
      else merged++;
    }
  }
  assert.ok(merged > 100 && fellBack > 20, `merged ${merged}, fell back ${fellBack}`);
});

test('shards read for one request, the body shared or copied: cut inside its traces, children before roots, copies in other shards: the one-shot answer, shards read again where needed', async () => {
  const g = generate(400, 11);
  const lines = new TextDecoder().decode(g.body).trim().split('\n');
  const calls = lines.map((l) => JSON.parse(l));
  const traces = [...new Set(calls.map((c) => c.trace_id))];
  assert.ok(traces.length >= 6, `${traces.length} traces`);
  const rootOf = (t) => calls.find((c) => c.trace_id === t && !c.parent_id).id;
  const request = { project_id: 'acme/agents', call_ids: [rootOf(traces[1]), rootOf(traces[3]), rootOf(traces[5]), 'no-such-call'], include_costs: true };
  // Later copies, in other traces: of a child of a requested trace (the
  // copy replaces it) and of a requested root, unfinished.
  const child = calls.find((c) => c.trace_id === traces[1] && c.parent_id);
  const moved = JSON.stringify({ ...child, trace_id: traces[4] });
  const open = JSON.stringify({ ...calls.find((c) => c.id === request.call_ids[1]), ended_at: null });
  const forms = {
    'body order': lines,
    'children before roots': [...lines].reverse(),
    // Traces woven together: a trace's calls are far apart.
    woven: lines.map((l, i) => [i % 5, i, l]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[2]),
    'copies at the end': [...lines, moved, open],
    'copies in the middle': [...lines.slice(0, 250), open, ...lines.slice(250, 330), moved, ...lines.slice(330)],
  };
  // The body shared with the workers (each reads its own bytes again), and
  // not (copies, which the pool sends again).
  const Shared = globalThis.SharedArrayBuffer;
  for (const shared of [true, false]) {
    const tally = {};
    for (const [name, form] of Object.entries(forms)) {
      const body = enc.encode(form.join('\n') + '\n');
      const want = callsUsageFromJson(body, request);
      const starts = [];
      for (let i = 0, at = 0; i < form.length; at += enc.encode(form[i]).length + 1, i++) if (i > 0) starts.push(at);
      const runs = [...starts.filter((_, i) => i % 3 === 0).map((c) => [c]), [starts[40], starts[200]], [starts[100], starts[260], starts[300]]];
      const t = (tally[name] = { rereads: 0, none: 0 });
      for (const cuts of runs) {
        if (!shared) globalThis.SharedArrayBuffer = undefined;
        let pool;
        try {
          pool = makePool(lib, inProcess, cuts.length + 1, () => cuts);
          assert.deepEqual(await pool.callsUsage(body, request), want, `${name} cut at ${cuts}, shared: ${shared}`);
        } finally {
          globalThis.SharedArrayBuffer = Shared;
        }
        assert.equal(pool.last.oneShot, false, `${name} cut at ${cuts}, shared: ${shared}: ${pool.last.why?.message}`);
        if (pool.last.rereads > 0) t.rereads++;
        else t.none++;
      }
    }
    // Calls of a trace together: the shard after a cut inside a requested
    // trace reads that trace in full from its first call, so nothing is read
    // again. Otherwise some shards were: in every run when a requested
    // root comes after its children (the one-shot reads such a body again
    // too) or its trace's calls are far apart; with a copy only in the runs
    // that cut between it and the call it copies.
    assert.equal(tally['body order'].rereads, 0, JSON.stringify(tally));
    for (const name of ['children before roots', 'woven', 'copies at the end', 'copies in the middle']) {
      assert.ok(tally[name].rereads > 0 && (!name.startsWith('copies') || tally[name].none > 0), `shared: ${shared}, ${name}: ${JSON.stringify(tally[name])}`);
    }
  }
});

test('a request whose JSON changes between reads (toJSON): shards read for other ids still give the answer for the ids read last', async () => {
  const g = generate(300, 5);
  const last = { project_id: 'acme/agents', call_ids: g.roots.slice(3, 6), include_costs: true };
  let reads = 0;
  // The pool checks the request (and seeds the shards with its ids) before
  // the body is read, and reads it again for the answer.
  const request = { toJSON: () => (reads++ === 0 ? { ...last, call_ids: ['no-such-call'] } : last) };
  const pool = makePool(lib, inProcess, 2);
  assert.deepEqual(await pool.callsUsage(g.body, request), callsUsageFromJson(g.body, last));
  assert.equal(pool.last.oneShot, false);
  assert.ok(pool.last.rereads > 0, JSON.stringify(pool.last));
});

test('bad bodies: the one-shot error, exactly (status, detail, loc, message)', async () => {
  const g = generate(300, 5);
  const request = { project_id: 'acme/agents', call_ids: g.roots, include_costs: true };
  const text = new TextDecoder().decode(g.body);
  const array = enc.encode('[' + text.trim().split('\n').join(',') + ']');
  const rand = random(11);
  const broken = [];
  for (const body of [g.body, array]) {
    for (let i = 0; i < 12; i++) {
      const cut = rand(body.length);
      broken.push(body.slice(0, cut)); // truncated
      const b = body.slice();
      b[rand(b.length)] = [0x7d, 0x22, 0x2c, 0xff, 0x0a, 0x5b][rand(6)]; // one byte changed
      broken.push(b);
    }
    // A malformed call late in the body (422 at its index), and bad JSON in the last shard.
    broken.push(enc.encode(new TextDecoder().decode(body).replace(/"trace_id":"[^"]*"(?![\s\S]*"trace_id")/, '"trace_id":5')));
    broken.push(enc.encode(new TextDecoder().decode(body) + (body === array ? ',' : '{"id":')));
  }
  broken.push(enc.encode('{"id":"a","trace_id":"t"}\n[{"id":"b","trace_id":"t"}]\n'));
  broken.push(enc.encode('{"id":"a","trace_id":"t"}\n\uFEFF{"id":"b","trace_id":"t"}\n'));
  broken.push(enc.encode('[{"id":"a","trace_id":"t"}] ,{"id":"b","trace_id":"t"}]'));
  broken.push(enc.encode('[{"id":"a","trace_id":"t"},,{"id":"b","trace_id":"t"}]'));
  broken.push(enc.encode('[{"id":"a","trace_id":"t"}, ]'));
  let errors = 0;
  for (const n of [2, 3, 4]) {
    const pool = makePool(lib, inProcess, n);
    const sending = makePool(lib, inProcess, n, null, true);
    for (const body of broken) {
      const c = { body, request, kind: 'calls' };
      const want = await oneShot(c);
      if (want.error) errors++;
      assert.deepEqual(await parallel(pool, c), want);
      // As a Blob, its pieces read here or its slices read by the workers:
      // where the shards fail, the Blob is read on this thread by an
      // accumulator, never whole; the same error.
      assert.deepEqual(await parallel(pool, { ...c, body: new Blob([body]) }), want, 'as a Blob');
      assert.deepEqual(await parallel(sending, { ...c, body: new Blob([body]) }), want, 'as a Blob the workers read');
    }
    // Every possible cut of the small hostile bodies.
    for (const body of broken.slice(-5)) {
      for (let i = 1; i < body.length; i++) {
        if (shardsAt(body, [i]) === null) continue;
        const pool1 = makePool(lib, inProcess, 2, () => [i]);
        const c = { body, request: { project_id: 'p', call_ids: ['a', 'b'] }, kind: 'calls' };
        assert.deepEqual(await parallel(pool1, c), await oneShot(c), `cut at ${i}`);
      }
    }
  }
  assert.ok(errors > 60, `${errors} errors compared`);
});

test('an invalid request or options: the one-shot error, before the body is read', async () => {
  const pool = makePool(lib, inProcess, 2);
  const body = generate(50, 1).body;
  for (const [request, options] of [[{ call_ids: 'a' }, undefined], [{ project_id: 'p', call_ids: [] }, { nope: 1 }], [{ project_id: 'p', call_ids: ['a'], limit: 0 }, undefined]]) {
    const want = await outcome(() => callsUsageFromJson(body, request, options));
    assert.ok(want.error);
    assert.deepEqual(await outcome(() => pool.callsUsage(body, request, options)), want);
  }
  assert.deepEqual(await outcome(() => pool.callsUsage(42, { project_id: 'p', call_ids: ['a'] })), await outcome(() => callsUsageFromJson(42, { project_id: 'p', call_ids: ['a'] })));
});

test('splitBody cuts a generated body into the shards asked for, at call boundaries', () => {
  const g = generate(2000, 3);
  for (const n of [2, 3, 4]) {
    const { format, shards } = splitBody(g.body, n);
    assert.equal(format, 'lines');
    assert.equal(shards.length, n);
    assert.equal(shards[0].start, 0);
    assert.equal(shards.at(-1).end, g.body.length);
    for (let i = 1; i < n; i++) assert.equal(shards[i].start, shards[i - 1].end);
  }
  const array = enc.encode('[' + new TextDecoder().decode(g.body).trim().split('\n').join(',\n ') + ']');
  const { format, shards } = splitBody(array, 4);
  assert.equal(format, 'array');
  assert.equal(shards.length, 4);
  assert.deepEqual(shards.map((s) => [s.prefix, s.suffix]), [['', ']'], ['[', ']'], ['[', ']'], ['[', '']]);
  assert.deepEqual(splitBody('', 4).shards.length, 1);
  assert.deepEqual(splitBody('{"id":"a","trace_id":"t"}', 4).shards.length, 1);
});

test('parts: malformed ones are a 422 at ["parts"], never a trap; partCalls reads ids and traces', () => {
  const acc = new UsageAccumulator();
  acc.push('{"id":"a","trace_id":"t"}\n{"id":"b","trace_id":"u","parent_id":"a"}\n');
  const part = acc.part();
  assert.deepEqual(partCalls(part), { ids: ['a', 'b'], traces: ['t', 'u'] });
  assert.deepEqual(partCalls(acc.part({ traces: ['u'] })), { ids: ['b'], traces: ['u'] });
  const request = { project_id: 'p', call_ids: ['a', 'b'] };
  assert.deepEqual(callsUsageFromParts([part], request), callsUsageFromJson('{"id":"a","trace_id":"t"}\n{"id":"b","trace_id":"u","parent_id":"a"}\n', request));
  for (let i = 0; i < part.length; i++) {
    for (const v of [0, 1, 0xff]) {
      const p = part.slice();
      p[i] = v;
      try {
        callsUsageFromParts(p, request);
      } catch (e) {
        assert.ok([422].includes(e.status), `byte ${i}: ${e.status} ${e.message}`);
        assert.deepEqual(e.detail[0].loc, ['parts']);
      }
    }
  }
  for (const bad of [42, 'x', [1], [part, null]]) {
    assert.throws(() => callsUsageFromParts(bad, request), (e) => e.status === 422 && e.detail[0].loc[0] === 'parts');
  }
  assert.throws(() => acc.part({ traces: 'x' }), (e) => e.status === 422);
  acc.free();
});

test('real worker_threads: 1, 2 and 4 workers give the one-shot answers; a pool answers many requests', async () => {
  const g = generate(6000, 9);
  const request = { project_id: 'acme/agents', call_ids: g.roots, include_costs: true };
  const want = callsUsageFromJson(g.body, request);
  for (const workers of [1, 2, 4]) {
    const seen = [];
    const got = await callsUsageParallel(g.body, request, undefined, { workers, onProgress: (p) => seen.push(p) });
    assert.deepEqual(got, want, `${workers} workers`);
    assert.ok(seen.length > 0 && seen.every((p) => p.total === g.body.length));
  }
  const trace = { project_id: 'acme/agents', filter: { trace_ids: null, call_ids: null }, limit: 100000 };
  assert.deepEqual(await traceUsageParallel(g.body, trace, { diagnostics: true }, { workers: 2 }), traceUsageFromJson(g.body, trace, { diagnostics: true }));
  const pool = createUsagePool({ workers: 2 });
  try {
    for (const options of [undefined, { diagnostics: true }, { rollup: 'dedupe' }]) {
      assert.deepEqual(await pool.callsUsage(g.body, request, options), callsUsageFromJson(g.body, request, options));
      assert.equal(pool.last.oneShot, false);
      assert.equal(pool.last.shards, 2);
    }
    // A SharedArrayBuffer body is shared, not copied.
    const shared = new Uint8Array(new SharedArrayBuffer(g.body.length));
    shared.set(g.body);
    assert.deepEqual(await pool.callsUsage(shared, request), want);
    const bad = g.body.slice(0, g.body.length - 10);
    assert.deepEqual(await outcome(() => pool.callsUsage(bad, request)), await outcome(() => callsUsageFromJson(bad, request)));
  } finally {
    await pool.close();
  }
});

test('connect: shard workers made by another thread, reached through ports, give the one-shot answers; one that fails is told, no hang', async () => {
  const g = generate(3000, 12);
  const request = { project_id: 'acme/agents', call_ids: g.roots, include_costs: true };
  const want = callsUsageFromJson(g.body, request);
  const made = [];
  const connect = (i) => {
    assert.equal(i, made.length, 'connect is asked for each worker in turn');
    const { port1, port2 } = new MessageChannel();
    const worker = startShardWorker(port2);
    made.push(worker);
    return { port: port1, close: () => worker.terminate(), onFailure: (fail) => worker.on('error', fail) };
  };
  const pool = createUsagePool({ workers: 2, connect });
  try {
    assert.deepEqual(await pool.callsUsage(g.body, request), want);
    assert.deepEqual(pool.last, { shards: 2, oneShot: false, rereads: 0 });
    const loaded = await pool.load(g.body, { stats: true });
    assert.equal(loaded.shards, 2);
    const stats = await import('weave-usage/stats');
    const acc = stats.UsageAccumulator.fromParts(await loaded.parts());
    assert.deepEqual(acc.finish(request), want);
    acc.free();
    await loaded.free();
  } finally {
    await pool.close();
  }
  assert.equal(made.length, 2);
  // The worker behind a port failed: the link says so, the pool answers by the one-shot path.
  const failing = createUsagePool({
    workers: 2,
    connect: () => {
      const { port1 } = new MessageChannel();
      return { port: port1, onFailure: (fail) => setTimeout(() => fail('the worker could not load'), 10) };
    },
  });
  assert.deepEqual(await failing.callsUsage(g.body, request), want);
  assert.equal(failing.last.oneShot, true);
  await failing.close();
  assert.throws(() => createUsagePool({ workers: 1, connect: () => ({}) }), /connect\(\) must return \{ port, close \}/);
});

test('load once, answer many: every client-corpus request over one loaded body; a replaced or bad body still answers exactly', async () => {
  for (const n of [2, 3]) {
    const pool = makePool(lib, inProcess, n);
    for (const f of client) {
      const body = enc.encode(f.calls.map((c) => JSON.stringify(c)).join('\n') + '\n');
      const loaded = await pool.load(body);
      for (const c of f.requests) {
        for (const options of [undefined, { diagnostics: true }]) {
          assert.deepEqual(await outcome(() => loaded.callsUsage(c.request, options)), await outcome(() => callsUsageFromJson(body, c.request, options)), f.name);
        }
      }
      for (const c of f.trace_requests) assert.deepEqual(await outcome(() => loaded.traceUsage(c.request)), await outcome(() => traceUsageFromJson(body, c.request)), f.name);
      await loaded.free();
    }
    const g = generate(400, 2);
    const request = { project_id: 'acme/agents', call_ids: g.roots, include_costs: true };
    const first = await pool.load(g.body);
    assert.equal(first.shards, n);
    const other = await pool.load(generate(300, 4).body);
    // The first body's tables are gone: it answers by the one-shot path, the same answer.
    assert.deepEqual(await first.callsUsage(request), callsUsageFromJson(g.body, request));
    assert.equal(pool.last.oneShot, true);
    await other.free();
    const bad = g.body.slice(0, g.body.length - 3);
    const broken = await pool.load(bad);
    assert.equal(broken.shards, 0);
    assert.deepEqual(await outcome(() => broken.callsUsage(request)), await outcome(() => callsUsageFromJson(bad, request)));
    // The request is still checked before the body.
    assert.deepEqual(await outcome(() => broken.callsUsage({ call_ids: 5 })), await outcome(() => callsUsageFromJson(bad, { call_ids: 5 })));
  }
});

test('a worker that fails (cannot load, runs out of memory) leaves the one-shot answer, now and later, and no hang', async () => {
  let made = 0;
  const failing = () => {
    // The second worker fails on its first message, as a worker whose script did not load.
    if (made++ === 0) return inProcess();
    let onError = () => {};
    return { worker: { postMessage: () => setImmediate(() => onError(new Error('worker died'))) }, on: (message, error) => (onError = error), close: async () => {} };
  };
  const pool = makePool(lib, failing, 2);
  const g = generate(400, 6);
  const request = { project_id: 'acme/agents', call_ids: g.roots, include_costs: true };
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(await pool.callsUsage(g.body, request), callsUsageFromJson(g.body, request));
    assert.equal(pool.last.oneShot, true);
  }
  const loaded = await pool.load(g.body);
  assert.equal(loaded.shards, 0);
  assert.deepEqual(await loaded.callsUsage(request), callsUsageFromJson(g.body, request));
});

test('loaded for stats: the parts make one accumulator that answers as one fed the whole body (stats too)', async () => {
  const stats = await import('weave-usage/stats');
  const inProcessStats = () => {
    let onMessage = () => {};
    const handle = shardHandler(lib, (m) => setImmediate(() => onMessage(m)), { loadStats: async () => stats });
    return { worker: { postMessage: (m) => setImmediate(() => handle(m)) }, on: (message) => (onMessage = message), close: async () => {} };
  };
  const g = generate(3000, 5);
  const request = { project_id: 'acme/agents', call_ids: g.roots, include_costs: true };
  const trace = { project_id: 'acme/agents', filter: { trace_ids: null, call_ids: null }, limit: 100000 };
  const timeline = { project_id: 'acme/agents', group_by: ['model', 'op_name', 'wb_user_id', 'thread_id'], granularity: 'hour', include_costs: true };
  const whole = new stats.UsageAccumulator({ stats: true });
  whole.push(g.body);
  const spawns = [['in process', (n) => makePool(lib, inProcessStats, n)], ['worker_threads', (n) => createUsagePool({ workers: n })]];
  for (const [how, make] of spawns) {
    for (const n of how === 'in process' ? [1, 2, 3] : [2]) {
      const pool = make(n);
      try {
        const loaded = await pool.load(g.body, { stats: true });
        assert.equal(loaded.shards, n, `${how}, ${n}`);
        const parts = await loaded.parts();
        assert.equal(parts.length, n);
        const acc = stats.UsageAccumulator.fromParts(parts);
        try {
          assert.equal(acc.calls, whole.calls);
          for (const options of [undefined, { diagnostics: true }]) assert.deepEqual(acc.finish(request, options), whole.finish(request, options), `${how}, ${n}`);
          assert.deepEqual(acc.finishTrace(trace), whole.finishTrace(trace));
          assert.deepEqual(acc.finishStats(timeline), whole.finishStats(timeline));
          assert.throws(() => acc.push('{}'), (e) => e.status === 422 && e.detail[0].type === 'stream_finished');
        } finally {
          acc.free();
        }
        // The main module reads the same parts, without their stats fields.
        const plain = UsageAccumulator.fromParts(parts);
        assert.deepEqual(plain.finish(request), whole.finish(request));
        assert.throws(() => plain.finishStats(timeline), (e) => e.status === 501);
        plain.free();
        // Loaded without stats: parts without stats fields, which the stats module reads without stats.
        const noStats = await pool.load(g.body);
        const bare = stats.UsageAccumulator.fromParts(await noStats.parts());
        assert.deepEqual(bare.finish(request), whole.finish(request));
        assert.throws(() => bare.finishStats(timeline), (e) => e.status === 409);
        bare.free();
        // A body that does not load has no parts.
        const broken = await pool.load(g.body.slice(0, -3), { stats: true });
        assert.equal(broken.shards, 0);
        await assert.rejects(() => broken.parts(), /not loaded/);
      } finally {
        await pool.close();
      }
    }
  }
  whole.free();
});

test('a shard worker without a stats module fails the load for stats, and answers in turn after it', async () => {
  const pool = makePool(lib, inProcess, 2);
  const g = generate(400, 3);
  const request = { project_id: 'acme/agents', call_ids: g.roots };
  const failed = await pool.load(g.body, { stats: true });
  assert.equal(failed.shards, 0);
  const loaded = await pool.load(g.body);
  assert.equal(loaded.shards, 2);
  assert.deepEqual(await loaded.callsUsage(request), callsUsageFromJson(g.body, request));
  assert.equal(pool.last.oneShot, false);
});

test('without SharedArrayBuffer, copies go only a few pieces ahead of each worker, and a worker that dies mid-way does not hang the load', async () => {
  const Shared = globalThis.SharedArrayBuffer;
  const g = generate(60000, 8); // ~100 MB: each shard far more than the copies let ahead
  const request = { project_id: 'acme/agents', call_ids: g.roots, include_costs: true };
  let most = 0;
  const counting = () => {
    let onMessage = () => {};
    let inFlight = 0;
    const handle = shardHandler(lib, (m) => setImmediate(() => onMessage(m)));
    const postMessage = (m) => {
      const n = m.op === 'push' ? m.bytes.length : 0;
      inFlight += n;
      most = Math.max(most, inFlight);
      setImmediate(() => ((inFlight -= n), handle(m)));
    };
    return { worker: { postMessage }, on: (message) => (onMessage = message), close: async () => {} };
  };
  let posted = 0;
  const dying = () => {
    let onMessage = () => {};
    let onError = () => {};
    let dead = false;
    const handle = shardHandler(lib, (m) => setImmediate(() => dead || onMessage(m)));
    // The fourth message to reach a worker kills it: it handles and says nothing more.
    const postMessage = (m) =>
      setImmediate(() => {
        if (dead) return;
        if (++posted === 4) (dead = true), onError(new Error('worker died'));
        else handle(m);
      });
    return { worker: { postMessage }, on: (message, error) => ((onMessage = message), (onError = error)), close: async () => {} };
  };
  globalThis.SharedArrayBuffer = undefined;
  try {
    const pool = makePool(lib, counting, 2);
    const loaded = await pool.load(g.body);
    assert.equal(loaded.shards, 2);
    assert.deepEqual(await loaded.callsUsage(request), callsUsageFromJson(g.body, request));
    assert.ok(most > 0 && most <= 40 << 20, `at most 4 pieces of 8 MB (and one being read) ahead of a worker: ${most}`);
    const broken = await makePool(lib, dying, 2).load(g.body);
    assert.equal(broken.shards, 0);
    assert.deepEqual(await broken.callsUsage(request), callsUsageFromJson(g.body, request));
  } finally {
    globalThis.SharedArrayBuffer = Shared;
  }
});

test('a Blob body: every fixture and client-corpus request through 2 and 3 shards gives the one-shot answer or error; its cuts are the bytes\' cuts', async () => {
  const all = cases().filter((_, i) => i % 2 === 0);
  let split = 0;
  for (const n of [2, 3]) {
    // The slices sent to the workers, which read them (as in browsers).
    const pool = makePool(lib, inProcess, n, null, true);
    for (const c of all) {
      const blob = new Blob([c.body]);
      assert.deepEqual(await splitBlob(blob, n), splitBody(c.body, n), `${c.name}: cuts`);
      assert.deepEqual(await parallel(pool, { ...c, body: blob }), await oneShot(c), `${c.name}, ${n} shards`);
      if (pool.last?.oneShot === false && pool.last.shards > 1) split++;
    }
  }
  assert.ok(split > all.length / 2, `${split} runs were split`);
  // A generated body, as JSON Lines and as an array, at more sizes than the fixtures have.
  const g = generate(3000, 12);
  const array = enc.encode('[' + new TextDecoder().decode(g.body).trim().split('\n').join(',\n ') + ']');
  for (const body of [g.body, array]) for (const n of [1, 2, 3, 4, 7]) assert.deepEqual(await splitBlob(new Blob([body]), n), splitBody(body, n), `${n} shards`);
});

test('a Blob that cannot be sent (a file-backed one in Node) is read here in pieces only a few ahead of each worker; one that cannot be read fails as the one-shot does, leaving the pool sound', async () => {
  const g = generate(60000, 8); // ~100 MB: each shard far more than the pieces let ahead
  const request = { project_id: 'acme/agents', call_ids: g.roots, include_costs: true };
  const want = callsUsageFromJson(g.body, request);
  let inFlight = 0;
  let most = 0;
  let late = 0; // pieces sent to a worker after the pool freed it, before the next `open`
  const counting = () => {
    let onMessage = () => {};
    let freed = false;
    const handle = shardHandler(lib, (m) => setImmediate(() => onMessage(m)));
    const postMessage = (m) => {
      // As Node's worker_threads refuse a file-backed Blob.
      if (m.op === 'blob') throw new TypeError('File-backed Blobs are not cloneable');
      if (m.op === 'free' || m.op === 'open') freed = m.op === 'free';
      else if (m.op === 'push' && freed) late++;
      const n = m.op === 'push' ? m.bytes.length : 0;
      inFlight += n;
      most = Math.max(most, inFlight);
      setImmediate(() => ((inFlight -= n), handle(m)));
    };
    return { worker: { postMessage }, on: (message) => (onMessage = message), close: async () => {} };
  };
  // It may send Blobs, but the workers refuse them: read here.
  const pool = makePool(lib, counting, 2, null, true);
  const seen = [];
  const loaded = await pool.load(new Blob([g.body]), { onProgress: (p) => seen.push(p) });
  assert.equal(loaded.shards, 2);
  assert.deepEqual(await loaded.callsUsage(request), want);
  assert.ok(most > 0 && most <= 2 * (40 << 20), `at most 4 pieces of 8 MB (and one being read) ahead of each worker: ${most}`);
  assert.ok(seen.length > 2 && seen.every((p) => p.total === g.body.length) && seen.at(-1).bytes === g.body.length);
  // A Blob whose reading fails part-way (a file changed or gone): the
  // one-shot reads it too and fails alike; pieces still being read then are
  // not sent, so the next body reads right.
  const real = new Blob([g.body]);
  const failing = (blob, base = 0) => ({
    size: blob.size,
    slice: (a = 0, b = blob.size) => failing(blob.slice(a, b), base + a),
    // Pieces past 30 MB fail, and so does the whole (the 1 MB windows that
    // plan the cuts read); the others take a while, so that one is still
    // being read when the load fails.
    arrayBuffer: () => {
      const piece = blob.size > 1 << 20;
      const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
      if (piece && base + blob.size > 30 << 20) return wait(20).then(() => Promise.reject(new Error('NotReadableError: the file changed')));
      return piece ? wait(40).then(() => blob.arrayBuffer()) : blob.arrayBuffer();
    },
  });
  // One that gives fewer bytes than asked for (it changed while read): no
  // hang waiting for bytes that never come, but that error, from the load
  // and again from the one-shot path's reading.
  const shrinking = (blob, base = 0) => ({
    size: blob.size,
    slice: (a = 0, b = blob.size) => shrinking(blob.slice(a, b), base + a),
    arrayBuffer: async () => (await blob.arrayBuffer()).slice(0, Math.max(0, blob.size - (base > 0 ? 1000 : 0))),
  });
  await assert.rejects(pool.callsUsage(shrinking(real), request), /changed while it was read/);
  assert.equal(pool.last.oneShot, true);
  assert.match(String(pool.last.why?.message ?? pool.last.why), /changed while it was read/);
  // Cut short (as a half-written export is): the one-shot's error, and the
  // Blob read in pieces for it too, never whole.
  let largest = 0;
  const recording = (blob) => ({
    size: blob.size,
    slice: (a, b) => recording(blob.slice(a, b)),
    arrayBuffer: () => ((largest = Math.max(largest, blob.size)), blob.arrayBuffer()),
  });
  const cut = g.body.subarray(0, g.body.length - 100);
  assert.deepEqual(await outcome(() => pool.callsUsage(recording(new Blob([cut])), request)), await outcome(() => callsUsageFromJson(cut, request)));
  assert.equal(pool.last.oneShot, true);
  assert.ok(largest > 0 && largest <= 8 << 20, `read ${largest} bytes at once`);
  // Empty: as the one-shot answers an empty body.
  assert.deepEqual(await outcome(() => pool.callsUsage(new Blob([]), request)), await outcome(() => callsUsageFromJson(new Uint8Array(0), request)));
  await assert.rejects(pool.callsUsage(failing(real), request), /the file changed/);
  assert.equal(pool.last.oneShot, true);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(late, 0, 'no piece sent after the failed load freed the workers');
  assert.deepEqual(await pool.callsUsage(real, request), want);
  assert.equal(pool.last.shards, 2);
  await pool.close();
});

test('real worker_threads read a file through a Blob (fs.openAsBlob): the one-shot answers, the file never read whole', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'weave-usage-'));
  try {
    const g = generate(6000, 9);
    const file = join(dir, 'calls.jsonl');
    writeFileSync(file, g.body);
    const request = { project_id: 'acme/agents', call_ids: g.roots, include_costs: true };
    const blob = await openAsBlob(file);
    const pool = createUsagePool({ workers: 2 });
    try {
      assert.deepEqual(await pool.callsUsage(blob, request), callsUsageFromJson(g.body, request));
      assert.equal(pool.last.oneShot, false);
      assert.equal(pool.last.shards, 2);
      const trace = { project_id: 'acme/agents', filter: { trace_ids: null, call_ids: null }, limit: 100000 };
      assert.deepEqual(await traceUsageParallel(blob, trace, undefined, { workers: 2 }), traceUsageFromJson(g.body, trace));
      // Cut short, as a half-written export would be: the one-shot's error.
      writeFileSync(file, g.body.subarray(0, g.body.length - 100));
      const cut = await openAsBlob(file);
      assert.deepEqual(await outcome(() => pool.callsUsage(cut, request)), await outcome(() => callsUsageFromJson(g.body.subarray(0, g.body.length - 100), request)));
    } finally {
      await pool.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a Blob the workers read themselves: one they cannot read, or that comes short, is answered by the one-shot path, with the reason', async () => {
  const g = generate(400, 3);
  const request = { project_id: 'acme/agents', call_ids: g.roots, include_costs: true };
  const want = callsUsageFromJson(g.body, request);
  const pool = makePool(lib, inProcess, 2, null, true);
  const real = new Blob([g.body]);
  assert.deepEqual(await pool.callsUsage(real, request), want);
  assert.deepEqual(pool.last, { shards: 2, oneShot: false, rereads: 0 });
  // No stream() (a Blob-like of one's own): the workers fail, this thread reads it in pieces.
  const plain = (blob) => ({ size: blob.size, slice: (a, b) => plain(blob.slice(a, b)), arrayBuffer: () => blob.arrayBuffer() });
  assert.deepEqual(await pool.callsUsage(plain(real), request), want);
  assert.equal(pool.last.oneShot, true);
  // A stream that ends early (the file changed): the worker says so.
  const short = (blob) => ({ size: blob.size, slice: (a, b) => short(blob.slice(a, b)), arrayBuffer: () => blob.arrayBuffer(), stream: () => blob.slice(0, blob.size - 10).stream() });
  assert.deepEqual(await pool.callsUsage(short(real), request), want);
  assert.equal(pool.last.oneShot, true);
  assert.match(pool.last.why.message, /changed while it was read/);
  // And the pool goes on.
  assert.deepEqual(await pool.callsUsage(real, request), want);
  assert.deepEqual(pool.last, { shards: 2, oneShot: false, rereads: 0 });
});

/** Shard workers' `lib` whose accumulators count the bytes pushed into
 * them (`pushed`), and `read.abortAtFirstPush()`: a signal that aborts with
 * `reason` at the next push. */
function givingUp(reason) {
  let onPush = () => {};
  const counter = { pushed: 0 };
  class Counting extends lib.UsageAccumulator {
    push(chunk) {
      counter.pushed += chunk.length;
      onPush();
      return super.push(chunk);
    }
  }
  counter.lib = { ...lib, UsageAccumulator: Counting };
  // Shards read for one request count their pushes too.
  counter.reading = { ...shardReading, accumulator: (select) => Object.setPrototypeOf(shardReading.accumulator(select), Counting.prototype) };
  counter.abortAtFirstPush = () => {
    const c = new AbortController();
    onPush = () => ((onPush = () => {}), c.abort(reason));
    return c.signal;
  };
  return counter;
}

/** Resolves once `pool` has done what it was asked before (the promise of
 * work given up rejects at once; the pool lets the workers go after). */
const settled = (pool) => pool.load(new Uint8Array(0)).then(() => {});

/** A Blob of `bytes` whose stream gives chunks of 256 KB, each after a
 * turn of the event loop, as browsers' do (Node's gives an in-memory
 * Blob's bytes in one chunk, at once). */
const chunked = (bytes) => ({
  size: bytes.length,
  slice: (a, b) => chunked(bytes.subarray(a, b)),
  arrayBuffer: async () => bytes.slice().buffer,
  stream: () => {
    let at = 0;
    const next = (c) => (at < bytes.length ? c.enqueue(bytes.slice(at, (at += 256 << 10))) : c.close());
    return new ReadableStream({ pull: (c) => new Promise((turn) => setImmediate(turn)).then(() => next(c)) });
  },
});

test('a signal gives the work up: the promise rejects with its reason at once, the workers stop reading, and the pool answers exactly after', async () => {
  const g = generate(20000, 9); // ~35 MB: two shards of ~17 MB, pieces of 8 MB
  const request = { project_id: 'acme/agents', call_ids: g.roots, include_costs: true };
  const want = callsUsageFromJson(g.body, request);
  const reason = new Error('no longer wanted');
  const read = givingUp(reason);
  const isReason = (e) => e === reason;

  // Aborted before: nothing is read.
  const pool = makePool(lib, inProcessWith(read.lib, read.reading), 2);
  const before = AbortSignal.abort(reason);
  await assert.rejects(pool.callsUsage(g.body, request, null, { signal: before }), isReason);
  await assert.rejects(pool.load(g.body, { signal: before }), isReason);
  await assert.rejects(callsUsageParallel(g.body, request, null, { signal: before }), isReason);
  assert.equal(read.pushed, 0);

  // Aborted while the workers read (the body shared: the pieces already
  // sent are skipped): the rest of the piece being read, then nothing.
  read.pushed = 0;
  await assert.rejects(pool.callsUsage(g.body, request, null, { signal: read.abortAtFirstPush() }), isReason);
  assert.deepEqual(await pool.callsUsage(g.body, request), want);
  assert.ok(read.pushed > g.body.length, `then read whole again: ${read.pushed}`);
  read.pushed = 0;
  const signal = read.abortAtFirstPush();
  let told = 0;
  await assert.rejects(pool.load(g.body, { signal, onProgress: () => (told += signal.aborted) }), isReason);
  await settled(pool);
  assert.ok(read.pushed > 0 && read.pushed <= 8 << 20, `the aborted load read one piece at most: ${read.pushed} of ${g.body.length}`);
  assert.equal(told, 0, 'no progress told after the abort');

  // A loaded body: an aborted answer leaves it loaded.
  const loaded = await pool.load(g.body);
  await assert.rejects(loaded.callsUsage(request, null, { signal: before }), isReason);
  assert.deepEqual(await loaded.callsUsage(request), want);
  // No reason given: an AbortError.
  const c = new AbortController();
  c.abort();
  await assert.rejects(loaded.traceUsage({ project_id: 'acme/agents' }, null, { signal: c.signal }), (e) => e.name === 'AbortError');

  // Waiting for its turn: rejects then and there, and the work before it goes on.
  const order = [];
  const first = pool.callsUsage(g.body, request).then((r) => (order.push('first'), r));
  const waiting = new AbortController();
  const second = pool.callsUsage(g.body, request, null, { signal: waiting.signal }).catch((e) => (order.push('second'), e));
  waiting.abort(reason);
  assert.equal(await second, reason);
  assert.deepEqual(await first, want);
  assert.deepEqual(order, ['second', 'first']);

  // Workers reading Blob slices themselves (browsers): told at once, they stop.
  const slices = makePool(lib, inProcessWith(read.lib, read.reading), 2, null, true);
  read.pushed = 0;
  await assert.rejects(slices.callsUsage(chunked(g.body), request, null, { signal: read.abortAtFirstPush() }), isReason);
  await settled(slices);
  assert.ok(read.pushed > 0 && read.pushed < g.body.length / 8, `the slices were read no further: ${read.pushed} of ${g.body.length}`);
  assert.deepEqual(await slices.callsUsage(chunked(g.body), request), want);
  await Promise.all([pool.close(), slices.close()]);
});

test('a signal gives the work up where nothing can be shared: no piece of a Blob read here after it, workers reading slices told at once', async () => {
  const g = generate(20000, 9);
  const request = { project_id: 'acme/agents', call_ids: g.roots, include_costs: true };
  const want = callsUsageFromJson(g.body, request);
  const reason = new Error('no longer wanted');
  const read = givingUp(reason);
  // A Blob whose reads are counted, once `signal` has aborted.
  let late = 0;
  const counted = (blob, signal) => ({
    size: blob.size,
    slice: (a, b) => {
      const part = blob.slice(a, b);
      return { size: part.size, slice: part.slice.bind(part), arrayBuffer: () => (signal.aborted && late++, part.arrayBuffer()) };
    },
    arrayBuffer: () => blob.arrayBuffer(),
  });
  const Shared = globalThis.SharedArrayBuffer;
  globalThis.SharedArrayBuffer = undefined;
  try {
    const pool = makePool(lib, inProcessWith(read.lib, read.reading), 2);
    await assert.rejects(pool.callsUsage(g.body, request, null, { signal: read.abortAtFirstPush() }), (e) => e === reason);
    assert.deepEqual(await pool.callsUsage(g.body, request), want);
    const signal = read.abortAtFirstPush();
    await assert.rejects(pool.callsUsage(counted(new Blob([g.body]), signal), request, null, { signal }), (e) => e === reason);
    assert.equal(late, 0, 'no piece of the Blob read after the abort');
    assert.deepEqual(await pool.callsUsage(new Blob([g.body]), request), want);
    // Workers reading Blob slices themselves: the message tells them at once.
    const slices = makePool(lib, inProcessWith(read.lib, read.reading), 2, null, true);
    read.pushed = 0;
    await assert.rejects(slices.callsUsage(chunked(g.body), request, null, { signal: read.abortAtFirstPush() }), (e) => e === reason);
    await settled(slices);
    assert.ok(read.pushed > 0 && read.pushed < g.body.length / 8, `the slices were read no further: ${read.pushed} of ${g.body.length}`);
    assert.deepEqual(await slices.callsUsage(chunked(g.body), request), want);
    await Promise.all([pool.close(), slices.close()]);
  } finally {
    globalThis.SharedArrayBuffer = Shared;
  }
});

test('real worker_threads: a load given up halfway rejects with the reason, and the pool answers exactly after', async () => {
  const g = generate(20000, 9);
  const request = { project_id: 'acme/agents', call_ids: g.roots, include_costs: true };
  const want = callsUsageFromJson(g.body, request);
  const reason = new Error('no longer wanted');
  const pool = createUsagePool({ workers: 2 });
  try {
    const c = new AbortController();
    await assert.rejects(pool.callsUsage(g.body, request, null, { signal: c.signal, onProgress: () => c.abort(reason) }), (e) => e === reason);
    assert.deepEqual(await pool.callsUsage(g.body, request), want);
    const once = new AbortController();
    await assert.rejects(callsUsageParallel(g.body, request, null, { workers: 2, signal: once.signal, onProgress: () => once.abort(reason) }), (e) => e === reason);
  } finally {
    await pool.close();
  }
});
