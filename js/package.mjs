// Turns wasm-pack's `pkg/` into the npm package: adds the two entry modules
// and their types, and writes package.json (version and description come
// from Cargo.toml, so there is one source of truth).
import { copyFileSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'pkg');
const cargo = readFileSync(join(root, 'Cargo.toml'), 'utf8');
const field = (name) => cargo.match(new RegExp(`^${name} = "(.*)"$`, 'm'))?.[1];

for (const f of ['index.js', 'node.js', 'index.d.ts']) copyFileSync(join(root, 'js', f), join(pkg, f));
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
    'index.d.ts',
    'weave_usage.js',
    'weave_usage.d.ts',
    'weave_usage_bg.wasm',
    'weave_usage_bg.wasm.d.ts',
    // wasm-bindgen's copy of js/select-calls.js, imported by weave_usage.js.
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
