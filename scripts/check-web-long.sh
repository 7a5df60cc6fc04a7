#!/bin/bash
# The web UI's longer sweep (not in make check): kiln serve with one profile of 100,000 distinct stacks, then
# tests/web/ui-sweep.js: load-to-drawn time and zoom time per frame of that graph, the phone width, the dark
# theme, and where the load went (the render request's server time and transfer, the JSON parse, then the page's
# parse, colours, draw and table, from user-timing measures). Screenshots go to $OUT (default: a new temp dir, printed). Needs build/kiln, Chromium and npm once.
set -eu
cd "$(dirname "$0")/.."
OUT=${OUT:-$(mktemp -d)}
scripts/install-web-test.sh
build/kiln serve --listen 127.0.0.1:0 --storage "$OUT/store" --retention 0 --max-samples 300000 \
	--max-body $((64 << 20)) 2>"$OUT/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q 'serving on' "$OUT/serve.log" && break; sleep 0.1; done
url=$(sed -n 's|.*serving on \(http://[^ ]*\) .*|\1|p' "$OUT/serve.log" | head -1)
# 100,000 leaves under a tree of branching 10: f0_a;f1_b;...;f4_e;leaf
python3 -c '
import random
random.seed(1)
for i in range(100000):
    d = [i // 10**k % 10 for k in range(5, 0, -1)]
    print(";".join(["main"] + ["f%d_%d" % (k, v) for k, v in enumerate(d)] + ["leaf_%d" % i]), random.randint(1, 50))
' | gzip >"$OUT/big.folded.gz"
curl -gsS --data-binary @"$OUT/big.folded.gz" "$url/ingest?name=big{}&from=$(( $(date +%s) - 600 ))" 
NODE_PATH=build/npm-web/node_modules node tests/web/ui-sweep.js "$url" "$OUT" '{service_name="big"}'
echo "screenshots: $OUT"
