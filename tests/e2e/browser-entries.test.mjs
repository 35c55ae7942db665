// The package's browser entry in Chromium, imported the two ways apps do:
// plain ESM from a static server (no bundler), and bundled by Vite
// (`vite build`, then the built app served statically).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { build } from 'vite';
import { callsUsageFromJson } from 'weave-usage';
import { launch, openPage, out, readSample, repo, serve } from './helpers.mjs';

const apps = `${repo}tests/e2e/apps/`;
let browser;
before(async () => {
  browser = await launch();
});
after(() => browser?.close());

/** Serves `root` (plus `mounts`), loads `path` and returns what the probe published. */
async function runProbe(root, mounts, path) {
  const { server, url } = await serve({ root, mounts });
  const { page, problems, close } = await openPage(browser, url);
  try {
    await page.goto(url + path);
    await page.waitForSelector('body[data-done]');
    const result = await page.evaluate(() => window.probe);
    assert.deepEqual(problems, [], 'the console stayed clean');
    return result;
  } finally {
    await close();
    server.close();
  }
}

/** The probe's figures are the package's in Node, and its error is a proper 400. */
function assertProbe(probe) {
  assert.equal(probe.failed, undefined, probe.failed);
  const want = callsUsageFromJson(readSample(), probe.request);
  assert.equal(probe.request.call_ids.length, 6);
  assert.deepEqual(probe.fromBytes, want);
  assert.deepEqual(probe.fromObjects, want);
  assert.equal(probe.error.isError, true);
  assert.equal(probe.error.status, 400);
  assert.deepEqual(probe.error.detail[0].loc, ['body', 13]);
  assert.match(probe.error.detail[0].msg, /^Invalid JSON at line 2, column 2 \(byte 13\)/);
}

test('plain browser ESM: <script type="module"> importing pkg/index.js, no bundler', async () => {
  const probe = await runProbe(apps, { '/pkg/': `${repo}pkg`, '/sample/': `${repo}www/sample` }, 'esm/');
  assertProbe(probe);
});

test('bundled by Vite: vite build of an app importing weave-usage by name', async () => {
  const dist = `${out}vite-dist`;
  await build({ root: `${apps}vite`, configFile: false, logLevel: 'warn', build: { outDir: dist, emptyOutDir: true } });
  const assets = readdirSync(`${dist}/assets`);
  assert.ok(assets.some((f) => f.endsWith('.wasm')), `the .wasm is emitted as an asset: ${assets.join(', ')}`);
  const probe = await runProbe(dist, {}, '');
  assertProbe(probe);
});
