// The first call after import against warm calls, each run in a fresh Node
// process (the first call of an instance compiles the module's JavaScript
// and runs the warm-up in guard.js), or with --chromium in a fresh
// headless Chromium context (bench/first-call.html); one run is
// bench/first-call-run.mjs:
//   node bench/first-call.mjs [--chromium] [--idle MS] [calls] [runs]
// --idle: how long the page or process is left idle between the import and
// the first call (default 200 ms; the package warms up in that time, and
// the engine optimises the module's hottest functions in the background).
// Prints, per run, import time, the first callsUsageFromJson, and the
// median of the next five (each from a settled heap), then the median
// ratio first/warm over runs.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { chromium: { type: 'boolean', default: false }, idle: { type: 'string', default: '200' } } });
const chromiumRuns = values.chromium;
const idle = Number(values.idle);
const [n = 100_000, processes = 7] = positionals.map(Number);

if (process.env.FIRST_CALL_CHILD) {
  const { firstCallRun } = await import('./first-call-run.mjs');
  console.log(JSON.stringify(await firstCallRun(n, () => import('weave-usage'), globalThis.gc, idle)));
} else {
  const ratios = [];
  const report = (i, r) => {
    if (r.error) throw new Error(r.error);
    ratios.push(r.first / r.warm);
    console.log(`run ${i + 1}: import ${r.imported.toFixed(1)} ms, first call ${r.first.toFixed(1)} ms, warm median ${r.warm.toFixed(1)} ms, first/warm ${(r.first / r.warm).toFixed(2)} (${(r.bytes / 1e6).toFixed(0)} MB)`);
  };
  let engine = `Node ${process.version}`;
  if (chromiumRuns) {
    const { chromium } = await import('playwright-core');
    const { serve } = await import('../tools/serve.mjs');
    const repo = fileURLToPath(new URL('../', import.meta.url));
    const { server, url } = await serve({ root: `${repo}bench`, mounts: { '/pkg/': `${repo}pkg`, '/tools/': `${repo}tools` } });
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--js-flags=--expose-gc'] });
    engine = `Chromium ${browser.version()}`;
    try {
      for (let i = 0; i < processes; i++) {
        // A fresh context: nothing of the module compiled or instantiated
        // in this page yet (the browser's cache of compiled wasm may be).
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(`${url}first-call.html?calls=${n}&idle=${idle}`);
        await page.waitForFunction(() => window.firstCall, null, { timeout: 0, polling: 500 });
        report(i, await page.evaluate(() => window.firstCall));
        await context.close();
      }
    } finally {
      await browser.close();
      server.close();
    }
  } else {
    for (let i = 0; i < processes; i++) {
      const out = execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=16000', fileURLToPath(import.meta.url), '--idle', String(idle), String(n)], { env: { ...process.env, FIRST_CALL_CHILD: '1' }, encoding: 'utf8', maxBuffer: 1 << 20 });
      report(i, JSON.parse(out.trim().split('\n').at(-1)));
    }
  }
  ratios.sort((a, b) => a - b);
  console.log(`${engine}, ${n} calls, first call ${idle} ms after the import: first/warm median over ${processes} runs ${ratios[ratios.length >> 1].toFixed(2)} (min ${ratios[0].toFixed(2)}, max ${ratios.at(-1).toFixed(2)})`);
}
