// A Cloudflare Worker, as Workers users write one: weave-usage/init given
// the .wasm as the module the runtime imports, at global scope (where the
// runtime refuses timers and random values), bundled by esbuild with the
// .wasm left to the runtime. Each request answers the probe.
import * as lib from 'weave-usage/init';
import wasm from './weave_usage_bg.wasm';
import { probe } from './probe.mjs';

await lib.init(wasm);

export default {
  fetch() {
    return Response.json(probe(lib));
  },
};
