#!/bin/bash
# kiln profile --mode io counts the launched command's system calls from its exec, as strace -f does: not kiln's
# own execvp search of PATH (one failed execve per PATH entry before the right one) nor its fork's set-up.
# Every system call's count and errors must equal strace -c -f's on the same commands.
. "$(dirname "$0")/lib.sh"

cd "$T_TMP" || exit 1
if ! command -v strace >/dev/null 2>&1; then
	t_skip "io counts against strace" "no strace"
	exit 0
fi
if ! "$KILN" profile --mode io -q -o probe.pb.gz -- true 2>probe.err || grep -q 'counting system calls' probe.err; then
	t_skip "io counts against strace" "no eBPF I/O tracing here: $(head -1 probe.err)"
	exit 0
fi

# calls and errors per system call: from kiln's --json, and from strace -c's table
kiln_counts() {
	python3 -c 'import json, sys
for s in json.load(open(sys.argv[1]))["syscalls"]: print(s["name"], s["calls"], s["errors"])' "$1" | sort
}
strace_counts() {
	awk '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" { print $NF, $4, (NF == 6 ? $5 : 0) }' "$1" | sort
}

# Empty directories first in PATH: execvp tries each before the real one.
mkdir -p p1 p2 p3
export PATH="$PWD/p1:$PWD/p2:/nonexistent/bin:$PWD/p3:$PATH"

compare() { # DESC CMD...
	local desc=$1
	shift
	"$KILN" profile --mode io -q --json io.json -o io.pb.gz -- "$@" >kiln.out 2>kiln.err
	local st=$?
	strace -f -c -o strace.txt -- "$@" >strace.out 2>/dev/null
	kiln_counts io.json >kiln.counts
	strace_counts strace.txt >strace.counts
	if [ $st -eq 0 ] && [ -s strace.counts ] && cmp -s kiln.counts strace.counts; then
		t_pass "$desc: $(wc -l <kiln.counts) system calls, counts and errors equal strace -c -f's"
	else
		t_fail "$desc: counts equal strace -c -f's" "exit $st $(head -2 kiln.err); $(diff strace.counts kiln.counts)"
	fi
}

compare "cat found through PATH" cat /etc/hostname
grep -q '^execve 1 0$' kiln.counts && t_pass "one execve, no error (not one per PATH entry)" ||
	t_fail "one execve, no error" "$(grep execve kiln.counts)"
# The program's own PATH search does count (sh looks for cat and ls itself), and its forks are followed.
compare "sh -c with two commands" sh -c 'cat /etc/hostname; ls / >/dev/null'
t_done
