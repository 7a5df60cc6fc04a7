#!/usr/bin/env python3
"""CPU seconds used so far by a throw-away PostgreSQL cluster (scripts/pg-cluster.sh) and by the kiln serve
processes that store into it, for bench/serve-pg.sh: on a shared machine a rate alone says little, the CPU per
profile says where it went. The cluster's figure is its postmaster's own time, the time of the children it has
reaped (backends of closed connections) and that of its live children; kiln serve's is that of every process
whose command line names the cluster's directory (its --storage URL).

Usage: bench/pg-cpu.py CLUSTER_DIR   prints "POSTGRES_SECONDS KILN_SECONDS"
"""
import os, sys


def stat(pid):
    try:
        return open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def main():
    cluster = sys.argv[1]
    hz = os.sysconf("SC_CLK_TCK")
    postmaster = open(os.path.join(cluster, "data", "postmaster.pid")).readline().strip()
    pg = kiln = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        f = stat(pid)
        if not f:
            continue
        # after the command: state, ppid, ... utime (11), stime (12), cutime (13), cstime (14)
        if pid == postmaster:
            pg += sum(map(int, f[11:15]))
        elif f[1] == postmaster:
            pg += int(f[11]) + int(f[12])
        else:
            try:
                args = open("/proc/%s/cmdline" % pid, "rb").read().split(b"\0")
            except OSError:
                continue
            if b"serve" in args and any(cluster.encode() in a for a in args):
                kiln += int(f[11]) + int(f[12])
    print("%.2f %.2f" % (pg / hz, kiln / hz))


if __name__ == "__main__":
    main()
