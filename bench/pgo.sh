#!/bin/bash
# kiln pgo's acceptance figures, measured in one run as ratios against their anchors:
#   SQLite's shell (the amalgamation the npm package sqlite3 ships under deps/) on a fixed SQL workload, built
#   -O2 (the anchor), with PGO done by hand with the documented flags, and with kiln pgo instrument/train/optimize,
#   for GCC and for Clang; and, with Clang, sampling-based PGO from a kiln CPU profile (kiln pgo sample).
#   A stdlib-only Go program built plain, with go build -pgo from Go's own -cpuprofile, and from kiln's profile
#   (kiln pgo go), when a Go 1.21+ is installed.
# Every binary runs interleaved with the others (kiln bench, round-robin), RUNS times; the figure is the median
# CPU time (user + system) of each, and a speed-up is median(-O2) / median(variant) - 1.
# Usage: bench/pgo.sh [gcc] [clang] [go]   (env: BUILD, RUNS (15), KEEP=1 keeps the work directory)
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
RUNS=${RUNS:-15}
KILN=$ROOT/$BUILD/kiln
PARTS=${*:-gcc clang go}
make --no-print-directory -s BUILD="$BUILD" "$KILN" >/dev/null || exit 1
command -v python3 >/dev/null || { echo "skip: python3 is needed to summarise"; exit 0; }
work=$(mktemp -d /tmp/kiln-bench-pgo.XXXXXX)
[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

# SQLite from the npm package's tarball, cached across runs.
SQ_CACHE=/tmp/kiln-bench-sqlite
if [ ! -f "$SQ_CACHE/sqlite3.c" ]; then
	command -v npm >/dev/null || { echo "skip: npm is needed to fetch SQLite (the sqlite3 package)"; exit 0; }
	mkdir -p "$SQ_CACHE.tmp" && (cd "$SQ_CACHE.tmp" && npm pack --silent sqlite3@6 >/dev/null &&
		tar -xzf sqlite3-*.tgz --wildcards 'package/deps/sqlite-autoconf-*.tar.gz' &&
		tar -xzf package/deps/sqlite-autoconf-*.tar.gz) || { echo "skip: cannot fetch SQLite"; exit 0; }
	rm -rf "$SQ_CACHE" && mv "$SQ_CACHE.tmp"/sqlite-autoconf-* "$SQ_CACHE" && rm -rf "$SQ_CACHE.tmp"
fi
cp "$SQ_CACHE/sqlite3.c" "$SQ_CACHE/sqlite3.h" "$SQ_CACHE/shell.c" .
cat >w.sql <<'SQL'
CREATE TABLE t(a INTEGER PRIMARY KEY, b INTEGER, c TEXT, d REAL);
WITH RECURSIVE x(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM x WHERE i < 150000)
INSERT INTO t SELECT i, (i*7919)%1000, printf('name-%d-%x', i%5000, i*31), (i%977)*1.5 FROM x;
CREATE INDEX tb ON t(b);
CREATE INDEX tc ON t(c);
SELECT b, count(*), sum(d), avg(length(c)) FROM t GROUP BY b ORDER BY 3 DESC LIMIT 3;
SELECT count(*) FROM t t1 JOIN t t2 ON t1.b = t2.a WHERE t1.d > 100;
UPDATE t SET d = d * 1.01 WHERE b % 3 = 0;
DELETE FROM t WHERE a % 7 = 0;
SELECT c, count(*) FROM t WHERE c LIKE 'name-1%' GROUP BY c ORDER BY 2 DESC LIMIT 3;
CREATE TABLE u AS SELECT b, group_concat(c) AS g FROM t GROUP BY b;
SELECT sum(length(g)) FROM u;
SELECT count(*), max(c) FROM t WHERE c > 'name-2' AND c < 'name-3';
WITH RECURSIVE y(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM y WHERE i < 200000) SELECT sum(i*i % 13) FROM y;
SELECT json_group_array(b) IS NOT NULL FROM (SELECT DISTINCT b FROM t ORDER BY b);
SQL
DEFS="-DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION"
BUILD_CMD="cc -O2 -g $DEFS -o sqlite3 shell.c sqlite3.c -lm"
train() { ./sqlite3 :memory: <w.sql >/dev/null; }
log() { echo "  $*" >&2; }

names=() cmds=()
add() { names+=("$1"); cmds+=("$2"); }

sqlite_variants() { # CC: the -O2 anchor, hand-done PGO and kiln pgo, each in its own directory
	local cc=$1 d
	for d in $cc-O2 $cc-hand $cc-kiln; do mkdir -p "$d" && cp sqlite3.c sqlite3.h shell.c w.sql "$d/"; done
	log "$cc: -O2"
	(cd $cc-O2 && $cc -O2 -g $DEFS -o sqlite3 shell.c sqlite3.c -lm) || return 1
	log "$cc: PGO by hand (the documented flags: same output name both times)"
	if [ "$cc" = gcc ]; then
		(cd $cc-hand && gcc -O2 -g $DEFS -fprofile-generate -fprofile-update=atomic -o sqlite3 shell.c sqlite3.c \
			-lm && train && gcc -O2 -g $DEFS -fprofile-use -o sqlite3 shell.c sqlite3.c -lm) || return 1
	else
		(cd $cc-hand && clang -O2 -g $DEFS -fprofile-instr-generate -o sqlite3 shell.c sqlite3.c -lm &&
			LLVM_PROFILE_FILE=run.profraw train && llvm-profdata merge -o app.profdata run.profraw &&
			clang -O2 -g $DEFS -fprofile-instr-use=app.profdata -o sqlite3 shell.c sqlite3.c -lm) || return 1
	fi
	log "$cc: kiln pgo"
	(cd $cc-kiln && "$KILN" pgo instrument -q --cc $cc -- $BUILD_CMD >/dev/null &&
		"$KILN" pgo train -q -- sh -c './sqlite3 :memory: <w.sql >/dev/null' >/dev/null &&
		"$KILN" pgo optimize -q -- $BUILD_CMD >optimize.txt && sed 's/^/    /' optimize.txt >&2) || return 1
	add "$cc -O2" "./$cc-O2/sqlite3 :memory: <w.sql >/dev/null"
	add "$cc PGO by hand" "./$cc-hand/sqlite3 :memory: <w.sql >/dev/null"
	add "$cc kiln pgo" "./$cc-kiln/sqlite3 :memory: <w.sql >/dev/null"
}

clang_sampled() { # AutoFDO from a kiln CPU profile of the -O2 build (several runs merged by one recording)
	mkdir -p clang-sample && cp sqlite3.c sqlite3.h shell.c w.sql clang-sample/
	log "clang: kiln profile of the -O2 build, kiln pgo sample, -fprofile-sample-use"
	(cd clang-sample && "$KILN" profile -F 4000 -o cpu.pb.gz sh -c \
		'for i in 1 2 3 4 5 6; do ../clang-O2/sqlite3 :memory: <w.sql >/dev/null; done' >/dev/null 2>&1 &&
		"$KILN" pgo sample cpu.pb.gz --binary ../clang-O2/sqlite3 -o app.prof >&2 &&
		clang -O2 -g $DEFS -fprofile-sample-use=app.prof -o sqlite3 shell.c sqlite3.c -lm) || return 1
	add "clang kiln pgo sample" "./clang-sample/sqlite3 :memory: <w.sql >/dev/null"
}

go_variants() {
	local GO= g minor
	for g in go /usr/lib/go-1.2[1-9]/bin/go /usr/local/go/bin/go; do
		command -v "$g" >/dev/null 2>&1 || continue
		minor=$("$g" env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
		[ -n "$minor" ] && [ "$minor" -ge 21 ] && { GO=$g; break; }
	done
	[ -n "$GO" ] || { log "go: skipped, no Go 1.21+"; return 0; }
	export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod
	mkdir -p goapp && cp "$ROOT/tests/cli/t9520-pgo-go.d/main.go" goapp/ &&
		printf 'module example.com/gopgo\n\ngo 1.21\n' >goapp/go.mod
	log "go: plain, -pgo from Go's -cpuprofile, -pgo from kiln's profile (kiln pgo go)"
	(cd goapp && "$GO" build -o app-plain . && ./app-plain -cpuprofile go.prof >/dev/null &&
		"$KILN" profile -o kiln.pb.gz ./app-plain >/dev/null 2>&1 &&
		"$KILN" pgo go kiln.pb.gz --binary ./app-plain -o kiln.pgo >&2 &&
		"$GO" build -pgo=go.prof -o app-goprof . && "$GO" build -pgo=kiln.pgo -o app-kiln .) || return 1
	add "go plain" "./goapp/app-plain -n 100000000 >/dev/null"
	add "go -pgo (Go's profile)" "./goapp/app-goprof -n 100000000 >/dev/null"
	add "go -pgo (kiln pgo go)" "./goapp/app-kiln -n 100000000 >/dev/null"
}

for part in $PARTS; do
	case $part in
	gcc) command -v gcc >/dev/null && { sqlite_variants gcc || echo "bench: gcc builds failed" >&2; } ;;
	clang) command -v clang >/dev/null && { { sqlite_variants clang && clang_sampled; } || echo "bench: clang builds failed" >&2; } ;;
	go) go_variants || echo "bench: go builds failed" >&2 ;;
	esac
done
[ ${#names[@]} -gt 0 ] || { echo "skip: nothing was built"; exit 0; }
nargs=()
for n in "${names[@]}"; do nargs+=(-n "$n"); done
log "kiln bench: ${#names[@]} binaries, $RUNS interleaved runs each"
"$KILN" bench -S /bin/sh -w 1 -r "$RUNS" "${nargs[@]}" --export-json bench.json "${cmds[@]}" >/dev/null 2>bench.err ||
	{ cat bench.err >&2; exit 1; }
python3 - bench.json <<'PY'
import json, sys, statistics
d = json.load(open(sys.argv[1]))
cpu = {}
for r in d["results"]:
    name = r["command"]
    cpu[name] = statistics.median(u + s for u, s in zip(r["user_times"], r["system_times"]))
def gain(base, v):
    return cpu[base] / cpu[v] - 1 if base in cpu and v in cpu else None
def pct(x):
    return "n/a" if x is None else "%+.1f %%" % (100 * x)
print("median CPU time per run (s):")
for n, t in cpu.items():
    print("  %-26s %.4f" % (n, t))
for cc in ("gcc", "clang"):
    hand, kiln = gain(cc + " -O2", cc + " PGO by hand"), gain(cc + " -O2", cc + " kiln pgo")
    if hand is None:
        continue
    print("%s: PGO by hand %s vs -O2 (>= +5 %% wanted); kiln pgo %s; kiln - hand = %+.1f points (within 2 wanted)"
          % (cc, pct(hand), pct(kiln), 100 * (kiln - hand)))
s, inst = gain("clang -O2", "clang kiln pgo sample"), gain("clang -O2", "clang kiln pgo")
if s is not None and inst:
    print("clang sampled (kiln pgo sample): %s vs -O2 = %.0f %% of the instrumented gain (>= 50 %% wanted)"
          % (pct(s), 100 * s / inst))
g, k = gain("go plain", "go -pgo (Go's profile)"), gain("go plain", "go -pgo (kiln pgo go)")
if g is not None:
    print("go: -pgo from Go's profile %s, from kiln's %s vs plain (the same within noise wanted)" % (pct(g), pct(k)))
PY
