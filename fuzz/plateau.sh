#!/usr/bin/env bash
# Coverage over time in a libFuzzer log (fuzz/logs/*.log): edges (cov) and
# features (ft) at doubling execution counts, and when each last grew.
#   fuzz/plateau.sh fuzz/logs/stream-….log
set -euo pipefail
grep -E "^#[0-9]+\s+(NEW|REDUCE|pulse|DONE|INITED)" "$1" | awk '
  { n = substr($1, 2) + 0
    for (i = 1; i <= NF; i++) { if ($i == "cov:") c = $(i + 1) + 0; if ($i == "ft:") f = $(i + 1) + 0; if ($i == "exec/s:") s = $(i + 1) + 0 }
    if (c > lc) { lc = c; cn = n } if (f > lf) { lf = f; fn = n }
    if (n >= mark || $2 == "DONE") { printf "%12d execs  cov %5d  ft %6d\n", n, c, f; while (mark <= n) mark = mark ? mark * 2 : 1024 }
    last = n }
  END { printf "edges last grew at %d execs (%.0f%% of the run), features at %d (%.0f%%); %d exec/s at the end\n", cn, 100 * cn / last, fn, 100 * fn / last, s }'
