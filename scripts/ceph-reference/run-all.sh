#!/usr/bin/env bash
# Ceph 16.2 reference side of the monitor and pool benchmarks, in one run on this machine:
#   1. 1 monitor:  config-key set commits/s and latency, 1 client and 8 clients   (monbench.py)
#   2. 3 monitors: the same                                                      (monbench.py)
#   3. 1 mon + 3 memstore OSDs (+1 mgr): rados bench write/seq/rand, 4 KiB and 4 MiB,
#      pool size 1 and 3, 16 concurrent                                          (radosbench.py)
# Each cluster is brought up (cluster.sh), measured for every round, and torn down (by pid)
# before the next; medians over the rounds go to a JSON summary and a Markdown table on stdout.
#
#   run-all.sh [--rounds R] [--quick] [--out FILE] [--workdir DIR] [--keep]
#              [--mon-seconds S] [--bench-seconds S] [--only mon|pool] [--quiet-wait S]
#              [--no-osd-restart] [--also CMD]
#
#   --rounds R         rounds per shape (default 3; --quick: 1)
#   --quick            smoke run (~2 min): 1 round, 3 s per monitor run and per bench step
#   --out FILE         summary JSON (default Results/benchmarks/ceph-reference-<UTC>.json)
#   --workdir DIR      where the clusters live (default a new /tmp/ceph-reference.XXXXXX,
#                      removed after a successful run unless --keep; a DIR given is never
#                      removed, only the clusters' data in it)
#   --mon-seconds S    seconds per monitor measurement (default 5)
#   --bench-seconds S  seconds of each rados bench step (default 10)
#   --only mon|pool    run one of the two benchmarks
#   --quiet-wait S     before each measurement wait up to S s (default 0: no wait) until the
#                      machine's CPUs are less than 25 % busy (it is shared); the CPU share other
#                      processes took is recorded with every measurement either way
#   --no-osd-restart   do not restart the OSDs between pool shapes (they are by default, ~5 s
#                      each, so every shape starts on fresh OSD processes)
#   --also CMD         after the Ceph side, run CMD (e.g. the Loligo side) in the same run; it
#                      gets REF_* variables (see README.md) and appends JSON lines of the same
#                      form to $REF_MON_JSONL / $REF_POOL_JSONL with tags.system set to its name.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3
export HERE=$here
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ beside the scripts

rounds="" quick=0 out="" workdir="" keep=0 mon_seconds="" bench_seconds="" only="" also="" quiet_wait=0
osd_restart=1
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift ;;
    --quick) quick=1 ;;
    --out) out=$2; shift ;;
    --workdir) workdir=$2; shift ;;
    --keep) keep=1 ;;
    --mon-seconds) mon_seconds=$2; shift ;;
    --bench-seconds) bench_seconds=$2; shift ;;
    --only) only=$2; shift ;;
    --also) also=$2; shift ;;
    --quiet-wait) quiet_wait=$2; shift ;;
    --no-osd-restart) osd_restart=0 ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-all: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
if [ "$quick" = 1 ]; then
  rounds=${rounds:-1}; mon_seconds=${mon_seconds:-3}; bench_seconds=${bench_seconds:-3}
else
  rounds=${rounds:-3}; mon_seconds=${mon_seconds:-5}; bench_seconds=${bench_seconds:-10}
fi
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "run-all: --rounds must be a positive number" >&2; exit 2; }
case $only in ""|mon|pool) ;; *) echo "run-all: --only mon|pool" >&2; exit 2 ;; esac
threads=16 pg_num=32 value_bytes=64 mon_clients=(1 8)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=${out:-$repo/Results/benchmarks/ceph-reference-$stamp.json}
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

exec 3>&2   # progress goes to the original stderr, even from traps run inside a redirected step
log() { printf '%s run-all: %s\n' "$(date +%H:%M:%S)" "$*" >&3; }

"$here/setup.sh"

own_workdir=0
if [ -z "$workdir" ]; then workdir=$(mktemp -d /tmp/ceph-reference.XXXXXX); own_workdir=1; else mkdir -p "$workdir"; fi
workdir=$(cd "$workdir" && pwd)
raw=$workdir/raw; mkdir -p "$raw"
mon_jsonl=$raw/mon.jsonl pool_jsonl=$raw/pool.jsonl
: >"$mon_jsonl"; : >"$pool_jsonl"
errors=()
retries=()        # steps that failed once and were run again
started=()        # cluster dirs brought up by this run
current=""        # the cluster dir that is up now

cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  local d
  for d in "${started[@]:-}"; do
    [ -n "$d" ] && "$here/cluster.sh" down --dir "$d" --purge >/dev/null 2>&1 || true
  done
  if [ $rc -eq 0 ] && [ "$keep" = 0 ] && [ ${#errors[@]} -eq 0 ] && [ "$own_workdir" = 1 ]; then
    rm -rf "$workdir"
  elif [ "$own_workdir" = 1 ] || [ $rc -ne 0 ]; then
    log "work dir kept: $workdir (logs in */log/, raw outputs in raw/)"
  fi
  exit $rc
}
child=""          # the bounded step running now (a `timeout` process)

# Run one step under `timeout` in the background and wait for it: bash runs a trap only after a
# foreground command ends (and drops SIGINT if that command did not die of it), but `wait`
# returns as soon as a trapped signal arrives, so Ctrl-C stops the run at once.
bounded() {  # seconds command...
  local limit=$1; shift
  timeout -k 10 "$limit" "$@" &
  child=$!
  local rc=0
  wait "$child" || rc=$?
  child=""
  return $rc
}
on_signal() {
  log "interrupted: stopping the running step and the clusters"
  if [ -n "$child" ]; then
    kill -TERM "$child" 2>/dev/null || true   # timeout passes it on to its command
    local i
    # cluster.sh finishes its current (bounded, 30 s) ceph call before it stops its daemons
    for i in $(seq 1 450); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$child" 2>/dev/null || true
  fi
  exit 130
}
trap cleanup EXIT
trap on_signal INT TERM HUP

t_run=$SECONDS
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A up_seconds=()

cluster_up() {  # name mons osds
  local name=$1 mons=$2 osds=$3 d=$workdir/$1
  started+=("$d"); current=$d
  log "cluster $name: up (mons=$mons osds=$osds)"
  if ! bounded 200 "$here/cluster.sh" up --dir "$d" --mons "$mons" --osds "$osds" \
      --objectstore memstore --timeout 150 2>"$raw/$name-up.log"; then
    tail -5 "$raw/$name-up.log" >&2
    errors+=("cluster $name did not come up (see $raw/$name-up.log)")
    return 1
  fi
  up_seconds[$name]=$(sed -n 's/^up_seconds=//p' "$d/cluster.env")
  log "cluster $name: up in ${up_seconds[$name]} s"
}
cluster_down() {
  [ -n "$current" ] || return 0
  bounded 120 "$here/cluster.sh" down --dir "$current" --purge 2>>"$raw/down.log" \
    || errors+=("down of $current failed")
  current=""
}
wait_quiet() {  # up to $quiet_wait s until the CPUs are < 25 % busy over one second
  [ "$quiet_wait" -gt 0 ] || return 0
  local busy
  busy=$(timeout $((quiet_wait + 10)) "$PY" - "$quiet_wait" <<'PY'
import os, sys, time
sys.path.insert(0, os.environ["HERE"])
from refcommon import host_busy_seconds
deadline = time.monotonic() + float(sys.argv[1])
while True:
    b0 = host_busy_seconds(); time.sleep(1.0); share = (host_busy_seconds() - b0) / (os.cpu_count() or 1)
    if share < 0.25 or time.monotonic() >= deadline:
        print(f"{share:.2f}"); break
PY
) || busy="?"
  log "machine busy share before the measurement: $busy"
}
pids_of() {  # dir glob -> comma-separated pids (e.g. mon.* or osd.*)
  local f list=""
  for f in "$1"/run/$2.pid; do [ -f "$f" ] && list="$list${list:+,}$(cat "$f")"; done
  echo "$list"
}

run_mon_bench() {
  local mons
  for mons in 1 3; do
    local name=mon$mons
    cluster_up "$name" "$mons" 0 || continue
    local d=$workdir/$name r c
    for ((r = 1; r <= rounds; r++)); do
      for c in "${mon_clients[@]}"; do
        wait_quiet
        log "monitors=$mons clients=$c round $r/$rounds (${mon_seconds} s)"
        if ! bounded $((mon_seconds + 120)) "$PY" "$here/monbench.py" --conf "$d/ceph.conf" \
            --clients "$c" --seconds "$mon_seconds" --value-bytes "$value_bytes" \
            --cpu-pids "$(pids_of "$d" 'mon.*')" \
            --tag system=ceph --tag mons="$mons" --tag round="$r" \
            --json >>"$mon_jsonl" 2>>"$raw/monbench.log"; then
          errors+=("monbench mons=$mons clients=$c round $r failed")
        fi
        tail -1 "$raw/monbench.log" | sed 's/^/    /' >&2
      done
    done
    cluster_down
  done
}

restart_osds() {  # fresh OSD processes; if that fails, a fresh cluster
  local d=$workdir/osd3
  if bounded 150 "$here/cluster.sh" restart-osds --dir "$d" --timeout 120 2>>"$raw/restart-osds.log"; then
    return 0
  fi
  log "restarting the OSDs failed (see $raw/restart-osds.log): a fresh cluster"
  cluster_down
  cluster_up osd3 1 3
}

pool_step() {  # round label bs size min_size attempt -> radosbench's exit status
  local r=$1 label=$2 bs=$3 size=$4 min_size=$5 attempt=$6 d=$workdir/osd3 rc=0
  bounded $((3 * bench_seconds + 600)) "$PY" "$here/radosbench.py" --conf "$d/ceph.conf" \
    --pool "bench-$label-a$attempt" --size "$size" --min-size "$min_size" --pg-num "$pg_num" \
    --block-size "$bs" --threads "$threads" --seconds "$bench_seconds" \
    --cpu-pids "$(pids_of "$d" 'osd.*')" --raw-dir "$raw/rados-bench" --label "$label" \
    --tag system=ceph --tag round="$r" --out "$raw/attempt.jsonl" >/dev/null 2>>"$raw/radosbench.log" || rc=$?
  return $rc
}

run_pool_bench() {
  local name=osd3
  cluster_up "$name" 1 3 || return 0
  local d=$workdir/$name r i first=1
  local shapes=("4096 1" "4096 3" "4194304 1" "4194304 3")
  for ((r = 1; r <= rounds; r++)); do
    # rotate the order each round, so no shape always runs first or last
    for ((i = 0; i < ${#shapes[@]}; i++)); do
      local s=${shapes[$(( (i + r - 1) % ${#shapes[@]} ))]}
      local bs=${s% *} size=${s#* } min_size=1
      [ "$size" -ge 3 ] && min_size=2   # Ceph's default min_size for size 3
      local label
      if [ "$bs" -ge 1048576 ]; then label="$((bs / 1048576))m"; else label="$((bs / 1024))k"; fi
      label="$label-size$size-r$r"
      # every shape starts on freshly started OSDs (memory back, memstore's counters recounted)
      if [ "$first" = 0 ] && [ "$osd_restart" = 1 ]; then
        restart_osds || { errors+=("no OSD cluster for $label"); continue; }
      fi
      first=0
      wait_quiet
      log "pool bench $label: block $bs, size $size, ${bench_seconds} s per step (round $r/$rounds)"
      local attempt rc
      for attempt in 1 2; do
        : >"$raw/attempt.jsonl"
        rc=0; pool_step "$r" "$label" "$bs" "$size" "$min_size" "$attempt" || rc=$?
        if [ $rc = 0 ] || [ $rc = 3 ]; then
          cat "$raw/attempt.jsonl" >>"$pool_jsonl"
          grep -E "radosbench: (write|seq|rand):" "$raw/radosbench.log" | tail -3 | sed 's/^/    /' >&2
          if [ $rc = 3 ]; then
            log "memstore's used-bytes counter underflowed while the pool was deleted: restarting the OSDs"
            restart_osds || true
          fi
          break
        fi
        cat "$raw/attempt.jsonl" >>"$raw/failed-attempts.jsonl"
        tail -3 "$raw/radosbench.log" | sed 's/^/    /' >&2
        if [ $attempt = 1 ]; then
          log "pool bench $label failed (exit $rc): restarting the OSDs and trying it once more"
          retries+=("$label (exit $rc)")
          restart_osds || true
        else
          errors+=("radosbench $label failed twice (exit $rc)")
        fi
      done
    done
  done
  cp "$d/ceph.conf" "$raw/osd3-ceph.conf"
  cluster_down
}

[ "$only" = pool ] || run_mon_bench
[ "$only" = mon ] || run_pool_bench

if [ -n "$also" ]; then
  log "running the other side: $also"
  if ! REF_ROUNDS=$rounds REF_QUICK=$quick REF_MON_SECONDS=$mon_seconds REF_BENCH_SECONDS=$bench_seconds \
      REF_THREADS=$threads REF_PG_NUM=$pg_num REF_VALUE_BYTES=$value_bytes REF_MON_CLIENTS="${mon_clients[*]}" \
      REF_MON_JSONL=$mon_jsonl REF_POOL_JSONL=$pool_jsonl REF_WORKDIR=$workdir REF_ONLY=$only \
      bounded 7200 bash -c "$also"; then
    errors+=("--also command failed: $also")
  fi
fi

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
total=$((SECONDS - t_run))
meta=$raw/meta.json
retries_json=$(printf '%s\n' "${retries[@]:-}" | "$PY" -c 'import json,sys; print(json.dumps([l.rstrip("\n") for l in sys.stdin if l.strip()]))')
errs_json=$(printf '%s\n' "${errors[@]:-}" | "$PY" -c 'import json,sys; print(json.dumps([l.rstrip("\n") for l in sys.stdin if l.strip()]))')
ups_json=$(for k in "${!up_seconds[@]}"; do echo "$k ${up_seconds[$k]}"; done | "$PY" -c 'import json,sys; print(json.dumps({a: int(b) for a, b in (l.split() for l in sys.stdin if l.strip())}))')
"$PY" - "$meta" <<PY
import json, os, platform, subprocess, sys
conf = ""
p = "$raw/osd3-ceph.conf"
if os.path.exists(p):
    conf = open(p).read()
def out(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception as e:
        return repr(e)
meta = {
    "system": "ceph",
    "created": "$stamp",
    "total_seconds": $total,
    "ceph_version": out(["ceph", "--version"]),
    "host": {"nproc": os.cpu_count(), "kernel": platform.release(),
             "mem_total_kib": int(open("/proc/meminfo").read().split()[1]),
             "loadavg_start": "$load_start", "loadavg_end": "$load_end",
             "os": out(["cat", "/etc/debian_version"])},
    "settings": {"rounds": $rounds, "quick": bool($quick), "mon_seconds": $mon_seconds,
                 "bench_seconds": $bench_seconds, "threads": $threads, "pg_num": $pg_num,
                 "value_bytes": $value_bytes, "quiet_wait": $quiet_wait, "osd_restart_between_shapes": bool($osd_restart), "mon_clients": [int(x) for x in "${mon_clients[*]}".split()],
                 "objectstore": "memstore", "only": "$only" or None, "also": """$also""" or None},
    "cluster_up_seconds": json.loads('$ups_json'),
    "osd_cluster_ceph_conf": conf,
    "errors": json.loads(r'''$errs_json'''),
    "retried": json.loads(r'''$retries_json'''),
}
json.dump(meta, open(sys.argv[1], "w"), indent=1)
PY
echo
set +e
"$PY" "$here/summarize.py" --meta "$meta" --mon "$mon_jsonl" --pool "$pool_jsonl" --out "$out"
sum_rc=$?
set -e
echo
echo "Total run time ${total} s; summary: $out"
if [ ${#errors[@]} -gt 0 ]; then
  log "FAILED steps: ${errors[*]}"
  exit 1
fi
[ $sum_rc -eq 0 ] || { log "summary reports failures"; exit 1; }
log "all steps ok"
