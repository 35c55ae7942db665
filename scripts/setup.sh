#!/usr/bin/env bash
# Installs what building (and, with --browser, testing) needs on a fresh
# machine, skipping whatever is already there at the right version:
# the wasm32 target, wasm-pack, the wasm-bindgen-cli matching Cargo.toml's
# pinned wasm-bindgen, the npm dev dependencies (binaryen's wasm-opt,
# TypeScript) and, with --browser, Debian's chromium, chromium-driver and
# firefox-esr, and geckodriver from crates.io.
set -euo pipefail
cd "$(dirname "$0")/.."

browser=false
[ "${1:-}" = "--browser" ] && browser=true

say() { echo "setup: $*"; }
export PATH="$HOME/.cargo/bin:$PATH"

command -v cargo >/dev/null || { say "cargo is missing: install Rust with rustup first"; exit 1; }
command -v node >/dev/null || { say "node (20+) is missing"; exit 1; }
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { say "node 20+ is needed, found $(node --version)"; exit 1; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

WASM_PACK_VERSION=0.15.1
if ! wasm-pack --version 2>/dev/null | grep -qF "$WASM_PACK_VERSION"; then
  say "installing wasm-pack $WASM_PACK_VERSION (about 2 minutes)"
  cargo install wasm-pack --version "$WASM_PACK_VERSION" --locked
fi

# wasm-pack cannot download wasm-bindgen here; it uses the one on PATH if its
# version is exactly the crate's.
bindgen=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
if ! wasm-bindgen --version 2>/dev/null | grep -qF " $bindgen"; then
  say "installing wasm-bindgen-cli $bindgen"
  # Its lockfile pins a crate version the registry may no longer serve; then
  # resolve afresh (same wasm-bindgen-cli version, newer compatible deps).
  cargo install wasm-bindgen-cli --version "$bindgen" --locked \
    || cargo install wasm-bindgen-cli --version "$bindgen"
fi

if $browser && ! { command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v firefox-esr >/dev/null; }; then
  say "installing chromium, chromium-driver and firefox-esr"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver firefox-esr >/dev/null
fi

# Firefox's WebDriver for wasm-bindgen-test (Debian has no package of it).
GECKODRIVER_VERSION=0.37.1
if $browser && ! geckodriver --version 2>/dev/null | grep -qF "geckodriver $GECKODRIVER_VERSION"; then
  say "installing geckodriver $GECKODRIVER_VERSION (about 2 minutes)"
  cargo install geckodriver --version "$GECKODRIVER_VERSION" --locked
fi

# npm ci only when the lockfile changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.setup-lock; then
  say "installing npm dev dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.setup-lock
fi
say "ready"
