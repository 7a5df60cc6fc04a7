#!/bin/bash
# Benchmark: kiln analyze against kiln collapse on the same large perf script file, in the same run. Analysis
# is O(unique stacks) after reading, so `kiln analyze` should take about the time `kiln collapse` needs to read
# the file and print its stacks. Target: analyze / collapse time ratio <= 1.2 (cpu time).
# The input is the one bench/collapse.sh makes (real captures concatenated with renumbered PIDs), generated
# here the same way when absent.
#
# usage: bench/analyze.sh [MB]      env: BUILD (default build/bench), RUNS (default 3), KILN_SHARED, KEEP=1
set -eu
cd "$(dirname "$0")/.."
MB=${1:-1000}
BUILD=${BUILD:-build/bench}
RUNS=${RUNS:-3}
TARGET_RATIO=1.2
. bench/lib.sh
perf_script_bench_setup analyze "$MB"

# The best of RUNS runs by cpu time.
best() {
	for _ in $(seq 1 "$RUNS"); do measure "$@"; done | sort -g -k2 | head -1
}

cat "$input" >/dev/null # warm the page cache for every contender alike
read -r c_wall c_cpu c_rss < <(best "$KILN" collapse -q "$input")
stacks=$(wc -l <"$work/out")
read -r a_wall a_cpu a_rss < <(best "$KILN" analyze "$input")
read -r j_wall j_cpu j_rss < <(best "$KILN" analyze --json --detailed "$input")

echo "input: $input ($mb MB, $stacks unique stacks)"
printf '%-34s %8s %8s %9s\n' "" "wall s" "cpu s" "RSS MB"
row() { printf '%-34s %8.2f %8.2f %9.1f\n' "$1" "$2" "$3" "$(awk -v k="$4" 'BEGIN { print k / 1024 }')"; }
row "kiln collapse (reference)" "$c_wall" "$c_cpu" "$c_rss"
row "kiln analyze" "$a_wall" "$a_cpu" "$a_rss"
row "kiln analyze --json --detailed" "$j_wall" "$j_cpu" "$j_rss"
ratio=$(awk -v a="$a_cpu" -v b="$c_cpu" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
jratio=$(awk -v a="$j_cpu" -v b="$c_cpu" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
echo "ratio analyze / collapse (cpu): $ratio (wall: $(awk -v a="$a_wall" -v b="$c_wall" \
	'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')); with --json --detailed: $jratio"
if awk -v r="$ratio" -v t="$TARGET_RATIO" 'BEGIN { exit !(r <= t) }'; then
	echo "target ratio <= $TARGET_RATIO: met"
else
	echo "target ratio <= $TARGET_RATIO: NOT met"
fi
