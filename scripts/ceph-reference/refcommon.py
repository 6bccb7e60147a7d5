"""CPU accounting shared by monbench.py and radosbench.py (this machine is shared: every
measurement records how much CPU the rest of the machine took while it ran)."""
import os

HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """utime+stime of the given pids (daemons), in seconds; pids that are gone count 0."""
    tot = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            tot += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return tot / HZ


def host_busy_seconds():
    """CPU seconds all CPUs spent not idle (user+nice+system+irq+softirq+steal), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)
    return busy / HZ


def others_share(host_busy, ours, wall):
    """Fraction of the machine's CPUs used by processes other than ours during `wall` seconds."""
    if wall <= 0:
        return None
    return round(max(0.0, host_busy - ours) / (wall * (os.cpu_count() or 1)), 3)
