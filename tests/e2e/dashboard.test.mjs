// The www/ dashboard used as a person would: in Chromium, served as
// scripts/demo.sh serves it, checked against the package's own answers
// computed here in Node. The last tests cover the options: the price table,
// the rollup switch, the diagnostics panel and the trace view.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { callsUsageFromJson, traceUsageFromJson } from 'weave-usage';
import { usageStatsFromJson } from 'weave-usage/stats';
import { pricesFor } from 'weave-usage/prices';
import { formatCost, formatInt } from '../../www/format.js';
import { rng, trace } from '../../tools/calls.mjs';
import { engine, launch, openPage, out, readSample, repo, rootsOf, serve } from './helpers.mjs';
import { ISOLATED } from '../../tools/serve.mjs';

let browser, server, url;
before(async () => {
  ({ server, url } = await serve({ root: `${repo}www`, mounts: { '/pkg/': `${repo}pkg` } }));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

/** Opens the dashboard (at `base`) and waits for the sample; `body` runs with the page. */
async function withDashboard(viewport, body, fragment = '', base = url) {
  const { page, problems, close } = await openPage(browser, base, viewport);
  try {
    await page.goto(base + fragment);
    await settled(page);
    await body(page);
    assert.deepEqual(problems, [], 'the console stayed clean');
  } finally {
    await close();
  }
}

/** Waits until the page has shown the latest answer (or error) of its worker. */
async function settled(page, state = 'ready') {
  await page.waitForSelector(`body[data-state="${state}"]`);
}

/** The table as { rows: [{ root, model, cells }], totals: cells }, cells: key → { value, text }. */
function readTable(page) {
  return page.evaluate(() => {
    const cells = (tr) => Object.fromEntries([...tr.querySelectorAll('td[data-key]')].map((td) => [td.dataset.key, { value: td.dataset.value, text: td.textContent }]));
    const rows = [...document.querySelectorAll('#usage-table tbody tr')].map((tr) => ({ root: tr.dataset.root, model: tr.dataset.model, cells: cells(tr) }));
    const foot = document.querySelector('#usage-table tfoot tr');
    return { rows, totals: foot ? cells(foot) : null };
  });
}

const COUNTS = ['requests', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'];
const costOf = (u) => u.prompt_tokens_total_cost + u.completion_tokens_total_cost + u.cache_read_input_tokens_total_cost + u.cache_creation_input_tokens_total_cost;
const close = (a, b) => Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b), 1e-300);

/** Asserts that the table shows exactly `res` (every root and model, every figure and its text). */
function assertTableIs(table, res) {
  const want = Object.entries(res.call_usage).flatMap(([root, models]) => Object.entries(models).map(([model, u]) => ({ root, model, u })));
  const key = (r) => `${r.root} ${r.model}`;
  assert.deepEqual(table.rows.map(key).sort(), want.map(key).sort());
  const sum = Object.fromEntries(COUNTS.map((k) => [k, 0]));
  let cost = 0;
  for (const { root, model, u } of want) {
    const row = table.rows.find((r) => r.root === root && r.model === model);
    for (const k of COUNTS) {
      assert.equal(Number(row.cells[k].value), u[k], `${root} ${model} ${k}`);
      assert.equal(row.cells[k].text, formatInt(u[k]));
      sum[k] += u[k];
    }
    assert.ok(close(Number(row.cells.cost.value), costOf(u)), `${root} ${model} cost`);
    assert.equal(row.cells.cost.text, formatCost(costOf(u)));
    cost += costOf(u);
  }
  for (const k of COUNTS) assert.equal(Number(table.totals[k].value), sum[k], `total ${k}`);
  assert.ok(close(Number(table.totals.cost.value), cost), 'total cost');
}

// A small export whose answer is worked out by hand: root ra has an LLM
// child and a grandchild (under a still-running call a2), rb is a lone LLM
// call with a tiny cost, rc is deleted.
const cost = (p, c, r = 0) => ({ prompt_tokens_total_cost: p, completion_tokens_total_cost: c, cache_read_input_tokens_total_cost: r, cache_creation_input_tokens_total_cost: 0 });
const KNOWN = [
  { id: 'ra', trace_id: 'ta', project_id: 'acme/known', parent_id: null, op_name: 'weave:///acme/known/op/agent.run:abc', started_at: '2025-03-01T09:00:00Z', ended_at: '2025-03-01T09:01:00Z' },
  { id: 'a1', trace_id: 'ta', project_id: 'acme/known', parent_id: 'ra', started_at: '2025-03-01T09:00:01Z', ended_at: '2025-03-01T09:00:02Z', summary: { usage: { 'gpt-4o': { requests: 1, prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 } }, weave: { costs: { 'gpt-4o': cost(0.0025, 0.0012) } } } },
  { id: 'a2', trace_id: 'ta', project_id: 'acme/known', parent_id: 'ra', started_at: '2025-03-01T09:00:03Z', ended_at: null },
  { id: 'a3', trace_id: 'ta', project_id: 'acme/known', parent_id: 'a2', started_at: '2025-03-01T09:00:04Z', ended_at: '2025-03-01T09:00:05Z', summary: { usage: { 'claude-3-5-sonnet': { requests: 2, input_tokens: 1000, output_tokens: 300, cache_read_input_tokens: 400 } }, weave: { costs: { 'claude-3-5-sonnet': cost(0.003, 0.0045, 0.00012) } } } },
  { id: 'rb', trace_id: 'tb', project_id: 'acme/known', parent_id: null, display_name: 'quick question', started_at: '2025-03-01T10:00:00Z', ended_at: '2025-03-01T10:00:01Z', summary: { usage: { 'gpt-4o': { requests: 1, prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } }, weave: { costs: { 'gpt-4o': cost(2e-8, 1e-8) } } } },
  { id: 'rc', trace_id: 'tc', project_id: 'acme/known', parent_id: null, started_at: '2025-03-01T11:00:00Z', ended_at: '2025-03-01T11:00:01Z', deleted_at: '2025-03-02T00:00:00Z', summary: { usage: { 'gpt-4o': { requests: 9, prompt_tokens: 999 } } } },
];
const KNOWN_TEXT = {
  'ra claude-3-5-sonnet': ['2', '1,000', '300', '1,300', '400', '0', '$0.0076'],
  'ra gpt-4o': ['1', '100', '20', '120', '0', '0', '$0.0037'],
  'rb gpt-4o': ['1', '10', '5', '15', '0', '0', '<$0.0001'],
  total: ['4', '1,110', '325', '1,435', '400', '0', '$0.0113'],
};
const jsonl = (calls) => Buffer.from(calls.map((c) => JSON.stringify(c)).join('\n') + '\n');
const upload = (page, name, buffer) => page.setInputFiles('#file-input', { name, mimeType: 'application/x-ndjson', buffer });

/** Before the page loads: records in `window.told` the type and id of
 * every message the dashboard's worker sends the page (stale ones too), in
 * `window.lastRequest` the page's last request, and the worker itself in
 * `window.dashboardWorker`. */
const watchWorker = (page) =>
  page.addInitScript(() => {
    const Base = window.Worker;
    window.told = [];
    window.Worker = class extends Base {
      constructor(...args) {
        super(...args);
        window.dashboardWorker ??= this;
        this.addEventListener('message', (e) => window.told.push({ type: e.data?.type, id: e.data?.id }));
      }
      postMessage(message, transfer) {
        if (message?.type === 'usage') window.lastRequest = message;
        return super.postMessage(message, transfer ?? []);
      }
    };
  });

/** The table as text, keyed like KNOWN_TEXT. */
async function tableText(page) {
  const t = await readTable(page);
  const order = [...COUNTS, 'cost'];
  const text = (cells) => order.filter((k) => cells[k]).map((k) => cells[k].text);
  return { ...Object.fromEntries(t.rows.map((r) => [`${r.root} ${r.model}`, text(r.cells)])), total: text(t.totals) };
}

test('the sample is loaded by default and its figures are the library’s', async () => {
  const { roots, project } = rootsOf(readSample().toString());
  const res = callsUsageFromJson(readSample(), { project_id: project, call_ids: roots, include_costs: true });
  await withDashboard({ width: 1280, height: 900 }, async (page) => {
    assert.match(await page.textContent('#file-info'), /traces\.jsonl · .* · 56 calls · JSON Lines/);
    const listed = await page.$$eval('#roots input', (xs) => xs.map((x) => [x.dataset.rootId, x.checked]));
    assert.deepEqual(listed.map(([id]) => id).sort(), [...roots].sort());
    assert.ok(listed.every(([, checked]) => checked), 'every root is selected');
    assertTableIs(await readTable(page), res);
    assert.equal(await page.textContent('[data-card=unfinished] strong'), formatInt(res.unfinished_call_ids.length));
    assert.equal(await page.getAttribute('#chart svg', 'data-measure'), 'cost');
    assert.equal(await page.locator('#chart svg g.bar').count(), roots.length);
    await page.screenshot({ path: `${out}dashboard-desktop.png`, fullPage: true });
  });
});

// In Firefox, puppeteer cannot evaluate in a page's dedicated worker over
// WebDriver BiDi (no such realm): the spy is read in Chromium only.
test('the worker feeds the UsageAccumulator while reading and asks it every request and listing', { skip: engine === 'firefox' && 'the driver cannot evaluate in workers (WebDriver BiDi)' }, async () => {
  // The same page, served with a spy around the package's accumulator.
  const stand = await serve({ root: `${repo}www`, mounts: { '/pkg/': `${repo}tests/e2e/apps/accumulator-pkg`, '/real-pkg/': `${repo}pkg` } });
  const { page, problems, close } = await openPage(browser, stand.url);
  try {
    await page.goto(stand.url);
    await settled(page);
    await upload(page, 'known.jsonl', jsonl(KNOWN));
    await settled(page);
    assert.deepEqual(await tableText(page), KNOWN_TEXT);
    await page.uncheck('#include-costs');
    await settled(page);
    const [worker] = page.workers();
    const calls = await worker.evaluate(() => self.accumulatorCalls);
    // Sample and known.jsonl: one accumulator each, fed while reading; the
    // sample's is freed when known.jsonl opens; known.jsonl's answers both
    // its first request and the costs toggle without reading the file again.
    assert.equal(calls.created, 2);
    assert.ok(calls.push >= 2);
    assert.equal(calls.finish, 3);
    assert.equal(calls.free, 1);
    // It lists the projects and roots too: the file is read once.
    assert.deepEqual([calls.finishProjects, calls.finishCalls], [2, 2]);
    // The trace view asks the same accumulator for /trace/usage and the trace's calls.
    await page.click('#usage-table button[data-trace-root=ra]');
    await settled(page);
    const after = await worker.evaluate(() => self.accumulatorCalls);
    assert.deepEqual([after.created, after.finish, after.finishTrace, after.finishCalls], [2, 4, 1, 3]);
    assert.deepEqual(problems, []);
  } finally {
    await close();
    stand.server.close();
  }
});

test('an uploaded file with a known answer, then roots deselected and reselected', async () => {
  await withDashboard({ width: 1280, height: 900 }, async (page) => {
    await upload(page, 'known.jsonl', jsonl(KNOWN));
    await settled(page);
    // The calls the file holds, the deleted one too.
    assert.match(await page.textContent('#file-info'), /^known\.jsonl · .* · 6 calls/);
    assert.deepEqual(await page.$$eval('#roots input', (xs) => xs.map((x) => x.dataset.rootId)), ['ra', 'rb'], 'the deleted root is not listed');
    assert.deepEqual(await tableText(page), KNOWN_TEXT);
    assert.equal(await page.textContent('[data-card=cost] strong'), '$0.0113');
    assert.match(await page.textContent('#unfinished summary'), /^1 unfinished call /);

    await page.uncheck('#roots input[data-root-id=rb]');
    await settled(page);
    assert.equal(await page.textContent('#roots-count'), '1 of 2 selected');
    const onlyRa = await tableText(page);
    assert.deepEqual(Object.keys(onlyRa), ['ra claude-3-5-sonnet', 'ra gpt-4o', 'total']);
    assert.deepEqual(onlyRa.total, ['3', '1,100', '320', '1,420', '400', '0', '$0.0113']);

    await page.click('#select-all');
    await settled(page);
    assert.deepEqual(await tableText(page), KNOWN_TEXT);
  });
});

test('an export with two projects: the project is chosen, its roots listed', async () => {
  await withDashboard({ width: 1280, height: 900 }, async (page) => {
    const other = { ...KNOWN[4], id: 'ro', trace_id: 'to', project_id: 'acme/other' };
    await upload(page, 'two.jsonl', jsonl([...KNOWN, other]));
    await settled(page);
    assert.equal(await page.isVisible('#project'), true);
    assert.equal(await page.inputValue('#project'), 'acme/known', 'the project with most calls first');
    assert.deepEqual(await tableText(page), KNOWN_TEXT);
    await page.selectOption('#project', 'acme/other');
    await settled(page);
    assert.deepEqual(await page.$$eval('#roots input', (xs) => xs.map((x) => x.dataset.rootId)), ['ro']);
    assert.deepEqual(Object.keys(await tableText(page)), ['ro gpt-4o', 'total']);
  });
});

test('include_costs off hides costs and charts tokens; on brings them back', async () => {
  await withDashboard({ width: 1280, height: 900 }, async (page) => {
    await upload(page, 'known.jsonl', jsonl(KNOWN));
    await settled(page);
    await page.uncheck('#include-costs');
    await settled(page);
    assert.equal(await page.locator('#usage-table th button[data-key=cost]').count(), 0);
    assert.equal(await page.locator('[data-card=cost]').count(), 0);
    assert.equal(await page.getAttribute('#chart svg', 'data-measure'), 'tokens');
    assert.equal(await page.textContent('#chart h2'), 'Tokens by model');
    const text = await tableText(page);
    assert.deepEqual(text.total, KNOWN_TEXT.total.slice(0, -1));

    await page.check('#include-costs');
    await settled(page);
    assert.equal(await page.getAttribute('#chart svg', 'data-measure'), 'cost');
    assert.deepEqual(await tableText(page), KNOWN_TEXT);
  });
});

test('a JSON array dropped on the page gives the same table', async () => {
  await withDashboard({ width: 1280, height: 900 }, async (page) => {
    const json = JSON.stringify(KNOWN, null, 2);
    const dataTransfer = await page.evaluateHandle((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'known.json', { type: 'application/json' }));
      return dt;
    }, json);
    await page.dispatchEvent('body', 'dragenter', { dataTransfer });
    assert.equal(await page.isVisible('#drop-overlay'), true, 'the drop target shows');
    await page.dispatchEvent('body', 'drop', { dataTransfer });
    await settled(page);
    assert.equal(await page.isVisible('#drop-overlay'), false);
    assert.match(await page.textContent('#file-info'), /^known\.json · .* · JSON array$/);
    assert.deepEqual(await tableText(page), KNOWN_TEXT);
  });
});

test('columns sort both ways', async () => {
  await withDashboard({ width: 1280, height: 900 }, async (page) => {
    const column = (key) => page.$$eval(`#usage-table tbody td[data-key=${key}]`, (tds) => tds.map((td) => Number(td.dataset.value)));
    const sorted = (xs, dir) => xs.every((x, i) => i === 0 || (dir > 0 ? xs[i - 1] <= x : xs[i - 1] >= x));
    await page.click('#usage-table th button[data-key=total_tokens]');
    assert.equal(await page.getAttribute('#usage-table th:has(button[data-key=total_tokens])', 'aria-sort'), 'descending');
    assert.ok(sorted(await column('total_tokens'), -1), 'biggest first');
    await page.click('#usage-table th button[data-key=total_tokens]');
    assert.equal(await page.getAttribute('#usage-table th:has(button[data-key=total_tokens])', 'aria-sort'), 'ascending');
    assert.ok(sorted(await column('total_tokens'), 1), 'smallest first');
    await page.click('#usage-table th button[data-key=cost]');
    assert.ok(sorted(await column('cost'), -1), 'by cost');
    await page.click('#usage-table th button[data-key=model]');
    const models = await page.$$eval('#usage-table tbody tr', (trs) => trs.map((tr) => tr.dataset.model));
    assert.deepEqual(models, [...models].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })));
  });
});

test('a malformed call (422) is shown as a detail list with its line', async () => {
  await withDashboard({ width: 1280, height: 900 }, async (page) => {
    const calls = [KNOWN[0], { id: 'x1', parent_id: 'ra', started_at: '2025-03-01T09:00:01Z' }, ...KNOWN.slice(1)];
    await upload(page, 'bad-call.jsonl', jsonl(calls));
    await settled(page, 'error');
    assert.equal(await page.textContent('#error-title'), 'Weave would refuse calls in this file (422)');
    assert.deepEqual(await page.$$eval('#error-items li', (lis) => lis.map((li) => li.textContent)), ['call 2 (line 2) › trace_id: Field required']);
    assert.equal(await page.locator('#usage-table tbody tr').count(), 0, 'no stale figures beside the error');
    await page.screenshot({ path: `${out}dashboard-error-422.png` });
  });
});

test('a broken JSON Lines line is shown with its line number', async () => {
  await withDashboard({ width: 1280, height: 900 }, async (page) => {
    const text = jsonl(KNOWN.slice(0, 2)).toString() + '{"id": "a2", "trace_id": "ta", oops}\n' + jsonl(KNOWN.slice(2)).toString();
    await upload(page, 'broken.jsonl', Buffer.from(text));
    await settled(page, 'error');
    assert.equal(await page.textContent('#error-title'), 'broken.jsonl is not valid JSON (400)');
    assert.match(await page.textContent('#error-message'), /^Line 3, column 32: expected a string key\.$/);
    assert.equal(await page.textContent('#error-excerpt'), '{"id": "a2", "trace_id": "ta", oops}\n' + ' '.repeat(31) + '^');
    await page.screenshot({ path: `${out}dashboard-error-400.png` });
    // The next good file clears the error.
    await upload(page, 'known.jsonl', jsonl(KNOWN));
    await settled(page);
    assert.equal(await page.isVisible('#error'), false);
  });
});

test('a large export: progress while reading, the limit, and the library’s totals', async () => {
  // About 25 MB: 1,500 agent traces of 10 calls, more than the default limit.
  const r = rng(4);
  const calls = Array.from({ length: 1500 }, (_, i) => trace(r, { size: 10, start: Date.UTC(2025, 2, 1) + i * 60000 })).flat();
  const bytes = Buffer.from(calls.map((c) => JSON.stringify(c)).join('\n') + '\n');
  const file = `${out}large.jsonl`;
  writeFileSync(file, bytes);
  const roots = calls.filter((c) => !c.parent_id).map((c) => c.id);
  const expected = (limit) => {
    const res = callsUsageFromJson(bytes, { project_id: 'acme/agents', call_ids: roots, include_costs: true, limit });
    const models = Object.values(res.call_usage).flatMap((m) => Object.values(m));
    // Table rows: one per root and model, one for a root without usage.
    const rows = Object.values(res.call_usage).reduce((n, m) => n + Math.max(1, Object.keys(m).length), 0);
    return { total_tokens: models.reduce((s, u) => s + u.total_tokens, 0), cost: models.reduce((s, u) => s + costOf(u), 0), rows };
  };

  await withDashboard({ width: 1280, height: 900 }, async (page) => {
    await page.evaluate(() => {
      window.progressSeen = [];
      new MutationObserver(() => window.progressSeen.push(document.getElementById('progress-bar').value)).observe(document.getElementById('progress-bar'), { attributes: true, attributeFilter: ['value'] });
    });
    await page.setInputFiles('#file-input', file);
    await settled(page);
    const seen = await page.evaluate(() => window.progressSeen);
    assert.ok(seen.some((v) => v > 0 && v < 1), `progress between 0 and 1 was shown (saw ${seen.length} updates)`);
    assert.match(await page.textContent('#file-info'), /15,000 calls/);

    assert.equal(await page.isVisible('#limit-warning'), true, 'the default limit cuts these traces, and the page says so');
    let totals = (await readTable(page)).totals;
    let want = expected(10000);
    assert.equal(Number(totals.total_tokens.value), want.total_tokens);
    assert.ok(close(Number(totals.cost.value), want.cost));

    await page.fill('#limit', '20000');
    await page.press('#limit', 'Enter');
    await settled(page);
    assert.equal(await page.isVisible('#limit-warning'), false);
    totals = (await readTable(page)).totals;
    want = expected(20000);
    assert.equal(Number(totals.total_tokens.value), want.total_tokens);
    assert.ok(close(Number(totals.cost.value), want.cost));

    // Thousands of rows: the first ones drawn, the rest on request.
    assert.equal(await page.locator('#usage-table tbody tr').count(), 250);
    assert.match(await page.textContent('#table-more'), new RegExp(`first 250 of ${formatInt(want.rows)} rows`));
    await page.click('#show-all');
    assert.equal(await page.locator('#usage-table tbody tr').count(), want.rows);
    assert.equal(await page.isVisible('#table-more'), false);
  });
});

test('a file chosen while another is still being read: that one is given up, never shown, and the new one is', async () => {
  // About 50 MB, read in many chunks (and across workers with #workers=2).
  const r = rng(21);
  const big = `${out}given-up.jsonl`;
  writeFileSync(big, jsonl(Array.from({ length: 3000 }, (_, i) => trace(r, { size: 10, start: Date.UTC(2025, 2, 1) + i * 60000 })).flat()));
  for (const fragment of ['', '#workers=2']) {
    const { page, problems, close } = await openPage(browser, url, { width: 1280, height: 900 });
    try {
      await watchWorker(page);
      await page.goto(url + fragment);
      await settled(page);
      await page.setInputFiles('#file-input', big);
      await upload(page, 'known.jsonl', jsonl(KNOWN));
      await settled(page);
      assert.match(await page.textContent('#file-info'), /known\.jsonl/, fragment);
      assert.deepEqual(await tableText(page), KNOWN_TEXT, fragment);
      // The sample and the known file were opened; the big one never was.
      const told = await page.evaluate(() => window.told.map((m) => m.type));
      assert.equal(told.filter((t) => t === 'opened').length, 2, `${fragment}: ${told.join(' ')}`);
      assert.deepEqual(problems, [], 'the console stayed clean');
    } finally {
      await close();
    }
  }
});

test('requests that newer ones replaced are not answered: the worker answers the latest', async () => {
  const { page, problems, close } = await openPage(browser, url, { width: 1280, height: 900 });
  try {
    await watchWorker(page);
    await page.goto(url);
    await settled(page);
    // About 13 MB: each request (with the stats panels) keeps the worker
    // busy while the next ones arrive.
    const r = rng(22);
    await upload(page, 'calls.jsonl', jsonl(Array.from({ length: 800 }, (_, i) => trace(r, { size: 10, start: Date.UTC(2025, 2, 1) + i * 60000 })).flat()));
    await settled(page);
    // The page's last request five times over, as quick settings changes send them.
    const answered = await page.evaluate(async () => {
      for (let k = 1; k <= 5; k++) window.dashboardWorker.postMessage({ ...window.lastRequest, id: 1000 + k });
      while (!window.told.some((m) => m.id === 1005)) await new Promise((done) => setTimeout(done, 20));
      return window.told.filter((m) => m.id > 1000).map((m) => `${m.type} ${m.id}`);
    });
    assert.equal(answered.at(-1), 'usage 1005', 'the latest is answered');
    assert.ok(answered.length <= 2, `the replaced ones are not: ${answered.join(', ')}`);
    assert.deepEqual(problems, [], 'the console stayed clean');
  } finally {
    await close();
  }
});

test('without a built package the page says what to do', async () => {
  const bare = await serve({ root: `${repo}www` }); // no /pkg/
  const { page, problems, close } = await openPage(browser, bare.url);
  try {
    await page.goto(bare.url);
    await settled(page, 'error');
    assert.equal(await page.textContent('#error-title'), 'Something went wrong');
    assert.match(await page.textContent('#error-message'), /package could not be loaded .* Run scripts\/build\.sh\.$/);
    assert.equal(await page.textContent('#file-info'), 'No file open');
    // The browser itself logs the missing module; nothing else may show.
    assert.ok(problems.length > 0 && problems.every((p) => p.includes('/pkg/stats.js') || p.includes('404')), problems.join('\n'));
  } finally {
    await close();
    bare.server.close();
  }
});

test('narrow (phone) width: nothing overflows the page', async () => {
  await withDashboard({ width: 390, height: 844 }, async (page) => {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    const fits = await page.evaluate(() => {
      const [panel, chart] = ['#chart', '#chart svg'].map((s) => document.querySelector(s).getBoundingClientRect());
      return chart.left >= panel.left && chart.right <= panel.right;
    });
    assert.ok(fits, 'the chart fits its panel');
    await page.screenshot({ path: `${out}dashboard-narrow.png`, fullPage: true });
  });
});

// ---- options: rollup, prices, diagnostics, trace view ----

/** The table's totals row as numbers, by column key. */
async function totalsOf(page) {
  const { totals } = await readTable(page);
  return Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, Number(v.value)]));
}

/** Sums of the package's answer over every root and model. */
function sums(res) {
  const models = Object.values(res.call_usage).flatMap((m) => Object.values(m));
  return { prompt_tokens: models.reduce((s, u) => s + u.prompt_tokens, 0), total_tokens: models.reduce((s, u) => s + u.total_tokens, 0), cost: models.reduce((s, u) => s + costOf(u), 0) };
}

// A trace run in one process: Weave's client summed the two LLM calls into
// the agent's own usage, so the reference sum counts them twice.
const STAR = [
  { id: 'sa', trace_id: 'ts', project_id: 'acme/star', parent_id: null, op_name: 'weave:///acme/star/op/agent:1', started_at: '2025-03-01T09:00:00Z', ended_at: '2025-03-01T09:01:00Z', summary: { usage: { 'gpt-4o': { requests: 2, prompt_tokens: 300, completion_tokens: 30 } } } },
  { id: 's1', trace_id: 'ts', project_id: 'acme/star', parent_id: 'sa', started_at: '2025-03-01T09:00:01Z', ended_at: '2025-03-01T09:00:02Z', summary: { usage: { 'gpt-4o': { requests: 1, prompt_tokens: 100, completion_tokens: 10 } } } },
  { id: 's2', trace_id: 'ts', project_id: 'acme/star', parent_id: 'sa', started_at: '2025-03-01T09:00:03Z', ended_at: '2025-03-01T09:00:04Z', summary: { usage: { 'gpt-4o': { requests: 1, prompt_tokens: 200, completion_tokens: 20 } } } },
];
const STAR_REQUEST = { project_id: 'acme/star', call_ids: ['sa'], include_costs: true };

test('rollup switch: "count once" dedupes a locally summed trace, and says which calls', async () => {
  await withDashboard({ width: 1280, height: 900 }, async (page) => {
    await upload(page, 'star.jsonl', jsonl(STAR));
    await settled(page);
    const reference = callsUsageFromJson(jsonl(STAR), STAR_REQUEST);
    assert.equal((await totalsOf(page)).prompt_tokens, sums(reference).prompt_tokens);
    assert.equal(sums(reference).prompt_tokens, 600, 'the reference counts the children twice');
    assert.equal(await page.locator('#diagnostics-panel [data-diag=deduped]').count(), 0, 'no dedupe item in reference mode');

    await page.selectOption('#rollup', 'dedupe');
    await settled(page);
    const dedupe = callsUsageFromJson(jsonl(STAR), STAR_REQUEST, { rollup: 'dedupe' });
    assert.equal(sums(dedupe).prompt_tokens, 300);
    assert.deepEqual(await totalsOf(page), { ...(await totalsOf(page)), prompt_tokens: 300, total_tokens: 330, requests: 2 });
    assert.equal(await page.getAttribute('#diagnostics-panel [data-diag=deduped]', 'data-count'), '1');
    await page.click('#diagnostics-panel [data-diag=deduped] summary');
    assert.deepEqual(await page.$$eval('#diagnostics-panel [data-diag=deduped] li code', (cs) => cs.map((c) => c.textContent)), ['sa']);
    await page.screenshot({ path: `${out}dashboard-dedupe.png`, fullPage: true });

    await page.selectOption('#rollup', 'reference');
    await settled(page);
    assert.equal((await totalsOf(page)).prompt_tokens, 600);
  });
});

test('provider-true totals: the toggle explains the difference and shows both numbers', async () => {
  await withDashboard({ width: 1280, height: 900 }, async (page) => {
    await upload(page, 'star.jsonl', jsonl(STAR));
    await settled(page);
    assert.equal(await page.isVisible('#provider-true-note'), false, 'off by default');
    await page.check('#provider-true');
    await settled(page);
    assert.equal(await page.inputValue('#rollup'), 'dedupe', 'the toggle is the dedupe rollup');
    const dedupe = sums(callsUsageFromJson(jsonl(STAR), STAR_REQUEST, { rollup: 'dedupe' }));
    assert.equal((await totalsOf(page)).prompt_tokens, dedupe.prompt_tokens);
    const note = await page.textContent('#provider-true-note');
    assert.match(note, /^Provider-true totals count each LLM request once, as the providers served it; Weave’s server also adds every call’s usage into each of its ancestors/);
    assert.equal(await page.textContent('#provider-true-note [data-totals=provider]'), 'Provider-true: 2 requests, 330 tokens, $0.00.');
    assert.equal(await page.textContent('#provider-true-note [data-totals=server]'), 'Weave’s server: 4 requests, 660 tokens, $0.00 (2.00× the requests).');
    await page.screenshot({ path: `${out}dashboard-provider-true.png`, fullPage: true });
    // The rollup switch and the toggle stay in step.
    await page.selectOption('#rollup', 'reference');
    await settled(page);
    assert.equal(await page.$eval('#provider-true', (e) => e.checked), false);
    assert.equal(await page.isVisible('#provider-true-note'), false);
    assert.equal((await totalsOf(page)).prompt_tokens, 600);
  });
});

test('limit rule: Weave 0.53.12 counts whole traces in batches, or refuses (413)', async () => {
  await withDashboard({ width: 1280, height: 900 }, async (page) => {
    await upload(page, 'known.jsonl', jsonl(KNOWN));
    await settled(page);
    // ra's trace has 4 live calls, rb's 1: a limit of 4 cuts under 0.53.0's rule.
    await page.fill('#limit', '4');
    await page.press('#limit', 'Enter');
    await settled(page);
    const request = { project_id: 'acme/known', call_ids: ['ra', 'rb'], include_costs: true, limit: 4 };
    assert.equal(await page.isVisible('#limit-warning'), true);
    const cut = sums(callsUsageFromJson(jsonl(KNOWN), request));
    assert.equal((await totalsOf(page)).prompt_tokens, cut.prompt_tokens);
    await page.selectOption('#limit-rule', 'per-batch');
    await settled(page);
    const whole = sums(callsUsageFromJson(jsonl(KNOWN), request, { limit: 'per-batch' }));
    assert.equal(whole.prompt_tokens, sums(callsUsageFromJson(jsonl(KNOWN), { ...request, limit: 10000 })).prompt_tokens, 'nothing cut');
    assert.ok(whole.prompt_tokens > cut.prompt_tokens, 'rb was cut under 0.53.0');
    assert.equal((await totalsOf(page)).prompt_tokens, whole.prompt_tokens);
    assert.equal(await page.isVisible('#limit-warning'), false);
    // A single trace over the limit: the server's 413, explained.
    await page.fill('#limit', '3');
    await page.press('#limit', 'Enter');
    await settled(page, 'error');
    assert.equal(await page.textContent('#error-title'), 'A selected trace has more calls than the limit (413)');
    assert.match(await page.textContent('#error-message'), /^Cannot compute complete usage: a single trace exceeds the 3-call aggregation limit\./);
    await page.screenshot({ path: `${out}dashboard-limit-413.png` });
    await page.selectOption('#limit-rule', 'cut');
    await settled(page);
    assert.equal(await page.isVisible('#error'), false);
  });
});

// Usage without costs in the file, for the price table to price.
const UNPRICED = [
  { id: 'ua', trace_id: 'tu', project_id: 'acme/prices', parent_id: null, started_at: '2025-03-01T09:00:00Z', ended_at: '2025-03-01T09:01:00Z', summary: { usage: { 'gpt-4o': { requests: 1, prompt_tokens: 1000, completion_tokens: 100, cache_read_input_tokens: 400 } } } },
  { id: 'u1', trace_id: 'tu', project_id: 'acme/prices', parent_id: 'ua', started_at: '2025-03-01T09:00:01Z', ended_at: '2025-03-01T09:00:02Z', summary: { usage: { claude: { requests: 1, prompt_tokens: 500, completion_tokens: 50 } }, weave: { costs: { claude: { prompt_tokens_total_cost: 0.5, completion_tokens_total_cost: 0.25 } } } } },
];
const UNPRICED_REQUEST = { project_id: 'acme/prices', call_ids: ['ua'], include_costs: true };

/** Types into row `n` of the price table, field by field, each answered (`state`) before the next. */
async function fillRow(page, n, values, state = 'ready') {
  for (const [field, value] of Object.entries(values)) {
    const input = `#price-rows tr:nth-child(${n}) [data-field=${field}]`;
    if (field === 'pricing_level') await page.selectOption(input, value);
    else {
      await page.fill(input, value);
      await page.press(input, 'Tab');
    }
    await settled(page, state);
  }
}

test('price table: typed rows price the models without costs; reprice; a JSON upload; a bad row is marked', async () => {
  await withDashboard({ width: 1280, height: 900 }, async (page) => {
    await upload(page, 'unpriced.jsonl', jsonl(UNPRICED));
    await settled(page);
    const cost = async () => (await totalsOf(page)).cost;
    assert.ok(close(await cost(), 0.75), 'only the given costs at first');

    await page.click('#prices-toggle');
    assert.equal(await page.isVisible('#prices'), true);
    assert.equal(await page.getAttribute('#prices-toggle', 'aria-expanded'), 'true');
    await page.click('#add-price');
    await fillRow(page, 1, { llm_id: 'gpt-4o', prompt_token_cost: '2e-6', completion_token_cost: '1e-5', cache_read_input_token_cost: '5e-7', effective_date: '2024-01-01' });
    const prices = [{ llm_id: 'gpt-4o', prompt_token_cost: 2e-6, completion_token_cost: 1e-5, cache_read_input_token_cost: 5e-7, effective_date: '2024-01-01' }];
    const want = callsUsageFromJson(jsonl(UNPRICED), UNPRICED_REQUEST, { prices });
    assert.ok(close(await cost(), sums(want).cost), `priced: ${await cost()} vs ${sums(want).cost}`);
    // (1000 − 400) × 2e-6 + 100 × 1e-5 + 400 × 5e-7 = 0.0024, plus the given 0.75.
    assert.ok(close(sums(want).cost, 0.7524));
    assert.equal(await page.textContent('#prices-toggle'), 'Price table (1)');

    // Reprice: claude has no row, so its given costs give way to nothing.
    await page.check('#reprice');
    await settled(page);
    assert.ok(close(await cost(), sums(callsUsageFromJson(jsonl(UNPRICED), UNPRICED_REQUEST, { prices, reprice: true })).cost));
    assert.ok(close(await cost(), 0.0024));
    await page.uncheck('#reprice');
    await settled(page);

    // A /costs/query answer loaded from a file replaces the rows.
    const query = { results: [{ id: 'c1', llm_id: 'claude', prompt_token_cost: 1e-3, completion_token_cost: 2e-3, prompt_token_cost_unit: 'USD', completion_token_cost_unit: 'USD', effective_date: '2024-06-01T00:00:00Z', provider_id: 'anthropic' }] };
    await page.setInputFiles('#prices-file', { name: 'costs.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(query)) });
    await settled(page);
    assert.equal(await page.locator('#price-rows tr').count(), 1);
    assert.equal(await page.inputValue('#price-rows [data-field=llm_id]'), 'claude');
    await page.check('#reprice');
    await settled(page);
    const repriced = callsUsageFromJson(jsonl(UNPRICED), UNPRICED_REQUEST, { prices: query.results, reprice: true });
    assert.ok(close(await cost(), sums(repriced).cost));
    assert.ok(close(sums(repriced).cost, 0.6));
    assert.equal(await page.getAttribute('#diagnostics-panel [data-diag=unpriced]', 'data-count'), '1');

    // A date the package cannot read: 422 naming the row and field, the input marked.
    await fillRow(page, 1, { effective_date: 'next tuesday' }, 'error');
    assert.equal(await page.textContent('#error-title'), 'The options were refused (422)');
    assert.deepEqual(await page.$$eval('#error-items li', (lis) => lis.map((li) => li.textContent)), ['options › prices › 0 › effective_date: Input should be a valid datetime or date, invalid character in year']);
    assert.equal(await page.getAttribute('#price-rows [data-field=effective_date]', 'aria-invalid'), 'true');
    await page.screenshot({ path: `${out}dashboard-prices-422.png`, fullPage: true });
    await fillRow(page, 1, { effective_date: '2024-06-01' });
    await settled(page);
    assert.equal(await page.isVisible('#error'), false);
    assert.equal(await page.getAttribute('#price-rows [data-field=effective_date]', 'aria-invalid'), null);

    // A file that is not a price list is reported beside the editor.
    await page.setInputFiles('#prices-file', { name: 'nope.json', mimeType: 'application/json', buffer: Buffer.from('{"rows": []}') });
    await page.waitForSelector('#prices-error:not([hidden])');
    assert.match(await page.textContent('#prices-error'), /^nope\.json: Expected a list of price rows/);
    await page.click('#clear-prices');
    await settled(page);
    assert.equal(await page.locator('#price-rows tr').count(), 0);
  });
});

test('Weave’s default prices: models without costs priced from weave-usage/prices, and what matched how', async () => {
  // `openai/gpt-4o` is not in Weave's table under that name: the provider
  // prefix rule finds gpt-4o. `claude` has stored costs and stays as given.
  const calls = structuredClone(UNPRICED);
  calls[0].summary.usage = { 'openai/gpt-4o': calls[0].summary.usage['gpt-4o'] };
  await withDashboard({ width: 1280, height: 900 }, async (page) => {
    await upload(page, 'defaults.jsonl', jsonl(calls));
    await settled(page);
    const cost = async () => (await totalsOf(page)).cost;
    assert.ok(close(await cost(), 0.75), 'only the given costs at first');
    assert.equal(await page.isVisible('#default-prices-note'), false);

    await page.check('#default-prices');
    await settled(page);
    const { prices, matches } = pricesFor(['openai/gpt-4o']);
    assert.deepEqual(matches, [{ model: 'openai/gpt-4o', pricedAs: 'gpt-4o', rule: 'provider-prefix' }]);
    const want = sums(callsUsageFromJson(jsonl(calls), UNPRICED_REQUEST, { prices })).cost;
    assert.ok(want > 0.75, 'the default row prices gpt-4o');
    assert.ok(close(await cost(), want), `${await cost()} vs ${want}`);
    assert.match(await page.textContent('#default-prices-note'), /^Weave’s default prices \(weave \d+\.\d+\.\d+\): priced 1 model \(1 by provider prefix\)\.$/);

    // A row of the user's own for the model wins over the default ones.
    await page.click('#prices-toggle');
    await page.click('#add-price');
    await fillRow(page, 1, { llm_id: 'openai/gpt-4o', prompt_token_cost: '1', completion_token_cost: '0', effective_date: '2024-01-01' });
    assert.ok(close(await cost(), 0.75 + 600), `own row: ${await cost()}`);
    assert.match(await page.textContent('#default-prices-note'), /priced no model/);

    await page.uncheck('#default-prices');
    await settled(page);
    assert.equal(await page.isVisible('#default-prices-note'), false);
  });
});

test('settings live in the URL: a shared link opens the same view, and changes update it', async () => {
  const { roots, project } = rootsOf(readSample().toString());
  await withDashboard(
    { width: 1280, height: 900 },
    async (page) => {
      assert.equal(await page.isChecked('#include-costs'), false);
      assert.equal(await page.inputValue('#rollup'), 'dedupe');
      assert.equal(await page.inputValue('#limit'), '500');
      assert.equal(await page.isChecked('#default-prices'), true);
      // A project the file lacks gives way to the file's first.
      assert.equal(await page.inputValue('#project'), project);
      // What the page shows is the package's answer for those settings.
      const want = callsUsageFromJson(readSample(), { project_id: project, call_ids: roots, include_costs: false, limit: 500 }, { rollup: 'dedupe' });
      assert.equal((await totalsOf(page)).prompt_tokens, sums(want).prompt_tokens);

      await page.selectOption('#rollup', 'reference');
      await settled(page);
      await page.check('#include-costs');
      await settled(page);
      const hash = new URLSearchParams((await page.evaluate(() => location.hash)).slice(1));
      assert.deepEqual(Object.fromEntries(hash), { project, limit: '500', 'default-prices': '1' });
    },
    '#rollup=dedupe&costs=0&limit=500&default-prices=1&project=no%2Fsuch',
  );
});

test('root search: the list narrows, and None and All act on what it lists', async () => {
  const { roots, project, calls } = rootsOf(readSample().toString());
  const chat = calls.filter((c) => roots.includes(c.id) && c.op_name.includes('/op/openai.chat')).map((c) => c.id);
  assert.equal(chat.length, 1, 'the sample has one root chat call');
  await withDashboard({ width: 1280, height: 900 }, async (page) => {
    await page.fill('#root-search', '  OPENAI.chat ');
    await page.waitForFunction(() => document.querySelectorAll('#roots input[data-root-id]').length === 1);
    assert.deepEqual(await page.$$eval('#roots input', (xs) => xs.map((x) => x.dataset.rootId)), chat);
    // None drops only the listed root: the answer is the other roots'.
    await page.click('#select-none');
    await settled(page);
    const rest = roots.filter((id) => !chat.includes(id));
    const want = callsUsageFromJson(readSample(), { project_id: project, call_ids: rest, include_costs: true });
    assert.equal((await totalsOf(page)).prompt_tokens, sums(want).prompt_tokens);
    assert.match(await page.textContent('#roots-count'), new RegExp(`^${rest.length} of ${roots.length} selected$`));
    await page.click('#select-all');
    await settled(page);
    assert.match(await page.textContent('#roots-count'), new RegExp(`^${roots.length} of ${roots.length} selected$`));
    await page.fill('#root-search', 'no such root');
    await page.waitForSelector('#roots li.empty');
    assert.equal(await page.textContent('#roots li.empty'), 'No root call matches “no such root”.');
  });
});

test('the usage table exports as CSV, every row with the package’s numbers', { skip: engine === 'firefox' && 'downloads are read through playwright only' }, async () => {
  const { roots, project } = rootsOf(readSample().toString());
  const res = callsUsageFromJson(readSample(), { project_id: project, call_ids: roots, include_costs: true });
  await withDashboard({ width: 1280, height: 900 }, async (page) => {
    const [file] = await Promise.all([page.waitForEvent('download'), page.click('#export-usage')]);
    assert.equal(file.suggestedFilename(), 'sample traces-usage.csv');
    const text = readFileSync(await file.path(), 'utf8');
    const [head, ...lines] = text.trimEnd().split('\r\n');
    assert.match(head, /^root_id,root_op,trace_id,model,requests,prompt_tokens,/);
    const rows = lines.map((l) => l.split(','));
    const models = Object.values(res.call_usage).reduce((n, m) => n + Math.max(Object.keys(m).length, 1), 0);
    assert.equal(rows.length, models);
    const col = head.split(',').indexOf('prompt_tokens');
    const sum = rows.reduce((n, r) => n + Number(r[col]), 0);
    assert.equal(sum, Object.values(res.call_usage).reduce((n, m) => n + Object.values(m).reduce((k, u) => k + u.prompt_tokens, 0), 0));

    // The trace view's table too: one line per call of the trace.
    await page.click('#usage-table button[data-trace-root]');
    await page.waitForSelector('#trace-panel:not([hidden])');
    const [trace] = await Promise.all([page.waitForEvent('download'), page.click('#trace-export')]);
    const traceLines = readFileSync(await trace.path(), 'utf8').trimEnd().split('\r\n');
    assert.equal(traceLines[0], 'call_id,op,depth,models,requests,total_tokens,own_tokens,cost,own_cost,unfinished');
    assert.equal(traceLines.length - 1, await page.locator('#trace-table tbody tr').count());
  });
});

test('diagnostics panel: what the package found, and off when switched off', async () => {
  await withDashboard({ width: 1280, height: 900 }, async (page) => {
    const odd = [
      ...KNOWN,
      { id: 'ax', trace_id: 'ta', project_id: 'acme/known', parent_id: 'gone', started_at: '2025-03-01T09:00:06Z', ended_at: 'x', summary: { usage: { 'gpt-4o': { prompt_tokens: '12.5', input_tokens: 3, completion_tokens: 1 } } } },
      { ...KNOWN[1], summary: { usage: { 'gpt-4o': { requests: 1, prompt_tokens: 100, input_tokens: 100 } } } },
    ];
    await upload(page, 'odd.jsonl', jsonl(odd));
    await settled(page);
    const want = callsUsageFromJson(jsonl(odd), { project_id: 'acme/known', call_ids: ['ra', 'rb'], include_costs: true }, { diagnostics: true }).diagnostics;
    const items = await page.$$eval('#diagnostics-panel [data-diag]', (lis) => Object.fromEntries(lis.map((li) => [li.dataset.diag, Number(li.dataset.count)])));
    assert.deepEqual(items, { cut: 0, orphans: 1, cycles: 0, duplicates: 1, unreadable: 1, 'prompt-and-input': 1, 'negative-costs': 0 });
    assert.deepEqual([want.orphan_call_ids, want.duplicate_call_ids], [['ax'], ['a1']]);
    await page.click('#diagnostics-panel [data-diag=unreadable] summary');
    assert.equal(await page.textContent('#diagnostics-panel [data-diag=unreadable] li code'), 'ax › gpt-4o › prompt_tokens');
    assert.match(await page.textContent('#diagnostics-panel .diag-summary'), /^6 calls counted\. 4 things to look at\.$/);

    await page.uncheck('#diagnostics');
    await settled(page);
    assert.equal(await page.isVisible('#diagnostics-panel'), false);
    await page.check('#diagnostics');
    await settled(page);
    assert.equal(await page.isVisible('#diagnostics-panel'), true);
  });
});

test('trace view: a root’s calls as a tree, each with its rolled-up usage (traceUsage)', async () => {
  await withDashboard({ width: 1280, height: 900 }, async (page) => {
    await upload(page, 'known.jsonl', jsonl(KNOWN));
    await settled(page);
    assert.equal(await page.isVisible('#trace-panel'), false);
    await page.click('#usage-table button[data-trace-root=ra]');
    await settled(page);
    const res = traceUsageFromJson(jsonl(KNOWN), { project_id: 'acme/known', filter: { trace_ids: ['ta'] }, include_costs: true });
    const rows = () => page.$$eval('#trace-table tbody tr', (trs) => trs.map((tr) => [tr.dataset.call, Number(tr.dataset.depth), Number(tr.querySelector('[data-key=total_tokens]').dataset.value)]));
    const tokens = (id) => Object.values(res.call_usage[id]).reduce((s, u) => s + u.total_tokens, 0);
    assert.deepEqual(await rows(), [['ra', 0, tokens('ra')], ['a1', 1, tokens('a1')], ['a2', 1, tokens('a2')], ['a3', 2, tokens('a3')]]);
    assert.deepEqual((await rows()).map((r) => r[2]), [1435 - 15, 120, 1300, 1300]);
    assert.match(await page.textContent('#trace-panel h2'), /^Trace of agent\.run/);
    assert.equal(await page.locator('#trace-table tr[data-call=a2] .badge').count(), 1, 'a2 is still running');
    const costText = await page.textContent('#trace-table tr[data-call=ra] [data-key=cost]');
    assert.equal(costText, '$0.0113');
    // Each call's own part: ra and a2 used nothing themselves.
    const own = await page.$$eval('#trace-table tbody tr', (trs) => trs.map((tr) => [tr.dataset.call, Number(tr.querySelector('[data-key=own_tokens]').dataset.value), tr.querySelector('[data-key=own_cost]').textContent]));
    assert.deepEqual(own, [['ra', 0, '$0.00'], ['a1', 120, '$0.0037'], ['a2', 0, '$0.00'], ['a3', 1300, '$0.0076']]);
    await page.screenshot({ path: `${out}dashboard-trace.png`, fullPage: true });

    // It follows the options: without costs the cost column goes.
    await page.uncheck('#include-costs');
    await settled(page);
    assert.equal(await page.locator('#trace-table [data-key=cost]').count(), 0);
    await page.click('#trace-close');
    assert.equal(await page.isVisible('#trace-panel'), false);
  });
});

// ---- stats: spend over time and breakdowns ----

// Calls over three days in New York, with users and threads; the agent's
// own usage holds its child's (as Weave's client writes it), so stats
// count the child's tokens once.
const DAYS = [
  { id: 'd1', trace_id: 't1', project_id: 'acme/days', parent_id: null, op_name: 'weave:///acme/days/op/agent:1', wb_user_id: 'ann', thread_id: 'th1', started_at: '2025-03-08T23:30:00Z', ended_at: '2025-03-08T23:31:00Z', summary: { usage: { 'gpt-4o': { requests: 1, prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 } }, weave: { costs: { 'gpt-4o': cost(0.001, 0.0002) } } } },
  { id: 'd1c', trace_id: 't1', project_id: 'acme/days', parent_id: 'd1', op_name: 'weave:///acme/days/op/openai.chat:2', wb_user_id: 'ann', thread_id: 'th1', started_at: '2025-03-08T23:30:01Z', ended_at: '2025-03-08T23:30:02Z', summary: { usage: { 'gpt-4o': { requests: 1, prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 } }, weave: { costs: { 'gpt-4o': cost(0.001, 0.0002) } } } },
  { id: 'd2', trace_id: 't2', project_id: 'acme/days', parent_id: null, op_name: 'weave:///acme/days/op/openai.chat:2', wb_user_id: 'bob', started_at: '2025-03-10T15:00:00Z', ended_at: '2025-03-10T15:00:01Z', exception: 'RateLimitError', summary: { usage: { 'claude-3-5-sonnet': { requests: 1, input_tokens: 1000, output_tokens: 100, total_tokens: 1100 } }, weave: { costs: { 'claude-3-5-sonnet': cost(0.003, 0.0015) } } } },
  { id: 'd3', trace_id: 't3', project_id: 'acme/days', parent_id: null, op_name: 'weave:///acme/days/op/agent:1', wb_user_id: 'bob', thread_id: 'th2', started_at: '2025-03-11T01:00:00Z', ended_at: null },
];

test('stats: spend per day by model in the chosen zone, breakdowns by op and user, in the URL', async () => {
  const body = jsonl(DAYS);
  const want = usageStatsFromJson(body, { project_id: 'acme/days', granularity: 'day', timezone: 'America/New_York', group_by: ['model'], include_costs: true });
  await withDashboard(
    { width: 1280, height: 900 },
    async (page) => {
      await upload(page, 'days.jsonl', body);
      await settled(page);
      assert.equal(await page.inputValue('#timezone'), 'America/New_York');
      // One column per day in New York, empty days included, each the day's own cost.
      const columns = await page.$$eval('#timeline svg g.column', (gs) => gs.map((g) => [g.dataset.bucket, Number(g.dataset.total)]));
      const days = [...new Set(want.usage_buckets.map((r) => r.timestamp))];
      assert.deepEqual(columns.map((c) => c[0]), days);
      assert.equal(days.length, 3, '8, 9 and 10 March in New York');
      for (const [day, total] of columns) {
        const expected = want.usage_buckets.filter((r) => r.timestamp === day).reduce((s, r) => s + costOf(r), 0);
        assert.ok(close(total, expected) || (total === 0 && expected === 0), `${day}: ${total} vs ${expected}`);
      }
      // The child's tokens count once: 110 + 1,100, not 1,320.
      const models = await page.$$eval('#timeline svg rect[data-model]', (rs) => [...new Set(rs.map((r) => r.dataset.model))].sort());
      assert.deepEqual(models, ['claude-3-5-sonnet', 'gpt-4o']);

      // The breakdown by op: calls, errors, unfinished and tokens per op.
      const rows = () => page.$$eval('#breakdown-table tbody tr', (trs) => trs.map((tr) => [tr.querySelector('th').textContent, ...['calls', 'errors', 'unfinished', 'total_tokens'].map((k) => Number(tr.querySelector(`[data-key=${k}]`).dataset.value))]));
      assert.deepEqual(await rows(), [['openai.chat', 2, 1, 0, 1210], ['agent', 2, 0, 1, 0]]);
      await page.selectOption('#breakdown-by', 'wb_user_id');
      await settled(page);
      assert.deepEqual(await rows(), [['bob', 2, 1, 1, 1100], ['ann', 2, 0, 0, 110]]);
      await page.selectOption('#breakdown-by', 'thread_id');
      await settled(page);
      assert.deepEqual((await rows()).map((r) => r[0]), ['(none)', 'th1', 'th2']);

      // Hours in Kathmandu (+05:45): the buckets move with the zone.
      await page.selectOption('#granularity', 'hour');
      await settled(page);
      await page.selectOption('#timezone', 'Asia/Kathmandu');
      await settled(page);
      const first = await page.$eval('#timeline svg g.column', (g) => g.dataset.bucket);
      assert.equal(first, '2025-03-09T05:00:00+05:45');
      const hash = Object.fromEntries(new URLSearchParams((await page.evaluate(() => location.hash)).slice(1)));
      assert.deepEqual({ per: hash.per, tz: hash.tz, by: hash.by }, { per: 'hour', tz: 'Asia/Kathmandu', by: 'thread_id' });
      await page.screenshot({ path: `${out}dashboard-stats-desktop.png`, fullPage: true });
    },
    '#tz=America%2FNew_York',
  );
  // The same settings from a shared link, on a phone.
  await withDashboard(
    { width: 390, height: 844 },
    async (page) => {
      assert.equal(await page.inputValue('#granularity'), 'week');
      assert.equal(await page.inputValue('#timezone'), 'Asia/Kathmandu');
      assert.equal(await page.inputValue('#breakdown-by'), 'root_op_name');
      await upload(page, 'days.jsonl', body);
      await settled(page);
      assert.equal(await page.$eval('#timeline svg g.column', (g) => g.dataset.bucket), '2025-03-03T00:00:00+05:45');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
      await page.screenshot({ path: `${out}dashboard-stats-phone.png`, fullPage: true });
    },
    '#per=week&tz=Asia%2FKathmandu&by=root_op_name',
  );
});

test('stats tables export as CSV with the package’s numbers', { skip: engine === 'firefox' && 'downloads are read through playwright only' }, async () => {
  await withDashboard({ width: 1280, height: 900 }, async (page) => {
    await upload(page, 'days.jsonl', jsonl(DAYS));
    await settled(page);
    const [timeline] = await Promise.all([page.waitForEvent('download'), page.click('#export-timeline')]);
    const lines = readFileSync(await timeline.path(), 'utf8').trimEnd().split('\r\n');
    const want = usageStatsFromJson(jsonl(DAYS), { project_id: 'acme/days', granularity: 'day', timezone: await page.inputValue('#timezone'), group_by: ['model'], include_costs: true });
    assert.equal(lines.length - 1, want.usage_buckets.length);
    assert.equal(lines[0].split(',')[0], 'timestamp');
    const [breakdown] = await Promise.all([page.waitForEvent('download'), page.click('#export-breakdown')]);
    const text = readFileSync(await breakdown.path(), 'utf8');
    assert.equal(text.split('\r\n')[0], 'op_name,other,call_count,error_count,unfinished_count,requests,total_tokens,cost');
    assert.match(text, /\r\nopenai\.chat,false,2,1,0,2,1210,/);
  });
});

// ---- a file read across workers (weave-usage/parallel) ----

test('a file read across workers: the same roots, table, stats, diagnostics, trace view and errors as read on one thread', async () => {
  // Generated traces: users, threads, exceptions, unfinished calls, many models.
  const r = rng(11);
  const calls = Array.from({ length: 80 }, (_, i) => trace(r, { size: 1 + (i % 12), start: Date.UTC(2025, 2, 1) + i * 3_600_000, llmShare: 0.5, unfinished: 0.05 })).flat();
  const body = jsonl(calls);
  const view = async (fragment, base = url) => {
    let seen;
    await withDashboard(
      { width: 1280, height: 900 },
      async (page) => {
        await page.evaluate(() => {
          window.progressTexts = [];
          new MutationObserver(() => window.progressTexts.push(document.getElementById('progress-text').textContent)).observe(document.getElementById('progress-text'), { childList: true, characterData: true, subtree: true });
        });
        // The sample, fetched when the page opens, before the upload below.
        const sample = { info: await page.textContent('#file-info'), table: await tableText(page) };
        await upload(page, 'traces.jsonl', body);
        await settled(page);
        const info = await page.textContent('#file-info');
        const progress = await page.evaluate(() => window.progressTexts);
        const root = await page.getAttribute('#usage-table button[data-trace-root]', 'data-trace-root');
        const snapshot = {
          roots: await page.$$eval('#roots input', (xs) => xs.map((x) => [x.dataset.rootId, x.checked])),
          table: await tableText(page),
          timeline: await page.$$eval('#timeline svg g.column', (gs) => gs.map((g) => [g.dataset.bucket, g.dataset.total])),
          breakdown: await page.$$eval('#breakdown-table tbody tr', (trs) => trs.map((tr) => tr.textContent)),
          diagnostics: await page.textContent('#diagnostics-panel'),
        };
        await page.click(`#usage-table button[data-trace-root="${root}"]`);
        await settled(page);
        snapshot.trace = await page.$$eval('#trace-table tbody tr', (trs) => trs.map((tr) => tr.textContent));
        // Errors: a call without a trace id (422) and a line that is not JSON (400), with their lines.
        await upload(page, 'bad-call.jsonl', jsonl([KNOWN[0], { id: 'x1', parent_id: 'ra', started_at: '2025-03-01T09:00:01Z' }, ...KNOWN.slice(1)]));
        await settled(page, 'error');
        snapshot.error422 = await page.$$eval('#error-items li', (lis) => lis.map((li) => li.textContent));
        await upload(page, 'broken.jsonl', Buffer.from(jsonl(KNOWN.slice(0, 2)).toString() + '{"id": "a2", "trace_id": "ta", oops}\n' + jsonl(KNOWN.slice(2)).toString()));
        await settled(page, 'error');
        snapshot.error400 = [await page.textContent('#error-title'), await page.textContent('#error-message'), await page.textContent('#error-excerpt')];
        seen = { sample, info, progress, snapshot, isolated: await page.evaluate(() => crossOriginIsolated) };
      },
      fragment,
      base,
    );
    return seen;
  };
  const here = await view('#workers=0');
  const across = await view('#workers=2');
  assert.doesNotMatch(here.info, /read across/);
  assert.ok(!here.progress.some((t) => t.startsWith('Aggregating across')), here.progress.join(' | '));
  assert.ok(across.progress.some((t) => /^Aggregating across 2 workers: /.test(t)), across.progress.join(' | '));
  assert.match(across.info, /^traces\.jsonl · .* calls · JSON Lines · read across 2 workers$/);
  assert.equal(across.info.replace(' · read across 2 workers', ''), here.info);
  assert.ok(here.snapshot.table.total.length > 0 && here.snapshot.timeline.length > 1 && here.snapshot.trace.length > 0, 'the views are not empty');
  assert.deepEqual(across.snapshot, here.snapshot);
  assert.deepEqual(here.snapshot.error422, ['call 2 (line 2) › trace_id: Field required']);
  assert.match(across.sample.info, / · read across 2 workers$/);
  assert.equal(across.sample.info.replace(' · read across 2 workers', ''), here.sample.info);
  assert.ok(here.sample.table.total.length > 0);
  assert.deepEqual(across.sample.table, here.sample.table);
  // Served cross-origin isolated, as scripts/demo.sh serves it: the same.
  const isolated = await serve({ root: `${repo}www`, mounts: { '/pkg/': `${repo}pkg` }, headers: ISOLATED });
  try {
    const shared = await view('#workers=2', isolated.url);
    assert.equal(shared.isolated, true);
    assert.equal(shared.info, across.info);
    assert.deepEqual(shared.snapshot, here.snapshot);
    assert.equal(shared.sample.info, across.sample.info);
    assert.deepEqual(shared.sample.table, here.sample.table);
  } finally {
    isolated.server.close();
  }
});

/** Opens `body` in the dashboard at `base + fragment`: the time to ready, the file info, table and diagnostics. */
async function openTimed(body, fragment, base) {
  let seen;
  await withDashboard(
    { width: 1280, height: 900 },
    async (page) => {
      const started = Date.now();
      await upload(page, 'traces.jsonl', body);
      await settled(page);
      seen = { ms: Date.now() - started, info: await page.textContent('#file-info'), table: await tableText(page), diagnostics: await page.textContent('#diagnostics-panel') };
    },
    fragment,
    base,
  );
  return seen;
}

/** Serves the dashboard with the package's shard worker script replaced by `script`; runs `body(url)`. */
async function withShardWorker(script, body) {
  const dir = mkdtempSync(join(tmpdir(), 'shard-worker-'));
  cpSync(`${repo}pkg`, dir, { recursive: true });
  writeFileSync(join(dir, 'parallel-worker.js'), script);
  const served = await serve({ root: `${repo}www`, mounts: { '/pkg/': dir } });
  try {
    await body(served.url);
  } finally {
    served.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('shard workers that fail, or never answer, are given up on: the file is read on the dashboard\'s own worker, with the same answers', async () => {
  const r = rng(12);
  const body = jsonl(Array.from({ length: 30 }, (_, i) => trace(r, { size: 1 + (i % 7), start: Date.UTC(2025, 2, 1) + i * 3_600_000, llmShare: 0.5 })).flat());
  const here = await openTimed(body, '#workers=0', url);
  const same = (seen) => {
    assert.doesNotMatch(seen.info, /read across/);
    assert.equal(seen.info, here.info);
    assert.deepEqual(seen.table, here.table);
    assert.equal(seen.diagnostics, here.diagnostics);
  };
  // A worker whose script fails: the page sees its error and tells the
  // pool, which gives up at once.
  await withShardWorker("throw new Error('this shard worker is broken');\n", async (base) => {
    const failed = await openTimed(body, '#workers=2', base);
    same(failed);
    assert.ok(failed.ms < 10_000, `read after ${failed.ms} ms, not after the quiet spell`);
  });
  // Workers that take every message and answer none (no progress, no reply,
  // no error): given up on after the quiet spell (15 s), not at once and not never.
  await withShardWorker('self.onmessage = () => {};\n', async (base) => {
    const silent = await openTimed(body, '#workers=2', base);
    same(silent);
    assert.ok(silent.ms >= 14_000, `read after ${silent.ms} ms`);
  });
});
