// The JavaScript boundary, through the built package: whatever the caller
// does with an accumulator (use it after free(), copy it, call it from
// inside its own call) or however little stack it leaves, every thrown
// value is an Error with `status` and `detail`, nothing traps, and the
// module and the accumulator keep giving exact answers. How each is held is
// in docs/hostile-inputs.md ("The boundary").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { isUsageError, judge, nearLimit } from './stack.mjs';
import { rollup } from '../../bench/baseline.mjs';

// Coverage is on while the package loads and makes its first call, which
// warms it up, one that takes none of its paths but the shortest.
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
const { callsUsage, callsUsageFromJson, traceUsage, UsageAccumulator, wasmMemoryBytes } = await import('weave-usage');
new UsageAccumulator().free();
const { result: loadCoverage } = await session.post('Profiler.takePreciseCoverage');
await session.post('Profiler.stopPreciseCoverage');
session.disconnect();

const body = readFileSync(new URL('../../www/sample/traces.jsonl', import.meta.url));
const text = body.toString();
const calls = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
const request = { project_id: 'acme/agents', call_ids: calls.filter((c) => !c.parent_id).map((c) => c.id), include_costs: true };
const want = callsUsageFromJson(body, request);
const wantText = JSON.stringify(want);

/** The error `run` throws, which must be the package's kind. */
function thrown(run) {
  try {
    run();
  } catch (e) {
    assert.ok(isUsageError(e), `an Error with status and detail: ${e?.stack ?? e}`);
    return e;
  }
  assert.fail('expected it to throw');
}

/** `[status, type]` of what `run` throws. */
const outcome = (run) => {
  const e = thrown(run);
  return [e.status, e.detail[0].type];
};

test('a freed accumulator: a million calls (push, finish, finishTrace, calls, bytesRead, free) each give a 410 or nothing, and the module is intact', () => {
  const acc = new UsageAccumulator();
  acc.push(body);
  acc.free();
  const chunk = body.subarray(0, 100);
  const uses = [() => acc.push(chunk), () => acc.finish(request), () => acc.finishTrace({ project_id: 'p' }), () => acc.calls, () => acc.bytesRead, () => acc.free()];
  let refused = 0;
  let other = null;
  for (let i = 0; i < 1_000_000; i++) {
    const k = i % 6;
    try {
      uses[k]();
      if (k !== 5) other ??= `call ${i} returned`;
    } catch (e) {
      if (isUsageError(e) && e.status === 410 && e.detail[0].type === 'accumulator_freed') refused++;
      else other ??= `call ${i}: ${e?.stack ?? e}`;
    }
  }
  // The module first: a fresh accumulator and a one-shot call are exact.
  const fresh = new UsageAccumulator();
  fresh.push(body);
  assert.deepEqual(fresh.finish(request), want);
  fresh.free();
  fresh.free();
  assert.deepEqual(callsUsageFromJson(body, request), want);
  assert.equal(other, null);
  assert.equal(refused, 833_334);
  assert.deepEqual(thrown(() => acc.push(chunk)).detail, [{ loc: ['accumulator'], msg: 'This UsageAccumulator has been freed', type: 'accumulator_freed' }]);
});

/** A deep copy that keeps prototypes and copies own properties, as
 * prototype-preserving clone helpers do. */
function deepClone(v) {
  if (typeof v !== 'object' || v === null) return v;
  const out = Object.create(Object.getPrototypeOf(v));
  for (const k of Reflect.ownKeys(v)) out[k] = deepClone(v[k]);
  return out;
}

test('a copy of an accumulator (Object.assign onto its prototype, a spread, a deep clone) holds nothing: 422 for its use, free() does nothing, the original is untouched', () => {
  const half = body.lastIndexOf(10, body.length >> 1) + 1;
  const acc = new UsageAccumulator();
  acc.push(body.subarray(0, half));
  const calledBefore = acc.calls;
  const copies = {
    'Object.assign': Object.assign(Object.create(UsageAccumulator.prototype), acc),
    spread: Object.setPrototypeOf({ ...acc }, UsageAccumulator.prototype),
    'deep clone': deepClone(acc),
    'Object.create': Object.create(acc),
  };
  // Had the copy freed the original, the next accumulator would take its
  // memory, and the original would read that one's calls.
  copies['Object.assign'].free();
  const other = new UsageAccumulator();
  other.push(new TextEncoder().encode('{"id":"x","trace_id":"y"}\n'.repeat(50)));
  assert.equal(acc.calls, calledBefore);
  acc.push(body.subarray(half));
  assert.deepEqual(acc.finish(request), want);
  assert.equal(other.calls, 50);
  const notOne = [{ loc: ['accumulator'], msg: 'Input should be a UsageAccumulator made by `new UsageAccumulator()` (a copy of one holds no stream)', type: 'accumulator_type' }];
  for (const [how, copy] of Object.entries(copies)) {
    assert.ok(copy instanceof UsageAccumulator, how);
    copy.free();
    copy.free();
    assert.deepEqual(thrown(() => copy.push(body)).detail, notOne, how);
    assert.deepEqual(outcome(() => copy.finish(request)), [422, 'accumulator_type'], how);
    assert.deepEqual(outcome(() => copy.finishTrace({ project_id: 'p' })), [422, 'accumulator_type'], how);
    assert.deepEqual(outcome(() => copy.calls), [422, 'accumulator_type'], how);
    assert.deepEqual(outcome(() => copy.bytesRead), [422, 'accumulator_type'], how);
  }
  assert.deepEqual(outcome(() => UsageAccumulator.prototype.push.call(undefined, body)), [422, 'accumulator_type']);
  assert.deepEqual(outcome(() => UsageAccumulator.prototype.finish.call(42, request)), [422, 'accumulator_type']);
  assert.deepEqual(acc.finish(request), want, 'the original, after all that');
  acc.free();
  other.free();
});

test('a call on an accumulator from inside its own call (toJSON, a getter, a Proxy trap it runs) is refused with 409; the outer call completes and the accumulator works', () => {
  const acc = new UsageAccumulator();
  const inner = [];
  const tryAll = () => {
    for (const use of [() => acc.push(body), () => acc.finish(request), () => acc.finishTrace({ project_id: 'p' }), () => acc.calls, () => acc.bytesRead, () => acc.free()]) {
      try {
        use();
        inner.push('returned');
      } catch (e) {
        inner.push(isUsageError(e) ? `${e.status} ${e.detail[0].type}` : String(e));
      }
    }
  };
  const refusedAll = Array(6).fill('409 accumulator_busy');
  // A chunk whose prototype lookup (what push checks first) calls back in.
  const chunk = new Proxy(body.subarray(0, 1000), {
    getPrototypeOf(target) {
      tryAll();
      return Reflect.getPrototypeOf(target);
    },
  });
  assert.deepEqual(outcome(() => acc.push(chunk)), [422, 'bytes_type'], 'a proxy is not bytes; the push fails cleanly');
  assert.deepEqual(inner.splice(0), refusedAll);
  acc.push(body);
  // A request whose toJSON calls back in; so do getters of its options.
  const reentrant = { toJSON: () => (tryAll(), request) };
  assert.deepEqual(acc.finish(reentrant), want);
  assert.deepEqual(inner.splice(0), refusedAll);
  const options = {};
  Object.defineProperty(options, 'diagnostics', { enumerable: true, get: () => (tryAll(), false) });
  assert.deepEqual(acc.finish(request, options), want);
  assert.deepEqual(inner.splice(0), refusedAll);
  // Other calls from inside are fine: they are other calls.
  const nested = { toJSON: () => (inner.push(JSON.stringify(callsUsageFromJson(body, request)) === wantText), request) };
  assert.deepEqual(acc.finish(nested), want);
  assert.deepEqual(inner.splice(0), [true]);
  assert.equal(acc.calls, calls.length);
  acc.free();
  assert.deepEqual(outcome(() => acc.calls), [410, 'accumulator_freed']);
});

/** Pieces of `body`, split anywhere. */
const pieces = (bytes, n) => Array.from({ length: n }, (_, i) => bytes.subarray(Math.floor((i * bytes.length) / n), Math.floor(((i + 1) * bytes.length) / n)));

test('near the stack limit every call answers exactly or is refused (500 stack_exhausted) before it starts, through thousands of overflows; then everything is exact', () => {
  const chunks = pieces(body, 16_000);
  let next = 0;
  const streaming = new UsageAccumulator();
  const full = new UsageAccumulator();
  full.push(body);
  const traceWant = JSON.stringify(traceUsage(calls, { project_id: 'acme/agents' }));
  const ops = [
    ['push', () => (next < chunks.length ? (streaming.push(chunks[next]), next++) : -1)],
    ['calls', () => full.calls],
    ['finish', () => full.finish(request)],
    ['callsUsageFromJson', () => callsUsageFromJson(body, request)],
    ['callsUsage', () => callsUsage(calls, request)],
    ['traceUsage', () => traceUsage(calls, { project_id: 'acme/agents' })],
    ['new + free', () => new UsageAccumulator().free()],
  ];
  for (const [name, op] of ops) if (name !== 'push') op();
  const memory = wasmMemoryBytes();
  const { outcomes, overflows } = nearLimit(ops, { span: 400, rounds: 16 });
  const { counts, bad } = judge(outcomes, (op, value) => {
    if (op === 'push') return typeof value === 'number';
    if (op === 'calls') return value === calls.length;
    if (op === 'new + free') return value === undefined;
    return JSON.stringify(value) === (op === 'traceUsage' ? traceWant : wantText);
  });
  assert.equal(bad, null);
  assert.ok(counts.refused > 1_500 && counts.answers > 10_000, JSON.stringify(counts));
  assert.ok(overflows + counts.refused + counts.notEntered > 3_000, `${overflows} overflows`);
  // Every piece pushed exactly once, whether at depth or here.
  for (; next < chunks.length; next++) streaming.push(chunks[next]);
  assert.deepEqual(streaming.finish(request), want);
  assert.deepEqual(full.finish(request), want);
  assert.deepEqual(callsUsageFromJson(body, request), want);
  assert.deepEqual(callsUsage(calls, request), want);
  streaming.free();
  full.free();
  full.free();
  assert.equal(wasmMemoryBytes(), memory, 'nothing leaked');
});

test('a process whose first calls are made near the stack limit, before the package has warmed up: the same', () => {
  const script = fileURLToPath(new URL('./stack-first.mjs', import.meta.url));
  const out = JSON.parse(execFileSync(process.execPath, [script], { encoding: 'utf8' }));
  assert.equal(out.bad, null);
  assert.ok(out.counts.refused > 0 && out.counts.answers > 0, JSON.stringify(out.counts));
  assert.equal(out.after, true);
});

test('a process that imports the package and makes no call: it warms up when idle, and exits by itself', () => {
  const script = fileURLToPath(new URL('./warm-idle.mjs', import.meta.url));
  const out = JSON.parse(execFileSync(process.execPath, [script], { encoding: 'utf8', timeout: 30_000 }));
  assert.equal(out.warmUp, 1, 'warmUp ran once');
  // The warm-up's own calls: one per run of warm() with bytes or text (17
  // rounds), and the tier-up call.
  assert.ok(out.calls > 17, `callsUsageFromJson ran ${out.calls} times`);
  // Only an import: the warm-up's timer does not keep Node alive.
  const t = performance.now();
  execFileSync(process.execPath, ['--input-type=module', '-e', "import 'weave-usage';"], { encoding: 'utf8', timeout: 30_000 });
  assert.ok(performance.now() - t < 10_000);
});

test('the idle tier-up body: Weave-shaped calls, half of them passed over, answered as the plain-JS rollup answers them', async () => {
  // guard.js swallows a failure of the idle tier-up call (the module is no
  // worse off), so a body that stopped reading, or stopped reaching the
  // answer's stage, would go unnoticed but for this.
  const { tierUpBody, TIER_UP_REQUEST } = await import('../../pkg/guard.js');
  const body = tierUpBody();
  const calls = new TextDecoder().decode(body).trim().split('\n').map((line) => JSON.parse(line));
  const requested = new Set(TIER_UP_REQUEST.call_ids);
  const traces = new Set(calls.filter((c) => requested.has(c.id)).map((c) => c.trace_id));
  const reached = calls.filter((c) => traces.has(c.trace_id));
  assert.ok(TIER_UP_REQUEST.call_ids.length > 1 && traces.size === TIER_UP_REQUEST.call_ids.length, 'several traces requested');
  assert.equal(reached.length * 2, calls.length, 'half the calls are of traces not requested');
  assert.ok(
    calls.every((c) => Object.keys(c).join() === Object.keys(calls[0]).join() && Object.keys(c).length >= 20),
    'every call has the members of a Weave call, in one order',
  );
  assert.ok(reached.every((c) => c.started_at && (c.parent_id === null) === requested.has(c.id)), 'dated trees under the requested calls');
  const answer = callsUsageFromJson(body, TIER_UP_REQUEST);
  assert.deepEqual(answer, rollup(calls, TIER_UP_REQUEST));
  for (const id of TIER_UP_REQUEST.call_ids) assert.deepEqual(Object.keys(answer.call_usage[id]).sort(), ['m0', 'm1', 'm2'], id);
});

test('a runtime that refuses timers (as Cloudflare Workers do at global scope): the package loads, and its first call answers', () => {
  const script = `
    const refuse = () => { throw new Error('Disallowed operation called within global scope'); };
    const real = globalThis.setTimeout;
    globalThis.setTimeout = refuse;
    globalThis.requestIdleCallback = refuse;
    const lib = await import('weave-usage');
    const body = '{"id":"a","trace_id":"t","ended_at":"x","summary":{"usage":{"m":{"prompt_tokens":2}}}}\\n';
    const out = lib.callsUsageFromJson(body, { project_id: 'p', call_ids: ['a'] });
    globalThis.setTimeout = real;
    console.log(JSON.stringify(out));
  `;
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 }));
  assert.deepEqual(out.call_usage.a.m.prompt_tokens, 2);
});

test('a runtime that refuses random values at first (as Cloudflare Workers do at global scope): calls answer, and the hash is keyed once it gives them', () => {
  // Timers refused too, so that no warm-up enters the module on its own.
  const script = `
    const refuse = () => { throw new Error('Disallowed operation called within global scope'); };
    globalThis.setTimeout = refuse;
    globalThis.requestIdleCallback = refuse;
    const real = crypto.getRandomValues.bind(crypto);
    let asked = 0;
    let refusing = true;
    crypto.getRandomValues = (bytes) => {
      asked++;
      if (refusing) refuse();
      return real(bytes);
    };
    const lib = await import('weave-usage');
    const body = '{"id":"a","trace_id":"t","ended_at":"x","summary":{"usage":{"m":{"prompt_tokens":2}}}}\\n';
    const request = { project_id: 'p', call_ids: ['a'] };
    const first = lib.callsUsageFromJson(body, request);
    const second = lib.callsUsageFromJson(body, request);
    const askedWhileRefused = asked;
    refusing = false;
    const third = lib.callsUsageFromJson(body, request);
    const fourth = lib.callsUsageFromJson(body, request);
    console.log(JSON.stringify({ answers: [first, second, third, fourth].map((r) => r.call_usage.a.m.prompt_tokens), askedWhileRefused, asked }));
  `;
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 }));
  assert.deepEqual(out.answers, [2, 2, 2, 2]);
  // Asked at every entry while refused, once more when given, then no more.
  assert.ok(out.askedWhileRefused >= 2, JSON.stringify(out));
  assert.equal(out.asked, out.askedWhileRefused + 1, JSON.stringify(out));
});

test('the last line: an exception that unwinds through wasm (wasm-bindgen\'s own, on a freed pointer) becomes a 500 internal_error and the stack pointer is put back, 100,000 times', async () => {
  // The package's guard and the generated bindings, by file: neither is
  // part of the package's API. The generated accumulator, used after free(),
  // throws through wasm with its stack frame still on the shadow stack.
  const { enter } = await import('../../pkg/guard.js');
  const raw = await import('../../pkg/weave_usage.js');
  const stackPointer = raw.initSync().__stack_pointer;
  assert.ok(stackPointer instanceof WebAssembly.Global, 'the build exports the stack pointer');
  const freed = new raw.UsageAccumulator();
  freed.free();
  const push = (acc) => acc.push(new Uint8Array(1));
  const before = stackPointer.value;
  let converted = 0;
  let other = null;
  for (let i = 0; i < 100_000; i++) {
    try {
      enter(push, freed);
      other ??= 'returned';
    } catch (e) {
      if (isUsageError(e) && e.status === 500 && e.detail[0].type === 'internal_error' && e.cause?.message === 'null pointer passed to rust') converted++;
      else other ??= String(e?.stack ?? e);
    }
    if (stackPointer.value !== before) other ??= `call ${i} left the stack pointer at ${stackPointer.value}, not ${before}`;
  }
  assert.equal(other, null);
  assert.equal(converted, 100_000);
  assert.deepEqual(thrown(() => enter(push, freed)).detail, [{ loc: ['internal'], msg: 'Internal error: Error: null pointer passed to rust', type: 'internal_error' }]);
  assert.deepEqual(callsUsageFromJson(body, request), want);
});

test('after the first call, every function of the glue the module calls into has run (so none is compiled in the middle of a call)', () => {
  const script = loadCoverage.find((s) => s.url.endsWith('/weave_usage.js'));
  assert.ok(script, 'weave_usage.js was loaded');
  const source = readFileSync(fileURLToPath(script.url), 'utf8');
  // Never called during a call: loading, the fallbacks for engines without
  // FinalizationRegistry or encodeInto, the registry's own callback (run by
  // the collector, on a fresh stack), the raw wasmMemoryBytes and its
  // imports (the entries read the memory directly), wasm-bindgen's
  // null-pointer and borrow errors (which the guard makes unreachable), and
  // the panic hook's imports (a panic traps anyway), told by what they do;
  // and the native-stack probe, which the guard calls in SpiderMonkey only.
  const never = /^(__wbg_load|__wbg_init|__wbg_init_once|expectedResponseType|register|unregister|UsageAccumulatorFinalization|cachedTextEncoder\.encodeInto|wasmMemoryBytes|stackProbe)$/;
  const panicOrMemory = /^function\(arg0(, arg1)?\) \{\s*(const ret = new Error\(\);|const ret = arg1\.stack;|let deferred0_0;[^]*console\.error|const ret = wasm\.memory;|const ret = arg0\.buffer;|const ret = arg0\.byteLength;|throw new Error\(getStringFromWasm0)/;
  const cold = script.functions
    .filter((f) => f.ranges[0].count === 0 && f.functionName !== '' && !never.test(f.functionName))
    .filter((f) => !(f.functionName.startsWith('__wbg_') && panicOrMemory.test(source.slice(f.ranges[0].startOffset, f.ranges[0].endOffset).replace(/^function\(\)/, 'function(arg0)'))))
    .map((f) => f.functionName);
  assert.deepEqual(cold, []);
});
