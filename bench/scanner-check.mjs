// Checks bench/scanner.mjs, the benchmark's plain-JavaScript byte scanner,
// against the reference: every conformance fixture with an expected answer
// (tests/fixtures/conformance, a copy of the shared reference fixtures) and
// every `/calls/usage` request of the real-client corpus
// (tests/fixtures/client), each body as JSON Lines and as a JSON array.
// Fixtures whose answer is an error are left out: the scanner does not
// validate calls. `node bench/scanner-check.mjs`; exits 1 on a mismatch.
import { readFileSync, readdirSync } from 'node:fs';
import { scanUsage } from './scanner.mjs';
import { assertMatches, requestAsSent } from '../tests/js/helpers.mjs';

const enc = new TextEncoder();
const read = (dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'coverage.json')
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')));
const cases = [];
for (const f of read(new URL('../tests/fixtures/conformance/', import.meta.url))) {
  if (!f.expected_error) cases.push({ name: f.name, calls: f.calls, request: requestAsSent(f), expected: f.expected });
}
for (const f of read(new URL('../tests/fixtures/client/', import.meta.url))) {
  f.requests.forEach((c, i) => cases.push({ name: `client ${f.name} usage[${i}]`, calls: f.calls, request: c.request, expected: c.expected }));
}
let failed = 0;
for (const c of cases) {
  const bodies = { 'JSON Lines': enc.encode(c.calls.map((x) => JSON.stringify(x)).join('\n') + '\n'), 'JSON array': enc.encode(JSON.stringify(c.calls)) };
  for (const [form, body] of Object.entries(bodies)) {
    try {
      assertMatches(scanUsage(body, c.request), c.expected);
    } catch (e) {
      failed++;
      console.log(`${c.name} (${form}): ${e.message}`);
    }
  }
}
console.log(`byte scanner: ${cases.length * 2 - failed} of ${cases.length * 2} agree with the reference`);
process.exit(failed ? 1 : 0);
