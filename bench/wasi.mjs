// Runs a WASI build of examples/native_bench in Node, so that the core's
// timings (parse, request-aware read, scanner alone) can be had as wasm in
// V8 without the JS boundary:
//   rustup target add wasm32-wasip1
//   RUSTFLAGS="-C target-feature=+simd128" cargo build --release --example native_bench --target wasm32-wasip1
//   node bench/wasi.mjs target/wasm32-wasip1/release/examples/native_bench.wasm FILE.jsonl [ROOT_ID ...]
// The file must be under /tmp (the only directory it is given). Node 20's
// WASI aborted in a garbage collection while the memory grew past ~1 GB on
// a 174 MB file; 17 MB files run.
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

const [wasm, ...args] = process.argv.slice(2);
if (!wasm) {
  console.error('usage: node bench/wasi.mjs NATIVE_BENCH.wasm FILE.jsonl [ROOT_ID ...]');
  process.exit(2);
}
const wasi = new WASI({ version: 'preview1', args: ['native_bench', ...args], env: process.env, preopens: { '/tmp': '/tmp' } });
const { instance } = await WebAssembly.instantiate(readFileSync(wasm), wasi.getImportObject());
wasi.start(instance);
