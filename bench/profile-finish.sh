#!/bin/bash
# Time from the target's exit to kiln profile's pprof + SVG + report being written, for ~20k samples with
# inline frames and file:line, against `perf script --inline -F +srcline` on perf.data of the same workload
# (measured in the same run). Usage: bench/profile-finish.sh   (env: BUILD, RUNS)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
KILN=$BUILD/kiln
W=$BUILD/tests/helpers/prof_work
make --no-print-directory -s BUILD="$BUILD" "$KILN" "$W" >/dev/null || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# 2 threads x ~2.5 s of CPU at 4000 Hz = ~20k samples.
ROUNDS=${ROUNDS:-26000}
for i in $(seq "$RUNS"); do
	"$KILN" profile -F 4000 -o "$tmp/k.pb.gz" --flamegraph "$tmp/k.svg" -- "$W" "$ROUNDS" 2 >/dev/null 2>"$tmp/err"
	end=$(date +%s%N)
	exit_ns=$(awk '$1 == "exit_ns" {print $2}' "$tmp/err")
	samples=$(awk '/samples at/ {gsub(",", "", $2); print $2}' "$tmp/err")
	echo "$(( (end - exit_ns) / 1000 ))" >>"$tmp/kiln"
	echo "$samples" >>"$tmp/samples"
done
k=$(median <"$tmp/kiln")
printf 'kiln: %d samples; target exit -> pprof + svg + report written: %.3f s (median of %d)\n' \
	"$(median <"$tmp/samples")" "$(awk -v k="$k" 'BEGIN { print k / 1e6 }')" "$RUNS"

if command -v perf >/dev/null && perf record -q -g -F 4000 -o "$tmp/p.data" -- "$W" "$ROUNDS" 2 >/dev/null 2>&1; then
	s=$(date +%s%N)
	perf script -i "$tmp/p.data" --inline -F +srcline >/dev/null 2>&1
	p=$(( ($(date +%s%N) - s) / 1000 ))
	printf 'perf script --inline -F +srcline alone: %.3f s\n' "$(awk -v p="$p" 'BEGIN { print p / 1e6 }')"
	awk -v k="$k" -v p="$p" 'BEGIN { printf "ratio kiln/perf: %.3f\n", k / p }'
else
	echo "perf record is not available: no anchor"
fi
