# Helpers for the kiln profile --push tests (t9400-t9499), sourced after serve_lib.sh.
#   push_report ERRFILE MIN_WINDOWS    checks kiln's report line: at least MIN_WINDOWS windows, every one with
#                                      samples sent, none dropped, rejected or retried; sets WINDOWS EMPTY SENT
#   push_list URL QUERY OUT            the stored profiles of QUERY (TYPE{selector}) over the last hour, as JSON
#   push_check_abut OUT WINDOW_NS      checks that the listed profiles abut, WINDOW_NS each, the last shorter
#   push_types URL OUT                 ProfileTypes' answer, as JSON
#   push_render URL QUERY LIST OUT     (below)

push_report() {
	local err=$1 min=$2 dropped rejected retries
	read -r WINDOWS EMPTY SENT dropped rejected retries < <(sed -n \
		's/^kiln: pushed to .*: \([0-9]*\) windows (\([0-9]*\) empty), \([0-9]*\) profiles sent, \([0-9]*\) dropped, \([0-9]*\) rejected, \([0-9]*\) retries.*/\1 \2 \3 \4 \5 \6/p' \
		"$err")
	if [ -n "${WINDOWS:-}" ] && [ "$WINDOWS" -ge "$min" ] && [ "$SENT" = $((WINDOWS - EMPTY)) ] &&
		[ "$dropped$rejected$retries" = 000 ]; then
		t_pass "the report: every window with samples sent ($SENT of $WINDOWS), none dropped, rejected or retried"
	else
		t_fail "the report: every window with samples sent" "$(cat "$err")"
	fi
}

push_list() {
	curl -sS --get "$1/api/v1/profiles" --data-urlencode "query=$2" --data-urlencode from=now-1h \
		--data-urlencode limit=10000 >"$3"
}

push_check_abut() {
	json_check "windows abut: each from is the previous until; $(($2 / 1000000)) ms each, the last shorter" "$1" "
	(lambda p: all(p[i]['from'] == p[i - 1]['until'] for i in range(1, len(p))) and
	 all(q['until'] - q['from'] == $2 for q in p[:-1]) and 0 < p[-1]['until'] - p[-1]['from'] <= $2)(
	 sorted(d['profiles'], key=lambda q: q['from']))"
}

push_types() {
	curl -sS -X POST -H 'content-type: application/json' -d '{}' "$1/querier.v1.QuerierService/ProfileTypes" >"$2"
}

# push_render URL QUERY LIST OUT       the render API's flamebearer JSON of QUERY over the last hour into OUT;
#                                      sets LIST_SUM to the sum of the totals of the profiles listed in LIST
push_render() {
	curl -sS --get "$1/pyroscope/render" --data-urlencode "query=$2" --data-urlencode from=now-1h \
		--data-urlencode format=json >"$4"
	LIST_SUM=$(python3 -c "import json,sys; print(sum(p['total'] for p in json.load(open(sys.argv[1]))['profiles']))" \
		"$3" 2>/dev/null || echo -1)
}
