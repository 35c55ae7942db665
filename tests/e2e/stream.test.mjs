// A fetch body from localhost streamed through UsageAccumulator in Chromium,
// chunk by chunk as the network delivers it: the answer must equal
// callsUsageFromJson on the whole body (computed in Node).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { callsUsageFromJson } from 'weave-usage';
import { generate } from '../../bench/data.mjs';
import { launch, openPage, repo, serve } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(() => browser?.close());

test('a fetch body streamed through UsageAccumulator gives the one-shot answer', async () => {
  // ~8 MB: many network chunks, several cut mid-line.
  const { body, roots, count } = generate(5000, 11);
  const data = mkdtempSync(join(tmpdir(), 'weave-usage-stream-'));
  writeFileSync(join(data, 'calls.jsonl'), body);
  const request = { project_id: 'acme/agents', call_ids: roots.slice(0, 20), include_costs: true, limit: count + 1 };
  const want = callsUsageFromJson(body, request);

  const { server, url } = await serve({ root: `${repo}tests/e2e/apps/stream`, mounts: { '/pkg/': `${repo}pkg`, '/data/': data } });
  const { page, problems, close } = await openPage(browser, url);
  try {
    await page.goto(`${url}?request=${encodeURIComponent(JSON.stringify(request))}`);
    await page.waitForSelector('body[data-done]', { state: 'attached' });
    const got = await page.evaluate(() => window.probe);
    assert.equal(got.bytes, body.length);
    assert.ok(got.chunks > 1, `streamed in ${got.chunks} chunks`);
    assert.equal(got.calls, count);
    assert.equal(got.bytesRead, body.length);
    assert.deepEqual(got.result, want);
    assert.ok(Object.keys(want.call_usage).length === 20 && Object.values(want.call_usage).some((m) => Object.keys(m).length > 0));
    assert.deepEqual(problems, []);
  } finally {
    await close();
    server.close();
  }
});
