#!/usr/bin/python3
"""Committed config-key sets per second, and their latency, against running Ceph monitors.

Method: python3-rados (Debian's binding of librados). Every client has its own Rados handle
(its own MonClient session) and issues, one at a time, `Rados.mon_command` with
{"prefix": "config-key set", "key": K, "val": V}. A monitor replies to `config-key set` only
after the Paxos proposal carrying it has committed (accepted by a majority and written to the
leader's store), so a reply (return code 0) is a committed set. Latency is measured around each
call with time.perf_counter (CLOCK_MONOTONIC). Clients are separate processes by default (the
binding releases the GIL during a call, but 8 Python loops on 2 vCPUs still contend, so
processes keep the client side out of the way); `--mode threads` is there to compare.

Afterwards a sample of the acknowledged keys is read back with `config-key get` through a fresh
handle and compared byte for byte with what was sent.

  monbench.py --conf DIR/ceph.conf [--clients N] [--seconds S | --ops N] [--value-bytes B]
              [--timeout T] [--mode processes|threads] [--verify N] [--json] [--json-out FILE]

Exit status: 0 ok; 1 errors, time-outs or a verification mismatch; 2 bad arguments.
"""
import argparse
import json
import math
import multiprocessing as mp
import os
import random
import sys
import resource
import signal
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
from refcommon import cpu_seconds, host_busy_seconds, others_share

try:
    import rados
except ImportError:  # e.g. a pyenv python3 first on PATH
    sys.stderr.write("monbench: python3-rados not importable; run with /usr/bin/python3 "
                     "(scripts/ceph-reference/setup.sh installs python3-rados)\n")
    sys.exit(2)

METHOD = ("python3-rados Rados.mon_command({\"prefix\": \"config-key set\", \"key\", \"val\"}), "
          "one Rados handle per client, one call in flight per client, reply = committed")


def value_for(key, nbytes):
    """Deterministic value for a key, so read-back needs no record of what was sent."""
    base = (key + ":").encode()
    if len(base) >= nbytes:
        return base
    return base + b"x" * (nbytes - len(base))


def connect(conf, timeout):
    # The binding ignores mon_command's timeout argument: the bound on every monitor call is
    # rados_mon_op_timeout (a call that exceeds it fails with ETIMEDOUT), on connecting
    # client_mount_timeout.
    t = str(int(math.ceil(timeout)))
    r = rados.Rados(conffile=conf, conf={
        "rados_mon_op_timeout": t,
        "client_mount_timeout": t,
        "log_to_stderr": "false",
        "err_to_stderr": "false",
    })
    r.connect(timeout=int(math.ceil(timeout)))
    return r


def cmd_set(key, val):
    return json.dumps({"prefix": "config-key set", "key": key, "val": val.decode()})


def client_loop(idx, args, run_id, barrier, result_put):
    """One client: connect, warm up, wait for the others, then set keys until the deadline."""
    out = {"client": idx, "lat": [], "errors": 0, "error_samples": [], "last_key": None,
           "start": None, "end": None, "fatal": None}
    r = None
    try:
        r = connect(args.conf, args.timeout)
        # warm-up call (not counted): the session to a monitor is established
        ret, _, outs = r.mon_command(cmd_set(f"monbench/{run_id}/warmup/{idx}", b"w"), b"",
                                     timeout=int(math.ceil(args.timeout)))
        if ret != 0:
            raise RuntimeError(f"warm-up config-key set failed: {ret} {outs}")
        barrier.wait(timeout=args.timeout + 30)
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        n_ops = None
        if args.ops:
            n_ops = args.ops // args.clients + (1 if idx < args.ops % args.clients else 0)
        t_start = time.perf_counter()
        deadline = t_start + args.seconds if args.seconds else None
        lat = out["lat"]
        i = 0
        while True:
            if n_ops is not None and i >= n_ops:
                break
            if deadline is not None and time.perf_counter() >= deadline:
                break
            key = f"monbench/{run_id}/c{idx}/{i}"
            c = cmd_set(key, value_for(key, args.value_bytes))
            t0 = time.perf_counter()
            try:
                ret, _, outs = r.mon_command(c, b"", timeout=int(math.ceil(args.timeout)))
            except rados.Error as e:  # time-outs surface as errors too
                ret, outs = -1, repr(e)
            t1 = time.perf_counter()
            if ret == 0:
                lat.append((t1 - t0) * 1000.0)
                out["last_key"] = i
            else:
                out["errors"] += 1
                if len(out["error_samples"]) < 3:
                    out["error_samples"].append(f"{ret} {outs}")
                if out["errors"] > 100:
                    out["fatal"] = "more than 100 errors"
                    break
            i += 1
        out["start"], out["end"] = t_start, time.perf_counter()
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        out["cpu_s"] = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    except Exception as e:  # noqa: BLE001 - reported to the parent
        out["fatal"] = repr(e)
        try:
            barrier.abort()
        except Exception:  # noqa: BLE001
            pass
    finally:
        if r is not None:
            try:
                r.shutdown()
            except Exception:  # noqa: BLE001
                pass
    result_put(out)


def _proc_entry(idx, args, run_id, barrier, q):
    # die with the parent, whatever kills it
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, 15)  # PR_SET_PDEATHSIG, SIGTERM
    except Exception:  # noqa: BLE001
        pass
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides on Ctrl-C
    client_loop(idx, args, run_id, barrier, q.put)


class Interrupted(BaseException):
    pass


def on_signal(signum, _frame):
    raise Interrupted(f"signal {signum}")


def percentile(sorted_vals, p):
    """Nearest-rank percentile of an ascending list (p in 0..100)."""
    if not sorted_vals:
        return None
    k = max(1, math.ceil(p / 100.0 * len(sorted_vals)))
    return sorted_vals[k - 1]


def verify(args, run_id, results):
    """Read back a sample of acknowledged keys (and each client's last one)."""
    keys = []
    for res in results:
        if res["last_key"] is not None:
            keys.append(f"monbench/{run_id}/c{res['client']}/{res['last_key']}")
    acked = [(res["client"], len(res["lat"]) + res["errors"]) for res in results]
    rng = random.Random(run_id)
    pool = [(c, n) for c, n in acked if n > 0]
    for _ in range(args.verify):
        if not pool:
            break
        c, n = rng.choice(pool)
        keys.append(f"monbench/{run_id}/c{c}/{rng.randrange(n)}")
    # keys whose set failed are not acknowledged: skip them (errors are rare; we do not track which)
    failed_any = any(res["errors"] for res in results)
    ok = bad = 0
    samples = []
    r = connect(args.conf, args.timeout)
    try:
        for key in dict.fromkeys(keys):
            want = value_for(key, args.value_bytes)
            got = None
            for attempt in range(2):
                ret, outbuf, outs = r.mon_command(json.dumps({"prefix": "config-key get", "key": key}),
                                                  b"", timeout=int(math.ceil(args.timeout)))
                got = outbuf if ret == 0 else None
                if got == want:
                    break
                time.sleep(0.5)  # a peon may not have applied the last commit yet
            if got == want:
                ok += 1
            elif failed_any and got is None:
                continue  # possibly one of the failed (unacknowledged) sets
            else:
                bad += 1
                if len(samples) < 3:
                    samples.append({"key": key, "ret": ret, "got": (got or b"")[:40].decode(errors="replace")})
    finally:
        r.shutdown()
    return {"sampled": ok + bad, "ok": ok, "mismatched": bad, "mismatch_samples": samples}


def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--conf", required=True, help="ceph.conf of the cluster (its mon_host is used)")
    ap.add_argument("--clients", type=int, default=1)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--seconds", type=float, help="measure for this long (default 5)")
    g.add_argument("--ops", type=int, help="total number of sets, spread over the clients")
    ap.add_argument("--value-bytes", type=int, default=64, help="size of each value (default 64)")
    ap.add_argument("--timeout", type=float, default=10.0, help="per-call and connect time-out, s")
    ap.add_argument("--mode", choices=["processes", "threads"], default="processes")
    ap.add_argument("--verify", type=int, default=100, help="random acknowledged keys read back")
    ap.add_argument("--label", default="", help="free text copied into the JSON")
    ap.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                    help="copied into the JSON's tags (repeatable)")
    ap.add_argument("--cpu-pids", default="", help="comma-separated daemon (monitor) pids whose CPU time is recorded")
    ap.add_argument("--json", action="store_true", help="print the JSON document on stdout")
    ap.add_argument("--json-out", help="also write the JSON document to this file")
    args = ap.parse_args()
    if args.clients < 1 or args.clients > 256:
        ap.error("--clients must be 1..256")
    if args.ops is None and args.seconds is None:
        args.seconds = 5.0
    if (args.seconds is not None and args.seconds <= 0) or (args.ops is not None and args.ops < 1):
        ap.error("--seconds/--ops must be positive")
    if not os.path.exists(args.conf):
        ap.error(f"no such file {args.conf}")

    cpu_pids = [int(x) for x in args.cpu_pids.split(",") if x.strip()]
    run_id = f"{int(time.time())}-{os.getpid()}"
    bound = args.timeout * 2 + 60 + (args.seconds or 0) + (args.ops or 0) * args.timeout / args.clients
    results = []
    wall0 = time.time()
    win = {}

    def window_start():
        win["t"] = time.perf_counter()
        win["srv"] = cpu_seconds(cpu_pids)
        win["host"] = host_busy_seconds()
        win["self"] = resource.getrusage(resource.RUSAGE_SELF)
    if args.mode == "processes":
        ctx = mp.get_context("fork")  # no Rados handle exists yet in this process
        barrier = ctx.Barrier(args.clients + 1)  # the clients and this process
        q = ctx.Queue()
        procs = [ctx.Process(target=_proc_entry, args=(i, args, run_id, barrier, q), daemon=True)
                 for i in range(args.clients)]
        try:
            for p in procs:
                p.start()
            try:
                barrier.wait(timeout=args.timeout + 30)
                window_start()
            except threading.BrokenBarrierError:  # a client failed; reported below
                pass
            deadline = time.time() + bound
            while len(results) < args.clients and time.time() < deadline:
                try:
                    results.append(q.get(timeout=1.0))
                except Exception:  # noqa: BLE001 - queue.Empty
                    if not any(p.is_alive() for p in procs) and q.empty():
                        break
        finally:
            for p in procs:
                p.join(timeout=5 if not sys.exc_info()[0] else 0)
                if p.is_alive():
                    p.kill()
                    p.join(timeout=5)
    else:
        barrier = threading.Barrier(args.clients + 1)
        lock = threading.Lock()

        def put(o):
            with lock:
                results.append(o)
        ths = [threading.Thread(target=client_loop, args=(i, args, run_id, barrier, put), daemon=True)
               for i in range(args.clients)]
        for t in ths:
            t.start()
        try:
            barrier.wait(timeout=args.timeout + 30)
            window_start()
        except Exception:  # noqa: BLE001
            pass
        for t in ths:
            t.join(timeout=max(1.0, bound - (time.time() - wall0)))

    # CPU over the measurement window (barrier release .. last result in)
    server_cpu = client_cpu = others = None
    if win:
        wall = time.perf_counter() - win["t"]
        server_cpu = cpu_seconds(cpu_pids) - win["srv"]
        if args.mode == "processes":
            client_cpu = sum(r.get("cpu_s", 0.0) for r in results)
        else:
            ru = resource.getrusage(resource.RUSAGE_SELF)
            client_cpu = (ru.ru_utime + ru.ru_stime) - (win["self"].ru_utime + win["self"].ru_stime)
        others = others_share(host_busy_seconds() - win["host"], server_cpu + client_cpu, wall)
    fatal = [f"client {r['client']}: {r['fatal']}" for r in results if r["fatal"]]
    if len(results) < args.clients:
        fatal.append(f"{args.clients - len(results)} client(s) did not report within {bound:.0f} s")
    lat = sorted(x for r in results for x in r["lat"])
    errors = sum(r["errors"] for r in results)
    starts = [r["start"] for r in results if r["start"] is not None]
    ends = [r["end"] for r in results if r["end"] is not None]
    elapsed = (max(ends) - min(starts)) if starts and ends else 0.0
    doc = {
        "schema": "loligo.ceph-reference.monbench/1",
        "label": args.label,
        "tags": dict(t.split("=", 1) for t in args.tag if "=" in t),
        "method": METHOD,
        "mode": args.mode,
        "clients": args.clients,
        "value_bytes": args.value_bytes,
        "requested_seconds": args.seconds,
        "requested_ops": args.ops,
        "ops": len(lat),
        "errors": errors,
        "seconds": round(elapsed, 4),
        "ops_per_s": round(len(lat) / elapsed, 1) if elapsed > 0 else None,
        "mean_ms": round(sum(lat) / len(lat), 3) if lat else None,
        "min_ms": round(lat[0], 3) if lat else None,
        "p50_ms": round(percentile(lat, 50), 3) if lat else None,
        "p90_ms": round(percentile(lat, 90), 3) if lat else None,
        "p99_ms": round(percentile(lat, 99), 3) if lat else None,
        "p999_ms": round(percentile(lat, 99.9), 3) if lat else None,
        "max_ms": round(lat[-1], 3) if lat else None,
        "server_cpu_s": round(server_cpu, 3) if cpu_pids and server_cpu is not None else None,
        "server_cpu_us_per_op": round(server_cpu / len(lat) * 1e6, 1) if cpu_pids and lat and server_cpu is not None else None,
        "client_cpu_us_per_op": round(client_cpu / len(lat) * 1e6, 1) if lat and client_cpu is not None else None,
        "others_cpu_share": others,
        "per_client_ops": [len(r["lat"]) for r in sorted(results, key=lambda r: r["client"])],
        "error_samples": [s for r in results for s in r["error_samples"]][:5],
        "fatal": fatal,
        "conf": os.path.abspath(args.conf),
        "run_id": run_id,
    }
    if lat and not fatal:
        try:
            doc["verify"] = verify(args, run_id, results)
        except Exception as e:  # noqa: BLE001
            doc["verify"] = {"error": repr(e)}
    ok = (not fatal and errors == 0 and bool(lat)
          and doc.get("verify", {}).get("mismatched", 1) == 0 and "error" not in doc.get("verify", {}))
    doc["ok"] = ok

    v = doc.get("verify", {})
    line = (f"monbench: {args.clients} client(s) {args.mode}, {doc['seconds']:.2f} s: "
            f"{doc['ops']} committed sets, {doc['ops_per_s']} /s, "
            f"p50 {doc['p50_ms']} ms, p99 {doc['p99_ms']} ms, p99.9 {doc['p999_ms']} ms, "
            f"max {doc['max_ms']} ms; {errors} errors; others' CPU {others if others is not None else '?'}; "
            f"verified {v.get('ok', 0)}/{v.get('sampled', 0)}")
    if fatal:
        line += "; FATAL: " + "; ".join(fatal)
    if v.get("mismatched"):
        line += f"; MISMATCHED {v['mismatched']}: {v.get('mismatch_samples')}"
    print(line, file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(doc))
    if args.json_out:
        tmp = args.json_out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(tmp, args.json_out)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (Interrupted, KeyboardInterrupt) as e:
        sys.stderr.write(f"monbench: interrupted ({e!r})\n")
        sys.exit(130)
