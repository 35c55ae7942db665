// The dashboard's scanner (www/scan.js) against another version of it, in
// one process, interleaved rounds, the order alternating:
//   git show c569430:www/scan.js > /tmp/scan-old.js
//   node bench/www-scan.mjs /tmp/scan-old.js [calls=100000] [rounds=7] [--chromium]
// c569430 is the last version that ran JSON.parse on every call. The
// calls are bench/data.mjs's, as JSON Lines, fed in 1 MB chunks as the
// dashboard's worker feeds them. With --chromium both run in a headless
// Chromium page. Prints each round and the median of old/new (paired);
// fails only if the two find different things.
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generate } from './data.mjs';
import { median } from './rounds.mjs';

const args = process.argv.slice(2);
const chromiumRun = args.includes('--chromium');
const [old, n = '100000', r = '7'] = args.filter((a) => a !== '--chromium');
if (!old) {
  console.error('usage: node bench/www-scan.mjs OLD_SCAN_JS [calls] [rounds] [--chromium]');
  process.exit(2);
}
const calls = Number(n);
const rounds = Number(r);

/** Runs in Node or in the page: times both scanners over `bytes`, rounds interleaved. */
async function compare(bytes, rounds, oldUrl, newUrl) {
  const mods = { old: await import(oldUrl), new: await import(newUrl) };
  const run = (m) => {
    const t = performance.now();
    const s = new m.CallScanner();
    for (let at = 0; at < bytes.length; at += 1 << 20) s.push(bytes.subarray(at, at + (1 << 20)));
    const found = s.finish();
    return [performance.now() - t, JSON.stringify(found)];
  };
  const out = [];
  for (let i = 0; i < rounds; i++) {
    const ms = {};
    const found = {};
    for (const k of i % 2 ? ['old', 'new'] : ['new', 'old']) [ms[k], found[k]] = run(mods[k]);
    if (found.old !== found.new) throw new Error('the two scanners found different things');
    out.push(ms);
  }
  return out;
}

const { body } = generate(calls);
let results;
let engine = `Node ${process.version}`;
if (chromiumRun) {
  const { chromium } = await import('playwright-core');
  const { serve } = await import('../tools/serve.mjs');
  // The page imports both from one origin: the old file is served from a copy.
  const dir = mkdtempSync(join(tmpdir(), 'www-scan-'));
  copyFileSync(old, join(dir, 'scan.js'));
  const { server, url } = await serve({ root: new URL('../www/', import.meta.url).pathname, mounts: { '/old/': dir } });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    await page.goto(url);
    engine = `Chromium ${browser.version()}`;
    await page.evaluate(() => (window.chunks = []));
    // The body in pieces (page.evaluate arguments are JSON): base64, 16 MB at a time.
    for (let at = 0; at < body.length; at += 16 << 20) {
      await page.evaluate((b64) => window.chunks.push(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))), Buffer.from(body.subarray(at, at + (16 << 20))).toString('base64'));
    }
    results = await page.evaluate(
      async ({ rounds, source }) => {
        const total = window.chunks.reduce((n, c) => n + c.length, 0);
        const bytes = new Uint8Array(total);
        let at = 0;
        for (const c of window.chunks) bytes.set(c, at), (at += c.length);
        const compare = new Function(`return (${source})`)();
        return compare(bytes, rounds, '/old/scan.js', '/scan.js');
      },
      { rounds, source: compare.toString() },
    );
  } finally {
    await browser.close();
    server.close();
  }
} else {
  results = await compare(body, rounds, pathToFileURL(old).href, new URL('../www/scan.js', import.meta.url).href);
}
console.log(`${engine}, ${calls} calls (${(body.length / 1e6).toFixed(0)} MB), ${rounds} rounds`);
results.forEach((ms, i) => console.log(`round ${i + 1}: old ${ms.old.toFixed(0)} ms, new ${ms.new.toFixed(0)} ms, old/new ${(ms.old / ms.new).toFixed(2)}`));
const ratio = median(results.map((ms) => ms.old / ms.new));
console.log(`old ${median(results.map((ms) => ms.old)).toFixed(0)} ms, new ${median(results.map((ms) => ms.new)).toFixed(0)} ms (medians); old/new ${ratio.toFixed(2)} (paired median), new ${(body.length / 1e6 / (median(results.map((ms) => ms.new)) / 1000)).toFixed(0)} MB/s`);
