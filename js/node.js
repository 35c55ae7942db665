// Entry for Node (20+), Deno, Bun and the server side of bundlers (SSR,
// prerendering, route handlers): the module's bytes come with this file
// (inline.js), so importing it reads no file
// and fetches nothing. A server bundle moves this code elsewhere and
// rewrites `new URL(..., import.meta.url)`; a path to the .wasm would then
// point at nothing. What is exported is the guarded API (guard.js), which
// needs the instance's exports.
import { initSync } from './weave_usage.js';
import { attach } from './guard.js';
import { wasmBytes } from './inline.js';

attach(initSync({ module: wasmBytes() }));

export { callsUsage, callsUsageFromJson, traceUsage, traceUsageFromJson, usageStats, usageStatsFromJson, callsUsageFromParts, traceUsageFromParts, UsageAccumulator, wasmMemoryBytes, isUsageError } from './guard.js';
