// What the wasm module asks of JavaScript while a call runs (src/wasm.rs
// imports each of these with `catch`). An exception thrown through wasm
// frames skips Rust's clean-up: an accumulator stays borrowed, the shadow
// stack pointer stays lowered. So every JavaScript operation a call performs
// on values it did not make itself (a caller's, or an engine builtin a page
// can replace) happens in one of these functions, where wasm-bindgen catches
// what it throws and Rust gets an `Err`. The builtins are taken when the
// module loads, so a page that later replaces `JSON.parse` or
// `Uint8Array.prototype.set` runs no code in the middle of a call.
// (`bodyBytes`, `encodeSlice` and `selectCalls` in select-calls.js are the
// same kind of function.)

const { parse, stringify: jsonStringify } = JSON;
const ErrorCtor = Error;
const U8 = Uint8Array;
const defineProperty = Object.defineProperty;
const TypedArray = Object.getPrototypeOf(Uint8Array);
const accessor = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
const viewBuffer = accessor(TypedArray.prototype, 'buffer');
const viewOffset = accessor(TypedArray.prototype, 'byteOffset');
const viewLength = accessor(TypedArray.prototype, 'byteLength');
const setBytes = TypedArray.prototype.set;
const typedArrayName = accessor(TypedArray.prototype, Symbol.toStringTag);
const webCrypto = globalThis.crypto;
const getRandomValues = typeof webCrypto?.getRandomValues === 'function' ? webCrypto.getRandomValues.bind(webCrypto) : null;
const random = Math.random;
const floor = Math.floor;

/** The length of a Uint8Array made by `bodyBytes`. */
export function byteLength(bytes) {
  return viewLength.call(bytes);
}

/** `bytes[at..at + into.length]` copied into `into` (a view of wasm
 * memory). The view is made here, not by `subarray`, which would look up
 * `constructor[Symbol.species]`. */
export function copyBytes(bytes, at, into) {
  setBytes.call(into, new U8(viewBuffer.call(bytes), viewOffset.call(bytes) + at, viewLength.call(into)));
}

/** A string's length in UTF-16 units. */
export function textLength(text) {
  return text.length;
}

/** `JSON.stringify(value)`: its text, or undefined (nothing is sent). */
export function stringify(value) {
  return jsonStringify(value);
}

/** `JSON.parse(text)`. */
export function parseJson(text) {
  return parse(text);
}

/** A thrown value's `message` ('' if it has none that is a string). */
export function messageOf(e) {
  const m = e === null || e === undefined ? undefined : e.message;
  return typeof m === 'string' ? m : '';
}

/** The Uint32Array a `selectCalls` result holds at 1, as numbers; null
 * when there is none. */
export function pickedIndices(picked) {
  const indices = picked[1];
  return typedArrayName.call(indices) === 'Uint32Array' ? indices : null;
}

const own = (value) => ({ value, writable: true, enumerable: true, configurable: true });

/** The `Error` every failure is thrown as: `status` and `detail` (FastAPI's
 * list, given as JSON text) are own properties, defined rather than
 * assigned, so no setter on a prototype runs. */
export function usageError(message, status, detail) {
  const e = new ErrorCtor(message);
  defineProperty(e, 'status', own(status));
  defineProperty(e, 'detail', own(parse(detail)));
  return e;
}

/** 16 random bytes, the key of the module's hash tables (src/hash.rs):
 * wasm32 has no entropy of its own. Web Crypto is in every browser, worker,
 * Node 20+, Deno and Bun; should an environment lack it, Math.random
 * (seeded by the engine from the system's randomness, and never observable
 * through the module's answers) still keeps the key unknown to whoever
 * wrote the input. */
export function randomSeed() {
  const bytes = new U8(16);
  if (getRandomValues !== null) getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = floor(random() * 256);
  return bytes;
}
