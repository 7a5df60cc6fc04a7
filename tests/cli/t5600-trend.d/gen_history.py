#!/usr/bin/env python3
"""A synthetic benchmark history for kiln trend: N commits of B benchmarks, hyperfine JSON per commit with
S samples per benchmark, and a folded CPU profile per commit. Noise: lognormal per sample, a per-run machine
drift shared by all benchmarks of a run, and rare outlier samples. Step changes are injected as
COMMIT:BENCH:FACTOR:FUNCTION (from COMMIT on, BENCH is FACTOR times slower and FUNCTION takes FACTOR2 more
samples in the profile). Writes OUT/NNN.json, OUT/NNN.folded and OUT/truth.json. Fixed seed: same files."""
import argparse
import json
import math
import os
import random

FUNCS = ["parse_header", "hash_lookup", "encode_utf8", "alloc_block", "read_chunk", "sort_keys",
         "compress_run", "checksum", "format_row", "tokenize"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--commits", type=int, default=200)
    ap.add_argument("--benchmarks", type=int, default=20)
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--noise", type=float, default=0.03)
    ap.add_argument("--drift", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--step", action="append", default=[])
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    steps = []
    for s in a.step:
        c, b, f, fn = s.split(":")
        steps.append((int(c), int(b), float(f), fn))
    base = [10 ** rnd.uniform(-3.5, -0.5) for _ in range(a.benchmarks)]
    weights = {f: rnd.randint(150, 400) for f in FUNCS}
    commits = ["%040x" % rnd.getrandbits(160) for _ in range(a.commits)]
    for i in range(a.commits):
        drift = math.exp(rnd.gauss(0, a.drift))
        results = []
        for b in range(a.benchmarks):
            level = base[b]
            for c, sb, f, _ in steps:
                if i >= c and sb == b:
                    level *= f
            times = []
            for _ in range(a.samples):
                t = level * drift * math.exp(rnd.gauss(0, a.noise))
                if rnd.random() < 0.03:
                    t *= rnd.uniform(1.2, 2.0)  # a preempted run
                times.append(t)
            results.append({"command": "bench%02d" % b, "times": times,
                            "mean": sum(times) / len(times)})
        with open(os.path.join(a.out, "%03d.json" % i), "w") as f:
            json.dump({"results": results}, f)
        w = dict(weights)
        for c, _, fac, fn in steps:
            if i >= c:
                w[fn] = int(w[fn] * (1 + 3 * (fac - 1)))
        with open(os.path.join(a.out, "%03d.folded" % i), "w") as f:
            for fn in FUNCS:
                # Poisson-like noise on the sample counts of a 99 Hz profile
                n = max(1, int(rnd.gauss(w[fn], math.sqrt(w[fn]))))
                f.write("main;run_benchmarks;%s %d\n" % (fn, n))
    truth = {"commits": commits,
             "steps": [{"commit": commits[c], "index": c, "benchmark": "bench%02d" % b, "factor": f,
                        "function": fn} for c, b, f, fn in steps]}
    with open(os.path.join(a.out, "truth.json"), "w") as f:
        json.dump(truth, f)


if __name__ == "__main__":
    main()
