// Shared by the browser tests: Debian's Chromium driven by playwright-core,
// pages watched for anything that would show in the console, and the
// package's answer computed in Node for comparison.
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../tools/serve.mjs';

export const repo = fileURLToPath(new URL('../../', import.meta.url));
export const out = fileURLToPath(new URL('./out/', import.meta.url));
mkdirSync(out, { recursive: true });
export const samplePath = `${repo}www/sample/traces.jsonl`;

// playwright cannot download its own browsers here; Debian's works, with the
// flags that keep it from reaching for the network.
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
}

export { serve };

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
