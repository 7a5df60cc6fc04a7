#!/usr/bin/env python3
"""Damaged copies of real profiles of every format kiln reads, fed to kiln's reading commands.

Each copy is a real file cut short, with bytes flipped, or both (a gzip-compressed pprof is also damaged inside
its compression, then compressed again, so that the protobuf parser sees the damage). For every copy one
command runs (convert to folded, convert to pprof, analyze --json, flamegraph, in turn) and must either
succeed with a sane result (folded counts and totals never negative, a whole SVG) or exit 2 with one line on
stderr; never a crash, a hang, a sanitizer report, nor anything else.

  tests/damage.py --kiln build/san/kiln --count 10000      (make check-long)
  tests/damage.py --kiln build/san/kiln --count 300        (tests/cli/t4320-damage.sh, in make check)

Prints one line per failure (with the copy kept in --keep DIR) and a summary; exits 1 on any failure.
"""
import argparse
import concurrent.futures
import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 30  # seconds per command under the sanitizers; a hang is a failure
FOLDED_LINE = re.compile(rb"^(.*) (-?[0-9]+)$")


def real_files(kiln, shared, work):
    """(path, format) pairs: the committed real captures of every readable format."""
    fix = os.path.join(ROOT, "tests", "fixtures")
    files = []
    for name in sorted(os.listdir(os.path.join(fix, "perf-script"))):
        files.append((os.path.join(fix, "perf-script", name), "perf-script"))
    for name in ("go-cpu.pb.gz", "go-heap.pb.gz", "gperftools-cpu.prof"):
        files.append((os.path.join(fix, "pprof", name), "pprof"))
    files.append((os.path.join(fix, "speedscope", "evented.json"), "speedscope"))
    files.append((os.path.join(ROOT, "tests", "fuzz", "corpus", "speedscope", "go.json"), "speedscope"))
    files.append((os.path.join(fix, "cpuprofile", "node-burn.cpuprofile"), "cpuprofile"))
    for name in ("file-mode.data", "pipe-mode.data"):
        files.append((os.path.join(ROOT, "tests", "fuzz", "corpus", "perfdata", name), "perf.data"))
    # Folded stacks: kiln's own collapse of the perf script captures (checked against stackcollapse-perf.pl
    # by t1000), and stackcollapse-perf.pl's outputs when the shared corpus is there.
    for name in ("spin-user.txt", "threads-pid-tid.txt", "node-jit.txt"):
        out = os.path.join(work, name + ".folded")
        with open(out, "wb") as f:
            subprocess.run([kiln, "collapse", os.path.join(fix, "perf-script", name)], stdout=f,
                           stderr=subprocess.DEVNULL, check=True)
        files.append((out, "folded"))
    expected = os.path.join(shared, "fixtures", "stackcollapse-perf", "expected")
    if os.path.isdir(expected):
        for name in sorted(os.listdir(expected))[:6]:
            files.append((os.path.join(expected, name), "folded"))
    # Formats whose lines end in numbers, and the JSON formats with readers of their own.
    for sub, fmt in (("pprof-legacy", "pprof-legacy"), ("callgrind", "callgrind"), ("trace-event", "trace-event"),
                     ("heapprofile", "heapprofile"), ("firefox", "firefox")):
        for name in sorted(os.listdir(os.path.join(fix, sub))):
            if not name.endswith((".md", ".js", ".py")):
                files.append((os.path.join(fix, sub, name), fmt))
    for name in sorted(os.listdir(os.path.join(fix, "jfr"))):
        if name.endswith(".jfr"):
            files.append((os.path.join(fix, "jfr", name), "jfr"))
    return [(p, f) for p, f in files if os.path.isfile(p)]


def damage(data, rng):
    """A damaged copy: cut, flipped bytes, or both; inside the compression of gzip data half the time."""
    inner = data[:2] == b"\x1f\x8b" and rng.random() < 0.5
    if inner:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            inner = False
    data = bytearray(data)
    kind = rng.choice(("cut", "flip", "both"))
    if kind in ("cut", "both") and len(data) > 1:
        data = data[:rng.randrange(1, len(data))]
    if kind in ("flip", "both") and data:
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(data))
            if rng.random() < 0.5:
                data[i] ^= 1 << rng.randrange(8)
            else:
                data[i] = rng.choice(b"\x00\xff\n;: 0123456789-{}[]\"@")
    return gzip.compress(bytes(data)) if inner else bytes(data)


def sane(cmd, out_path, stdout):
    """None when the successful output is sane, else what is wrong with it."""
    if cmd == "folded":
        if os.path.getsize(out_path) == 0:
            return "an empty result written as a success"
        with open(out_path, "rb") as f:
            for line in f:
                m = FOLDED_LINE.match(line.rstrip(b"\n"))
                if not m:
                    return "a folded line without a count: %r" % line[:80]
                if int(m.group(2)) < 0:
                    return "a negative count: %r" % line[:80]
        return None
    if cmd == "pprof":
        with open(out_path, "rb") as f:
            return None if f.read(2) == b"\x1f\x8b" else "the pprof output is not gzip"
    if cmd == "analyze":
        try:
            doc = json.loads(stdout)
        except ValueError as e:
            return "analyze --json printed invalid JSON: %s" % e
        for key in ("total", "samples"):
            v = doc.get(key, 0) if isinstance(doc, dict) else 0
            if isinstance(v, (int, float)) and v < 0:
                return "a negative %s: %r" % (key, v)
        return None
    if cmd == "svg":
        with open(out_path, "rb") as f:
            data = f.read()
        return None if data.rstrip().endswith(b"</svg>") else "the SVG is not whole"
    return None


def run_one(kiln, path, cmd, tmp, loose_never):
    out = os.path.join(tmp, {"folded": "o.folded", "pprof": "o.pb.gz", "analyze": "o.json", "svg": "o.svg"}[cmd])
    argv = {
        "folded": [kiln, "convert", path, "-o", out],
        "pprof": [kiln, "convert", path, "-o", out],
        "analyze": [kiln, "analyze", path, "--json"],
        "svg": [kiln, "flamegraph", path, "-o", out],
    }[cmd]
    env = dict(os.environ, LC_ALL="C", NO_COLOR="1",
               ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "detect_leaks=1:exitcode=99"),
               UBSAN_OPTIONS=os.environ.get("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1:exitcode=99"))
    try:
        r = subprocess.run(argv, capture_output=True, timeout=TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        return "hang: no exit within %d s" % TIMEOUT
    err = r.stderr.decode("utf-8", "replace")
    if "Sanitizer" in err or "runtime error" in err:
        return "sanitizer report: " + err.strip().splitlines()[0][:200]
    if r.returncode == 2:
        lines = [l for l in err.splitlines() if l]
        if len(lines) != 1 or not lines[0].startswith("kiln: "):
            return "exit 2 without one 'kiln: ' line: %r" % err[:300]
        if cmd != "analyze" and os.path.exists(out):
            return "exit 2 but an output file was left behind"
        return None
    if r.returncode != 0:
        return "exit %d: %s" % (r.returncode, err.strip()[:300])
    if loose_never and cmd == "analyze":
        try:
            formats = json.loads(r.stdout.decode("utf-8", "replace")).get("formats", [])
        except ValueError:
            formats = []
        if "folded" in formats or "perf-script" in formats:
            return "a file whose lines end in numbers, its head intact, was read as %s" % ",".join(formats)
    if [l for l in err.splitlines() if l and not l.startswith("kiln: warning: ")]:
        return "success with stderr other than warnings: %r" % err[:300]
    problem = sane(cmd, out, r.stdout)
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    return problem


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "san", "kiln"))
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=None, help="default: random, printed for reproduction")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", default=None, help="directory for the copies that fail (default: a temporary one)")
    ap.add_argument("--shared", default=os.environ.get("KILN_SHARED", os.path.join(ROOT, "..", "shared")))
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="kiln-damage.")
    keep = a.keep or os.path.join(work, "failures")
    os.makedirs(keep, exist_ok=True)
    try:
        files = real_files(a.kiln, a.shared, work)
        formats = sorted({f for _, f in files})
        print("damage: %d copies of %d real files (%s), seed %d" % (a.count, len(files), ", ".join(formats), seed))
        cmds = ("folded", "pprof", "analyze", "svg")
        jobs = []
        for i in range(a.count):
            path, fmt = files[i % len(files)]
            with open(path, "rb") as f:
                orig = f.read()
            data = damage(orig, rng)
            # A file whose lines end in numbers is never taken for folded stacks or perf script while what
            # identifies it (its head) is intact.
            head = min(len(orig), 1024)
            loose_never = fmt in ("pprof-legacy", "callgrind") and data[:head] == orig[:head]
            ext = ".pb.gz" if path.endswith(".gz") else os.path.splitext(path)[1]
            copy = os.path.join(work, "copy-%05d%s" % (i, ext))
            with open(copy, "wb") as f:
                f.write(data)
            jobs.append((copy, fmt, cmds[(i // len(files)) % len(cmds)], loose_never))

        def one(job):
            copy, fmt, cmd, loose_never = job
            tmp = tempfile.mkdtemp(dir=work)
            try:
                return job, run_one(a.kiln, copy, cmd, tmp, loose_never)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)

        failures = 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
            for (copy, fmt, cmd, _), problem in ex.map(one, jobs):
                if problem:
                    failures += 1
                    kept = shutil.copy(copy, keep)
                    print("FAIL %s (%s, %s): %s" % (kept, fmt, cmd, problem))
                os.unlink(copy)
        print("damage: %d copies, %d failures (seed %d)%s" % (a.count, failures, seed,
                                                            "; failing copies in " + keep if failures else ""))
        return 1 if failures else 0
    finally:
        if not a.keep:
            for f in os.listdir(work):
                p = os.path.join(work, f)
                if f != "failures" and os.path.isfile(p):
                    os.unlink(p)
            if not os.listdir(keep):
                shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
