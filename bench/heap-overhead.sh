#!/bin/bash
# kiln profile --mode mem against heaptrack (Debian's package, the anchor), measured in the same run, runs
# interleaved, each figure the median of RUNS wall-clock times of the whole command (the profilers' own
# processing included), on tests/helpers/heap_bench:
#   alloc  allocation-bound: malloc/free of 8..1024 bytes in a window of live blocks, one byte written per
#          block (about 17 ns per malloc+free pair here: heaptrack runs it 14-16x slower)
#   fill   the same, each block written whole, as a program fills what it allocates (heaptrack 8-9x here,
#          the issue's "7-10x here" for its allocation-bound program)
#   cpu    CPU-bound: arithmetic with an allocation now and then
# Rows: full trace slowdown vs the program alone (kiln and heaptrack); two threads doing twice the work vs
# one thread, under each; sampled mode (--sample-bytes 524288) slowdown of the whole command and of the
# program's own time (from its main's start to the end of its work, printed by heap_bench), which kiln's
# end-of-run processing does not include.
# Usage: bench/heap-overhead.sh   (env: BUILD, RUNS, SCALE: million allocations per thread)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
SCALE=${SCALE:-10}
KILN=$BUILD/kiln
B=$BUILD/tests/helpers/heap_bench
make --no-print-directory -s BUILD="$BUILD" "$KILN" "$BUILD/libkiln-heap.so" "$B" >/dev/null || exit 1
HT=1
command -v heaptrack >/dev/null || { HT=0; echo "note: heaptrack is not installed: the anchor columns are skipped (apt-get install heaptrack)"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
run() { # NAME CMD...
	local name=$1; shift
	ms "$@" >>"$tmp/$name"
}
own() { # NAME CMD... : the program's own time (ms), as heap_bench prints it
	local name=$1; shift
	HEAP_BENCH_ELAPSED=1 "$@" 2>"$tmp/own.err" >/dev/null
	awk '$1 == "elapsed_ns" { print $2 / 1e6 }' "$tmp/own.err" >>"$tmp/$name"
}
kiln() { "$KILN" profile --mode mem -q -o "$tmp/k.pb.gz" "$@"; }
ht() { heaptrack -o "$tmp/heaptrack-out/x" "$@"; rm -rf "$tmp/heaptrack-out"; }
CPU=$((SCALE / 3 + 1))

for i in $(seq "$RUNS"); do
	for w in alloc fill; do
		for t in 1 2; do
			run "base-$w$t" "$B" "$w" "$t" "$SCALE"
			run "kiln-$w$t" kiln "$B" "$w" "$t" "$SCALE"
			[ $HT = 1 ] && run "ht-$w$t" ht "$B" "$w" "$t" "$SCALE"
		done
		run "samp-$w" kiln --sample-bytes 524288 "$B" "$w" 1 "$SCALE"
		own "ownbase-$w" "$B" "$w" 1 "$SCALE"
		own "ownsamp-$w" kiln --sample-bytes 524288 "$B" "$w" 1 "$SCALE"
	done
	run base-cpu "$B" cpu 1 "$CPU"
	run kiln-cpu kiln "$B" cpu 1 "$CPU"
	[ $HT = 1 ] && run ht-cpu ht "$B" cpu 1 "$CPU"
done

m() { if [ -s "$tmp/$1" ]; then median <"$tmp/$1"; else echo n/a; fi; }
r() { if [ "$1" = n/a ] || [ "$2" = n/a ]; then echo n/a; else awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; fi; }
printf 'median of %d runs, %d M allocations per thread (wall ms)\n' "$RUNS" "$SCALE"
printf '%-40s %9s %16s %16s %8s\n' case program kiln heaptrack "kiln/ht"
line() { # NAME KEY
	local b k h
	b=$(m "base-$2"); k=$(m "kiln-$2"); h=$(m "ht-$2")
	printf '%-40s %9s %16s %16s %8s\n' "$1" "$b" "$k ($(r "$k" "$b")x)" "$h ($(r "$h" "$b")x)" "$(r "$k" "$h")"
}
line "full trace, alloc" alloc1
line "full trace, fill" fill1
line "full trace, CPU-bound" cpu
for w in alloc fill; do
	printf '%-40s %9s %16s %16s\n' "2 threads (2x the work) / 1 thread, $w" \
		"$(r "$(m "base-${w}2")" "$(m "base-${w}1")")" "$(r "$(m "kiln-${w}2")" "$(m "kiln-${w}1")")" \
		"$(r "$(m "ht-${w}2")" "$(m "ht-${w}1")")"
done
for w in alloc fill; do
	printf '%-40s %9s %16s\n' "sampled 512 KiB, $w: whole command" "$(m "base-${w}1")" \
		"$(m "samp-$w") ($(r "$(m "samp-$w")" "$(m "base-${w}1")")x)"
	printf '%-40s %9s %16s\n' "  the program's own time" "$(m "ownbase-$w")" \
		"$(m "ownsamp-$w") ($(r "$(m "ownsamp-$w")" "$(m "ownbase-$w")")x)"
done
