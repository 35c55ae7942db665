#!/usr/bin/env bash
# Builds pkg/, the npm package: the release wasm module (wasm-pack, target
# web) optimised by wasm-opt, plus the entry modules and package.json from
# js/. Assumes the tools are installed (scripts/setup.sh and `npm ci`).
set -euo pipefail
cd "$(dirname "$0")/.."

# From scratch: wasm-pack leaves files of earlier builds in pkg/ (a JS
# snippet since removed would still be packed).
rm -rf pkg
# Two modules from one crate: the main one (weave-usage, weave-usage/init),
# and the same with the stats exports (the `stats` feature), for
# weave-usage/stats. Without the feature those exports throw and LTO drops
# their code, which keeps the main module under its budget (150 KB gzipped,
# checked by scripts/size.sh).
wasm-pack --quiet build --target web --release --out-dir pkg --out-name weave_usage --no-pack
wasm-pack --quiet build --target web --release --out-dir pkg --out-name weave_usage_stats --no-pack --features stats

wasm_opt=node_modules/.bin/wasm-opt
# wasm-opt comes from npm's binaryen (pinned in package.json): wasm-pack's own
# step is off (Cargo.toml) because it downloads binaryen, and Debian's v108
# breaks wasm-bindgen's externref table. -O3: speed first; size has room.
if [ ! -x "$wasm_opt" ]; then
  echo "build: $wasm_opt is missing: run npm ci first" >&2
  exit 1
fi
# The producers and target_features sections are for tools, not engines:
# dropped (they are read first: wasm-opt still sees the SIMD feature).
# In the main module, -ocimfs: a function with one caller is inlined only
# if small, so that what src/calls/read.rs marks #[inline(never)] stays out
# of the reader's hottest functions: the engine optimises each of those in
# the background, and the bigger one is, the longer a first call runs
# unoptimised code. The stats module's own computation ran slower so
# (docs/performance.md, 2026-11-27, seventh session).
for wasm in pkg/weave_usage_bg.wasm pkg/weave_usage_stats_bg.wasm; do
  inlining=()
  if [ "$wasm" = pkg/weave_usage_bg.wasm ]; then inlining=(-ocimfs 300); fi
  "$wasm_opt" -O3 "${inlining[@]}" --strip-producers --strip-target-features "$wasm" -o "$wasm.opt"
  mv "$wasm.opt" "$wasm"
done

node js/package.mjs
# The repo's tests and tools import the built package by name, as users do.
mkdir -p node_modules
ln -sfn ../pkg node_modules/weave-usage
scripts/size.sh
