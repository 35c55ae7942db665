// The benchmark in headless Chromium (Debian's, driven by playwright-core):
//   node bench/chromium.mjs [--stats-only] [sizes...]
// Serves bench/ and the built package on localhost, runs bench/page.html,
// and prints the same table as bench/node.mjs.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { serve } from '../tools/serve.mjs';
import { table } from './suite.mjs';

const repo = new URL('../', import.meta.url).pathname;
const sizes = process.argv.slice(2).map(Number).filter(Boolean);
const statsOnly = process.argv.includes('--stats-only');
const { server, url } = await serve({ root: `${repo}bench`, mounts: { '/pkg/': `${repo}pkg`, '/tools/': `${repo}tools` } });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--no-first-run', '--disable-sync', '--disable-quic',
    // For the figures: a callable gc(), and exact heap sizes.
    '--js-flags=--expose-gc', '--enable-precise-memory-info',
  ],
});
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.log(m.text()));
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  const wasm = readFileSync(`${repo}pkg/weave_usage_bg.wasm`);
  console.log(`Chromium ${browser.version()}; wasm: ${wasm.length} bytes, ${gzipSync(wasm, { level: 9 }).length} gzipped`);
  await page.goto(`${url}page.html?sizes=${(sizes.length ? sizes : [10_000, 100_000, 1_000_000]).join(',')}&runs=5${statsOnly ? '&statsOnly=1' : ''}`);
  await page.waitForFunction(() => window.bench, null, { timeout: 0, polling: 1000 });
  const result = await page.evaluate(() => window.bench);
  if (result.error) throw new Error(result.error);
  console.log('\n' + table(result.rows));
  if (result.rows.some((r) => r.agrees === false)) {
    console.error('\nresults DISAGREE');
    process.exitCode = 1;
  }
} finally {
  await browser.close();
  server.close();
}
