#!/usr/bin/env bash
# Pool benchmarks side by side with Ceph 16.2 on this machine: 1 monitor + 3 memstore OSDs,
# rados bench (Ceph) and loligo bench (Loligo) with the same arguments: 4 KiB and 4 MiB write,
# seq and rand, pool size 1 and 3, 16 in flight, in one run (Ceph first, then Loligo). Writes
# Results/benchmarks/pools-<UTC>.json and .md with the Loligo/Ceph ratios.
#   scripts/pool-benchmark.sh [--rounds R] [--quick] [--bench-seconds S]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ceph-reference/setup.sh
swift build -c release >/dev/null
export LOLIGO_BIN=$(swift build -c release --show-bin-path)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p Results/benchmarks
out="Results/benchmarks/pools-$stamp.json"
scripts/ceph-reference/run-all.sh --only pool --also scripts/loligo-side.sh --out "$out" "$@"
{ echo "# Pools side by side with Ceph 16.2"; echo
  echo "Command: \`scripts/pool-benchmark.sh $*\`. Summary JSON: \`$out\`."; echo
  /usr/bin/python3 scripts/ceph-reference/summarize.py --merge "$out"; } > "${out%.json}.md"
echo "saved ${out%.json}.md" >&2
