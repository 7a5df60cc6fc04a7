#!/bin/bash
# kiln profile --mode offcpu on a context-switch-heavy program (tests/helpers/wait_pingpong: two threads
# ping-ponging a byte over pipes, N round trips): the program's own CPU time (user + system, which includes the
# eBPF program run at each of its context switches) and wall time under kiln against its bare run,
# with `perf record -e sched:sched_switch -g` as the anchor, in the same run. Each figure is the median of RUNS
# interleaved runs. Usage: bench/offcpu-overhead.sh   (env: BUILD, RUNS, N)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
N=${N:-100000}
KILN=$BUILD/kiln
W=$BUILD/tests/helpers/wait_pingpong
make --no-print-directory -s BUILD="$BUILD" "$KILN" "$W" >/dev/null || exit 1
command -v perf >/dev/null || { echo "skip: perf is not installed (the anchor)"; exit 0; }
tmp=$(mktemp -d)
export WAIT_TIMING=1
trap 'rm -rf "$tmp"' EXIT
if ! "$KILN" profile --mode offcpu -q -o "$tmp/probe.pb.gz" true 2>"$tmp/probe"; then
	echo "skip: kiln profile --mode offcpu cannot run here: $(head -1 "$tmp/probe")"
	exit 0
fi

time_of() { awk '$1 == "wait_pingpong:" {print $9, $6}' "$1"; }
median() { awk -v c="${COL:-1}" '{print $c}' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
run() { # NAME CMD... : appends the program's seconds to $tmp/NAME, and the whole command's to $tmp/NAME.all
	local name=$1; shift
	local t0; t0=$(date +%s.%N)
	"$@" >/dev/null 2>"$tmp/err"
	awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }' >>"$tmp/$name.all"
	time_of "$tmp/err" >>"$tmp/$name"
}

for i in $(seq "$RUNS"); do
	run base "$W" "$N"
	run kiln "$KILN" profile --mode offcpu -q -o "$tmp/k.pb.gz" -- "$W" "$N"
	run perf perf record -q -e sched:sched_switch -g -o "$tmp/p.data" -- "$W" "$N"
done

for COL in 1 2; do
	export COL
	what=CPU
	[ $COL = 2 ] && what=wall
	base=$(median <"$tmp/base")
	printf '%s time of the ping-pong without tracing: %.3f s for %d round trips (median of %d)\n' "$what" "$base" \
		"$N" "$RUNS"
	printf '  %-40s %10s\n' tool "slowdown"
	for t in kiln perf; do
		name="kiln profile --mode offcpu"
		[ $t = perf ] && name="perf record -e sched:sched_switch -g"
		awk -v n="$name" -v a="$(median <"$tmp/$t")" -v b="$base" 'BEGIN { printf "  %-40s %9.2fx\n", n, a / b }'
	done
	k=$(median <"$tmp/kiln")
	p=$(median <"$tmp/perf")
	awk -v k="$k" -v p="$p" -v b="$base" \
		'BEGIN { printf "  kiln extra / perf extra: %s\n", (p > b ? sprintf("%.2f", (k - b) / (p - b)) : "n/a") }'
done
COL=1 awk -v k="$(COL=1 median <"$tmp/kiln.all")" -v p="$(COL=1 median <"$tmp/perf.all")" \
	'BEGIN { printf "whole command (incl. start-up and writing the output): kiln %.3f s, perf %.3f s\n", k, p }'
exit 0
