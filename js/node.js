// Entry for Node (20+): read the .wasm file beside this one and instantiate
// it synchronously, since Node's fetch cannot load file: URLs.
import { readFileSync } from 'node:fs';
import { initSync } from './weave_usage.js';

initSync({ module: readFileSync(new URL('./weave_usage_bg.wasm', import.meta.url)) });

export { callsUsage, callsUsageFromJson, traceUsage, traceUsageFromJson, UsageAccumulator, wasmMemoryBytes } from './weave_usage.js';
