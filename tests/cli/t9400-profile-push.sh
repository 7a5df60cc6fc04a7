#!/bin/bash
# kiln profile --push against a real kiln serve: a profile per window, the windows abutting, labelled service,
# host and --tag, and the pushed CPU time equal to the command's own (getrusage) within 10 %; the render API
# answers for the same data; the command's exit status is kiln's; -a gives one series per process, named by
# --service-from; usage errors exit 2 with one line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
. "$(dirname "$0")/push_lib.sh"

W=$KILN_BUILD/tests/helpers/prof_work
SPIN=$KILN_BUILD/tests/helpers/drv_spin
[ -x "$W" ] && [ -x "$SPIN" ] || { t_skip "kiln profile --push" "helpers not built ($W)"; exit 0; }
if ! "$KILN" profile -q -o "$T_TMP/probe.pb.gz" -- true 2>"$T_TMP/probe.err"; then
	t_skip "kiln profile --push" "cannot sample here: $(head -1 "$T_TMP/probe.err")"
	exit 0
fi
serve_start S "$KILN" --storage "$T_TMP/store" --retention 0 || exit 0
U=$S_URL
CPUQ='process_cpu:cpu:nanoseconds:cpu:nanoseconds'

# ~6 s of CPU: the rounds scaled from a short calibration run (the machine's speed varies under load).
"$W" 1000 2>"$T_TMP/cal" >/dev/null
ROUNDS=$(awk '$1 == "cpu" { r = int(1000 * 6 / ($2 > 0.001 ? $2 : 0.001)); print (r < 1000 ? 1000 : r) }' "$T_TMP/cal")

# ---- one series, 1 s windows ----
"$KILN" profile --push "$U" --every 1 --service demo --tag env=test -- "$W" "$ROUNDS" >/dev/null 2>"$T_TMP/push.err"
st=$?
[ $st = 0 ] && t_pass "the command's exit status (0)" || t_fail "the command's exit status (0)" "$st $(cat "$T_TMP/push.err")"
CPU=$(awk '$1 == "cpu" { print $2 }' "$T_TMP/push.err")
push_report "$T_TMP/push.err" 6
push_list "$U" "$CPUQ{service_name=\"demo\"}" "$T_TMP/list"
json_check "one stored profile per window sent ($SENT)" "$T_TMP/list" "len(d['profiles']) == ${SENT:-0}"
push_check_abut "$T_TMP/list" 1000000000
json_check "labels: service_name=demo, env=test, host=$(hostname), pyroscope_spy=kiln" "$T_TMP/list" "
	all(p['labels']['service_name'] == 'demo' and p['labels']['env'] == 'test' and
	    p['labels']['host'] == '$(hostname)' and p['labels']['pyroscope_spy'] == 'kiln' and
	    'pid' not in p['labels'] and 'tid' not in p['labels'] for p in d['profiles'])"
json_check "pushed CPU time = the command's getrusage CPU time (${CPU:-?} s) within 10 %" "$T_TMP/list" "
	abs(sum(p['total'] for p in d['profiles']) / 1e9 - ${CPU:-0}) <= 0.10 * ${CPU:-0} and ${CPU:-0} > 3"
json_check "windows span the run: first from to last until within 10 % + 1 s of the windows' count" "$T_TMP/list" "
	(lambda p: abs((max(q['until'] for q in p) - min(q['from'] for q in p)) / 1e9 - ${WINDOWS:-0}) <= 1 + 0.1 * ${WINDOWS:-0})(d['profiles'])"
push_render "$U" "$CPUQ{service_name=\"demo\",env=\"test\"}" "$T_TMP/list" "$T_TMP/render"
json_check "render API: numTicks = the sum of the stored windows; the worker's stack is there" "$T_TMP/render" "
	d['flamebearer']['numTicks'] == $LIST_SUM and 'worker' in d['flamebearer']['names']"

# ---- exit status mirrors the command's ----
"$KILN" profile -q --push "$U" --every 1 --service exit3 -- sh -c 'exit 3' 2>"$T_TMP/e3"
st=$?
[ $st = 3 ] && t_pass "exit status 3 of the command is kiln's" || t_fail "exit status 3 is kiln's" "$st $(cat "$T_TMP/e3")"

# ---- SIGTERM: the recording stops, the last partial window is pushed, the command's status (143) ----
"$KILN" profile --push "$U" --every 1 --service sigterm -- "$SPIN" 2>"$T_TMP/term.err" &
KP=$!
sleep 2.5
kill -TERM $KP
wait $KP
st=$?
[ $st = 143 ] && t_pass "SIGTERM: passed on to the command, its status 143 is kiln's" || t_fail "SIGTERM: exit 143" "$st $(cat "$T_TMP/term.err")"
counters_sent=$(sed -n 's/^kiln: pushed to .*: \([0-9]*\) windows (0 empty), \1 profiles sent, 0 dropped.*/\1/p' "$T_TMP/term.err")
curl -sS --get "$U/api/v1/profiles" --data-urlencode "query=$CPUQ{service_name=\"sigterm\"}" \
	--data-urlencode from=now-1h --data-urlencode limit=10000 >"$T_TMP/tlist"
json_check "SIGTERM: every window sent (${counters_sent:-none}) and stored, abutting, the last one partial" "$T_TMP/tlist" "
	(lambda p: len(p) == int('${counters_sent:-0}') >= 2 and all(p[i]['from'] == p[i - 1]['until'] for i in range(1, len(p)))
	 and 0 < p[-1]['until'] - p[-1]['from'] < 10**9)(sorted(d['profiles'], key=lambda q: q['from']))"

# ---- -a: one series per process, named by --service-from ----
cp "$SPIN" "$T_TMP/spin_alpha"
"$T_TMP/spin_alpha" &
SP=$!
"$KILN" profile -q --push "$U" --every 1 -a -d 2.5 --service-from exe 2>"$T_TMP/all.err"
st=$?
kill "$SP"; wait "$SP" 2>/dev/null
[ $st = 0 ] && t_pass "-a -d 2.5: exit 0" || t_fail "-a -d 2.5: exit 0" "$st $(cat "$T_TMP/all.err")"
curl -sS --get "$U/api/v1/profiles" --data-urlencode "query=$CPUQ{service_name=\"spin_alpha\"}" \
	--data-urlencode from=now-1h >"$T_TMP/alist"
json_check "-a --service-from exe: the spinner's own series (service_name=spin_alpha, pid=$SP), every window with samples" \
	"$T_TMP/alist" "len(d['profiles']) >= 2 and all(p['labels']['pid'] == '$SP' for p in d['profiles']) and
	min(p['total'] for p in d['profiles']) > 0"
curl -sS --get "$U/api/v1/profiles" --data-urlencode "query=$CPUQ{pid=~\".+\"}" --data-urlencode from=now-1h \
	--data-urlencode limit=10000 >"$T_TMP/plist"
json_check "-a: every series is one process's (a pid label each), more than one process, pid 0 (idle) left out" \
	"$T_TMP/plist" "len(set(p['labels']['pid'] for p in d['profiles'])) >= 2 and
	'0' not in set(p['labels']['pid'] for p in d['profiles'])"

# ---- usage errors: exit 2, one line ----
t_fails "--push ftp://x: exit 2" 2 "$KILN" profile --push ftp://x -- true
t_fails "--push http://: no host, exit 2" 2 "$KILN" profile --push 'http://' -- true
t_fails "--push not-a-url: exit 2" 2 "$KILN" profile --push not-a-url -- true
t_fails "--every 5x: exit 2" 2 "$KILN" profile --push "$U" --every 5x -- true
t_fails "--every 10ms: out of range, exit 2" 2 "$KILN" profile --push "$U" --every 10ms -- true
t_fails "--tag noequals: exit 2" 2 "$KILN" profile --push "$U" --tag noequals -- true
t_fails "--tag 'a b=c': exit 2" 2 "$KILN" profile --push "$U" --tag 'a b=c' -- true
t_fails "--push with -o: exit 2" 2 "$KILN" profile --push "$U" -o x.pb.gz -- true
t_fails "--service-from with a command only: exit 2" 2 "$KILN" profile --push "$U" --service-from exe -- true
t_fails "--mode io --push: exit 2" 2 "$KILN" profile --mode io --push "$U" -- true
grep -q 'cannot be cut into windows' "$T_TMP/fails.err" && t_pass "--mode io --push says why" ||
	t_fail "--mode io --push says why" "$(cat "$T_TMP/fails.err")"
t_fails "--every without --push: exit 2" 2 "$KILN" profile --every 1 -o "$T_TMP/x.pb.gz" -- true
t_fails "--tag with --mode mem: exit 2" 2 "$KILN" profile --mode mem --tag a=b -- true

serve_stop "$S_PID"
t_done
