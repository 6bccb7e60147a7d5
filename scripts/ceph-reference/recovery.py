#!/usr/bin/python3
"""The Ceph side of the recovery benchmark: what Loligo's recovery profile does (loligo profile
run Profiles/recovery-4k.toml), on a running Ceph cluster (cluster.sh up with 4 OSDs and the mgr).

  recovery.py --conf DIR/ceph.conf --load-bin PATH --out-dir DIR [--pool recovery]
              [--pg-num 32] [--size 3] [--min-size 2] [--objects 2000] [--object-size 65536]
              [--block 4096] [--threads 16] [--osd 0] [--pre-time 10] [--post-time 10]
              [--clean-timeout 1800] [--tag K=V]...

 1. records the OSD's recovery settings (Ceph's defaults unless the cluster was given others);
 2. creates the pool and waits until every PG is active+clean;
 3. prefills it: recovery-load prefill (OBJECTS objects of OBJECT_SIZE bytes, THREADS in
    flight), and waits for active+clean again;
 4. starts the client load (recovery-load run: BLOCK-byte overwrites of the dataset, THREADS in
    flight, every acknowledged write's completion time and latency logged);
 5. after PRE_TIME s marks the OSD out (`osd out`); asks the mgr's `pg stat` 4 times a second
    until every PG is active+clean after an answer that showed one not clean (the rule of
    Loligo's profile: the only state is exactly active+clean and it counts num_pgs; `pg stat`
    rather than `status`, whose PG map is the mgr's digest, a second or two older); marks it
    in (`osd in`); waits again; runs POST_TIME s more; stops the load (SIGTERM: it drains what
    is in flight, then reads every block back and checks its last acknowledged version);
 6. at every poll also takes `pg ls` and adds up the PGs' num_bytes_recovered increases (as
    Loligo's RecoveredCounter does), and `status` for the degraded/misplaced counts and rate;
 7. cuts the load's log into seconds and phases (pre, recovering-out, recovering-in, post),
    writes OUT_DIR/per-second.csv (Loligo's columns) and prints one JSON line whose `result`
    has the keys of Loligo's loligo.recovery/1 result.
Exit status 0 when both recoveries reached clean and nothing acknowledged was lost.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from radosbench import Cluster, Fail, log  # noqa: E402

POLLS_PER_SECOND = 4
# What bounds Ceph's recovery: read from the OSD so the results say what was in force.
SETTINGS = [
    "osd_max_backfills", "osd_recovery_max_active", "osd_recovery_max_active_hdd",
    "osd_recovery_max_active_ssd", "osd_recovery_sleep", "osd_recovery_sleep_hdd",
    "osd_recovery_sleep_ssd", "osd_recovery_sleep_hybrid", "osd_recovery_op_priority",
    "osd_client_op_priority", "osd_op_queue", "osd_min_pg_log_entries",
    "osd_max_pg_log_entries", "osd_objectstore",
]


def pg_sample(status):
    osdmap = status.get("osdmap", {})
    osdmap = osdmap.get("osdmap", osdmap)
    pgmap = status.get("pgmap", {})
    states = {}
    for entry in pgmap.get("pgs_by_state", []):
        states[entry["state_name"]] = states.get(entry["state_name"], 0) + entry["count"]
    num = pgmap.get("num_pgs", 0)
    return {
        "epoch": osdmap.get("epoch", 0), "num_pgs": num, "states": states,
        "clean": num > 0 and list(states) == ["active+clean"] and states["active+clean"] == num,
        "active_clean": states.get("active+clean", 0),
        "degraded": pgmap.get("degraded_objects", 0), "misplaced": pgmap.get("misplaced_objects", 0),
        "recovery_bps": pgmap.get("recovering_bytes_per_sec", 0),
        "recovery_ops": pgmap.get("recovering_objects_per_sec", 0),
    }


def pg_stat_clean(pg_stat):
    """The mgr's own PG map (`ceph pg stat`): every PG exactly active+clean."""
    d = pg_stat.get("pg_summary", pg_stat)
    states = {e["name"]: e["num"] for e in d.get("num_pg_by_state", [])}
    num = d.get("num_pgs", 0)
    return num > 0 and list(states) == ["active+clean"] and states["active+clean"] == num


class RecoveredCounter:
    """Increases of the PGs' num_bytes_recovered/num_objects_recovered between two `pg ls`
    answers, counted only for a PG whose acting primary did not change in between."""

    def __init__(self):
        self.last = {}

    def add(self, pg_ls):
        nbytes = nobjects = 0
        for pg in pg_ls.get("pg_stats", []):
            s = pg.get("stat_sum", {})
            now = (pg.get("acting_primary"), s.get("num_bytes_recovered", 0), s.get("num_objects_recovered", 0))
            before = self.last.get(pg["pgid"])
            if before and before[0] == now[0]:
                nbytes += max(0, now[1] - before[1])
                nobjects += max(0, now[2] - before[2])
            self.last[pg["pgid"]] = now
        return nbytes, nobjects


def percentile(sorted_values, p):
    """Nearest rank, as HdrHistogram's valueAtPercentile reports it (to its precision)."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--conf", required=True)
    ap.add_argument("--load-bin", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--pool", default="recovery")
    ap.add_argument("--pg-num", type=int, default=32)
    ap.add_argument("--size", type=int, default=3)
    ap.add_argument("--min-size", type=int, default=2)
    ap.add_argument("--objects", type=int, default=2000)
    ap.add_argument("--object-size", type=int, default=65536)
    ap.add_argument("--block", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--osd", type=int, default=0)
    ap.add_argument("--pre-time", type=int, default=10)
    ap.add_argument("--post-time", type=int, default=10)
    ap.add_argument("--clean-timeout", type=int, default=1800)
    ap.add_argument("--tag", action="append", default=[])
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    result = {"system": "ceph", "tags": dict(t.split("=", 1) for t in a.tag), "ok": False,
              "parameters": {k: v for k, v in vars(a).items() if k not in ("tag", "load_bin", "out_dir", "conf")}}
    c = Cluster(a.conf)
    load = None
    dataset = ["--conf", a.conf, "--pool", a.pool, "--objects", str(a.objects), "--object-size",
               str(a.object_size), "--block", str(a.block), "--threads", str(a.threads)]
    try:
        settings = {}
        for key in SETTINGS:
            try:
                settings[key] = json.loads(c.osd(a.osd, prefix="config get", var=key)).get(key)
            except (Fail, ValueError) as e:
                settings[key] = f"unknown ({e})"
        metadata = json.loads(c.mon(prefix="osd metadata", id=a.osd, format="json"))
        settings["rotational"] = metadata.get("rotational")
        result["ceph_settings"] = settings
        log("recovery settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))

        def status():
            try:
                return pg_sample(json.loads(c.mon(prefix="status", format="json")))
            except Fail as e:
                log(f"status: {e}")
                return None

        def wait_clean(what):
            t = time.monotonic()
            while not (status() or {}).get("clean"):
                if time.monotonic() - t > 120:
                    raise Fail(f"{what}: PGs not active+clean within 120 s")
                time.sleep(0.5)

        c.create_pool(a.pool, a.pg_num, a.size, a.min_size)
        wait_clean("the new pool")
        prefill = subprocess.run([a.load_bin, "prefill"] + dataset, capture_output=True, text=True, timeout=600)
        if prefill.returncode != 0:
            raise Fail(f"prefill failed: {prefill.stdout} {prefill.stderr}")
        result["prefill"] = json.loads(prefill.stdout.strip().splitlines()[-1])
        log(f"prefilled {a.objects} objects of {a.object_size} bytes in {result['prefill']['seconds']} s")
        wait_clean("after the prefill")

        log_path = os.path.join(a.out_dir, "load-ops.txt")
        load = subprocess.Popen([a.load_bin, "run"] + dataset + ["--log", log_path],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        start = time.monotonic()
        samples = []      # (t, sample)
        recovered = []    # (t, phase, bytes, objects)
        transitions = [(start, "pre")]
        phase, acted_at, action_epoch, saw_unclean = "pre", start, 0, False
        counter = RecoveredCounter()
        figures = {}

        def clean_now():
            try:
                return pg_stat_clean(json.loads(c.mgr(prefix="pg stat", format="json")))
            except Fail as e:
                log(f"pg stat: {e}")
                return None

        def act(prefix_cmd):
            nonlocal acted_at, action_epoch, saw_unclean
            acted_at = time.monotonic()
            c.mon(prefix=prefix_cmd, ids=[str(a.osd)])
            s = status()
            action_epoch = s["epoch"] if s else 1 << 62
            saw_unclean = False
            log(f"{acted_at - start:6.2f} s: {prefix_cmd} {a.osd}")

        tick = 0
        while True:
            tick += 1
            due = start + tick / POLLS_PER_SECOND
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            now = time.monotonic()
            if load.poll() is not None:
                raise Fail(f"the load ended early: {load.stdout.read()} {load.stderr.read()}")
            s = status()
            if s:
                samples.append((now, s))
            clean = clean_now() if phase in ("recovering-out", "recovering-in") else None
            # After the status and pg stat, so what it shows recovered belongs to this phase.
            try:
                nbytes, nobjects = counter.add(json.loads(c.mgr(prefix="pg ls", format="json")))
                recovered.append((now, phase, nbytes, nobjects))
            except (Fail, ValueError) as e:
                log(f"pg ls: {e}")
            if clean is not None and s and s["epoch"] >= action_epoch:
                if not clean:
                    saw_unclean = True
                elif saw_unclean:
                    seconds = round(now - acted_at, 3)
                    log(f"{now - start:6.2f} s: every PG active+clean, {seconds} s after the "
                        + ("out" if phase == "recovering-out" else "in"))
                    if phase == "recovering-out":
                        figures["seconds_to_clean_out"] = seconds
                        phase = "recovering-in"
                        transitions.append((now, phase))
                        act("osd in")
                    else:
                        figures["seconds_to_clean_in"] = seconds
                        phase = "post"
                        transitions.append((now, phase))
                        post_start = now
            if phase == "pre" and now - start >= a.pre_time:
                phase = "recovering-out"
                transitions.append((now, phase))
                act("osd out")
            if phase in ("recovering-out", "recovering-in") and now - acted_at > a.clean_timeout:
                raise Fail(f"not every PG active+clean {a.clean_timeout} s after the "
                           f"{'out' if phase == 'recovering-out' else 'in'}: {s and s['states']}")
            if phase == "post" and now - post_start >= a.post_time:
                end = now
                break
            if tick % POLLS_PER_SECOND == 0 and s:
                got = sum(r[2] for r in recovered if r[0] > now - 1)
                log(f"{now - start:6.1f} s {phase:<14} {s['active_clean']}/{s['num_pgs']} active+clean, "
                    f"degraded {s['degraded']}, misplaced {s['misplaced']}, recovered {got / 1048576:.2f} MiB")

        load.send_signal(signal.SIGTERM)
        out, err = load.communicate(timeout=600)
        load_result = json.loads(out.strip().splitlines()[-1])
        result["load"] = {k: v for k, v in load_result.items() if k != "verify"}

        # Seconds and phases from the op log: second k covers (start + k - 1, start + k].
        ops = []
        with open(log_path) as f:
            for line in f:
                done, latency = line.split()
                ops.append((int(done) / 1e9, int(latency) / 1e3))
        transitions.append((end, "end"))

        def phase_at(t):
            found = None
            for when, name in transitions:
                if when < t:
                    found = name
                else:
                    break
            return found

        def last_at(t, series):
            found = None
            for when, value in series:
                if when <= t:
                    found = value
                else:
                    break
            return found

        seconds = int(end - start)
        rows = [{"lat": [], "bytes": 0, "objects": 0} for _ in range(seconds)]
        by_phase = {}
        for done, latency in ops:
            k = int(done - start)
            if 0 <= k < seconds:
                rows[k]["lat"].append(latency)
            ph = phase_at(done)
            if ph and ph != "end":
                by_phase.setdefault(ph, []).append(latency)
        recovered_by_phase = {}
        for when, ph, nbytes, nobjects in recovered:
            k = int(when - start)
            if 0 <= k < seconds:
                rows[k]["bytes"] += nbytes
                rows[k]["objects"] += nobjects
            t = recovered_by_phase.setdefault(ph, [0, 0])
            t[0] += nbytes
            t[1] += nobjects
        durations = {}
        for (t0, name), (t1, _) in zip(transitions, transitions[1:]):
            durations[name] = durations.get(name, 0) + (t1 - t0)
        maxima = {}
        for when, s in samples:
            ph = phase_at(when) or "pre"
            m = maxima.setdefault(ph, [0, 0])
            m[0], m[1] = max(m[0], s["degraded"]), max(m[1], s["misplaced"])

        csv = ["second,phase,ops_per_s,mib_per_s,avg_lat_us,p99_lat_us,degraded_objects,misplaced_objects,"
               "recovery_bytes_per_s,recovery_objects_per_s,bytes_recovered,objects_recovered,pgs_active_clean,"
               "pgs,osdmap_epoch"]
        for k, row in enumerate(rows):
            t = start + k + 1
            s = last_at(t, samples) or {}
            lat = sorted(row["lat"])
            mean = sum(lat) / len(lat) if lat else 0
            csv.append(f"{k + 1},{phase_at(t)},{len(lat):.1f},{len(lat) * a.block / 1048576:.3f},{mean:.1f},"
                       f"{percentile(lat, 99):.1f},{s.get('degraded', '')},{s.get('misplaced', '')},"
                       f"{s.get('recovery_bps', '')},{s.get('recovery_ops', '')},{row['bytes']},{row['objects']},"
                       f"{s.get('active_clean', '')},{s.get('num_pgs', '')},{s.get('epoch', '')}")
        with open(os.path.join(a.out_dir, "per-second.csv"), "w") as f:
            f.write("\n".join(csv) + "\n")

        def phase_figures(names):
            lat = sorted(x for n in names for x in by_phase.get(n, []))
            duration = sum(durations.get(n, 0) for n in names)
            rb = [sum(recovered_by_phase.get(n, [0, 0])[i] for n in names) for i in (0, 1)]
            mx = [max([maxima.get(n, [0, 0])[i] for n in names]) for i in (0, 1)]
            return {"seconds": duration, "ops": len(lat), "iops": len(lat) / duration if duration else 0,
                    "mib_s": len(lat) * a.block / duration / 1048576 if duration else 0,
                    "mean_us": sum(lat) / len(lat) if lat else 0, "p50_us": percentile(lat, 50),
                    "p99_us": percentile(lat, 99), "max_us": lat[-1] if lat else 0,
                    "bytes_recovered": rb[0], "objects_recovered": rb[1],
                    "max_degraded_objects": mx[0], "max_misplaced_objects": mx[1]}

        figures["prefill_seconds"] = result["prefill"]["seconds"]
        figures["pre"] = phase_figures(["pre"])
        figures["recovering_out"] = phase_figures(["recovering-out"])
        figures["recovering_in"] = phase_figures(["recovering-in"])
        figures["recovering"] = phase_figures(["recovering-out", "recovering-in"])
        figures["post"] = phase_figures(["post"])
        # Counters reach the PG map a little after the PGs show clean: what shows up after the
        # second recovery (in post) is its own; the first one's tail shows up in the second.
        out_bytes = figures["recovering_out"]["bytes_recovered"]
        in_bytes = figures["recovering_in"]["bytes_recovered"] + figures["post"]["bytes_recovered"]
        t_out, t_in = figures.get("seconds_to_clean_out"), figures.get("seconds_to_clean_in")
        figures["recovery_out_mib_s"] = out_bytes / t_out / 1048576 if t_out else 0
        figures["recovery_in_mib_s"] = in_bytes / t_in / 1048576 if t_in else 0
        figures["recovery_mib_s"] = (out_bytes + in_bytes) / (t_out + t_in) / 1048576 if t_out and t_in else 0
        figures["ops"] = load_result["acknowledged"]
        figures["errors"] = load_result["errors"]
        figures["verification"] = load_result["verify"]
        result["result"] = figures
        verified = load_result["verify"]["passed"] and load_result["errors"] == 0
        result["verified"] = verified
        result["ok"] = verified and "seconds_to_clean_in" in figures and load.returncode == 0
        log(f"clean {t_out} s after out, {t_in} s after in; recovery {figures['recovery_mib_s']:.2f} MiB/s; "
            f"client {figures['recovering']['iops']:.0f} IOPS p99 {figures['recovering']['p99_us'] / 1000:.2f} ms "
            f"recovering ({figures['pre']['iops']:.0f} IOPS before); verified: {load_result['verify']}")
    except (Fail, subprocess.SubprocessError, OSError, ValueError, KeyError) as e:
        result["error"] = str(e)
        log(f"failed: {e}")
    finally:
        if load and load.poll() is None:
            load.kill()
        c.close()
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
