// Entropy for the module's hash keys (src/hash.rs): wasm32 has no source of
// its own. Web Crypto is in every browser, worker, Node 20+, Deno and Bun;
// should an environment lack it, Math.random (seeded by the engine from the
// system's randomness, and never observable through the module's answers)
// still keeps the keys unknown to whoever wrote the input.
export function randomSeed() {
  const bytes = new Uint8Array(16);
  const crypto = globalThis.crypto;
  if (crypto !== undefined && typeof crypto.getRandomValues === 'function') {
    crypto.getRandomValues(bytes);
  } else {
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  }
  return bytes;
}
