#!/bin/bash
# kiln profile --language: Python 3.11 frames read from the interpreter (launched and --pid, shares within 5
# points of what the script measures), Node.js and Java JIT names with their perf maps, go test -bench.
. "$(dirname "$0")/lib.sh"

D=$T_DIR
cd "$T_TMP" || exit 1

if ! "$KILN" profile -q -o probe.pb.gz -- true 2>probe.err; then
	t_skip "kiln profile --language" "cannot sample here: $(head -1 probe.err)"
	exit 0
fi

t_fails "unknown --language" 2 "$KILN" profile --language cobol true
"$KILN" profile --help | grep -q -- '--language' && t_pass "--help lists --language" ||
	t_fail "--help lists --language"

# Sum of the samples of folded lines whose stack holds function $2: a frame named $2, or "$2 (FILE:LINE)" as
# Python and JS functions are named (docs/runtimes.md).
samples_of() { awk -v f="$2" '{ line = $0; sub(/ [0-9]+$/, "", line); n = split(line, a, ";")
	for (i = 1; i <= n; i++) if (a[i] == f || index(a[i], f " (") == 1) { s += $NF; break } }
	END { printf "%.0f\n", s }' "$1"; }
# Checks that kiln's share of work_a among work_a + work_b is within 5 points of the script's own.
check_shares() {
	local desc=$1 folded=$2 out=$3
	local a b want got
	a=$(samples_of "$folded" work_a); b=$(samples_of "$folded" work_b)
	want=$(awk '$1 == "work_a" { print $2 }' "$out")
	if [ "$((a + b))" -lt 50 ] || [ -z "$want" ]; then
		t_fail "$desc" "too few samples: work_a $a, work_b $b, script: $(cat "$out")"
		return
	fi
	got=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", 100 * a / (a + b) }')
	if awk -v g="$got" -v w="$want" 'BEGIN { d = g - w; exit !(d <= 5 && d >= -5) }'; then
		t_pass "$desc (kiln $got%, script $want%)"
	else
		t_fail "$desc" "kiln $got% of work_a, the script measured $want%"
	fi
}

# --- Python 3.11 (Debian's interpreter) -------------------------------------------------------------------
PY=/usr/bin/python3.11
[ -x "$PY" ] || PY=$(command -v python3.11)
if [ -z "$PY" ] || ! "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
	t_skip "python 3.11 frames" "no python3.11 (apt-get install python3.11)"
else
	"$KILN" profile -o py.folded "$PY" "$D/hot.py" 3 0.7 >py.out 2>py.err
	st=$?
	[ $st -eq 0 ] && t_pass "python: exit status 0" || t_fail "python: exit status 0" "$st: $(head -3 py.err)"
	check_shares "python: shares of two functions" py.folded py.out
	if grep -Eq "work_a \(.*hot\.py:[0-9]+\)" py.err && grep -Eq "work_b \(.*hot\.py:[0-9]+\)" py.err; then
		t_pass "python: functions reported with file:line"
	else
		t_fail "python: functions reported with file:line" "$(grep -E 'work|main' py.err | head -5)"
	fi
	# The evaluator's frames are replaced by the Python functions they run; a sample whose native stack breaks
	# before the interpreter (one in a few thousand, "[unknown];[unknown];_PyEval_EvalFrameDefault") keeps one.
	evalfr=$(awk '{ n = $NF; t += n; if ($0 ~ /_PyEval_EvalFrameDefault/) e += n } END { printf "%d %d", e, t }' py.folded)
	if grep -Eq '<module> \(hot\.py:1\);main \(hot\.py:[0-9]+\);work_a \(hot\.py:[0-9]+\)' py.folded &&
		[ "${evalfr% *}" -lt $(( ${evalfr#* } / 200 + 1 )) ]; then
		t_pass "python: stacks read <module>;main;work_a, evaluator frames in under 0.5 % of samples"
	else
		t_fail "python: stacks read <module>;main;work_a, evaluator frames in under 0.5 % of samples" \
			"evaluator in $evalfr samples; $(sort -t' ' -k2 -rn py.folded | head -3)"
	fi
	"$KILN" convert py.folded -o py.json >/dev/null 2>&1

	# --pid on a running script. A loaded machine delays the reading of Python stacks (docs/runtimes.md: skew),
	# so a share off by more than 5 points is measured once more; a bias in kiln fails both times.
	for attempt in 1 2; do
		"$PY" "$D/hot.py" 7 0.3 >pid.out 2>/dev/null &
		pypid=$!
		sleep 1
		"$KILN" profile -p $pypid -d 4 -F 299 -o pid.folded 2>pid.err
		st=$?
		wait $pypid
		a=$(samples_of pid.folded work_a); b=$(samples_of pid.folded work_b)
		want=$(awk '$1 == "work_a" { print $2 }' pid.out)
		[ "$((a + b))" -ge 50 ] && [ -n "$want" ] &&
			awk -v a="$a" -v b="$b" -v w="$want" 'BEGIN { d = 100 * a / (a + b) - w; exit !(d <= 5 && d >= -5) }' &&
			break
	done
	[ $st -eq 0 ] && t_pass "python --pid: exit status 0" || t_fail "python --pid: exit status 0" "$(head -3 pid.err)"
	check_shares "python --pid: shares of two functions" pid.folded pid.out
	grep -Eq "work_b \(.*hot\.py:[0-9]+\)" pid.err && t_pass "python --pid: file:line" ||
		t_fail "python --pid: file:line" "$(head -12 pid.err)"

	# A shell that later execs Python in the same process: --language python reads it promptly.
	"$KILN" profile -q --language python -o sh.folded sh -c "sleep 0.3; exec '$PY' '$D/hot.py' 1" >/dev/null 2>&1
	grep -q ';work_a' sh.folded && grep -q ';work_b' sh.folded && t_pass "python behind a shell exec is read" ||
		t_fail "python behind a shell exec is read" "$(sort -t' ' -k2 -rn sh.folded | head -3)"

	# A wrapper script named like the interpreter (pyenv and asdf shims) that execs it: detected in auto mode,
	# and the frames are read from the exec on, not a retry period later.
	mkdir -p shim
	printf '#!/bin/sh\nsleep 0.2\nexec "%s" "$@"\n' "$PY" >shim/python3
	chmod +x shim/python3
	"$KILN" profile -o shim.folded shim/python3 "$D/hot.py" 1.5 >shim.out 2>shim.err
	check_shares "python through a shim (auto): shares of two functions" shim.folded shim.out
	! grep -q 'not detected as Python' shim.err && t_pass "python through a shim: detected at launch" ||
		t_fail "python through a shim: detected at launch" "$(grep -i python shim.err | head -3)"

	# A Python 3.11 built with --enable-shared (pyenv's): the runtime state lives in libpython3.11.so.
	SPY=
	for c in /root/.pyenv/versions/3.11.*/bin/python3.11 /usr/local/bin/python3.11; do
		[ -x "$c" ] && ldd "$c" 2>/dev/null | grep -q libpython3.11 && { SPY=$c; break; }
	done
	if [ -n "$SPY" ]; then
		"$KILN" profile -o spy.folded "$SPY" "$D/hot.py" 1.5 0.3 >spy.out 2>spy.err
		check_shares "python 3.11 with libpython3.11.so: shares of two functions" spy.folded spy.out
	else
		t_skip "python 3.11 with libpython3.11.so" "no such interpreter on this machine"
	fi

	# --language native: no Python frames
	"$KILN" profile -q --language native -o native.folded "$PY" "$D/hot.py" 0.3 >/dev/null 2>&1
	! grep -q 'work_a' native.folded && t_pass "--language native reads no Python frames" ||
		t_fail "--language native reads no Python frames"
fi

# Python 3.12 and 3.13 are read from memory too (with their own offsets), when the machine has them.
for v in 12 13; do
	NPY=
	for c in /usr/bin/python3.$v /root/.pyenv/versions/3.$v.*/bin/python3.$v; do
		[ -x "$c" ] && { NPY=$c; break; }
	done
	if [ -z "$NPY" ]; then
		t_skip "python 3.$v frames" "no python3.$v on this machine"
		continue
	fi
	"$KILN" profile -o py3$v.folded "$NPY" "$D/hot.py" 2 0.7 >py3$v.out 2>py3$v.err
	st=$?
	if [ ! -s py3$v.folded ] || [ ! -s py3$v.out ]; then
		# Once in a CI run here neither the profile nor the script's output appeared (cause not found again
		# in 37 tries): say what kiln said, and run it once more.
		echo "# python 3.$v, first try: kiln exit $st, script output $(wc -c <py3$v.out) bytes: $(tail -3 py3$v.err | tr '\n' ' ')"
		"$KILN" profile -o py3$v.folded "$NPY" "$D/hot.py" 2 0.7 >py3$v.out 2>py3$v.err
	fi
	check_shares "python 3.$v: shares of two functions" py3$v.folded py3$v.out
	! grep -q 'py::' py3$v.folded && t_pass "python 3.$v: no perf trampoline frames" ||
		t_fail "python 3.$v: no perf trampoline frames"
done

# An interpreter kiln cannot read: a warning, native stacks, the run completes.
OLDPY=
for v in /usr/bin/python3.9 /usr/bin/python3.10 /root/.pyenv/versions/3.9*/bin/python3.9; do
	[ -x "$v" ] && { OLDPY=$v; break; }
done
if [ -n "$OLDPY" ]; then
	"$KILN" profile -o old.folded "$OLDPY" "$D/hot.py" 0.3 >/dev/null 2>old.err
	st=$?
	if [ $st -eq 0 ] && grep -q 'cannot read the frames of Python 3\.' old.err && [ -s old.folded ]; then
		t_pass "unsupported Python: one warning, native stacks"
	else
		t_fail "unsupported Python: one warning, native stacks" "$st: $(head -3 old.err)"
	fi
else
	t_skip "unsupported Python" "no python 3.9/3.10 on this machine"
fi

# --- Node.js ----------------------------------------------------------------------------------------------
if ! command -v node >/dev/null; then
	t_skip "node" "no node (apt-get install nodejs)"
else
	"$KILN" profile -o node.pb.gz --flamegraph node.svg node "$D/hot.js" 2 >node.out 2>node.err
	st=$?
	"$KILN" convert node.pb.gz -o node.folded 2>/dev/null
	nodepid=$(awk '{ print $1 }' node.out)
	if [ $st -eq 0 ] && grep -q ';hotSqrt' node.folded && grep -q ';hotMod' node.folded; then
		t_pass "node: both hot functions named"
	else
		t_fail "node: both hot functions named" "$st: $(head -3 node.err)"
	fi
	if grep -Eq "hotSqrt \(.*hot\.js:[0-9]+\)" node.err && grep -Eq "hotMod \(.*hot\.js:[0-9]+\)" node.err; then
		t_pass "node: file:line of the functions"
	else
		t_fail "node: file:line of the functions" "$(grep hot node.err | head -3)"
	fi
	grep -q 'hotSqrt' node.svg && grep -Eq 'hot\.js:[0-9]+' node.svg && t_pass "node: flame graph names them" ||
		t_fail "node: flame graph names them"
	[ -n "$nodepid" ] && [ ! -e "/tmp/perf-$nodepid.map" ] && t_pass "node: the perf map is removed" ||
		t_fail "node: the perf map is removed" "pid '$nodepid'"
fi

# --- Java 17 ----------------------------------------------------------------------------------------------
JAVAC=$(command -v javac)
if [ -z "$JAVAC" ] || ! command -v java >/dev/null; then
	t_skip "java" "no JDK (apt-get install openjdk-17-jdk-headless)"
else
	mkdir -p jclasses && "$JAVAC" -d jclasses "$D/Hot.java" 2>javac.err
	"$KILN" profile -o java.folded java -cp jclasses Hot 2 >java.out 2>java.err
	st=$?
	javapid=$(awk '{ print $1 }' java.out)
	if [ $st -eq 0 ] && grep -q ';Hot\.hot' java.folded; then
		t_pass "java: Hot.hot named"
	else
		t_fail "java: Hot.hot named" "$st: $(head -3 java.err) $(head -3 javac.err)"
	fi
	! grep -q 'Picked up' java.err && t_pass "java: options on the command line, no JVM notice" ||
		t_fail "java: options on the command line, no JVM notice" "$(head -3 java.err)"
	[ -n "$javapid" ] && [ ! -e "/tmp/perf-$javapid.map" ] && t_pass "java: the perf map is removed" ||
		t_fail "java: the perf map is removed" "pid '$javapid'"
fi

# --- Go ---------------------------------------------------------------------------------------------------
if ! command -v go >/dev/null; then
	t_skip "go" "no go (apt-get install golang-go)"
else
	cp -r "$D/gobench" gobench
	before=$(ls -d /tmp/kiln-go-* 2>/dev/null | wc -l)
	(cd gobench && HOME="$T_TMP" GOCACHE="$T_TMP/gocache" GOPATH="$T_TMP/gopath" GOFLAGS=-mod=mod \
		"$KILN" profile --language go -o "$T_TMP/go.folded" go test -bench . -benchtime 1s >"$T_TMP/go.out" \
		2>"$T_TMP/go.err")
	st=$?
	if [ $st -eq 0 ] && grep -q 'kilnhot\.Fib' go.folded && grep -q 'kilnhot\.BenchmarkFib;kilnhot\.Fib' go.folded; then
		t_pass "go test -bench: benchmark functions named"
	else
		t_fail "go test -bench: benchmark functions named" "$st: $(tail -3 go.err)"
	fi
	grep -q 'testing\.(\*B)\.run1[^;]*;.*kilnhot\.BenchmarkFib' go.folded && t_pass "go: under testing.(*B).run1" ||
		t_fail "go: under testing.(*B).run1"
	after=$(ls -d /tmp/kiln-go-* 2>/dev/null | wc -l)
	[ "$after" -le "$before" ] && t_pass "go: the kept test binary is removed" ||
		t_fail "go: the kept test binary is removed"
fi
t_done
