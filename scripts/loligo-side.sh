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
trap '"$bin/loligo" cluster down --dir "$work/c" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

if [ "${REF_ONLY:-}" != "pool" ] && [ -n "${REF_MON_JSONL:-}" ]; then
  for mons in 1 3; do
    rm -rf "$work/c"
    "$bin/loligo" cluster up --mons "$mons" --dir "$work/c" >&2
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
