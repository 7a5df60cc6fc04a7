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

# -o onto something that is not a regular file: written directly, never replaced by a renamed temporary (as root,
# `-o /dev/null` once turned /dev/null into a regular file). A symbolic link keeps pointing at its file.
printf 'main;f 3\nmain;g 1\n' >"$T_TMP/small.folded"
if mknod "$T_TMP/null" c 1 3 2>/dev/null; then
	"$KILN" convert "$T_TMP/small.folded" -o "$T_TMP/null" --to folded 2>"$T_TMP/dev.err"
	if [ -c "$T_TMP/null" ]; then t_pass "-o onto a device node keeps the device"; else
		t_fail "-o onto a device node keeps the device" "$(ls -l "$T_TMP/null"; cat "$T_TMP/dev.err")"; fi
else
	t_skip "-o onto a device node keeps the device" "mknod needs root"
fi
mkfifo "$T_TMP/fifo"
cat "$T_TMP/fifo" >"$T_TMP/fifo.out" &
"$KILN" convert "$T_TMP/small.folded" -o "$T_TMP/fifo" --to folded
wait
if [ -p "$T_TMP/fifo" ] && cmp -s "$T_TMP/fifo.out" "$T_TMP/small.folded"; then t_pass "-o onto a FIFO writes into it"; else
	t_fail "-o onto a FIFO writes into it" "$(ls -l "$T_TMP/fifo"; cat "$T_TMP/fifo.out")"; fi
echo old >"$T_TMP/target.folded"
ln -s target.folded "$T_TMP/link.folded"
"$KILN" convert "$T_TMP/small.folded" -o "$T_TMP/link.folded" --to folded
if [ -L "$T_TMP/link.folded" ] && cmp -s "$T_TMP/target.folded" "$T_TMP/small.folded"; then
	t_pass "-o onto a symbolic link replaces the file it points to"
else
	t_fail "-o onto a symbolic link replaces the file it points to" "$(ls -l "$T_TMP"/link.folded "$T_TMP"/target.folded)"
fi
t_fails "-o onto a directory" 2 "$KILN" convert "$T_TMP/small.folded" -o "$T_TMP" --to folded
