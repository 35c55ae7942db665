// weave-usage/init for Node, Deno, Bun and server bundles: the same API as
// init.js, but the module's bytes come with the package (inline.js),
// so code shared with the browser (`await init(wasmUrl)` during a server
// render) works where a browser URL means nothing. Bytes, a Response or a
// compiled WebAssembly.Module given to init() are used; a URL or string is
// not fetched, since it can only name the module the package holds.
import { initSync } from './weave_usage.js';
import { attach } from './guard.js';
import { wasmBytes } from './inline.js';

const isModule = (v) => typeof WebAssembly === 'object' && v instanceof WebAssembly.Module;
const isBytes = (v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v);
const isResponse = (v) => typeof Response === 'function' && v instanceof Response;

let loaded = null;

/** Loads the module, once (later calls resolve at once, whatever they are
 * given). */
export function init(input) {
  if (loaded === null) {
    loaded = (async () => {
      let module = await input;
      if (isResponse(module)) module = await module.arrayBuffer();
      attach(initSync({ module: isModule(module) || isBytes(module) ? module : wasmBytes() }));
    })();
    // A failed load (a rejected Response, bad bytes) may be retried.
    loaded.catch(() => {
      loaded = null;
    });
  }
  return loaded;
}

export { callsUsage, callsUsageFromJson, traceUsage, traceUsageFromJson, usageStats, usageStatsFromJson, callsUsageFromParts, traceUsageFromParts, UsageAccumulator, wasmMemoryBytes, isUsageError } from './guard.js';
