#!/bin/bash
# Runtimes that would come out unnamed say how to get names: attaching to Node.js without a perf map or to Java
# without -XX:+PreserveFramePointer, a Python kiln cannot read (3.10), and a --language that contradicts the
# program (an error before running when the program is another runtime, a warning when no frame of the asked
# runtime was sampled).
. "$(dirname "$0")/lib.sh"

H=$KILN_BUILD/tests/helpers
D=$KILN_ROOT/tests/cli/t8000-runtimes.d
cd "$T_TMP" || exit 1

if ! "$KILN" profile -q -o probe.pb.gz -- true 2>probe.err; then
	t_skip "runtime hints" "cannot sample here: $(head -1 probe.err)"
	exit 0
fi

# Waits until process $1 has a thread running for $2 seconds of CPU at least (the runtime is up), at most 20 s.
wait_cpu() {
	local i t
	for i in $(seq 200); do
		t=$(awk '{ print ($14 + $15) / 100 }' "/proc/$1/stat" 2>/dev/null)
		[ -n "$t" ] && awk -v t="$t" -v w="$2" 'BEGIN { exit !(t >= w) }' && return 0
		sleep 0.1
	done
	return 1
}

# --- --language against the program ----------------------------------------------------------------------
if command -v python3 >/dev/null; then
	t_fails "--language go on a Python program: error naming Python" 2 \
		"$KILN" profile -q --language go -o x.pb.gz -- python3 "$D/hot.py" 0.2
	grep -q "does not fit 'python3': it is Python" "$T_TMP/fails.err" || t_fail "--language go: names Python" \
		"$(cat "$T_TMP/fails.err")"
fi
"$KILN" profile -q --language python -o native.folded -- "$H/prof_shares" 0.3 >/dev/null 2>native.err
st=$?
if [ $st -eq 0 ] && grep -q "warning: --language python, but the profile has no Python frames: .*prof_shares' is native code" \
	native.err && grep -q 'work_a' native.folded; then
	t_pass "--language python on a native program: profile written, warning names native code"
else
	t_fail "--language python on a native program" "exit $st: $(cat native.err)"
fi
"$KILN" profile -q -o auto.folded -- "$H/prof_shares" 0.2 >/dev/null 2>auto.err
grep -q 'language' auto.err && t_fail "no language warning without --language" "$(cat auto.err)" ||
	t_pass "no language warning without --language"

# --- Node.js ------------------------------------------------------------------------------------------------
if ! command -v node >/dev/null; then
	t_skip "node hints" "no node"
else
	t_fails "--language python on a Node.js program: error naming Node.js" 2 \
		"$KILN" profile -q --language python -o x.pb.gz -- node "$D/hot.js" 0.2
	grep -q "it is Node.js" "$T_TMP/fails.err" || t_fail "--language python: names Node.js" "$(cat "$T_TMP/fails.err")"
	# A wrapper that starts node is not refused: the detection cannot see through it.
	"$KILN" profile -q --language node -o wrapped.folded -- sh -c "node '$D/hot.js' 0.6 >/dev/null" 2>wrapped.err
	st=$?
	[ $st -eq 0 ] && grep -q 'hotSqrt (hot.js' wrapped.folded && t_pass "--language node through sh -c: named" ||
		t_fail "--language node through sh -c: named" "exit $st: $(cat wrapped.err)"

	node "$D/hot.js" 6 >/dev/null &
	np=$!
	wait_cpu $np 0.3
	t_fails "--language python --pid of a Node.js process: error" 2 \
		"$KILN" profile -q --language python -p $np -d 0.2 -o x.pb.gz
	"$KILN" profile -q -p $np -d 1 -o plain.folded >/dev/null 2>plain.err
	kill $np 2>/dev/null
	wait $np 2>/dev/null
	if grep -q "Node.js process $np writes no perf map.*node --perf-basic-prof.*kiln profile node app.js" plain.err &&
		! grep -q 'hotSqrt' plain.folded; then
		t_pass "attached Node.js without a perf map: unnamed, and the hint says how to get names"
	else
		t_fail "attached Node.js without a perf map: the hint" "$(cat plain.err; grep -c hotSqrt plain.folded)"
	fi
	node --perf-basic-prof "$D/hot.js" 6 >/dev/null &
	np=$!
	wait_cpu $np 0.3
	"$KILN" profile -q -p $np -d 1 -o mapped.folded >/dev/null 2>mapped.err
	kill $np 2>/dev/null
	wait $np 2>/dev/null
	rm -f "/tmp/perf-$np.map"
	if ! grep -q 'perf map' mapped.err && grep -q 'hotSqrt (hot.js' mapped.folded; then
		t_pass "attached Node.js with --perf-basic-prof: named, no hint"
	else
		t_fail "attached Node.js with --perf-basic-prof" "$(cat mapped.err)"
	fi
fi

# --- Java -----------------------------------------------------------------------------------------------------
if ! command -v javac >/dev/null || ! command -v java >/dev/null; then
	t_skip "java hints" "no JDK"
else
	mkdir -p jclasses && javac -d jclasses "$D/Hot.java" 2>javac.err
	java -cp jclasses Hot 8 >/dev/null &
	jp=$!
	wait_cpu $jp 1.5
	"$KILN" profile -q -p $jp -d 1 -o jplain.folded >/dev/null 2>jplain.err
	kill $jp 2>/dev/null
	wait $jp 2>/dev/null
	grep -q "Java process $jp runs without -XX:+PreserveFramePointer.*start it with -XX:+PreserveFramePointer" jplain.err &&
		t_pass "attached Java without -XX:+PreserveFramePointer: the hint" ||
		t_fail "attached Java without -XX:+PreserveFramePointer: the hint" "$(cat jplain.err javac.err)"
	java -XX:+PreserveFramePointer -cp jclasses Hot 8 >/dev/null &
	jp=$!
	wait_cpu $jp 1.5
	"$KILN" profile -q -p $jp -d 1 -o jfp.folded >/dev/null 2>jfp.err
	kill $jp 2>/dev/null
	wait $jp 2>/dev/null
	! grep -q 'PreserveFramePointer' jfp.err && grep -q 'Hot\.hot' jfp.folded &&
		t_pass "attached Java with -XX:+PreserveFramePointer: named, no hint" ||
		t_fail "attached Java with -XX:+PreserveFramePointer" "$(cat jfp.err)"
fi

# --- Python 3.10 -------------------------------------------------------------------------------------------------
py310=$(ls -d /usr/bin/python3.10 /usr/local/bin/python3.10 "$HOME"/.pyenv/versions/3.10*/bin/python3.10 2>/dev/null | head -1)
if [ -z "$py310" ]; then
	t_skip "python 3.10 hint" "no Python 3.10 (/usr/bin, /usr/local/bin or pyenv)"
else
	"$KILN" profile -q -o py310.folded -- "$py310" "$D/hot.py" 0.3 >/dev/null 2>py310.err
	if grep -q "cannot read the frames of Python 3.10 .*-X perf came with 3.12.*Python 3.11 or newer" py310.err &&
		! grep -q 'others are named with -X perf' py310.err; then
		t_pass "Python 3.10: the note names what exists (-X perf came with 3.12)"
	else
		t_fail "Python 3.10: the note" "$(cat py310.err)"
	fi
fi
t_done
