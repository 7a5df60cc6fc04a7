#!/usr/bin/env python3
"""kiln serve under a fleet's load (issue 18's acceptance figures), measured on this machine over loopback.

bench/fleet_push.c generates SERIES services, each with STACKS distinct stacks, and pushes one folded CPU
profile of PER_PROFILE stacks per series every 10 s of simulated time (a day is 8,640 profiles per series;
--hours scales it down), from CONNECTIONS keep-alive connections. Then measures: ingest rate and ack latency percentiles (client side),
merged-flame-graph query latency over 1 h / 24 h / 7 d (p50 of several; the render API's flame graph of at most
--max-nodes nodes, as a user's view asks for it, its numTicks checked against the samples sent), stored bytes per profile, the server's
peak RSS, and the time retention takes to drop a day. Prints one line per figure.

Usage: bench/serve-fleet.py [--series 100] [--hours 1] [--stacks 5000] [--per-profile 200] [--connections 16]
                            [--storage DIR|postgres://...] [--queries 5] [--settle 95] [--max-nodes 8192]
"""
import argparse, http.client, json, os, re, resource, shutil, signal, statistics, subprocess, sys, tempfile, time, \
    urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build_pusher(tmp):
    """bench/fleet_push.c, the fleet's generator and client (in C: the figure must be the server's)."""
    exe = os.path.join(tmp, "fleet_push")
    subprocess.check_call(["cc", "-O2", "-o", exe, os.path.join(ROOT, "bench", "fleet_push.c"), "-lpthread"])
    return exe


def get(url, path, params):
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=300)
    c.request("GET", path + "?" + urllib.parse.urlencode(params))
    r = c.getresponse()
    return r.status, r.read()


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))] if v else float("nan")


def start_server(kiln, store, extra, log):
    p = subprocess.Popen([kiln, "serve", "--listen", "127.0.0.1:0", "--storage", store] + extra,
                         stderr=open(log, "w"))
    for _ in range(300):
        m = re.search(r"serving on (http://\S+)", open(log).read())
        if m:
            return p, m.group(1)
        time.sleep(0.05)
    sys.exit("kiln serve did not start: " + open(log).read())


def cpu_ticks(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


def wait_settled(pid, settle, limit=900):
    """Waits `settle` seconds, then until the server has used under 5 % of a CPU for 2 s in a row. Pushing
    hours of data in minutes is a backfill: kiln serve rolls an hour up once it has had no write for 30 s, at
    its next minute tick (a live fleet's hours settle as they end). Queries are timed against that steady
    state, not against the rollups being built."""
    hz, t0, quiet, prev = os.sysconf("SC_CLK_TCK"), time.time(), 0, cpu_ticks(pid)
    time.sleep(settle)
    while quiet < 4 and time.time() - t0 < limit:
        time.sleep(0.5)
        cur = cpu_ticks(pid)
        quiet = quiet + 1 if cur - prev < 0.05 * 0.5 * hz else 0
        prev = cur
    return time.time() - t0


def rss_kb(pid, field):
    for l in open("/proc/%d/status" % pid):
        if l.startswith(field + ":"):
            return int(l.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=100)
    ap.add_argument("--hours", type=float, default=1)
    ap.add_argument("--stacks", type=int, default=5000)
    ap.add_argument("--per-profile", type=int, default=200)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--storage", help="where kiln serve stores (default: a new directory)")
    ap.add_argument("--queries", type=int, default=5)
    ap.add_argument("--max-nodes", type=int, default=8192, help="the flame graph's maxNodes (8192: the default)")
    ap.add_argument("--settle", type=float, default=95, help="seconds to let rollups be built before queries")
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "kiln"))
    args = ap.parse_args()
    args.steps = max(1, int(args.hours * 360))
    # The data ends a minute before today's midnight (UTC), so that it lies in past day partitions that the
    # retention step at the end can drop; queries end there too, so a 1 h query reads the last hour of data.
    now = int(time.time()) // 86400 * 86400 - 60
    args.start = now - args.steps * 10
    tmp = tempfile.mkdtemp(prefix="kiln-fleet-")
    pusher = build_pusher(tmp)
    store, log = args.storage or os.path.join(tmp, "store"), os.path.join(tmp, "serve.log")
    srv, url = start_server(args.kiln, store, ["--retention", "0"], log)
    total = args.series * args.steps
    print("dataset: %d series x %d profiles (%.1f h at 10 s) = %d profiles of %d stacks from %d per service"
          % (args.series, args.steps, args.hours, total, args.per_profile, args.stacks))
    hz, cpu0, kids0 = os.sysconf("SC_CLK_TCK"), cpu_ticks(srv.pid), resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([pusher, url, str(args.series), str(args.steps), str(args.start), str(args.stacks),
                          str(args.per_profile), str(args.connections)], stdout=subprocess.PIPE, text=True).stdout
    cpu1, kids1 = cpu_ticks(srv.pid), resource.getrusage(resource.RUSAGE_CHILDREN)
    m = re.search(r"^ingest (\d+) (\d+) (\d+) ([0-9.]+)$", out, re.M)
    if not m:
        sys.exit("fleet_push failed: " + out)
    acked, errs, dt = int(m.group(2)), int(m.group(3)), float(m.group(4))
    sums = {int(k): int(v) for k, v in re.findall(r"^sum (\d+) (\d+)$", out, re.M)}
    print("ingest: %d profiles in %.1f s = %.0f profiles/s (%d errors), %d concurrent connections"
          % (acked, dt, acked / dt, errs, args.connections))
    # On one machine the client's CPU is taken from the server's: both, per profile (and the load, which others add).
    client = (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
    print("cpu per profile: server %.3f ms, client %.3f ms (load average %.1f)"
          % ((cpu1 - cpu0) / hz * 1e3 / max(acked, 1), client * 1e3 / max(acked, 1), os.getloadavg()[0]))
    m = re.search(r"^latency ([0-9.]+) ([0-9.]+) ([0-9.]+)$", out, re.M)
    if m:
        print("ack latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
              % tuple(float(x) * 1e3 for x in m.groups()))
    # What the merges must sum to when their range holds all the data: the samples sent, at 100 Hz (x 10^7 ns).
    want = {'{service_name="svc0"}': sums.get(0, 0) * 10**7, "{}": sum(sums.values()) * 10**7}
    rss_ingest = rss_kb(srv.pid, "VmHWM")
    print("server settled (rollups of the pushed hours) %.0f s after the last push"
          % wait_settled(srv.pid, args.settle))
    for name, secs, sel in (("1 h, one service", 3600, '{service_name="svc0"}'),
                            ("24 h, one service", 86400, '{service_name="svc0"}'),
                            ("7 d, all series", 7 * 86400, "{}")):
        ts, ok = [], True
        whole = secs >= args.steps * 10
        for _ in range(args.queries):
            t1 = time.perf_counter()
            st, body = get(url, "/pyroscope/render", {"query": "process_cpu:cpu:nanoseconds:cpu:nanoseconds" + sel,
                                                      "from": now - secs, "until": now, "format": "json",
                                                      "maxNodes": args.max_nodes})
            ts.append(time.perf_counter() - t1)
            fb = json.loads(body)["flamebearer"] if st == 200 else {}
            # numTicks is the root's total, and the levels' selves must add up to it whatever was truncated
            got = fb.get("numTicks", -1)
            selves = sum(sum(l[2::4]) for l in fb.get("levels", []))
            nodes = sum(len(l) // 4 for l in fb.get("levels", []))
            # at most max_nodes kept nodes, one "other" per parent of a folded child, and the root
            ok &= st == 200 and got == selves and nodes <= 2 * args.max_nodes + 1 \
                and (not whole or got == want[sel])
        print("query %s: p50 %.0f ms, %d nodes (%s)" % (name, statistics.median(ts) * 1e3, nodes,
                                                        "ok" if ok else "FAILED"))
    st, m = get(url, "/metrics", {})
    m = m.decode()
    stored = int(re.search(r"^kiln_store_profiles (\d+)", m, re.M).group(1))
    nbytes = int(re.search(r"^kiln_store_bytes (\d+)", m, re.M).group(1))
    print("storage: %d profiles, %d bytes, %.0f bytes per profile" % (stored, nbytes, nbytes / max(stored, 1)))
    print("server peak RSS: %.1f MiB while ingesting, %.1f MiB with the queries"
          % (rss_ingest / 1024, rss_kb(srv.pid, "VmHWM") / 1024))
    srv.send_signal(signal.SIGTERM)
    srv.wait()
    # Retention: a restart with a retention shorter than the data's age drops its days, as whole files.
    srv, url = start_server(args.kiln, store, ["--retention", "1s"], log)
    for _ in range(200):
        m = re.search(r"retention dropped (\d+) day\S* in ([0-9.]+) ms", open(log).read())
        if m:
            print("retention: dropped %s day partition(s) in %s ms" % (m.group(1), m.group(2)))
            break
        time.sleep(0.05)
    else:
        print("retention: nothing dropped (%s)" % open(log).read().strip())
    srv.send_signal(signal.SIGTERM)
    srv.wait()
    shutil.rmtree(tmp)
    sys.exit(1 if errs or not acked else 0)


if __name__ == "__main__":
    main()
