// The real-client corpus (tests/fixtures/client, made by
// tests/gen/client_corpus.py: traces logged by Weave's Python client and the
// same server's answers) through the built package, imported as users import
// it: callsUsage on objects; callsUsageFromJson on a JSON array and JSON
// Lines, as strings and as bytes; UsageAccumulator fed in seeded random
// chunks; and, for /trace/usage, traceUsage, traceUsageFromJson and
// finishTrace.
//
// Cases in KNOWN_FAILURES are expected to differ (each with the reason); a
// listed case that passes fails the test, so the list stays exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { callsUsage, callsUsageFromJson, traceUsage, traceUsageFromJson, UsageAccumulator } from 'weave-usage';
import { assertMatches } from './helpers.mjs';

const dir = new URL('../fixtures/client/', import.meta.url);

/** Known differences from the reference: `${fixture} ${kind}[${index}]` → reason. */
const KNOWN_FAILURES = new Map([]);

const corpus = readdirSync(dir)
  .filter((f) => f.endsWith('.json') && f !== 'coverage.json')
  .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')))
  .sort((a, b) => (a.name < b.name ? -1 : 1));

/** A deterministic random generator (xorshift32). */
function random(seed) {
  let x = seed || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

/** A fresh accumulator fed `bytes` in random chunks (0 to `max` bytes). */
function accumulated(bytes, seed, max) {
  const rand = random(seed);
  const acc = new UsageAccumulator();
  for (let at = 0; at < bytes.length; ) {
    const n = rand(max + 1);
    acc.push(bytes.subarray(at, at + n));
    at += n;
  }
  return acc;
}

const enc = new TextEncoder();
const passes = new Map();
const pass = (path) => passes.set(path, (passes.get(path) ?? 0) + 1);

test('the corpus is here', () => {
  assert.deepEqual(
    corpus.map((f) => f.name),
    ['agents', 'agents-running', 'evals', 'mixed-projects', 'pricing', 'stream-open', 'support'],
  );
});

for (const f of corpus) {
  test(`client corpus: ${f.name}`, () => {
    const array = JSON.stringify(f.calls);
    const lines = f.calls.map((c) => JSON.stringify(c)).join('\n') + '\n';
    const linesBytes = enc.encode(lines);
    const arrayBytes = enc.encode(array);
    // One accumulator per chunking answers every request, as finish allows.
    const accs = [
      ['UsageAccumulator(JSONL, chunks ≤ 7)', accumulated(linesBytes, 1, 7)],
      ['UsageAccumulator(JSONL, chunks ≤ 4096)', accumulated(linesBytes, 2, 4096)],
      ['UsageAccumulator(JSON array, chunks ≤ 64)', accumulated(arrayBytes, 3, 64)],
    ];
    const failures = [];
    try {
      for (const kind of ['usage', 'trace']) {
        const cases = kind === 'usage' ? f.requests : f.trace_requests;
        cases.forEach((c, i) => {
          const id = `${f.name} ${kind}[${i}]`;
          const runs =
            kind === 'usage'
              ? {
                  'callsUsage(objects)': () => callsUsage(structuredClone(f.calls), c.request),
                  'callsUsageFromJson(JSON array string)': () => callsUsageFromJson(array, c.request),
                  'callsUsageFromJson(JSON array bytes)': () => callsUsageFromJson(arrayBytes, c.request),
                  'callsUsageFromJson(JSONL string)': () => callsUsageFromJson(lines, c.request),
                  'callsUsageFromJson(JSONL bytes)': () => callsUsageFromJson(linesBytes, c.request),
                  ...Object.fromEntries(accs.map(([name, acc]) => [`${name}.finish`, () => acc.finish(c.request)])),
                }
              : {
                  'traceUsage(objects)': () => traceUsage(structuredClone(f.calls), c.request),
                  'traceUsageFromJson(JSON array string)': () => traceUsageFromJson(array, c.request),
                  'traceUsageFromJson(JSON array bytes)': () => traceUsageFromJson(arrayBytes, c.request),
                  'traceUsageFromJson(JSONL string)': () => traceUsageFromJson(lines, c.request),
                  'traceUsageFromJson(JSONL bytes)': () => traceUsageFromJson(linesBytes, c.request),
                  ...Object.fromEntries(accs.map(([name, acc]) => [`${name}.finishTrace`, () => acc.finishTrace(c.request)])),
                };
          let failed = false;
          for (const [path, run] of Object.entries(runs)) {
            try {
              assertMatches(run(), c.expected);
              pass(path);
            } catch (e) {
              failed = true;
              if (!KNOWN_FAILURES.has(id)) failures.push(`${id} via ${path}: ${e.message}`);
            }
          }
          if (KNOWN_FAILURES.has(id)) assert.ok(failed, `${id} is a known failure but passes: remove it from KNOWN_FAILURES`);
        });
      }
    } finally {
      for (const [, acc] of accs) acc.free();
    }
    assert.deepEqual(failures, []);
  });
}

test('every known failure names a case', () => {
  const ids = new Set(corpus.flatMap((f) => [...f.requests.map((_, i) => `${f.name} usage[${i}]`), ...f.trace_requests.map((_, i) => `${f.name} trace[${i}]`)]));
  for (const id of KNOWN_FAILURES.keys()) assert.ok(ids.has(id), id);
});

test('passes per path', () => {
  // Reported, and each path must have answered every case of its kind.
  const usage = corpus.reduce((n, f) => n + f.requests.length, 0);
  const trace = corpus.reduce((n, f) => n + f.trace_requests.length, 0);
  const known = (kind) => [...KNOWN_FAILURES.keys()].filter((k) => k.includes(` ${kind}[`)).length;
  for (const [path, n] of [...passes].sort()) {
    console.log(`client corpus: ${path}: ${n} passed`);
    const kind = /finishTrace|trace/i.test(path) ? 'trace' : 'usage';
    assert.equal(n, (kind === 'trace' ? trace : usage) - known(kind), path);
  }
  assert.equal(passes.size, 16);
});
