#!/usr/bin/env bash
# bench_group_commit.sh - durable acknowledged sends per second with group commit (the default)
# against one transaction per message (--max-batch 1), on this machine, medians of RUNS runs.
# Usage: tools/bench_group_commit.sh [BUILD_DIR] [RUNS]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
runs=${2:-3}
work=$(mktemp -d /tmp/gc-bench-commit.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"

# Waits (bounded) for a READY line in file $1 and prints its first endpoint.
ready() {
    for _ in $(seq 100); do
        if grep -q '^READY ' "$1"; then awk '/^READY /{print $2; exit}' "$1"; return 0; fi
        sleep 0.1
    done
    echo "no READY in $1" >&2; return 1
}

one_run() {   # $1 = --max-batch
    "$build/src/groupcast-server" --bind 'tcp://127.0.0.1:0' > server.out 2>/dev/null &
    local server=$!
    local ep; ep=$(ready server.out)
    rm -rf data
    "$build/src/groupcast-group" --name loadgen --server "$ep" --data data --max-batch "$1" \
        > group.out 2>/dev/null &
    local group=$!
    ready group.out > /dev/null
    "$build/tools/groupcast-loadgen" --server "$ep" --senders 4 --listeners 0 --window 100 \
        --duration 5s --json 2>/dev/null | tail -1
    kill "$group" "$server"; wait "$group" "$server" 2>/dev/null || true
    rm -f server.out group.out
}

for batch in 4096 1; do
    for _ in $(seq "$runs"); do one_run "$batch"; done |
        python3 -c '
import json, statistics, sys
runs = [json.loads(line) for line in sys.stdin if line.strip()]
acked = statistics.median(r["acked_per_s"] for r in runs)
p50 = statistics.median(r["ack_latency_us"]["p50"] for r in runs) / 1000
p99 = statistics.median(r["ack_latency_us"]["p99"] for r in runs) / 1000
lost = sum(r["lost"] for r in runs)
print(f"max-batch '"$batch"': {acked:,.0f} acked msgs/s, send->ack p50 {p50:.1f} ms, p99 {p99:.1f} ms, lost {lost}")'
done
