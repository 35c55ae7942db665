// Interleaved timing shared by the worker-scaling benchmarks (in Node,
// bench/parallel.mjs; in a page, bench/parallel.html): every path once per
// round, one after the other from a settled heap, the order rotating from
// round to round, so that the VM's slow and fast stretches fall on every
// path alike and ratios can be taken within a round.

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The median over rounds of `base[i] / xs[i]`: how much faster `xs` was than `base` in the same round. */
export const paired = (base, xs) => median(xs.map((x, i) => base[i] / x));

/** A forced collection (where `gc` is exposed), then 200 ms for the engine to sweep on its other threads. */
export async function settle() {
  globalThis.gc?.();
  await new Promise((r) => setTimeout(r, 200));
}

/**
 * Times `paths` (name → async function) over `rounds` rounds. `probe`, if
 * given, is called before each run and returns a function called after it
 * whose result is recorded as a second figure (e.g. CPU time). Returns
 * `{ ms, extra }`, each name → one figure per round.
 */
export async function rotatedRounds(paths, rounds, probe = null) {
  const names = Object.keys(paths);
  const ms = Object.fromEntries(names.map((k) => [k, []]));
  const extra = Object.fromEntries(names.map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length];
      await settle();
      const t = performance.now();
      const after = probe?.();
      await paths[name]();
      ms[name].push(performance.now() - t);
      if (after) extra[name].push(after());
    }
  }
  return { ms, extra };
}
