#!/usr/bin/env bash
# Runs every test, after installing what is missing (scripts/setup.sh):
#   0. style: cargo fmt --check (rustfmt.toml), clippy with -D warnings
#      (the lint list is at the top of src/lib.rs) natively and for wasm32,
#      and cargo doc with no warnings, for both too, each without and with
#      the `stats` feature (the two wasm modules)
#   1. native: cargo test (core unit tests, reference fixtures, property tests
#      against a naive oracle, pydantic/CPython differential corpus, and every
#      input a fuzzer ever crashed on through the fuzz targets' checks; the
#      fuzzers themselves are not run here, see fuzz/README.md)
#   2. build pkg/ (both release wasm modules, wasm-opt) and check the main
#      module's size budget (scripts/size.sh: 150 KB gzipped, else it fails)
#   3. wasm-bindgen-test in headless Chromium, headless Firefox, then Node,
#      then Node again with the `stats` feature (the stats module's tests)
#   4. JS: node --test on the built package, imported by name: API, fixtures,
#      accumulator, hostile inputs (1M-deep chains, 1M+ calls, 100 MiB
#      strings…), state and leaks (wasm memory flat over 1,000 calls),
#      memory bounds (inputs and answers past what 4 GiB or one JS string
#      hold: 413/500, never a trap; ~1 min, ~3.5 GB), two worker threads;
#      and the benchmark's plain-JS byte scanner against the fixtures
#   5. TypeScript: tsc --strict on code using the package's types
#   6. package and browsers: the dashboard's modules (node --test), then with
#      playwright-core driving Debian's Chromium: the www/ dashboard used as a
#      person would, the browser entry as plain ESM and bundled by Vite, two
#      Web Workers using the package at once, and `npm pack` (the tarball
#      installed and used from Node, TypeScript and a Vite dev server);
#      then the page tests (dashboard, plain ESM and Vite, a streamed fetch
#      body, workers, the stack boundary) in Debian's firefox-esr
#   7. environments: the packed tarball installed into fresh projects
#      (tests/env/projects/, npm dependencies pinned and cached in
#      ~/.cache/weave-usage/env/ until their package.json changes): Node
#      20.0, 20.18, 22, 26 and this one (import and require), Deno, Bun
#      (each runtime also a weave-usage/parallel pool over bytes and a Blob),
#      Jest, Vitest, tsc in every module resolution, attw, publint, Vite,
#      webpack, esbuild, Rollup and bun build bundles in Chromium, Next.js 16 built with
#      Turbopack and with webpack and served (~3 min; ~2 more to install)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh --browser

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
step() { echo; echo "==== $*"; }

# Checks that a wasm-bindgen-test run really ran tests/wasm.rs (the runner
# skips suites silently, exit 0, when it thinks they are for another
# environment) and prints its count.
ran_wasm_tests() {
  grep -q "$2" "$1" || { echo "test.sh: wasm tests did not run in $3" >&2; exit 1; }
  grep -qE "^test result: ok\. [1-9][0-9]* passed" "$1" || { echo "test.sh: no wasm test passed in $3" >&2; exit 1; }
  grep -E "^test result:" "$1" | awk -v env="$3" '{p+=$4; f+=$6} END {print env ": " p " passed, " f " failed"}'
}

step "0/7 style: rustfmt, clippy and rustdoc, native and wasm32"
cargo fmt --check
(cd fuzz && cargo fmt --check)
for target in "" "--target wasm32-unknown-unknown"; do
  for features in "" "--features stats"; do
    # shellcheck disable=SC2086 # $target and $features are a flag and its value, or nothing
    cargo clippy --all-targets $target $features -- -D warnings
    # shellcheck disable=SC2086
    RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --document-private-items $target $features
  done
done
echo "style: formatted, no clippy or rustdoc warnings"

step "1/7 native: cargo test"
cargo test 2>&1 | tee "$log/native"
native=$(grep -E "^test result:" "$log/native" | awk '{p+=$4; f+=$6} END {print p " passed, " f " failed"}')
fuzz=$(for d in tests/fixtures/fuzz-regressions/*/; do printf '%s %s, ' "$(find "$d" -type f ! -name '.*' | wc -l)" "$(basename "$d")"; done)

step "2/7 build pkg/"
# build.sh ends with scripts/size.sh, which fails over the size budget.
scripts/build.sh

step "3/7 wasm-bindgen-test: headless Chromium, Firefox, then Node"
WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=$(command -v chromedriver) wasm-pack test --headless --chrome 2>&1 | tee "$log/chrome"
chrome=$(ran_wasm_tests "$log/chrome" "Running headless tests in Chrome" chromium)
WASM_BINDGEN_USE_BROWSER=1 GECKODRIVER=$(command -v geckodriver) wasm-pack test --headless --firefox 2>&1 | tee "$log/firefox"
firefox=$(ran_wasm_tests "$log/firefox" "Running headless tests in Firefox" firefox)
wasm-pack test --node 2>&1 | tee "$log/node"
node_wasm=$(ran_wasm_tests "$log/node" "running [1-9][0-9]* tests" node)
wasm-pack test --node -- --features stats 2>&1 | tee "$log/node-stats"
node_stats=$(ran_wasm_tests "$log/node-stats" "running [1-9][0-9]* tests" "node (stats)")

step "4/7 JS: node --test against the built package"
node --test tests/js/ 2>&1 | tee "$log/js"
js=$(grep -E "^# (pass|fail) " "$log/js" | tr '\n' ' ')
# The benchmark's plain-JS peer must give the reference's answers too.
node bench/scanner-check.mjs

step "5/7 TypeScript: tsc --strict tests/types (no DOM, DOM, esnext)"
for config in tsconfig.json tsconfig.dom.json tsconfig.esnext.json; do
  npx --no-install tsc -p "tests/types/$config"
done
echo "tsc: the API type-checks and every @ts-expect-error misuse is refused"

step "6/7 package and browsers: dashboard, plain ESM, Vite, npm pack (Chromium via playwright-core), then the page tests in Firefox"
node --test tests/www/ tests/e2e/ 2>&1 | tee "$log/e2e"
e2e=$(grep -E "^# (pass|fail) " "$log/e2e" | tr '\n' ' ')
echo "screenshots: tests/e2e/out/"
# The page tests again in Firefox (firefox-esr through puppeteer-core and
# WebDriver BiDi): the same files, BROWSER=firefox in tests/e2e/helpers.mjs.
BROWSER=firefox node --test tests/e2e/browser-entries.test.mjs tests/e2e/stream.test.mjs tests/e2e/workers.test.mjs tests/e2e/parallel.test.mjs tests/e2e/boundary.test.mjs tests/e2e/dashboard.test.mjs 2>&1 | tee "$log/e2e-firefox"
e2e_firefox=$(grep -E "^# (pass|fail|skipped|todo) " "$log/e2e-firefox" | tr '\n' ' ')

step "7/7 environments: the npm tarball in Node 20.0-26, Deno, Bun, Jest, Vitest, tsc, attw, publint, Vite, webpack, esbuild, Rollup, Next.js, workerd"
started=$SECONDS
node --test tests/env/environments.test.mjs 2>&1 | tee "$log/env"
envs="$(grep -E "^# (pass|fail) " "$log/env" | tr '\n' ' ')($((SECONDS - started)) s)"

echo
echo "==== summary"
echo "native cargo test:        $native"
echo "fuzz regressions:         ${fuzz%, } (replayed by cargo test)"
echo "wasm-bindgen-test:        $chrome; $firefox; $node_wasm; $node_stats"
echo "node --test (package):    $js"
echo "style:                    rustfmt, clippy -D warnings, rustdoc (native, wasm32; without and with stats)"
echo "module sizes:             $(scripts/size.sh | grep -E '^build:' | sed 's/^build: pkg\///' | tr '\n' ';' | sed 's/;$//; s/;/; /g')"
echo "tsc --strict:             ok"
echo "package + browsers:       $e2e"
echo "page tests in Firefox:    $e2e_firefox"
echo "environments:             $envs"
