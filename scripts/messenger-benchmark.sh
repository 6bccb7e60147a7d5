#!/usr/bin/env bash
# Side-by-side messenger benchmark on 127.0.0.1 (issue: the messenger's performance targets).
# Interleaves Loligo's perf-msgr pair with kernel-TCP reference tools in one run, several rounds,
# and reports medians:
#   (a) 4 KiB ping-pong (1 job, 1 in flight): round trips/s vs sockperf ping-pong (target >= 0.6x)
#   (b) 1 MiB messages, 1 job, 8 in flight: bandwidth vs iperf3 single stream (target >= 0.7x)
#   (c) 4 KiB, 2 jobs x 32 in flight: messages/s and CPU time per message (client + server)
# Usage: scripts/messenger-benchmark.sh [rounds]   (needs sockperf and iperf3: setup.sh --bench)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
command -v sockperf >/dev/null && command -v iperf3 >/dev/null || {
  echo "messenger-benchmark: needs sockperf and iperf3 (scripts/setup.sh --bench)" >&2; exit 1; }
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

start_server() {  # workers -> sets srv_pid, srv_port
  srv_port=$(free_port)
  "$bin/perf-msgr-server" "127.0.0.1:$srv_port" "$1" 0 2>"$work/server.log" &
  srv_pid=$!; pids+=("$srv_pid")
  for _ in $(seq 100); do grep -q "listening on" "$work/server.log" 2>/dev/null && return; sleep 0.05; done
  echo "server did not start" >&2; exit 1
}
stop_server() { kill "$srv_pid" 2>/dev/null || true; wait "$srv_pid" 2>/dev/null || true; }

msgr_run() {  # label workers numjobs concurrency ios length
  local label=$1 workers=$2; shift 2
  start_server "$workers"
  local before; before=$(cpu_ticks "$srv_pid")
  "$bin/perf-msgr-client" "127.0.0.1:$srv_port" "$1" "$2" "$3" 0 "$4" --quiet --json "$work/$label.json" >/dev/null
  local after; after=$(cpu_ticks "$srv_pid")
  stop_server
  python3 - "$work/$label.json" "$label" "$(( after - before ))" "$hz" >>"$raw" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); r = d["result"]
server_cpu_us = int(sys.argv[3]) / int(sys.argv[4]) * 1e6
n = r["replies_received"]
print(f'{sys.argv[2]}\t{r["msgs_per_s"]:.1f}\t{r["mib_per_s"]:.2f}\t{r["latency"]["p50_us"]:.1f}'
      f'\t{r["client_cpu_us_per_msg"]:.2f}\t{server_cpu_us / n:.2f}')
PY
}

sockperf_run() {
  local port; port=$(free_port)
  sockperf server -i 127.0.0.1 -p "$port" --tcp >/dev/null 2>&1 & local sp=$!; pids+=("$sp")
  sleep 0.3
  local line; line=$(sockperf ping-pong -i 127.0.0.1 -p "$port" --tcp -m 4096 -t 4 2>&1 | grep "Total Run" | tail -1)
  kill "$sp" 2>/dev/null || true; wait "$sp" 2>/dev/null || true
  python3 - "$line" >>"$raw" <<'PY'
import re, sys
m = re.search(r"RunTime=([\d.]+) sec.*ReceivedMessages=(\d+)", sys.argv[1])
print(f"sockperf\t{int(m.group(2)) / float(m.group(1)):.1f}\t0\t0\t0\t0")
PY
}

iperf_run() {
  local port; port=$(free_port)
  iperf3 -s -1 -p "$port" >/dev/null 2>&1 & local ip=$!; pids+=("$ip")
  sleep 0.3
  iperf3 -c 127.0.0.1 -p "$port" -t 4 -J >"$work/iperf.json"
  wait "$ip" 2>/dev/null || true
  python3 - "$work/iperf.json" >>"$raw" <<'PY'
import json, sys
bps = json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]
print(f"iperf3\t0\t{bps / 8 / 1048576:.2f}\t0\t0\t0")
PY
}

for round in $(seq "$rounds"); do
  echo "round $round/$rounds" >&2
  sockperf_run
  msgr_run pingpong-inline 0 1 1 40000 4096
  msgr_run pingpong-1worker 1 1 1 40000 4096
  iperf_run
  msgr_run bw-1m 1 1 8 3000 1048576
  msgr_run small-2x32 1 2 32 100000 4096
done

mkdir -p Results/benchmarks
out="Results/benchmarks/messenger-$stamp.md"
python3 - "$raw" "$rounds" "$stamp" "$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" >"$out" <<'PY'
import statistics, sys, collections, platform, os
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, *vals = line.rstrip("\n").split("\t")
    rows[label].append([float(v) for v in vals])
med = lambda label, i: statistics.median(r[i] for r in rows[label])
runs = lambda label, i: ", ".join(f"{r[i]:.0f}" for r in rows[label])
cpu = open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(": \t")
print(f"# Messenger benchmark {sys.argv[3]}\n")
print(f"Commit {sys.argv[4]}, {os.cpu_count()} CPUs ({cpu}), {sys.argv[2]} interleaved rounds, medians. "
      f"Command: `scripts/messenger-benchmark.sh {sys.argv[2]}` (or `./bench.sh messenger-benchmark`).\n")
a_ref, a_in, a_w1 = med("sockperf", 0), med("pingpong-inline", 0), med("pingpong-1worker", 0)
b_ref, b = med("iperf3", 1), med("bw-1m", 1)
print("| measure | reference | Loligo | ratio | target |")
print("|---|---|---|---|---|")
print(f"| (a) 4 KiB ping-pong round trips/s, server replies inline (0 workers) | sockperf {a_ref:.0f} | {a_in:.0f} | {a_in / a_ref:.2f} | >= 0.6 |")
print(f"| (a') same, through 1 server worker thread | sockperf {a_ref:.0f} | {a_w1:.0f} | {a_w1 / a_ref:.2f} | (info) |")
print(f"| (b) 1 MiB x 8 in flight, MiB/s | iperf3 {b_ref:.0f} ({b_ref * 8 * 1.048576 / 1000:.1f} Gbit/s) | {b:.0f} ({b * 8 * 1.048576 / 1000:.1f} Gbit/s) | {b / b_ref:.2f} | >= 0.7 |")
c = med("small-2x32", 0)
print(f"| (c) 4 KiB, 2 jobs x 32 in flight, msgs/s | - | {c:.0f} | - | (report) |")
print(f"\n(c) CPU per message: client {med('small-2x32', 3):.2f} us, server {med('small-2x32', 4):.2f} us "
      f"(process CPU time / messages). p50 latency {med('small-2x32', 2):.0f} us.\n")
print("Per-round values:\n")
for label, i, unit in [("sockperf", 0, "rt/s"), ("pingpong-inline", 0, "rt/s"), ("pingpong-1worker", 0, "rt/s"),
                       ("iperf3", 1, "MiB/s"), ("bw-1m", 1, "MiB/s"), ("small-2x32", 0, "msgs/s")]:
    print(f"- {label} ({unit}): {runs(label, i)}")
PY
cat "$out"
echo "saved $out" >&2
