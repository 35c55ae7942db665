// The www/ dashboard used as a person would: in Chromium, served as
// scripts/demo.sh serves it, checked against the package's own answers
// computed here in Node.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { callsUsageFromJson } from 'weave-usage';
import { formatCost, formatInt } from '../../www/format.js';
import { rng, trace } from '../../tools/calls.mjs';
import { launch, openPage, out, readSample, repo, rootsOf, serve } from './helpers.mjs';

let browser, server, url;
before(async () => {
  ({ server, url } = await serve({ root: `${repo}www`, mounts: { '/pkg/': `${repo}pkg` } }));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

/** Opens the dashboard and waits for the sample; `body` runs with the page. */
async function withDashboard(viewport, body) {
  const { page, problems, close } = await openPage(browser, url, viewport);
  try {
    await page.goto(url);
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

test('the worker feeds the UsageAccumulator while reading and asks it every request', async () => {
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
    assert.match(await page.textContent('#file-info'), /^known\.jsonl · .* · 5 calls/);
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
    assert.ok(problems.length > 0 && problems.every((p) => p.includes('/pkg/index.js') || p.includes('404')), problems.join('\n'));
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
