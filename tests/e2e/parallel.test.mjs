// weave-usage/parallel in the browser (Chromium; Firefox with
// BROWSER=firefox): module Workers made by the package's browser entry, the
// page not cross-origin isolated (so shards get copies of their bytes),
// and once cross-origin isolated (the body shared).
// Answers are checked against the package's one-shot answers computed here
// in Node.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { callsUsageFromJson } from 'weave-usage';
import { launch, openPage, readSample, repo, rootsOf, serve } from './helpers.mjs';
import { ISOLATED } from '../../tools/serve.mjs';

let browser, server, url;
before(async () => {
  ({ server, url } = await serve({ root: `${repo}www`, mounts: { '/pkg/': `${repo}pkg`, '/apps/': `${repo}tests/e2e/apps` } }));
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

test('a pool in a Web Worker whose page makes its shard workers (connect, startShardWorker) gives the one-shot answers; a shard the page cannot make is told', async () => {
  const { page, problems, close } = await openPage(browser, url);
  try {
    await page.goto(url);
    const got = await page.evaluate(
      async ({ lines, request }) => {
        const { startShardWorker } = await import('/pkg/parallel.js');
        // The worker's pool asks the page for each shard worker, through a port.
        const run = (makeShards) =>
          new Promise((resolve, reject) => {
            const w = new Worker('/apps/pool-in-worker/worker.js', { type: 'module' });
            const shards = new Map();
            let ended = 0;
            w.onerror = (e) => reject(new Error(e.message));
            w.onmessage = ({ data }) => {
              if (data.type === 'shard') {
                if (makeShards) shards.set(data.shard, startShardWorker(data.port));
                else w.postMessage({ type: 'shard-failed', shard: data.shard, message: 'no worker for this shard' });
              } else if (data.type === 'end-shard') {
                shards.get(data.shard)?.terminate();
                ended++;
              } else if (data.type === 'done') {
                setTimeout(() => (w.terminate(), resolve({ ...data, made: shards.size, ended })), 100);
              }
            };
            w.postMessage({ lines, request });
          });
        return { made: await run(true), failed: await run(false) };
      },
      { lines: sample.toString(), request },
    );
    const want = callsUsageFromJson(sample, request);
    assert.deepEqual(got.made.result, want);
    assert.deepEqual(got.made.last, { shards: 2, oneShot: false, rereads: 0 });
    assert.equal(got.made.made, 2, 'the page made both shard workers');
    assert.equal(got.made.ended, 2, "the pool's close ended both");
    assert.deepEqual(got.failed.result, want);
    assert.equal(got.failed.last.oneShot, true, 'shards that failed: the one-shot path');
    assert.deepEqual(problems, [], 'the console stayed clean');
  } finally {
    await close();
  }
});

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

test('shards read for one request, the page cross-origin isolated (the body shared) and not (copies): those that passed over calls it reaches read again; the one-shot answers', async () => {
  const isolated = await serve({ root: `${repo}www`, mounts: { '/pkg/': `${repo}pkg` }, headers: ISOLATED });
  const lines = sample.toString().split('\n').filter((l) => l.trim());
  // A trace's calls far apart: the shard after the cut passes over calls
  // of traces whose roots the shard before holds.
  const woven = lines.map((l, i) => [i % 5, i, l]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[2]);
  const bodies = { 'body order': lines.join('\n') + '\n', woven: woven.join('\n') + '\n' };
  try {
    for (const [at, crossOriginIsolated] of [[isolated.url, true], [url, false]]) {
      const { page, problems, close } = await openPage(browser, at);
      try {
        await page.goto(at);
        const got = await page.evaluate(
          async ({ bodies, request }) => {
            const { createUsagePool } = await import('/pkg/parallel.js');
            const pool = createUsagePool({ workers: 2 });
            const out = { isolated: self.crossOriginIsolated === true, answers: {} };
            for (const [name, text] of Object.entries(bodies)) {
              const result = await pool.callsUsage(new TextEncoder().encode(text), request);
              out.answers[name] = { result, last: pool.last };
            }
            await pool.close();
            return out;
          },
          { bodies, request },
        );
        assert.equal(got.isolated, crossOriginIsolated);
        for (const [name, text] of Object.entries(bodies)) {
          const a = got.answers[name];
          assert.deepEqual(a.result, callsUsageFromJson(text, request), `${name}, isolated: ${crossOriginIsolated}`);
          assert.equal(a.last.oneShot, false, `${name}, isolated: ${crossOriginIsolated}: read across workers (${JSON.stringify(a.last)})`);
        }
        assert.ok(got.answers.woven.last.rereads > 0, `isolated: ${crossOriginIsolated}: ${JSON.stringify(got.answers.woven.last)}`);
        assert.deepEqual(problems, [], 'the console stayed clean');
      } finally {
        await close();
      }
    }
  } finally {
    isolated.server.close();
  }
});

test('a File given up halfway (an AbortSignal): the promise rejects with the reason, no progress is told after it, and the pool answers the next file', async () => {
  const { page, problems, close } = await openPage(browser, url);
  try {
    await page.goto(url);
    const got = await page.evaluate(
      async ({ lines, request }) => {
        const { createUsagePool } = await import('/pkg/parallel.js');
        const pool = createUsagePool({ workers: 2 });
        // About 23 MB: several of the pieces workers tell their progress by.
        const big = new File(Array(240).fill(lines), 'big.jsonl');
        const c = new AbortController();
        let before = 0;
        let after = 0;
        const onProgress = () => (c.signal.aborted ? after++ : (before++, c.abort(new Error('another file was chosen'))));
        const given = await pool.callsUsage(big, request, null, { signal: c.signal, onProgress }).then(
          () => 'answered',
          (e) => e.message,
        );
        const aborted = await pool.load(big, { signal: AbortSignal.abort() }).then(
          () => 'loaded',
          (e) => e.name,
        );
        const next = await pool.callsUsage(new File([lines], 'calls.jsonl'), request);
        const last = pool.last;
        await new Promise((done) => setTimeout(done, 200)); // any late progress would be told by now
        await pool.close();
        return { given, aborted, before, after, next, last };
      },
      { lines: sample.toString(), request },
    );
    assert.equal(got.given, 'another file was chosen');
    assert.equal(got.aborted, 'AbortError', 'an aborted signal with no reason: an AbortError, nothing loaded');
    assert.equal(got.before, 1);
    assert.equal(got.after, 0, 'no progress told after the abort');
    assert.deepEqual(got.next, callsUsageFromJson(sample, request));
    assert.deepEqual(got.last, { shards: 2, oneShot: false, rereads: 0 }, 'the next file read across the workers');
    assert.deepEqual(problems, [], 'the console stayed clean');
  } finally {
    await close();
  }
});

test('a File (as an <input type=file> gives it) and a Blob: the pool reads them in pieces and gives the one-shot answers', async () => {
  const { page, problems, close } = await openPage(browser, url);
  try {
    await page.goto(url);
    const got = await page.evaluate(
      async ({ lines, array, request }) => {
        const { createUsagePool } = await import('/pkg/parallel.js');
        const pool = createUsagePool({ workers: 2 });
        const out = [];
        const file = new File([lines], 'calls.jsonl', { type: 'application/x-ndjson' });
        for (const [name, body] of [['File, JSON Lines', file], ['Blob, array', new Blob([array])]]) {
          const seen = [];
          const result = await pool.callsUsage(body, request, null, { onProgress: (p) => seen.push(p) });
          out.push({ name, result, last: pool.last, size: body.size, seen: seen.at(-1) });
        }
        // Loaded once, answered twice; then cut short, as a half-written file is.
        const loaded = await pool.load(file);
        out.push({ name: 'loaded File', result: await loaded.callsUsage(request), last: pool.last, again: await loaded.callsUsage(request) });
        try {
          await pool.callsUsage(file.slice(0, file.size - 50), request);
          out.push({ name: 'cut short', error: null });
        } catch (e) {
          out.push({ name: 'cut short', error: { status: e.status, detail: e.detail, message: e.message } });
        }
        await pool.close();
        return out;
      },
      { lines: sample.toString(), array: array.toString(), request },
    );
    const want = callsUsageFromJson(sample, request);
    for (const a of got.slice(0, 3)) {
      assert.deepEqual(a.result, want, a.name);
      assert.deepEqual(a.last, { shards: 2, oneShot: false, rereads: 0 }, `${a.name}: read across workers`);
    }
    assert.deepEqual(got[0].seen, { bytes: got[0].size, total: got[0].size }, 'progress reaches the whole file');
    assert.deepEqual(got[2].again, want);
    let error = null;
    try {
      callsUsageFromJson(sample.subarray(0, sample.length - 50), request);
    } catch (e) {
      error = { status: e.status, detail: e.detail, message: e.message };
    }
    assert.ok(error !== null);
    assert.deepEqual(got[3].error, error, 'the one-shot error');
    assert.deepEqual(problems, [], 'the console stayed clean');
  } finally {
    await close();
  }
});
