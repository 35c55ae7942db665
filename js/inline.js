// The module's bytes for the server-side entries (node.js, init-node.js):
// wasm-inline.cjs is the .wasm as base64, written by package.mjs. One
// CommonJS copy serves both formats (ESM imports it as its default export).
import base64 from './wasm-inline.cjs';

export const wasmBytes = () => (typeof Buffer === 'function' ? Buffer.from(base64, 'base64') : Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
