#!/bin/bash
# The README and docs work verbatim: every command line of the fenced blocks marked runnable (```sh run, see
# docs/README.md) in README.md and docs/*.md runs against the built kiln and the bundled examples, in a scratch
# directory per file, in order, with no standard input. Each line must exit 0 (or N when its comment ends in
# "exit N"), and every output a line names (after -o, --flamegraph, --export-*, --html, --markdown, --json, or a
# `>` redirection, ending in .svg .json .pb.gz .folded .md .html .csv .txt .script or .data) must exist
# afterwards, be non-empty, and be valid for its kind (SVG and HTML parse as XML/HTML, JSON parses, .pb.gz is
# gzip, folded lines end in a count). A block that needs an input file makes it first with kiln or the examples.
# DOCS_ONLY=docs/x.md[,README.md] runs only those files.
#
# Blocks left unmarked, and why: those that need what a test cannot provide in seconds on its own
# - a JVM (runtimes.md's java), the Go toolchain (go test -bench, go tool pprof, go build -pgo), a user's build
#   or files (pgo.md's make -B, ./tool.py, server.js, base.txt of go test, Criterion directories);
# - a server: kiln serve with pushing agents (push.md), a Pyroscope server, a GitHub or GitLab workflow
#   (ci-example.md), and PIDs of the user's services (pidof postgres);
# - third-party scripts: flamegraph.pl, difffolded.pl;
# and synopses, output samples and schemas, which are not commands. Blocks marked `sh run root` need root
# (perf_event, eBPF) and are skipped with that reason otherwise.
. "$(dirname "$0")/lib.sh"
cd "$T_TMP" || exit 1
ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}

for t in cc python3; do
	command -v $t >/dev/null || { t_skip "docs" "$t is not installed"; exit 0; }
done
# The bundled examples under the names the docs use.
mkdir -p bin examples
ln -s "$KILN" bin/kiln
cc -O2 -g -fno-omit-frame-pointer -o examples/myprog "$ROOT/examples/demo.c" -lpthread || t_fail "building demo.c"
cc -O2 -DOLD -o examples/old "$ROOT/examples/sort.c" && cc -O2 -o examples/new "$ROOT/examples/sort.c" ||
	t_fail "building sort.c"
cp "$ROOT/examples/script.py" examples/

python3 - "$ROOT" "$T_TMP" "$(id -u)" <<'PY'
import gzip, json, os, re, shlex, subprocess, sys, xml.dom.minidom

root, tmp, uid = sys.argv[1], sys.argv[2], int(sys.argv[3])
env = dict(os.environ, PATH=tmp + "/bin:" + os.environ["PATH"])
FENCE = re.compile(r"^```sh run( root)?\s*$")
EXT = (".svg", ".json", ".pb.gz", ".folded", ".md", ".html", ".csv", ".txt", ".script", ".data")


def blocks(path):
    """(line number, needs root, [command lines]) per runnable block; backslash continuations joined."""
    out, cur, lines = [], None, open(path).read().split("\n")
    for no, line in enumerate(lines, 1):
        if cur is None:
            m = FENCE.match(line)
            if m:
                cur = (no, bool(m.group(1)), [])
        elif line.startswith("```"):
            out.append(cur)
            cur = None
        elif cur[2] and cur[2][-1].endswith("\\"):
            cur[2][-1] = cur[2][-1][:-1] + line
        elif line.strip():
            cur[2].append(line)
    return out


OUT_OPTS = {"-o", "--output", "--flamegraph", "--export-json", "--export-markdown", "--export-csv", "--html",
            "--markdown", "--json", "--report-json", ">"}


def named_files(cmd):
    """The outputs a line names: after an output option (-o FILE, --opt=FILE) or a redirection."""
    try:
        words = shlex.split(cmd, comments=True)
    except ValueError:
        return []
    out = []
    for i, w in enumerate(words):
        if w.startswith(">") and len(w) > 1:
            name = w[1:]
        elif "=" in w and w.split("=", 1)[0] in OUT_OPTS:
            name = w.split("=", 1)[1]
        elif i > 0 and words[i - 1] in OUT_OPTS:
            name = w
        else:
            continue
        if name.endswith(EXT):
            out.append(name)
    return out


def comment(cmd):
    """The line's shell comment: from a # that starts a word outside quotes."""
    quote = None
    for i, c in enumerate(cmd):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or cmd[i - 1].isspace()):
            return cmd[i + 1:]
    return ""


def expected_status(cmd):
    """0, or N when the line's comment ends in "exit N" (kiln compare on a regression: exit 1)."""
    m = re.search(r"\bexit (\d+)\W*$", comment(cmd))
    return int(m.group(1)) if m else 0


def valid(path):
    if os.path.getsize(path) == 0:
        return "is empty"
    data = open(path, "rb").read()
    try:
        if path.endswith(".svg"):
            xml.dom.minidom.parseString(data)
        elif path.endswith(".json"):
            json.loads(data)
        elif path.endswith(".pb.gz"):
            gzip.decompress(data)
        elif path.endswith(".folded"):
            bad = [l for l in data.decode().splitlines() if not re.search(r" -?[0-9.]+$", l)]
            if bad:
                return "has a line without a count: %r" % bad[0]
        elif path.endswith(".html"):
            if b"<html" not in data.lower():
                return "is not HTML"
    except Exception as e:  # the message names what is wrong
        return "is not valid: %s" % e
    return None


files = [os.path.join(root, "README.md")] + sorted(
    os.path.join(root, "docs", f) for f in os.listdir(os.path.join(root, "docs")) if f.endswith(".md"))
only = os.environ.get("DOCS_ONLY")  # e.g. DOCS_ONLY=docs/heap.md,README.md while writing a doc
if only:
    files = [f for f in files if os.path.relpath(f, root) in only.split(",")]
total = 0
for path in files:
    rel = os.path.relpath(path, root)
    found = blocks(path)
    if not found:
        continue
    work = os.path.join(tmp, "run-" + rel.replace("/", "-"))
    os.makedirs(work)
    for name in os.listdir(os.path.join(tmp, "examples")):
        os.symlink(os.path.join(tmp, "examples", name), os.path.join(work, name))
    for no, root_only, cmds in found:
        for cmd in cmds:
            total += 1
            desc = "%s:%d: %s" % (rel, no, cmd.split("#")[0].strip())
            if root_only and uid != 0:
                print("skip - %s: needs root (perf_event, eBPF)" % desc)
                continue
            try:
                p = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=work, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
            except subprocess.TimeoutExpired:
                print("not ok - %s\n#   still running after 120 s" % desc)
                continue
            problems = []
            want = expected_status(cmd)
            if p.returncode != want:
                problems.append("exit %d, expected %d: %s" % (p.returncode, want,
                                                              p.stderr.decode(errors="replace")[-600:]))
            for f in named_files(cmd):
                fp = os.path.join(work, f)
                if not os.path.exists(fp):
                    problems.append("'%s' was not written" % f)
                else:
                    why = valid(fp)
                    if why:
                        problems.append("'%s' %s" % (f, why))
            if problems:
                print("not ok - " + desc)
                for line in "\n".join(problems).splitlines()[:20]:
                    print("#   " + line)
            else:
                print("ok - " + desc)
print("ok - %d runnable command lines found" % total if total >= 10 or only else
      "not ok - only %d runnable command lines found" % total)
PY
t_done
