// What the wasm module asks of JavaScript while a call runs (src/wasm/mod.rs
// imports each of these with `catch`). An exception thrown through wasm
// frames skips Rust's clean-up: an accumulator stays borrowed, the shadow
// stack pointer stays lowered. So every JavaScript operation a call performs
// on values it did not make itself (a caller's, or an engine builtin a page
// can replace) happens in one of these functions, where wasm-bindgen catches
// what it throws and Rust gets an `Err`. The builtins are taken when the
// module loads, so a page that later replaces `JSON.parse` or
// `Uint8Array.prototype.set` runs no code in the middle of a call.
// (`selectCalls` in pick.js is the same kind of function.)

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

const encoder = new TextEncoder();

/**
 * UTF-8 of `text` from UTF-16 index `from`, written by the engine's encoder
 * straight into `into` (a view of wasm memory), as much as fits and never
 * part of a character: `[read, written]`. A string thus crosses a slice at a
 * time with no copy of it in between (wasm-bindgen's own string passing goes
 * character by character, several times slower on long strings); a lone
 * surrogate becomes U+FFFD, as TextEncoder makes it.
 */
export function encodeSlice(text, from, into) {
  const { read, written } = encoder.encodeInto(from === 0 ? text : text.substring(from), into);
  return [read, written];
}

const bufferLength = accessor(ArrayBuffer.prototype, 'byteLength');
const isBuffer = (v) => {
  try {
    bufferLength.call(v);
    return true;
  } catch {
    return false;
  }
};

/**
 * A body (or chunk) as a Uint8Array made here, whose length is what it
 * holds: a Uint8Array's bytes, an ArrayBuffer's bytes; null for anything
 * else (a string is encoded by `encodeSlice`). Whatever a hostile value
 * throws (a detached buffer, a revoked proxy) is thrown here, where the
 * caller catches it, never inside wasm.
 */
export function bodyBytes(body) {
  if (body instanceof U8) return new U8(viewBuffer.call(body), viewOffset.call(body), viewLength.call(body));
  if (isBuffer(body)) return new U8(body);
  return null;
}

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

const isArray = Array.isArray;

/** Parts (`callsUsageFromParts`) as one Uint8Array made here: an array of
 * Uint8Arrays or ArrayBuffers back to back, or one of them alone; null for
 * anything else. */
export function partsBytes(parts) {
  if (!isArray(parts)) return bodyBytes(parts);
  const views = [];
  let total = 0;
  for (let i = 0; i < parts.length; i++) {
    const v = bodyBytes(parts[i]);
    if (v === null) return null;
    views.push(v);
    total += viewLength.call(v);
  }
  const out = new U8(total);
  let at = 0;
  for (const v of views) {
    setBytes.call(out, v, at);
    at += viewLength.call(v);
  }
  return out;
}
