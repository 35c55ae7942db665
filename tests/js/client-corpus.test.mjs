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

// rollup: "dedupe" against provider truth (tests/client_corpus.rs has the
// same test natively). Where the calls hold all the truth — every
// descendant of a requested id (over every call given, deleted ones too)
// is in the request's scope, and each LLM call recorded what its provider
// served — the answer equals provider truth, through every path. Elsewhere
// (usage the client never recorded; summaries holding usage of deleted or
// limit-cut descendants) each counter lies between provider truth over the
// scope and the whole subtree's recorded usage.
const COUNTERS = ['requests', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'];

/** Model → six counters, summed over `usages`; all-zero models left out. */
function sumUsage(usages) {
  const out = {};
  for (const u of usages) {
    for (const [m, v] of Object.entries(u ?? {})) {
      out[m] ??= Object.fromEntries(COUNTERS.map((k) => [k, 0]));
      for (const k of COUNTERS) out[m][k] += v[k] ?? 0;
    }
  }
  for (const m of Object.keys(out)) if (COUNTERS.every((k) => out[m][k] === 0)) delete out[m];
  return out;
}

/** A call's summary.usage as the answer reads it (input/output aliases, total). */
function recorded(call) {
  const out = {};
  for (const [m, u] of Object.entries(call.summary?.usage ?? {})) {
    const n = (k) => (typeof u[k] === 'number' ? u[k] : 0);
    const p = n('prompt_tokens') + n('input_tokens');
    const c = n('completion_tokens') + n('output_tokens');
    out[m] = { requests: n('requests'), prompt_tokens: p, completion_tokens: c, total_tokens: n('total_tokens') || p + c, cache_read_input_tokens: n('cache_read_input_tokens'), cache_creation_input_tokens: n('cache_creation_input_tokens') };
  }
  return sumUsage([out]);
}

const counter = (u, m, k) => u?.[m]?.[k] ?? 0;
const sameUsage = (a, b) => [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].every((m) => COUNTERS.every((k) => counter(a, m, k) === counter(b, m, k)));

test('rollup dedupe equals provider truth where the calls hold it', () => {
  let exact = 0, total = 0, complete = 0, beyond = 0;
  const failures = [];
  for (const f of corpus) {
    const calls = new Map(f.calls.map((c) => [c.id, c]));
    const children = new Map();
    for (const c of calls.values()) if (c.parent_id) children.set(c.parent_id, [...(children.get(c.parent_id) ?? []), c.id]);
    const bytes = enc.encode(f.calls.map((c) => JSON.stringify(c)).join('\n'));
    const acc = accumulated(bytes, 7, 512);
    try {
      f.requests.forEach((c, i) => {
        const options = { rollup: 'dedupe' };
        const answers = [callsUsage(structuredClone(f.calls), c.request, options), callsUsageFromJson(bytes, c.request, options), acc.finish(c.request, options)];
        for (const [id, want] of Object.entries(c.provider_truth_rollup)) {
          total++;
          const subtree = [id];
          for (let at = 0; at < subtree.length; at++) subtree.push(...(children.get(subtree[at]) ?? []));
          const llm = subtree.filter((x) => f.provider_truth[x]);
          const lossless = llm.every((x) => sameUsage(recorded(calls.get(x)), sumUsage([f.provider_truth[x]])));
          const inScope = sameUsage(sumUsage(llm.map((x) => f.provider_truth[x])), want);
          const whole = sumUsage(llm.map((x) => recorded(calls.get(x))));
          for (const [path, res] of answers.entries()) {
            const got = res.call_usage[id];
            if (path === 0 && sameUsage(got, want)) exact++;
            if (lossless && inScope) {
              if (!sameUsage(got, want)) failures.push(`${f.name} requests[${i}] ${id} (path ${path}): ${JSON.stringify(got)} ≠ truth ${JSON.stringify(want)}`);
            } else {
              for (const m of new Set([...Object.keys(got), ...Object.keys(want), ...Object.keys(whole)])) {
                for (const k of COUNTERS) {
                  const [g, a, b] = [counter(got, m, k), counter(want, m, k), counter(whole, m, k)];
                  if (g < Math.min(a, b) || g > Math.max(a, b)) failures.push(`${f.name} requests[${i}] ${id} ${m}.${k}: ${g} not between ${a} and ${b}`);
                }
              }
            }
          }
          if (lossless && inScope) complete++;
          else beyond++;
        }
      });
    } finally {
      acc.free();
    }
  }
  console.log(`dedupe equals provider truth on ${exact} of ${total} requested ids (${complete} with all the truth in the calls in scope, all exact; ${beyond} others)`);
  assert.deepEqual(failures, []);
  assert.equal(total, 155);
  assert.equal(complete, 108);
});

test('diagnostics on real traces: client sums spared, negative stored costs named', () => {
  let negative = 0;
  for (const f of corpus) {
    for (const project_id of f.projects) {
      const d = traceUsage(f.calls, { project_id, include_costs: true, limit: 100000 }, { diagnostics: true, prices: [] }).diagnostics;
      // Every entry holding both prompt and input tokens here is a parent's
      // sum of a Chat API and a Responses API child.
      assert.deepEqual(d.prompt_and_input_tokens, [], `${f.name} ${project_id}`);
      // Every model has stored costs, priced by the server.
      assert.deepEqual(d.unpriced_models, [], `${f.name} ${project_id}`);
      const live = new Map();
      for (const c of f.calls) c.deleted_at == null ? live.set(c.id, c) : live.delete(c.id);
      const want = [...live.values()]
        .filter((c) => c.project_id === project_id)
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .flatMap((c) => Object.keys(c.summary?.usage ?? {}).flatMap((model) => {
          const costs = c.summary?.weave?.costs?.[model];
          if (!costs) return [];
          return ['prompt_tokens_total_cost', 'completion_tokens_total_cost', 'cache_read_input_tokens_total_cost', 'cache_creation_input_tokens_total_cost']
            .filter((field) => costs[field] < 0)
            .map((field) => ({ call_id: c.id, model, field }));
        }));
      assert.deepEqual(d.negative_costs, want, `${f.name} ${project_id}`);
      negative += want.length;
    }
  }
  assert.equal(negative, 67);
});
