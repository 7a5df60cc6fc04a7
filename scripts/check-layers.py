#!/usr/bin/env python3
"""Checks that #include dependencies point down the layers of shared/DESIGN.md ("Layers").

    core <- perf <- profile <- symbols <- formats <- record/analyze/render/bench <- server/pgo <- cmd <- main

A folder of src/ may include its own headers and those of the folders below it (ALLOWED), nothing else:
no folder cycle, nothing below cmd/ includes cmd/, nothing in src/ reaches into preload/, and preload/
includes nothing of src/. Usage: scripts/check-layers.py [ROOT] (default: the repository this script is in).
Prints one line per upward include and exits 1 when there is one, 0 otherwise. Python 3 standard library only.
"""
import os
import re
import sys

# What each folder may include besides itself. src/main.c is "main"; preload/ is the heap profiler's library.
LOWER = {
    "core": [],
    "perf": ["core"],
    "profile": ["core", "perf"],
    "symbols": ["core", "perf", "profile"],
    # perf.data input is symbolized while it is read, so formats/ sits on symbols/.
    "formats": ["core", "perf", "profile", "symbols"],
}
DOMAIN = ["core", "perf", "profile", "symbols", "formats"]
for d in ("record", "analyze", "render", "bench"):
    LOWER[d] = DOMAIN
# The eBPF programs (kernel side, built apart) share their maps' layout with record/'s loaders.
LOWER["bpf"] = ["record"]
SERVICE = DOMAIN + ["record", "analyze", "render", "bench"]
LOWER["server"] = SERVICE
LOWER["agent"] = SERVICE
LOWER["pgo"] = SERVICE
LOWER["cmd"] = SERVICE + ["server", "agent", "pgo"]
LOWER["main"] = LOWER["cmd"] + ["cmd"]
LOWER["preload"] = []
# Header-only files that preload/ shares with src/ (the heap wire format): nothing else of src/ reaches it.
SHARED_WITH_PRELOAD = {"src/core/heap_wire.h"}

# Known upward includes that moves in flight remove (issue 17); each is one (file, included folder) pair.
# Delete a line when its move has landed: the check then keeps the edge from coming back.
EXCEPTIONS = {
    # perf.data is read through the live recorder's session (record/session.c: stacks, leaf repair, symbols), so
    # a recording and its perf.data give one profile; the session has to move below formats/ to drop this.
    ("src/formats/perfdata.c", "record"),
}

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def folder_of(root, path):
    """The layer of a file under ROOT: "main", a folder of src/, "preload", or None (outside the layers)."""
    rel = os.path.relpath(path, root)
    parts = rel.split(os.sep)
    if parts[0] == "preload":
        return "preload"
    if parts[0] != "src" or len(parts) < 2:
        return None
    if len(parts) == 2:
        return "main"
    return parts[1]


def resolve(root, src, name):
    """The file an #include "name" in `src` names, as the compiler finds it (the file's folder, then -Isrc)."""
    for base in (os.path.dirname(src), os.path.join(root, "src")):
        cand = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(cand):
            return cand
    return None  # a generated header (build/gen) or a system one


def check(root):
    bad = []
    for top in ("src", "preload"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if not f.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, root)
                me = folder_of(root, path)
                with open(path, encoding="utf-8", errors="replace") as fp:
                    text = fp.read()
                for m in INCLUDE.finditer(text):
                    target = resolve(root, path, m.group(1))
                    if not target:
                        continue
                    to = folder_of(root, target)
                    if to is None or to == me:
                        continue
                    if me not in LOWER:
                        bad.append(f"{rel}: folder '{me}' has no place in the layers (scripts/check-layers.py)")
                        break
                    if to in LOWER[me] or (rel, to) in EXCEPTIONS:
                        continue
                    if me == "preload" and os.path.relpath(target, root) in SHARED_WITH_PRELOAD:
                        continue
                    line = text.count("\n", 0, m.start()) + 1
                    bad.append(f"{rel}:{line}: {me}/ includes {m.group(1)} ({to}/): dependencies point down only")
    return bad


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    if not os.path.isdir(os.path.join(root, "src")):
        print(f"check-layers: no src/ in '{root}'", file=sys.stderr)
        return 2
    bad = check(root)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
