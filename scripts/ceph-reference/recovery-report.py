#!/usr/bin/python3
"""Markdown for the recovery benchmark (scripts/recovery-benchmark.sh) from its JSON lines: one
per system and round, each with `system`, `tags.round`, `ok`, `result` (the keys of Loligo's
loligo.recovery/1 result), `cpu` (cpushare.py) and, for Ceph, `ceph_settings`.

  recovery-report.py --lines FILE.jsonl --command TEXT --profile PROFILE.toml [--host TEXT]
"""
import argparse
import json
import statistics
import tomllib

TIME_TARGET = 1 / 3   # Loligo's time to clean at most a third of Ceph's
IOPS_TARGET = 3.0     # Loligo's client IOPS during recovery at least 3x Ceph's


def fmt(v, digits=1):
    if v is None:
        return "-"
    if isinstance(v, (int, float)) and abs(v) >= 1000:
        return f"{v:,.0f}".replace(",", " ")
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def figures(line):
    r = line.get("result") or {}
    out, back = r.get("seconds_to_clean_out"), r.get("seconds_to_clean_in")
    v = r.get("verification") or {}
    rec, pre = r.get("recovering") or {}, r.get("pre") or {}
    return {
        "out": out, "in": back, "total": out + back if out is not None and back is not None else None,
        "mib_s": r.get("recovery_mib_s"), "mib_out": (r.get("recovering_out") or {}).get("bytes_recovered", 0) / 1048576,
        "mib_in": ((r.get("recovering_in") or {}).get("bytes_recovered", 0)
                   + (r.get("post") or {}).get("bytes_recovered", 0)) / 1048576,
        "pre_iops": pre.get("iops"), "pre_p99": (pre.get("p99_us") or 0) / 1000,
        "rec_iops": rec.get("iops"), "rec_p99": (rec.get("p99_us") or 0) / 1000,
        "out_iops": (r.get("recovering_out") or {}).get("iops"),
        "in_iops": (r.get("recovering_in") or {}).get("iops"),
        "acked": r.get("ops"), "errors": r.get("errors"),
        "blocks": v.get("blocks"), "lost": v.get("blocks_lost"),
        "verified": bool(v.get("passed")) and r.get("errors") == 0,
        "others": (line.get("cpu") or {}).get("others_share"),
        "ok": line.get("ok"), "error": line.get("error"),
    }


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(a, b):
    return a / b if a is not None and b else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", required=True)
    ap.add_argument("--command", required=True)
    ap.add_argument("--profile", required=True)
    ap.add_argument("--host", default="")
    a = ap.parse_args()
    lines = [json.loads(x) for x in open(a.lines) if x.strip()]
    with open(a.profile, "rb") as f:
        profile = tomllib.load(f)
    pool, bench, rec = profile.get("pool", {}), profile.get("bench", {}), profile.get("recovery", {})
    rounds = sorted({int(x.get("tags", {}).get("round", 0)) for x in lines})
    by = {(x["system"], int(x.get("tags", {}).get("round", 0))): figures(x) for x in lines}
    ceph_settings = next((x.get("ceph_settings") for x in lines if x.get("ceph_settings")), {})

    p = print
    p("# Recovery side by side with Ceph 16.2\n")
    p(f"Command: `{a.command}`.{(' ' + a.host) if a.host else ''}\n")
    p("Both sides, one after the other in each round, on this machine (2 vCPUs, everything on "
      "127.0.0.1): 1 monitor, 4 OSDs (memstore: RAM), one pool of "
      f"{pool.get('pg_num', 32)} PGs, size {pool.get('size', 3)}, min_size {pool.get('min_size', 2)}, "
      f"prefilled with {pool.get('prefill_objects')} objects of {pool.get('prefill_size')}; a client "
      f"load of {bench.get('block_size', '4K')} overwrites of that dataset, {bench.get('concurrency', 16)} "
      f"in flight from one client; after {rec.get('pre_time')} s `osd out {rec.get('osd', 0)}`, once every "
      f"PG is active+clean `osd in {rec.get('osd', 0)}`, once clean again {rec.get('post_time')} s more; "
      "then every block is read back and compared with the last version acknowledged for it. "
      "Loligo: `loligo profile run` of the profile (its cluster from `loligo cluster up --mons 1 "
      "--osds 4 --objectstore memstore`); Ceph: `scripts/ceph-reference/cluster.sh up --mons 1 "
      "--osds 4` (memstore, plus the mgr Ceph needs for PG states), `recovery.py` with the same "
      "parameters and `recovery-load.c` (librados) as the client.\n")
    p("- **Time to clean**: from the `osd out` (or `osd in`) command to the first poll (4 a second) "
      "showing every PG exactly active+clean after one that did not (Loligo: the monitor's PG map "
      "through `status`; Ceph: the mgr's `pg stat`). Each includes the cluster's own reporting "
      "delay (Loligo's OSDs report PG stats every second; Ceph's every `mgr_stats_period` = 1 s, "
      "which cluster.sh sets; Ceph's default is 5 s).")
    p("- **Recovery MiB/s**: the increase of the PGs' `num_bytes_recovered` (from `pg ls` at every "
      "poll; a PG counts only between two polls with the same acting primary) over the times to clean.")
    p("- **Client IOPS, p99**: acknowledged writes by completion time, over each phase; `recovering` "
      "is both recoveries together. p99 is nearest-rank over every write of the phase.")
    unacknowledged = sum(((x.get("result") or {}).get("verification") or {}).get("blocks_unacknowledged_version", 0)
                         for x in lines)
    p("- **Lost**: blocks whose last acknowledged version did not read back (a later version whose "
      f"write failed would be accepted: {unacknowledged} such blocks in this run).\n")

    if ceph_settings:
        p("Ceph's recovery settings, read from osd.0 (all Ceph 16.2 defaults; memstore reports itself "
          "rotational, so the `_hdd` values apply):\n")
        p(", ".join(f"`{k}` {v}" for k, v in ceph_settings.items()) + "\n")

    p("## Each round\n")
    p("| round | system | clean after out s | clean after in s | recovered MiB (out/in) | recovery MiB/s "
      "| IOPS before | p99 ms before | IOPS recovering | p99 ms recovering | writes acked | blocks lost "
      "| others' CPU |")
    p("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rounds:
        for system in ("ceph", "loligo"):
            f = by.get((system, r))
            if not f:
                continue
            lost = "-" if f["lost"] is None else f"{f['lost']} of {f['blocks']}"
            others = "-" if f["others"] is None else f"{f['others']:.0%}"
            p(f"| {r} | {system} | {fmt(f['out'], 2)} | {fmt(f['in'], 2)} | "
              f"{fmt(f['mib_out'])} / {fmt(f['mib_in'])} | {fmt(f['mib_s'], 2)} | {fmt(f['pre_iops'], 0)} | "
              f"{fmt(f['pre_p99'], 2)} | {fmt(f['rec_iops'], 0)} | {fmt(f['rec_p99'], 2)} | {fmt(f['acked'])} | "
              f"{lost} | {others} |")
            if f["error"]:
                p(f"| | | {f['error']} | | | | | | | | | | |")
    p()

    p("Client writes by phase (IOPS, p99 ms):\n")
    p("| round | system | pre | recovering after out | recovering after in | post |")
    p("|---:|---|---:|---:|---:|---:|")
    for r in rounds:
        for system in ("ceph", "loligo"):
            line = next((x for x in lines if x["system"] == system
                         and int(x.get("tags", {}).get("round", 0)) == r), None)
            result = (line or {}).get("result") or {}
            if not result:
                continue
            cells = []
            for key in ("pre", "recovering_out", "recovering_in", "post"):
                ph = result.get(key) or {}
                cells.append(f"{fmt(ph.get('iops'), 0)}, {fmt((ph.get('p99_us') or 0) / 1000, 1)}")
            p(f"| {r} | {system} | " + " | ".join(cells) + " |")
    p()

    p("## Against the targets\n")
    p("| round | Loligo/Ceph time to clean, out | in | both | target | Loligo/Ceph client IOPS recovering | target "
      "| acknowledged writes lost (Ceph, Loligo) |")
    p("|---:|---:|---:|---:|---|---:|---|---|")
    rows = []
    for r in rounds:
        c, lo = by.get(("ceph", r)), by.get(("loligo", r))
        if not c or not lo:
            continue
        t = [ratio(lo[k], c[k]) for k in ("out", "in", "total")]
        i = ratio(lo["rec_iops"], c["rec_iops"])
        rows.append((t, i))
        time_ok = t[2] is not None and t[2] <= TIME_TARGET
        iops_ok = i is not None and i >= IOPS_TARGET
        lost = f"{c['lost']}, {lo['lost']}"
        p(f"| {r} | {fmt(t[0], 3)} | {fmt(t[1], 3)} | {fmt(t[2], 3)} | ≤ 0.333: {'met' if time_ok else 'missed'} "
          f"| {fmt(i, 2)}x | ≥ 3x: {'met' if iops_ok else 'missed'} | {lost} |")
    if rows:
        mt = median([x[0][2] for x in rows])
        mi = median([x[1] for x in rows])
        p(f"| median | {fmt(median([x[0][0] for x in rows]), 3)} | {fmt(median([x[0][1] for x in rows]), 3)} "
          f"| {fmt(mt, 3)} | ≤ 0.333: {'met' if mt is not None and mt <= TIME_TARGET else 'missed'} "
          f"| {fmt(mi, 2)}x | ≥ 3x: {'met' if mi is not None and mi >= IOPS_TARGET else 'missed'} | |")
    p()
    all_verified = all(f["verified"] for f in by.values())
    p(f"Every acknowledged write read back, both systems, every round: **{'yes' if all_verified else 'NO'}**.\n")


if __name__ == "__main__":
    main()
