// The boundary checks of tests/js/boundary.test.mjs, in a browser page or
// worker: the package's first calls made near the stack limit, then a
// freed accumulator, a copied one, calls from inside a call, and calls at
// every depth near the limit. Returns what happened, for the test to judge.
import { isUsageError, judge, nearLimit } from '/stack/stack.mjs';

export async function run(sampleUrl) {
  const body = new Uint8Array(await (await fetch(sampleUrl)).arrayBuffer());
  const text = new TextDecoder().decode(body);
  const calls = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  const request = { project_id: 'acme/agents', call_ids: calls.filter((c) => !c.parent_id).map((c) => c.id), include_costs: true };
  const out = {};

  // The ops are compiled against a stand-in first: compiling needs far more
  // stack than running, and these are this file's functions, not the package's.
  class Idle {
    push() {}
    finish() {}
    free() {}
  }
  let lib = { callsUsage() {}, callsUsageFromJson() {}, UsageAccumulator: Idle };
  const ops = [
    ['callsUsageFromJson', () => lib.callsUsageFromJson(body, request)],
    ['callsUsage', () => lib.callsUsage(calls, request)],
    ['accumulator', () => {
      const a = new lib.UsageAccumulator();
      try {
        a.push(body);
        return a.finish(request);
      } finally {
        a.free();
      }
    }],
  ];
  for (const [, op] of ops) op();
  const pkg = await import('/pkg/index.js');
  lib = pkg;
  const cold = nearLimit(ops, { span: 3000, rounds: 1 }).outcomes;
  const want = JSON.stringify(pkg.callsUsageFromJson(body, request));
  out.cold = judge(cold, (op, value) => JSON.stringify(value) === want);

  // A freed accumulator, 100,000 times over.
  const freed = new pkg.UsageAccumulator();
  freed.free();
  const uses = [() => freed.push(body), () => freed.finish(request), () => freed.calls, () => freed.free()];
  out.freed = { refused: 0, other: null };
  for (let i = 0; i < 100_000; i++) {
    try {
      uses[i % 4]();
    } catch (e) {
      if (isUsageError(e) && e.status === 410) out.freed.refused++;
      else out.freed.other ??= String(e);
    }
  }

  // A copy freed: the original is untouched, and the copy is refused.
  const acc = new pkg.UsageAccumulator();
  acc.push(body.subarray(0, 1000));
  const copy = Object.assign(Object.create(pkg.UsageAccumulator.prototype), acc);
  copy.free();
  const other = new pkg.UsageAccumulator();
  other.push(new TextEncoder().encode('{"id":"x","trace_id":"y"}\n'.repeat(50)));
  try {
    copy.push(body);
  } catch (e) {
    out.copyError = { isError: e instanceof Error, status: e.status, type: e.detail?.[0]?.type };
  }
  acc.push(body.subarray(1000));
  out.copyOriginal = JSON.stringify(acc.finish(request)) === want && other.calls === 50;
  acc.free();
  other.free();

  // Calls from inside a call on the same accumulator.
  const busy = new pkg.UsageAccumulator();
  busy.push(body);
  const inner = [];
  const reentrant = {
    toJSON() {
      for (const use of [() => busy.push(body), () => busy.calls, () => busy.free()]) {
        try {
          use();
          inner.push('returned');
        } catch (e) {
          inner.push(isUsageError(e) ? `${e.status} ${e.detail[0].type}` : String(e));
        }
      }
      return request;
    },
  };
  out.busyOuter = JSON.stringify(busy.finish(reentrant)) === want;
  out.busyInner = inner;
  busy.free();

  // Every depth near the limit, 16 offsets.
  const streaming = new pkg.UsageAccumulator();
  const full = new pkg.UsageAccumulator();
  full.push(body);
  const pieces = Array.from({ length: 8000 }, (_, i) => body.subarray(Math.floor((i * body.length) / 8000), Math.floor(((i + 1) * body.length) / 8000)));
  let next = 0;
  const deep = [
    ['push', () => (next < pieces.length ? (streaming.push(pieces[next]), next++) : -1)],
    ['finish', () => full.finish(request)],
    ['callsUsageFromJson', () => pkg.callsUsageFromJson(body, request)],
    ['callsUsage', () => pkg.callsUsage(calls, request)],
  ];
  const { outcomes, overflows } = nearLimit(deep, { span: 800, rounds: 16 });
  out.deep = judge(outcomes, (op, value) => (op === 'push' ? typeof value === 'number' : JSON.stringify(value) === want));
  out.overflows = overflows;
  for (; next < pieces.length; next++) streaming.push(pieces[next]);
  out.after = [streaming.finish(request), full.finish(request), pkg.callsUsageFromJson(body, request), pkg.callsUsage(calls, request)].every((r) => JSON.stringify(r) === want);
  streaming.free();
  full.free();
  full.free();
  return out;
}
