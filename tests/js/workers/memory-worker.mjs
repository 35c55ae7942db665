// A worker thread for tests/js/memory.test.mjs: fills its own instance of
// the module's memory (up to wasm32's 4 GiB) with calls that do not fit,
// and reports what each step gave. The memory goes when the worker does.
import { parentPort, workerData } from 'node:worker_threads';
import { UsageAccumulator, callsUsageFromJson, wasmMemoryBytes } from 'weave-usage';

/** What `run` gave: `{ok}` or the thrown error's kind, status and detail. */
function outcome(run) {
  try {
    run();
    return { ok: true };
  } catch (e) {
    return { error: e.constructor.name, status: e.status, detail: e.detail, message: e.message };
  }
}

// Every call names the same 10,000 models: each model's entry is 12 bytes
// of JSON and 144 bytes of table, so a few hundred MB of calls fill it.
const K = 10_000;
const usage = Object.fromEntries(Array.from({ length: K }, (_, i) => [`m${i}`, {}]));
const lines = Array.from({ length: 16 }, (_, i) => JSON.stringify({ id: `c${i}`, trace_id: 't', summary: { usage } }));
const chunk = new TextEncoder().encode(lines.join('\n') + '\n');
const small = { body: lines[0].replace(/"m1":.*\}\}\}/, '"m1":{"requests":2}}}}'), request: { project_id: 'p', call_ids: ['c0'] } };
const smallAnswer = () => JSON.stringify(callsUsageFromJson(small.body, small.request));

/** Ten small calls: the answers, and how much memory grew over them. */
function tenSmallCalls() {
  const before = wasmMemoryBytes();
  const answers = new Set(Array.from({ length: 10 }, smallAnswer));
  return { answers: [...answers], grew: wasmMemoryBytes() - before };
}

const scenarios = {
  // Chunks pushed until the table does not fit; then what the failed
  // accumulator and the module answer.
  accumulator() {
    const acc = new UsageAccumulator();
    let pushed = 0;
    let pushing = { ok: true };
    while (pushing.ok && pushed < 400) {
      pushing = outcome(() => acc.push(chunk));
      pushed++;
    }
    const report = { pushing, calls: acc.calls, memory: wasmMemoryBytes() };
    report.finish = outcome(() => acc.finish({ project_id: 'p', call_ids: ['c0'] }));
    // With the failed accumulator's table still held, a request of
    // 5,000,000 ids needs more memory than is left; a small one is fine.
    const ids = Array.from({ length: 5_000_000 }, (_, i) => `c${i}`);
    report.bigRequest = outcome(() => callsUsageFromJson('', { project_id: 'p', call_ids: ids }));
    report.smallWhileHeld = smallAnswer();
    acc.free();
    report.afterFree = tenSmallCalls();
    return report;
  },
  // The same calls in one body, three times over: the same 413 each time,
  // and nothing kept.
  bytes() {
    const body = new Uint8Array(chunk.length * 80);
    for (let k = 0; k < 80; k++) body.set(chunk, k * chunk.length);
    const report = { first: outcome(() => callsUsageFromJson(body, small.request)), memory: wasmMemoryBytes() };
    report.again = [outcome(() => callsUsageFromJson(body, small.request)), outcome(() => callsUsageFromJson(body, small.request))];
    report.memoryAfter = wasmMemoryBytes();
    report.afterwards = tenSmallCalls();
    return report;
  },
};

parentPort.postMessage(scenarios[workerData.scenario]());
