#!/usr/bin/env bash
# Recovery side by side with Ceph 16.2 on this machine, in one run: 1 monitor + 4 memstore OSDs,
# a size-3 pool prefilled, a 4 KiB overwrite load, one OSD out then in (Loligo: `loligo profile
# run` of a recovery profile; Ceph: scripts/ceph-reference/cluster.sh + recovery.py with the
# same parameters and recovery-load.c, linked with librados, as the client). Each round runs
# both sides, one after the other (Ceph first in odd rounds, Loligo first in even ones). Writes
# Results/benchmarks/recovery-vs-ceph.md (the figures of each round, and the ratios against the
# targets: time to clean at most 1/3 of Ceph's, client IOPS during recovery at least 3x Ceph's,
# no acknowledged write lost) and the raw lines beside it (recovery-vs-ceph.jsonl).
# The machine is shared: before each side it waits up to --quiet-wait seconds (120) for the CPUs
# to be less than half busy, and each side records the share of the CPUs other processes took.
#   scripts/recovery-benchmark.sh [--rounds R] [--profile PATH] [--ceph-clean-timeout S]
#                                 [--quiet-wait S] [--out FILE.md] [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=2 profile=Profiles/recovery-4k.toml ceph_timeout=1800 quiet_wait=120 keep=0
out=Results/benchmarks/recovery-vs-ceph.md
command="scripts/recovery-benchmark.sh $*"
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift ;;
    --profile) profile=$2; shift ;;
    --ceph-clean-timeout) ceph_timeout=$2; shift ;;
    --quiet-wait) quiet_wait=$2; shift ;;
    --out) out=$2; shift ;;
    --keep) keep=1 ;;
    *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
  shift
done
log() { printf '%s recovery-benchmark: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

scripts/ceph-reference/setup.sh
swift build -c release >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d /tmp/recovery-benchmark.XXXXXX)
lines=$work/lines.jsonl
sampler=""
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true
  for d in "$work"/ceph-r*; do
    [ -d "$d" ] && scripts/ceph-reference/cluster.sh down --dir "$d" --purge >/dev/null 2>&1 || true
  done
  if [ "$keep" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cc -O2 -Wall -o "$work/recovery-load" scripts/ceph-reference/recovery-load.c -lrados -lpthread

# The Ceph side takes the profile's shape, so both run the same benchmark.
read -r name osds pg_num size min_size objects object_size block threads osd pre post < <(
  /usr/bin/python3 - "$profile" <<'PY'
import sys, tomllib
p = tomllib.load(open(sys.argv[1], "rb"))
def size(text):
    text = str(text).strip().upper()
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)
c, pool, bench, rec = p.get("cluster", {}), p.get("pool", {}), p.get("bench", {}), p.get("recovery", {})
assert p.get("kind") == "recovery" and rec.get("action", "out") == "out", "an out/in recovery profile"
print(p.get("name", sys.argv[1].rsplit("/", 1)[-1].removesuffix(".toml")), c.get("osds", 3),
      pool.get("pg_num", 32), pool.get("size", 3), pool.get("min_size", 0) or pool.get("size", 3) - pool.get("size", 3) // 2,
      pool.get("prefill_objects", 2000), size(pool.get("prefill_size", "64K")), size(bench.get("block_size", "4K")),
      bench.get("concurrency", 16), rec.get("osd", 0), rec.get("pre_time", 10), rec.get("post_time", 10))
PY
)

# Samples the machine's CPU while one side runs; `ours` are processes whose command line names
# the work directory (or the Loligo profile's cluster directory).
# Waits (up to --quiet-wait s) until the CPUs were less than half busy over 3 s.
quiet() {
  /usr/bin/python3 - "$quiet_wait" <<'PY' >&2
import sys, time
sys.path.insert(0, "scripts/ceph-reference")
from refcommon import host_busy_seconds
import os
limit, start = float(sys.argv[1]), time.monotonic()
while True:
    b0 = host_busy_seconds(); time.sleep(3); share = (host_busy_seconds() - b0) / 3 / (os.cpu_count() or 1)
    waited = time.monotonic() - start
    if share < 0.5 or waited >= limit:
        print(f"{time.strftime('%H:%M:%S')} recovery-benchmark: CPUs {share:.0%} busy after {waited:.0f} s of waiting")
        break
PY
}
sample_start() { /usr/bin/python3 scripts/ceph-reference/cpushare.py --match "$work" --match "/tmp/loligo-$name-" --out "$1" & sampler=$!; }
sample_stop() { kill "$sampler"; wait "$sampler" || true; sampler=""; }

ceph_side() {  # round
  local r=$1 dir=$work/ceph-r$1
  log "round $r: Ceph"
  scripts/ceph-reference/cluster.sh up --dir "$dir" --mons 1 --osds "$osds" --pool-size "$size" \
    --pool-min-size "$min_size" --pg-num "$pg_num" >&2
  quiet
  sample_start "$work/cpu-ceph-r$r.json"
  scripts/ceph-reference/recovery.py --conf "$dir/ceph.conf" --load-bin "$work/recovery-load" \
    --out-dir "$work/ceph-out-r$r" --pg-num "$pg_num" --size "$size" --min-size "$min_size" \
    --objects "$objects" --object-size "$object_size" --block "$block" --threads "$threads" \
    --osd "$osd" --pre-time "$pre" --post-time "$post" --clean-timeout "$ceph_timeout" \
    --tag round="$r" >"$work/ceph-r$r.json" || log "round $r: the Ceph side failed"
  sample_stop
  scripts/ceph-reference/cluster.sh down --dir "$dir" --purge >&2
  /usr/bin/python3 - "$work/ceph-r$r.json" "$work/cpu-ceph-r$r.json" >>"$lines" <<'PY'
import json, sys
line = json.loads(open(sys.argv[1]).read() or "{}")
line["cpu"] = json.load(open(sys.argv[2]))
line.setdefault("system", "ceph")
print(json.dumps(line))
PY
}

loligo_side() {  # round
  local r=$1 results=$work/loligo-r$1
  log "round $r: Loligo"
  quiet
  sample_start "$work/cpu-loligo-r$r.json"
  "$bin/loligo" profile run "$profile" --results "$results" >&2 || log "round $r: the Loligo side failed"
  sample_stop
  /usr/bin/python3 - "$results" "$work/cpu-loligo-r$r.json" "$r" >>"$lines" <<'PY'
import glob, json, os, sys
results, cpu, r = sys.argv[1:]
line = {"system": "loligo", "tags": {"round": r}, "ok": False, "cpu": json.load(open(cpu))}
for run in glob.glob(os.path.join(results, "*")):
    summary = json.load(open(os.path.join(run, "summary.json")))
    line["ok"] = summary.get("status") == "ok"
    if summary.get("error"):
        line["error"] = summary["error"]
    path = os.path.join(run, "steps", "01-recovery", "result.json")
    if os.path.exists(path):
        document = json.load(open(path))
        line["result"] = document["result"]
        line["parameters"] = document["parameters"]
print(json.dumps(line))
PY
}

for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then ceph_side "$r"; loligo_side "$r"; else loligo_side "$r"; ceph_side "$r"; fi
done

mkdir -p "$(dirname "$out")"
cp "$lines" "${out%.md}.jsonl"
host="Ceph $(ceph --version | awk '{print $3}'), Loligo at $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources Package.swift || echo '+changes'), $(nproc) vCPUs, $(date -u +%Y-%m-%dT%H:%MZ)."
/usr/bin/python3 scripts/ceph-reference/recovery-report.py --lines "$lines" --command "$command" \
  --profile "$profile" --host "$host" >"$out"
log "saved $out and ${out%.md}.jsonl"
