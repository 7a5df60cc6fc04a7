#!/usr/bin/env python3
"""AutoFDO by hand, step 2 of 3 (bench/pgo.sh): perf script's IP samples of one binary as AutoFDO's text profile.

Reads `perf script --show-mmap-events -F pid,ip,dso` on stdin and writes create_llvm_prof's text input
(--profiler=text): 0 ranges, the sample count of each address in the binary, 0 branches (no LBR without a PMU).
An address in the binary is the sampled IP less the start of the process's executable mapping of it, plus that
mapping's file offset (AutoFDO's perf reader does the same; a PIE's text has equal file offsets and addresses).
Usage: perf script ... | perf-afdo-text.py BINARY > profile.txt

`perf-afdo-text.py --clean < create_llvm_prof's text > app.prof` drops the inline call sites whose callee name
Debian's create_llvm_prof (0.19) wrote as garbage bytes (clang rejects the whole file for one of them) with the
call sites nested in them; names it cut short stay, and match nothing.
"""
import os
import re
import sys
from collections import Counter



def clean():
    name = re.compile(r"^[A-Za-z_.$][A-Za-z0-9_.$]*$")
    site = re.compile(r"^( *)[0-9.]+: (.*):[0-9]+$")
    skip = None  # the indentation of a dropped call site: deeper lines belong to it
    for line in sys.stdin.buffer.read().decode("latin-1").split("\n"):
        depth = len(line) - len(line.lstrip(" "))
        if skip is not None and line and depth > skip:
            continue
        skip = None
        m = site.match(line)
        if m and not name.match(m.group(2)):
            skip = depth
            continue
        sys.stdout.write(line + "\n" if line else "")


if sys.argv[1:] == ["--clean"]:
    clean()
    sys.exit(0)
binary = os.path.realpath(sys.argv[1])
mmap = re.compile(r"^\s*(\d+)\s+PERF_RECORD_MMAP2? .*\[0x([0-9a-f]+)\(0x[0-9a-f]+\) @ 0x([0-9a-f]+) .*\]: r-xp (\S+)")
sample = re.compile(r"^\s*(\d+)\s+([0-9a-f]+) \((.*)\)\s*$")
base = {}
counts = Counter()
for line in sys.stdin:
    m = mmap.match(line)
    if m:
        if os.path.realpath(m.group(4)) == binary:
            base[m.group(1)] = int(m.group(2), 16) - int(m.group(3), 16)
        continue
    m = sample.match(line)
    if m and m.group(1) in base and os.path.realpath(m.group(3)) == binary:
        counts[int(m.group(2), 16) - base[m.group(1)]] += 1
if not counts:
    sys.exit("perf-afdo-text: no samples in " + binary)
out = ["0", str(len(counts))] + ["%x:%d" % (a, n) for a, n in sorted(counts.items())] + ["0"]
print("\n".join(out))
