#!/bin/bash
# kiln profile --push with the server away: the command runs and exits as without kiln, the upload retries with
# backoff and, when the server never answers, every window is counted as dropped after a bounded drain; a
# server that comes up late receives the queued windows (retried, none lost while the queue has room).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

W=$KILN_BUILD/tests/helpers/prof_work
[ -x "$W" ] || { t_skip "kiln profile --push, server down" "helpers not built ($W)"; exit 0; }
if ! "$KILN" profile -q -o "$T_TMP/probe.pb.gz" -- true 2>"$T_TMP/probe.err"; then
	t_skip "kiln profile --push, server down" "cannot sample here: $(head -1 "$T_TMP/probe.err")"
	exit 0
fi
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
U=http://127.0.0.1:$PORT
CPUQ='process_cpu:cpu:nanoseconds:cpu:nanoseconds'
"$W" 1000 2>"$T_TMP/cal" >/dev/null
rounds() { awk -v s="$1" '$1 == "cpu" { r = int(1000 * s / ($2 > 0.001 ? $2 : 0.001)); print (r < 1000 ? 1000 : r) }' "$T_TMP/cal"; }

# counters FILE: sets WINDOWS EMPTY SENT DROPPED REJECTED RETRIES from kiln's last line
counters() {
	read -r WINDOWS EMPTY SENT DROPPED REJECTED RETRIES < <(sed -n \
		's/^kiln: pushed to .*: \([0-9]*\) windows (\([0-9]*\) empty), \([0-9]*\) profiles sent, \([0-9]*\) dropped, \([0-9]*\) rejected, \([0-9]*\) retries.*/\1 \2 \3 \4 \5 \6/p' "$1")
	: "${WINDOWS:=x}"
}

# ---- no server at all: the command is unaffected, every window dropped after the drain ----
"$KILN" profile --push "$U" --every 1 --service nobody -- "$W" "$(rounds 2)" >/dev/null 2>"$T_TMP/down.err"
st=$?
END=$(date +%s%N)
EXIT_NS=$(awk '$1 == "exit_ns" { print $2 }' "$T_TMP/down.err")
[ $st = 0 ] && t_pass "server down: the command's exit status (0)" || t_fail "server down: exit 0" "$st $(cat "$T_TMP/down.err")"
counters "$T_TMP/down.err"
if [ "$WINDOWS" != x ] && [ "$WINDOWS" -ge 2 ] && [ "$SENT" = 0 ] && [ "$DROPPED" = $((WINDOWS - EMPTY)) ] &&
	[ "$RETRIES" -ge 1 ] && grep -q "last error: .*onnect" "$T_TMP/down.err"; then
	t_pass "server down: every window counted dropped ($DROPPED), retries ($RETRIES), the connection error reported"
else
	t_fail "server down: every window counted dropped" "$(tail -3 "$T_TMP/down.err")"
fi
# The drain is bounded (5 s) and the last window's retries do not wait beyond it.
if [ -n "$EXIT_NS" ] && [ $(((END - EXIT_NS) / 1000000)) -le 9000 ]; then
	t_pass "server down: kiln ends within the 5 s drain after the command ($(((END - EXIT_NS) / 1000000)) ms)"
else
	t_fail "server down: kiln ends within the drain" "$(((END - ${EXIT_NS:-0}) / 1000000)) ms"
fi

# ---- the server comes up late: the queued windows arrive ----
"$KILN" profile --push "$U" --every 1 --service late -- "$W" "$(rounds 5)" >/dev/null 2>"$T_TMP/late.err" &
KP=$!
sleep 2.5
serve_start S "$KILN" --listen "127.0.0.1:$PORT" --storage "$T_TMP/store" --retention 0 || { kill $KP; exit 0; }
wait $KP
st=$?
[ $st = 0 ] && t_pass "late server: the command's exit status (0)" || t_fail "late server: exit 0" "$st $(cat "$T_TMP/late.err")"
counters "$T_TMP/late.err"
if [ "$WINDOWS" != x ] && [ "$RETRIES" -ge 1 ] && [ "$SENT" -ge 1 ] &&
	[ $((SENT + DROPPED + REJECTED)) = $((WINDOWS - EMPTY)) ]; then
	t_pass "late server: retried ($RETRIES), sent $SENT, every window accounted for (sent + dropped = $((WINDOWS - EMPTY)))"
else
	t_fail "late server: retried and accounted for" "$(tail -2 "$T_TMP/late.err")"
fi
curl -sS --get "$U/api/v1/profiles" --data-urlencode "query=$CPUQ{service_name=\"late\"}" \
	--data-urlencode from=now-1h --data-urlencode limit=10000 >"$T_TMP/list"
json_check "late server: it stores the $SENT windows sent, the first ones among them (sent while it was down)" \
	"$T_TMP/list" "len(d['profiles']) == ${SENT:-0} and ${DROPPED:-1} == 0 and
	(lambda p: all(p[i]['from'] == p[i - 1]['until'] for i in range(1, len(p))))(sorted(d['profiles'], key=lambda q: q['from']))"
serve_stop "$S_PID"
t_done
