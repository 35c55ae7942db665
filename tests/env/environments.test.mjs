// The package where JavaScript runs: the tarball `npm pack` makes of pkg/,
// installed into fresh projects (tests/env/projects/, dependencies pinned
// and cached, see lib.mjs), used by each environment as its users would,
// with no configuration or with the one line the package README gives.
// Every environment runs probe.js and must give the answer the test
// runner's Node gives.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as weaveUsage from 'weave-usage';
import * as weaveStats from 'weave-usage/stats';
import { launch, serve } from '../e2e/helpers.mjs';
import { lastJson, packed, project, repo, run, start } from './lib.mjs';
import { probe, statsProbe } from './probe.js';

const expected = JSON.parse(JSON.stringify(probe(weaveUsage)));
const expectedStats = JSON.parse(JSON.stringify(statsProbe(weaveStats)));
// The browser asks for /favicon.ico, which no app here has.
const favicon = (m) => m.location().url.endsWith('/favicon.ico');
const bin = (dir, name) => join(dir, 'node_modules', '.bin', name);
/** A port nothing listens on now. */
const freePort = () =>
  new Promise((resolve, reject) => {
    const probeServer = createServer();
    probeServer.on('error', reject);
    probeServer.listen(0, '127.0.0.1', () => {
      const { port } = probeServer.address();
      probeServer.close(() => resolve(port));
    });
  });

test('the probe itself: answers for both roots, streamed as read, an error the guard knows', () => {
  assert.deepEqual(expected.json, expected.objects);
  assert.deepEqual(expected.streamed, expected.objects);
  assert.deepEqual(Object.keys(expected.objects.call_usage).sort(), ['r', 'u']);
  assert.equal(expected.calls, 3);
  assert.deepEqual(expected.error, { guard: true, status: 400, type: 'json_invalid' });
  assert.deepEqual(expectedStats.json, expectedStats.objects);
  assert.deepEqual(expectedStats.streamed, expectedStats.objects);
  assert.equal(expectedStats.objects.call_buckets.length, 3);
  assert.ok(expectedStats.objects.usage_buckets.some((r) => r.model === 'gpt-4o' && r.prompt_tokens === 10));
});

describe('runtimes: Node 20.0, 20.18, 22, 26 and this one, Deno, Bun; import and require, with weave-usage/stats', () => {
  let dir;
  before(() => {
    dir = project('runtimes');
  });
  const nodes = {
    'this Node': process.execPath,
    'Node 20.0.0': 'node_modules/node-20.0/bin/node',
    'Node 20.18.0': 'node_modules/node-20.18/bin/node',
    'Node 22.23.3': 'node_modules/node-22/bin/node',
    'Node 26.12.1': 'node_modules/node-26/bin/node',
  };
  for (const [name, node] of Object.entries(nodes)) {
    test(`${name}: import and require, each entry (weave-usage/stats too)`, () => {
      const exe = node.startsWith('/') ? node : join(dir, node);
      for (const file of ['esm.mjs', 'cjs.cjs']) {
        const out = lastJson(run(exe, ['--no-warnings', file], { cwd: dir }));
        assert.deepEqual(out, { main: expected, init: expected, stats: expectedStats }, `${name} ${file}`);
      }
    });
  }
  test('Deno (from node_modules): import and require; `using` type-checks (deno check)', () => {
    const deno = bin(dir, 'deno');
    const env = { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', DENO_DIR: join(dir, '.deno') };
    for (const file of ['esm.mjs', 'cjs.cjs']) {
      const out = lastJson(run(deno, ['run', '--allow-read', '--allow-env', file], { cwd: dir, env }));
      assert.deepEqual(out, { main: expected, init: expected, stats: expectedStats }, `deno ${file}`);
    }
    run(deno, ['check', 'dispose.ts'], { cwd: dir, env });
    assert.deepEqual(lastJson(run(deno, ['run', '--allow-read', '--allow-env', 'dispose.ts'], { cwd: dir, env })), { calls: 1, status: 400 });
  });
  test('Bun: bun run, import and require', () => {
    for (const file of ['esm.mjs', 'cjs.cjs']) {
      const out = lastJson(run(bin(dir, 'bun'), ['run', file], { cwd: dir }));
      assert.deepEqual(out, { main: expected, init: expected, stats: expectedStats }, `bun ${file}`);
    }
  });
  test('weave-usage/parallel: worker threads over bytes and over a Blob give the one-shot answer, and an AbortSignal gives work up, in every Node, Deno and Bun', () => {
    // The calls' traces are woven (`t${i % 5}`): over bytes, which the
    // workers share, the second shard, read for the request, passed over
    // calls of traces whose roots the first holds, and read again; a Blob's
    // shards read every call.
    const across = (rereads) => ({ same: true, last: { shards: 2, oneShot: false, rereads } });
    const runs = {
      ...Object.fromEntries(Object.entries(nodes).map(([name, node]) => [name, [node.startsWith('/') ? node : join(dir, node), ['--no-warnings', 'parallel.mjs']]])),
      Deno: [bin(dir, 'deno'), ['run', '--allow-read', '--allow-env', 'parallel.mjs']],
      Bun: [bin(dir, 'bun'), ['run', 'parallel.mjs']],
    };
    const env = { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', DENO_DIR: join(dir, '.deno') };
    for (const [name, [exe, args]] of Object.entries(runs)) {
      assert.deepEqual(lastJson(run(exe, args, { cwd: dir, env })), { bytes: across(1), blob: across(0), aborted: { before: 'the reason', during: 'the reason', after: true } }, name);
    }
  });
});

describe('Cloudflare Workers (workerd)', () => {
  test('workerd: weave-usage/init given the .wasm module at global scope, bundled by esbuild; a request answers', async () => {
    const dir = project('workerd');
    run(bin(dir, 'esbuild'), ['worker.mjs', '--bundle', '--format=esm', '--external:./weave_usage_bg.wasm', '--outfile=bundle.mjs', '--log-level=warning'], { cwd: dir });
    const port = await freePort();
    // workerd says nothing once it listens: the log is read only on failure.
    const server = spawn(bin(dir, 'workerd'), ['serve', 'config.capnp', `--socket-addr=http=127.0.0.1:${port}`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    server.stdout.on('data', (d) => (log += d));
    server.stderr.on('data', (d) => (log += d));
    try {
      let res = null;
      for (let i = 0; i < 100 && res === null; i++) {
        res = await fetch(`http://127.0.0.1:${port}/`).catch(() => null);
        if (res === null) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(res, `workerd never answered:\n${log}`);
      const text = await res.text();
      assert.equal(res.status, 200, `${text}\n${log}`);
      assert.deepEqual(JSON.parse(text), expected);
      // Nothing the worker did at global scope was refused.
      assert.doesNotMatch(log, /Uncaught|Disallowed/);
    } finally {
      server.kill();
    }
  });
});

describe('test runners: Jest (CommonJS), Vitest', () => {
  let dir;
  before(() => {
    dir = project('runners');
    writeFileSync(join(dir, 'expected.json'), JSON.stringify(expected));
  });
  test('Jest: require, no configuration', () => {
    const out = run(process.execPath, [join(dir, 'node_modules/jest/bin/jest.js'), '--ci', '--rootDir', 'jest'], { cwd: dir });
    void out;
  });
  test('Vitest: import, no configuration', () => {
    run(bin(dir, 'vitest'), ['run', '--root', 'vitest'], { cwd: dir });
  });
});

describe('TypeScript (tsc --strict, lib es2022 without DOM, skipLibCheck off), attw, publint', () => {
  let dir;
  before(() => {
    dir = project('types');
  });
  for (const config of ['node10', 'node16', 'nodenext', 'bundler', 'bare']) {
    test(`tsc -p tsconfig.${config}.json`, () => {
      run(bin(dir, 'tsc'), ['-p', `tsconfig.${config}.json`], { cwd: dir });
    });
  }
  test('attw: no problem in any resolution', () => {
    const out = run(bin(dir, 'attw'), [packed(), '--format', 'table-flipped'], { cwd: dir, env: { NO_COLOR: '1', FORCE_COLOR: '0' } });
    console.log(out);
    assert.match(out, /No problems found/);
  });
  test('publint: nothing to report', () => {
    const out = run(bin(dir, 'publint'), ['run', 'node_modules/weave-usage', '--strict'], { cwd: dir, env: { NO_COLOR: '1' } });
    console.log(out);
    assert.match(out, /All good!/);
  });
});

describe('bundlers, run in Chromium: Vite (main thread, weave-usage/stats and module worker), webpack 5 (the same), esbuild, Rollup', () => {
  let dir, browser;
  before(async () => {
    dir = project('bundlers');
    browser = await launch();
  });
  after(() => browser?.close());

  /** Serves `root`, opens index.html and waits for the page's results. */
  async function results(root, page = 'index.html') {
    const { server, url } = await serve({ root });
    const context = await browser.newContext();
    const tab = await context.newPage();
    const problems = [];
    tab.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    tab.on('console', (m) => m.type() === 'error' && !favicon(m) && problems.push(`console: ${m.text()}`));
    tab.on('response', (r) => r.status() >= 400 && !r.url().endsWith('/favicon.ico') && problems.push(`HTTP ${r.status()}: ${r.url()}`));
    try {
      await tab.goto(`${url}${page}`);
      await tab.waitForFunction(() => document.title === 'done', null, { timeout: 30_000 }).catch(() => {});
      const got = await tab.evaluate(() => window.results);
      return { got, problems };
    } finally {
      await context.close();
      server.close();
    }
  }
  const copyPage = (out) => writeFileSync(join(dir, out, 'index.html'), readFileSync(join(dir, 'page.html')));

  test('Vite: vite build, main thread and a module worker (worker.format "es", one line)', async () => {
    rmSync(join(dir, 'dist-vite'), { recursive: true, force: true });
    run(bin(dir, 'vite'), ['build', '--logLevel', 'warn'], { cwd: dir });
    const { got, problems } = await results(join(dir, 'dist-vite'));
    assert.deepEqual(problems, []);
    assert.deepEqual(got, { main: expected, stats: expectedStats, worker: expected });
  });
  test('webpack 5: main thread and a module worker, no configuration', async () => {
    rmSync(join(dir, 'dist-webpack'), { recursive: true, force: true });
    run(process.execPath, ['-e', "import('webpack').then(async ({ default: webpack }) => { const config = (await import('./webpack.config.js')).default; webpack(config, (err, stats) => { if (err || stats.hasErrors()) { console.error(err ?? stats.toString('errors-only')); process.exit(1); } }); })"], { cwd: dir });
    copyPage('dist-webpack');
    const { got, problems } = await results(join(dir, 'dist-webpack'));
    assert.deepEqual(problems, []);
    assert.deepEqual(got, { main: expected, stats: expectedStats, worker: expected });
  });
  test('esbuild: weave-usage/init given the .wasm as a file (--loader:.wasm=file)', async () => {
    rmSync(join(dir, 'dist-esbuild'), { recursive: true, force: true });
    run(bin(dir, 'esbuild'), ['src/init.js', '--bundle', '--format=esm', '--outfile=dist-esbuild/main.js', '--loader:.wasm=file', '--log-level=warning'], { cwd: dir });
    copyPage('dist-esbuild');
    const { got, problems } = await results(join(dir, 'dist-esbuild'));
    assert.deepEqual(problems, []);
    assert.deepEqual(got, { main: expected });
  });
  test('bun build for browsers: weave-usage/init given the .wasm imported as a file (Bun emits it by default)', async () => {
    const bun = bin(project('runtimes'), 'bun');
    rmSync(join(dir, 'dist-bun'), { recursive: true, force: true });
    run(bun, ['build', 'src/init.js', '--target=browser', '--outdir=dist-bun', '--entry-naming=main.js'], { cwd: dir });
    copyPage('dist-bun');
    const { got, problems } = await results(join(dir, 'dist-bun'));
    assert.deepEqual(problems, []);
    assert.deepEqual(got, { main: expected });
  });
  test('esbuild for a server (--platform=node, ESM and CommonJS): no configuration, nothing to copy', () => {
    for (const format of ['esm', 'cjs']) {
      const out = join(dir, 'dist-esbuild-node', `server.${format === 'esm' ? 'mjs' : 'cjs'}`);
      rmSync(join(dir, 'dist-esbuild-node'), { recursive: true, force: true });
      run(bin(dir, 'esbuild'), ['src/server.js', '--bundle', '--platform=node', `--format=${format}`, `--outfile=${out}`, '--log-level=warning'], { cwd: dir });
      // Run from elsewhere: the bundle needs nothing beside it.
      assert.deepEqual(lastJson(run(process.execPath, [out], { cwd: repo })), expected, format);
    }
  });
  test('Rollup: node-resolve and import-meta-assets plugins', async () => {
    rmSync(join(dir, 'dist-rollup'), { recursive: true, force: true });
    run(bin(dir, 'rollup'), ['-c', '--silent'], { cwd: dir });
    copyPage('dist-rollup');
    assert.ok(existsSync(join(dir, 'dist-rollup')));
    const { got, problems } = await results(join(dir, 'dist-rollup'));
    assert.deepEqual(problems, []);
    assert.deepEqual(got, { main: expected });
  });
});

describe('Next.js 16: server component, client component, route handler; next build, next start', () => {
  let dir, browser;
  before(async () => {
    dir = project('next');
    browser = await launch();
  });
  after(() => browser?.close());
  const env = { NEXT_TELEMETRY_DISABLED: '1' };

  for (const [name, flags] of [
    ['Turbopack', []],
    ['webpack', ['--webpack']],
  ]) {
    test(`next build ${flags.join(' ')} (${name}), then next start: each kind of module answers`, async () => {
      rmSync(join(dir, '.next'), { recursive: true, force: true });
      run(bin(dir, 'next'), ['build', ...flags], { cwd: dir, env, timeout: 600_000 });
      const server = await start(bin(dir, 'next'), ['start', '-p', '0', '-H', '127.0.0.1'], { cwd: dir, env, ready: /https?:\/\/[\d.:a-z]+:(\d+)/ });
      try {
        const port = server.output().match(/https?:\/\/[\d.:a-z]+:(\d+)/)[1];
        const origin = `http://127.0.0.1:${port}`;
        assert.deepEqual(await (await fetch(`${origin}/api/usage`)).json(), expected, 'route handler');
        const context = await browser.newContext();
        const page = await context.newPage();
        const problems = [];
        page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        page.on('console', (m) => m.type() === 'error' && !favicon(m) && problems.push(`console: ${m.text()}`));
        await page.goto(origin);
        await page.waitForFunction(() => document.getElementById('browser')?.textContent !== '', null, { timeout: 30_000 });
        const text = (id) => page.evaluate((i) => JSON.parse(document.getElementById(i).textContent), id);
        assert.deepEqual(await text('server'), expected, 'server component');
        assert.deepEqual(await text('client'), expected, 'client component');
        assert.deepEqual(await text('browser'), expected, 'client component, in the browser');
        assert.deepEqual(problems, []);
        await context.close();
      } finally {
        server.stop();
      }
    });
  }
});
