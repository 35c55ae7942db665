// Misuse of init() that the compiler refuses where the libs do not declare
// WebAssembly.Module (the DOM's is an empty interface: with it, any object
// or number is one, for wasm-bindgen's own types as for these).
import { init } from 'weave-usage/init';

// @ts-expect-error: not a source of the module
await init(42);
// @ts-expect-error: nor an object of another shape
await init({ url: '/x.wasm' });
