// weave-usage/init in browsers and bundlers: the module is loaded when
// `init(input)` is called, from wherever the app hosts it, rather than at
// import time. No top-level await, so it also suits bundles and workers
// that cannot have one. The API is the guarded one (guard.js); a call made
// before init() has resolved is a 500 `not_initialized`.
import load from './weave_usage.js';
import { attach } from './guard.js';

/**
 * Loads the module, once (later calls resolve at once, whatever they are
 * given). `input`: a URL or string (fetched), a `Response` (or a promise of
 * one), the bytes (`ArrayBuffer`, a typed array, a Buffer) or a compiled
 * `WebAssembly.Module`; omitted, the .wasm beside this file, as the main
 * entry loads it.
 */
export async function init(input) {
  attach(await load(input === undefined ? undefined : { module_or_path: input }));
}

export { callsUsage, callsUsageFromJson, traceUsage, traceUsageFromJson, usageStats, usageStatsFromJson, callsUsageFromParts, traceUsageFromParts, UsageAccumulator, wasmMemoryBytes, isUsageError } from './guard.js';
