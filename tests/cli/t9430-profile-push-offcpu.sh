#!/bin/bash
# kiln profile --mode offcpu --push against a real kiln serve: a program whose threads sleep all the time,
# one in nap_short() (100 ms at a time) and one in nap_long() (1.5 s at a time, longer than a window); each
# 1 s window is pushed as one off-CPU profile type in nanoseconds (ProfileTypes lists it), the windows abut,
# a sleep that spans windows is cut at their boundary (about 1 s of nap_long()'s in every full window), and
# summed over the windows each thread's time is its blocked time by the kernel's own account (schedstat: its
# life less its time on a CPU and waiting for one). -a gives one series per process.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
. "$(dirname "$0")/push_lib.sh"

SL=$KILN_BUILD/tests/helpers/push_sleep
[ -x "$SL" ] || { t_skip "kiln profile --mode offcpu --push" "helper not built ($SL)"; exit 0; }
if ! "$KILN" profile -q --mode offcpu -o "$T_TMP/probe.pb.gz" -- true 2>"$T_TMP/probe.err"; then
	t_skip "kiln profile --mode offcpu --push" "cannot trace off-CPU time here: $(head -1 "$T_TMP/probe.err")"
	exit 0
fi
serve_start S "$KILN" --storage "$T_TMP/store" --retention 0 || exit 0
U=$S_URL
OFF='process_cpu:off_cpu:nanoseconds:off_cpu:nanoseconds'

"$KILN" profile --mode offcpu --push "$U" --every 1 --service sleepy -- "$SL" 4.5 100 1500 >/dev/null 2>"$T_TMP/push.err"
st=$?
[ $st = 0 ] && t_pass "exit status 0 (the command's)" || t_fail "exit status 0" "$st $(cat "$T_TMP/push.err")"
push_report "$T_TMP/push.err" 5
push_types "$U" "$T_TMP/types"
json_check "ProfileTypes: off-CPU time in nanoseconds ($OFF), one type only" "$T_TMP/types" "
	[t['ID'] for t in d['profileTypes'] if 'off_cpu' in t['ID']] == ['$OFF']"
push_list "$U" "$OFF{service_name=\"sleepy\"}" "$T_TMP/list"
json_check "one stored profile per window ($SENT)" "$T_TMP/list" "len(d['profiles']) == ${SENT:-0}"
push_check_abut "$T_TMP/list" 1000000000

# Per window and function: each stored profile as folded stacks.
python3 -c "
import json, sys
for p in sorted(json.load(open(sys.argv[1]))['profiles'], key=lambda q: q['from']):
    print(p['id'], p['until'] - p['from'])" "$T_TMP/list" >"$T_TMP/ids"
: >"$T_TMP/per"
while read -r id len; do
	curl -sS --get "$U/api/v1/profile" --data-urlencode "id=$id" --data-urlencode format=folded >"$T_TMP/w.folded"
	awk -v len="$len" '/nap_short/ { s += $NF } /nap_long/ { l += $NF } END { print len, s + 0, l + 0 }' \
		"$T_TMP/w.folded" >>"$T_TMP/per"
done <"$T_TMP/ids"
# A window holds what was blocked between two drains of the kernel's maps at the windows' ends. nap_long()'s
# 1.5 s sleeps span windows: cut at the boundaries, each full window holds about 1 s of them (counted whole
# where they end, windows would hold 0, 1.5 or 3 s). nap_short() wakes ten times a second, and on a loaded
# machine waits for a CPU after each wakeup: time not blocked, so it is below that, but not far.
if awk 'NR > 1 && $1 == 1e9 { n++; if ($3 < 0.8e9 || $3 > 1.2e9 || $2 < 0.5e9 || $2 > $3 + 0.05e9) bad++ }
	END { exit !(n >= 2 && !bad) }' "$T_TMP/per"; then
	t_pass "each full window: nap_long()'s sleeps split at the boundaries (about 1 s each), nap_short() at most as long"
else
	t_fail "each full window: nap_long()'s sleeps split at the boundaries" "window_ns nap_short_ns nap_long_ns: $(cat "$T_TMP/per")"
fi
# The program's own account: each thread's life less its time on a CPU and waiting for one (schedstat).
read -r SHORT LONG < <(awk '$1 == "nap_short" { s = $2 } $1 == "nap_long" { l = $2 } END { print s + 0, l + 0 }' \
	"$T_TMP/push.err")
if awk -v s="$SHORT" -v l="$LONG" '{ gs += $2; gl += $3 } END { exit !(s > 3 && l > 3 &&
	gs >= 0.95 * s * 1e9 && gs <= 1.05 * s * 1e9 && gl >= 0.95 * l * 1e9 && gl <= 1.05 * l * 1e9) }' "$T_TMP/per"; then
	t_pass "over all windows: each thread's off-CPU time = its blocked time by schedstat ($SHORT s, $LONG s) within 5 %"
else
	t_fail "over all windows: each thread's off-CPU time = its blocked time ($SHORT s, $LONG s)" "$(cat "$T_TMP/per")"
fi

push_render "$U" "$OFF{service_name=\"sleepy\"}" "$T_TMP/list" "$T_TMP/render"
json_check "render API: numTicks = the sum of the stored windows, nap_long among the names, units nanoseconds" \
	"$T_TMP/render" "d['flamebearer']['numTicks'] == $LIST_SUM and
	'nap_long' in d['flamebearer']['names'] and d['metadata']['units'] == 'nanoseconds'"

# ---- -a: one series per process ----
cp "$SL" "$T_TMP/sleep_beta"
"$T_TMP/sleep_beta" 8 100 1500 2>/dev/null &
SP=$!
sleep 0.2
"$KILN" profile -q --mode offcpu --push "$U" --every 1 -a -d 4.5 --service-from exe 2>"$T_TMP/all.err"
st=$?
kill "$SP" 2>/dev/null; wait "$SP" 2>/dev/null
[ $st = 0 ] && t_pass "-a -d 4.5: exit 0" || t_fail "-a -d 4.5: exit 0" "$st $(cat "$T_TMP/all.err")"
push_list "$U" "$OFF{service_name=\"sleep_beta\"}" "$T_TMP/alist"
# Physical bounds: two sleeping threads (the main thread, blocked in pthread_join() since before the
# recording started, is seen only when it next leaves the CPU: never) are off CPU at most 2 x the recorded time,
# and at least 2 x that time less nap_long()'s first sleep (1.5 s), begun before the recording.
json_check "-a --service-from exe: the sleeper's own series (pid=$SP), 2 threads' off-CPU time in its windows" \
	"$T_TMP/alist" "(lambda p, span: len(p) >= 4 and all(q['labels']['pid'] == '$SP' for q in p) and
	 all(q['total'] > 0 for q in p) and 0.9 * (2 * span - 1.5e9) <= sum(q['total'] for q in p) <= 1.03 * 2 * span)(
	 sorted(d['profiles'], key=lambda q: q['from']), max(q['until'] for q in d['profiles']) - min(q['from'] for q in d['profiles']))"

serve_stop "$S_PID"
t_done
