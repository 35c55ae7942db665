// The JavaScript boundary in Chromium (playwright-core driving Debian's
// chromium), in a page and in a module worker: the package's first calls
// made near the stack limit, a freed accumulator, a copied one, calls from
// inside a call, and calls at every depth near the limit
// (tests/js/boundary.test.mjs does the same in Node).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { engine, launch, openPage, repo, serve } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(() => browser?.close());

// In Firefox the guard also probes the native stack (js/guard.js,
// `PROBE_FRAMES`): SpiderMonkey runs wasm on a stack its argument check
// does not measure, and without the probe a push near the limit overflowed
// inside the module and broke it for every later call.
test('in a page and in a worker: every call near the stack limit answers exactly or is refused first; freed, copied and busy accumulators are refused; all is exact afterwards', async () => {
  const { server, url } = await serve({ root: `${repo}tests/e2e/apps/boundary`, mounts: { '/pkg/': `${repo}pkg`, '/sample/': `${repo}www/sample`, '/stack/': `${repo}tests/js` } });
  const { page, problems, close } = await openPage(browser, url);
  try {
    await page.goto(url);
    await page.waitForSelector('body[data-done]', { state: 'attached', timeout: 300_000 });
    const r = await page.evaluate(() => window.result);
    assert.equal(r.failed, undefined, r.failed);
    for (const [where, o] of Object.entries(r)) {
      assert.equal(o.failed, undefined, `${where}: ${o.failed}`);
      assert.equal(o.cold.bad, null, `${where}, first calls`);
      assert.ok(o.cold.counts.answers > 0 && o.cold.counts.refused > 0, `${where}: ${JSON.stringify(o.cold.counts)}`);
      assert.deepEqual(o.freed, { refused: 75_000, other: null }, where);
      assert.deepEqual(o.copyError, { isError: true, status: 422, type: 'accumulator_type' }, where);
      assert.equal(o.copyOriginal, true, `${where}: the original after its copy was freed`);
      assert.equal(o.busyOuter, true, where);
      assert.deepEqual(o.busyInner, ['409 accumulator_busy', '409 accumulator_busy', '409 accumulator_busy'], where);
      assert.equal(o.deep.bad, null, `${where}, near the limit`);
      assert.ok(o.deep.counts.answers > 1_000 && o.deep.counts.refused > 1_000, `${where}: ${JSON.stringify(o.deep.counts)}`);
      assert.equal(o.after, true, `${where}: exact afterwards`);
    }
    assert.deepEqual(problems, [], 'the console stayed clean');
  } finally {
    await close();
    server.close();
  }
});
