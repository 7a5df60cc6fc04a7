#!/bin/bash
# kiln profile --mode offcpu|wall: off-CPU time (eBPF, sched_switch) against a program whose waits are known
# (tests/helpers/wait_sleep.c: sleeper() sleeps 3 x 200 ms, reader() blocks 3 x ~100 ms on a pipe), wall-clock
# profiles, --min-block, --pid, exit statuses and the command line.
. "$(dirname "$0")/lib.sh"

H=$KILN_BUILD/tests/helpers
cd "$T_TMP" || exit 1
oc() { timeout 120 "$KILN" profile --mode offcpu "$@"; }

# --- command line (no eBPF needed) ----------------------------------------------------------------------
t_ok "--help" "$KILN" profile --mode offcpu --help
"$KILN" help profile >help-profile.out 2>&1
"$KILN" profile --mode offcpu --help >help.out
if grep -q 'min-block' help.out && grep -q 'kiln profile --mode offcpu|wall|io' help.out; then t_pass "help page"
else t_fail "help page" "$(head -5 help.out)"; fi
t_fails "nothing to profile" 2 "$KILN" profile --mode offcpu
t_fails "bad --min-block" 2 "$KILN" profile --mode offcpu --min-block -5 true
t_fails "--json is for io" 2 "$KILN" profile --mode offcpu --json x.json true
t_fails "--frequency is for wall" 2 "$KILN" profile --mode offcpu -F 99 true
t_fails "--pid and a command" 2 "$KILN" profile --mode offcpu -p 1 true
t_fails "no such pid" 2 "$KILN" profile --mode offcpu -p 4194303
t_fails "-a without -d" 2 "$KILN" profile --mode offcpu -a
t_fails "unknown mode" 2 "$KILN" profile --mode bogus true
t_fails "bad output format" 2 "$KILN" profile --mode offcpu -o x.unknownext true
t_fails "unknown --language" 2 "$KILN" profile --mode offcpu --language cobol true
t_fails "--language is for offcpu and wall" 2 "$KILN" profile --mode io --language python true

# --- can this machine run eBPF? ---------------------------------------------------------------------------
oc -q -o probe.pb.gz true 2>probe.err
st=$?
if [ $st -ne 0 ]; then
	if [ $st -eq 125 ] && grep -q 'eBPF' probe.err; then
		t_skip "kiln profile --mode offcpu" "eBPF is not available here: $(head -1 probe.err)"
		exit 0
	fi
	t_fail "offcpu on 'true'" "exit $st: $(head -3 probe.err)"
fi
if [ "$(head -1 probe.err | wc -l)" -eq 1 ] && grep -q 'kiln: cannot' probe.err; then
	t_fail "offcpu on 'true' prints no error" "$(cat probe.err)"
fi

# --- truth: each wait attributed to its function, within 10 % ---------------------------------------------
# sum FILE FUNCTION: nanoseconds of the folded stacks that pass through FUNCTION.
# sum FOLDED NAME: the time of the stacks holding function NAME (a Python frame is "NAME (file.py:LINE)")
sum() { awk -v f="$2" '{ n = $NF; s = $0; sub(/ [0-9]+$/, "", s); k = split(s, a, ";")
	for (i = 1; i <= k; i++) if (a[i] == f || index(a[i], f " (") == 1) { t += n; break } }
	END { printf "%d", t }' "$1"; }
within() { awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; print (b > 0 && d <= b * p / 100) }'; }

oc -o sleep.pb.gz --flamegraph sleep.svg "$H/wait_sleep" >/dev/null 2>sleep.err
st=$?
"$KILN" convert sleep.pb.gz -o sleep.folded 2>/dev/null
s=$(sum sleep.folded sleeper)
r=$(sum sleep.folded reader)
if [ $st -eq 0 ] && [ "$(within "$s" 600000000 10)" = 1 ] && [ "$(within "$r" 300000000 10)" = 1 ]; then
	t_pass "sleeper ~600 ms and reader ~300 ms off CPU"
else
	t_fail "sleeper ~600 ms and reader ~300 ms off CPU" "status $st; sleeper $s ns, reader $r ns; $(head -5 sleep.err)"
fi
# The blocking call sits under its caller (the leaf fix: libc wrappers have no frame pointer).
if grep -q ';sleeper;nanosleep;' sleep.folded && grep -q ';reader;read;' sleep.folded; then
	t_pass "libc wrappers under their callers"
else
	t_fail "libc wrappers under their callers" "$(cut -c1-200 sleep.folded)"
fi
if grep -q 'sleeper <- main' sleep.err && grep -q 'reader <- main' sleep.err && grep -q "off-CPU time" sleep.err; then
	t_pass "report names the wait sites"
else
	t_fail "report names the wait sites" "$(cat sleep.err)"
fi
"$KILN" analyze sleep.pb.gz >analyze.out 2>&1
if grep -q 'off_cpu (nanoseconds)' analyze.out; then t_pass "pprof sample type off_cpu/nanoseconds"
else t_fail "pprof sample type off_cpu/nanoseconds" "$(head -3 analyze.out)"; fi
if grep -q 'Off-CPU Time' sleep.svg && grep -q ' ns' sleep.svg; then t_pass "flame graph: title and ns"
else t_fail "flame graph: title and ns" "$(grep -c . sleep.svg) lines"; fi
if ! grep -q 'bpf_prog_\|bpf_trace_run' sleep.folded; then t_pass "no eBPF frames in the stacks"
else t_fail "no eBPF frames in the stacks" "$(grep -o 'bpf_[a-z_0-9]*' sleep.folded | sort -u)"; fi

# --min-block drops the 100 ms waits, keeps the 200 ms ones.
oc -q --min-block 150000 -o minb.folded "$H/wait_sleep" 2>minb.err
s=$(sum minb.folded sleeper)
r=$(sum minb.folded reader)
if [ "$(within "$s" 600000000 10)" = 1 ] && [ "$r" -eq 0 ]; then t_pass "--min-block 150000"
else t_fail "--min-block 150000" "sleeper $s, reader $r; $(cat minb.err)"; fi

# --- wall: on and off CPU add up to the thread's lifetime -----------------------------------------------
# main() runs ~900 ms; the thread also lived through exec and the dynamic loader before it (a few ms). Once in
# a CI run here a busy host left 216 ms of the 930 unaccounted: a miss is measured once more, and a bias in
# kiln fails both times.
for attempt in 1 2; do
	WAIT_TIMING=1 timeout 120 "$KILN" profile --mode wall -o wall.pb.gz "$H/wait_sleep" 200 100 >/dev/null 2>wall.err
	"$KILN" convert wall.pb.gz -o wall.folded 2>/dev/null
	m=$(sum wall.folded main)
	life=$(awk '$1 == "wait_sleep:" {print $2}' wall.err)
	[ -n "$life" ] && [ "$(within "$m" "$life" 10)" = 1 ] && break
	echo "# wall, try $attempt: main $m ns, lifetime $life ns"
done
if [ -n "$life" ] && [ "$(within "$m" "$life" 10)" = 1 ] && grep -q 'wall-clock time' wall.err; then
	t_pass "wall: the main thread's time adds up to its lifetime"
else
	t_fail "wall: the main thread's time adds up to its lifetime" "main $m ns, lifetime $life ns; $(head -3 wall.err)"
fi
"$KILN" analyze wall.pb.gz >wall-analyze.out 2>&1
if grep -q 'wall (nanoseconds)' wall-analyze.out; then t_pass "pprof sample type wall/nanoseconds"
else t_fail "pprof sample type wall/nanoseconds" "$(head -3 wall-analyze.out)"; fi

# --- --pid: attach to a running process -------------------------------------------------------------------
"$H/wait_sleep" 300 100 &
bg=$!
sleep 0.1
oc -q -p $bg -o pid.folded 2>pid.err
st=$?
wait $bg
s=$(sum pid.folded sleeper)
if [ $st -eq 0 ] && [ "$s" -gt 300000000 ]; then t_pass "--pid until the process exits"
else t_fail "--pid until the process exits" "status $st, sleeper $s; $(cat pid.err)"; fi

# --- children and exit statuses -------------------------------------------------------------------------
# Three runs in a row (bench/offcpu-stress.sh runs it 20 times beside a build): each wait of the child counts.
for run in 1 2 3; do
	oc -q -o child.folded sh -c "\"$H/wait_sleep\" 100 50; exit 3" 2>child.err
	st=$?
	s=$(sum child.folded sleeper)
	[ $st -eq 3 ] && [ "$(within "$s" 300000000 15)" = 1 ] || break
done
if [ $st -eq 3 ] && [ "$(within "$s" 300000000 15)" = 1 ]; then t_pass "forked children followed, exit status 3 (3 runs)"
else t_fail "forked children followed, exit status 3 (3 runs)" "run $run: status $st, sleeper $s; $(cat child.err)"; fi
t_fails "command not found: 127" 127 "$KILN" profile --mode offcpu -q -o nf.pb.gz ./no-such-command
if [ ! -e nf.pb.gz ]; then t_pass "no output for a command that never ran"; else t_fail "no output for a command that never ran"; fi

# --- code without frame pointers: stacks recovered by DWARF unwinding of the copied stack top --------------
SRC=$(dirname "$T_DIR")/../helpers/wait_sleep.c
if command -v cc >/dev/null && cc -O2 -g -fomit-frame-pointer -o nofp "$SRC" -lpthread 2>/dev/null; then
	oc -q -o nofp.folded ./nofp 2>nofp.err
	s=$(sum nofp.folded sleeper)
	r=$(sum nofp.folded reader)
	if [ "$(within "$s" 600000000 10)" = 1 ] && [ "$(within "$r" 300000000 10)" = 1 ] &&
		grep -q ';main;sleeper;' nofp.folded; then
		t_pass "-fomit-frame-pointer: waits still attributed to their functions"
	else
		t_fail "-fomit-frame-pointer: waits still attributed to their functions" "sleeper $s, reader $r; \
$(cut -c1-160 nofp.folded)"
	fi
else
	t_skip "-fomit-frame-pointer" "no C compiler to build the test program"
fi

# --- Python: waits under the Python functions that blocked (their stacks read while they wait) ----------------
# py_waits.py sleeps in sleeper() (time.sleep) and blocks in pipe_reader() (os.read; a forked child spinning on
# the CPU writes after a delay), and prints what each took.
PY=/usr/bin/python3.11
[ -x "$PY" ] || PY=$(command -v python3.11)
if [ -z "$PY" ] || ! "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
	t_skip "python waits" "no python3.11 (apt-get install python3.11)"
	exit 0
fi
# share A B: 100 * A / B with one decimal.
share() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0) ? 100 * a / b : 0 }'; }
# pycheck MODE: kiln's sleeper and pipe_reader time against the script's, their shares, and (offcpu) the part of
# all off-CPU time they hold.
pycheck() {
	local mode=$1 st s r all ws wr sk ss
	timeout 120 "$KILN" profile --mode "$mode" -o py-$mode.pb.gz -- "$PY" "$T_DIR/py_waits.py" 0.3 0.2 \
		>py-$mode.out 2>py-$mode.err
	st=$?
	"$KILN" convert py-$mode.pb.gz -o py-$mode.folded 2>/dev/null
	s=$(sum py-$mode.folded sleeper); r=$(sum py-$mode.folded pipe_reader)
	all=$(awk '{ t += $NF } END { printf "%d", t }' py-$mode.folded)
	ws=$(awk '$1 == "sleeper" { print $2 }' py-$mode.out); wr=$(awk '$1 == "pipe_reader" { print $2 }' py-$mode.out)
	sk=$(share "$s" $((s + r))); ss=$(share "${ws:-0}" $((${ws:-0} + ${wr:-0})))
	# wall: within 5 % of the script's times. offcpu leaves out the time a woken thread waits for a CPU, which
	# the script's times include: up to 1 ms over them, and not under 85 % on a loaded machine.
	if [ $st -eq 0 ] && [ -n "$ws" ] && awk -v s="$s" -v r="$r" -v ws="$ws" -v wr="$wr" -v m="$mode" 'BEGIN {
		if (m == "wall") exit !(s >= ws * 0.95 && s <= ws * 1.05 && r >= wr * 0.95 && r <= wr * 1.05)
		exit !(s >= ws * 0.85 && s <= ws + 1e6 && r >= wr * 0.85 && r <= wr + 1e6) }' &&
		awk -v a="$sk" -v b="$ss" 'BEGIN { d = a - b; exit !(d <= 4 && d >= -4) }'; then
		t_pass "$mode, python: sleeper and pipe_reader as the script timed them (share $sk %, script $ss %)"
	else
		t_fail "$mode, python: sleeper and pipe_reader as the script timed them" "status $st; kiln sleeper $s ns, \
pipe_reader $r ns (share $sk %); script $(tr '\n' ' ' <py-$mode.out) (share $ss %); $(head -8 py-$mode.err)"
	fi
	if [ "$mode" = offcpu ]; then
		if [ "$(share $((s + r)) "$all" | cut -d. -f1)" -ge 90 ]; then
			t_pass "offcpu, python: $(share $((s + r)) "$all") % of the off-CPU time under the two functions"
		else
			t_fail "offcpu, python: >= 90 % of the off-CPU time under the two functions" \
				"$(share $((s + r)) "$all") %; $(sort -t' ' -k2 -rn py-$mode.folded | cut -c1-200 | head -5)"
		fi
	fi
	if grep -Eq "^[0-9.]+ ms +[0-9.]+% +[0-9]+  sleeper \(.*py_waits\.py:[0-9]+\) <- main" py-$mode.err &&
		grep -Eq "  pipe_reader \(.*py_waits\.py:[0-9]+\) <- main .*\[read\]" py-$mode.err; then
		t_pass "$mode, python: the wait sites name the Python functions with their file"
	else
		t_fail "$mode, python: the wait sites name the Python functions with their file" "$(cat py-$mode.err)"
	fi
}
pycheck offcpu
pycheck wall
# The interpreter's evaluator is replaced by the Python frames it runs, as in CPU profiles.
if grep -q '<module> (py_waits.py:1);main (py_waits.py:[0-9]*);sleeper (py_waits.py:[0-9]*);' py-wall.folded &&
	! grep ';sleeper (' py-wall.folded | grep -q _PyEval_EvalFrameDefault
then
	t_pass "wall, python: <module>;main;sleeper, no evaluator frames in the waits"
else
	t_fail "wall, python: <module>;main;sleeper, no evaluator frames in the waits" \
		"$(grep sleeper py-wall.folded | cut -c1-300)"
fi
# kiln analyze credits a wait to its wait site (docs/analyze.md): the two Python functions are the top hotspots of
# both profiles, sleeper's inclusive time is the folded stacks' and nearly all of it is its own (in wall mode a
# few CPU samples of time.sleep's C code sit under it), and the scheduler every wait ends in is no hotspot.
for mode in offcpu wall; do
	"$KILN" analyze py-$mode.pb.gz --json >py-analyze-$mode.json 2>&1
	json_check "$mode, python: analyze names sleeper and pipe_reader the top hotspots, not __schedule" \
		py-analyze-$mode.json "[h['function'].split(' (')[0] for h in d['hotspots'][:2]]==['sleeper','pipe_reader'] and \
not any(h['function']=='__schedule' and h['self_pct']>=5 for h in d['hotspots']) and \
abs(d['hotspots'][0]['total'] - $(sum py-$mode.folded sleeper)) <= 0.01 * d['hotspots'][0]['total'] and \
d['hotspots'][0]['self'] >= 0.9 * d['hotspots'][0]['total']"
done
# --language native: no reads, the waits keep their native stacks (the interpreter's C frames).
timeout 120 "$KILN" profile --mode offcpu --language native -o py-native.folded -- "$PY" "$T_DIR/py_waits.py" 0.1 0.1 \
	>/dev/null 2>py-native.err
if [ -s py-native.folded ] && ! grep -q ';sleeper;' py-native.folded && ! grep -q 'Python stacks read' py-native.err; then
	t_pass "offcpu --language native: no Python frames"
else
	t_fail "offcpu --language native: no Python frames" "$(grep sleeper py-native.folded | cut -c1-200; cat py-native.err)"
fi
