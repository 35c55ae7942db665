// Writes www/sample/traces.jsonl, the bundled sample: a few agent traces of
// different sizes, interleaved as a stream_query export would be (by start
// time), one call still running. Deterministic: rerunning gives the same file.
import { writeFileSync } from 'node:fs';
import { rng, trace } from './calls.mjs';

const r = rng(20250301);
const sizes = [14, 6, 1, 23, 9, 3];
const calls = sizes.flatMap((size, i) => trace(r, { size, start: Date.UTC(2025, 2, 1, 9, i * 7), unfinished: i === 3 ? 0.15 : 0 }));
calls.sort((a, b) => (a.started_at < b.started_at ? -1 : a.started_at > b.started_at ? 1 : 0));
const out = new URL('../www/sample/traces.jsonl', import.meta.url);
writeFileSync(out, calls.map((c) => JSON.stringify(c)).join('\n') + '\n');
console.log(`wrote ${calls.length} calls in ${sizes.length} traces to ${out.pathname}`);
