#!/bin/bash
# kiln reads Chrome trace events (V8 Profile/ProfileChunk/CpuProfile, Hermes samples, B/E/X durations), both
# .cpuprofile layouts, V8 .heapprofile and Firefox profiles (Gecko and processed): detected from content, every stack and value equal to a reference
# computed from the JSON by t4310-trace-formats.d/ref.py (speedscope's reading of these formats), flame charts
# in time order, damaged files refused with one line. Real files: ours under tests/fixtures, speedscope's under
# ../shared/fixtures/formats when present.
. "$(dirname "$0")/lib.sh"

FIX=$KILN_ROOT/tests/fixtures
REF="python3 $T_DIR/ref.py"
if ! command -v python3 >/dev/null 2>&1; then
	t_skip "trace formats" "python3 is not installed"
	exit 0
fi

# check KIND FILE FORMAT REFCOLUMN:KILNCOLUMN...: detection, then each column against the reference.
check() {
	local kind=$1 file=$2 fmt=$3 name; shift 3
	name=$(basename "$file")
	"$KILN" analyze "$file" >"$T_TMP/an" 2>"$T_TMP/an.err"
	if head -1 "$T_TMP/an" | grep -qF "($fmt)"; then
		t_pass "$name is detected as $fmt"
	else
		t_fail "$name is detected as $fmt" "$(head -2 "$T_TMP/an") $(cat "$T_TMP/an.err")"
	fi
	for cols in "$@"; do
		$REF "$kind" "$file" "${cols%%:*}" >"$T_TMP/want" 2>"$T_TMP/ref.err" ||
			{ t_fail "$name: reference" "$(tail -3 "$T_TMP/ref.err")"; continue; }
		"$KILN" convert "$file" --to folded --value "${cols#*:}" -o - 2>"$T_TMP/conv.err" | $REF strip >"$T_TMP/got"
		if [ ! -s "$T_TMP/want" ]; then
			t_fail "$name: ${cols#*:}" "the reference found no samples"
		else
			t_same "$name: every stack's ${cols#*:} as the reference ($(wc -l <"$T_TMP/want") stacks)" \
				"$T_TMP/want" "$T_TMP/got"
		fi
	done
}

# ---- our own files (made by node; see the .js beside them) ----
check trace "$FIX/trace-event/node-cpu.trace.json" trace-event samples:samples time:cpu
check trace "$FIX/trace-event/node-v8-events.trace.json" trace-event time:time
check trace "$FIX/trace-event/ticks-out-of-order.json" trace-event samples:samples time:cpu
check trace "$FIX/trace-event/hermes-two-threads.json" trace-event samples:samples time:time
check cpuprofile "$FIX/cpuprofile/old-head.cpuprofile" cpuprofile samples:samples cpu:cpu
check heapprofile "$FIX/heapprofile/node-alloc.heapprofile" heapprofile space:space objects:objects
check firefox "$FIX/firefox/gecko-small.json" firefox samples:samples time:time

# The processed Firefox profile holds the same samples as the Gecko one (hand-made side by side).
for v in samples time; do
	"$KILN" convert "$FIX/firefox/gecko-small.json" --to folded --value $v -o "$T_TMP/gecko.folded"
	"$KILN" convert "$FIX/firefox/processed-small.json" --to folded --value $v -o "$T_TMP/processed.folded"
	t_same "a processed Firefox profile reads as its Gecko original ($v)" "$T_TMP/gecko.folded" \
		"$T_TMP/processed.folded"
done

# The old "head" layout is the same profile as the current one it was made from (to_old.py).
"$KILN" convert "$FIX/cpuprofile/node-burn.cpuprofile" --to folded --value cpu -o "$T_TMP/new.folded"
"$KILN" convert "$FIX/cpuprofile/old-head.cpuprofile" --to folded --value cpu -o "$T_TMP/old.folded"
t_same "the old .cpuprofile layout reads as the current one it was rewritten from" "$T_TMP/new.folded" \
	"$T_TMP/old.folded"

# ---- flame charts in time order ----
# Ticks at 1010 (a), 1030 (b), 1015 (c, a negative delta), 1045 (a): drawn a, c, b, a.
"$KILN" flamegraph --flamechart "$FIX/trace-event/ticks-out-of-order.json" -o "$T_TMP/chart.svg"
order=$(grep -o '<title>[abc] ([^<]*' "$T_TMP/chart.svg" | cut -c8 | tr -d '\n')
if [ "$order" = acba ]; then
	t_pass "flame chart of V8 ticks recorded out of order: time order (a c b a)"
else
	t_fail "flame chart of V8 ticks recorded out of order: time order (a c b a)" "got '$order'"
fi
# B/E/X events (one thread): the top-level frames left to right in the order of their begin time stamps.
want=$(python3 -c '
import json, sys
ev = [e for e in json.load(open(sys.argv[1]))["traceEvents"] if e.get("ph") in ("B", "X")]
top, end = [], None
for e in sorted(ev, key=lambda e: e["ts"]):
    if end is None or e["ts"] >= end:
        top.append(e["name"])
        end = e["ts"] + e.get("dur", 0) if e["ph"] == "X" else None
    if e["ph"] == "B" and end is None:
        end = min(x["ts"] for x in json.load(open(sys.argv[1]))["traceEvents"]
                  if x.get("ph") == "E" and x["name"] == e["name"] and x["ts"] >= e["ts"])
print(" ".join(n for i, n in enumerate(top) if i == 0 or top[i - 1] != n))  # runs merge in a chart
' "$FIX/trace-event/node-v8-events.trace.json")
"$KILN" flamegraph --flamechart "$FIX/trace-event/node-v8-events.trace.json" -o "$T_TMP/chart2.svg"
# depth 1 is the row just above "all"
top_y=$(grep -o '<title>all [^<]*</title><rect x="[0-9.]*" y="[0-9]*"' "$T_TMP/chart2.svg" | grep -o 'y="[0-9]*' |
	cut -c4-)
got=$(grep -o '<title>[^<]*</title><rect x="[0-9.]*" y="[0-9]*"' "$T_TMP/chart2.svg" |
	grep "y=\"$((top_y - 16))\"" | sed 's/<title>//; s/ (.*//' | tr '\n' ' ')
if [ "$got" = "$want " ]; then
	t_pass "flame chart of B/E/X events: time order ($(echo $want | wc -w) top-level events)"
else
	t_fail "flame chart of B/E/X events: time order" "want '$want', got '$got'"
fi

# Firefox: each thread in time order, the sub-process's after the parent's (samples at 10..16 ms, then 100, 102).
"$KILN" flamegraph --flamechart "$FIX/firefox/gecko-small.json" -o "$T_TMP/chart3.svg"
top_y=$(grep -o '<title>all [^<]*</title><rect x="[0-9.]*" y="[0-9]*"' "$T_TMP/chart3.svg" | grep -o 'y="[0-9]*' |
	cut -c4-)
got=$(grep -o '<title>[^<]*</title><rect x="[0-9.]*" y="[0-9]*"' "$T_TMP/chart3.svg" |
	grep "y=\"$((top_y - 32))\"" | sed 's/<title>//; s/ (.*//' | tr '\n' ' ')
if [ "$got" = "main nsThread::ProcessNextEvent main nsThread::ProcessNextEvent main " ]; then
	t_pass "flame chart of a Firefox profile: time order per thread"
else
	t_fail "flame chart of a Firefox profile: time order per thread" "got '$got'"
fi

# ---- damaged and foreign files: one line, exit 2 ----
head -c 2000 "$FIX/trace-event/node-cpu.trace.json" >"$T_TMP/cut.json"
t_fails "a trace cut inside an event is refused" 2 "$KILN" analyze "$T_TMP/cut.json"
printf '{"traceEvents": [{"ph": "M", "name": "thread_name", "pid": 1, "tid": 1, "args": {"name": "x"}}]}' \
	>"$T_TMP/meta.json"
t_fails "a trace with only metadata events is refused" 2 "$KILN" analyze "$T_TMP/meta.json"
printf '[{"ph": "B", "name": "a", "pid": 1, "tid": 1}]' >"$T_TMP/nots.json"
t_fails "a B event without ts is refused" 2 "$KILN" convert "$T_TMP/nots.json" -o "$T_TMP/x.pb.gz"
head -c 3000 "$FIX/heapprofile/node-alloc.heapprofile" >"$T_TMP/cut.heapprofile"
t_fails "a cut .heapprofile is refused" 2 "$KILN" analyze "$T_TMP/cut.heapprofile"
sed 's/"stackTable"/"stackTabel"/' "$FIX/firefox/gecko-small.json" >"$T_TMP/bad-ff.json"
t_fails "a Firefox profile without its stack columns is refused" 2 "$KILN" analyze "$T_TMP/bad-ff.json"
printf '{"head": {"functionName": "(root)", "hitCount": 0, "children": [{"functionName": "x", "hitCount": 1, "children": 5}]}}' \
	>"$T_TMP/bad-old.cpuprofile"
t_ok "an old-layout profile with bad children is read or refused, never crashes" sh -c \
	"'$KILN' analyze '$T_TMP/bad-old.cpuprofile' >/dev/null 2>&1; [ \$? -le 2 ]"

# ---- speedscope's sample files (../shared) ----
CT=$SHARED/fixtures/formats/chrome-trace
if [ -d "$CT" ] && command -v xz >/dev/null 2>&1; then
	for f in "$CT"/*.json "$CT"/*.json.xz; do
		case $f in
		*.xz) xz -dc "$f" >"$T_TMP/$(basename "$f" .xz)"; f=$T_TMP/$(basename "$f" .xz) ;;
		esac
		if grep -qE '"(Profile|ProfileChunk|CpuProfile)"' "$f"; then
			check trace "$f" trace-event samples:samples time:cpu
		elif grep -q '"stackFrames"' "$f"; then
			check trace "$f" trace-event samples:samples time:time
		else
			check trace "$f" trace-event time:time
		fi
	done
	for f in "$SHARED"/fixtures/formats/heapprofile/*.heapprofile; do
		check heapprofile "$f" heapprofile space:space
	done
	for f in "$SHARED"/fixtures/formats/firefox/*.json; do
		check firefox "$f" firefox samples:samples time:time
	done
else
	t_skip "speedscope's trace-event, heapprofile and Firefox samples" "$CT (or xz) is not there"
fi
exit $T_FAILED
