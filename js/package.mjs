// Turns wasm-pack's `pkg/` into the npm package. Everything here is
// generated from js/ and the build's own output, so that each entry and
// each format is the same code:
// - the ES modules as they are: index.js (browsers, bundlers), node.js
//   (Node, Deno, Bun, server bundles), init.js and init-node.js
//   (weave-usage/init), guard.js (the API they all export), inline.js;
// - wasm-inline.cjs, the .wasm as base64 for the server-side entries;
// - CommonJS builds of the same modules (esbuild): core.cjs (the glue,
//   its snippets and guard.js), node.cjs and init.cjs (node.js and
//   init-node.js, requiring core.cjs), and prices.cjs (prices.js alone);
// - weave-usage/prices: prices.js and its table prices-data.js (generated
//   by scripts/gen-prices.py), loaded only by those who import it;
// - the types: index.d.ts from the declarations wasm-bindgen writes,
//   without its loader's (which need the DOM's and WebAssembly's types),
//   and a .d.cts twin of each .d.ts;
// - weave-usage/stats: the same API from a second module, built with the
//   crate's `stats` feature (weave_usage_stats.js and its .wasm), where
//   usageStats, usageStatsFromJson and `{ stats: true }` work (in the main
//   module they throw a 501 that names this entry). Its entries are made
//   from the main entry's files with their imports pointed at the stats
//   module (`statsVariant`): stats.js from index.js, stats-node.js from
//   node.js, guard-stats.js from guard.js (each module needs its own guard,
//   whose state `attach` binds to one instance), inline-stats.js from
//   inline.js; then core-stats.cjs and stats.cjs, and stats.d.ts;
// - package.json (version and description from Cargo.toml, so there is one
//   source of truth), the npm README and the docs it links to.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'pkg');
const cargo = readFileSync(join(root, 'Cargo.toml'), 'utf8');
const field = (name) => cargo.match(new RegExp(`^${name} = "(.*)"$`, 'm'))?.[1];
// weave-usage/parallel: its own entry, so that the main entry's bundles do
// not change (and parallel.cjs for require()).
const PARALLEL = ['parallel.js', 'parallel-node.js', 'parallel-core.js', 'parallel-worker.js', 'parallel-worker-node.js'];
const STATS_API = ['usageStats', 'usageStatsFromJson'];
const API = ['callsUsage', 'callsUsageFromJson', 'traceUsage', 'traceUsageFromJson', 'usageStats', 'usageStatsFromJson', 'callsUsageFromParts', 'traceUsageFromParts', 'UsageAccumulator', 'wasmMemoryBytes', 'isUsageError'];

for (const f of ['index.js', 'node.js', 'init.js', 'init-node.js', 'inline.js', 'guard.js', 'prices.js', 'prices-data.js', ...PARALLEL]) copyFileSync(join(root, 'js', f), join(pkg, f));
// weave-usage/stats: the main entry's files, importing the stats module.
const STATS_FILES = { 'index.js': 'stats.js', 'node.js': 'stats-node.js', 'guard.js': 'guard-stats.js', 'inline.js': 'inline-stats.js' };
for (const [from, to] of Object.entries(STATS_FILES)) writeFileSync(join(pkg, to), statsVariant(readFileSync(join(root, 'js', from), 'utf8'), from));
// weave-usage/prices: its types name the main entry's by the package's name.
for (const f of ['prices.d.ts', 'prices.d.cts']) copyFileSync(join(root, 'js', 'prices.d.ts'), join(pkg, f));
for (const f of ['parallel.d.ts', 'parallel.d.cts']) copyFileSync(join(root, 'js', 'parallel.d.ts'), join(pkg, f));
// The npm README: its links are absolute, to this version's shipped docs.
writeFileSync(join(pkg, 'README.md'), readFileSync(join(root, 'js', 'package-readme.md'), 'utf8').replaceAll('{{version}}', field('version')));
copyFileSync(join(root, 'LICENSE'), join(pkg, 'LICENSE'));
// The docs the README links to, shipped so that the links work wherever the
// package is read.
mkdirSync(join(pkg, 'docs'), { recursive: true });
for (const f of ['options.md', 'semantics.md', 'hostile-inputs.md', 'stats.md', 'parallel.md']) copyFileSync(join(root, 'docs', f), join(pkg, 'docs', f));
// wasm-pack writes a .gitignore of "*", which would hide the files from npm pack.
rmSync(join(pkg, '.gitignore'), { force: true });

// The shadow stack pointer (the module's one mutable i32 global) is
// exported as `__stack_pointer`, so that the entries can put it back should
// an exception ever unwind through wasm frames, which skips the code that
// restores it (js/guard.js). wasm-bindgen exports no such thing; the global
// has no name after wasm-opt, and it is the only mutable one, which is checked.
for (const [name, inline, users] of [
  ['weave_usage', 'wasm-inline.cjs', 'node.js, node.cjs and init-node.js'],
  ['weave_usage_stats', 'wasm-inline-stats.cjs', 'stats-node.js and stats.cjs'],
]) {
  const wasmPath = join(pkg, `${name}_bg.wasm`);
  const wasm = exportStackPointer(readFileSync(wasmPath));
  writeFileSync(wasmPath, wasm);
  writeFileSync(join(pkg, inline), `// ${name}_bg.wasm as base64, for ${users} (generated by the build).\nmodule.exports = '${wasm.toString('base64')}';\n`);
}

// CommonJS: one core (so that node.cjs and init.cjs share one instance, as
// the ES modules do), and each entry compiled with its imports of the glue
// and the guard turned into requires of it.
const cjs = { bundle: true, format: 'cjs', platform: 'neutral', target: 'es2022', logLevel: 'warning', legalComments: 'none' };
for (const [core, glue, guard] of [
  ['core', 'weave_usage', 'guard'],
  ['core-stats', 'weave_usage_stats', 'guard-stats'],
]) {
  await build({
    ...cjs,
    stdin: { contents: `export * from './${guard}.js';\nexport { initSync, default } from './${glue}.js';\n`, resolveDir: pkg, sourcefile: `${core}.js` },
    outfile: join(pkg, `${core}.cjs`),
    // import.meta.url only serves the glue's default, a fetch of the .wasm
    // beside it, which the CommonJS entries never ask for.
    define: { 'import.meta.url': 'undefined' },
    banner: { js: `// The CommonJS build of ${glue}.js (the wasm-bindgen glue and its snippets) and ${guard}.js (generated by the build).` },
  });
}
const toCore = (core, glue, guard) => ({
  name: core,
  setup(b) {
    b.onResolve({ filter: new RegExp(`^\\./(${glue}|${guard})\\.js$`) }, () => ({ path: `./${core}.cjs`, external: true }));
    b.onResolve({ filter: /^\.\/wasm-inline(-stats)?\.cjs$/ }, (a) => ({ path: a.path, external: true }));
  },
});
// weave-usage/prices needs nothing of the core: bundled alone.
await build({ ...cjs, entryPoints: [join(pkg, 'prices.js')], outfile: join(pkg, 'prices.cjs'), banner: { js: '// The CommonJS build of prices.js (generated by the build).' } });
for (const [from, to, plugin] of [
  ['node.js', 'node.cjs', toCore('core', 'weave_usage', 'guard')],
  ['init-node.js', 'init.cjs', toCore('core', 'weave_usage', 'guard')],
  ['stats-node.js', 'stats.cjs', toCore('core-stats', 'weave_usage_stats', 'guard-stats')],
]) {
  await build({
    ...cjs,
    entryPoints: [join(pkg, from)],
    outfile: join(pkg, to),
    plugins: [plugin],
    banner: { js: `// The CommonJS build of ${from} (generated by the build).` },
  });
}

// weave-usage/parallel for require(): parallel-node.js with parallel-core.js
// bundled in, sharing node.cjs's instance; its workers run the ES module
// parallel-worker-node.js, which worker_threads loads whatever the caller's format.
await build({
  ...cjs,
  platform: 'node',
  entryPoints: [join(pkg, 'parallel-node.js')],
  outfile: join(pkg, 'parallel.cjs'),
  plugins: [{ name: 'node-cjs', setup: (b) => b.onResolve({ filter: /^\.\/node\.js$/ }, () => ({ path: './node.cjs', external: true })) }],
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: `// The CommonJS build of parallel-node.js (generated by the build).\nconst importMetaUrl = require('node:url').pathToFileURL(__filename).href;` },
});

// Types. wasm-bindgen's declarations end with its loader's (InitInput,
// initSync, the default export), which name RequestInfo, Response and
// WebAssembly.Module: a Node project without the DOM lib would get errors
// inside our types. The API's part is kept; the loader is declared by
// init.d.ts in types any project has.
/** The API's declarations in `${glue}.d.ts`, without the loader's. */
function apiTypes(glue) {
  const generated = readFileSync(join(pkg, `${glue}.d.ts`), 'utf8');
  const cut = generated.indexOf('export type InitInput');
  if (cut < 0) throw new Error(`package.mjs: the loader declarations of ${glue}.d.ts were not found`);
  let api = generated.slice(0, cut).replace(/^\/\* (tslint|eslint)[^\n]*\n/gm, '').trimEnd();
  // `[Symbol.dispose]()` only type-checks where SymbolConstructor has
  // `dispose` (TypeScript's esnext.disposable lib, @types/node, Deno): the key
  // is that symbol where it exists and a private one elsewhere, so that
  // `using` works where it can and nothing fails where it cannot.
  const dispose = /^(\s*)\[Symbol\.dispose\]\(\): void;$/m;
  if (!dispose.test(api)) throw new Error(`package.mjs: UsageAccumulator has no [Symbol.dispose]() in ${glue}.d.ts`);
  api = api.replace(dispose, '$1/** The same as `free()`: `using acc = new UsageAccumulator()` frees it at the end of the block. */\n$1[disposeKey](): void;');
  // `part(select?)`: wasm-bindgen writes an unchecked parameter type as given,
  // optional or not; omitted, it means every call.
  const partSig = 'part(select: { traces?: string[]; ids?: string[] })';
  if (!api.includes(partSig)) throw new Error(`package.mjs: UsageAccumulator.part is not declared as expected in ${glue}.d.ts`);
  api = api.replace(partSig, 'part(select?: { traces?: string[]; ids?: string[] } | null)');
  for (const name of API.filter((n) => n !== 'isUsageError')) {
    if (!new RegExp(`^export (class|function) ${name}\\b`, 'm').test(api)) throw new Error(`package.mjs: ${name} is not declared in ${glue}.d.ts`);
  }
  return api;
}
// The main module has the stats exports, but they throw (501
// `stats_unavailable`): their types say so, and where they are.
let api = apiTypes('weave_usage');
for (const [name, res] of [...STATS_API.map((n) => [n, 'UsageStatsRes']), ['finishStats', 'UsageStatsRes'], ['finishCalls', 'CallsQueryRes'], ['finishProjects', 'ProjectsRes']]) {
  const declared = new RegExp(`^( *)\\*/\\n(\\s*(?:export function )?${name}\\([^\\n]*\\)): ${res};$`, 'm');
  if (!declared.test(api)) throw new Error(`package.mjs: ${name} is not declared as returning ${res} in weave_usage.d.ts`);
  api = api.replace(declared, `$1*\n$1* Not in this entry: it throws a 501 \`stats_unavailable\`. Import it from\n$1* \`weave-usage/stats\`, the same API with stats (docs/stats.md).\n$1*/\n$2: never;`);
}
const header = `declare const privateDispose: unique symbol;
type DisposeKey = SymbolConstructor extends { readonly dispose: infer D extends symbol } ? D : typeof privateDispose;
declare const disposeKey: DisposeKey;`;
const isUsageErrorType = `/**
 * Whether \`e\` is an error thrown by this package (an \`Error\` with a
 * numeric \`status\` and a \`detail\` list): \`catch (e) { if (isUsageError(e))
 * e.status … }\`.
 */
export function isUsageError(e: unknown): e is CallsUsageError;
`;
const stats = `// The types of weave-usage/stats (stats.js, stats-node.js, stats.cjs):
// the main entry's API, with usageStats, usageStatsFromJson and
// \`new UsageAccumulator({ stats: true })\` working (generated by the build
// from the crate's declarations with its \`stats\` feature).

${header}

${apiTypes('weave_usage_stats')}

${isUsageErrorType}`;
const index = `// The types of weave-usage: every entry (index.js, node.js, node.cjs,
// init.js, init.cjs) exports this API (generated by the build from the
// crate's declarations). Stats are in weave-usage/stats (stats.d.ts).

${header}

${api}

${isUsageErrorType}`;
const init = (from) => `// weave-usage/init: the API of the main entry, with the module loaded when
// init() is called instead of at import (generated by the build).
export * from '${from}';

/** Where init() finds the module. Each member is the type of that name
 * where the project's libs declare it (the DOM's, @types/node, Deno) and
 * \`never\` where they do not, so these types need none of them. */
type Global<K extends string> = typeof globalThis extends { [P in K]: { prototype: infer T } } ? T : never;
type CompiledModule = typeof globalThis extends { WebAssembly: { Module: { prototype: infer T } } } ? T : never;

/** A URL or a string (fetched, in browsers), a \`Response\`, the module's
 * bytes, or a compiled \`WebAssembly.Module\`. */
export type InitInput = string | Global<'URL'> | Global<'Request'> | Global<'Response'> | ArrayBuffer | ArrayBufferView | CompiledModule;

/**
 * Loads the module; every other export may be called once it has resolved
 * (before, they throw a 500 \`not_initialized\`). Only the first call loads:
 * later ones resolve when it has. Omitted, \`input\` is the .wasm beside the
 * package's files (as the main entry loads it). In Node, Deno and Bun, and
 * when a bundler renders on the server, the package's own copy of the
 * module is used unless bytes, a \`Response\` or a compiled module are given.
 */
export function init(input?: InitInput | PromiseLike<InitInput>): Promise<void>;
`;
const wasmUrl = (exp) => `// weave-usage/weave_usage_bg.wasm: the module itself. Imported through a
// bundler's file or URL loader (esbuild's \`--loader:.wasm=file\`, Bun's
// \`with { type: 'file' }\`), it is the URL the file is served at: give it to
// init() from weave-usage/init (generated by the build).
declare const url: string;
${exp}
`;
writeFileSync(join(pkg, 'index.d.ts'), index);
writeFileSync(join(pkg, 'index.d.cts'), index);
writeFileSync(join(pkg, 'stats.d.ts'), stats);
writeFileSync(join(pkg, 'stats.d.cts'), stats);
writeFileSync(join(pkg, 'init.d.ts'), init('./index.js'));
writeFileSync(join(pkg, 'init.d.cts'), init('./index.cjs'));
writeFileSync(join(pkg, 'weave_usage_bg.wasm.d.ts'), wasmUrl('export default url;'));
writeFileSync(join(pkg, 'weave_usage_bg.wasm.d.cts'), wasmUrl('export = url;'));
// The glue's own declarations are not part of the package (the loader's
// need the DOM lib); the glue itself stays, imported by the entries.
for (const glue of ['weave_usage', 'weave_usage_stats']) rmSync(join(pkg, `${glue}.d.ts`));
// The stats module is imported by its glue (stats.js) or inlined
// (stats-node.js): no typed URL of its own.
rmSync(join(pkg, 'weave_usage_stats_bg.wasm.d.ts'));

const both = (esm, cjs) => ({ import: esm, require: cjs });
const manifest = {
  name: field('name'),
  version: field('version'),
  description: field('description'),
  license: field('license'),
  type: 'module',
  // For tools that predate `exports` (TypeScript's node10 resolution, old bundlers).
  main: './node.cjs',
  module: './index.js',
  types: './index.d.cts',
  exports: {
    '.': {
      types: both('./index.d.ts', './index.d.cts'),
      node: both('./node.js', './node.cjs'),
      require: './node.cjs',
      default: './index.js',
    },
    './init': {
      types: both('./init.d.ts', './init.d.cts'),
      node: both('./init-node.js', './init.cjs'),
      require: './init.cjs',
      default: './init.js',
    },
    './stats': {
      types: both('./stats.d.ts', './stats.d.cts'),
      node: both('./stats-node.js', './stats.cjs'),
      require: './stats.cjs',
      default: './stats.js',
    },
    './prices': {
      types: both('./prices.d.ts', './prices.d.cts'),
      require: './prices.cjs',
      default: './prices.js',
    },
    './parallel': {
      types: both('./parallel.d.ts', './parallel.d.cts'),
      node: both('./parallel-node.js', './parallel.cjs'),
      require: './parallel.cjs',
      default: './parallel.js',
    },
    './weave_usage_bg.wasm': {
      types: both('./weave_usage_bg.wasm.d.ts', './weave_usage_bg.wasm.d.cts'),
      default: './weave_usage_bg.wasm',
    },
    './package.json': './package.json',
  },
  files: [
    'index.js',
    'node.js',
    'init.js',
    'init-node.js',
    'inline.js',
    'guard.js',
    'weave_usage.js',
    // wasm-bindgen's copies of js/pick.js and js/boundary.js, imported by weave_usage.js.
    'snippets/',
    'weave_usage_bg.wasm',
    'wasm-inline.cjs',
    'core.cjs',
    'node.cjs',
    'init.cjs',
    'index.d.ts',
    'index.d.cts',
    'init.d.ts',
    'init.d.cts',
    'weave_usage_bg.wasm.d.ts',
    'weave_usage_bg.wasm.d.cts',
    // weave-usage/stats (its own module: only its importers load it).
    'stats.js',
    'stats-node.js',
    'guard-stats.js',
    'inline-stats.js',
    'weave_usage_stats.js',
    'weave_usage_stats_bg.wasm',
    'wasm-inline-stats.cjs',
    'core-stats.cjs',
    'stats.cjs',
    'stats.d.ts',
    'stats.d.cts',
    // weave-usage/prices (opt-in: only its importers load the table).
    'prices.js',
    'prices-data.js',
    'prices.cjs',
    'prices.d.ts',
    'prices.d.cts',
    // weave-usage/parallel.
    ...PARALLEL,
    'parallel.cjs',
    'parallel.d.ts',
    'parallel.d.cts',
    'docs/',
    'README.md',
    'LICENSE',
  ],
  // The main entries instantiate the module when imported.
  sideEffects: ['./index.js', './node.js', './node.cjs', './stats.js', './stats-node.js', './stats.cjs'],
  engines: { node: '>=20' },
  keywords: ['weave', 'wandb', 'llm', 'tracing', 'usage', 'cost', 'wasm'],
};
// Cargo.toml's `repository`, when it has one, gives npm its links.
const repository = field('repository');
if (repository) {
  manifest.repository = { type: 'git', url: `git+${repository}.git` };
  manifest.homepage = `${repository}#readme`;
  manifest.bugs = { url: `${repository}/issues` };
}
const missing = manifest.files.filter((f) => !readdirSync(pkg).includes(f.replace(/\/$/, '')));
if (missing.length) throw new Error(`package.mjs: not built: ${missing.join(', ')}`);
writeFileSync(join(pkg, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(`pkg/: ${manifest.name}@${manifest.version}`);

/**
 * `source` (js/`from`) as a file of weave-usage/stats: its imports of the
 * main module's glue, guard and inlined bytes pointed at the stats
 * module's, and a first line saying so. Every import it names must be found.
 */
function statsVariant(source, from) {
  const to = { './weave_usage.js': './weave_usage_stats.js', './guard.js': './guard-stats.js', './inline.js': './inline-stats.js', './wasm-inline.cjs': './wasm-inline-stats.cjs' };
  let out = source;
  for (const [a, b] of Object.entries(to)) out = out.replaceAll(`from '${a}'`, `from '${b}'`);
  const left = [...out.matchAll(/from '(\.\/[^']+)'/g)].map((m) => m[1]).filter((f) => !Object.values(to).includes(f));
  if (left.length) throw new Error(`package.mjs: ${from} imports ${left.join(', ')}, which weave-usage/stats has no copy of`);
  if (out === source) throw new Error(`package.mjs: ${from} imports nothing of the main module`);
  return `// weave-usage/stats: js/${from} with the stats module (generated by the build).\n${out}`;
}

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
