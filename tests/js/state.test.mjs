// No state leaks, through the built package: repeated calls keep the wasm
// memory flat, a thrown error leaves nothing half-built, an accumulator that
// is never freed is reclaimed, and no input makes the module trap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { callsUsage, callsUsageFromJson, UsageAccumulator, wasmMemoryBytes } from 'weave-usage';
import { accumulate, expectError } from './helpers.mjs';

const body = readFileSync(new URL('../../www/sample/traces.jsonl', import.meta.url));
const text = body.toString();
const calls = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
const request = { project_id: 'acme/agents', call_ids: calls.filter((c) => !c.parent_id).map((c) => c.id), include_costs: true };
const want = callsUsageFromJson(body, request);
const enc = new TextEncoder();

/** Runs `f`, swallowing what it throws (for runs that exist to fail). */
const failing = (f) => {
  try {
    f();
  } catch {
    return;
  }
  throw new Error('expected it to throw');
};

/** A buffer that has been transferred away. */
function detached() {
  const buffer = new ArrayBuffer(8);
  structuredClone(buffer, { transfer: [buffer] });
  return buffer;
}

const runs = {
  'callsUsage (objects)': () => assert.deepEqual(callsUsage(calls, request), want),
  'callsUsageFromJson (bytes)': () => assert.deepEqual(callsUsageFromJson(body, request), want),
  'callsUsageFromJson (string)': () => assert.deepEqual(callsUsageFromJson(text, request), want),
  'UsageAccumulator (4 KiB chunks, two finishes, free)': () => {
    const acc = new UsageAccumulator();
    for (let at = 0; at < body.length; at += 4096) acc.push(body.subarray(at, at + 4096));
    assert.deepEqual(acc.finish(request), want);
    acc.finish({ ...request, include_costs: false });
    acc.free();
  },
  'errors: 400, 422 request, 422 call, failed accumulator, hostile values': () => {
    failing(() => callsUsageFromJson(text + '\n{"id": oops}', request));
    failing(() => callsUsage(calls, { ...request, limit: 0 }));
    failing(() => callsUsage([...calls, 7], request));
    failing(() => callsUsage([{ id: 1n, trace_id: 't' }], request));
    failing(() => callsUsageFromJson(detached(), request));
    const acc = new UsageAccumulator();
    acc.push(body);
    failing(() => acc.push(enc.encode('{"id": nope}\n')));
    failing(() => acc.finish(request));
    acc.free();
  },
};

test('1,000 repeated calls keep the wasm memory flat after the first: not one byte more', () => {
  for (const [name, run] of Object.entries(runs)) {
    run();
    const first = wasmMemoryBytes();
    for (let i = 0; i < 1000; i++) run();
    assert.equal(wasmMemoryBytes() - first, 0, `${name}: memory grew from ${first} bytes`);
  }
});

test('a thrown error leaves nothing half-built: a failed accumulator repeats its error and can be freed', () => {
  const head = text.split('\n').slice(0, 3).join('\n') + '\n';
  const acc = new UsageAccumulator();
  acc.push(enc.encode(head));
  assert.equal(acc.calls, 3);
  const at = enc.encode(head).length + 7;
  const detail = [{ loc: ['body', at], msg: `Invalid JSON at line 4, column 8 (byte ${at}): invalid literal`, type: 'json_invalid' }];
  expectError(() => acc.push(enc.encode('{"id": nope}\n')), 400, detail);
  // Sticky: every later push and finish repeats it, exactly; nothing more is read.
  expectError(() => acc.push(body), 400, detail);
  expectError(() => acc.finish(request), 400, detail);
  assert.equal(acc.calls, 3);
  acc.free();
  assert.deepEqual(callsUsageFromJson(body, request), want, 'the module answers as before');
});

test('a chunk that is not bytes (detached, revoked proxy, number) is refused without touching the stream', () => {
  const { proxy, revoke } = Proxy.revocable(new Uint8Array(4), {});
  revoke();
  const acc = new UsageAccumulator();
  acc.push(body.subarray(0, 500));
  const bad = 'Input should be a Uint8Array, an ArrayBuffer or a string';
  expectError(() => acc.push(detached()), 422, [{ loc: ['body'], msg: `${bad}: Cannot perform Construct on a detached ArrayBuffer`, type: 'bytes_type' }]);
  expectError(() => acc.push(proxy), 422, [{ loc: ['body'], msg: `${bad}: Cannot perform 'getPrototypeOf' on a proxy that has been revoked`, type: 'bytes_type' }]);
  expectError(() => acc.push(42), 422, [{ loc: ['body'], msg: bad, type: 'bytes_type' }]);
  // A typed array whose own `length` lies is read for what it holds.
  const rest = body.slice(500);
  Object.defineProperty(rest, 'length', { get: () => 1e9 });
  acc.push(rest);
  assert.deepEqual(acc.finish(request), want, 'the stream carried on as if the bad chunks never came');
  // finish with a bad request, then a good one.
  expectError(() => acc.finish({ ...request, limit: 'many' }), 422, [{ loc: ['body', 'limit'], msg: 'Input should be a valid integer, unable to parse string as an integer', type: 'int_parsing' }]);
  assert.deepEqual(acc.finish(request), want);
  expectError(() => acc.push(body), 422, [{ loc: ['body'], msg: 'No more data can be pushed after finish', type: 'stream_finished' }]);
  acc.free();
  // Freed: a 410 before anything reaches wasm, free() again does nothing,
  // and nothing else is affected.
  expectError(() => acc.push(body), 410, [{ loc: ['accumulator'], msg: 'This UsageAccumulator has been freed', type: 'accumulator_freed' }]);
  acc.free();
  assert.deepEqual(callsUsage(calls, request), want);
});

test("errors thrown by the caller's own values (getters, proxies) come back as 422s, and the next call is fine", () => {
  const getter = { id: 'a', trace_id: 't' };
  Object.defineProperty(getter, 'summary', { enumerable: true, get() { throw new Error('boom'); } });
  const { proxy, revoke } = Proxy.revocable([], {});
  revoke();
  const cases = [
    [() => callsUsage([getter], request), [{ loc: ['calls'], msg: 'Input is not JSON-serializable: boom', type: 'json_type' }]],
    [() => callsUsage(proxy, request), [{ loc: ['calls'], msg: "Input is not JSON-serializable: Cannot perform 'IsArray' on a proxy that has been revoked", type: 'json_type' }]],
    [() => callsUsage(calls, new Proxy({}, { ownKeys() { throw new Error('no keys'); } })), [{ loc: ['body'], msg: 'Input is not JSON-serializable: no keys', type: 'json_type' }]],
    [() => callsUsageFromJson(body, request, { toJSON() { throw new Error('options!'); } }), [{ loc: ['options'], msg: 'Input is not JSON-serializable: options!', type: 'json_type' }]],
  ];
  for (const [run, detail] of cases) {
    expectError(run, 422, detail);
    assert.deepEqual(callsUsage(calls, request), want);
  }
});

test('an accumulator that is never freed is reclaimed when collected (FinalizationRegistry)', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  const settle = async () => {
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const round = () => {
    for (let i = 0; i < 200; i++) {
      const acc = new UsageAccumulator();
      acc.push(body);
      acc.finish(request);
    }
  };
  round();
  await settle();
  const first = wasmMemoryBytes();
  for (let r = 0; r < 5; r++) {
    round();
    await settle();
  }
  // 1,000 more unfreed accumulators of ~95 KB input each: nothing kept.
  assert.equal(wasmMemoryBytes() - first, 0);
});

test('no input traps: 3,000 seeded random and mutated bodies give an answer or an Error with status 400/422', () => {
  let x = 0x2545f491;
  const rand = (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const alphabet = enc.encode('{}[]":,\\ntrufalsenull0123456789-+.eE é\u{1F600}\r\n\t"id""trace_id""parent_id""summary""usage""prompt_tokens"');
  let answers = 0;
  for (let i = 0; i < 3000; i++) {
    let bytes;
    if (i % 2) {
      bytes = new Uint8Array(rand(200));
      for (let k = 0; k < bytes.length; k++) bytes[k] = rand(4) ? alphabet[rand(alphabet.length)] : rand(256);
    } else {
      // A prefix of whole lines, then up to three bytes changed.
      bytes = Uint8Array.from(body.subarray(0, body.lastIndexOf(10, rand(body.length)) + 1));
      for (let k = rand(4); k > 0; k--) bytes[rand(bytes.length || 1)] = rand(4) ? alphabet[rand(alphabet.length)] : rand(256);
    }
    for (const run of [() => callsUsageFromJson(bytes, request), () => accumulate(UsageAccumulator, bytes, request, 1 + rand(64))]) {
      try {
        run();
        answers++;
      } catch (e) {
        assert.ok(e instanceof Error && (e.status === 400 || e.status === 422) && Array.isArray(e.detail), `case ${i}: ${e}`);
      }
    }
  }
  assert.ok(answers > 500, `some bodies are valid (${answers})`);
  assert.deepEqual(callsUsageFromJson(body, request), want);
});

// A 632 MB answer, refused from its size before it is built (it once took
// ~3 GB of memory to build and then fail in JSON.parse).
test('an answer too big for one JavaScript string is a 500, and the module carries on', () => {
  const n = 700_000;
  const lines = [];
  for (let i = 0; i < n; i++) lines.push(`{"id":"c${i}","trace_id":"t${i}","ended_at":"x","summary":{"usage":{"model-a":{"requests":1},"model-b":{"requests":1},"model-c":{"requests":1}}}}`);
  const ids = Array.from({ length: n }, (_, i) => `c${i}`);
  let e = null;
  try {
    callsUsageFromJson(lines.join('\n'), { project_id: 'p', call_ids: ids, limit: n });
  } catch (error) {
    e = error;
  }
  assert.ok(e instanceof Error, 'it throws');
  assert.equal(e.status, 500);
  assert.deepEqual(e.detail.map((d) => [d.loc, d.type]), [[['response'], 'response_too_large']]);
  assert.match(e.detail[0].msg, /^The answer is at least \d+ bytes of JSON, more than the 536870888 bytes one JavaScript string can hold \(V8's longest string\); ask for fewer call ids or a smaller limit$/);
  assert.deepEqual(callsUsageFromJson(body, request), want);
});

