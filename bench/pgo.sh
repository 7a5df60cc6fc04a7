#!/bin/bash
# kiln pgo's acceptance figures, each a speed-up in CPU time against its anchor, measured by kiln pgo compare
# (the builds of a group run interleaved, one run each per round; the figure is the median over the rounds of
# anchor / build - 1, with its 95 % interval and the rounds' quartiles as the spread):
#   gcc:   SQLite's shell (the amalgamation the npm package sqlite3 ships under deps/) on a CPU-bound mixed SQL
#          workload (bench/pgo-workload.sql, in memory), -O2 (the anchor), PGO by hand with the documented flags,
#          and kiln pgo instrument/train/optimize;
#   clang: the same, plus sampling-based PGO (AutoFDO) from a kiln CPU profile of the -O2 build (kiln pgo
#          sample), and the same AutoFDO done by hand from perf record's IP samples (create_llvm_prof, Debian's
#          autofdo package, fed by bench/perf-afdo-text.py; no PMU here, so no LBR);
#   go:    a stdlib-only Go program plain (the anchor), with go build -pgo from Go's own -cpuprofile, and from
#          kiln's profile of the same training run (kiln pgo go), when a Go 1.21+ is installed.
# Builds run two at a time (the gcc and clang groups side by side), then each group is measured on its own.
# Usage: bench/pgo.sh [gcc] [clang] [go]
#   env: BUILD (build), RUNS (30 rounds), WORK=DIR reuses the builds found in DIR (and keeps it), KEEP=1 keeps
#   the temporary work directory.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
RUNS=${RUNS:-30}
KILN=$ROOT/$BUILD/kiln
PARTS=${*:-gcc clang go}
make --no-print-directory -s BUILD="$BUILD" "$KILN" >/dev/null || exit 1
if [ -n "${WORK:-}" ]; then
	mkdir -p "$WORK" && work=$(cd "$WORK" && pwd)
else
	work=$(mktemp -d /tmp/kiln-bench-pgo.XXXXXX)
	[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$work"' EXIT
fi
cd "$work" || exit 1
log() { echo "  $*" >&2; }

# SQLite from the npm package's tarball, cached across runs.
SQ_CACHE=/tmp/kiln-bench-sqlite
if [ ! -f "$SQ_CACHE/sqlite3.c" ]; then
	command -v npm >/dev/null || { echo "skip: npm is needed to fetch SQLite (the sqlite3 package)"; exit 0; }
	mkdir -p "$SQ_CACHE.tmp" && (cd "$SQ_CACHE.tmp" && npm pack --silent sqlite3@6 >/dev/null &&
		tar -xzf sqlite3-*.tgz --wildcards 'package/deps/sqlite-autoconf-*.tar.gz' &&
		tar -xzf package/deps/sqlite-autoconf-*.tar.gz) || { echo "skip: cannot fetch SQLite"; exit 0; }
	rm -rf "$SQ_CACHE" && mv "$SQ_CACHE.tmp"/sqlite-autoconf-* "$SQ_CACHE" && rm -rf "$SQ_CACHE.tmp"
fi
cp "$ROOT/bench/pgo-workload.sql" w.sql
DEFS="-DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION"
RUN_SQL='./sqlite3 :memory: <../w.sql >/dev/null'

# A build directory with the sources; false when a finished build is there (WORK=DIR) and so is kept. A build
# marks itself finished (done DIR) only at its end: an instrumented sqlite3 left by a stopped run is no build.
fresh() {
	[ -e "$1/.built" ] && return 1
	rm -rf "$1" && mkdir -p "$1" && cp "$SQ_CACHE/sqlite3.c" "$SQ_CACHE/sqlite3.h" "$SQ_CACHE/shell.c" "$1/"
}
built() { [ -e "$1/.built" ]; }
text_of() { objcopy -O binary --only-section=.text "$1" "$1.text" 2>/dev/null; }

sqlite_builds() { # CC: the -O2 anchor, PGO by hand and kiln pgo, each in its own directory; the log in CC.log
	# kiln pgo runs the build as it is written ('cc'), and instrument --cc picks the compiler behind it.
	local cc=$1 build="cc -O2 -g $DEFS -o sqlite3 shell.c sqlite3.c -lm"
	if fresh $cc-O2; then
		(cd $cc-O2 && $cc -O2 -g $DEFS -o sqlite3 shell.c sqlite3.c -lm && touch .built) || return 1
	fi
	if fresh $cc-hand; then
		if [ "$cc" = gcc ]; then # the documented flags: the same output name both times
			(cd $cc-hand && gcc -O2 -g $DEFS -fprofile-generate -fprofile-update=atomic -o sqlite3 shell.c \
				sqlite3.c -lm && sh -c "$RUN_SQL" && gcc -O2 -g $DEFS -fprofile-use -o sqlite3 shell.c sqlite3.c -lm &&
				touch .built) ||
				return 1
		else
			(cd $cc-hand && clang -O2 -g $DEFS -fprofile-instr-generate -o sqlite3 shell.c sqlite3.c -lm &&
				LLVM_PROFILE_FILE=run.profraw sh -c "$RUN_SQL" && llvm-profdata merge -o app.profdata run.profraw &&
				clang -O2 -g $DEFS -fprofile-instr-use=app.profdata -o sqlite3 shell.c sqlite3.c -lm && touch .built) ||
				return 1
		fi
	fi
	if fresh $cc-kiln; then
		(cd $cc-kiln && "$KILN" pgo instrument -q --cc $cc -- $build >/dev/null &&
			"$KILN" pgo train -q -- sh -c "$RUN_SQL" >/dev/null && "$KILN" pgo optimize -q -- $build >optimize.txt &&
			sed 's/^/    /' optimize.txt && touch .built) || return 1
	fi
	[ "$cc" = clang ] || return 0
	# AutoFDO from a kiln CPU profile of the -O2 build: three runs of the workload in one recording.
	if fresh clang-sample; then
		(cd clang-sample && "$KILN" profile -F 4000 -o cpu.pb.gz sh -c \
			"for i in 1 2 3; do ../clang-O2/$RUN_SQL; done" >/dev/null 2>&1 &&
			"$KILN" pgo sample cpu.pb.gz --binary ../clang-O2/sqlite3 -o app.prof &&
			clang -O2 -g $DEFS -fprofile-sample-use=app.prof -o sqlite3 shell.c sqlite3.c -lm && touch .built) ||
			return 1
	fi
	# The same AutoFDO by hand from perf record's IP samples (no PMU here, so no LBR): perf script's samples as
	# AutoFDO's text input (bench/perf-afdo-text.py), create_llvm_prof. Debian's autofdo (0.19) reads neither
	# perf 6.1's perf.data (record type 82) nor DWARF 5, so the profiled build is the -O2 one with -gdwarf-4 (the
	# same code: the debug format does not change it); and it garbles some inline callee names, which
	# perf-afdo-text.py --clean drops (clang refuses the whole profile otherwise).
	if ! command -v create_llvm_prof >/dev/null; then
		echo "    perf AutoFDO skipped: create_llvm_prof is not installed (apt-get install autofdo)"
	elif fresh clang-perf; then
		# perf record once aborted here (SIGABRT) while other sessions profiled the machine: one more try.
		(cd clang-perf && clang -O2 -gdwarf-4 $DEFS -o sqlite3-prof shell.c sqlite3.c -lm &&
			{ perf_ip || perf_ip; } &&
			perf script -i perf.data --show-mmap-events -F pid,ip,dso 2>/dev/null |
			python3 "$ROOT/bench/perf-afdo-text.py" sqlite3-prof >perf.txt &&
			create_llvm_prof --profiler=text --profile=perf.txt --binary=sqlite3-prof --use_lbr=false \
				--format=text --out=raw.afdo >afdo.log 2>&1 &&
			python3 "$ROOT/bench/perf-afdo-text.py" --clean <raw.afdo >app.afdo && [ -s app.afdo ] &&
			clang -O2 -g $DEFS -fprofile-sample-use=app.afdo -o sqlite3 shell.c sqlite3.c -lm && touch .built) ||
			echo "    perf AutoFDO failed: $(tail -1 clang-perf/afdo.log 2>/dev/null)"
	fi
}

perf_ip() {
	perf record -q -e cpu-clock -F 4000 -o perf.data -- sh -c \
		"for i in 1 2 3; do ./sqlite3-prof :memory: <../w.sql >/dev/null; done" >/dev/null 2>&1
}

go_builds() { # the Go program plain, with Go's own CPU profile, and with kiln's (kiln pgo go)
	local g minor
	GO=
	for g in go /usr/lib/go-1.2[1-9]/bin/go /usr/local/go/bin/go; do
		command -v "$g" >/dev/null 2>&1 || continue
		minor=$("$g" env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
		[ -n "$minor" ] && [ "$minor" -ge 21 ] && { GO=$g; break; }
	done
	[ -n "$GO" ] || { log "go: skipped, no Go 1.21+ (Debian 12: golang-1.22-go from bookworm-backports)"; return 1; }
	export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod
	[ -x goapp/app-kiln ] && return 0
	mkdir -p goapp && cp "$ROOT/tests/cli/t9520-pgo-go.d/main.go" goapp/ &&
		printf 'module example.com/gopgo\n\ngo 1.21\n' >goapp/go.mod
	# One training run gives both profiles: Go's own -cpuprofile (SIGPROF, 100 Hz) and kiln's of the same process.
	(cd goapp && "$GO" build -o app-plain . &&
		"$KILN" profile -o kiln.pb.gz ./app-plain -n $((3 * GO_N)) -cpuprofile go.prof >/dev/null 2>&1 &&
		"$KILN" pgo go kiln.pb.gz --binary ./app-plain -o kiln.pgo >&2 &&
		"$GO" build -pgo=go.prof -o app-goprof . && "$GO" build -pgo=kiln.pgo -o app-kiln .)
}
GO_N=100000000

want() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
pids=()
for cc in gcc clang; do
	want $cc || continue
	command -v $cc >/dev/null || { log "$cc: skipped, not installed"; continue; }
	log "$cc: building -O2, PGO by hand, kiln pgo$([ $cc = clang ] && echo ', kiln pgo sample, perf AutoFDO') (log: $work/$cc.log)"
	(sqlite_builds $cc >$cc.log 2>&1 || echo "bench: $cc builds failed" >>$cc.log) &
	pids+=($!)
done
[ ${#pids[@]} -gt 0 ] && wait "${pids[@]}"
for cc in gcc clang; do [ -f $cc.log ] && sed -n '/^ \|bench:/p' $cc.log >&2; done
want go && { go_builds || log "go builds failed or skipped"; }

# One interleaved comparison per group; prints its report and leaves it in NAME.txt.
compare() { # NAME ANCHOR_NAME ANCHOR_CMD [NAME CMD]...
	local out=$1 names=() cmds=()
	shift
	while [ $# -ge 2 ]; do names+=(-n "$1"); cmds+=("$2"); shift 2; done
	log "$out: ${#cmds[@]} builds, $RUNS interleaved rounds"
	"$KILN" pgo compare -r "$RUNS" "${names[@]}" --export-json "$out.json" "${cmds[@]}" >"$out.txt" 2>"$out.err" ||
		{ cat "$out.err" >&2; return 1; }
	cat "$out.txt"
}
sq() { built "$1" && echo "$2" && echo "cd $1 && $RUN_SQL"; }
ran=0
for cc in gcc clang; do
	want $cc && built $cc-O2 && built $cc-hand && built $cc-kiln || continue
	mapfile -t args < <(sq $cc-O2 "$cc -O2"; sq $cc-hand "$cc PGO by hand"; sq $cc-kiln "$cc kiln pgo"
		[ $cc = clang ] && { sq clang-sample "clang kiln pgo sample"; sq clang-perf "clang perf AutoFDO"; })
	compare $cc "${args[@]}" && ran=1
	text_of $cc-hand/sqlite3 && text_of $cc-kiln/sqlite3 && cmp -s $cc-hand/sqlite3.text $cc-kiln/sqlite3.text &&
		echo "  $cc: the .text of the kiln pgo build is byte-identical to the hand-done PGO build's"
done
if want go && [ -x goapp/app-kiln ]; then
	compare go "go plain" "./goapp/app-plain -n $GO_N >/dev/null" "go -pgo (Go's profile)" \
		"./goapp/app-goprof -n $GO_N >/dev/null" "go -pgo (kiln pgo go)" "./goapp/app-kiln -n $GO_N >/dev/null" && ran=1
fi
[ $ran = 1 ] || { echo "skip: nothing was built"; exit 0; }

# The summary: the figures the issue asks for, from the reports above.
# A build's line: its name, padded with spaces, then "median" (so "clang kiln pgo" is not "clang kiln pgo sample").
g() { sed -n "s/^  $2  *median .* speed-up \([-+][0-9.]*\) %.*/\1/p" "$1.txt" 2>/dev/null; }
ci() { sed -n "s/^  $2  *median .*95 % CI \([-+][0-9.]*\) % \.\. \([-+][0-9.]*\) %.*/\1 \2/p" "$1.txt" 2>/dev/null; }
echo
echo "summary (speed-up in CPU time against -O2, median over $RUNS rounds, [95 % interval]):"
for cc in gcc clang; do
	want $cc || continue # (a WORK directory keeps the reports of other runs)
	h=$(g $cc "$cc PGO by hand") k=$(g $cc "$cc kiln pgo")
	[ -n "$h" ] && [ -n "$k" ] || continue
	awk -v cc=$cc -v h="$h" -v k="$k" -v hc="$(ci $cc "$cc PGO by hand")" -v kc="$(ci $cc "$cc kiln pgo")" 'BEGIN {
		printf "  %-5s PGO by hand %+.1f %% [%s] (>= +5 %% wanted); kiln pgo %+.1f %% [%s]; kiln - hand %+.1f points (within 2 wanted)\n",
			cc, h, hc, k, kc, k - h }'
done
k=$(g clang "clang kiln pgo") h=$(g clang "clang PGO by hand")
want clang || k=
for v in "clang kiln pgo sample" "clang perf AutoFDO"; do
	s=$(g clang "$v")
	[ -n "$s" ] && [ -n "$k" ] || continue
	awk -v v="$v" -v s="$s" -v k="$k" -v h="$h" -v sc="$(ci clang "$v")" -v kc="$(ci clang "clang kiln pgo")" 'BEGIN {
		split(sc, a, " "); split(kc, b, " ")
		# (A ">" among printf'"'"'s arguments would redirect its output: the tests are done before.)
		lo = (b[2] > 0) ? 100 * a[1] / b[2] : 0; hi = (b[1] > 0) ? sprintf("%.0f", 100 * a[2] / b[1]) : "inf"
		of_hand = (h + 0 != 0) ? 100 * s / h : 0
		printf "  %-24s %+.1f %% [%s] = %.0f %% of the instrumented gain (kiln pgo; %.0f %% of the hand-done); from the intervals %.0f .. %s %%\n",
			v, s, sc, 100 * s / k, of_hand, lo, hi }'
done
gp=$(g go "go -pgo (Go's profile)") kp=$(g go "go -pgo (kiln pgo go)")
want go && [ -n "$gp" ] && echo "  go    -pgo from Go's profile $gp % [$(ci go "go -pgo (Go's profile)")], from kiln's $kp % [$(ci go "go -pgo (kiln pgo go)")] (the same within noise wanted)"
exit 0
