#!/bin/bash
# Benchmark: kiln collapse throughput on a large perf script file (default >= 200 MB), single-threaded, against
# `wc -l` on the same file in the same run as the reference (a lower bound: reading every byte once). The input
# is made in /tmp by concatenating real captures, each copy with its PIDs renumbered and every sample relabelled
# to one event (kiln, like stackcollapse-perf.pl, keeps only the first event): the shared stackcollapse-perf
# fixtures when present, else the captures in tests/fixtures/perf-script/. Target: >= 500 MB/s.
# With STACKCOLLAPSE_PL pointing at FlameGraph's stackcollapse-perf.pl it is timed too and its output compared.
#
# usage: bench/collapse.sh [MB]      env: BUILD (default build/bench), RUNS (default 3), KILN_SHARED, KEEP=1
set -eu
cd "$(dirname "$0")/.."
MB=${1:-200}
BUILD=${BUILD:-build/bench}
RUNS=${RUNS:-3}
TARGET_MBS=500
. bench/lib.sh
perf_script_bench_setup collapse "$MB"

# The best of RUNS runs (the least disturbed by other load), column by column; prints "WALL CPU RSS".
best() {
	for _ in $(seq 1 "$RUNS"); do measure "$@"; done |
		awk 'NR == 1 || $1 < w { w = $1 } NR == 1 || $2 < c { c = $2 } $3 > r { r = $3 }
			END { printf "%.3f %.3f %d\n", w, c, r }'
}
rate() { awk -v s="$size" -v t="$1" 'BEGIN { if (t > 0) printf "%.0f", s / 1e6 / t; else print "inf" }'; }

cat "$input" >/dev/null # warm the page cache for every contender alike
read -r wc_wall wc_cpu wc_rss < <(best wc -l "$input")
read -r k_wall k_cpu k_rss < <(best "$KILN" collapse -q "$input")
cp "$work/out" "$work/kiln.folded"
read -r kp_wall kp_cpu kp_rss < <(best "$KILN" collapse -q --pid "$input")
stacks=$(wc -l <"$work/kiln.folded")

echo "input: $input ($mb MB, $(wc -l <"$input") lines, $stacks unique stacks)"
printf '%-28s %8s %8s %10s %10s %9s\n' "" "wall s" "cpu s" "MB/s wall" "MB/s cpu" "RSS MB"
row() { printf '%-28s %8.2f %8.2f %10s %10s %9.1f\n' "$1" "$2" "$3" "$(rate "$2")" "$(rate "$3")" \
	"$(awk -v k="$4" 'BEGIN { print k / 1024 }')"; }
row "wc -l (reference)" "$wc_wall" "$wc_cpu" "$wc_rss"
row "kiln collapse" "$k_wall" "$k_cpu" "$k_rss"
row "kiln collapse --pid" "$kp_wall" "$kp_cpu" "$kp_rss"
if [ -n "${STACKCOLLAPSE_PL:-}" ] && [ -f "$STACKCOLLAPSE_PL" ]; then
	read -r p_wall p_cpu p_rss < <(RUNS=1 best perl "$STACKCOLLAPSE_PL" "$input")
	row "stackcollapse-perf.pl" "$p_wall" "$p_cpu" "$p_rss"
	cmp -s "$work/out" "$work/kiln.folded" && echo "outputs: identical to stackcollapse-perf.pl" ||
		echo "outputs: DIFFER from stackcollapse-perf.pl"
	echo "speedup over stackcollapse-perf.pl (cpu): $(awk -v a="$p_cpu" -v b="$k_cpu" 'BEGIN { printf "%.1fx", a / b }')"
fi
echo "ratio kiln / wc -l time (cpu): $(awk -v a="$k_cpu" -v b="$wc_cpu" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')" \
	"(wall: $(awk -v a="$k_wall" -v b="$wc_wall" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'))"
k_rate=$(rate "$k_cpu")
if [ "$k_rate" != inf ] && [ "$k_rate" -ge $TARGET_MBS ]; then
	echo "target >= $TARGET_MBS MB/s (cpu time): met ($k_rate MB/s; wall-clock $(rate "$k_wall") MB/s)"
else
	echo "target >= $TARGET_MBS MB/s (cpu time): NOT met ($k_rate MB/s)"
fi
