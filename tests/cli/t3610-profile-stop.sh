#!/bin/bash
# kiln profile: how a recording ends, alike in every mode, with real processes: a Ctrl-C (SIGINT to the process
# group) stops a command that ignores it after a 2 s grace period (SIGTERM, then SIGKILL 2 s later); signals
# the user ignores stay ignored in the command (cpu and mem); SIGTERM to kiln reaches the command (mem);
# a second signal ends at once; -d with a command records its start and leaves it running; -p -d on a
# terminal says what it records; kiln's output options after the command are named.
. "$(dirname "$0")/lib.sh"

H=$KILN_BUILD/tests/helpers
cd "$T_TMP" || exit 1

if ! "$KILN" profile -q -o probe.pb.gz -- true 2>probe.err; then
	t_skip "kiln profile stop" "cannot sample here: $(head -1 probe.err)"
	exit 0
fi
LIB=$KILN_BUILD/libkiln-heap.so
[ -f "$LIB" ] || LIB=$KILN_RELEASE/libkiln-heap.so
export KILN_HEAP_LIB=$LIB

now() { date +%s.%N; }
# ctrl_c MODE NAME SCRIPT: runs kiln in a process group of its own, sends SIGINT to the group as a terminal's
# Ctrl-C does after 0.5 s, and leaves NAME.st (exit status) and NAME.secs (seconds from the Ctrl-C to kiln's exit).
# Job control (set -m) gives the job its group and keeps SIGINT as it is (a plain `&` would ignore it, and kiln
# would rightly keep it ignored in the command).
ctrl_c() {
	local mode=$1 name=$2 script=$3 pid t0 t1
	set -m
	"$KILN" profile --mode "$mode" -o "$name.pb.gz" sh -c "$script" >/dev/null 2>"$name.err" &
	pid=$!
	set +m
	sleep 0.5
	t0=$(now)
	kill -INT -- -"$pid"
	wait "$pid"
	echo $? >"$name.st"
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }' >"$name.secs"
}
# within SECS LO HI: LO <= SECS < HI
within() { awk -v s="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(s >= lo && s < hi) }'; }

# --- a Ctrl-C the command ignores ------------------------------------------------------------------------
# sigterm_after_grace MODE NAME: a command ignoring SIGINT is sent SIGTERM 2 s after the Ctrl-C (exit 143), the
# note says so, and the profile is written.
sigterm_after_grace() {
	local mode=$1 name=$2
	ctrl_c "$mode" "$name" "trap '' INT; while :; do :; done"
	if [ "$(cat "$name.st")" = 143 ] && within "$(cat "$name.secs")" 1.9 3.9 &&
		grep -q "did not stop within 2 s of SIGINT: sent it SIGTERM$" "$name.err" && [ -s "$name.pb.gz" ]; then
		t_pass "$mode: SIGINT ignored: SIGTERM after 2 s (exit 143, $(cat "$name.secs") s), said, profile written"
	else
		t_fail "$mode: SIGINT ignored: SIGTERM after 2 s" "exit $(cat "$name.st") after $(cat "$name.secs") s: $(cat "$name.err")"
	fi
}
sigterm_after_grace cpu int
ctrl_c cpu kill "trap '' INT TERM; while :; do :; done"
if [ "$(cat kill.st)" = 137 ] && within "$(cat kill.secs)" 3.9 5.9 &&
	grep -q "sent it SIGTERM, then SIGKILL 2 s later" kill.err; then
	t_pass "cpu: SIGINT and SIGTERM ignored: SIGKILL 2 s later (exit 137, $(cat kill.secs) s)"
else
	t_fail "cpu: SIGINT and SIGTERM ignored: SIGKILL 2 s later" "exit $(cat kill.st) after $(cat kill.secs) s: $(cat kill.err)"
fi
if [ -f "$LIB" ]; then
	sigterm_after_grace mem memint
	# A Ctrl-C the command obeys ends it at once, without a note.
	ctrl_c mem memok "sleep 30"
	if [ "$(cat memok.st)" = 130 ] && within "$(cat memok.secs)" 0 1.5 && ! grep -q 'SIGTERM' memok.err; then
		t_pass "mem: Ctrl-C ends a command that obeys it (exit 130, $(cat memok.secs) s)"
	else
		t_fail "mem: Ctrl-C ends a command that obeys it" "exit $(cat memok.st) after $(cat memok.secs) s: $(cat memok.err)"
	fi
fi

# --- ignored signals stay ignored in the command ------------------------------------------------------------
# SigIgn's bit 0 is SIGHUP: nohup and `trap '' HUP` set it, and the command must inherit it through kiln.
sighup_ignored() { local v; v=$(awk '/^SigIgn/ { print $2 }' "$1"); [ -n "$v" ] && [ $((0x$v & 1)) = 1 ]; }
for mode in cpu mem; do
	[ $mode = mem ] && [ ! -f "$LIB" ] && continue
	(trap '' HUP; "$KILN" profile --mode $mode -q -o hup.pb.gz sh -c 'cat /proc/$$/status' >hup-$mode.out 2>&1)
	if sighup_ignored hup-$mode.out; then t_pass "$mode: trap '' HUP stays ignored in the command"
	else t_fail "$mode: trap '' HUP stays ignored in the command" "$(grep SigIgn hup-$mode.out)"; fi
	nohup "$KILN" profile --mode $mode -q -o hup.pb.gz sh -c 'cat /proc/$$/status' >nohup-$mode.out 2>&1 </dev/null
	if sighup_ignored nohup-$mode.out; then t_pass "$mode: nohup's SIGHUP stays ignored in the command"
	else t_fail "$mode: nohup's SIGHUP stays ignored in the command" "$(grep SigIgn nohup-$mode.out)"; fi
done

# --- SIGTERM sent to kiln alone reaches the command; a second one ends the run at once --------------------
if [ -f "$LIB" ]; then
	"$KILN" profile --mode mem -o term.pb.gz sleep 30 2>term.err &
	pid=$!
	sleep 0.5
	t0=$(now)
	kill -TERM $pid
	wait $pid
	st=$?
	secs=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f\n", b - a }')
	if [ $st = 143 ] && within "$secs" 0 1.5 && [ -s term.pb.gz ]; then
		t_pass "mem: SIGTERM to kiln is passed on (exit 143 in $secs s)"
	else
		t_fail "mem: SIGTERM to kiln is passed on" "exit $st after $secs s: $(cat term.err)"
	fi
	"$KILN" profile --mode mem -o twice.pb.gz sh -c "trap '' TERM; echo \$\$ >twice.pid; exec sleep 30" 2>twice.err &
	pid=$!
	sleep 0.5
	kill -TERM $pid
	sleep 0.3
	kill -TERM $pid
	wait $pid
	st=$?
	child=$(cat twice.pid)
	if [ $st = 143 ] && kill -0 "$child" 2>/dev/null && grep -q "stopped by a second signal, the command still runs" twice.err; then
		t_pass "mem: a second signal ends the run at once, the command still runs"
	else
		t_fail "mem: a second signal ends the run at once" "exit $st: $(cat twice.err)"
	fi
	[ -n "$child" ] && kill -KILL "$child" 2>/dev/null
fi

# --- -d with a command: the start is recorded, the command runs on ------------------------------------------
t0=$(now)
"$KILN" profile -d 0.5 -o d.folded -- sh -c 'exec "$0" exit 0 3; ' "$H/prof_exit" >/dev/null 2>d.err
st=$?
secs=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f\n", b - a }')
runs_pid=$(sed -n "s/.*which runs on as process \([0-9]*\)$/\1/p" d.err)
if [ $st = 0 ] && within "$secs" 0.4 2.5 && [ -n "$runs_pid" ] && kill -0 "$runs_pid" 2>/dev/null &&
	grep -q burn d.folded && grep -q "; the command runs on" d.err; then
	t_pass "-d 0.5 with a command: exit 0 after $secs s, the command runs on as $runs_pid"
else
	t_fail "-d 0.5 with a command" "exit $st after $secs s: $(cat d.err)"
fi
[ -n "$runs_pid" ] && kill "$runs_pid" 2>/dev/null
# The recorded share is the first 0.5 s of a busy loop: about 500 samples at 999 Hz, not 3 s worth.
n=$(awk '{ s += $NF } END { print s + 0 }' d.folded)
ms=$(sed -n 's/^kiln: .* samples at 999 Hz in \([0-9.]*\) ms .*/\1/p' d.err)
if [ -n "$ms" ] && within "$ms" 450 800 && [ "$n" -gt 0 ] && [ "$n" -lt 650 ]; then
	t_pass "-d 0.5 records about 0.5 s ($ms ms, $n samples at 999 Hz)"
else
	t_fail "-d 0.5 records about 0.5 s" "'$ms' ms, $n samples: $(head -2 d.err)"
fi

# --- -p -d on a terminal: what is recorded, for how long, how to stop, and a progress line ------------------
sleep 30 &
sp=$!
if command -v script >/dev/null; then
	script -qec "'$KILN' profile -p $sp -d 1.2 -o p.folded" /dev/null >tty.out 2>&1
	if grep -q "^kiln: recording $sp (sleep) for 1.2 s, Ctrl-C to stop" tty.out &&
		grep -q "recording: .*% (.* / 1.2 s)" tty.out; then
		t_pass "-p -d on a terminal: 'recording PID (name) for 1.2 s, Ctrl-C to stop' and a progress line"
	else
		t_fail "-p -d on a terminal: banner and progress line" "$(cat -A tty.out | head -5)"
	fi
else
	t_skip "-p -d on a terminal" "script(1) is not installed"
fi
"$KILN" profile -p $sp -d 0.3 -o p.folded 2>notty.err
if ! grep -q "recording" notty.err; then t_pass "-p -d without a terminal: no banner, no progress line"
else t_fail "-p -d without a terminal: no banner" "$(cat notty.err)"; fi
kill $sp

# --- kiln's output options after the command ----------------------------------------------------------------
"$KILN" profile -q "$H/prof_exit" exit 0 0.1 --flamegraph cpu.svg 2>hint.err
want="kiln: '--flamegraph cpu.svg' went to the command; kiln's options go before it: kiln profile -q --flamegraph cpu.svg $H/prof_exit exit 0 0.1"
if [ ! -e cpu.svg ] && [ "$(cat hint.err)" = "$want" ]; then t_pass "--flamegraph after the command: said in one line"
else t_fail "--flamegraph after the command: said in one line" "$(cat hint.err)"; fi
"$KILN" profile -q -o x.pb.gz -- "$H/prof_exit" exit 0 0.1 -o y.folded --json=r.json 2>hint2.err
if grep -q "^kiln: '-o y.folded --json=r.json' went to the command; kiln's options go before it: kiln profile -q -o x.pb.gz -o y.folded --json=r.json -- " hint2.err; then
	t_pass "-o and --json=FILE after the command (with --): named together"
else
	t_fail "-o and --json=FILE after the command (with --): named together" "$(cat hint2.err)"
fi
# A command that writes the file itself took the option as its own: nothing to say.
"$KILN" profile -q -o x.pb.gz sh -c 'echo x >"$2"' sh --flamegraph own.svg 2>own.err
"$KILN" profile -q -o x.pb.gz sh -c 'echo x >"$2"' sh -o own.txt 2>>own.err
if ! grep -q 'went to the command' own.err && [ -s own.svg ] && [ -s own.txt ]; then t_pass "an option the command used is not named"
else t_fail "an option the command used is not named" "$(cat own.err)"; fi
t_done
