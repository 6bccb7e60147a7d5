#!/usr/bin/env bash
# perf-msgr over the RDMA transport on soft-verbs vs over TCP, on 127.0.0.1 (issue 7).
# Soft-verbs emulates the verbs between processes (payload crosses a Unix socket), so these
# figures measure the transport's own CPU cost per message, not an RDMA network; real-device
# figures need real hardware (README: "RDMA").
#   4 KiB: 2 jobs x 32 in flight;  1 MiB: 1 job x 8 in flight (above the zero-copy threshold,
#   so RDMA moves each payload with one RDMA READ)
# Reports msgs/s, MiB/s and CPU time per message (client and server processes), medians of
# interleaved rounds, in Results/benchmarks/rdma-<UTC>.md.
# Usage: scripts/rdma-benchmark.sh [rounds] [extra perf-msgr options for the rdma runs...]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shift || true
rdma_extra=("$@")
swift build -c release >/dev/null
bin=$(swift build -c release --show-bin-path)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
work=$(mktemp -d)
raw="$work/raw.tsv"
pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

run() {  # label transport numjobs concurrency ios length
  local label=$1 transport=$2; shift 2
  local opts=(--ms-type tcp)
  [ "$transport" = rdma ] && opts=(--ms-type rdma --rdma-device soft "${rdma_extra[@]}")
  local port; port=$(free_port)
  "$bin/perf-msgr-server" "127.0.0.1:$port" 1 0 "${opts[@]}" 2>"$work/server.log" &
  local srv=$!; pids+=("$srv")
  for _ in $(seq 100); do grep -q "listening on" "$work/server.log" 2>/dev/null && break; sleep 0.05; done
  local before; before=$(cpu_ticks "$srv")
  "$bin/perf-msgr-client" "127.0.0.1:$port" "$1" "$2" "$3" 0 "$4" --quiet --json "$work/$label.json" "${opts[@]}" >/dev/null
  local after; after=$(cpu_ticks "$srv")
  kill "$srv" 2>/dev/null || true; wait "$srv" 2>/dev/null || true
  python3 - "$work/$label.json" "$label" "$(( after - before ))" "$hz" >>"$raw" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); r = d["result"]
n = r["replies_received"]
server_cpu_us = int(sys.argv[3]) / int(sys.argv[4]) * 1e6
print(f'{sys.argv[2]}\t{r["msgs_per_s"]:.1f}\t{r["mib_per_s"]:.2f}\t{r["latency"]["p50_us"]:.1f}'
      f'\t{r["client_cpu_us_per_msg"]:.2f}\t{server_cpu_us / n:.2f}')
PY
}

for round in $(seq "$rounds"); do
  echo "round $round/$rounds" >&2
  run tcp-4k tcp 2 32 50000 4096
  run rdma-4k rdma 2 32 50000 4096
  run tcp-1m tcp 1 8 2000 1048576
  run rdma-1m rdma 1 8 2000 1048576
done

mkdir -p Results/benchmarks
out="Results/benchmarks/rdma-$stamp.md"
python3 - "$raw" "$rounds" "$stamp" "$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" "${rdma_extra[*]:-}" >"$out" <<'PY'
import statistics, sys, collections, os
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, *vals = line.rstrip("\n").split("\t")
    rows[label].append([float(v) for v in vals])
med = lambda label, i: statistics.median(r[i] for r in rows[label])
cpu = open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(": \t")
extra = f" with `{sys.argv[5]}` for the rdma runs" if sys.argv[5] else ""
print(f"# RDMA transport benchmark {sys.argv[3]}\n")
print(f"Commit {sys.argv[4]}, {os.cpu_count()} CPUs ({cpu}), {sys.argv[2]} interleaved rounds, medians. "
      f"Command: `scripts/rdma-benchmark.sh {sys.argv[2]}`{extra}.\n")
print("perf-msgr-server (1 worker) and perf-msgr-client on 127.0.0.1. `rdma` is the RDMA transport on "
      "soft-verbs: the verbs emulated between the two processes (payload crosses a Unix socket, "
      "completions come from the emulated NIC thread), so it measures the transport's own CPU "
      "cost, not an RDMA network. Real-device figures need real hardware.\n")
print("| run | transport | msgs/s | MiB/s | p50 latency us | client CPU us/msg | server CPU us/msg |")
print("|---|---|---|---|---|---|---|")
for label, run, transport in [("tcp-4k", "4 KiB, 2 jobs x 32", "tcp"), ("rdma-4k", "4 KiB, 2 jobs x 32", "rdma (soft)"),
                              ("tcp-1m", "1 MiB, 1 job x 8", "tcp"), ("rdma-1m", "1 MiB, 1 job x 8", "rdma (soft)")]:
    print(f"| {run} | {transport} | {med(label, 0):.0f} | {med(label, 1):.1f} | {med(label, 2):.0f} | "
          f"{med(label, 3):.2f} | {med(label, 4):.2f} |")
print("\nPer-round msgs/s:\n")
for label in ["tcp-4k", "rdma-4k", "tcp-1m", "rdma-1m"]:
    print(f"- {label}: " + ", ".join(f"{r[0]:.0f}" for r in rows[label]))
PY
cat "$out"
echo "saved $out" >&2
