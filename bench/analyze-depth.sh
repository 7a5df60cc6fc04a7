#!/bin/bash
# Benchmark: kiln analyze (and flamegraph, diff) on one very deep stack, 20,000 to 200,000 frames. Every pass of
# the analysis is linear in the stack trie's nodes, so 10x the frames should take about 10x the time; before
# the fix, the ancestor walks made it quadratic (20k / 200k frames: 0.43 / 35.5 s, a ratio of 83).
# Target: analyze(200k) / analyze(20k) <= 10 (cpu time, best of RUNS). Each input is two stacks of N frames:
# a cycle through 50 functions (mutual recursion, 4,000 deep at 200k) and N distinct functions.
#
# usage: bench/analyze-depth.sh      env: BUILD (default build/bench), RUNS (default 3), KEEP=1
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/bench}
RUNS=${RUNS:-3}
TARGET_RATIO=10
. bench/lib.sh
command -v /usr/bin/time >/dev/null || { echo "bench: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }
make --no-print-directory -s BUILD="$BUILD" "$BUILD/kiln" >&2
KILN=$BUILD/kiln
work=$(mktemp -d /tmp/kiln-bench-depth.XXXXXX)
[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$work"' EXIT

depths="20000 40000 80000 200000"
for n in $depths; do
	awk -v n="$n" 'BEGIN {
		s = "main"; for (i = 0; i < n; i++) s = s ";f" (i % 50); print s, 10
		s = "main"; for (i = 0; i < n; i++) s = s ";g" i; print s, 5 }' >"$work/deep$n.folded"
done

# CMD...: prints "WALL_SECONDS CPU_SECONDS" (CPU = user + system) to the millisecond: bash's `time` keyword, as
# lib.sh's measure() with /usr/bin/time prints hundredths, and a 20,000-frame analysis takes a few of them
# (a ratio of 0.25 s to 0.02 s reads 12.5 for what is 9).
measure_ms() {
	local t TIMEFORMAT='%3R %3U %3S'
	t=$({ time "$@" >"$work/out" 2>"$work/err"; } 2>&1) || { tail -3 "$work/err" >&2; return 1; }
	awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' <<<"$t"
}

best() { # CMD...: the best of RUNS runs by cpu time
	for _ in $(seq 1 "$RUNS"); do measure_ms "$@"; done | sort -g -k2 | head -1
}

printf '%-10s %12s %12s %12s\n' "frames" "analyze s" "flamegraph s" "diff s"
declare -A cpu
for n in $depths; do
	f=$work/deep$n.folded
	read -r _ a _ < <(best "$KILN" analyze "$f")
	read -r _ g _ < <(best "$KILN" flamegraph "$f" -o "$work/g.svg")
	read -r _ d _ < <(best "$KILN" diff "$f" "$f" -o "$work/d.svg")
	cpu[$n]=$a
	printf '%-10s %12.3f %12.3f %12.3f\n' "$n" "$a" "$g" "$d"
done
ratio=$(awk -v a="${cpu[20000]}" -v b="${cpu[200000]}" 'BEGIN { printf "%.1f", b / (a > 0.001 ? a : 0.001) }')
echo "ratio analyze 200k / 20k frames (cpu): $ratio (linear: 10; quadratic: 100)"
if awk -v r="$ratio" -v t="$TARGET_RATIO" 'BEGIN { exit !(r <= t) }'; then
	echo "target ratio <= $TARGET_RATIO: met"
else
	echo "target ratio <= $TARGET_RATIO: NOT met"
fi
