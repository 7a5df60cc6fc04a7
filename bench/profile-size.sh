#!/bin/bash
# Output size: kiln's pprof of a DURATION-second (60) run at 999 Hz against the perf.data that `perf record -g`
# writes for the same run. Usage: bench/profile-size.sh   (env: BUILD, DURATION)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DURATION=${DURATION:-60}
KILN=$BUILD/kiln
W=$BUILD/tests/helpers/prof_work
make --no-print-directory -s BUILD="$BUILD" "$KILN" "$W" >/dev/null || exit 1
command -v perf >/dev/null || { echo "skip: perf is not installed (the anchor)"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# About 0.095 ms of CPU per round (see prof_work): size the run to DURATION seconds.
per=$( { "$W" 2000 >/dev/null; } 2>&1 | awk '$1 == "cpu" {print $2 / 2000}')
rounds=$(awk -v d="$DURATION" -v p="$per" 'BEGIN { printf "%d", d / p }')
"$KILN" profile -q -F 999 -o "$tmp/k.pb.gz" -- "$W" "$rounds" >/dev/null 2>&1
perf record -q -g -F 999 -o "$tmp/p.data" -- "$W" "$rounds" >/dev/null 2>&1
k=$(stat -c %s "$tmp/k.pb.gz")
p=$(stat -c %s "$tmp/p.data")
printf 'run of %s s at 999 Hz: kiln pprof %d bytes, perf.data %d bytes, ratio %.4f\n' "$DURATION" "$k" "$p" \
	"$(awk -v k="$k" -v p="$p" 'BEGIN { print k / p }')"
