#!/bin/bash
# `make demo`: profile the bundled example program with kiln, then write its flame graph and hotspot report.
set -eu
BUILD=${1:-build}
KILN=$BUILD/kiln
OUT=kiln-demo
mkdir -p "$OUT"

echo "==> kiln profile $BUILD/examples/demo"
"$KILN" profile -o "$OUT/profile.pb.gz" --flamegraph "$OUT/flamegraph.svg" -- "$BUILD/examples/demo"

echo
echo "==> kiln analyze $OUT/profile.pb.gz"
"$KILN" analyze "$OUT/profile.pb.gz" | tee "$OUT/report.txt"

echo
echo "Wrote $OUT/profile.pb.gz (pprof), $OUT/flamegraph.svg (open it in a browser) and $OUT/report.txt."
