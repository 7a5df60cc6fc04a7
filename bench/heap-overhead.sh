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
# end-of-run processing does not include, each next to the floor of every LD_PRELOAD profiler: a library whose
# malloc and free only forward to glibc's (bench/heap-floor.c), in the same rounds.
# kiln runs once before the rounds, so that its debug file cache (docs/symbols.md) holds glibc's DWARF as it
# does from a machine's second run on.
# Usage: bench/heap-overhead.sh   (env: BUILD, RUNS, SCALE: million allocations per thread,
#                                  ONLY=sampled: the sampled rows alone)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
SCALE=${SCALE:-10}
KILN=$BUILD/kiln
B=$BUILD/tests/helpers/heap_bench
ONLY=${ONLY:-}
make --no-print-directory -s BUILD="$BUILD" "$KILN" "$BUILD/libkiln-heap.so" "$B" >/dev/null || exit 1
HT=1
command -v heaptrack >/dev/null || { HT=0; echo "note: heaptrack is not installed: the anchor columns are skipped (apt-get install heaptrack)"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
FLOOR=$tmp/floor.so
cc -O2 -fPIC -shared -o "$FLOOR" bench/heap-floor.c -ldl || exit 1

ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
run() { # NAME CMD...
	local name=$1; shift
	ms "$@" >>"$tmp/$name"
}
both() { # NAME CMD... : the whole command's time (NAME) and the program's own, as heap_bench prints it (own-NAME)
	local name=$1 s e; shift
	s=$(date +%s%N)
	HEAP_BENCH_ELAPSED=1 "$@" 2>"$tmp/own.err" >/dev/null
	e=$(date +%s%N)
	echo $(((e - s) / 1000000)) >>"$tmp/$name"
	awk '$1 == "elapsed_ns" { print $2 / 1e6 }' "$tmp/own.err" >>"$tmp/own-$name"
}
kiln() { "$KILN" profile --mode mem -q -o "$tmp/k.pb.gz" "$@"; }
ht() { heaptrack -o "$tmp/heaptrack-out/x" "$@"; rm -rf "$tmp/heaptrack-out"; }
floor() { LD_PRELOAD=$FLOOR "$@"; }
CPU=$((SCALE / 3 + 1))
kiln --sample-bytes 524288 "$B" alloc 1 1 >/dev/null 2>&1

for i in $(seq "$RUNS"); do
	for w in alloc fill; do
		for t in 1 2; do
			[ "$ONLY" = sampled ] && continue
			run "base-$w$t" "$B" "$w" "$t" "$SCALE"
			run "kiln-$w$t" kiln "$B" "$w" "$t" "$SCALE"
			[ $HT = 1 ] && run "ht-$w$t" ht "$B" "$w" "$t" "$SCALE"
		done
		# the three arms back to back, in an order that turns each round, each paired with its round's program
		for a in $(printf '%s\n' sbase samp floor | awk -v k=$((i % 3)) '{ v[NR - 1] = $0 } END { for (j = 0; j < 3; j++) print v[(j + k) % 3] }'); do
			case $a in
			sbase) both "sbase-$w" "$B" "$w" 1 "$SCALE" ;;
			samp) both "samp-$w" kiln --sample-bytes 524288 "$B" "$w" 1 "$SCALE" ;;
			floor) both "floor-$w" floor "$B" "$w" 1 "$SCALE" ;;
			esac
		done
	done
	[ "$ONLY" = sampled ] && continue
	run base-cpu "$B" cpu 1 "$CPU"
	run kiln-cpu kiln "$B" cpu 1 "$CPU"
	[ $HT = 1 ] && run ht-cpu ht "$B" cpu 1 "$CPU"
done

m() { if [ -s "$tmp/$1" ]; then median <"$tmp/$1"; else echo n/a; fi; }
r() { if [ "$1" = n/a ] || [ "$2" = n/a ]; then echo n/a; else awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; fi; }
printf 'median of %d runs, %d M allocations per thread (wall ms)\n' "$RUNS" "$SCALE"
[ "$ONLY" = sampled ] || printf '%-40s %9s %16s %16s %8s\n' case program kiln heaptrack "kiln/ht"
line() { # NAME KEY
	local b k h
	b=$(m "base-$2"); k=$(m "kiln-$2"); h=$(m "ht-$2")
	printf '%-40s %9s %16s %16s %8s\n' "$1" "$b" "$k ($(r "$k" "$b")x)" "$h ($(r "$h" "$b")x)" "$(r "$k" "$h")"
}
if [ "$ONLY" != sampled ]; then
	line "full trace, alloc" alloc1
	line "full trace, fill" fill1
	line "full trace, CPU-bound" cpu
	for w in alloc fill; do
		printf '%-40s %9s %16s %16s\n' "2 threads (2x the work) / 1 thread, $w" \
			"$(r "$(m "base-${w}2")" "$(m "base-${w}1")")" "$(r "$(m "kiln-${w}2")" "$(m "kiln-${w}1")")" \
			"$(r "$(m "ht-${w}2")" "$(m "ht-${w}1")")"
	done
fi
# the median of each round's ratio to the program's run in that round (pairs drift of the host out)
paired() { paste "$tmp/$1" "$tmp/$2" | awk '$2 > 0 { print $1 / $2 }' | median | awk '{ printf "%.2f", $1 }'; }
cell() { # ARM BASE
	echo "$(m "$1") ($(r "$(m "$1")" "$(m "$2")")x, paired $(paired "$1" "$2")x)"
}
printf '%-40s %9s %30s %30s\n' "" program "kiln sampled" "forwarding only"
for w in alloc fill; do
	printf '%-40s %9s %30s %30s\n' "sampled 512 KiB, $w: whole command" "$(m "sbase-$w")" \
		"$(cell "samp-$w" "sbase-$w")" "$(cell "floor-$w" "sbase-$w")"
	printf '%-40s %9s %30s %30s\n' "  the program's own time" "$(m "own-sbase-$w")" \
		"$(cell "own-samp-$w" "own-sbase-$w")" "$(cell "own-floor-$w" "own-sbase-$w")"
done
