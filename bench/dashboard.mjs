// The dashboard opening one large file in headless Chromium, as a user does
// (the file input), timed from the upload to `body[data-state=ready]`
// (polled every 250 ms), then the first root's trace view opened:
//   node bench/dashboard.mjs FILE [--www DIR] [--workers N] [--isolated]
// FILE: a calls export, e.g. bench/data.mjs's calls written as JSON Lines:
//   node -e "import('./bench/data.mjs').then(m => require('fs').writeFileSync('/tmp/calls-1m.jsonl', m.generate(1e6).body))"
// --www: the dashboard's files (default www/; the built package is /pkg/).
// --workers: shard workers for a large file (the page's `#workers=N`; 0:
// read on the dashboard's own worker; default: as the machine allows).
// --isolated: served cross-origin isolated, as scripts/demo.sh serves it.
// Prints figures, and the peak resident memory of the browser's processes
// (`ps`, summed: pages shared between processes count more than once, so
// compare runs rather than read it as a total); fails only if the page
// shows an error.
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { launch, openPage, serve, repo } from '../tests/e2e/helpers.mjs';
import { ISOLATED } from '../tools/serve.mjs';

const { values, positionals } = parseArgs({ options: { www: { type: 'string' }, workers: { type: 'string' }, isolated: { type: 'boolean', default: false } }, allowPositionals: true });
const file = positionals[0];
if (!file) {
  console.error('usage: node bench/dashboard.mjs FILE [--www DIR] [--workers N] [--isolated]');
  process.exit(2);
}
const headers = values.isolated ? ISOLATED : {};
const { server, url } = await serve({ root: values.www ?? `${repo}www`, mounts: { '/pkg/': `${repo}pkg` }, headers });
const browser = await launch();
const { page, problems, close } = await openPage(browser, url);
const state = () => page.evaluate(() => document.body.dataset.state);
/** MB resident in the browser's processes (Chromium's, by name). */
const browserMB = () =>
  execFileSync('ps', ['-eo', 'rss=,comm='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /\b(chromium|chrome)/.test(l))
    .reduce((kb, l) => kb + Number(l.trim().split(/\s+/)[0] || 0), 0) / 1024;
let peakMB = 0;
const until = async (done, limit = 900_000) => {
  const t = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    peakMB = Math.max(peakMB, browserMB());
    const s = await state();
    if (done(s) || Date.now() - t > limit) return [s, (Date.now() - t) / 1000];
  }
};
try {
  await page.goto(values.workers === undefined ? url : `${url}#workers=${values.workers}`);
  await page.waitForSelector('body[data-state="ready"]');
  await page.setInputFiles('#file-input', file);
  const [opened, seconds] = await until((s) => s === 'ready' || s === 'error');
  const how = [values.workers === undefined ? '' : `workers ${values.workers}`, values.isolated ? 'isolated' : ''].filter(Boolean).join(', ');
  console.log(`${file}${how ? ` (${how})` : ''}: ${opened} after ${seconds.toFixed(2)} s (from the upload), browser's processes at most ${peakMB.toFixed(0)} MB resident`);
  if (opened !== 'ready') throw new Error(await page.evaluate(() => document.querySelector('[role=alert]')?.textContent ?? 'not ready'));
  await page.click('#usage-table button[data-trace-root]');
  await new Promise((r) => setTimeout(r, 300));
  const [traced, traceSeconds] = await until((s) => s === 'ready' || s === 'error', 120_000);
  console.log(`first root's trace: ${traced} after ${(traceSeconds + 0.3).toFixed(2)} s`);
  if (problems.length) console.log('console problems:', problems);
} finally {
  await close();
  await browser.close();
  server.close();
}
