// weave-usage/parallel in the browser (Chromium; Firefox with
// BROWSER=firefox): module Workers made by the package's browser entry, the
// page not cross-origin isolated (so shards get copies of their bytes), and
// the dashboard's worker reading a file across workers (`parallelMin: 0`
// forces what it does for large files). Answers are checked against the
// package's one-shot answers computed here in Node.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { callsUsageFromJson, traceUsageFromJson } from 'weave-usage';
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

test("the dashboard's worker reads a file across workers and answers as the one-shot path does", async () => {
  const { page, problems, close } = await openPage(browser, url);
  try {
    await page.goto(url);
    const trace = { project_id: project, filter: { trace_ids: null, call_ids: [roots[0]] } };
    const got = await page.evaluate(
      async ({ request, trace }) => {
        const worker = new Worker('/worker.js', { type: 'module' });
        const replies = [];
        const next = (type) =>
          new Promise((resolve) => {
            const check = () => {
              const i = replies.findIndex((r) => r.type === type || r.type === 'error');
              if (i >= 0) resolve(replies.splice(i, 1)[0]);
              else setTimeout(check, 10);
            };
            check();
          });
        worker.onmessage = ({ data }) => replies.push(data);
        worker.postMessage({ type: 'open', id: 1, url: '/sample/traces.jsonl', name: 'traces.jsonl', parallelMin: 0 });
        const opened = await next('opened');
        worker.postMessage({ type: 'usage', id: 2, request, options: {}, trace: { request: trace, traceId: null }, compare: true, defaultPrices: false });
        const usage = await next('usage');
        worker.terminate();
        return { opened, usage };
      },
      { request, trace },
    );
    assert.equal(got.opened.type, 'opened', JSON.stringify(got.opened));
    assert.equal(got.usage.type, 'usage', JSON.stringify(got.usage));
    assert.deepEqual(got.usage.result, callsUsageFromJson(sample, request, {}));
    assert.deepEqual(got.usage.reference, callsUsageFromJson(sample, request, { rollup: 'reference', diagnostics: false }));
    assert.deepEqual(got.usage.trace.result, traceUsageFromJson(sample, trace, {}));
    assert.deepEqual(problems, [], 'the console stayed clean');
  } finally {
    await close();
  }
});
