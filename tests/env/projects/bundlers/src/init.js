// weave-usage/init with the .wasm imported as a file: esbuild's
// `--loader:.wasm=file` (or Bun's `with { type: 'file' }`) emits it and
// gives its URL.
import wasmUrl from 'weave-usage/weave_usage_bg.wasm';
import * as w from 'weave-usage/init';
import { probe } from '../probe.mjs';

await w.init(new URL(wasmUrl, import.meta.url));
window.results = { main: probe(w) };
document.title = 'done';
