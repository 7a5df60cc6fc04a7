#!/bin/bash
# kiln profile --diff CMD_A CMD_B: profiles both commands and reports which functions' shares changed.
. "$(dirname "$0")/lib.sh"

if ! "$KILN" profile -q -o "$T_TMP/probe.folded" -- true 2>"$T_TMP/probe.err"; then
	t_skip "kiln profile --diff" "perf_event_open is not allowed here: $(head -1 "$T_TMP/probe.err")"
	exit 0
fi
cat >"$T_TMP/ab.c" <<'CEOF'
#include <stdlib.h>
static volatile double s;
__attribute__((noinline)) void alpha(long n) { for (long i = 0; i < n; i++) s += i; }
__attribute__((noinline)) void beta(long n) { for (long i = 0; i < n; i++) s += i * 2; }
int main(int c, char **v) { alpha(atol(v[1])); beta(atol(v[2])); return c > 3 ? atoi(v[3]) : 0; }
CEOF
cc -O1 -g -fno-omit-frame-pointer -o "$T_TMP/ab" "$T_TMP/ab.c" || { t_fail "build the test program"; exit 0; }
cd "$T_TMP" || exit 1

# alpha shrinks from 3/4 to 1/4 of the time, beta grows: both changes are significant; the seed's usage line.
"$KILN" profile --diff "./ab 150000000 50000000" "./ab 50000000 150000000" >out.txt 2>err.txt
s=$?
t_ok "--diff exits 0 when both commands succeed" test $s -eq 0
grep -Eq '^ +[0-9.]+ +[0-9.]+ +-[0-9.]+ .* yes +alpha$' out.txt && t_pass "alpha's drop is significant" ||
	t_fail "alpha's drop is significant" "$(cat out.txt err.txt)"
grep -Eq '^ +[0-9.]+ +[0-9.]+ +\+[0-9.]+ .* yes +beta$' out.txt && t_pass "beta's growth is significant" ||
	t_fail "beta's growth is significant" "$(cat out.txt)"
t_ok "the default differential flame graph diff.svg is written and parses" xmllint --noout diff.svg
t_ok "its tooltips show both shares" grep -q 'alpha' diff.svg

# The same command twice: nothing significant.
"$KILN" profile --diff -o same.svg "./ab 80000000 80000000" "./ab 80000000 80000000" >same.txt 2>/dev/null
grep -Eq ' yes +(alpha|beta)$' same.txt && t_fail "A/A: alpha and beta are not flagged" "$(cat same.txt)" ||
	t_pass "A/A: alpha and beta are not flagged"

# A failing command: the diff is still made and its status is returned; a missing one is an error.
"$KILN" profile -q --diff -o f.svg "./ab 1000000 1000000 3" "./ab 1000000 1000000" >/dev/null 2>&1
t_ok "a command's failure status is returned" test $? -eq 3
t_fails "--diff with one command is a usage error" 2 "$KILN" profile --diff "./ab 1 1"
"$KILN" profile -q --diff -o m.svg "./no-such-program" "./ab 1 1" >/dev/null 2>m.err
s=$?
[ $s -eq 127 ] && t_pass "a command that is not found gives 127" || t_fail "a command that is not found gives 127" \
	"exit $s: $(cat m.err)"
