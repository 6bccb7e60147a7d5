#!/usr/bin/python3
"""`rados bench` write, seq and rand on a fresh pool, parsed into JSON lines; then the pool is deleted.

  radosbench.py --conf DIR/ceph.conf --pool NAME [--size S] [--min-size M] [--pg-num P]
                [--block-size BYTES|4K|4M] [--threads 16] [--seconds 10] [--read-seconds S]
                [--modes write,seq,rand] [--label L] [--out FILE] [--raw-dir DIR]
                [--rados-cmd rados] [--keep-pool] [--no-pool-create] [--timeout-margin 60]

Steps:
 1. create the pool (replicated, pg_num = pgp_num = P, size S, min_size M, autoscale off,
    application "rados"), wait (bounded) until all its PGs are active+clean;
 2. `rados -c CONF -p POOL bench SECONDS write -b BYTES -t THREADS --no-cleanup`, then
    `... bench SECONDS seq -t THREADS`, then `... bench SECONDS rand -t THREADS`, each under
    `timeout` (SECONDS + margin) and killed (SIGTERM, then SIGKILL) past it;
 3. parse each summary (Bandwidth, Average/Stddev/Max/Min IOPS, Average/Stddev/Max/Min latency)
    into one JSON line (appended to --out, and printed);
 4. delete the pool (never `rados cleanup`: per-object deletes on memstore are what makes its
    usage counter underflow) and wait (bounded) until every OSD has finished removing its PGs,
    so that the next benchmark does not share the CPU with a background deletion.

rados bench prints no latency percentiles (only average, stddev, max, min, and per second the
last and average latency), so "p99_ms" is null in every line.

Pool administration goes through python3-rados (mon/mgr/osd commands, each bounded); only the
benchmark itself runs the `rados` tool, so `--rados-cmd` can name another tool with the same
command line and output (with --no-pool-create/--keep-pool when that tool manages its own pools).
Exit status: 0 all steps ok; 1 a step failed or timed out; 2 bad arguments; 3 all steps ok,
but an OSD's memstore used-bytes counter underflowed (restart the OSDs before benchmarking
again: `cluster.sh restart-osds`); 4 nothing measured because of such an OSD (restart, rerun).
"""
import argparse
import json
import os
import re
import resource
import shlex
import signal
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
from refcommon import cpu_seconds, host_busy_seconds, others_share

try:
    import rados
except ImportError:
    sys.stderr.write("radosbench: python3-rados not importable; run with /usr/bin/python3 "
                     "(scripts/ceph-reference/setup.sh installs python3-rados)\n")
    sys.exit(2)

CALL_TIMEOUT = 30  # seconds, every mon/mgr/osd command


def log(msg):
    sys.stderr.write(time.strftime("%H:%M:%S ") + "radosbench: " + msg + "\n")
    sys.stderr.flush()


class Fail(Exception):
    pass


def bounded(fn, timeout, what):
    """Run fn() in a thread and give up after timeout (librados' mgr_command has no bound)."""
    box = {}

    def run():
        try:
            box["v"] = fn()
        except Exception as e:  # noqa: BLE001
            box["e"] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise Fail(f"{what}: no answer within {timeout} s")
    if "e" in box:
        raise Fail(f"{what}: {box['e']!r}")
    return box["v"]


class Cluster:
    def __init__(self, conf):
        self.r = rados.Rados(conffile=conf, conf={
            "rados_mon_op_timeout": str(CALL_TIMEOUT),
            "rados_osd_op_timeout": str(CALL_TIMEOUT),
            "client_mount_timeout": str(CALL_TIMEOUT),
        })
        bounded(lambda: self.r.connect(timeout=CALL_TIMEOUT), CALL_TIMEOUT + 5, "connect")

    def close(self):
        try:
            bounded(self.r.shutdown, 10, "shutdown")
        except Fail:
            pass

    def _check(self, what, res):
        ret, out, outs = res
        if ret != 0:
            raise Fail(f"{what}: error {ret}: {outs.strip()}")
        return out

    def mon(self, **cmd):
        what = cmd["prefix"]
        res = bounded(lambda: self.r.mon_command(json.dumps(cmd), b"", timeout=CALL_TIMEOUT),
                      CALL_TIMEOUT + 5, what)
        return self._check(what, res)

    def mgr(self, **cmd):
        what = cmd["prefix"]
        res = bounded(lambda: self.r.mgr_command(json.dumps(cmd), b"", timeout=CALL_TIMEOUT),
                      CALL_TIMEOUT + 5, what)
        return self._check(what, res)

    def osd(self, osd_id, **cmd):
        what = f"osd.{osd_id} {cmd['prefix']}"
        res = bounded(lambda: self.r.osd_command(osd_id, json.dumps(cmd), b"", timeout=CALL_TIMEOUT),
                      CALL_TIMEOUT + 5, what)
        return self._check(what, res)

    def pool_exists(self, name):
        return name in json.loads(self.mon(prefix="osd pool ls", format="json"))

    def create_pool(self, name, pg_num, size, min_size):
        self.mon(prefix="osd pool create", pool=name, pg_num=pg_num, pgp_num=pg_num,
                 pool_type="replicated", size=size, autoscale_mode="off")
        self.mon(prefix="osd pool set", pool=name, var="min_size", val=str(min_size))
        self.mon(prefix="osd pool application enable", pool=name, app="rados")

    def pool_pg_states(self, name):
        d = json.loads(self.mgr(prefix="pg ls-by-pool", poolstr=name, format="json"))
        stats = d.get("pg_stats", d) if isinstance(d, dict) else d
        states = {}
        for p in stats:
            states[p["state"]] = states.get(p["state"], 0) + 1
        return states

    def osd_epoch(self):
        return json.loads(self.mon(prefix="osd dump", format="json"))["epoch"]

    def osd_ids(self):
        return json.loads(self.mon(prefix="osd ls", format="json"))

    def osd_removal_state(self, osd_id):
        st = json.loads(self.osd(osd_id, prefix="status"))
        perf = json.loads(self.osd(osd_id, prefix="perf dump", logger="osd"))
        perf = perf.get("osd", perf)
        return st.get("newest_map", 0), perf.get("numpg_removing", 0), perf.get("stat_bytes_used", 0)

    def delete_pool(self, name):
        self.mon(prefix="osd pool delete", pool=name, pool2=name, yes_i_really_really_mean_it=True)


def wait_pool_clean(c, pool, pg_num, limit):
    t0 = time.monotonic()
    last_log = 0.0
    while True:
        try:
            states = c.pool_pg_states(pool)
        except Fail as e:
            states = {"error": str(e)}
        if states.get("active+clean", 0) == pg_num and sum(states.values()) == pg_num:
            return time.monotonic() - t0
        el = time.monotonic() - t0
        if el > limit:
            raise Fail(f"pool {pool}: PGs not all active+clean after {limit} s: {states}")
        if el - last_log >= 5:
            log(f"waiting for {pool} PGs active+clean: {states}")
            last_log = el
        time.sleep(0.5)


def osds_used(c):
    return sum(c.osd_removal_state(i)[2] for i in c.osd_ids())


_fake_underflow = os.environ.get("CEPH_REF_FAKE_UNDERFLOW", "")  # test hook: "first" or "after"


def underflowed_osds(c, when=""):
    """OSDs whose used bytes exceed their size: memstore's used-bytes counter went below zero
    (it happens when many objects are deleted, PG removal included); such an OSD thinks it is
    full and blocks every write until it is restarted."""
    if _fake_underflow and _fake_underflow == when:
        return [0]
    bad = []
    for i in c.osd_ids():
        perf = json.loads(c.osd(i, prefix="perf dump", logger="osd"))
        perf = perf.get("osd", perf)
        if perf.get("stat_bytes", 0) and perf.get("stat_bytes_used", 0) > perf.get("stat_bytes", 0):
            bad.append(i)
    return bad


EXIT_RESTART_AFTER = 3   # results are good, but restart the OSDs before the next benchmark
EXIT_RESTART_FIRST = 4   # nothing was measured: restart the OSDs, then run this again


def wait_pgs_removed(c, epoch, limit, used_baseline=None, used_wait=30):
    """Every OSD has seen the osdmap that deleted the pool and removes no PG any more; then
    (softly, up to used_wait s) the OSDs' bytes used are back near what they were before the pool
    (the statfs figure is refreshed every few seconds, so it lags the removal)."""
    t0 = time.monotonic()
    ids = c.osd_ids()
    clean_polls = 0
    last_log = 0.0
    used = None
    while True:
        states = {i: c.osd_removal_state(i) for i in ids}
        done = all(e >= epoch and rm == 0 for e, rm, _ in states.values())
        clean_polls = clean_polls + 1 if done else 0
        used = sum(u for _, _, u in states.values())
        if clean_polls >= 2:
            break
        el = time.monotonic() - t0
        if el > limit:
            raise Fail(f"PG removal not finished after {limit} s: {states}")
        if el - last_log >= 5:
            log(f"waiting for PG removal: {{osd: (map epoch, removing, bytes used)}} = {states}")
            last_log = el
        time.sleep(0.5)
    if used_baseline is not None:
        t1 = time.monotonic()
        slack = 64 * 1048576
        while used > used_baseline + slack and time.monotonic() - t1 < used_wait:
            if underflowed_osds(c):
                break
            time.sleep(1.0)
            used = osds_used(c)
        if used > used_baseline + slack:
            log(f"warning: OSD bytes used {used / 1048576:.1f} MiB, before the pool "
                f"{used_baseline / 1048576:.1f} MiB")
    return time.monotonic() - t0, used


# --- rados bench output ---------------------------------------------------------------------
FIELDS = [
    # (label in rados bench's summary, JSON key, scale)
    ("Total time run", "total_time_run_s", 1),
    ("Total writes made", "ops", 1),
    ("Total reads made", "ops", 1),
    ("Write size", "op_bytes", 1),
    ("Read size", "op_bytes", 1),
    ("Object size", "object_bytes", 1),
    ("Bandwidth (MB/sec)", "bandwidth_MBps", 1),
    ("Stddev Bandwidth", "stddev_bandwidth_MBps", 1),
    ("Max bandwidth (MB/sec)", "max_bandwidth_MBps", 1),
    ("Min bandwidth (MB/sec)", "min_bandwidth_MBps", 1),
    ("Average IOPS", "iops", 1),
    ("Stddev IOPS", "stddev_iops", 1),
    ("Max IOPS", "max_iops", 1),
    ("Min IOPS", "min_iops", 1),
    ("Average Latency(s)", "avg_lat_ms", 1000),
    ("Stddev Latency(s)", "stddev_lat_ms", 1000),
    ("Max latency(s)", "max_lat_ms", 1000),
    ("Min latency(s)", "min_lat_ms", 1000),
]


def parse_bench(text):
    """Parse the summary block of `rados bench` (write or seq/rand) into a dict."""
    out = {}
    for label, key, scale in FIELDS:
        m = re.search(r"^" + re.escape(label) + r":\s+([-+0-9.eE]+|nan|inf)\s*$", text, re.M)
        if m:
            try:
                v = float(m.group(1)) * scale
            except ValueError:
                continue
            if key in ("ops", "op_bytes", "object_bytes") or (key.endswith("iops") and v == int(v)):
                v = int(v)
            out[key] = round(v, 4) if isinstance(v, float) else v
    # per-second rows: "  sec Cur ops started finished avg MB/s cur MB/s last lat(s) avg lat(s)"
    rows = re.findall(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([-0-9.]+)\s+([-0-9.]+)\s+(\S+)\s+(\S+)\s*$", text, re.M)
    out["per_second_rows"] = len(rows)
    out["verify_errors"] = len(re.findall(r"not correct", text, re.I))
    return out


def run_bench(args, mode, seconds, raw_path):
    cmd = shlex.split(args.rados_cmd) + ["-c", args.conf, "-p", args.pool, "bench", str(seconds), mode]
    if mode == "write":
        cmd += ["-b", str(args.block_size), "-t", str(args.threads), "--no-cleanup"]
    else:
        cmd += ["-t", str(args.threads)]
    limit = seconds + args.timeout_margin
    log(" ".join(cmd) + f"   (time-out {limit} s)")
    cpu0 = cpu_seconds(args.cpu_pids)
    host0 = host_busy_seconds()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    timed_out = False
    try:
        text, _ = p.communicate(timeout=limit)
    except BaseException as e:  # time-out, or SIGTERM/SIGINT: the rados process goes too
        if not isinstance(e, subprocess.TimeoutExpired):
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(p.pid, sig)
                    p.wait(timeout=5)
                    break
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    continue
            raise
        timed_out = True
        os.killpg(p.pid, signal.SIGTERM)
        try:
            text, _ = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            text, _ = p.communicate()
    wall = time.monotonic() - t0
    server_cpu = cpu_seconds(args.cpu_pids) - cpu0
    host_busy = host_busy_seconds() - host0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    if raw_path:
        with open(raw_path, "w") as f:
            f.write("$ " + " ".join(shlex.quote(x) for x in cmd) + "\n" + text)
    res = parse_bench(text)
    res.update({"command": " ".join(cmd), "rc": p.returncode, "timed_out": timed_out,
                "wall_s": round(wall, 3), "client_cpu_s": round(client_cpu, 3),
                # the rados process's start-up and its summary are inside the window too
                "others_cpu_share": others_share(host_busy, server_cpu + client_cpu, wall)})
    if args.cpu_pids:
        res["server_cpu_s"] = round(server_cpu, 3)
        if res.get("ops"):
            res["server_cpu_us_per_op"] = round(server_cpu / res["ops"] * 1e6, 1)
            res["client_cpu_us_per_op"] = round(client_cpu / res["ops"] * 1e6, 1)
    return res, text


def parse_size(s):
    m = re.fullmatch(r"(\d+)([KkMmGg]?)(i?[Bb]?)", s)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {s}")
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}[m.group(2).lower()]


class Interrupted(BaseException):
    pass


def on_signal(signum, _frame):
    raise Interrupted(f"signal {signum}")


def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--conf", required=True)
    ap.add_argument("--pool", required=True)
    ap.add_argument("--size", type=int, default=1, help="replicas (default 1)")
    ap.add_argument("--min-size", type=int, default=1)
    ap.add_argument("--pg-num", type=int, default=32)
    ap.add_argument("--block-size", type=parse_size, default=4096, help="write size: bytes or 4K/4M")
    ap.add_argument("--threads", type=int, default=16, help="rados bench -t (default 16)")
    ap.add_argument("--seconds", type=int, default=10, help="write seconds (default 10)")
    ap.add_argument("--read-seconds", type=int, help="seq/rand seconds (default = --seconds)")
    ap.add_argument("--modes", default="write,seq,rand")
    ap.add_argument("--label", default="")
    ap.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                    help="copied into every JSON line's tags (repeatable)")
    ap.add_argument("--out", help="append the JSON lines to this file")
    ap.add_argument("--raw-dir", help="keep each rados bench output in this directory")
    ap.add_argument("--rados-cmd", default="rados")
    ap.add_argument("--cpu-pids", default="", help="comma-separated daemon pids whose CPU time is recorded per run")
    ap.add_argument("--keep-pool", action="store_true", help="do not delete the pool afterwards")
    ap.add_argument("--no-pool-create", action="store_true", help="use an existing pool")
    ap.add_argument("--timeout-margin", type=int, default=60, help="seconds over the bench time before it is killed")
    ap.add_argument("--pool-wait", type=int, default=90, help="bound on waiting for PGs, seconds")
    args = ap.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    args.cpu_pids = [int(x) for x in args.cpu_pids.split(",") if x.strip()]
    if any(m not in ("write", "seq", "rand") for m in modes):
        ap.error("--modes takes write,seq,rand")
    if not os.path.exists(args.conf):
        ap.error(f"no such file {args.conf}")
    read_seconds = args.read_seconds or args.seconds
    if args.raw_dir:
        os.makedirs(args.raw_dir, exist_ok=True)

    base = {
        "schema": "loligo.ceph-reference.radosbench/1",
        "label": args.label, "tags": dict(t.split("=", 1) for t in args.tag if "=" in t),
        "pool": args.pool, "pool_size": args.size, "pool_min_size": args.min_size,
        "pg_num": args.pg_num, "block_size": args.block_size, "threads": args.threads,
        "p99_ms": None, "percentiles_note": "rados bench prints no latency percentiles",
    }
    ok = True
    try:
        c = Cluster(args.conf)
    except Fail as e:
        log(f"ERROR: cannot reach the cluster of {args.conf}: {e}")
        return 1
    created = False
    interrupted = False
    need_restart_first = need_restart_after = False
    used_baseline = None
    lines = []
    try:
        if not args.no_pool_create:
            if c.pool_exists(args.pool):
                raise Fail(f"pool {args.pool} already exists (delete it, or pass --no-pool-create)")
            bad = underflowed_osds(c, "first")
            if bad:
                need_restart_first = True
                raise Fail(f"osd.{bad} report more bytes used than they have (memstore's used-bytes "
                           "counter underflowed): they block writes until restarted")
            used_baseline = osds_used(c)
            c.create_pool(args.pool, args.pg_num, args.size, args.min_size)
            created = True
            waited = wait_pool_clean(c, args.pool, args.pg_num, args.pool_wait)
            log(f"pool {args.pool} (size {args.size}, min_size {args.min_size}, pg_num {args.pg_num}) "
                f"active+clean after {waited:.1f} s")
            bad = underflowed_osds(c)
            if bad:
                need_restart_first = True
                raise Fail(f"osd.{bad}: memstore's used-bytes counter underflowed; not benchmarking")
        for mode in modes:
            secs = args.seconds if mode == "write" else read_seconds
            raw = os.path.join(args.raw_dir, f"{args.label or args.pool}-{mode}.txt") if args.raw_dir else None
            res, text = run_bench(args, mode, secs, raw)
            line = dict(base, mode=mode, requested_seconds=secs, **res)
            line["ok"] = (res["rc"] == 0 and not res["timed_out"] and "iops" in res
                          and res.get("verify_errors", 0) == 0)
            lines.append(line)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(line) + "\n")
            print(json.dumps(line), flush=True)
            if line["ok"]:
                log(f"{mode}: {res.get('iops')} IOPS, {res.get('bandwidth_MBps')} MB/s, "
                    f"avg {res.get('avg_lat_ms'):.3f} ms, max {res.get('max_lat_ms'):.3f} ms "
                    f"({res.get('ops')} ops in {res.get('total_time_run_s')} s; others' CPU {res.get('others_cpu_share')})")
            else:
                ok = False
                log(f"{mode} FAILED (rc {res['rc']}, timed out {res['timed_out']}): "
                    + " | ".join(text.strip().splitlines()[-5:]))
                break  # seq/rand need a good write
    except Fail as e:
        ok = False
        log(f"ERROR: {e}")
    except BaseException:
        interrupted = True
        raise
    finally:
        if created and not args.keep_pool and interrupted:
            try:  # one bounded attempt, no waiting: whoever interrupted us wants us gone
                c.delete_pool(args.pool)
            except BaseException:  # noqa: BLE001
                pass
        elif created and not args.keep_pool:
            try:
                epoch0 = c.osd_epoch()
                c.delete_pool(args.pool)
                epoch = max(c.osd_epoch(), epoch0 + 1)
                waited, used = wait_pgs_removed(c, epoch, 120, used_baseline)
                log(f"pool {args.pool} deleted; PGs removed after {waited:.1f} s "
                    f"(OSD bytes used now {used / 1048576:.1f} MiB)")
                bad = underflowed_osds(c, "after")
                if bad:
                    need_restart_after = True
                    log(f"osd.{bad}: memstore's used-bytes counter underflowed while the pool was "
                        "deleted; the OSDs need a restart before the next benchmark")
            except Fail as e:
                ok = False
                log(f"ERROR deleting pool {args.pool}: {e}")
        c.close()
    if need_restart_first:
        return EXIT_RESTART_FIRST
    if not ok:
        return 1
    return EXIT_RESTART_AFTER if need_restart_after else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (Interrupted, KeyboardInterrupt) as e:
        log(f"interrupted ({e!r})")
        sys.exit(130)
