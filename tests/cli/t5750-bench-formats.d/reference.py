#!/usr/bin/env python3
"""The samples and units of a benchmark result file, read here from the file itself (no code shared with kiln's
importers), and checked against the run document kiln stored for it (kiln-bench-run/1).

usage: reference.py FIXTURE RUN_JSON   (RUN_JSON: a run document, or a server's {"runs":[{"run": ...}]})
Prints what was checked; exits 1 with the differences otherwise."""
import json
import os
import re
import sys

UNIT = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def add(ref, name, metric, unit, v):
    ref.setdefault((name, metric), {"unit": unit, "samples": []})["samples"].append(v)


def gbench(d):
    ref, agg = {}, {}
    for b in d["benchmarks"]:
        f = UNIT[b.get("time_unit", "ns")]
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "aggregate":
            a = agg.setdefault((name, "time"), {"unit": "s"})
            a[b["aggregate_name"]] = b["real_time"] * f
            a["count"] = b["repetitions"]
            continue
        add(ref, name, "time", "s", b["real_time"] * f)
        add(ref, name, "cpu", "s", b["cpu_time"] * f)
        if "bytes_per_second" in b:
            add(ref, name, "bytes/s", "B/s", b["bytes_per_second"])
        if "items_per_second" in b:
            add(ref, name, "items/s", "1/s", b["items_per_second"])
    # with the repetitions in the file, they are the data and the aggregates only their summary
    return ref, {k: v for k, v in agg.items() if k not in ref}


def go(text):
    ref = {}
    units = {"ns/op": ("time", "s", 1e-9), "B/op": ("B/op", "B", 1), "allocs/op": ("allocs/op", "", 1),
             "MB/s": ("MB/s", "MB/s", 1)}
    for line in text.splitlines():
        f = line.split()
        if not f or not re.match(r"^Benchmark", f[0]) or len(f) < 4:
            continue
        for i in range(2, len(f) - 1, 2):
            if f[i + 1] in units:
                metric, unit, k = units[f[i + 1]]
                add(ref, f[0], metric, unit, float(f[i]) * k)
    return ref, {}


def criterion(root):
    ref = {}
    for dirpath, _, files in os.walk(root):
        if os.path.basename(dirpath) == "new" and "sample.json" in files:
            s = json.load(open(os.path.join(dirpath, "sample.json")))
            name = json.load(open(os.path.join(dirpath, "benchmark.json")))["full_id"]
            for t, n in zip(s["times"], s["iters"]):
                add(ref, name, "time", "s", t / n * 1e-9)
    return ref, {}


def read(path):
    if os.path.isdir(path):
        return criterion(path)
    text = open(path).read()
    if not text.lstrip().startswith("{"):
        return go(text)
    d = json.loads(text)
    if "results" in d:  # hyperfine
        ref = {}
        for r in d["results"]:
            for t in r["times"]:
                add(ref, r["command"], "time", "s", t)
        return ref, {}
    if "machine_info" in d:  # pytest-benchmark; without --benchmark-save-data only the statistics
        ref, agg = {}, {}
        for b in d["benchmarks"]:
            st = b["stats"]
            for t in st.get("data", []):
                add(ref, b["fullname"], "time", "s", t)
            if "data" not in st:
                agg[(b["fullname"], "time")] = {"unit": "s", "mean": st["mean"], "median": st["median"],
                                                "stddev": st["stddev"], "count": st["rounds"]}
        return ref, agg
    return gbench(d)


def close(a, b):
    return abs(a - b) <= 1e-12 * max(abs(a), abs(b), 1e-300)


def main():
    ref, agg = read(sys.argv[1])
    doc = json.load(open(sys.argv[2]))
    if "runs" in doc:
        assert len(doc["runs"]) == 1, "%d runs" % len(doc["runs"])
        doc = doc["runs"][0]["run"]
    got = {(b["name"], b["metric"]): b for b in doc["benchmarks"]}
    bad = []
    for key, want in ref.items():
        g = got.get(key)
        if g is None:
            bad.append("%s [%s] missing" % key)
        elif g["unit"] != want["unit"]:
            bad.append("%s [%s]: unit %r, the file's %r" % (key + (g["unit"], want["unit"])))
        elif len(g.get("samples", [])) != len(want["samples"]) or \
                not all(close(x, y) for x, y in zip(g["samples"], want["samples"])):
            bad.append("%s [%s]: samples differ" % key)
    for key, want in agg.items():
        g = got.get(key)
        if g is None or g["unit"] != want["unit"] or g.get("count") != want["count"] or \
                not all(close(g[k], want[k]) for k in ("mean", "median", "stddev")):
            bad.append("%s [%s]: summary differs" % key)
    if not ref and not agg:
        bad.append("nothing read from the file")
    if bad:
        print("\n".join(bad))
        sys.exit(1)
    print("%d series, %d samples, %d summaries" % (len(ref), sum(len(w["samples"]) for w in ref.values()), len(agg)))


main()
