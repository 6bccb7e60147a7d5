#!/usr/bin/python3
"""How busy the machine was while one side of a benchmark ran, and how much of that was not the
benchmark (this machine is shared: other builds and tests run beside it).

  cpushare.py --match TEXT [--match TEXT]... --out FILE.json

Runs until SIGTERM or SIGINT, sampling every second. "Ours" are the processes whose command
line contains one of the TEXTs (a work directory, a cluster directory): their CPU time is
summed from /proc/PID/stat at each sample (a process seen once counts from its first sample).
FILE gets {"seconds", "cpus", "host_busy_share", "ours_share", "others_share",
"loadavg_start", "loadavg_end"}; the shares are of all the machine's CPUs over the run.
"""
import argparse
import json
import os
import signal
import time

from refcommon import HZ, host_busy_seconds


def ours(patterns):
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            if not any(p in cmdline for p in patterns):
                continue
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            found[pid] = (int(fields[11]) + int(fields[12])) / HZ
        except (OSError, IndexError, ValueError):
            pass
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--match", action="append", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    start, busy0, load0 = time.monotonic(), host_busy_seconds(), os.getloadavg()[0]
    first, last = {}, {}
    while not stop:
        for pid, cpu in ours(a.match).items():
            first.setdefault(pid, cpu)
            last[pid] = cpu
        time.sleep(1)
    wall = time.monotonic() - start
    busy = host_busy_seconds() - busy0
    mine = sum(last[p] - first[p] for p in last)
    cpus = os.cpu_count() or 1
    share = lambda v: round(max(0.0, v) / (wall * cpus), 3) if wall > 0 else None  # noqa: E731
    with open(a.out, "w") as f:
        json.dump({"seconds": round(wall, 1), "cpus": cpus, "host_busy_share": share(busy),
                   "ours_share": share(mine), "others_share": share(busy - mine),
                   "loadavg_start": load0, "loadavg_end": os.getloadavg()[0]}, f)


if __name__ == "__main__":
    main()
