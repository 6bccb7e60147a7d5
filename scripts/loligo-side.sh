#!/usr/bin/env bash
# The Loligo side of the side-by-side benchmarks: run by scripts/ceph-reference/run-all.sh
# (--also) in the same run as the Ceph side, with the same shapes, rounds and seconds. Appends
# JSON lines in the Ceph side's form to $REF_MON_JSONL (and, with OSDs, $REF_POOL_JSONL).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
bin=${LOLIGO_BIN:-$(cd "$repo" && swift build -c release --show-bin-path)}
rounds=${REF_ROUNDS:-3}
mon_seconds=${REF_MON_SECONDS:-5}
read -r -a mon_clients <<<"${REF_MON_CLIENTS:-1 8}"
work=$(mktemp -d /tmp/loligo-side.XXXXXX)
bench_seconds=${REF_BENCH_SECONDS:-10}
threads=${REF_THREADS:-16}
pg_num=${REF_PG_NUM:-32}
trap '"$bin/loligo" cluster down --dir "$work/c" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

if [ "${REF_ONLY:-}" != "pool" ] && [ -n "${REF_MON_JSONL:-}" ]; then
  for mons in 1 3; do
    rm -rf "$work/c"
    "$bin/loligo" cluster up --mons "$mons" --osds 0 --dir "$work/c" >&2
    for ((r = 1; r <= rounds; r++)); do
      for c in "${mon_clients[@]}"; do
        echo "loligo: monitors=$mons clients=$c round $r/$rounds (${mon_seconds} s)" >&2
        "$bin/loligo" mon-bench --conf "$work/c/loligo.toml" --clients "$c" --seconds "$mon_seconds" \
          --value-bytes "${REF_VALUE_BYTES:-16}" --tag mons="$mons" --tag round="$r" --json \
          >>"$REF_MON_JSONL" || echo "loligo mon-bench mons=$mons clients=$c round $r failed" >&2
      done
    done
    "$bin/loligo" cluster down --dir "$work/c" >&2
  done
fi

# One bench step: loligo bench --format json, turned into radosbench.py's JSON line form.
pool_step() {  # round label block pool_size min_size mode
  local r=$1 label=$2 bs=$3 size=$4 min_size=$5 mode=$6 pool=bench-$2-r$1
  local args=(-p "$pool" bench "$bench_seconds" "$mode" -t "$threads" --format json --conf "$work/c/loligo.toml")
  [ "$mode" = write ] && args+=(-b "$bs" --no-cleanup)
  local started=$SECONDS rc=0
  "$bin/loligo" "${args[@]}" >"$work/bench.json" 2>"$work/bench.err" || rc=$?
  python3 - "$work/bench.json" "$r" "$label" "$bs" "$size" "$min_size" "$mode" "$threads" "$pg_num" "$rc" \
    "loligo ${args[*]}" >>"$REF_POOL_JSONL" <<'PY'
import json, sys
path, r, label, bs, size, min_size, mode, threads, pg, rc, command = sys.argv[1:]
try:
    d = json.load(open(path))
except Exception:
    d = {}
ms = lambda k: round(d[k] * 1000, 4) if isinstance(d.get(k), (int, float)) else None
line = {
    "schema": "loligo.ceph-reference.radosbench/1", "label": label,
    "tags": {"system": "loligo", "round": r}, "pool_size": int(size), "pool_min_size": int(min_size),
    "pg_num": int(pg), "block_size": int(bs), "threads": int(threads), "mode": mode,
    "ok": rc == "0" and bool(d), "iops": d.get("average_iops"), "bandwidth_MBps": d.get("bandwidth"),
    "avg_lat_ms": ms("average_latency"), "stddev_lat_ms": ms("stddev_latency"),
    "max_lat_ms": ms("max_latency"), "min_lat_ms": ms("min_latency"), "p99_ms": ms("p99_latency"),
    "stddev_iops": d.get("stddev_iops"), "ops": d.get("total_writes_made", d.get("total_reads_made")),
    "total_time_run_s": d.get("total_time_run"), "round": int(r), "command": command,
}
print(json.dumps(line))
PY
  echo "loligo: $label size $size $mode: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("average_iops"), "IOPS,", round(d.get("bandwidth", 0), 1), "MB/s")' "$work/bench.json" 2>/dev/null || echo failed) ($((SECONDS - started)) s)" >&2
}

if [ "${REF_ONLY:-}" != "mon" ] && [ -n "${REF_POOL_JSONL:-}" ]; then
  rm -rf "$work/c"
  "$bin/loligo" cluster up --mons 1 --osds 3 --objectstore memstore --no-pool --dir "$work/c" >&2
  shapes=("4096 1" "4096 3" "4194304 1" "4194304 3")
  for ((r = 1; r <= rounds; r++)); do
    for ((i = 0; i < ${#shapes[@]}; i++)); do
      s=${shapes[$(( (i + r - 1) % ${#shapes[@]} ))]}
      bs=${s% *}; size=${s#* }; min_size=1
      [ "$size" -ge 3 ] && min_size=2
      if [ "$bs" -ge 1048576 ]; then label="$((bs / 1048576))m"; else label="$((bs / 1024))k"; fi
      label="$label-size$size"
      "$bin/loligo" pool create "bench-$label-r$r" "$pg_num" --size "$size" --min-size "$min_size" \
        --conf "$work/c/loligo.toml" >&2
      for mode in write seq rand; do pool_step "$r" "$label" "$bs" "$size" "$min_size" "$mode"; done
      "$bin/loligo" pool delete "bench-$label-r$r" --yes-i-really-mean-it --conf "$work/c/loligo.toml" >&2
    done
  done
  "$bin/loligo" cluster down --dir "$work/c" >&2
fi
