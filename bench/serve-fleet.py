#!/usr/bin/env python3
"""kiln serve under a fleet's load (issue 18's acceptance figures), measured on this machine over loopback.

Generates SERIES services, each with STACKS distinct stacks, and pushes one folded CPU profile of PER_PROFILE
stacks per series every 10 s of simulated time (a day is 8,640 profiles per series; --hours scales it down),
from CONCURRENCY keep-alive connections. Then measures: ingest rate and ack latency percentiles (client side),
merged-flame-graph query latency over 1 h / 24 h / 7 d (p50 of several), stored bytes per profile, the server's
peak RSS, and the time retention takes to drop a day. Prints one line per figure.

Usage: bench/serve-fleet.py [--series 100] [--hours 1] [--stacks 5000] [--per-profile 200] [--concurrency 64]
"""
import argparse, http.client, multiprocessing as mp, os, random, re, shutil, signal, statistics, subprocess
import sys, tempfile, threading, time, urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def stacks_of(service, n, rnd):
    """n distinct stacks of a service: root-to-leaf paths of a random call tree (callers share prefixes, as in
    real programs), 4 to 16 frames deep, over a vocabulary of 400 functions."""
    fns = ["%s::fn%d" % (service, i) for i in range(400)]
    out, seen = [], set()
    while len(out) < n:
        path, node = ["main"], 0
        for d in range(rnd.randint(4, 16)):
            # A node's children are drawn from 6 per node: paths diverge but keep shared prefixes.
            node = node * 6 + rnd.randrange(6) + 1
            path.append(fns[hash((service, node)) % len(fns)])
        key = ";".join(path)
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


def bodies(args, s):
    """The folded bodies of series s, one per 10 s step, deterministic."""
    rnd = random.Random(s)
    st = stacks_of("svc%d" % s, args.stacks, rnd)
    for _ in range(args.steps):
        lines = rnd.sample(st, args.per_profile)
        yield "".join("%s %d\n" % (l, rnd.randint(1, 50)) for l in lines).encode()


def worker(args, url, shard, nshards, out_q):
    """Pushes the series of this shard from `args.threads` threads; reports latencies."""
    u = urllib.parse.urlparse(url)
    jobs = []
    for s in range(shard, args.series, nshards):
        for i, body in enumerate(bodies(args, s)):
            t = args.start + i * 10
            jobs.append(("/ingest?name=svc%d.cpu%%7Bpod%%3Dp%d%%7D&from=%d&until=%d" % (s, s, t, t + 10), body))
    lock = threading.Lock()
    lat, errs = [], [0]

    def run(part):
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        for path, body in part:
            t0 = time.perf_counter()
            try:
                c.request("POST", path, body)
                r = c.getresponse()
                r.read()
                ok = r.status == 200
            except Exception:
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
                ok = False
            dt = time.perf_counter() - t0
            with lock:
                if ok:
                    lat.append(dt)
                else:
                    errs[0] += 1

    ths = [threading.Thread(target=run, args=(jobs[k::args.threads],)) for k in range(args.threads)]
    for t in ths: t.start()
    for t in ths: t.join()
    out_q.put((lat, errs[0]))


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


def rss_peak_kb(pid):
    for l in open("/proc/%d/status" % pid):
        if l.startswith("VmHWM:"):
            return int(l.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=100)
    ap.add_argument("--hours", type=float, default=1)
    ap.add_argument("--stacks", type=int, default=5000)
    ap.add_argument("--per-profile", type=int, default=200)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--queries", type=int, default=5)
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "kiln"))
    args = ap.parse_args()
    args.steps = max(1, int(args.hours * 360))
    # The data ends a minute before today's midnight (UTC), so that it lies in past day partitions that the
    # retention step at the end can drop; queries end there too, so a 1 h query reads the last hour of data.
    now = int(time.time()) // 86400 * 86400 - 60
    args.start = now - args.steps * 10
    tmp = tempfile.mkdtemp(prefix="kiln-fleet-")
    store, log = os.path.join(tmp, "store"), os.path.join(tmp, "serve.log")
    srv, url = start_server(args.kiln, store, ["--retention", "0"], log)
    total = args.series * args.steps
    print("dataset: %d series x %d profiles (%.1f h at 10 s) = %d profiles of %d stacks from %d per service"
          % (args.series, args.steps, args.hours, total, args.per_profile, args.stacks))
    q = mp.Queue()
    t0 = time.perf_counter()
    ps = [mp.Process(target=worker, args=(args, url, k, args.procs, q)) for k in range(args.procs)]
    for p in ps: p.start()
    lat, errs = [], 0
    for _ in ps:
        l, e = q.get()
        lat += l
        errs += e
    for p in ps: p.join()
    dt = time.perf_counter() - t0
    print("ingest: %d profiles in %.1f s = %.0f profiles/s (%d errors), %d concurrent connections"
          % (len(lat), dt, len(lat) / dt, errs, args.procs * args.threads))
    print("ack latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
          % (pct(lat, .5) * 1e3, pct(lat, .99) * 1e3, max(lat) * 1e3))
    # What the merges must sum to when their range holds all the data: the counts sent, at 100 Hz (x 10^7 ns).
    def sent(series):
        return sum(int(l.rsplit(b" ", 1)[1]) for s in series for b in bodies(args, s) for l in b.splitlines())
    want = {'{service_name="svc0"}': sent([0]) * 10**7, "{}": sent(range(args.series)) * 10**7}
    for name, secs, sel in (("1 h, one service", 3600, '{service_name="svc0"}'),
                            ("24 h, one service", 86400, '{service_name="svc0"}'),
                            ("7 d, all series", 7 * 86400, "{}")):
        ts, ok = [], True
        whole = secs >= args.steps * 10
        for _ in range(args.queries):
            t1 = time.perf_counter()
            st, body = get(url, "/api/v1/export", {"query": "process_cpu:cpu:nanoseconds:cpu:nanoseconds" + sel,
                                                  "from": now - secs, "until": now})
            ts.append(time.perf_counter() - t1)
            got = sum(int(l.rsplit(b" ", 1)[1]) for l in body.splitlines())
            ok &= st == 200 and len(body) > 0 and (not whole or got == want[sel])
        print("query %s: p50 %.0f ms (%s)" % (name, statistics.median(ts) * 1e3, "ok" if ok else "FAILED"))
    st, m = get(url, "/metrics", {})
    m = m.decode()
    stored = int(re.search(r"^kiln_store_profiles (\d+)", m, re.M).group(1))
    nbytes = int(re.search(r"^kiln_store_bytes (\d+)", m, re.M).group(1))
    print("storage: %d profiles, %d bytes, %.0f bytes per profile" % (stored, nbytes, nbytes / max(stored, 1)))
    print("server peak RSS: %.1f MiB" % (rss_peak_kb(srv.pid) / 1024))
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
    sys.exit(1 if errs or not lat else 0)


if __name__ == "__main__":
    main()
