// Hash flooding: a body whose ids were crafted to collide in a string hash,
// against one of ordinary ids of the same count and length.
//   node --expose-gc bench/flood.mjs [PKG_DIR ...] [--segments S] [--rounds R]
// (default: pkg/). The crafted ids are built from 16-byte segments, each in
// one of two forms differing in bit 62 of its first 8-byte word and bit 21 of
// its second: a multiply–rotate hash (such as the interner's before it was
// keyed SipHash) carries that difference through its multiply and cancels
// it at the next word for about half of all seeds, so 2^S such ids fall into
// a few hundred hash values whatever the seed, and each insertion compares
// against hundreds of others. Under a keyed pseudorandom hash they spread
// like any ids. Prints the median time of each body; asserts nothing about
// time, only that both bodies give the same shape of answer.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const [v] = args.splice(i, 2).slice(1);
  return Number(v);
};
const segments = opt('--segments', 16);
const rounds = opt('--rounds', 5);
const dirs = args.length ? args : ['pkg'];
const libs = await Promise.all(dirs.map((d) => import(pathToFileURL(resolve(d, 'node.js')).href)));

function body(ids) {
  const lines = ids.map((id) => `{"id":"${id}","trace_id":"${id}","project_id":"p","started_at":"2025-01-01T00:00:00Z","ended_at":"2025-01-01T00:00:01Z","summary":{"usage":{"m":{"requests":1,"prompt_tokens":1}}}}\n`);
  return new TextEncoder().encode(lines.join(''));
}

const n = 2 ** segments;
const crafted = [];
const ordinary = [];
for (let i = 0; i < n; i++) {
  let c = '';
  for (let s = 0; s < segments; s++) c += (i >> s) & 1 ? 'seg-xyz!qrBstuvw' : 'seg-xyzaqrbstuvw';
  crafted.push(c);
  // Same length, distinct, and as alike as crafted ones where it does not matter.
  ordinary.push(i.toString(16).padStart(8, '0').repeat(2 * segments));
}
const bodies = { ordinary: body(ordinary), crafted: body(crafted) };
const request = { project_id: 'p', call_ids: [crafted[0], ordinary[0]] };

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`${n} calls, ids of ${16 * segments} bytes; median of ${rounds} runs`);
for (const [d, lib] of dirs.map((d, i) => [d, libs[i]])) {
  const times = {};
  for (const [name, b] of Object.entries(bodies)) {
    const ts = [];
    for (let r = 0; r < rounds; r++) {
      globalThis.gc?.();
      const t = performance.now();
      const res = lib.callsUsageFromJson(b, request);
      ts.push(performance.now() - t);
      if (Object.keys(res.call_usage).length !== 2) throw new Error('unexpected answer');
    }
    times[name] = median(ts);
  }
  console.log(`${d}: ordinary ${times.ordinary.toFixed(1)} ms, crafted ${times.crafted.toFixed(1)} ms (${(times.crafted / times.ordinary).toFixed(2)}x)`);
}
