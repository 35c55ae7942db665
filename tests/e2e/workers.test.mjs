// Concurrent use from two Web Workers in Chromium (playwright-core driving
// Debian's chromium): each worker instantiates the package's browser entry,
// and the two are used at the same time — interleaved streams, a failing
// stream next to a good one, flat-out bursts — with the answers the package
// gives in Node. (tests/js/workers.test.mjs does the same with Node threads.)
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { callsUsageFromJson } from 'weave-usage';
import { launch, openPage, readSample, repo, serve } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(() => browser?.close());

test('two Web Workers use the package at the same time without disturbing each other', async () => {
  const { server, url } = await serve({ root: `${repo}tests/e2e/apps/workers`, mounts: { '/pkg/': `${repo}pkg`, '/sample/': `${repo}www/sample`, '/handler/': `${repo}tests/js/workers` } });
  const { page, problems, close } = await openPage(browser, url);
  try {
    await page.goto(url);
    await page.waitForSelector('body[data-done]', { timeout: 60_000 });
    const r = await page.evaluate(() => window.result);
    assert.equal(r.failed, undefined, r.failed);

    const sample = readSample();
    const lines = sample.toString().split('\n').filter((l) => l.trim());
    const two = lines.slice().reverse().join('\r\n');
    const want = [callsUsageFromJson(sample, r.requests[0]), callsUsageFromJson(two, r.requests[1])];
    assert.notDeepEqual(want[0], want[1], 'the two workers have different work');

    assert.deepEqual(r.streamed.map((x) => x.result), want, 'interleaved streams');
    const [bad, good] = r.failing;
    assert.deepEqual(bad.error.detail, [{ loc: ['body', 32], msg: 'Invalid JSON at line 2, column 7 (byte 32): unexpected end of input', type: 'json_invalid' }]);
    assert.equal(bad.error.isError, true);
    assert.equal(bad.error.status, 400);
    assert.deepEqual(good.result, want[0], 'the good stream next to the failing one');

    const [ba, bb] = r.bursts;
    assert.ok(ba.started < bb.ended && bb.started < ba.ended, `the bursts overlapped: a ${ba.started}–${ba.ended}, b ${bb.started}–${bb.ended}`);
    for (const x of ba.result) assert.deepEqual(x, want[0]);
    for (const x of bb.result) assert.deepEqual(x, want[1]);
    assert.deepEqual(problems, [], 'the console stayed clean');
  } finally {
    await close();
    server.close();
  }
});
