#!/bin/bash
# The real Pyroscope Node.js client (@pyroscope/nodejs 0.6.4, npm) pushes to kiln serve unchanged: every flush
# is acknowledged, stored and queryable by service and tag, the windows abut, Σ of the stored wall time is the
# client's, and the sample label (wrapWithLabels) becomes a series label (pyroscope.md 9.1, 2.3).
# KILN_NODE_SECONDS / KILN_NODE_FLUSH_MS lengthen it (bench/serve-nodejs.sh: 60 s at 2 s, as issue 18 asks).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

SECS=${KILN_NODE_SECONDS:-8}
FLUSH=${KILN_NODE_FLUSH_MS:-1000}
command -v node >/dev/null 2>&1 || { t_skip "@pyroscope/nodejs" "node is not installed"; exit 0; }
if ! "$KILN_ROOT/scripts/install-node-client.sh" >"$T_TMP/npm.log" 2>&1; then
	t_skip "@pyroscope/nodejs" "cannot install it with npm: $(tail -1 "$T_TMP/npm.log")"
	exit 0
fi
serve_start S "$KILN" --storage "$T_TMP/store" --retention 1d || exit 0
RUN=r$$
NODE_PATH="$KILN_ROOT/build/npm/node_modules" timeout $((SECS + 60)) node "$KILN_ROOT/tests/node/push.js" "$S_URL" \
	kiln-test-node "$SECS" "$FLUSH" "$RUN" "$T_TMP/uploads" >"$T_TMP/node.log" 2>&1
status=$?
[ $status = 0 ] && t_pass "the Node client ran for ${SECS} s, flushing every ${FLUSH} ms" ||
	t_fail "the Node client ran" "exit $status: $(tail -5 "$T_TMP/node.log")"
uploads=$(grep -c . "$T_TMP/uploads")
ok=$(grep -c '^200 ' "$T_TMP/uploads")
wall=$(grep -c '^200 .* wall$' "$T_TMP/uploads")
want=$((SECS * 1000 / FLUSH))
# One upload per flush interval, and the last partial window flushed by stop().
if [ "$ok" = "$uploads" ] && [ "$wall" -ge $((want - 1)) ]; then
	t_pass "$ok of $uploads uploads (wall and heap) acknowledged with 200; $wall wall flushes, >= $((want - 1)) expected"
else t_fail "every upload acknowledged" "$ok of $uploads, want >= $((want - 1)): $(grep -v '^200 ' "$T_TMP/uploads" | head -3)"; fi

for t in wall:wall:nanoseconds:wall:nanoseconds wall:cpu:nanoseconds:wall:nanoseconds wall:samples:count:wall:nanoseconds; do
	curl -sS --get "$S_URL/api/v1/profiles" --data-urlencode "query=$t{service_name=\"kiln-test-node\",run=\"$RUN\"}" \
		--data-urlencode from=now-1h --data-urlencode limit=100000 >"$T_TMP/list-${t%%:nanoseconds*}"
done
L=$T_TMP/list-wall:wall
check_windows() { # LIST KIND NAME
python3 - "$1" "$T_TMP/uploads" "$2" "$3" >"$T_TMP/cmp" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["profiles"]
ups = [l.split() for l in open(sys.argv[2]) if l.startswith("200 ") and l.split()[3] == sys.argv[3]]
# A flush may split into several series (sample labels): count distinct profile times (the pprof's own, 3.5),
# each inside the window of one upload; the client's windows abut (from(n+1) == until(n)).
times = sorted({p["from"] for p in d})
sent = sorted((int(u[1]), int(u[2])) for u in ups)
abut = all(sent[i][1] == sent[i + 1][0] for i in range(len(sent) - 1))
inside = all(any(f <= t // 10**9 <= u for f, u in sent) for t in times)
print("stored %d profile times, sent %d windows, abutting %s, each inside a window %s" % (len(times), len(sent), abut, inside))
labels = d[0]["labels"] if d else {}
ok = len(times) == len(sent) and sent and abut and inside and labels.get("env") == "test" and labels.get("pyroscope_spy") == "nodespy" \
     and labels.get("process.runtime.name") == "nodejs" and labels.get("__name__") == sys.argv[4]
sys.exit(0 if ok else 1)
PY
}
if check_windows "$L" wall wall; then t_pass "every wall flush stored, queryable by service and tag, windows abut ($(cat "$T_TMP/cmp"))"
else t_fail "every wall flush stored and queryable by service and tag" "$(cat "$T_TMP/cmp") $(head -c 400 "$L")"; fi
curl -sS --get "$S_URL/api/v1/profiles" --data-urlencode "query=memory:inuse_space:bytes:inuse_space:bytes{service_name=\"kiln-test-node\",run=\"$RUN\"}" \
	--data-urlencode from=now-1h --data-urlencode limit=100000 >"$T_TMP/list-heap"
if check_windows "$T_TMP/list-heap" heap memory; then t_pass "every heap flush stored as memory:inuse_space:bytes:inuse_space:bytes ($(cat "$T_TMP/cmp"))"
else t_fail "every heap flush stored" "$(cat "$T_TMP/cmp") $(head -c 400 "$T_TMP/list-heap")"; fi
# The CPU burned under wrapWithLabels({route: '/hot'}) is its own series, labelled route="/hot".
curl -sS --get "$S_URL/api/v1/export" --data-urlencode "query=wall:cpu:nanoseconds:wall:nanoseconds{service_name=\"kiln-test-node\",route=\"/hot\"}" \
	--data-urlencode from=now-1h >"$T_TMP/hot"
grep -q 'hotLoop' "$T_TMP/hot" && t_pass "the labelled CPU time is a route=\"/hot\" series with hotLoop in its stacks" ||
	t_fail "the route=/hot series" "$(head -5 "$T_TMP/hot")"
# Wall time: the client spent about 40 ms of each 50 ms tick in hotLoop; the stored wall time under it is a
# large share of the run and no more than the run.
curl -sS --get "$S_URL/api/v1/export" --data-urlencode "query=wall:wall:nanoseconds:wall:nanoseconds{service_name=\"kiln-test-node\",run=\"$RUN\"}" \
	--data-urlencode from=now-1h >"$T_TMP/wall"
hot=$(awk '/hotLoop/ { s += $NF } END { printf "%d", s / 1e6 }' "$T_TMP/wall")
all=$(awk '{ s += $NF } END { printf "%d", s / 1e6 }' "$T_TMP/wall")
if [ "$hot" -ge $((SECS * 1000 / 3)) ] && [ "$all" -le $((SECS * 1000 + 2000)) ]; then
	t_pass "stored wall time under hotLoop: $hot ms of $all ms in a ${SECS} s run"
else t_fail "stored wall time under hotLoop" "$hot ms of $all ms in ${SECS} s"; fi
serve_stop "$S_PID"
