#!/usr/bin/env bash
# A minimal vstart-like Ceph 16.2 (Debian) cluster on 127.0.0.1, for reference benchmarks.
#
#   cluster.sh up     --dir DIR [--mons N] [--osds M] [--objectstore memstore|bluestore]
#                     [--mgr auto|0|1] [--pool-size S] [--pool-min-size S] [--pg-num P]
#                     [--memstore-bytes BYTES] [--timeout SECONDS] [--set KEY=VALUE]...
#   cluster.sh down   --dir DIR [--stop-timeout SECONDS] [--purge]
#   cluster.sh status --dir DIR
#   cluster.sh restart-osds --dir DIR [--timeout SECONDS]   (stop and start the OSDs cleanly)
#
# Everything lives in DIR: ceph.conf, cluster.env (the shape), run/ (pid files, admin sockets),
# log/ (daemon logs and their stdout/stderr), mon.<id>/, mgr.<id>/, osd.<n>/ (data).
# Daemons run in the foreground (-f) under setsid+nohup; their pids are recorded in DIR/run and
# `down` stops exactly those pids (SIGTERM, bounded wait, then SIGKILL). No systemd. Auth is off
# (auth_*_required = none). Monitors listen on free ports (msgr2 only) on 127.0.0.1; OSDs and
# the mgr bind 127.0.0.1 in Ceph's usual 6800-7300 range, skipping ports in use.
# Exit codes: 0 ok, 1 failure, 2 usage error / cluster with another shape already running in DIR.
set -euo pipefail

PY=/usr/bin/python3          # Debian's python3: the one python3-rados is built for
log() { printf '%s cluster: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

cmd=${1:-}; [ -n "$cmd" ] || usage; shift
case $cmd in -h|--help|help) usage ;; esac
dir="" mons=1 osds=0 objectstore=memstore mgr=auto pool_size="" pool_min_size=1 pg_num=32
memstore_bytes=$((8 * 1024 * 1024 * 1024)) timeout_s=120 stop_timeout=20 purge=0 extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=$2; shift ;;
    --mons) mons=$2; shift ;;
    --osds) osds=$2; shift ;;
    --objectstore) objectstore=$2; shift ;;
    --mgr) mgr=$2; shift ;;
    --pool-size) pool_size=$2; shift ;;
    --pool-min-size) pool_min_size=$2; shift ;;
    --pg-num) pg_num=$2; shift ;;
    --memstore-bytes) memstore_bytes=$2; shift ;;
    --timeout) timeout_s=$2; shift ;;
    --stop-timeout) stop_timeout=$2; shift ;;
    --purge) purge=1 ;;
    --set) extra+=("$2"); shift ;;
    -h|--help) usage ;;
    *) echo "cluster: unknown argument $1" >&2; usage ;;
  esac
  shift
done
[ -n "$dir" ] || { echo "cluster: --dir is required" >&2; usage; }
[[ $mons =~ ^[1-9]$ ]] || { echo "cluster: --mons must be 1..9" >&2; exit 2; }
[[ $osds =~ ^[0-9]+$ ]] || { echo "cluster: --osds must be a number" >&2; exit 2; }
case $objectstore in memstore|bluestore) ;; *) echo "cluster: --objectstore memstore|bluestore" >&2; exit 2 ;; esac
case $mgr in auto) if [ "$osds" -gt 0 ]; then mgr=1; else mgr=0; fi ;; 0|1) ;; *) echo "cluster: --mgr auto|0|1" >&2; exit 2 ;; esac
[ -n "$pool_size" ] || { if [ "$osds" -ge 3 ]; then pool_size=3; elif [ "$osds" -ge 1 ]; then pool_size=$osds; else pool_size=1; fi; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
conf=$dir/ceph.conf
envf=$dir/cluster.env
mon_ids=(a b c d e f g h i)

# ceph CLI with a bound on connecting and on the whole call.
cephc() { timeout 30 ceph -c "$conf" --connect-timeout 15 "$@"; }

# ---------------------------------------------------------------------------------------------
# Process bookkeeping: DIR/run/<name>.pid holds the pid of each daemon we started.
pid_alive() {  # pid -> 0 if it is alive and is a ceph daemon started with our ceph.conf
  local pid=$1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  local cl; cl=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cl == *ceph-* && $cl == *"$conf"* ]] || return 1
  # a zombie is not alive
  [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != "Z" ]
}
pidfiles() { ls "$dir"/run/${1:-*}.pid 2>/dev/null || true; }
live_pids() {  # [pid-file glob]
  local f
  for f in $(pidfiles "${1:-*}"); do
    local p; p=$(cat "$f" 2>/dev/null || true)
    pid_alive "$p" && echo "$p"
  done
  return 0
}

start_daemon() {  # name binary args...   (runs "binary -f args" in its own session)
  local name=$1 bin=$2; shift 2
  setsid nohup "$bin" -f -c "$conf" "$@" >"$dir/log/$name.out" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$dir/run/$name.pid"
  sleep 0.3
  pid_alive "$pid" || die "$name exited at start (pid $pid); see $dir/log/$name.out and $dir/log/$name.log: $(tail -3 "$dir/log/$name.out" 2>/dev/null | tr '\n' ' ')"
}

stop_all() { stop_matching '*'; }
stop_matching() {  # pid-file glob: SIGTERM those live pids, wait up to stop_timeout, then SIGKILL
  local glob=$1
  local pids; pids=$(live_pids "$glob" | tr '\n' ' ')
  if [ -z "${pids// /}" ]; then rm -f "$dir"/run/$glob.pid; return 0; fi
  log "stopping pids $pids(SIGTERM)"
  local p
  for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
  local deadline=$((SECONDS + stop_timeout)) left
  while :; do
    left=""; for p in $pids; do pid_alive "$p" && left="$left $p"; done
    [ -z "$left" ] && break
    if [ $SECONDS -ge $deadline ]; then
      log "still alive after ${stop_timeout}s:$left (SIGKILL)"
      for p in $left; do kill -KILL "$p" 2>/dev/null || true; done
      local d2=$((SECONDS + 10))
      while [ $SECONDS -lt $d2 ]; do
        left=""; for p in $pids; do pid_alive "$p" && left="$left $p"; done
        [ -z "$left" ] && break; sleep 0.2
      done
      [ -z "$left" ] || die "could not stop:$left"
      break
    fi
    sleep 0.2
  done
  # the daemons' parent is init now: give it a moment to reap them (zombies are harmless)
  local d3=$((SECONDS + 5))
  while [ $SECONDS -lt $d3 ]; do
    left=""; for p in $pids; do [ -e "/proc/$p" ] && left="$left $p"; done
    [ -z "$left" ] && break; sleep 0.1
  done
  rm -f "$dir"/run/$glob.pid
  log "stopped"
}

# ---------------------------------------------------------------------------------------------
do_status() {
  [ -f "$envf" ] || { echo "no cluster in $dir"; return 1; }
  # shellcheck disable=SC1090
  . "$envf"
  echo "cluster in $dir: mons=$MONS osds=$OSDS mgr=$MGR objectstore=$OBJECTSTORE fsid=$FSID"
  echo "mon_host = $MON_HOST"
  local f n=0 alive=0
  for f in $(pidfiles); do
    local p name; p=$(cat "$f"); name=$(basename "$f" .pid); n=$((n + 1))
    if pid_alive "$p"; then echo "  $name pid $p running"; alive=$((alive + 1)); else echo "  $name pid $p not running"; fi
  done
  [ $n -gt 0 ] || echo "  no daemons recorded"
  if [ $alive -gt 0 ]; then cephc status 2>&1 | sed 's/^/  /' || echo "  (ceph status failed or timed out)"; fi
  [ $alive -gt 0 ] && [ $alive -eq $n ]
}

# ---------------------------------------------------------------------------------------------
write_conf() {  # fsid mon_host
  local fsid=$1 mon_host=$2 kv
  cat >"$conf" <<EOF
# Generated by scripts/ceph-reference/cluster.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)
# shape: mons=$mons osds=$osds mgr=$mgr objectstore=$objectstore
[global]
fsid = $fsid
mon_host = $mon_host
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_ipv6 = false
ms_bind_msgr1 = false
# no authentication (as vstart -X); nothing here leaves 127.0.0.1
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
keyring = $dir/keyring
# everything in DIR, nothing in /var/lib/ceph, /var/run/ceph, /var/log/ceph, syslog
run_dir = $dir/run
admin_socket = $dir/run/\$name.asok
log_file = $dir/log/\$name.log
mon_cluster_log_file = $dir/log/cluster.log
log_to_syslog = false
err_to_syslog = false
clog_to_syslog = false
crash_dir = $dir/crash
# one host: replicas go to distinct OSDs, not distinct hosts (must be set before mon mkfs)
osd_crush_chooseleaf_type = 0
osd_pool_default_size = $pool_size
osd_pool_default_min_size = $pool_min_size
osd_pool_default_pg_num = $pg_num
osd_pool_default_pgp_num = $pg_num
osd_pool_default_pg_autoscale_mode = off
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
mon_warn_on_insecure_global_id_reclaim = false
mon_warn_on_insecure_global_id_reclaim_allowed = false
# the work dir's file system may be fuller than the 30 % default warning level
mon_data_avail_warn = 2
mon_data_avail_crit = 1
mon_max_pg_per_osd = 1000
osd_objectstore = $objectstore
memstore_device_bytes = $memstore_bytes

# no optional mgr modules enabled at mkfs (read by the mon; the always-on ones still load)
mgr_initial_modules =
# PG stats reach the mgr every second (default 5), so waits for active+clean end sooner
mgr_stats_period = 1

[mon]
mon_data = $dir/mon.\$id

[mgr]
mgr_data = $dir/mgr.\$id

[osd]
osd_data = $dir/osd.\$id
# bluestore (only with --objectstore bluestore): a sparse file in the osd dir
bluestore_block_create = true
bluestore_block_size = $memstore_bytes
bluestore_fsck_on_mkfs = false
bluestore_fsck_on_mount = false
osd_memory_target = 1073741824
# memstore reports itself rotational: the default 5 s sleep between PG-deletion batches
# would leave a deleted pool's objects in memory (and deleting in the background) for minutes
osd_delete_sleep_hdd = 0
osd_delete_sleep_ssd = 0
osd_delete_sleep_hybrid = 0
# no scrubbing during benchmarks: new PGs are not due before osd_scrub_min_interval (1 day)
# anyway, and none is started while the load average is above this
osd_scrub_load_threshold = 0.01
EOF
  if [ ${#extra[@]} -gt 0 ]; then
    echo "" >>"$conf"; echo "# --set overrides" >>"$conf"; echo "[global]" >>"$conf"
    for kv in "${extra[@]}"; do
      [[ $kv == *=* ]] || die "--set wants KEY=VALUE, got '$kv'"
      echo "${kv%%=*} = ${kv#*=}" >>"$conf"
    done
  fi
}

wait_until() {  # description deadline command...   polls every 0.5 s until the command succeeds
  local what=$1 deadline=$2; shift 2
  local last=0
  while :; do
    if "$@"; then return 0; fi
    [ $SECONDS -lt "$deadline" ] || return 1
    if [ $((SECONDS - last)) -ge 5 ]; then log "waiting for $what ($((SECONDS - t_start)) s)"; last=$SECONDS; fi
    # a daemon that died is a failure, not something to wait for
    local f
    for f in $(pidfiles); do pid_alive "$(cat "$f")" || die "$(basename "$f" .pid) died; see $dir/log/$(basename "$f" .pid).log"; done
    sleep 0.5
  done
}

have_quorum() {
  local n
  n=$(cephc quorum_status -f json 2>/dev/null | $PY -c 'import json,sys; print(len(json.load(sys.stdin).get("quorum_names", [])))' 2>/dev/null) || return 1
  [ "$n" = "$mons" ]
}
osds_up_in() {
  local s
  s=$(cephc osd stat -f json 2>/dev/null | $PY -c 'import json,sys; d=json.load(sys.stdin); d=d.get("osdmap",d); print(d["num_osds"], d["num_up_osds"], d["num_in_osds"])' 2>/dev/null) || return 1
  [ "$s" = "$osds $osds $osds" ]
}
pgs_active() {  # all PGs active+clean (needs the mgr), and no pg in any other state
  cephc pg stat -f json 2>/dev/null | $PY -c '
import json, sys
d = json.load(sys.stdin)
d = d.get("pg_summary", d)
total = d.get("num_pgs", 0)
states = {s["name"]: s["num"] for s in d.get("num_pg_by_state", [])}
sys.exit(0 if total == states.get("active+clean", 0) else 1)' 2>/dev/null
}
health_ok() { [ "$(cephc health 2>/dev/null | awk '{print $1}')" = "HEALTH_OK" ]; }

do_up() {
  if [ -f "$envf" ]; then
    # shellcheck disable=SC1090
    . "$envf"
    local alive; alive=$(live_pids | wc -l)
    if [ "$alive" -gt 0 ]; then
      if [ "$MONS" = "$mons" ] && [ "$OSDS" = "$osds" ] && [ "$OBJECTSTORE" = "$objectstore" ]; then
        log "a cluster is already running in $dir (mons=$MONS osds=$OSDS, $alive daemons alive); nothing to do"
        do_status >&2 || true
        return 0
      fi
      log "a cluster with another shape (mons=$MONS osds=$OSDS objectstore=$OBJECTSTORE) is running in $dir; run 'down' first"
      exit 2
    fi
    log "stale cluster files in $dir (no daemon alive); recreating"
  fi
  for b in ceph-mon ceph ceph-authtool monmaptool; do command -v $b >/dev/null || die "$b not found (run setup.sh)"; done
  if [ "$osds" -gt 0 ]; then command -v ceph-osd >/dev/null || die "ceph-osd not found (run setup.sh)"; fi
  if [ "$mgr" = 1 ]; then command -v ceph-mgr >/dev/null || die "ceph-mgr not found (run setup.sh)"; fi

  t_start=$SECONDS
  local deadline=$((SECONDS + timeout_s))
  rm -rf "$dir"/mon.* "$dir"/mgr.* "$dir"/osd.* "$dir"/run "$dir"/crash "$dir/keyring" "$envf"
  mkdir -p "$dir/run" "$dir/log" "$dir/crash"
  # whatever ends `up` before it succeeded (an error, die, Ctrl-C, SIGTERM from a time-out)
  # stops the daemons started so far, by pid
  up_done=0
  trap 'if [ "$up_done" = 0 ]; then log "up did not complete: stopping what was started"; stop_all; fi' EXIT
  trap 'exit 1' INT TERM HUP

  local fsid; fsid=$(cat /proc/sys/kernel/random/uuid)
  # free ports for the monitors: bind them all at once on 127.0.0.1, then release
  local ports
  ports=$($PY -c '
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$mons")
  read -r -a port_arr <<<"$ports"
  local mon_host="" monmap_args=() i
  for ((i = 0; i < mons; i++)); do
    local addr="[v2:127.0.0.1:${port_arr[$i]}]"
    mon_host="${mon_host:+$mon_host,}$addr"
    monmap_args+=(--addv "${mon_ids[$i]}" "$addr")
  done
  write_conf "$fsid" "$mon_host"
  cat >"$envf" <<EOF
MONS=$mons
OSDS=$osds
MGR=$mgr
OBJECTSTORE=$objectstore
FSID=$fsid
MON_HOST='$mon_host'
POOL_SIZE=$pool_size
EOF
  log "dir $dir; mons=$mons osds=$osds mgr=$mgr objectstore=$objectstore; mon_host $mon_host"

  ceph-authtool --create-keyring --gen-key --name=mon. "$dir/keyring" --cap mon 'allow *' >/dev/null
  ceph-authtool --gen-key --name=client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' "$dir/keyring" >/dev/null
  monmaptool --create --fsid "$fsid" "${monmap_args[@]}" "$dir/monmap" >/dev/null
  for ((i = 0; i < mons; i++)); do
    local id=${mon_ids[$i]}
    mkdir -p "$dir/mon.$id"
    timeout 60 ceph-mon --mkfs -c "$conf" -i "$id" --monmap "$dir/monmap" --keyring "$dir/keyring" \
      >"$dir/log/mon.$id.mkfs.out" 2>&1 || die "mkfs of mon.$id failed: $(tail -3 "$dir/log/mon.$id.mkfs.out")"
  done
  for ((i = 0; i < mons; i++)); do start_daemon "mon.${mon_ids[$i]}" ceph-mon -i "${mon_ids[$i]}"; done
  wait_until "quorum of $mons" "$deadline" have_quorum || die "no quorum after ${timeout_s}s"
  log "quorum of $mons after $((SECONDS - t_start)) s"

  if [ "$mgr" = 1 ]; then
    # keep the always-on devicehealth module from creating its pool and scraping devices
    cephc config set mgr mgr/devicehealth/enable_monitoring false --force >/dev/null 2>&1 || log "could not turn devicehealth monitoring off"
    mkdir -p "$dir/mgr.x"
    start_daemon mgr.x ceph-mgr -i x
  fi

  for ((i = 0; i < osds; i++)); do
    local uuid id
    uuid=$(cat /proc/sys/kernel/random/uuid)
    id=$(cephc osd new "$uuid" 2>"$dir/log/osd-new.err") || die "ceph osd new failed: $(cat "$dir/log/osd-new.err")"
    mkdir -p "$dir/osd.$id"
    timeout 120 ceph-osd -c "$conf" -i "$id" --mkfs --osd-uuid "$uuid" >"$dir/log/osd.$id.mkfs.out" 2>&1 \
      || die "mkfs of osd.$id failed: $(tail -3 "$dir/log/osd.$id.mkfs.out")"
    start_daemon "osd.$id" ceph-osd -i "$id"
  done
  if [ "$osds" -gt 0 ]; then
    wait_until "$osds OSDs up and in" "$deadline" osds_up_in || die "OSDs not all up+in after ${timeout_s}s"
    log "$osds OSDs up and in after $((SECONDS - t_start)) s"
  fi
  if [ "$mgr" = 1 ]; then
    wait_until "mgr available, all PGs active+clean" "$deadline" pgs_active || die "PGs not active+clean after ${timeout_s}s"
    wait_until "HEALTH_OK" "$deadline" health_ok || die "no HEALTH_OK after ${timeout_s}s: $(cephc health detail 2>&1 | head -5)"
  fi
  up_done=1
  local h; h=$(cephc health 2>&1 | head -1 || true)
  log "up in $((SECONDS - t_start)) s: $h"
  echo "up_seconds=$((SECONDS - t_start))" >>"$envf"
}

do_down() {
  if [ ! -d "$dir/run" ] && [ ! -f "$envf" ]; then log "no cluster in $dir"; return 0; fi
  stop_all
  if [ "$purge" = 1 ]; then
    rm -rf "$dir"/mon.* "$dir"/mgr.* "$dir"/osd.* "$dir/monmap" "$dir/keyring"
    log "purged daemon data in $dir (logs and ceph.conf kept)"
  fi
}

do_restart_osds() {
  # Stop the OSDs (cleanly: memstore writes its objects out and, when it mounts again, recounts
  # its used bytes from them) and start them again; then wait as `up` does. The cure for
  # memstore's used-bytes counter after it underflowed.
  [ -f "$envf" ] || die "no cluster in $dir"
  # shellcheck disable=SC1090
  . "$envf"
  mons=$MONS osds=$OSDS mgr=$MGR
  [ "$osds" -gt 0 ] || die "the cluster in $dir has no OSDs"
  t_start=$SECONDS
  local deadline=$((SECONDS + timeout_s)) ids=() f
  for f in $(pidfiles 'osd.*'); do ids+=("$(basename "$f" .pid | sed 's/^osd\.//')"); done
  [ ${#ids[@]} -gt 0 ] || die "no OSD pid files in $dir/run"
  stop_matching 'osd.*'
  local id
  for id in "${ids[@]}"; do start_daemon "osd.$id" ceph-osd -i "$id"; done
  wait_until "$osds OSDs up and in" "$deadline" osds_up_in || die "OSDs not all up+in after ${timeout_s}s"
  if [ "$mgr" = 1 ]; then
    wait_until "all PGs active+clean" "$deadline" pgs_active || die "PGs not active+clean after ${timeout_s}s"
    wait_until "HEALTH_OK" "$deadline" health_ok || die "no HEALTH_OK after ${timeout_s}s: $(cephc health detail 2>&1 | head -5)"
  fi
  log "OSDs restarted in $((SECONDS - t_start)) s: $(cephc health 2>&1 | head -1 || true)"
}

case $cmd in
  up) do_up ;;
  restart-osds) do_restart_osds ;;
  down) do_down ;;
  status) do_status ;;
  *) usage ;;
esac
