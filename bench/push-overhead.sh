#!/bin/bash
# kiln profile --push's overhead on a CPU-bound target: the target's CPU time (user + system, its own getrusage)
# profiled at 97 Hz and pushed every 10 s to a local kiln serve, against the same target without a profiler,
# runs interleaved in the same session; each figure is the median of RUNS runs. The goal is <= 1 % (issue 18).
# Usage: bench/push-overhead.sh   (env: BUILD, RUNS, ROUNDS, EVERY)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-7}
ROUNDS=${ROUNDS:-100000}
EVERY=${EVERY:-10s}
KILN=$BUILD/kiln
W=$BUILD/tests/helpers/prof_work
make --no-print-directory -s BUILD="$BUILD" "$KILN" "$W" >/dev/null || exit 1
tmp=$(mktemp -d)
. bench/lib.sh
trap 'bench_serve_stop; rm -rf "$tmp"' EXIT
bench_serve_start "$KILN" "$tmp"

cpu_of() { awk '$1 == "cpu" {print $2}' "$1"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for i in $(seq "$RUNS"); do
	"$W" "$ROUNDS" 2>"$tmp/err" >/dev/null
	cpu_of "$tmp/err" >>"$tmp/base"
	"$KILN" profile --push "$URL" --every "$EVERY" --service overhead -- "$W" "$ROUNDS" 2>"$tmp/err" >/dev/null
	cpu_of "$tmp/err" >>"$tmp/push"
	grep '^kiln: pushed' "$tmp/err" >>"$tmp/reports"
done

base=$(median <"$tmp/base")
push=$(median <"$tmp/push")
printf 'target CPU time, median of %d: %.3f s without a profiler, %.3f s with --push at 97 Hz every %s\n' \
	"$RUNS" "$base" "$push" "$EVERY"
awk -v b="$base" -v p="$push" 'BEGIN { printf "push/base = %.4f (%+.2f %%; goal <= +1 %%)\n", p / b, 100 * (p - b) / b }'
echo "last run: $(tail -1 "$tmp/reports")"
