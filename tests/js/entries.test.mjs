// The package's other entries, each in a process of its own (an entry
// shares its instance with any other loaded in the same process): the
// CommonJS build (`require`), weave-usage/init in Node and its browser
// build (init.js) given the module as bytes, a Response or a compiled
// module. Each answers as the ESM entry does and throws the same errors.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { callsUsageFromJson, isUsageError } from 'weave-usage';

const pkg = fileURLToPath(new URL('../../pkg/', import.meta.url));
const sample = fileURLToPath(new URL('../../www/sample/traces.jsonl', import.meta.url));
const request = { project_id: 'acme/agents', call_ids: ['e2af1294-ffac-7a7c-beb6-bf8b655bb132', 'nope'], include_costs: true };
const want = callsUsageFromJson(readFileSync(sample), request);

/** What `script` prints as JSON, run as CommonJS (`cjs`) or an ES module
 * with `pkg` as the working directory's package. */
function run(script, { cjs = false } = {}) {
  const args = cjs ? ['-e', script] : ['--input-type=module', '-e', script];
  return JSON.parse(execFileSync(process.execPath, args, { cwd: pkg, encoding: 'utf8', env: { ...process.env, SAMPLE: sample, REQUEST: JSON.stringify(request) } }));
}

/** Script lines exercising the API bound to `w`: the sample's answer, the
 * error shapes, an accumulator freed by Symbol.dispose. */
const exercise = (w) => `
  const out = {};
  const body = require_('fs').readFileSync(process.env.SAMPLE);
  const request = JSON.parse(process.env.REQUEST);
  out.res = ${w}.callsUsageFromJson(body, request);
  out.objects = ${w}.callsUsage(body.toString().trim().split('\\n').map((l) => JSON.parse(l)), request);
  try { ${w}.callsUsageFromJson('{', request); } catch (e) { out.bad = { guard: ${w}.isUsageError(e), status: e.status, detail: e.detail, error: e instanceof Error }; }
  out.notOurs = ${w}.isUsageError(Object.assign(new Error('x'), { status: '422' }));
  const acc = new ${w}.UsageAccumulator();
  acc.push(body.buffer.slice(body.byteOffset, body.byteOffset + 100));
  acc.push(body.subarray(100).toString());
  out.streamed = acc.finish(request);
  acc[Symbol.dispose]();
  try { acc.calls; } catch (e) { out.freed = e.status; }`;

function assertExercised(out) {
  assert.deepEqual(out.res, want);
  assert.deepEqual(out.objects, want);
  assert.deepEqual(out.streamed, want);
  assert.equal(out.bad.guard, true);
  assert.equal(out.bad.error, true);
  assert.equal(out.bad.status, 400);
  assert.deepEqual(out.bad.detail[0].loc, ['body', 1]);
  assert.equal(out.notOurs, false);
  assert.equal(out.freed, 410);
}

test('require("weave-usage"): the CommonJS build answers and throws as the ES module does', () => {
  const out = run(`const require_ = require; const w = require('weave-usage'); ${exercise('w')} console.log(JSON.stringify(out));`, { cjs: true });
  assertExercised(out);
});

test('require resolves to node.cjs, import to node.js; neither reads weave_usage_bg.wasm', () => {
  const require = createRequire(`${pkg}package.json`);
  assert.equal(require.resolve('weave-usage'), `${pkg}node.cjs`);
  assert.equal(import.meta.resolve('weave-usage'), `file://${pkg}node.js`);
  assert.equal(require.resolve('weave-usage/init'), `${pkg}init.cjs`);
  assert.equal(import.meta.resolve('weave-usage/init'), `file://${pkg}init-node.js`);
  // The base64 copy is the built module, stack pointer export included.
  const base64 = require(`${pkg}wasm-inline.cjs`);
  assert.ok(Buffer.from(base64, 'base64').equals(readFileSync(`${pkg}weave_usage_bg.wasm`)));
  // A watch on the file system: importing each entry opens no .wasm.
  for (const [entry, cjs] of [['weave-usage', false], ['weave-usage', true], ['weave-usage/init', false]]) {
    const load = cjs ? `require('${entry}')` : `await import('${entry}')`;
    const script = `
      const fs = ${cjs ? "require('fs')" : "(await import('node:fs')).default"};
      const opened = [];
      for (const name of ['readFileSync', 'openSync', 'readFile', 'open']) {
        const real = fs[name];
        fs[name] = function (path, ...rest) { opened.push(String(path)); return real.call(this, path, ...rest); };
      }
      // ES modules' named imports of node:fs see the replacements too.
      ${cjs ? "require('module')" : "(await import('node:module')).default"}.syncBuiltinESMExports();
      const w = ${load};
      ${entry.endsWith('init') ? 'await w.init();' : ''}
      w.callsUsage([], { project_id: 'p', call_ids: [] });
      console.log(JSON.stringify(opened.filter((p) => p.endsWith('.wasm'))));`;
    const opened = cjs ? run(`(async () => { ${script} })()`, { cjs: true }) : run(script);
    assert.deepEqual(opened, [], `${entry} (${cjs ? 'require' : 'import'})`);
  }
});

/** Loads `entry` (a specifier or a file of pkg/), checks that calls fail
 * with a 500 not_initialized before init(given) resolves, and exercises it. */
function initScript(entry, given) {
  return `
    import * as w from '${entry}';
    import fs from 'node:fs';
    import { createRequire } from 'node:module';
    const require_ = createRequire(import.meta.url);
    const wasm = new URL('weave_usage_bg.wasm', import.meta.url);
    const early = [];
    try { w.callsUsage([], { project_id: 'p', call_ids: [] }); } catch (e) { early.push({ status: e.status, detail: e.detail, guard: w.isUsageError(e) }); }
    try { new w.UsageAccumulator(); } catch (e) { early.push({ status: e.status, detail: e.detail, guard: w.isUsageError(e) }); }
    try { w.wasmMemoryBytes(); } catch (e) { early.push({ status: e.status, detail: e.detail, guard: w.isUsageError(e) }); }
    const loading = w.init(${given});
    await Promise.all([loading, w.init(), w.init(42)]);
    ${exercise('w')}
    out.early = early;
    console.log(JSON.stringify(out));`;
}

const NOT_READY = {
  status: 500,
  detail: [{ loc: ['module'], msg: 'The module is not initialised: await init() from weave-usage/init before calling', type: 'not_initialized' }],
  guard: true,
};

const SOURCES = {
  bytes: 'fs.readFileSync(wasm)',
  'an ArrayBuffer': 'new Uint8Array(fs.readFileSync(wasm)).buffer',
  'a compiled module': 'new WebAssembly.Module(fs.readFileSync(wasm))',
  'a Response': "new Response(fs.readFileSync(wasm), { headers: { 'content-type': 'application/wasm' } })",
  'a promise of a Response': "Promise.resolve(new Response(fs.readFileSync(wasm), { headers: { 'content-type': 'application/wasm' } }))",
};

test('weave-usage/init in Node: a 500 not_initialized before init(), then the same answers, whatever init() is given', () => {
  const given = { ...SOURCES, nothing: '', 'a URL (not fetched: the package holds the module)': "'https://cdn.invalid/weave_usage_bg.wasm'" };
  for (const [what, source] of Object.entries(given)) {
    const out = run(initScript('weave-usage/init', source));
    assert.deepEqual(out.early, [NOT_READY, NOT_READY, NOT_READY], what);
    assertExercised(out);
  }
});

test("weave-usage/init's browser build (init.js), run in Node from the file: the same, given bytes, a Response or a module", () => {
  for (const [what, source] of Object.entries(SOURCES)) {
    const out = run(initScript('./init.js', source));
    assert.deepEqual(out.early, [NOT_READY, NOT_READY, NOT_READY], what);
    assertExercised(out);
  }
});

test('require("weave-usage/init"): the CommonJS build of the Node init entry', () => {
  const out = run(
    `(async () => {
      const require_ = require;
      const w = require('weave-usage/init');
      let early;
      try { w.callsUsage([], { project_id: 'p', call_ids: [] }); } catch (e) { early = e.detail[0].type; }
      await w.init();
      ${exercise('w')}
      out.early = early;
      console.log(JSON.stringify(out));
    })()`,
    { cjs: true },
  );
  assert.equal(out.early, 'not_initialized');
  assertExercised(out);
});
