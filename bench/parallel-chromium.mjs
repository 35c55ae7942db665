// Worker scaling in headless Chromium (Debian's, driven by playwright-core):
//   node bench/parallel-chromium.mjs [sizes...]        (default 100000)
// Runs bench/parallel.html twice: served cross-origin isolated (COOP and
// COEP, so the pool copies the body into a SharedArrayBuffer it keeps) and
// not (each shard gets a copy of its own bytes). Prints figures; exits
// non-zero only if a pool's answer differs from the one-shot's.
import { chromium } from 'playwright-core';
import { ISOLATED, serve } from '../tools/serve.mjs';

const repo = new URL('../', import.meta.url).pathname;
const sizes = process.argv.slice(2).map(Number).filter(Boolean);
const rounds = Number(process.env.ROUNDS) || 5;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--js-flags=--expose-gc'],
});
console.log(`Chromium ${browser.version()}`);
try {
  for (const isolated of [true, false]) {
    const { server, url } = await serve({ root: `${repo}bench`, mounts: { '/pkg/': `${repo}pkg`, '/tools/': `${repo}tools` }, headers: isolated ? ISOLATED : {} });
    try {
      const page = await browser.newPage();
      page.on('console', (m) => console.log(m.text()));
      page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
      await page.goto(`${url}parallel.html?sizes=${(sizes.length ? sizes : [100_000]).join(',')}&rounds=${rounds}`);
      await page.waitForFunction(() => window.bench, null, { timeout: 0, polling: 1000 });
      const result = await page.evaluate(() => window.bench);
      await page.close();
      if (result.error) throw new Error(result.error);
      console.log(`\ncross-origin isolated: ${result.isolated} (${result.isolated ? 'the body copied into a SharedArrayBuffer the pool keeps' : 'each shard gets a copy of its bytes'}); ${result.cores} cores; ${rounds} rounds`);
      console.log('| calls (MB) | path | shards | median ms (min–max) | vs one-shot (paired) |\n|---|---|---|---|---|');
      for (const r of result.rows) {
        console.log(`| ${r.calls} (${r.mb.toFixed(0)}) | ${r.name} | ${r.shards} | ${r.median.toFixed(1)} (${r.min.toFixed(1)}–${r.max.toFixed(1)}) | ${r.paired === null ? '' : r.paired.toFixed(2) + '×'} |`);
      }
    } finally {
      server.close();
    }
  }
} finally {
  await browser.close();
}
