// The npm package as users get it: `npm pack` of pkg/, the tarball's files
// and package.json, then the tarball installed into a fresh project and used
// from Node, from TypeScript and from a Vite dev server (which pre-bundles an
// installed dependency, unlike the linked one the other tests use).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createServer } from 'vite';
import { callsUsageFromJson } from 'weave-usage';
import { launch, openPage, readSample, repo, samplePath } from './helpers.mjs';

const FILES = [
  'LICENSE',
  'README.md',
  'docs/options.md',
  'docs/semantics.md',
  'docs/hostile-inputs.md',
  'docs/stats.md',
  'docs/parallel.md',
  'index.d.ts',
  'index.d.cts',
  'init.d.ts',
  'init.d.cts',
  'weave_usage_bg.wasm.d.ts',
  'weave_usage_bg.wasm.d.cts',
  'index.js',
  'node.js',
  'init.js',
  'init-node.js',
  'inline.js',
  'guard.js',
  'core.cjs',
  'node.cjs',
  'init.cjs',
  'wasm-inline.cjs',
  'package.json',
  'weave_usage.js',
  'weave_usage_bg.wasm',
  // weave-usage/prices
  'prices.js',
  'prices-data.js',
  'prices.cjs',
  'prices.d.ts',
  'prices.d.cts',
  // weave-usage/parallel
  'parallel.js',
  'parallel-node.js',
  'parallel-core.js',
  'parallel-worker.js',
  'parallel-worker-node.js',
  'parallel.cjs',
  'parallel.d.ts',
  'parallel.d.cts',
  // weave-usage/stats: its own module, glue, guard and entries
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
  // wasm-bindgen's copies of js/pick.js and js/boundary.js, in a
  // folder named with a hash.
  'snippets/*/js/pick.js',
  'snippets/*/js/boundary.js',
  'snippets/*/js/zone.js',
];
/** A path with the snippet folder's hash replaced by `*`. */
const normal = (path) => path.replace(/^snippets\/[^/]+\//, 'snippets/*/');

let dir, packed, consumer, installed;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'weave-usage-pack-'));
  const npm = (args, cwd) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  [packed] = JSON.parse(npm(['pack', join(repo, 'pkg'), '--json', '--pack-destination', dir], repo));
  consumer = join(dir, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // A local tarball without dependencies needs no registry.
  npm(['install', '--offline', join(dir, packed.filename)], consumer);
  installed = join(consumer, 'node_modules', 'weave-usage');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('npm pack: exactly the package files, .d.ts and .wasm included', () => {
  assert.deepEqual(packed.files.map((f) => normal(f.path)).sort(), [...FILES].sort());
  assert.equal(packed.name, 'weave-usage');
});

test('package.json: name, version, license, description, entries and types', () => {
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  const cargo = readFileSync(join(repo, 'Cargo.toml'), 'utf8');
  const field = (name) => cargo.match(new RegExp(`^${name} = "(.*)"$`, 'm'))[1];
  assert.equal(manifest.name, 'weave-usage');
  assert.equal(manifest.version, field('version'));
  assert.match(manifest.version, /^\d+\.\d+\.\d+/);
  assert.equal(manifest.license, 'Apache-2.0');
  assert.equal(manifest.description, field('description'));
  assert.equal(manifest.type, 'module');
  assert.equal(manifest.types, './index.d.cts');
  assert.equal(manifest.main, './node.cjs');
  assert.deepEqual(manifest.exports['.'], {
    types: { import: './index.d.ts', require: './index.d.cts' },
    node: { import: './node.js', require: './node.cjs' },
    require: './node.cjs',
    default: './index.js',
  });
  assert.deepEqual(manifest.exports['./init'], {
    types: { import: './init.d.ts', require: './init.d.cts' },
    node: { import: './init-node.js', require: './init.cjs' },
    require: './init.cjs',
    default: './init.js',
  });
  assert.deepEqual(manifest.exports['./stats'], {
    types: { import: './stats.d.ts', require: './stats.d.cts' },
    node: { import: './stats-node.js', require: './stats.cjs' },
    require: './stats.cjs',
    default: './stats.js',
  });
  assert.deepEqual(manifest.engines, { node: '>=20' });
  const listed = [...new Set(FILES.filter((f) => f !== 'package.json').map((f) => f.replace(/^(snippets|docs)\/.*/, '$1/')))];
  assert.deepEqual([...manifest.files].sort(), listed.sort());
  const targets = (e) => (typeof e === 'string' ? [e] : Object.values(e).flatMap(targets));
  for (const target of [manifest.main, manifest.module, manifest.types, ...targets(manifest.exports)]) {
    assert.ok(existsSync(join(installed, target)), `${target} is in the package`);
  }
});

test('README.md: written for npm: install first, links absolute to this version, no repository scripts', () => {
  const readme = readFileSync(join(installed, 'README.md'), 'utf8');
  assert.match(readme, /^## Install\n\n```sh\nnpm install weave-usage\n```/m);
  assert.ok(readme.indexOf('## Install') < readme.indexOf('## Use'));
  assert.doesNotMatch(readme, /scripts\/|\{\{/);
  const links = [...readme.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]);
  assert.ok(links.length >= 3);
  for (const link of links) {
    assert.match(link, /^https:\/\//, link);
    // A link to a shipped doc names this version, and the doc is in the package.
    const doc = link.match(/^https:\/\/unpkg\.com\/weave-usage@([^/]+)\/(.+)$/);
    if (doc) {
      assert.equal(doc[1], JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).version);
      assert.ok(existsSync(join(installed, doc[2])), doc[2]);
    }
  }
});

test('Node 20+: ESM import of the installed package picks node.js and computes the sample', () => {
  const script = `
    import { callsUsageFromJson } from 'weave-usage';
    import { readFileSync } from 'node:fs';
    const request = JSON.parse(process.argv[2]);
    const res = callsUsageFromJson(readFileSync(process.argv[1]), request);
    console.log(JSON.stringify({ entry: import.meta.resolve('weave-usage'), res }));`;
  const request = { project_id: 'acme/agents', call_ids: ['e2af1294-ffac-7a7c-beb6-bf8b655bb132', 'nope'], include_costs: true };
  const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script, samplePath, JSON.stringify(request)], { cwd: consumer, encoding: 'utf8' });
  const { entry, res } = JSON.parse(stdout);
  assert.ok(entry.endsWith('/node_modules/weave-usage/node.js'), entry);
  assert.deepEqual(res, callsUsageFromJson(readSample(), request));
  assert.ok(Object.keys(res.call_usage['e2af1294-ffac-7a7c-beb6-bf8b655bb132']).length > 0);
});

test('TypeScript: the installed package type-checks strictly, and its types are not `any`', () => {
  writeFileSync(
    join(consumer, 'check.ts'),
    `import { callsUsageFromJson, type CallsUsageRes, type CallsUsageError } from 'weave-usage';
const res: CallsUsageRes = callsUsageFromJson(new Uint8Array(0), { project_id: 'p', call_ids: [] });
const ids: string[] = res.unfinished_call_ids;
const status: 400 | 409 | 410 | 413 | 422 | 500 | 501 | undefined = (undefined as CallsUsageError | undefined)?.status;
// @ts-expect-error: a 500 is possible too (an answer too big for one string)
const narrow: 400 | 409 | 410 | 413 | 422 | undefined = (undefined as CallsUsageError | undefined)?.status;
// @ts-expect-error: a 413 is possible too (calls or a request too large for memory)
const narrower: 400 | 409 | 410 | 422 | 500 | undefined = (undefined as CallsUsageError | undefined)?.status;
// @ts-expect-error: no such field
res.usage;
void [ids, status, narrow, narrower];
`,
  );
  writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'], types: [] }, files: ['check.ts'] }));
  execFileSync(join(repo, 'node_modules', '.bin', 'tsc'), ['-p', consumer], { encoding: 'utf8' });
});

test('Vite dev server: the installed package, pre-bundled, works in Chromium', async () => {
  const app = join(consumer, 'app');
  mkdirSync(join(app, 'public'), { recursive: true });
  cpSync(join(repo, 'tests/e2e/apps/vite/index.html'), join(app, 'index.html'));
  cpSync(join(repo, 'tests/e2e/apps/probe.js'), join(app, 'probe.js'));
  cpSync(samplePath, join(app, 'public', 'traces.jsonl'));
  writeFileSync(
    join(app, 'main.js'),
    `import { callsUsage, callsUsageFromJson } from 'weave-usage';
import { report } from './probe.js';
await report({ callsUsage, callsUsageFromJson }, '/traces.jsonl');
`,
  );
  const server = await createServer({ root: app, configFile: false, logLevel: 'warn', server: { host: '127.0.0.1', port: 0 } });
  const browser = await launch();
  try {
    await server.listen();
    const url = server.resolvedUrls.local[0];
    const { page, problems } = await openPage(browser, url);
    await page.goto(url);
    await page.waitForSelector('body[data-done]');
    const probe = await page.evaluate(() => window.probe);
    assert.equal(probe.failed, undefined, probe.failed);
    assert.deepEqual(probe.fromBytes, callsUsageFromJson(readSample(), probe.request));
    assert.equal(probe.error.status, 400);
    assert.deepEqual(problems, [], 'the console stayed clean');
    // Vite's own record that it pre-bundled the package (the case that breaks
    // packages whose .wasm URL is not rewritten).
    const meta = JSON.parse(readFileSync(join(consumer, 'node_modules/.vite/deps/_metadata.json'), 'utf8'));
    assert.ok(meta.optimized['weave-usage'], 'weave-usage was pre-bundled');
  } finally {
    await browser.close();
    await server.close();
  }
});
