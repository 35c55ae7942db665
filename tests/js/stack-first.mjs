// Run by tests/js/boundary.test.mjs in a process of its own: the package's
// very first calls are made near the stack limit (nothing has run yet but
// what the package did as it loaded), then everything must be exact.
// Prints {counts, bad, after} as JSON.
import { readFileSync } from 'node:fs';
import * as pkg from 'weave-usage';
import { judge, nearLimit } from './stack.mjs';

// This file's own functions must be compiled before they are called near
// the limit (compiling needs far more stack than running): they first run
// against a stand-in that does nothing.
class Idle {
  push() {}
  finish() {}
  free() {}
}
let lib = { callsUsage() {}, callsUsageFromJson() {}, UsageAccumulator: Idle };

const body = readFileSync(new URL('../../www/sample/traces.jsonl', import.meta.url));
const text = body.toString();
const calls = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
const request = { project_id: 'acme/agents', call_ids: calls.filter((c) => !c.parent_id).map((c) => c.id), include_costs: true };
const bad = text + '{"id": nope}\n';
let acc = new Idle();
const ops = [
  ['callsUsageFromJson', () => lib.callsUsageFromJson(body, request)],
  ['callsUsage', () => lib.callsUsage(calls, request)],
  ['string, 400', () => lib.callsUsageFromJson(bad, request)],
  ['accumulator', () => {
    const a = new lib.UsageAccumulator();
    try {
      a.push(body);
      return a.finish(request);
    } finally {
      a.free();
    }
  }],
  ['push, 400', () => acc.push(new TextEncoder().encode(bad))],
];
for (const [, op] of ops) op();
lib = pkg;
acc = new pkg.UsageAccumulator();
const { outcomes } = nearLimit(ops, { span: 900, rounds: 1 });
const { callsUsage, callsUsageFromJson } = pkg;
const want = JSON.stringify(callsUsageFromJson(body, request));
let badError = null;
try {
  callsUsageFromJson(bad, request);
} catch (e) {
  badError = e.message;
}
// The 400s are the answers of the two failing calls.
const outcomesAs400 = outcomes.map((o) => (!o.ok && o.error?.status === 400 && o.error.message === badError ? { ...o, ok: true, value: 400 } : o));
const result = judge(outcomesAs400, (op, value) => (op.endsWith('400') ? value === 400 : JSON.stringify(value) === want));
const after = JSON.stringify(callsUsage(calls, request)) === want && JSON.stringify(callsUsageFromJson(text, request)) === want;
acc.free();
console.log(JSON.stringify({ ...result, after }));
