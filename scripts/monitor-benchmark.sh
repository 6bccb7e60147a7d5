#!/usr/bin/env bash
# Monitors side by side with Ceph 16.2 on this machine: committed config-key sets per second
# and latency, 1 and 8 clients, 1 and 3 monitors, in one run (Ceph first, then Loligo, same
# shapes and rounds). Writes Results/benchmarks/monitors-<UTC>.json and prints the table with
# the Loligo/Ceph ratios.
#   scripts/monitor-benchmark.sh [--rounds R] [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ceph-reference/setup.sh
swift build -c release >/dev/null
export LOLIGO_BIN=$(swift build -c release --show-bin-path)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p Results/benchmarks
exec scripts/ceph-reference/run-all.sh --only mon --also scripts/loligo-side.sh \
  --out "Results/benchmarks/monitors-$stamp.json" "$@"
