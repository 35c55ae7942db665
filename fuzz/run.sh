#!/usr/bin/env bash
# Runs one fuzz target for a while, on one core, and prints what a
# report needs: executions, speed, time, coverage and features at the end,
# and when coverage last grew (a plateau shows as a long quiet tail).
#   fuzz/run.sh <bytes|request|stream> [seconds=600] [extra libFuzzer flags…]
# Seeds the corpus first if it is missing (seed.mjs). Crashes land in
# fuzz/artifacts/<target>/; the full log in fuzz/logs/.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?target: bytes, request or stream}
seconds=${2:-600}
shift $(( $# >= 2 ? 2 : 1 ))
[ -d "corpus/$target" ] || node seed.mjs
mkdir -p logs
log="logs/$target-$(date +%Y%m%d-%H%M%S).log"
# -s none: the crate's native code has no unsafe of its own (the SIMD scan is
# wasm-only), and without AddressSanitizer the runs are about twice as fast.
cargo +nightly fuzz build -s none "$target" >/dev/null 2>&1 || cargo +nightly fuzz build -s none "$target"
start=$(date +%s)
set +e
# One process, its log straight to a file of its own: targets can run side
# by side (one per core).
cargo +nightly fuzz run -s none "$target" -- -max_total_time="$seconds" \
  -rss_limit_mb=4096 -timeout=20 -print_final_stats=1 "$@" >"$log" 2>&1
set -e
elapsed=$(( $(date +%s) - start ))
last_new=$(grep -E "^#[0-9]+\s+NEW " "$log" | tail -1 || true)
echo "target:    $target ($elapsed s wall, log $log)"
echo "final:     $(grep -E "^#[0-9]+\s+(DONE|pulse)" "$log" | tail -1)"
echo "last NEW:  ${last_new:-none}"
grep -E "^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)" "$log" || true
if grep -q "panicked\|ERROR: libFuzzer\|SUMMARY" "$log"; then
  echo "CRASH: $(grep -m1 -E 'panicked|ERROR: libFuzzer' "$log")"
  grep -E "Test unit written" "$log" || true
fi
