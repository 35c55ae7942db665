// A spy around the real package: its exports, with a UsageAccumulator that
// delegates to the real one and counts its calls in the worker's global
// `accumulatorCalls`, so the test can see how the dashboard uses it.
import * as real from '/real-pkg/stats.js';

export { callsUsage, callsUsageFromJson, traceUsage, traceUsageFromJson } from '/real-pkg/stats.js';

const calls = (self.accumulatorCalls = { created: 0, push: 0, finish: 0, finishTrace: 0, finishStats: 0, finishCalls: 0, finishProjects: 0, free: 0 });

export class UsageAccumulator {
  #inner;
  constructor(options) {
    calls.created++;
    this.#inner = new real.UsageAccumulator(options);
  }
  push(chunk) {
    calls.push++;
    this.#inner.push(chunk);
  }
  finish(request, options) {
    calls.finish++;
    return this.#inner.finish(request, options);
  }
  finishTrace(request, options) {
    calls.finishTrace++;
    return this.#inner.finishTrace(request, options);
  }
  finishStats(request, options) {
    calls.finishStats++;
    return this.#inner.finishStats(request, options);
  }
  finishCalls(request) {
    calls.finishCalls++;
    return this.#inner.finishCalls(request);
  }
  finishProjects() {
    calls.finishProjects++;
    return this.#inner.finishProjects();
  }
  get calls() {
    return this.#inner.calls;
  }
  get bytesRead() {
    return this.#inner.bytesRead;
  }
  free() {
    calls.free++;
    this.#inner.free();
  }
}
