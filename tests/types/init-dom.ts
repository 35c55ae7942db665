// With the DOM's types (and WebAssembly's), init() also takes a URL, a
// Response, a promise of one and a compiled module.
import { init } from 'weave-usage/init';

declare const module: WebAssembly.Module;
await init(new URL('/weave_usage_bg.wasm', 'https://example.test/'));
await init(fetch('/weave_usage_bg.wasm'));
await init(await fetch('/weave_usage_bg.wasm'));
await init(module);
