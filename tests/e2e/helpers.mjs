// Shared by the browser tests: Debian's Chromium driven by playwright-core,
// pages watched for anything that would show in the console, and the
// package's answer computed in Node for comparison.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../tools/serve.mjs';

export const repo = fileURLToPath(new URL('../../', import.meta.url));
export const out = fileURLToPath(new URL('./out/', import.meta.url));
mkdirSync(out, { recursive: true });
export const samplePath = `${repo}www/sample/traces.jsonl`;

/** The engine the page tests run in: `BROWSER=firefox` for Firefox. */
export const engine = process.env.BROWSER === 'firefox' ? 'firefox' : 'chromium';

// playwright cannot download its own browsers here; Debian's works, with the
// flags that keep it from reaching for the network. Firefox: Debian's
// firefox-esr driven by puppeteer-core over WebDriver BiDi (playwright needs
// its own patched Firefox), behind the part of playwright's API the tests use.
export function launch() {
  if (engine === 'firefox') return launchFirefox();
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
}

export { serve };

async function launchFirefox() {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX ?? '/usr/bin/firefox-esr',
    headless: true,
    extraPrefsFirefox: { 'network.proxy.type': 0, 'app.update.enabled': false, 'browser.shell.checkDefaultBrowser': false },
  });
  const version = await browser.version();
  if (!/firefox/i.test(version)) throw new Error(`helpers.mjs: asked for Firefox, got ${version}`);
  return {
    async newContext({ viewport } = {}) {
      const context = await browser.createBrowserContext();
      return {
        async newPage() {
          const page = await context.newPage();
          if (viewport) await page.setViewport(viewport);
          return playwrightish(page);
        },
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}

/** A puppeteer page with the playwright methods the page tests call. */
function playwrightish(page) {
  const extra = {
    on(event, f) {
      if (event === 'console') return page.on('console', (m) => f({ type: () => (m.type() === 'warn' ? 'warning' : m.type()), text: () => m.text(), location: () => m.location() }));
      if (event === 'worker') return page.on('workercreated', (w) => f({ on: () => {} }));
      return page.on(event, f);
    },
    waitForSelector(selector, { state = 'visible', timeout = 30_000 } = {}) {
      return page.waitForSelector(selector, { visible: state === 'visible', hidden: state === 'hidden', timeout });
    },
    waitForFunction: (f, arg, { timeout = 30_000 } = {}) => page.waitForFunction(f, { timeout }, arg),
    addInitScript: (f) => page.evaluateOnNewDocument(f),
    textContent: (sel) => page.$eval(sel, (e) => e.textContent),
    getAttribute: (sel, name) => page.$eval(sel, (e, n) => e.getAttribute(n), name),
    isVisible: (sel) => page.$(sel).then((e) => (e ? e.isVisible() : false)),
    inputValue: (sel) => page.$eval(sel, (e) => e.value),
    isChecked: (sel) => page.$eval(sel, (e) => e.checked),
    check: (sel) => page.$eval(sel, (e) => e.checked || e.click()),
    uncheck: (sel) => page.$eval(sel, (e) => !e.checked || e.click()),
    locator: (sel) => ({ count: () => page.$$(sel).then((xs) => xs.length) }),
    async setInputFiles(sel, file) {
      let path = file;
      if (typeof file !== 'string') {
        path = join(mkdtempSync(join(tmpdir(), 'weave-usage-upload-')), file.name);
        writeFileSync(path, file.buffer);
      }
      await (await page.$(sel)).uploadFile(path);
    },
    selectOption: (sel, value) => page.select(sel, value),
    // As playwright's fill: the value set, then input and change events.
    fill: (sel, value) =>
      page.$eval(sel, (e, v) => {
        e.focus();
        e.value = v;
        e.dispatchEvent(new Event('input', { bubbles: true }));
        e.dispatchEvent(new Event('change', { bubbles: true }));
      }, value),
    async press(sel, key) {
      await page.focus(sel);
      await page.keyboard.press(key);
    },
    dispatchEvent: (sel, type, init = {}) =>
      page.$eval(sel, (e, t, dataTransfer) => e.dispatchEvent(dataTransfer ? new DragEvent(t, { bubbles: true, cancelable: true, dataTransfer }) : new Event(t, { bubbles: true, cancelable: true })), type, init.dataTransfer),
  };
  return new Proxy(page, { get: (t, k) => (k in extra ? extra[k] : typeof t[k] === 'function' ? t[k].bind(t) : t[k]) });
}

/**
 * A new page whose console errors and warnings, uncaught errors (page and
 * workers) and requests to anywhere but `origin` are collected in
 * `problems`; a test ends with `assert.deepEqual(problems, [])`.
 */
export async function openPage(browser, origin, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = [];
  const onConsole = (where) => (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${where} console ${m.type()}: ${m.text()}`);
  };
  page.on('console', onConsole('page'));
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('worker', (w) => w.on('console', onConsole('worker')));
  page.on('request', (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) problems.push(`request outside ${origin}: ${r.url()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return { page, problems, close: () => context.close() };
}

/** The sample's roots and project, read independently of the page's scanner. */
export function rootsOf(text) {
  const calls = text.trim().startsWith('[') ? JSON.parse(text) : text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  const live = calls.filter((c) => !c.deleted_at);
  return { roots: live.filter((c) => !c.parent_id).map((c) => c.id), project: live[0]?.project_id ?? 'default', calls: live };
}

export const readSample = () => readFileSync(samplePath);
