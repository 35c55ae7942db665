// Writes the fuzzers' seed corpora (fuzz/corpus/<target>/) from the
// reference fixtures (tests/fixtures/conformance), the real-client corpus
// (tests/fixtures/client: nested detail objects, lists, running calls) and
// the pydantic request corpus (tests/fixtures/python/requests.json):
//   bytes:   each fixture's calls as JSON Lines and as a JSON array, whole
//            and cut to their first three calls (small seeds mutate fast);
//   stream:  the same bodies behind a 3-byte header (largest chunk, seed),
//            and each fixture's calls as the objects path writes them
//            (compact calls; the header's top bit set to read them so);
//   request: each fixture's request as a client sends it, and every request
//            body of the pydantic corpus;
//   parts:   the JSON Lines bodies behind a mode byte that cuts them at a
//            line (and reads them plain or for stats), and the part of each
//            (as `UsageAccumulator.part` writes it, from the built stats
//            package, plain and with stats fields) behind the mode byte 0.
// Seeds are named by content hash, so running it again adds nothing twice.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fixtures, requestAsSent } from '../tests/js/helpers.mjs';
import { selectCalls } from '../js/pick.js';
import { UsageAccumulator } from 'weave-usage/stats';

const corpus = new URL('./corpus/', import.meta.url);
const counts = {};
function seed(target, bytes) {
  const dir = new URL(`${target}/`, corpus);
  mkdirSync(dir, { recursive: true });
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes);
  writeFileSync(new URL(createHash('sha1').update(data).digest('hex'), dir), data);
  counts[target] = (counts[target] ?? 0) + 1;
}

const bodies = (calls) => [
  calls.map((c) => JSON.stringify(c)).join('\n') + '\n',
  JSON.stringify(calls),
  '\uFEFF' + calls.map((c) => JSON.stringify(c)).join('\r\n'),
  JSON.stringify(calls, null, 1),
];

/** A JSON Lines body cut at a line (mode byte: bit 1 set, bit 2 for stats,
 * the rest which line), and its parts as bytes (mode 0). */
function seedParts(body, h) {
  seed('parts', Buffer.concat([Buffer.from([((h % 8) << 2) | ((h >> 3) % 2 << 1) | 1]), Buffer.from(body)]));
  for (const options of [undefined, { stats: true }]) {
    const acc = new UsageAccumulator(options);
    try {
      acc.push(body);
      seed('parts', Buffer.concat([Buffer.from([0]), acc.part()]));
    } catch {
      // A fixture whose body is refused has no part.
    } finally {
      acc.free();
    }
  }
}

let h = 0;
for (const f of fixtures()) {
  const calls = Array.isArray(f.calls) ? f.calls : [];
  for (const [i, body] of [...bodies(calls), ...bodies(calls.slice(0, 3))].entries()) {
    // The full pretty and BOM forms are mostly duplicates: keep them small.
    if (i === 2 || i === 3) {
      if (calls.length > 3) continue;
    }
    seed('bytes', body);
    h++;
    seed('stream', Buffer.concat([Buffer.from([h % 10, h & 0xff, (h * 7) & 0xff]), Buffer.from(body)]));
    if (i === 0 || i === 4) seedParts(body, h);
  }
  seed('request', JSON.stringify(requestAsSent(f)));
  const [text] = selectCalls(calls, null) ?? ['[]'];
  h++;
  seed('stream', Buffer.concat([Buffer.from([0x80 | h % 10, h & 0xff, (h * 7) & 0xff]), Buffer.from(text)]));
}
// The client corpus' calls in windows of eight: real shapes, small seeds.
const client = new URL('../tests/fixtures/client/', import.meta.url);
for (const name of readdirSync(client).filter((f) => f.endsWith('.json') && f !== 'coverage.json').sort()) {
  const f = JSON.parse(readFileSync(new URL(name, client), 'utf8'));
  for (let at = 0; at < f.calls.length; at += 8) {
    const [body] = bodies(f.calls.slice(at, at + 8));
    seed('bytes', body);
    h++;
    seed('stream', Buffer.concat([Buffer.from([h % 10, h & 0xff, (h * 7) & 0xff]), Buffer.from(body)]));
  }
  for (const r of f.requests) seed('request', JSON.stringify(r.request));
}
const py = JSON.parse(readFileSync(new URL('../tests/fixtures/python/requests.json', import.meta.url), 'utf8'));
for (const c of py.cases) seed('request', c.body);
console.log('seeds written:', counts);
