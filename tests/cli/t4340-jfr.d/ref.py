#!/usr/bin/env python3
"""The reference reading of a JFR recording, from `jfr print --json` (the JDK's own parser), stdlib only.

  ref.py COLUMN FILE.json   folded stacks of one column, summed per stack and sorted:
                            samples (jdk.ExecutionSample), native_samples (jdk.NativeMethodSample),
                            alloc_samples / alloc_space (jdk.ObjectAllocationSample events and their weight; the
                            TLAB events with tlabSize / allocationSize when the recording has no such events)
  ref.py order FILE.json    the root frames of the execution samples in time order, runs merged (a flame chart)
  ref.py strip              folded stacks on stdin, summed per stack and sorted (kiln's output made comparable)

Frames are named as kiln names Java frames: package.Class.method(parameter types), from the method's class name,
name and descriptor; stack traces are leaf first in JFR. Samples without a stack trace are left out.
"""
import json
import sys

PRIM = {"B": "byte", "C": "char", "D": "double", "F": "float", "I": "int", "J": "long", "S": "short",
        "Z": "boolean"}


def params(desc):
    out, i = [], 1
    while desc[i] != ")":
        dims = 0
        while desc[i] == "[":
            dims, i = dims + 1, i + 1
        if desc[i] == "L":
            end = desc.index(";", i)
            name, i = desc[i + 1:end].replace("/", "."), end + 1
        else:
            name, i = PRIM[desc[i]], i + 1
        out.append(name + "[]" * dims)
    return "(" + ", ".join(out) + ")"


def frame_name(fr):
    m = fr["method"]
    cls = m["type"]["name"].replace("/", ".") if m.get("type") else ""
    return (cls + "." if cls else "") + m["name"] + params(m["descriptor"])


def stack(ev):
    st = ev["values"].get("stackTrace")
    if not st or not st["frames"]:
        return None
    return ";".join(frame_name(f) for f in reversed(st["frames"]))


def events(path):
    with open(path) as f:
        return json.load(f)["recording"]["events"]


def ns(ts):
    # "2026-12-06T01:36:18.387690109Z": the fraction has 0 to 9 digits; ticks (an int) without @Timestamp
    if isinstance(ts, int):
        return ("", ts)
    day, _, rest = ts.rstrip("Z").partition("T")
    hms, _, frac = rest.partition(".")
    h, m, s = (int(x) for x in hms.split(":"))
    return (day, ((h * 60 + m) * 60 + s) * 10**9 + int((frac + "000000000")[:9]))


def column(col, path):
    evs = events(path)
    alloc = "jdk.ObjectAllocationSample"
    if not any(e["type"] == alloc for e in evs):
        alloc = None
    sums = {}
    for e in evs:
        t, v = e["type"], e["values"]
        if col == "samples" and t == "jdk.ExecutionSample":
            val = 1
        elif col == "native_samples" and t == "jdk.NativeMethodSample":
            val = 1
        elif col.startswith("alloc_") and (t == alloc or (alloc is None and t in (
                "jdk.ObjectAllocationInNewTLAB", "jdk.ObjectAllocationOutsideTLAB"))):
            if col == "alloc_samples":
                val = 1
            elif t == alloc:
                val = v["weight"]
            else:
                val = v["tlabSize"] if t == "jdk.ObjectAllocationInNewTLAB" else v["allocationSize"]
        else:
            continue
        s = stack(e)
        if s is not None:
            sums[s] = sums.get(s, 0) + val
    return sums


def order(path):
    evs = [e for e in events(path) if e["type"] == "jdk.ExecutionSample" and stack(e)]
    evs.sort(key=lambda e: ns(e["values"]["startTime"]))  # stable: ties keep file order
    roots = [stack(e).split(";")[0] for e in evs]
    return [r for i, r in enumerate(roots) if i == 0 or roots[i - 1] != r]


def show(sums):
    for s in sorted(sums):
        if sums[s]:
            print(s, sums[s])


def main():
    if sys.argv[1] == "strip":
        sums = {}
        for line in sys.stdin:
            s, _, n = line.rstrip("\n").rpartition(" ")
            sums[s] = sums.get(s, 0) + int(n)
        show(sums)
    elif sys.argv[1] == "order":
        print("\n".join(order(sys.argv[2])))
    else:
        show(column(sys.argv[1], sys.argv[2]))


main()
