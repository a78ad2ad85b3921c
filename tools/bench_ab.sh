#!/usr/bin/env bash
# bench_ab.sh - before/after on one machine: runs the same groupcast-loadgen figures with two
# builds (each loadgen uses the binaries of its own build tree), alternating A, B, A, B ... so
# that the machine's load falls on both alike, and prints one line per run.
#
#   tools/bench_ab.sh BEFORE_BUILD AFTER_BUILD [REPEATS]     default 3 repeats
#
# Take the median of each side's lines. About 4 minutes with 3 repeats.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: tools/bench_ab.sh BEFORE_BUILD AFTER_BUILD [REPEATS]" >&2; exit 2; }
before="$1/tools/groupcast-loadgen"
after="$2/tools/groupcast-loadgen"
repeats=${3:-3}
for bin in "$before" "$after"; do
    [ -x "$bin" ] || { echo "bench_ab.sh: no $bin; build first" >&2; exit 2; }
done
configs=("--senders 1 --listeners 10 --window 1000 --duration 5s"
         "--senders 1 --listeners 50 --window 1000 --duration 5s"
         "--senders 4 --listeners 0 --window 1000 --duration 5s"
         "--senders 1 --listeners 10 --rate 10000 --duration 5s")
for config in "${configs[@]}"; do
    for ((rep = 1; rep <= repeats; rep++)); do
        for side in before after; do
            bin=$before
            [ "$side" = after ] && bin=$after
            # shellcheck disable=SC2086 # the config is a list of options
            out=$("$bin" $config --quiet 2>&1) || echo "bench_ab.sh: $side run failed" >&2
            echo "$out" | awk -v c="$config" -v s="$side" '
                /acknowledged/              { acked = $4 }
                /delivered/ && /msgs\/s/    { delivered = $4 }
                /send -> delivery/          { latency = $4 "/" $6 " us" }
                /load average/              { load = $5 }
                END { printf "%s | %-6s | acked %s/s | delivered %s/s | delivery p50/p99 %s | load %s\n",
                             c, s, acked, delivered, latency, load }'
        done
    done
done
