// Entry for browsers and bundlers: instantiate the module once, at import
// time (top-level await), so that every export is synchronous afterwards.
// The .wasm file is found next to this file; bundlers such as Vite follow
// the `new URL(..., import.meta.url)` inside `init`.
import init from './weave_usage.js';

await init();

export { callsUsage, callsUsageFromJson, traceUsage, traceUsageFromJson, UsageAccumulator, wasmMemoryBytes } from './weave_usage.js';
