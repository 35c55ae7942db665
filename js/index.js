// Entry for browsers and bundlers: instantiate the module once, at import
// time (top-level await), so that every export is synchronous afterwards.
// The .wasm file is found next to this file; bundlers such as Vite and
// webpack follow the `new URL(..., import.meta.url)` inside `init`. What is
// exported is the guarded API (guard.js), which needs the instance's
// exports. Without top-level await, or with the .wasm hosted elsewhere:
// weave-usage/init (init.js).
import init from './weave_usage.js';
import { attach } from './guard.js';

attach(await init());

export { callsUsage, callsUsageFromJson, traceUsage, traceUsageFromJson, usageStats, usageStatsFromJson, callsUsageFromParts, traceUsageFromParts, UsageAccumulator, wasmMemoryBytes, isUsageError } from './guard.js';
