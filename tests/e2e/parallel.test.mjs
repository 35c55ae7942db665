// weave-usage/parallel in the browser (Chromium; Firefox with
// BROWSER=firefox): module Workers made by the package's browser entry, the
// page not cross-origin isolated (so shards get copies of their bytes).
// Answers are checked against the package's one-shot answers computed here
// in Node.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { callsUsageFromJson } from 'weave-usage';
import { launch, openPage, readSample, repo, rootsOf, serve } from './helpers.mjs';

let browser, server, url;
before(async () => {
  ({ server, url } = await serve({ root: `${repo}www`, mounts: { '/pkg/': `${repo}pkg` } }));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

const sample = readSample();
const { roots, project } = rootsOf(sample.toString());
const request = { project_id: project, call_ids: roots, include_costs: true };
const array = Buffer.from(JSON.stringify(sample.toString().split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l))));

test('a pool of module Workers gives the one-shot answers, for JSON Lines and an array, with 1 to 4 workers', async () => {
  const { page, problems, close } = await openPage(browser, url);
  try {
    await page.goto(url);
    const got = await page.evaluate(
      async ({ lines, array, request }) => {
        const { createUsagePool, callsUsageParallel } = await import('/pkg/parallel.js');
        const out = { isolated: self.crossOriginIsolated === true, answers: [] };
        for (const workers of [1, 2, 4]) {
          const pool = createUsagePool({ workers });
          for (const body of [new TextEncoder().encode(lines), new TextEncoder().encode(array)]) {
            out.answers.push({ workers, result: await pool.callsUsage(body, request), last: pool.last });
          }
          await pool.close();
        }
        out.once = await callsUsageParallel(lines, request, { diagnostics: true }, { workers: 2 });
        return out;
      },
      { lines: sample.toString(), array: array.toString(), request },
    );
    assert.equal(got.isolated, false, 'the page is not cross-origin isolated: no SharedArrayBuffer');
    const want = callsUsageFromJson(sample, request);
    for (const a of got.answers) {
      assert.deepEqual(a.result, want, `${a.workers} workers`);
      if (a.workers > 1) assert.equal(a.last.oneShot, false, `${a.workers} workers: read across workers`);
    }
    assert.deepEqual(got.once, callsUsageFromJson(sample, request, { diagnostics: true }));
    assert.deepEqual(problems, [], 'the console stayed clean');
  } finally {
    await close();
  }
});
