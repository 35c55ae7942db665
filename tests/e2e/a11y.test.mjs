// The dashboard's accessibility: axe-core (WCAG 2.x A and AA rules) finds
// nothing in light and dark mode, while loading and with the trace panel
// open; the file controls are reachable by Tab; opening a trace moves focus
// to it; progress is announced; counts read as English; and a file being
// loaded hides the previous file's results.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { launch, openPage, repo, serve } from './helpers.mjs';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let browser, server, url;
before(async () => {
  ({ server, url } = await serve({ root: `${repo}www`, mounts: { '/pkg/': `${repo}pkg` } }));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

/** axe's violations on the page as it is: [{ id, nodes: [target…] }]. */
async function axe(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => (await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })).violations);
  return violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`) }));
}

async function withPage(body, { colorScheme = 'light', hold = false } = {}) {
  const { page, problems, close } = await openPage(browser, url);
  let release = () => {};
  try {
    await page.emulateMedia({ colorScheme });
    if (hold) {
      // The sample's response is held back: the page stays in its loading state.
      const held = new Promise((r) => (release = r));
      await page.route('**/sample/traces.jsonl', async (route) => {
        await held;
        await route.continue();
      });
    }
    await page.goto(url);
    await body(page, release);
    assert.deepEqual(problems, [], 'the console stayed clean');
  } finally {
    release();
    await close();
  }
}

for (const colorScheme of ['light', 'dark']) {
  test(`axe: no violation in ${colorScheme} mode, loaded, and with the trace panel open`, async () => {
    await withPage(
      async (page) => {
        await page.waitForSelector('body[data-state="ready"]');
        assert.deepEqual(await axe(page), [], 'loaded');
        await page.click('#usage-table button[data-trace-root]');
        await page.waitForSelector('#trace-panel:not([hidden])');
        await page.waitForSelector('body[data-state="ready"]');
        assert.deepEqual(await axe(page), [], 'trace panel open');
      },
      { colorScheme },
    );
  });
}

test('axe: no violation while loading', async () => {
  await withPage(
    async (page, release) => {
      await page.waitForSelector('body[data-state="loading"]', { state: 'attached' });
      assert.deepEqual(await axe(page), [], 'loading');
      release();
      await page.waitForSelector('body[data-state="ready"]');
    },
    { hold: true },
  );
});

test('keyboard: Tab reaches the file buttons; opening a trace scrolls to it and focuses it', async () => {
  await withPage(async (page) => {
    await page.waitForSelector('body[data-state="ready"]');
    const reached = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate(() => document.activeElement?.id));
    }
    assert.deepEqual(reached.slice(0, 2), ['open-button', 'sample-button'], reached.join(', '));
    // Enter on the open button opens the file picker.
    await page.focus('#open-button');
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Enter')]);
    assert.equal(await chooser.element().evaluate((e) => e.id), 'file-input');
    await page.focus('#prices-toggle');
    await page.keyboard.press('Enter');
    await page.focus('#prices-open');
    const [prices] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Enter')]);
    assert.equal(await prices.element().evaluate((e) => e.id), 'prices-file');

    await page.evaluate(() => window.scrollTo(0, 0));
    await page.focus('#usage-table button[data-trace-root]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#trace-panel:not([hidden])');
    await page.waitForFunction(() => document.activeElement?.id === 'trace-panel');
    assert.match(await page.getAttribute('#trace-panel', 'aria-label'), /^Trace of /);
    const top = await page.evaluate(() => document.getElementById('trace-panel').getBoundingClientRect().top);
    assert.ok(Math.abs(top) < 100, `the trace panel is scrolled to (top at ${top})`);
  });
});

test('progress is announced; counts read as English; no usage and nothing selected told apart; a new file hides the old results', async () => {
  await withPage(
    async (page, release) => {
      await page.waitForSelector('body[data-state="loading"]', { state: 'attached' });
      assert.equal(await page.getAttribute('#progress-text', 'role'), 'status');
      assert.match(await page.textContent('#progress-text'), /Reading/);
      release();
      await page.waitForSelector('body[data-state="ready"]');

      const one = Buffer.from(`${JSON.stringify({ id: 'a', trace_id: 't', project_id: 'p', started_at: '2025-01-01T00:00:00Z', ended_at: '2025-01-01T00:00:01Z', summary: {} })}\n`);
      // Held: the file stays loading while the page is looked at.
      await page.evaluate(() => {
        window.hiddenWhileLoading = null;
        new MutationObserver(() => {
          if (document.body.dataset.state === 'loading' && window.hiddenWhileLoading === null) window.hiddenWhileLoading = document.getElementById('results').hidden && document.getElementById('roots').children.length === 0;
        }).observe(document.body, { attributes: true, attributeFilter: ['data-state'] });
      });
      await page.setInputFiles('#file-input', { name: 'one.jsonl', mimeType: 'application/x-ndjson', buffer: one });
      await page.waitForSelector('body[data-state="ready"]');
      assert.equal(await page.evaluate(() => window.hiddenWhileLoading), true, 'the sample’s results were hidden while one.jsonl loaded');
      assert.match(await page.textContent('#file-info'), / · 1 call · /);
      assert.equal(await page.getAttribute('#chart p', 'data-empty'), 'no-usage');
      assert.match(await page.textContent('#chart p'), /No LLM usage/);
      await page.click('#select-none');
      await page.waitForSelector('body[data-state="ready"]');
      await page.waitForSelector('#chart p[data-empty="nothing-selected"]');
      assert.match(await page.textContent('#chart p'), /No root call is selected/);
      assert.deepEqual(await axe(page), [], 'nothing selected');
    },
    { hold: true },
  );
});
