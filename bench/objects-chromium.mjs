// The objects path alone in headless Chromium (Debian's, driven by
// playwright-core), one build of the package against others:
//   node bench/objects-chromium.mjs [--calls N] [--rounds R] [--scenarios plain,dates,some-dates] [PKG_DIR ...]
// Serves bench/ and each build on localhost, runs bench/objects.html, and
// prints the table bench/objects.mjs prints.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { serve } from '../tools/serve.mjs';
import { objectsTable, SCENARIOS } from './objects-suite.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { calls: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '21' }, scenarios: { type: 'string', default: Object.keys(SCENARIOS).join(',') } },
});
const repo = new URL('../', import.meta.url).pathname;
const dirs = (positionals.length ? positionals : [`${repo}pkg`]).map((d) => resolve(d));
const mounts = { '/tools/': `${repo}tools` };
dirs.forEach((d, i) => (mounts[`/pkg${i}/`] = d));
const { server, url } = await serve({ root: `${repo}bench`, mounts });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic', '--js-flags=--expose-gc'],
});
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.log(m.text()));
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  console.log(`Chromium ${browser.version()}`);
  const query = new URLSearchParams({ pkgs: dirs.map((_, i) => `/pkg${i}/`).join(','), calls: values.calls, rounds: values.rounds, scenarios: values.scenarios });
  dirs.forEach((d, i) => query.set(`name${i}`, d));
  await page.goto(`${url}objects.html?${query}`);
  await page.waitForFunction(() => window.bench, null, { timeout: 0, polling: 1000 });
  const result = await page.evaluate(() => window.bench);
  if (result.error) throw new Error(result.error);
  console.log('\n' + objectsTable(result.rows, 'callsUsage 0'));
  if (result.rows.some((r) => r.agrees === false)) {
    console.error('\nan answer DISAGREES with the JS rollup');
    process.exitCode = 1;
  }
} finally {
  await browser.close();
  server.close();
}
