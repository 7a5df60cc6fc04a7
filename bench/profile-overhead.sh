#!/bin/bash
# kiln profile's overhead on a CPU-bound target, as the target's extra CPU time (user + system, from its own
# getrusage), against `perf record -g` at the same rates, measured in the same run. Runs are interleaved and
# each figure is the median of RUNS runs. kiln runs as by default: frame pointers, with the registers and the
# top of the user stack copied per sample to repair frameless code's callers (docs/profile.md), which perf
# record -g does not do. Usage: bench/profile-overhead.sh   (env: BUILD, RUNS, ROUNDS)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-7}
ROUNDS=${ROUNDS:-20000}
KILN=$BUILD/kiln
W=$BUILD/tests/helpers/prof_work
make --no-print-directory -s BUILD="$BUILD" "$KILN" "$W" >/dev/null || exit 1
command -v perf >/dev/null || { echo "skip: perf is not installed (the anchor)"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cpu_of() { awk '$1 == "cpu" {print $2}' "$1"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

run() { # NAME CMD... : appends the target's CPU seconds to $tmp/NAME
	local name=$1; shift
	"$@" 2>"$tmp/err" >/dev/null
	cpu_of "$tmp/err" >>"$tmp/$name"
}

for i in $(seq "$RUNS"); do
	run base "$W" "$ROUNDS"
	for hz in 99 999 4000; do
		run "kiln$hz" "$KILN" profile -q -F $hz -o "$tmp/k.pb.gz" -- "$W" "$ROUNDS"
		run "perf$hz" perf record -q -g -F $hz -o "$tmp/p.data" -- "$W" "$ROUNDS"
	done
done

base=$(median <"$tmp/base")
printf 'target CPU time without profiling: %.3f s (median of %d)\n' "$base" "$RUNS"
printf '%-8s %10s %10s %12s %12s %10s\n' rate "kiln/base" "perf/base" "kiln extra" "perf extra" "kiln/perf"
for hz in 99 999 4000; do
	k=$(median <"$tmp/kiln$hz")
	p=$(median <"$tmp/perf$hz")
	awk -v hz=$hz -v b="$base" -v k="$k" -v p="$p" 'BEGIN {
		ke = 100 * (k - b) / b; pe = 100 * (p - b) / b
		printf "%-8s %10.4f %10.4f %+11.2f%% %+11.2f%% %10s\n", hz " Hz", k / b, p / b, ke, pe,
			(pe > 0.05 ? sprintf("%.2f", ke / pe) : "n/a") }'
done
