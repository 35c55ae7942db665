// Turns wasm-pack's `pkg/` into the npm package: adds the two entry modules,
// the guard they export (guard.js) and their types, exports the module's
// stack pointer, and writes package.json (version and description come
// from Cargo.toml, so there is one source of truth).
import { copyFileSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'pkg');
const cargo = readFileSync(join(root, 'Cargo.toml'), 'utf8');
const field = (name) => cargo.match(new RegExp(`^${name} = "(.*)"$`, 'm'))?.[1];

for (const f of ['index.js', 'node.js', 'guard.js', 'index.d.ts']) copyFileSync(join(root, 'js', f), join(pkg, f));
copyFileSync(join(root, 'README.md'), join(pkg, 'README.md'));
copyFileSync(join(root, 'LICENSE'), join(pkg, 'LICENSE'));
// wasm-pack writes a .gitignore of "*", which would hide the files from npm pack.
rmSync(join(pkg, '.gitignore'), { force: true });

// wasm-bindgen declares `[Symbol.dispose]()` on UsageAccumulator, which only
// type-checks with TypeScript's `esnext.disposable` lib: a consumer with the
// default lib would get an error inside our types. The method stays at run
// time; the declaration goes (`free()` is the documented way).
const dts = join(pkg, 'weave_usage.d.ts');
writeFileSync(dts, readFileSync(dts, 'utf8').replace(/^\s*\[Symbol\.dispose\]\(\): void;\n/gm, ''));

// The shadow stack pointer (the module's one mutable i32 global) is
// exported as `__stack_pointer`, so that the entries can put it back should
// an exception ever unwind through wasm frames, which skips the code that
// restores it (js/guard.js). wasm-bindgen exports no such thing; the global
// has no name after wasm-opt, and it is the only mutable one, which is checked.
const wasmPath = join(pkg, 'weave_usage_bg.wasm');
writeFileSync(wasmPath, exportStackPointer(readFileSync(wasmPath)));

const manifest = {
  name: field('name'),
  version: field('version'),
  description: field('description'),
  license: field('license'),
  type: 'module',
  main: './node.js',
  module: './index.js',
  types: './index.d.ts',
  exports: {
    '.': {
      types: './index.d.ts',
      node: './node.js',
      default: './index.js',
    },
    './weave_usage_bg.wasm': './weave_usage_bg.wasm',
    './package.json': './package.json',
  },
  files: [
    'index.js',
    'node.js',
    'guard.js',
    'index.d.ts',
    'weave_usage.js',
    'weave_usage.d.ts',
    'weave_usage_bg.wasm',
    'weave_usage_bg.wasm.d.ts',
    // wasm-bindgen's copy of js/pick.js, imported by weave_usage.js.
    'snippets/',
    'README.md',
    'LICENSE',
  ],
  // The entries instantiate the module when imported.
  sideEffects: ['./index.js', './node.js'],
  engines: { node: '>=20' },
  keywords: ['weave', 'wandb', 'llm', 'tracing', 'usage', 'cost', 'wasm'],
};
writeFileSync(join(pkg, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(`pkg/: ${manifest.name}@${manifest.version}`);

/** `wasm` with an export of its one mutable i32 global, `__stack_pointer`. */
function exportStackPointer(wasm) {
  let at = 8;
  const u32 = () => {
    let n = 0;
    for (let shift = 0; ; shift += 7) {
      const b = wasm[at++];
      n |= (b & 0x7f) << shift;
      if (b < 0x80) return n >>> 0;
    }
  };
  const leb = (n) => {
    const out = [];
    do {
      const b = n & 0x7f;
      n >>>= 7;
      out.push(n ? b | 0x80 : b);
    } while (n);
    return out;
  };
  let importedGlobals = 0;
  const mutable = [];
  let exports = null;
  while (at < wasm.length) {
    const id = wasm[at++];
    const sizeAt = at;
    const size = u32();
    const start = at;
    if (id === 2) {
      // Imports: only their globals count, as they come first in the global index space.
      const limits = () => (wasm[at++] & 1 ? (u32(), u32()) : u32());
      for (let n = u32(); n > 0; n--) {
        for (const _ of ['module', 'name']) {
          const length = u32();
          at += length;
        }
        const kind = wasm[at++];
        if (kind === 0) u32();
        else if (kind === 1) (at++, limits());
        else if (kind === 2) limits();
        else if (kind === 3) (at += 2, importedGlobals++);
        else throw new Error(`package.mjs: unknown import kind ${kind}`);
      }
    } else if (id === 6) {
      for (let n = u32(), i = 0; i < n; i++) {
        const type = wasm[at++];
        const mut = wasm[at++];
        if (type === 0x7f && mut === 1) mutable.push(importedGlobals + i);
        // The initial value: a constant expression, up to its `end`.
        for (let op = wasm[at++]; op !== 0x0b; op = wasm[at++]) {
          if (op === 0x41 || op === 0x42 || op === 0x23 || op === 0xd2) while (wasm[at++] & 0x80);
          else if (op === 0x44) at += 8;
          else if (op === 0x43 || op === 0xd0) at += op === 0x43 ? 4 : 1;
          else throw new Error(`package.mjs: unexpected opcode ${op} in a global's initial value`);
        }
      }
    } else if (id === 7) {
      exports = { sizeAt, start, end: start + size };
    }
    at = start + size;
  }
  if (mutable.length !== 1 || exports === null) throw new Error(`package.mjs: expected one mutable i32 global (found ${mutable.length}) and an export section`);
  at = exports.start;
  const count = u32();
  const name = new TextEncoder().encode('__stack_pointer');
  for (let i = 0; i < count; i++) {
    const length = u32();
    if (Buffer.from(wasm.subarray(at, at + length)).equals(name)) return wasm;
    at += length + 1;
    u32();
  }
  at = exports.start;
  u32();
  const body = [...leb(count + 1), ...wasm.subarray(at, exports.end), ...leb(name.length), ...name, 3, ...leb(mutable[0])];
  return Buffer.concat([wasm.subarray(0, exports.sizeAt), Buffer.from(leb(body.length)), Buffer.from(body), wasm.subarray(exports.end)]);
}
