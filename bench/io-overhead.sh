#!/bin/bash
# kiln profile --mode io on a system-call-bound program (tests/helpers/wait_writes: N one-byte write(2) calls to
# /dev/null): the CPU time (user + system, which includes the eBPF programs run in its system calls) and the wall
# time of the program's write loop (it measures both itself) under kiln, against its bare run, with
# `strace -c` and `perf trace -s` as anchors, all in the same run. Each figure is the median of RUNS runs,
# interleaved. The anchors are slow: they run on ANCHOR_N writes (their ratio does not depend on N).
# Usage: bench/io-overhead.sh   (env: BUILD, RUNS, N, ANCHOR_N)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
N=${N:-500000}
ANCHOR_N=${ANCHOR_N:-20000}
KILN=$BUILD/kiln
W=$BUILD/tests/helpers/wait_writes
make --no-print-directory -s BUILD="$BUILD" "$KILN" "$W" >/dev/null || exit 1
tmp=$(mktemp -d)
export WAIT_TIMING=1
trap 'rm -rf "$tmp"' EXIT
if ! "$KILN" profile --mode io -q -o "$tmp/probe.pb.gz" true 2>"$tmp/probe"; then
	echo "skip: kiln profile --mode io cannot run here: $(head -1 "$tmp/probe")"
	exit 0
fi

loop_of() { awk '$1 == "wait_writes:" {print $8, $5}' "$1"; }
median() { awk -v c="${COL:-1}" '{print $c}' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
run() { # NAME CMD... : appends the write loop's CPU and wall seconds to $tmp/NAME
	local name=$1; shift
	"$@" >/dev/null 2>"$tmp/err"
	loop_of "$tmp/err" >>"$tmp/$name"
}

for i in $(seq "$RUNS"); do
	run base "$W" "$N"
	run kiln "$KILN" profile --mode io -q -o "$tmp/k.pb.gz" -- "$W" "$N"
	run kiln_nostacks "$KILN" profile --mode io -q --no-stacks -o "$tmp/k.pb.gz" -- "$W" "$N"
	run abase "$W" "$ANCHOR_N"
	command -v strace >/dev/null && run strace strace -f -c -o "$tmp/strace.out" "$W" "$ANCHOR_N"
	command -v perf >/dev/null && run perf perf trace -s -o "$tmp/perf.out" -- "$W" "$ANCHOR_N"
done

for COL in 1 2; do
	export COL
	what=CPU
	[ $COL = 2 ] && what=wall
	base=$(median <"$tmp/base")
	abase=$(median <"$tmp/abase")
	printf '%s time of the write loop without tracing: %.3f s for %d writes, %.3f s for %d (median of %d)\n' \
		"$what" "$base" "$N" "$abase" "$ANCHOR_N" "$RUNS"
	ratio() { awk -v a="$(median <"$tmp/$1")" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
	printf '  %-36s %10s\n' tool "slowdown"
	printf '  %-36s %10s\n' "kiln profile --mode io" "$(ratio kiln "$base")"
	printf '  %-36s %10s\n' "kiln profile --mode io --no-stacks" "$(ratio kiln_nostacks "$base")"
	[ -s "$tmp/strace" ] && printf '  %-36s %10s\n' "strace -f -c (anchor)" "$(ratio strace "$abase")"
	[ -s "$tmp/perf" ] && printf '  %-36s %10s\n' "perf trace -s (anchor)" "$(ratio perf "$abase")"
done
exit 0
