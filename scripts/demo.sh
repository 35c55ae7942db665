#!/usr/bin/env bash
# The main job on the bundled sample: installs what is missing, builds the
# package, prints per-root, per-model usage for www/sample/traces.jsonl, then
# serves the dashboard (www/, with the sample loaded) on localhost until
# Ctrl-C. Options go to the server: --port N (default 8321), --host H.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh
scripts/build.sh
node tools/usage-table.mjs
exec node tools/serve.mjs "$@"
