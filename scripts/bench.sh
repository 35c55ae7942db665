#!/usr/bin/env bash
# The benchmark, in Node and in headless Chromium: generated call lists of
# 10k, 100k and 1M calls (or the sizes given), each path against the plain-
# JavaScript rollup it replaces (JSON.parse + Map-based rollup) and against
# the best plain-JS byte scanner we could write (bench/scanner.mjs, checked
# against the reference fixtures first), medians of 5 rounds (15 at 20k
# calls or fewer), MB/s, memory,
# and a check that the answers agree; usage stats (by hour, model and op)
# against a plain-JS peer (bench/stats-baseline.mjs, checked first by
# bench/stats-check.mjs); then ids
# crafted to collide in a string hash against ordinary ones (bench/flood.mjs);
# and the first call after import against warm ones (bench/first-call.mjs).
# Installs what is missing first. Timing is printed, never asserted. Takes a
# few minutes. bench/ab.mjs compares two builds in one process. Arguments go
# to bench/node.mjs and bench/chromium.mjs: sizes, and `--stats-only` for
# just the stats rows (e.g. `scripts/bench.sh --stats-only 1000000`).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh --browser
scripts/build.sh
echo "== The JS byte scanner (bench/scanner.mjs) against the reference fixtures"
node bench/scanner-check.mjs
echo "== The JS stats peer (bench/stats-baseline.mjs) against the module"
node bench/stats-check.mjs
echo
echo "== Node"
node --expose-gc --max-old-space-size=12000 bench/node.mjs "$@"
echo
echo "== Worker scaling (Node): weave-usage/parallel with 1, 2 and 4 worker threads"
node --expose-gc --max-old-space-size=12000 bench/parallel.mjs "$@"
echo
echo "== Chromium"
node bench/chromium.mjs "$@"
echo
echo "== Worker scaling (Chromium): module Workers, the page cross-origin isolated and not"
node bench/parallel-chromium.mjs "$@"
echo
echo "== The first call after import against warm calls (fresh processes, fresh Chromium contexts)"
# 200 ms after the import, and 1 s after it at 10k (by then the engine has
# optimised the module's hottest functions).
for run in "10000 200" "10000 1000" "100000 200"; do
  read -r n idle <<< "$run"
  node bench/first-call.mjs --idle "$idle" "$n" 7 | tail -n 1
  node bench/first-call.mjs --chromium --idle "$idle" "$n" 7 | tail -n 1
done
echo
echo "== Hash flooding (Node): ordinary vs crafted ids"
node --expose-gc bench/flood.mjs
