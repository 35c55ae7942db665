#!/usr/bin/env bash
# Runs every test, after installing what is missing (scripts/setup.sh):
#   1. native: cargo test (core unit tests, reference fixtures, property tests
#      against a naive oracle, pydantic/CPython differential corpus)
#   2. build pkg/ (release wasm, wasm-opt)
#   3. wasm-bindgen-test in headless Chromium, then in Node
#   4. JS: node --test on the built package, imported by name
#   5. TypeScript: tsc --strict on code using the package's types
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
  grep -E "^test result: ok\. [1-9][0-9]* passed" "$1" | head -1 | sed "s/^/$3: /"
}

step "1/5 native: cargo test"
cargo test 2>&1 | tee "$log/native"
native=$(grep -E "^test result:" "$log/native" | awk '{p+=$4; f+=$6} END {print p " passed, " f " failed"}')

step "2/5 build pkg/"
scripts/build.sh

step "3/5 wasm-bindgen-test: headless Chromium, then Node"
WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=$(command -v chromedriver) wasm-pack test --headless --chrome 2>&1 | tee "$log/chrome"
chrome=$(ran_wasm_tests "$log/chrome" "Running headless tests in Chrome" chromium)
wasm-pack test --node 2>&1 | tee "$log/node"
node_wasm=$(ran_wasm_tests "$log/node" "running [1-9][0-9]* tests" node)

step "4/5 JS: node --test against the built package"
node --test tests/js/ 2>&1 | tee "$log/js"
js=$(grep -E "^# (pass|fail) " "$log/js" | tr '\n' ' ')

step "5/5 TypeScript: tsc --strict tests/types"
npx --no-install tsc -p tests/types
echo "tsc: the API type-checks and every @ts-expect-error misuse is refused"

echo
echo "==== summary"
echo "native cargo test:        $native"
echo "wasm-bindgen-test:        $chrome; $node_wasm"
echo "node --test (package):    $js"
echo "tsc --strict:             ok"
