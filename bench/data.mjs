// Benchmark data: what /calls/stream_query returns for a busy project, as
// JSON Lines bytes, generated deterministically (tools/calls.mjs): ~1.5 KB a
// call, about 40% LLM calls with usage and costs, traces of 1 to 120 calls
// and now and then one of 2,000.
import { rng, trace } from '../tools/calls.mjs';

const enc = new TextEncoder();

/**
 * `n` calls as JSON Lines bytes, written straight into one buffer (the 1M
 * size is ~1.5 GB, too big for one JS string), plus the ids of the first 100
 * root calls, for the request.
 */
export function generate(n, seed = 7) {
  const r = rng(seed);
  const chunks = [];
  const roots = [];
  let size = 0;
  let count = 0;
  let start = Date.UTC(2025, 2, 1);
  let pending = [];
  const flush = () => {
    const bytes = enc.encode(pending.join(''));
    chunks.push(bytes);
    size += bytes.length;
    pending = [];
  };
  while (count < n) {
    const want = r.chance(0.002) ? 2000 : r.int(1, 120);
    const calls = trace(r, { size: Math.min(want, n - count), start, llmShare: 0.42, unfinished: 0.01 });
    start += 60_000;
    if (roots.length < 100) roots.push(calls[0].id);
    for (const c of calls) pending.push(JSON.stringify(c) + '\n');
    count += calls.length;
    if (pending.length > 2000) flush();
  }
  flush();
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.length;
  }
  return { body, roots, count };
}
