#!/usr/bin/env bash
# Prints the size of both wasm modules in pkg/ (raw, and gzip -9 as a CDN
# serves them) and fails if the main one (weave-usage, weave-usage/init) is
# over its budget: 150 KB gzipped (150,000 bytes), which users asked for.
# weave-usage/stats has no budget: only those who import it load it.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=150000
for wasm in pkg/weave_usage_bg.wasm pkg/weave_usage_stats_bg.wasm; do
  if [ ! -f "$wasm" ]; then
    echo "size: $wasm is missing: run scripts/build.sh" >&2
    exit 1
  fi
  raw=$(wc -c < "$wasm")
  gz=$(gzip -9 -c "$wasm" | wc -c)
  echo "build: $wasm is $raw bytes ($gz gzipped)"
done
core=$(gzip -9 -c pkg/weave_usage_bg.wasm | wc -c)
if [ "$core" -gt "$budget" ]; then
  echo "size: pkg/weave_usage_bg.wasm is $core bytes gzipped, over the budget of $budget: move code behind a feature (as stats is) or make it smaller" >&2
  exit 1
fi
echo "size: the main module is within its budget ($core of $budget bytes gzipped)"
