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
ceiling_bin=$(mktemp /tmp/tcp-read-ceiling.XXXXXX)
ceiling_log=$(mktemp /tmp/tcp-read-ceiling-log.XXXXXX)
trap 'rm -f "$ceiling_bin" "$ceiling_log"' EXIT
cc -O2 -Wall -o "$ceiling_bin" scripts/tcp-read-ceiling.c -lisal
ceiling() {  # three samples with data crcs, three without
  for _ in 1 2 3; do
    "$ceiling_bin" --seconds 8 --crc >>"$ceiling_log"
    "$ceiling_bin" --seconds 8 >>"$ceiling_log"
  done
}
echo "TCP ceiling for 4 MiB random reads (before)" >&2
ceiling
scripts/ceph-reference/run-all.sh --only pool --also scripts/loligo-side.sh --out "$out" "$@"
echo "TCP ceiling for 4 MiB random reads (after)" >&2
ceiling
{ echo "# Pools side by side with Ceph 16.2"; echo
  echo "Command: \`scripts/pool-benchmark.sh $*\`. Summary JSON: \`$out\`."; echo
  /usr/bin/python3 scripts/ceph-reference/summarize.py --merge "$out"
  /usr/bin/python3 - "$ceiling_log" "$out" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
summary = json.load(open(sys.argv[2]))
def median(crc):
    values = [r["MBps"] for r in runs if r["crc"] == crc]
    return statistics.median(values), min(values), max(values)
print("\n## This machine's TCP ceiling for 4 MiB random reads\n")
print("`scripts/tcp-read-ceiling.c`: 3 sender processes hold 256 objects of 4 MiB each in RAM and")
print("answer 16 outstanding requests with whole random objects, written straight from memory;")
print("one receiver reads them (and with crc, checksums them with ISA-L crc32c). No storage")
print("system, no messenger: what the kernel's loopback TCP and these two cores allow. Six")
print("samples each, before and after the benchmark.\n")
print("| receiver | median MB/s | min | max |\n|---|---|---|---|")
for crc, label in ((False, "recv only"), (True, "recv + crc32c")):
    m, lo, hi = median(crc)
    print(f"| {label} | {m:.0f} | {lo:.0f} | {hi:.0f} |")
ceiling = median(True)[0]
rand = {}
for result in summary.get("results", []):
    shape = result.get("shape", {})
    if shape.get("block_size") == 4 << 20 and shape.get("mode") == "rand" and result.get("median"):
        rand[(result.get("system"), shape.get("pool_size"))] = result["median"]["bandwidth_MBps"]
print()
for size in (1, 3):
    ceph, loligo = rand.get(("ceph", size)), rand.get(("loligo", size))
    if ceph is None or loligo is None:
        continue
    print(f"- 4 MiB rand, size {size}: Ceph {ceph:.0f} MB/s ({ceph / ceiling:.0%} of the ceiling"
          f" with crc), Loligo {loligo:.0f} MB/s ({loligo / ceiling:.0%}); 1.5x Ceph would be"
          f" {1.5 * ceph:.0f} MB/s, {1.5 * ceph / ceiling:.2f}x the ceiling.")
PY
} > "${out%.json}.md"
echo "saved ${out%.json}.md" >&2
