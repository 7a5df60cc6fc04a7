#!/bin/bash
# bench/serve-fleet.py scaled down (its client, bench/fleet_push.c, plain HTTP/1.1): a small fleet pushed over
# 16 connections, every request acknowledged, every
# query answered, retention drops the day; its figures are printed for the log (the full run is in bench/).
. "$(dirname "$0")/lib.sh"

K=${KILN_RELEASE:+$KILN_RELEASE/kiln}
[ -x "${K:-}" ] || K=$KILN
command -v python3 >/dev/null 2>&1 || { t_skip "fleet bench" "python3 is not installed"; exit 0; }
command -v cc >/dev/null 2>&1 || { t_skip "fleet bench" "no C compiler for bench/fleet_push.c"; exit 0; }
python3 "$KILN_ROOT/bench/serve-fleet.py" --kiln "$K" --series 4 --hours 0.1 --stacks 500 --per-profile 50 \
	--connections 16 --queries 1 --settle 0 >"$T_TMP/fleet" 2>&1
status=$?
sed 's/^/# /' "$T_TMP/fleet"
[ $status = 0 ] && grep -q '^ingest: 144 profiles .*(0 errors)' "$T_TMP/fleet" &&
	t_pass "144 profiles pushed from 16 connections, all acknowledged" || t_fail "fleet ingest" "$(cat "$T_TMP/fleet")"
[ "$(grep -c '^query .*(ok)$' "$T_TMP/fleet")" = 3 ] && t_pass "1 h, 24 h and 7 d merges sum to the counts sent (x 10^7 ns)" ||
	t_fail "fleet queries" "$(grep '^query' "$T_TMP/fleet")"
grep -q '^storage: 144 profiles' "$T_TMP/fleet" && t_pass "the store counts 144 profiles" || t_fail "store count" "$(grep storage "$T_TMP/fleet")"
grep -q '^retention: dropped [1-9]' "$T_TMP/fleet" && t_pass "retention drops the past days as whole files" ||
	t_fail "retention" "$(grep retention "$T_TMP/fleet")"
