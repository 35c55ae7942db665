// Stands in for the package once it exports the streaming UsageAccumulator,
// so that the dashboard's use of it is tested before it exists: the real
// exports, plus an accumulator that keeps the chunks and answers with
// callsUsageFromJson. It counts its calls in the worker's global `accumulatorCalls`.
import { callsUsageFromJson } from '/real-pkg/index.js';

export { callsUsage, callsUsageFromJson } from '/real-pkg/index.js';

const calls = (self.accumulatorCalls = { created: 0, push: 0, finish: 0, free: 0 });

export class UsageAccumulator {
  #chunks = [];
  constructor() {
    calls.created++;
  }
  push(chunk) {
    calls.push++;
    this.#chunks.push(chunk.slice());
  }
  finish(request, options) {
    calls.finish++;
    const bytes = new Uint8Array(this.#chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of this.#chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    return callsUsageFromJson(bytes, request, options);
  }
  free() {
    calls.free++;
  }
}
