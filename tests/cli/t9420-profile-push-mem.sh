#!/bin/bash
# kiln profile --mode mem --push against a real kiln serve: a program allocates and frees a known number of
# bytes per second in churn_block() and holds a known amount allocated by hold_blocks(); each 1 s window is
# pushed as Go's four heap profile types (ProfileTypes lists them), the windows abut, a window's alloc_space
# is what churn_block() allocated in it (the program's own count per second) and its inuse_space what
# hold_blocks() holds (a snapshot at the window's end), the sum over the windows is the program's total, and
# the render API draws it. --sample-bytes is small enough for a sampling error of a few per cent per window.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
. "$(dirname "$0")/push_lib.sh"

H=$KILN_BUILD/tests/helpers/push_heap
[ -x "$H" ] && [ -x "$KILN_BUILD/tests/helpers/push_slow" ] || { t_skip "kiln profile --mode mem --push" "helper not built ($H)"; exit 0; }
[ -f "$KILN_BUILD/libkiln-heap.so" ] || { t_skip "kiln profile --mode mem --push" "libkiln-heap.so not built"; exit 0; }
serve_start S "$KILN" --storage "$T_TMP/store" --retention 0 || exit 0
U=$S_URL
RATE=64 HOLD=32
ALLOC='memory:alloc_space:bytes:space:bytes' INUSE='memory:inuse_space:bytes:space:bytes'

"$KILN" profile --mode mem --sample-bytes 64K --push "$U" --every 1 --service heapy --tag env=test -- \
	"$H" 4.5 $RATE $HOLD >/dev/null 2>"$T_TMP/push.err"
st=$?
[ $st = 0 ] && t_pass "exit status 0 (the command's)" || t_fail "exit status 0" "$st $(cat "$T_TMP/push.err")"
read -r CHURN SECS < <(awk '$1 == "churn" { print $2, $3 }' "$T_TMP/push.err")
push_report "$T_TMP/push.err" 5
push_types "$U" "$T_TMP/types"
json_check "ProfileTypes: Go's four heap types (alloc/inuse objects and space, period space/bytes)" "$T_TMP/types" "
	{'memory:alloc_objects:count:space:bytes', 'memory:alloc_space:bytes:space:bytes',
	 'memory:inuse_objects:count:space:bytes', 'memory:inuse_space:bytes:space:bytes'} <=
	set(t['ID'] for t in d['profileTypes'])"

push_list "$U" "$ALLOC{service_name=\"heapy\"}" "$T_TMP/alloc"
push_list "$U" "$INUSE{service_name=\"heapy\"}" "$T_TMP/inuse"
json_check "one stored alloc_space profile per window ($SENT), labelled service_name, env, host" "$T_TMP/alloc" "
	len(d['profiles']) == ${SENT:-0} and all(p['labels']['service_name'] == 'heapy' and
	p['labels']['env'] == 'test' and p['labels']['host'] == '$(hostname)' for p in d['profiles'])"
push_check_abut "$T_TMP/alloc" 1000000000
# The program's own rate: the bytes churn_block() allocated over the time it ran.
PERSEC=$(awk -v b="${CHURN:-0}" -v s="${SECS:-1}" 'BEGIN { printf "%.0f", b / s }')
json_check "alloc_space of each full window after the first = churn_block()'s bytes per second ($PERSEC) within 15 %" \
	"$T_TMP/alloc" "
	(lambda p: len(p) >= 4 and all(abs(q['total'] - $PERSEC) <= 0.15 * $PERSEC for q in p[1:-1]))(
	 sorted(d['profiles'], key=lambda q: q['from']))"
json_check "inuse_space at the end of each full window = what hold_blocks() holds ($HOLD MiB) within 15 %" "$T_TMP/inuse" "
	(lambda p: len(p) >= 4 and all(abs(q['total'] - $HOLD * 2**20) <= 0.15 * $HOLD * 2**20 for q in p[:-1]))(
	 sorted(d['profiles'], key=lambda q: q['from']))"

# By function, over the whole run: the merged selection as folded stacks.
export_folded() {
	curl -sS --get "$U/api/v1/export" --data-urlencode "query=$1{service_name=\"heapy\"}" \
		--data-urlencode from=now-1h --data-urlencode until=now --data-urlencode format=folded
}
export_folded "$ALLOC" >"$T_TMP/alloc.folded"
GOT=$(awk '/churn_block/ { s += $NF } END { printf "%.0f", s }' "$T_TMP/alloc.folded")
HOLDGOT=$(awk '/hold_blocks/ { s += $NF } END { printf "%.0f", s }' "$T_TMP/alloc.folded")
if awk -v g="$GOT" -v c="${CHURN:-0}" 'BEGIN { exit !(c > 0 && g >= 0.92 * c && g <= 1.08 * c) }'; then
	t_pass "alloc_space under churn_block() over all windows = the program's count (${CHURN:-?} B) within 8 %"
else
	t_fail "alloc_space under churn_block() = the program's count" "got $GOT, want ${CHURN:-?}: $(head -5 "$T_TMP/alloc.folded")"
fi
if awk -v g="$HOLDGOT" -v h=$((HOLD * 1048576)) 'BEGIN { exit !(g >= 0.85 * h && g <= 1.15 * h) }'; then
	t_pass "alloc_space under hold_blocks() = $HOLD MiB within 15 % (allocated once, counted once)"
else
	t_fail "alloc_space under hold_blocks() = $HOLD MiB" "got $HOLDGOT"
fi

push_render "$U" "$ALLOC{service_name=\"heapy\"}" "$T_TMP/alloc" "$T_TMP/render"
json_check "render API: numTicks = the sum of the stored windows, churn_block and hold_blocks among the names" \
	"$T_TMP/render" "d['flamebearer']['numTicks'] == $LIST_SUM and
	'churn_block' in d['flamebearer']['names'] and 'hold_blocks' in d['flamebearer']['names']"

# ---- without --sample-bytes (the production interval, 512 KiB) ----
"$KILN" profile -q --mode mem --push "$U" --every 1 --service heapd -- "$H" 1.5 $RATE 8 >/dev/null 2>"$T_TMP/d.err"
curl -sS --get "$U/api/v1/export" --data-urlencode "query=$ALLOC{service_name=\"heapd\"}" \
	--data-urlencode from=now-1h --data-urlencode until=now --data-urlencode format=pprof >"$T_TMP/d.pb"
"$KILN" convert "$T_TMP/d.pb" -o "$T_TMP/d.folded" 2>"$T_TMP/conv.err"
if [ -s "$T_TMP/d.folded" ] && grep -q churn_block "$T_TMP/d.folded"; then
	t_pass "without --sample-bytes: the pushed heap profile reads back (pprof) with churn_block()'s stack"
else
	t_fail "without --sample-bytes: the pushed heap profile reads back" "$(cat "$T_TMP/d.err" "$T_TMP/conv.err")"
fi

# ---- a thread that allocates slowly: its samples reach the window they were taken in ----
# About 1.6 MB/s in 1 KiB blocks sampled every 64 KiB: some 25 samples a second. A thread sends its buffer at
# a time stamp once it is 100 ms old; with a stamp only every 64 samples these would wait seconds, and some
# windows would hold none.
SLOW=$KILN_BUILD/tests/helpers/push_slow
"$KILN" profile -q --mode mem --sample-bytes 64K --push "$U" --every 1 --service heaps -- "$SLOW" 4.5 \
	>/dev/null 2>"$T_TMP/s.err"
push_list "$U" "$ALLOC{service_name=\"heaps\"}" "$T_TMP/slow"
json_check "slow allocation: every full window holds some of small_block()'s allocations" "$T_TMP/slow" "
	(lambda p: len(p) >= 4 and all(q['total'] > 0 and q['until'] - q['from'] == 10**9 for q in p[:-1]))(
	 sorted(d['profiles'], key=lambda q: q['from']))"

# ---- usage ----
t_fails "--mode mem --push with -p: exit 2 (heap profiling launches its command)" 2 "$KILN" profile --mode mem --push "$U" -p $$
t_fails "--mode wall --push: exit 2" 2 "$KILN" profile --mode wall --push "$U" -- true
grep -q 'cannot be cut into windows' "$T_TMP/fails.err" && t_pass "--mode wall --push says why" ||
	t_fail "--mode wall --push says why" "$(cat "$T_TMP/fails.err")"

serve_stop "$S_PID"
t_done
