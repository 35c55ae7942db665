// Entry for Node (20+): read the .wasm file beside this one and instantiate
// it synchronously, since Node's fetch cannot load file: URLs. What is
// exported is the guarded API (guard.js), which needs the instance's exports.
import { readFileSync } from 'node:fs';
import { initSync } from './weave_usage.js';
import { attach } from './guard.js';

attach(initSync({ module: readFileSync(new URL('./weave_usage_bg.wasm', import.meta.url)) }));

export { callsUsage, callsUsageFromJson, traceUsage, traceUsageFromJson, UsageAccumulator, wasmMemoryBytes } from './guard.js';
