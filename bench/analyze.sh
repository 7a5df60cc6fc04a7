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
SHARED=${KILN_SHARED:-$(cd .. && pwd)/shared}

command -v /usr/bin/time >/dev/null || { echo "bench: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }
make --no-print-directory -s BUILD="$BUILD" "$BUILD/kiln" >&2
KILN=$BUILD/kiln
work=$(mktemp -d /tmp/kiln-bench-analyze.XXXXXX)
[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$work"' EXIT

if [ -d "$SHARED/fixtures/stackcollapse-perf/input" ]; then
	src=("$SHARED"/fixtures/stackcollapse-perf/input/*.txt)
	tag=shared
else
	src=(tests/fixtures/perf-script/*.txt)
	tag=local
fi
input=/tmp/kiln-bench-collapse-${MB}M-$tag.txt
if [ ! -s "$input" ]; then
	echo "generating $input from ${#src[@]} captures ..." >&2
	cat "${src[@]}" | sed -E 's/ [A-Za-z0-9_:-]+:[[:space:]]*$/ cpu-clock: /' >"$work/one.txt"
	one=$(stat -c %s "$work/one.txt")
	copies=$(((MB * 1000 * 1000 + one - 1) / one))
	for i in $(seq 1 "$copies"); do
		awk -v off=$((i * 100000)) '
			/^[^ \t#]/ && match($0, /[ \t][0-9]+(\/[0-9]+)?[ \t]/) {
				pre = substr($0, 1, RSTART); num = substr($0, RSTART + 1, RLENGTH - 2)
				n = split(num, part, "/"); out = part[1] + off; if (n == 2) out = out "/" (part[2] + off)
				$0 = pre out substr($0, RSTART + RLENGTH - 1)
			}
			{ print }' "$work/one.txt"
	done >"$input.tmp"
	mv "$input.tmp" "$input"
fi
size=$(stat -c %s "$input")
mb=$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }')

# "WALL_SECONDS CPU_SECONDS RSS_KB" of one run; the best of RUNS runs by cpu time.
measure() {
	/usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err" ||
		{ tail -3 "$work/err" >&2; return 1; }
	awk '{ printf "%.3f %.3f %d\n", $1, $2 + $3, $4 }' "$work/time"
}
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
