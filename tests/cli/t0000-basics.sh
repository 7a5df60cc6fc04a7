#!/bin/bash
# The command-line contract shared by every command: help, version, exit codes, stdout errors.
. "$(dirname "$0")/lib.sh"

t_ok "--version prints the version" bash -c "'$KILN' --version | grep -Eq '^kiln [0-9]+\.[0-9]+\.[0-9]+$'"
t_ok "kiln help lists the commands" bash -c "'$KILN' help | grep -q 'Commands:'"
"$KILN" >/dev/null 2>"$T_TMP/nocmd.err"; s=$?
if [ $s -eq 2 ] && grep -q '^usage: kiln' "$T_TMP/nocmd.err"; then
	t_pass "no command prints the usage on stderr and exits 2"
else
	t_fail "no command prints the usage on stderr and exits 2" "exit $s"
fi
t_fails "an unknown command is a usage error" 2 "$KILN" frobnicate
t_fails "help for an unknown command is a usage error" 2 "$KILN" help frobnicate

# Every command: `kiln help CMD` and `kiln CMD --help` print the same page, with examples, and exit 0.
cmds=$("$KILN" help | sed -n '/^Commands:/,/^$/p' | awk 'NF >= 2 && $1 != "Commands:" {print $1}')
for c in $cmds; do
	[ "$c" = help ] || [ "$c" = version ] && continue
	"$KILN" help "$c" >"$T_TMP/help1" 2>&1; s1=$?
	"$KILN" "$c" --help >"$T_TMP/help2" 2>&1; s2=$?
	if [ $s1 -ne 0 ] || [ $s2 -ne 0 ]; then
		t_fail "kiln $c --help exits 0" "exit $s1 / $s2"
	elif ! cmp -s "$T_TMP/help1" "$T_TMP/help2"; then
		t_fail "kiln help $c equals kiln $c --help"
	elif ! grep -q '^Examples:' "$T_TMP/help1" || ! grep -q '^usage: kiln '"$c" "$T_TMP/help1"; then
		t_fail "kiln $c --help has a usage line and examples" "$(head -5 "$T_TMP/help1")"
	else
		t_pass "kiln $c --help: usage, options and examples"
	fi
	t_fails "kiln $c rejects an unknown option" 2 "$KILN" "$c" --no-such-option-xyz
done

# A write error on stdout is an error, not a silent success.
if [ -w /dev/full ]; then
	"$KILN" --version >/dev/full 2>"$T_TMP/full.err"; s=$?
	if [ $s -ne 0 ] && grep -q 'cannot write' "$T_TMP/full.err"; then
		t_pass "writing to a full device fails with a message"
	else
		t_fail "writing to a full device fails with a message" "exit $s: $(cat "$T_TMP/full.err")"
	fi
else
	t_skip "writing to a full device fails" "/dev/full is not available"
fi
