#!/usr/bin/env bash
# benchmarks.sh - runs every figure of docs/benchmarks.md with groupcast-loadgen (3 runs each,
# medians) and keeps each summary in OUT/<figure>.txt.
#
#   tools/benchmarks.sh [BUILD_DIR [OUT_DIR]]     defaults: build, bench-<date>
#
# Takes about 20 minutes on 2 cores. Run it on an otherwise idle machine: every summary ends
# with the load average at the start of each run, and figures taken under load are not
# comparable. The data lives under $TMPDIR (default /tmp), which must be on a real disk for the
# synchronous=FULL figures to mean anything (not tmpfs).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-bench-$(date +%Y%m%d-%H%M%S)}
loadgen="$build/tools/groupcast-loadgen"
[ -x "$loadgen" ] || { echo "benchmarks.sh: no $loadgen; build first" >&2; exit 2; }
mkdir -p "$out"

run () {
    local name=$1
    shift
    echo "== $name: groupcast-loadgen $*" | tee "$out/$name.txt"
    if ! "$loadgen" --quiet --repeat 3 "$@" | tee -a "$out/$name.txt"; then
        echo "== $name FAILED: see above" | tee -a "$out/$name.txt"
        failed=$((failed + 1))
    fi
}
failed=0

{ date -u; uname -srm; nproc; grep -m1 'model name' /proc/cpuinfo || true; } > "$out/machine.txt"

# Fan-out: 1 sender, 1 / 10 / 50 listeners, ratio to bare PUB/SUB in the same run; with 1,000
# and with 10,000 sends in flight (bare PUB/SUB has no acknowledgements to wait for).
for window in 1000 10000; do
    for listeners in 1 10 50; do
        run "fanout-$listeners-w$window" --senders 1 --listeners "$listeners" --window "$window" \
            --duration 5s --baseline
    done
done
# Acknowledged sends per group, durable (synchronous=FULL), group commit.
run acked-w100 --senders 4 --listeners 0 --window 100 --duration 5s --baseline
run acked-w1000 --senders 4 --listeners 0 --window 1000 --duration 5s --baseline
run acked-1-sender --senders 1 --listeners 0 --window 1000 --duration 5s --baseline
run acked-10k --senders 4 --listeners 0 --rate 10000 --duration 5s
# Send -> delivery latency with 10 listeners.
run latency-1k --senders 1 --listeners 10 --rate 1000 --duration 5s
run latency-10k --senders 1 --listeners 10 --rate 10000 --duration 5s \
    --plot "$out/latency-10k.png"
# Scale: one group with 1,000 members listening; 100 groups on one host.
run members-1000 --senders 1 --listeners 1000 --rate 100 --duration 5s
run groups-100 --groups 100 --spread --senders 4 --listeners 100 --window 1000 --duration 5s
# History: 1,000,000 messages read back page by page.
run history-1m --senders 4 --listeners 0 --window 1000 --count 1000000 --history --page 1000
echo "benchmarks.sh: results in $out ($failed figures failed)"
[ "$failed" -eq 0 ]
