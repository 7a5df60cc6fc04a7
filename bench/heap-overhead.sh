#!/bin/bash
# kiln profile --mode mem against heaptrack (Debian's package, the anchor), measured in the same run, runs
# interleaved, each figure the median of RUNS wall-clock times (the profilers' own processing included):
#   full trace, allocation-bound   slowdown vs the program alone, kiln / heaptrack
#   full trace, CPU-bound          the same
#   two threads, allocation-bound  time of 2 threads (twice the work) / time of 1 thread, under each
#   sampled (--sample-bytes 524288), allocation-bound   slowdown
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
kiln() { "$KILN" profile --mode mem -q -o "$tmp/k.pb.gz" "$@"; }
ht() { heaptrack -o "$tmp/heaptrack-out/x" "$@"; rm -rf "$tmp/heaptrack-out"; }

for i in $(seq "$RUNS"); do
	run base1 "$B" alloc 1 "$SCALE"
	run kiln1 kiln "$B" alloc 1 "$SCALE"
	run samp1 kiln --sample-bytes 524288 "$B" alloc 1 "$SCALE"
	run base2 "$B" alloc 2 "$SCALE"
	run kiln2 kiln "$B" alloc 2 "$SCALE"
	run cpub "$B" cpu 1 $((SCALE / 3 + 1))
	run cpuk kiln "$B" cpu 1 $((SCALE / 3 + 1))
	if [ $HT = 1 ]; then
		run ht1 ht "$B" alloc 1 "$SCALE"
		run ht2 ht "$B" alloc 2 "$SCALE"
		run cpuh ht "$B" cpu 1 $((SCALE / 3 + 1))
	fi
done

m() { median <"$tmp/$1"; }
r() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf 'median of %d runs, %d M allocations per thread (wall ms)\n' "$RUNS" "$SCALE"
printf '%-36s %10s %10s %10s %12s\n' case program kiln heaptrack "kiln/ht"
h1=n/a h2=n/a hc=n/a
[ $HT = 1 ] && h1=$(m ht1) && h2=$(m ht2) && hc=$(m cpuh)
line() { # NAME BASE KILN HT
	local kr hr q
	kr=$(r "$3" "$2")x
	if [ "$4" = n/a ]; then hr=n/a q=n/a; else hr=$(r "$4" "$2")x; q=$(r "$3" "$4"); fi
	printf '%-36s %10s %10s %10s %12s\n' "$1" "$2" "$3 ($kr)" "$4 ($hr)" "$q"
}
line "full trace, allocation-bound" "$(m base1)" "$(m kiln1)" "$h1"
line "full trace, CPU-bound" "$(m cpub)" "$(m cpuk)" "$hc"
line "full trace, 2 threads (2x the work)" "$(m base2)" "$(m kiln2)" "$h2"
printf '%-36s %10s %10s %10s\n' "2 threads / 1 thread time" "$(r "$(m base2)" "$(m base1)")" \
	"$(r "$(m kiln2)" "$(m kiln1)")" "$([ $HT = 1 ] && r "$h2" "$h1" || echo n/a)"
printf '%-36s %10s %10s\n' "sampled 512 KiB, allocation-bound" "$(m base1)" "$(m samp1) ($(r "$(m samp1)" "$(m base1)")x)"
