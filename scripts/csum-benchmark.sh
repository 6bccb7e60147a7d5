#!/usr/bin/env bash
# The cost of checksums on read (issue 15). One durable cluster on this machine, 1 monitor + 3
# OSDs, a size-3 pool per shape; the objects are written once with checksums on
# (`bench ... write -b 4K --no-cleanup`, and 4M), so every object has its block crcs. Then,
# round after round, the OSDs are restarted with osd_store_csum_type = crc32c or none (set in
# the cluster's config, [osd] section; the order swapped every round) and `seq` and `rand` run.
# With none the store checks nothing and the messenger computes each reply's crc itself; the
# data, its files and RocksDB are the same for both, so the difference is the checking alone.
# Besides throughput, each run records the CPU time of the 3 OSDs and of the client per op, and
# perf samples where the OSDs' CPU goes. Writes Results/benchmarks/csum-read-cost.md (and the
# raw JSON lines next to it).
#   scripts/csum-benchmark.sh [--rounds R] [--seconds S] [--threads T] [--objects-4k N]
#                             [--objects-4m N] [--seq-repeat N]
# seq reads every object once and stops, a few seconds: each turn runs it --seq-repeat times
# (default 3) and counts them as one run.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3 seconds=20 threads=16 objects_4K=30000 objects_4M=500 seq_repeat=3
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --objects-4k) objects_4K=$2; shift 2 ;;
    --objects-4m) objects_4M=$2; shift 2 ;;
    --seq-repeat) seq_repeat=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds R] [--seconds S] [--threads T] [--objects-4k N] [--objects-4m N]" \
        "[--seq-repeat N]" >&2
      exit 2 ;;
  esac
done
swift build -c release >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d /tmp/csum-benchmark.XXXXXX)
cluster=$work/c
conf=$cluster/loligo.toml
down() {
  "$bin/loligo" cluster down --dir "$cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap down EXIT
mkdir -p Results/benchmarks
out=Results/benchmarks/csum-read-cost
jsonl="$out.jsonl"
: >"$jsonl"
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources || echo "+changes")
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

"$bin/loligo" cluster up --mons 1 --osds 3 --objectstore durable --no-pool --dir "$cluster" >&2
for bs in 4K 4M; do "$bin/loligo" pool create "csum-$bs" 32 --size 3 --conf "$conf" >&2; done

# Restarts the OSDs with checksums on or off (the [osd] section of the cluster's config) and
# waits until every PG is active+clean again, twice in a row a second apart.
restart_osds() {  # on|off
  sed -i '/^osd_store_csum_type = /d' "$conf"
  [ "$1" = off ] && sed -i '/^\[osd\]$/a osd_store_csum_type = "none"' "$conf"
  local n pid
  for n in 0 1 2; do kill -TERM "$(cat "$cluster/osd.$n.pid")"; done
  for n in 0 1 2; do
    pid=$(cat "$cluster/osd.$n.pid" 2>/dev/null || true)
    while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  done
  for n in 0 1 2; do
    setsid "$bin/loligo-osd" --id "$n" --conf "$conf" >>"$cluster/osd.$n.out" 2>&1 </dev/null &
  done
  local clean=0 deadline=$((SECONDS + 120))
  while [ "$clean" -lt 2 ]; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "the cluster did not come back clean" >&2; exit 1; }
    sleep 1
    if "$bin/loligo" status --format json --conf "$conf" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
pgs = d["pgmap"]
clean = sum(s["count"] for s in pgs.get("pgs_by_state", []) if s["state_name"] == "active+clean")
sys.exit(0 if d["osdmap"]["num_up_osds"] == 3 and clean == pgs["num_pgs"] else 1)'; then
      clean=$((clean + 1))
    else
      clean=0
    fi
  done
  local want=crc32c
  [ "$1" = off ] && want=none
  for n in 0 1 2; do
    "$bin/loligo" daemon "osd.$n" config show --conf "$conf" | grep -q "\"osd_store_csum_type\" : \"$want\"" \
      || { echo "osd.$n does not run with osd_store_csum_type = $want" >&2; exit 1; }
  done
  echo "OSDs restarted with osd_store_csum_type = $want" >&2
}

# CPU seconds (user + system, all threads) the OSDs have used since they started.
osd_cpu() {
  local total=0 pid
  for n in 0 1 2; do
    pid=$(cat "$cluster/osd.$n.pid")
    total=$(awk -v t="$total" '{ print t + $14 + $15 }' "/proc/$pid/stat")
  done
  echo "$total $(getconf CLK_TCK)" | awk '{ printf "%.3f", $1 / $2 }'
}

step() {  # on|off block mode round
  local c=$1 bs=$2 mode=$3 r=$4 rc=0 before after objects_var="objects_$2"
  local args=(-p "csum-$bs" bench "$seconds" "$mode" -t "$threads" --format json)
  # Writes: a fixed number of objects, however long that takes.
  [ "$mode" = write ] && args=(-p "csum-$bs" bench 600 write -t "$threads" --format json \
    -b "$bs" --max-objects "${!objects_var}" --no-cleanup)
  before=$(osd_cpu)
  python3 -c '
import resource, subprocess, sys
with open(sys.argv[1], "w") as out, open(sys.argv[2], "w") as err:
    rc = subprocess.run(sys.argv[4:], stdout=out, stderr=err).returncode
u = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[3], "w").write(f"{u.ru_utime + u.ru_stime:.3f}")
sys.exit(rc)' "$work/bench.json" "$work/bench.err" "$work/client.cpu" \
    "$bin/loligo" "${args[@]}" --conf "$conf" || rc=$?
  after=$(osd_cpu)
  python3 - "$work/bench.json" "$c" "$bs" "$mode" "$r" "$rc" "loligo ${args[*]}" \
    "$(cut -d' ' -f1 /proc/loadavg)" "$before" "$after" "$(cat "$work/client.cpu")" \
    >>"$jsonl" <<'PY'
import json, sys
path, csum, bs, mode, r, rc, command, load, before, after, client = sys.argv[1:]
try:
    d = json.load(open(path))
except Exception:
    d = {}
print(json.dumps({
    "csum": csum, "block": bs, "mode": mode, "round": int(r), "ok": rc == "0" and bool(d),
    "iops": d.get("average_iops"), "MBps": d.get("bandwidth"),
    "avg_lat_ms": d["average_latency"] * 1000 if "average_latency" in d else None,
    "ops": d.get("total_writes_made", d.get("total_reads_made")),
    "seconds": d.get("total_time_run"), "load1": float(load),
    "osd_cpu_s": round(float(after) - float(before), 3), "client_cpu_s": float(client),
    "command": command}))
PY
  echo "checksums $c $bs $mode round $r: $(tail -1 "$jsonl" | python3 -c 'import json,sys
d = json.load(sys.stdin)
print(d["iops"], "IOPS", d["MBps"], "MB/s, OSD CPU", d["osd_cpu_s"], "s, client", d["client_cpu_s"], "s")')" >&2
  [ "$rc" = 0 ] || cat "$work/bench.err" >&2  # recorded as failed; the others still run
}

step on 4K write 0
step on 4M write 0
for ((r = 1; r <= rounds; r++)); do
  order=(on off)
  [ $((r % 2)) = 0 ] && order=(off on)
  for c in "${order[@]}"; do
    restart_osds "$c"
    for bs in 4K 4M; do
      for ((k = 0; k < seq_repeat; k++)); do step "$c" "$bs" seq "$r"; done
      step "$c" "$bs" rand "$r"
    done
  done
done

# Where the OSDs' CPU goes, by symbol (perf, cpu-clock samples): the share spent on checksums
# is a ratio within the same processes, so other jobs on the machine hardly move it.
profile() {  # on|off block
  local c=$1 bs=$2 pids
  pids=$(cat "$cluster"/osd.{0,1,2}.pid | paste -sd, -)
  perf record -q -e cpu-clock -F 499 -p "$pids" -o "$work/perf-$c-$bs.data" -- sleep "$seconds" \
    >/dev/null 2>&1 &
  local perf_pid=$!
  "$bin/loligo" -p "csum-$bs" bench "$seconds" rand -t "$threads" --conf "$conf" >/dev/null 2>&1 \
    || true
  wait "$perf_pid" || true
  perf report -i "$work/perf-$c-$bs.data" --stdio --no-children --sort symbol 2>/dev/null \
    >"$work/perf-$c-$bs.txt" || true
}
if command -v perf >/dev/null; then
  for c in on off; do
    restart_osds "$c"
    for bs in 4K 4M; do profile "$c" "$bs"; done
  done
fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$jsonl" "$rounds" "$seconds" "$threads" "$commit" "$load_before" "$load_after" \
  "$(nproc)" "$objects_4K" "$objects_4M" "$work" "$seq_repeat" >"$out.md" <<'PY'
import json, os, re, statistics, sys
path, rounds, seconds, threads, commit, before, after, cpus, n4k, n4m, work, rep = sys.argv[1:]
runs = [json.loads(line) for line in open(path) if line.strip()]
target = {"4K": 0.05, "4M": 0.10}
unit = {"4K": ("us", 1e6), "4M": ("ms", 1e3)}
med = statistics.median
print("# The cost of checksums on read (durable store)\n")
print(f"Command: `scripts/csum-benchmark.sh --rounds {rounds} --seconds {seconds} --threads "
      f"{threads} --objects-4k {n4k} --objects-4m {n4m} --seq-repeat {rep}`, at commit {commit}, "
      f"on {cpus} CPUs shared with other jobs (load average {before} before, {after} after).\n")
print("One durable cluster, 1 monitor + 3 OSDs, a size-3 pool of 32 PGs per shape. The objects")
print(f"were written once with checksums on (`loligo -p POOL bench 600 write -b 4K --max-objects {n4k}")
print(f"--no-cleanup`, and `-b 4M --max-objects {n4m}`), so each has its block crcs. Each round the")
print("OSDs were restarted with `osd_store_csum_type = crc32c` (4 KiB blocks) and with `none` (the")
print("cluster's config, `[osd]` section; the order swapped every round), and each time ran")
print(f"`bench {seconds} seq` ({rep} times: seq stops once it has read every object, a few seconds;")
print(f"added up as one run) and `bench {seconds} rand`, -t {threads}, reads verified by the client as")
print("rados bench does. Same data, files and RocksDB both ways: with none the store checks nothing")
print("and the messenger computes each reply's crc32c itself; with crc32c the store verifies every")
print("block and hands the messenger the crc folded from the block crcs.\n")
print("CPU is user + system time of the 3 OSD processes (all threads, from /proc) and of the client")
print("(rusage) over each run, per op. Cost is 1 - crc32c/none for throughput and crc32c/none - 1 for")
print("CPU per op; negative means crc32c did better. Both move with other jobs' load on this shared")
print("machine; the perf shares further down are ratios within the same processes and move much less.\n")
rows, verdicts = [], []
for bs in ("4K", "4M"):
    for mode in ("seq", "rand"):
        def pick(c):  # one entry per round: its runs (seq's repeats) added up
            per_round = {}
            for x in runs:
                if x["block"] == bs and x["mode"] == mode and x["csum"] == c and x["ok"] and x["ops"]:
                    a = per_round.setdefault(x["round"], {"round": x["round"], "csum": c, "ops": 0,
                                                          "seconds": 0, "osd_cpu_s": 0,
                                                          "client_cpu_s": 0})
                    for k in ("ops", "seconds", "osd_cpu_s", "client_cpu_s"):
                        a[k] += x[k]
            for a in per_round.values():
                a["iops"] = a["ops"] / a["seconds"]
            return list(per_round.values())
        on, off = pick("on"), pick("off")
        if not on or not off:
            rows.append(f"| {bs} {mode} | missing runs | | | | | | |")
            continue
        cpu = lambda x, osd_only=False: (x["osd_cpu_s"] + (0 if osd_only else x["client_cpu_s"])) / x["ops"]
        iops = 1 - med(x["iops"] for x in on) / med(x["iops"] for x in off)
        total = med(cpu(x) for x in on) / med(cpu(x) for x in off) - 1
        osd = med(cpu(x, True) for x in on) / med(cpu(x, True) for x in off) - 1
        name, scale = unit[bs]
        pairs = {}
        for x in on + off:
            pairs.setdefault(x["round"], {})[x["csum"]] = x
        per = [cpu(p["on"]) / cpu(p["off"]) - 1 for _, p in sorted(pairs.items()) if len(p) == 2]
        verdicts.append((bs, mode, total, iops))
        rows.append(
            f"| {bs} {mode} | {med(x['iops'] for x in on):.0f} / {med(x['iops'] for x in off):.0f} "
            f"| {iops:+.1%} | {med(cpu(x) for x in on) * scale:.1f} / "
            f"{med(cpu(x) for x in off) * scale:.1f} {name} | {total:+.1%} "
            f"| {med(cpu(x, True) for x in on) * scale:.1f} / {med(cpu(x, True) for x in off) * scale:.1f} {name} "
            f"| {osd:+.1%} | < {target[bs]:.0%} | {', '.join(f'{c:+.1%}' for c in per)} |")
print("## Reads: medians over the rounds (crc32c / none)\n")
print("| shape | IOPS | cost | CPU per op, OSDs + client | cost | CPU per op, OSDs | cost | target "
      "| per-round CPU cost (OSDs + client) |")
print("|---|---|---|---|---|---|---|---|---|")
print("\n".join(rows))
# Pooled: every round's ops over every round's seconds and CPU, per setting. Steadier than
# medians of rounds when single rounds swing with the machine.
print("\n## Reads: pooled over all rounds (crc32c / none)\n")
print("| shape | IOPS | cost | CPU per op, OSDs + client | cost | target |")
print("|---|---|---|---|---|---|")
for bs in ("4K", "4M"):
    for mode in ("seq", "rand"):
        tot = {}
        for x in runs:
            if x["block"] == bs and x["mode"] == mode and x["ok"] and x["ops"]:
                t = tot.setdefault(x["csum"], [0, 0.0, 0.0])
                t[0] += x["ops"]; t[1] += x["seconds"]; t[2] += x["osd_cpu_s"] + x["client_cpu_s"]
        if "on" not in tot or "off" not in tot:
            continue
        (n1, s1, c1), (n0, s0, c0) = tot["on"], tot["off"]
        name, scale = unit[bs]
        print(f"| {bs} {mode} | {n1 / s1:.0f} / {n0 / s0:.0f} | {1 - (n1 / s1) / (n0 / s0):+.1%} "
              f"| {c1 / n1 * scale:.1f} / {c0 / n0 * scale:.1f} {name} "
              f"| {(c1 / n1) / (c0 / n0) - 1:+.1%} | < {target[bs]:.0%} |")
print("\n## Every run\n")
print("| round | shape | checksums | IOPS | MB/s | avg lat ms | ops | s | OSD CPU s | client CPU s "
      "| load (1 min) |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for x in runs:
    label = "crc32c" if x["csum"] == "on" else "none"
    if not x["ok"]:
        print(f"| {x['round']} | {x['block']} {x['mode']} | {label} | failed | | | | | | | |")
        continue
    print(f"| {x['round']} | {x['block']} {x['mode']} | {label} | {x['iops']:.0f} | {x['MBps']:.1f} "
          f"| {x['avg_lat_ms']:.2f} | {x['ops']} | {x['seconds']:.1f} | {x['osd_cpu_s']:.2f} "
          f"| {x['client_cpu_s']:.2f} | {x['load1']:.1f} |")
# perf: shares of the OSDs' cpu-clock samples by symbol, grouped.
groups = [
    ("crc32c (ISA-L, block crcs)", re.compile(r"crc32_iscsi|loligo_crc32c|blocks_sse42|blocks_isal")),
    ("block checks and folds", re.compile(r"BlockCRC|ShiftTable|StoreChecksums")),
    ("object record decode", re.compile(r"ObjectRecord")),
]
profiles = {}
for c in ("on", "off"):
    for bs in ("4K", "4M"):
        f = os.path.join(work, f"perf-{c}-{bs}.txt")
        if not os.path.exists(f):
            continue
        samples, symbols = None, []
        for line in open(f, errors="replace"):
            m = re.match(r"# Samples: (\S+)", line)
            if m:
                samples = m.group(1)  # perf's rounding: 7K
            m = re.match(r"\s+([\d.]+)%\s+\[(.)\]\s+(.*)", line)
            if m:
                symbols.append((float(m.group(1)), m.group(3).strip()))
        if samples:
            profiles[(c, bs)] = (samples, symbols)
if profiles:
    print("\n## Where the OSDs' CPU goes (perf)\n")
    print(f"`perf record -e cpu-clock -F 499` on the 3 OSDs during one more `bench {seconds} rand` with")
    print("each setting; share of their samples per group of symbols. With none the messenger's crc of")
    print("each reply is the one pass over the data; with crc32c the store's check is, and the")
    print("messenger sends the crc folded from the block crcs.\n")
    print("| shape | checksums | samples | " + " | ".join(g for g, _ in groups) + " | all three |")
    print("|---|---|---|" + "---|" * (len(groups) + 1))
    for bs in ("4K", "4M"):
        for c in ("on", "off"):
            if (c, bs) not in profiles:
                continue
            samples, symbols = profiles[(c, bs)]
            shares = [sum(p for p, s in symbols if rx.search(s)) for _, rx in groups]
            print(f"| {bs} rand | {'crc32c' if c == 'on' else 'none'} | {samples} | "
                  + " | ".join(f"{x:.1f}%" for x in shares) + f" | {sum(shares):.1f}% |")
    print()
    for bs in ("4K", "4M"):
        if ("on", bs) in profiles and ("off", bs) in profiles:
            share = lambda c: sum(p for p, sym in profiles[(c, bs)][1]
                                  if any(rx.search(sym) for _, rx in groups))
            print(f"- {bs} rand: checksum work {share('on'):.1f}% of the OSDs' CPU with crc32c, "
                  f"{share('off'):.1f}% with none: {share('on') - share('off'):+.1f} points.")
    print("\nTop symbols (crc32c, then none):\n")
    for bs in ("4K", "4M"):
        for c in ("on", "off"):
            if (c, bs) in profiles:
                top = ", ".join(f"{s[:60]} {p:.1f}%" for p, s in profiles[(c, bs)][1][:8])
                print(f"- {bs} {'crc32c' if c == 'on' else 'none'}: {top}")
print()
for bs, mode, total, iops in verdicts:
    print(f"- {bs} {mode}: CPU per op {total:+.1%}, IOPS {iops:+.1%} "
          f"(target < {target[bs]:.0%})")
PY
echo "saved $out.md" >&2
