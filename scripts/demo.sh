#!/usr/bin/env bash
# The main job on the bundled sample: installs what is missing, builds the
# package, then prints per-root, per-model usage and cost for
# www/sample/traces.jsonl (or the export given as the first argument).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh
scripts/build.sh
node tools/usage-table.mjs "$@"
