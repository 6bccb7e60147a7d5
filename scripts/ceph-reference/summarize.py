#!/usr/bin/python3
"""Summarize reference benchmark results (medians over rounds) into one JSON file and Markdown.

  summarize.py --meta META.json --mon MON.jsonl --pool POOL.jsonl --out SUMMARY.json
      Build a summary from the raw lines run-all.sh collected; print Markdown tables.
  summarize.py --merge SUMMARY.json [SUMMARY.json...]
      Print side-by-side Markdown for several summaries (e.g. Ceph's and Loligo's): rows are
      matched on (benchmark, shape); the first file's system is the reference of the ratios.

Every result row in a summary has: system, benchmark ("mon" or "pool"), shape (a dict), median
(a dict of figures), rounds (the per-round figures) and n (rounds that succeeded). Another
system (Loligo) plugs in by writing rows of the same form (see README.md).
"""
import argparse
import json
import statistics
import sys

MON_FIGS = ["ops_per_s", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms",
            "server_cpu_us_per_op", "client_cpu_us_per_op", "others_cpu_share"]
POOL_FIGS = ["iops", "bandwidth_MBps", "avg_lat_ms", "stddev_lat_ms", "max_lat_ms", "min_lat_ms",
             "stddev_iops", "ops", "total_time_run_s", "server_cpu_us_per_op", "client_cpu_us_per_op", "others_cpu_share"]


def median(vals):
    vals = [v for v in vals if isinstance(v, (int, float))]
    return round(statistics.median(vals), 4) if vals else None


def read_jsonl(path):
    out = []
    if not path:
        return out
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        out.append(json.loads(line))
                    except json.JSONDecodeError:
                        pass
    except FileNotFoundError:
        pass
    return out


def build(meta, mon_lines, pool_lines):
    results = []
    groups = {}
    for d in mon_lines:
        t = d.get("tags", {})
        key = ("mon", t.get("system", "ceph"), int(t.get("mons", 0)), int(d.get("clients", 0)))
        groups.setdefault(key, []).append(d)
    for (bench, system, mons, clients), ds in sorted(groups.items()):
        good = [d for d in ds if d.get("ok")]
        rounds = [dict({k: d.get(k) for k in MON_FIGS + ["ops", "errors", "seconds"]},
                       round=int(d.get("tags", {}).get("round", 0)), ok=d.get("ok"),
                       verified=d.get("verify", {}).get("ok"))
                  for d in ds]
        results.append({
            "system": system, "benchmark": "mon",
            "shape": {"mons": mons, "clients": clients, "value_bytes": ds[0].get("value_bytes")},
            "method": ds[0].get("method"),
            "n": len(good), "failed": len(ds) - len(good),
            "median": {k: median([d.get(k) for d in good]) for k in MON_FIGS},
            "rounds": rounds,
        })
    groups = {}
    for d in pool_lines:
        t = d.get("tags", {})
        key = (t.get("system", "ceph"), int(d.get("block_size", 0)), int(d.get("pool_size", 0)),
               d.get("mode"), int(d.get("threads", 0)))
        groups.setdefault(key, []).append(d)
    order = {"write": 0, "seq": 1, "rand": 2}
    for (system, bs, size, mode, threads), ds in sorted(groups.items(),
                                                         key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], order.get(kv[0][3], 9))):
        good = [d for d in ds if d.get("ok")]
        rounds = [dict({k: d.get(k) for k in POOL_FIGS}, round=int(d.get("tags", {}).get("round", 0)),
                       ok=d.get("ok"), command=d.get("command")) for d in ds]
        results.append({
            "system": system, "benchmark": "pool",
            "shape": {"block_size": bs, "pool_size": size, "mode": mode, "threads": threads,
                      "pg_num": ds[0].get("pg_num"), "min_size": ds[0].get("pool_min_size"),
                      "seconds": ds[0].get("requested_seconds")},
            "n": len(good), "failed": len(ds) - len(good),
            "median": {k: median([d.get(k) for d in good]) for k in POOL_FIGS},
            "p99_ms": None, "p99_note": "rados bench prints no latency percentiles",
            "rounds": rounds,
        })
    doc = dict(meta)
    doc["schema"] = "loligo.ceph-reference.summary/1"
    doc["results"] = results
    doc["ok"] = bool(results) and all(r["failed"] == 0 for r in results) and not meta.get("errors")
    return doc


def fmt(v, nd=1):
    if v is None:
        return "–"
    if isinstance(v, float) and abs(v) >= 100:
        return f"{v:,.0f}".replace(",", " ")
    if isinstance(v, int) and abs(v) >= 1000:
        return f"{v:,}".replace(",", " ")
    if isinstance(v, (int, float)):
        return f"{v:.{nd}f}" if isinstance(v, float) else f"{v}"
    return str(v)


def pct(v):
    return "–" if v is None else f"{v * 100:.0f} %"


def bsize(b):
    return f"{b // 1048576} MiB" if b >= 1048576 and b % 1048576 == 0 else (
        f"{b // 1024} KiB" if b % 1024 == 0 else f"{b} B")


def spread(rounds, key):
    vals = [r.get(key) for r in rounds if r.get("ok") and isinstance(r.get(key), (int, float))]
    if len(vals) < 2:
        return ""
    return f" ({fmt(min(vals))}–{fmt(max(vals))})"


def markdown(doc):
    out = []
    n = doc.get("settings", {}).get("rounds")
    systems = []
    for r in doc["results"]:
        if r["system"] not in systems:
            systems.append(r["system"])
    for sysname in systems:
        mons = [r for r in doc["results"] if r["benchmark"] == "mon" and r["system"] == sysname]
        pools = [r for r in doc["results"] if r["benchmark"] == "pool" and r["system"] == sysname]
        if mons:
            out.append(f"Monitors ({sysname}): committed `config-key set`/s, median of {n} round(s) (min–max); latency in ms")
            out.append("")
            out.append("| mons | clients | commits/s | p50 | p99 | p99.9 | max | mon CPU µs/commit | others' CPU |")
            out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for r in mons:
                m = r["median"]
                out.append(f"| {r['shape']['mons']} | {r['shape']['clients']} | {fmt(m['ops_per_s'])}{spread(r['rounds'], 'ops_per_s')} "
                           f"| {fmt(m['p50_ms'], 2)} | {fmt(m['p99_ms'], 2)} | {fmt(m['p999_ms'], 2)} | {fmt(m['max_ms'], 2)} "
                           f"| {fmt(m['server_cpu_us_per_op'], 0)} | {pct(m['others_cpu_share'])} |" + (f" {r['failed']} failed" if r["failed"] else ""))
            out.append("")
        if pools:
            out.append(f"Pool bench ({sysname}): `rados bench`-style, 16 concurrent, 1 mon + 3 memstore OSDs, median of {n} round(s) (min–max); latency in ms (rados bench prints no percentiles)")
            out.append("")
            out.append("| block | size | mode | IOPS | MB/s | avg lat | max lat | OSD CPU µs/op | others' CPU |")
            out.append("|---:|---:|---|---:|---:|---:|---:|---:|---:|")
            for r in pools:
                m, s = r["median"], r["shape"]
                out.append(f"| {bsize(s['block_size'])} | {s['pool_size']} | {s['mode']} | {fmt(m['iops'])}{spread(r['rounds'], 'iops')} "
                           f"| {fmt(m['bandwidth_MBps'])} | {fmt(m['avg_lat_ms'], 2)} | {fmt(m['max_lat_ms'], 1)} "
                           f"| {fmt(m['server_cpu_us_per_op'], 0)} | {pct(m['others_cpu_share'])} |" + (f" {r['failed']} failed" if r["failed"] else ""))
            out.append("")
        out.append("others' CPU: share of the machine's 2 CPUs used by other processes during the measurement (median); "
                   "high values mean the figures are depressed by a busy machine.")
        out.append("")
    if len(systems) > 1:
        out.append("Side by side (medians):")
        out.append("")
        out.append(merged_markdown([doc]))
    return "\n".join(out)


def row_key(r):
    s = r["shape"]
    if r["benchmark"] == "mon":
        return ("mon", s.get("mons"), s.get("clients"))
    return ("pool", s.get("block_size"), s.get("pool_size"), s.get("mode"), s.get("threads"))


def merged_markdown(docs):
    systems = []
    table = {}
    for i, d in enumerate(docs):
        seen_here = {}
        for r in d["results"]:
            name = r["system"]
            # the same system from two files (e.g. two Ceph runs) gets the file's number
            if any(name == s.split("#")[0] for s in systems) and name not in seen_here:
                seen_here[name] = f"{name}#{i + 1}"
            name = seen_here.setdefault(name, name)
            if name not in systems:
                systems.append(name)
            table.setdefault(row_key(r), {})[name] = r
    ref = systems[0]
    out = []
    for bench, figs in (("mon", [("ops_per_s", "commits/s"), ("p50_ms", "p50 ms"), ("p99_ms", "p99 ms")]),
                        ("pool", [("iops", "IOPS"), ("bandwidth_MBps", "MB/s"), ("avg_lat_ms", "avg lat ms")])):
        keys = [k for k in table if k[0] == bench]
        if not keys:
            continue
        head = ["shape"]
        for f, name in figs:
            head += [f"{name} {s}" for s in systems] + [f"{name} {s}/{ref}" for s in systems[1:]]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---|" * len(head))
        for k in sorted(keys, key=str):
            row = table[k]
            any_r = next(iter(row.values()))
            sh = any_r["shape"]
            label = (f"{sh['mons']} mon, {sh['clients']} client(s)" if bench == "mon"
                     else f"{bsize(sh['block_size'])} size {sh['pool_size']} {sh['mode']}")
            cells = [label]
            for f, _ in figs:
                vals = [row.get(s, {}).get("median", {}).get(f) for s in systems]
                cells += [fmt(v, 2) for v in vals]
                for v in vals[1:]:
                    cells.append(f"{v / vals[0]:.2f}x" if v and vals[0] else "–")
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--meta")
    ap.add_argument("--mon")
    ap.add_argument("--pool")
    ap.add_argument("--out")
    ap.add_argument("--merge", nargs="+")
    args = ap.parse_args()
    if args.merge:
        docs = [json.load(open(p)) for p in args.merge]
        print(merged_markdown(docs))
        return 0
    meta = json.load(open(args.meta)) if args.meta else {}
    doc = build(meta, read_jsonl(args.mon), read_jsonl(args.pool))
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        import os
        os.replace(tmp, args.out)
    print(markdown(doc))
    return 0 if doc["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
