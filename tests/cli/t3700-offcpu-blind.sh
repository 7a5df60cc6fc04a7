#!/bin/bash
# kiln profile --mode offcpu|wall when the kernel runs no program for a thread's switch back in nor for its
# wakeup (it happens under load, while some other task holds the CPU: bench/offcpu-stress.sh). The test knob
# KILN_TEST_OFFCPU_BLIND=1 makes the eBPF programs ignore every switch in and wakeup, so each block is measured
# only when its thread leaves the CPU again, by the thread's own clocks (run time and run-queue delay). The
# waits of tests/helpers/wait_sleep.c are known: sleeper() sleeps 3 x 100 ms, reader() blocks 3 x ~50 ms, the
# feeder thread sleeps 3 x 50 ms; the child is started through `sh -c`, as in t7000's child test.
. "$(dirname "$0")/lib.sh"

H=$KILN_BUILD/tests/helpers
cd "$T_TMP" || exit 1

"$KILN" profile --mode offcpu -q -o probe.pb.gz true 2>probe.err
st=$?
if [ $st -ne 0 ]; then
	if [ $st -eq 125 ] && grep -q 'eBPF' probe.err; then
		t_skip "kiln profile --mode offcpu, blind" "eBPF is not available here: $(head -1 probe.err)"
		exit 0
	fi
	t_fail "offcpu on 'true'" "exit $st: $(head -3 probe.err)"
fi

# sum FOLDED FUNCTION: nanoseconds of the folded stacks that pass through FUNCTION.
sum() { awk -v f="$2" '{ n = $NF; s = $0; sub(/ [0-9]+$/, "", s); k = split(s, a, ";")
	for (i = 1; i <= k; i++) if (a[i] == f) { t += n; break } } END { printf "%d", t }' "$1"; }
within() { awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; print (b > 0 && d <= b * p / 100) }'; }

# Without the switches in, every wait is measured at its thread's next switch out.
KILN_TEST_OFFCPU_BLIND=1 timeout 120 "$KILN" profile --mode offcpu -o blind.folded \
	sh -c "\"$H/wait_sleep\" 100 50; exit 3" 2>blind.err
st=$?
s=$(sum blind.folded sleeper)
m=$(sum blind.folded msleep)
if [ $st -eq 3 ] && [ "$(within "$s" 300000000 15)" = 1 ] && [ "$(within "$m" 150000000 15)" = 1 ]; then
	t_pass "no switch in seen: sleeper ~300 ms, the feeder's msleep ~150 ms"
else
	t_fail "no switch in seen: sleeper ~300 ms, the feeder's msleep ~150 ms" \
		"status $st; sleeper $s ns, msleep $m ns; $(cat blind.err)"
fi
n=$(sed -n 's/^kiln: \([0-9]*\) waits ended where the kernel ran no tracer.*/\1/p' blind.err)
if [ -n "$n" ] && [ "$n" -ge 9 ]; then t_pass "the report counts the waits measured by the threads' clocks ($n)"
else t_fail "the report counts the waits measured by the threads' clocks" "$(cat blind.err)"; fi

# Nothing of it without the knob: the same run counts its waits at their switches in.
timeout 120 "$KILN" profile --mode offcpu -o seen.folded sh -c "\"$H/wait_sleep\" 100 50; exit 3" 2>seen.err
s=$(sum seen.folded sleeper)
n=$(sed -n 's/^kiln: \([0-9]*\) waits ended where the kernel ran no tracer.*/\1/p' seen.err)
if [ "$(within "$s" 300000000 15)" = 1 ] && [ "${n:-0}" -le 2 ]; then
	t_pass "switches in seen: sleeper ~300 ms, (almost) no wait measured by the clocks"
else
	t_fail "switches in seen: sleeper ~300 ms, (almost) no wait measured by the clocks" "sleeper $s ns; $(cat seen.err)"
fi

# Wall-clock: the main thread's time on and off CPU still adds up to its lifetime.
KILN_TEST_OFFCPU_BLIND=1 WAIT_TIMING=1 timeout 120 "$KILN" profile --mode wall -o wall.folded "$H/wait_sleep" 200 100 \
	>/dev/null 2>wall.err
m=$(sum wall.folded main)
life=$(awk '$1 == "wait_sleep:" {print $2}' wall.err)
if [ -n "$life" ] && [ "$(within "$m" "$life" 10)" = 1 ]; then
	t_pass "wall, no switch in seen: the main thread's time adds up to its lifetime"
else
	t_fail "wall, no switch in seen: the main thread's time adds up to its lifetime" \
		"main $m ns, lifetime ${life:-?} ns; $(head -4 wall.err)"
fi
t_done
