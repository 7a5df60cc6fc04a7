#!/bin/bash
# Issue 18's PostgreSQL figures: the same fleet (bench/serve-fleet.py, pushed by bench/fleet_push.c) against a
# SQLite store and against a throw-away PostgreSQL 15 cluster (scripts/pg-cluster.sh, fsync and
# synchronous_commit on: an acknowledged profile is durable), then the PostgreSQL figures as ratios of SQLite's.
# Targets: ingest >= 2,000 profiles/s, every query's p50 (1 h, 24 h, 7 d) <= 2x SQLite's. The cluster has 1 GB of
# shared_buffers (KILN_PG_OPTS overrides), as a database for a fleet would be set up: PostgreSQL's default of
# 128 MB holds less than the stack and profile tables of a fleet's day, and SQLite uses the page cache. The
# CPU that PostgreSQL and kiln serve used until ingest ended is printed per profile (bench/pg-cpu.py), with the
# load average: on a shared machine the rate alone says little.
# Usage: bench/serve-pg.sh [serve-fleet.py options, e.g. --series 100 --hours 1 --settle 95 --kiln BINARY]
set -u
cd "$(dirname "$0")/.."
make -s -j2 all >/dev/null || exit 1
work=$(mktemp -d /tmp/kiln-bench-pg.XXXXXX)
chmod 755 "$work"
trap 'scripts/pg-cluster.sh stop "$work/c"; rm -rf "$work"' EXIT
url=$(KILN_PG_OPTS=${KILN_PG_OPTS:--c shared_buffers=1GB} scripts/pg-cluster.sh start "$work/c") || { echo "bench: no PostgreSQL cluster (see above)" >&2; exit 1; }

echo "== SQLite"
python3 bench/serve-fleet.py "$@" | tee "$work/sqlite.txt"
echo "== PostgreSQL"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min averages, $(nproc) cores)"
read -r pg0 kiln0 < <(python3 bench/pg-cpu.py "$work/c")
python3 bench/serve-fleet.py --storage "$url" "$@" | tee "$work/pg.txt" &
fleet=$!
# The CPU used until ingest ends, sampled until the fleet prints its "ingest:" line.
pg1=$pg0 kiln1=$kiln0
while kill -0 $fleet 2>/dev/null && ! grep -q "^ingest:" "$work/pg.txt"; do
	read -r pg1 kiln1 < <(python3 bench/pg-cpu.py "$work/c")
	sleep 0.5
done
grep -q "^ingest:" "$work/pg.txt" && read -r pg1 kiln1 < <(python3 bench/pg-cpu.py "$work/c")
wait $fleet
n=$(sed -n 's/^ingest: \([0-9]*\) profiles.*/\1/p' "$work/pg.txt")
[ -n "$n" ] && [ "$n" -gt 0 ] && awk -v n="$n" -v p="$pg0 $pg1" -v k="$kiln0 $kiln1" 'BEGIN {
	split(p, a, " "); split(k, b, " ");
	printf "ingest CPU: PostgreSQL %.1f s = %.3f ms per profile, kiln serve %.1f s = %.3f ms per profile\n",
		a[2] - a[1], (a[2] - a[1]) * 1000 / n, b[2] - b[1], (b[2] - b[1]) * 1000 / n }' | tee -a "$work/pg.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# The figures of both runs side by side: PostgreSQL's over SQLite's (ingest: higher is better; the rest: lower).
python3 - "$work/sqlite.txt" "$work/pg.txt" <<'EOF'
import re, sys
def figures(path):
    t = open(path).read()
    f = {}
    m = re.search(r"= (\d+) profiles/s \((\d+) errors\)", t)
    if m:
        f["ingest profiles/s"], f["errors"] = float(m.group(1)), int(m.group(2))
    m = re.search(r"ack latency: p50 ([0-9.]+) ms, p99 ([0-9.]+) ms", t)
    if m:
        f["ack p50 ms"], f["ack p99 ms"] = float(m.group(1)), float(m.group(2))
    for name, ms, ok in re.findall(r"^query (.+?): p50 (\d+) ms.*\((\w+)\)$", t, re.M):
        f["query %s p50 ms" % name] = float(ms)
        f["query %s ok" % name] = ok == "ok"
    return f
sq, pg = figures(sys.argv[1]), figures(sys.argv[2])
print("== PostgreSQL / SQLite")
bad = []
for k in sq:
    if k.endswith(" ok") or k == "errors" or k not in pg:
        continue
    r = pg[k] / sq[k] if sq[k] else float("inf")
    print("%-31s SQLite %9.1f  PostgreSQL %9.1f  ratio %.2f" % (k, sq[k], pg[k], r))
    if k.startswith("query") and r > 2:
        bad.append("%s is %.2fx SQLite's (target <= 2x)" % (k, r))
if pg.get("ingest profiles/s", 0) < 2000:
    bad.append("PostgreSQL ingest %.0f profiles/s (target >= 2,000)" % pg.get("ingest profiles/s", 0))
for f in (sq, pg):
    bad += ["%s failed its check" % k[:-3] for k, v in f.items() if k.endswith(" ok") and not v]
    if f.get("errors"):
        bad.append("%d ingest errors" % f["errors"])
print("\n".join("MISSED: " + b for b in bad) if bad else "all targets met")
sys.exit(1 if bad else 0)
EOF
