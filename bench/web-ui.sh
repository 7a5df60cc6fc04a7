#!/bin/bash
# Benchmark: the web UI's two figures of issue 19, measured in Debian's Chromium against kiln serve on loopback:
#  1. time to a drawn flame graph of one service over 24 h (one profile of PER_PROFILE stacks out of STACKS
#     distinct ones every 10 s: 8,640 profiles), from the explore page's navigation to its drawn graph;
#     target 1 s;
#  2. zoom on a 100,000-node graph (the tree of scripts/check-web-long.sh), per frame; target 50 ms.
# Each is printed as the ratio to its target (below 1 meets it), with where the load went: the render request's
# time to its first byte (merge, flame graph, JSON) and transfer, then the page's JSON parse, graph parse,
# colours, draw and table. Needs build/kiln, Chromium and npm once (scripts/install-web-test.sh).
#
# usage: bench/web-ui.sh [STACKS] [PER_PROFILE]      env: BUILD (default build), RUNS (3), KEEP=1
set -eu
cd "$(dirname "$0")/.."
STACKS=${1:-5000}
PER=${2:-200}
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
. bench/lib.sh

[ -x /usr/bin/chromium ] || { echo "bench: /usr/bin/chromium is needed" >&2; exit 1; }
scripts/install-web-test.sh >&2
make --no-print-directory -s BUILD="$BUILD" "$BUILD/kiln" >&2
work=$(mktemp -d /tmp/kiln-bench-web.XXXXXX)
trap 'kill $BENCH_SERVE_PID 2>/dev/null; wait $BENCH_SERVE_PID 2>/dev/null; [ "${KEEP:-}" = 1 ] || rm -rf "$work"' EXIT
"$BUILD/kiln" serve --listen 127.0.0.1:0 --storage "$work/store" --retention 0 --max-samples 300000 \
	--max-body $((64 << 20)) 2>"$work/serve.log" &
BENCH_SERVE_PID=$!
for _ in $(seq 100); do grep -q 'serving on' "$work/serve.log" && break; sleep 0.1; done
URL=$(sed -n 's|.*serving on \(http://[^ ]*\) .*|\1|p' "$work/serve.log" | head -1)
[ -n "$URL" ] || { echo "kiln serve did not start: $(cat "$work/serve.log")" >&2; exit 1; }

echo "ingesting 24 h of one service (8,640 profiles of $PER stacks out of $STACKS) ..." >&2
python3 - "$URL" "$STACKS" "$PER" <<'PY'
import http.client, random, sys, time, urllib.parse
url, nstacks, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
u = urllib.parse.urlparse(url)
rnd = random.Random(1)
fns = ["day::fn%d" % i for i in range(400)]
stacks, seen = [], set()
while len(stacks) < nstacks:  # root-to-leaf paths of a random call tree, 4 to 16 frames deep
    path, node = ["main"], 0
    for _ in range(rnd.randint(4, 16)):
        node = node * 6 + rnd.randrange(6) + 1
        path.append(fns[hash(("day", node)) % len(fns)])
    k = ";".join(path)
    if k not in seen:
        seen.add(k)
        stacks.append(k)
start = int(time.time()) - 86400
c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
for i in range(8640):
    body = "".join("%s %d\n" % (s, rnd.randint(1, 50)) for s in rnd.sample(stacks, per)).encode()
    t = start + i * 10
    c.request("POST", "/ingest?name=day.cpu%%7Bpod%%3Dp1%%7D&from=%d&until=%d" % (t, t + 10), body)
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("ingest: %d" % r.status)
PY
echo "ingesting the 100,000-node graph ..." >&2
python3 -c '
import random
random.seed(1)
for i in range(100000):
    d = [i // 10**k % 10 for k in range(5, 0, -1)]
    print(";".join(["main"] + ["f%d_%d" % (k, v) for k, v in enumerate(d)] + ["leaf_%d" % i]), random.randint(1, 50))
' | gzip | curl -gsS --data-binary @- "$URL/ingest?name=big{}&from=$(($(date +%s) - 600))"

NODE_PATH=build/npm-web/node_modules node bench/web-ui.js "$URL" "$RUNS" >"$work/out"
cat "$work/out"
