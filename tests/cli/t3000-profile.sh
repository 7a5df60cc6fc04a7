#!/bin/bash
# kiln profile: the live cpu-clock sampler against programs whose truth is known (tests/helpers/prof_*.c),
# exit statuses, signals, attach, DWARF unwinding, separate debug info, inlined frames and perf.data input.
. "$(dirname "$0")/lib.sh"

H=$KILN_BUILD/tests/helpers
cd "$T_TMP" || exit 1

if ! "$KILN" profile -q -o probe.pb.gz -- true 2>probe.err; then
	t_skip "kiln profile" "cannot sample here: $(head -1 probe.err)"
	exit 0
fi

# --- command line ---------------------------------------------------------------------------------------
t_ok "--help" "$KILN" profile --help
"$KILN" profile --help >help1.out; "$KILN" help profile >help2.out
t_same "kiln help profile is --help" help1.out help2.out
t_fails "nothing to profile" 2 "$KILN" profile
t_fails "bad frequency" 2 "$KILN" profile -F 0 true
t_fails "bad --call-graph" 2 "$KILN" profile -g lbr true
t_fails "unknown output extension" 2 "$KILN" profile -o out.xyz true
t_fails "--pid with a command" 2 "$KILN" profile -p 1 true
t_fails "bad --pid" 2 "$KILN" profile -p 12x
t_fails "no such process" 2 "$KILN" profile -p 4194303 -d 1
t_fails "command not found" 127 "$KILN" profile -q -o x.pb.gz ./no-such-command
cp "$H/prof_exit" noexec && chmod -x noexec
t_fails "command not executable" 126 "$KILN" profile -q -o x.pb.gz ./noexec

# --- exit statuses mirror the command; the profile is written anyway -----------------------------------
"$KILN" profile -q -o exit3.folded "$H/prof_exit" exit 3 0.2 2>/dev/null
st=$?
if [ $st -eq 3 ] && grep -q 'burn' exit3.folded; then t_pass "exit status 3 mirrored, profile written"
else t_fail "exit status 3 mirrored, profile written" "status $st: $(head -3 exit3.folded)"; fi
"$KILN" profile -q -o sig.folded "$H/prof_exit" signal 15 0.2 2>/dev/null
st=$?
[ $st -eq 143 ] && t_pass "signal death gives 128+N" || t_fail "signal death gives 128+N" "status $st"
"$KILN" profile -q -o crash.pb.gz --flamegraph crash.svg "$H/prof_exit" crash 0 0.3 2>/dev/null
st=$?
"$KILN" convert crash.pb.gz -o crash.folded 2>/dev/null
if [ $st -eq 139 ] && grep -q 'burn' crash.folded && grep -q 'burn' crash.svg; then
	t_pass "crashing command: 139 and a complete profile + flame graph"
else
	t_fail "crashing command: 139 and a complete profile + flame graph" "status $st"
fi

# SIGTERM to kiln: passed on to the command, recording stops, output written completely.
"$KILN" profile -q -o term.pb.gz "$H/prof_exit" forever 2>/dev/null &
kp=$!
sleep 1
kill -TERM $kp
wait $kp
st=$?
"$KILN" convert term.pb.gz -o term.folded 2>/dev/null
if [ $st -eq 143 ] && grep -q 'burn' term.folded && [ ! -e term.pb.gz.tmp ] && ! ls .*tmp* >/dev/null 2>&1; then
	t_pass "SIGTERM: forwarded, profile written"
else
	t_fail "SIGTERM: forwarded, profile written" "status $st; $(ls -a)"
fi

# Default output file, report on stderr.
mkdir -p defdir
(cd defdir && "$KILN" profile "$H/prof_exit" exit 0 0.2 >/dev/null 2>report.err)
if [ -s defdir/profile.pb.gz ] && grep -q "samples at 999 Hz" defdir/report.err && grep -q "Top functions by self" \
	defdir/report.err && grep -q "wrote 'profile.pb.gz' (pprof)" defdir/report.err; then
	t_pass "default output profile.pb.gz and the report"
else
	t_fail "default output profile.pb.gz and the report" "$(cat defdir/report.err)"
fi

# --- truth: self-time shares within 3 percentage points ---------------------------------------------------
"$KILN" profile -q -o shares.folded "$H/prof_shares" 1.5 50 30 20 >truth.out 2>shares.err
bad=""
for f in work_a work_b work_c; do
	want=$(awk -v f=$f '$1 == "share" && $2 == f {print $3}' truth.out)
	got=$(awk -v f=$f '{ n = $NF; t += n; sub(/ [0-9]+$/, ""); k = split($0, a, ";"); if (a[k] == f) s += n }
		END { if (t) printf "%.2f", 100 * s / t }' shares.folded)
	ok=$(awk -v a="$want" -v b="$got" 'BEGIN { d = a - b; if (d < 0) d = -d; print (a != "" && b != "" && d <= 3) }')
	[ "$ok" = 1 ] || bad="$bad $f: truth $want%, kiln $got%;"
done
[ -z "$bad" ] && t_pass "self-time shares within 3 points of the truth" || t_fail "self-time shares" "$bad"

# --- threads, fork and exec: symbols and pid/tid/comm labels ----------------------------------------------
"$KILN" profile -q -o threads.pb.gz --flamegraph threads.svg "$H/prof_threads" 0.25 >threads.out 2>/dev/null
"$KILN" convert threads.pb.gz -o threads.folded 2>/dev/null
miss=""
for f in thread_alpha thread_beta child_gamma exec_delta; do
	grep -q "main;.*$f\|start_thread;run;$f" threads.folded || miss="$miss $f"
done
[ -z "$miss" ] && t_pass "threads, fork and exec'd binary symbolized" || t_fail "threads/fork/exec" "missing:$miss"
if command -v go >/dev/null 2>&1 && go tool pprof -traces threads.pb.gz >traces.out 2>/dev/null; then
	# Each trace block: labels, then frames. Check each function's block carries the right pid/tid/comm.
	check_labels() { # FUNC COMM PID [TID]
		awk -v f="$1" -v c="$2" -v p="$3" -v t="${4:-}" '
			/^-----/ { if (hit && comm == c && pid == p && (t == "" || tid == t)) ok = 1; hit = 0; next }
			$1 == "comm:" { comm = $2 } $1 == "pid:" { pid = $2 } $1 == "tid:" { tid = $2 }
			$NF == f { hit = 1 }
			END { if (hit && comm == c && pid == p && (t == "" || tid == t)) ok = 1; exit !ok }' traces.out
	}
	ppid=$(awk '$1 == "pid" && $2 == "parent" {print $3}' threads.out)
	cpid=$(awk '$1 == "pid" && $2 == "child" {print $3}' threads.out)
	epid=$(awk '$1 == "pid" && $2 == "exec" {print $3}' threads.out)
	ta=$(awk '$1 == "tid" && $2 == "alpha" {print $3}' threads.out)
	tb=$(awk '$1 == "tid" && $2 == "beta" {print $3}' threads.out)
	if check_labels thread_alpha alpha "$ppid" "$ta" && check_labels thread_beta beta "$ppid" "$tb" &&
		check_labels child_gamma prof_threads "$cpid" "$cpid" && check_labels exec_delta prof_exec2 "$epid" "$epid"; then
		t_pass "pid/tid/comm labels of threads, fork and exec"
	else
		t_fail "pid/tid/comm labels of threads, fork and exec" "$(cat threads.out; head -40 traces.out)"
	fi
	# pprof takes the first mapping for the main binary: the program, not libc (which holds _start's callers).
	if head -3 traces.out | grep -q '^File: prof_threads$'; then t_pass "pprof names the program as the main binary"
	else t_fail "pprof names the program as the main binary" "$(head -3 traces.out)"; fi
else
	t_skip "pid/tid/comm labels" "go tool pprof is not available to read the labels"
fi

# --- attach --------------------------------------------------------------------------------------------
"$H/prof_exit" forever >/dev/null 2>&1 &
tp=$!
sleep 0.2
"$KILN" profile -q -p $tp -d 0.7 -o attach.folded 2>attach.err
st=$?
kill $tp; wait $tp 2>/dev/null
[ $st -eq 0 ] && grep -q 'main;burn' attach.folded && t_pass "attach -p -d" ||
	t_fail "attach -p -d" "status $st: $(cat attach.err)"

"$H/prof_exit" exit 0 0.6 >/dev/null 2>&1 &
tp=$!
sleep 0.1
start=$(date +%s%N)
"$KILN" profile -q -p $tp -d 30 -o attach2.folded 2>attach2.err
st=$?
el=$((($(date +%s%N) - start) / 1000000))
wait $tp 2>/dev/null
[ $st -eq 0 ] && [ $el -lt 5000 ] && grep -q 'burn' attach2.folded && t_pass "attach: target exits mid-way" ||
	t_fail "attach: target exits mid-way" "status $st after ${el} ms: $(cat attach2.err)"

"$H/prof_threads" 0.2 0.5 >late.out 2>&1 &
tp=$!
sleep 0.1
"$KILN" profile -q -p $tp -F 999 -o late.folded 2>late.err
wait $tp 2>/dev/null
miss=""
for f in thread_alpha thread_beta child_gamma exec_delta; do grep -q "$f" late.folded || miss="$miss $f"; done
[ -z "$miss" ] && t_pass "attach: threads, fork and exec after attaching" ||
	t_fail "attach: threads, fork and exec after attaching" "missing:$miss $(cat late.err)"

# Ctrl-C (SIGINT) ends an attach recording: exit 0, profile written, target untouched.
"$H/prof_exit" forever >/dev/null 2>&1 &
tp=$!
"$KILN" profile -q -p $tp -o attach-int.folded 2>attach-int.err &
kp=$!
sleep 0.8
kill -INT $kp
wait $kp
st=$?
alive=0
kill -0 $tp 2>/dev/null && alive=1
kill $tp; wait $tp 2>/dev/null
[ $st -eq 0 ] && [ $alive = 1 ] && grep -q 'burn' attach-int.folded && t_pass "attach: SIGINT writes the profile" ||
	t_fail "attach: SIGINT writes the profile" "status $st, target alive $alive: $(cat attach-int.err)"

t_ok "system-wide -a -d" "$KILN" profile -q -a -d 0.3 -o system.folded

# --- DWARF unwinding of code without frame pointers ---------------------------------------------------------
if command -v cc >/dev/null 2>&1 && cc -O1 -g -fomit-frame-pointer -o nofp "$KILN_ROOT/tests/helpers/prof_shares.c"; then
	"$KILN" profile -q -g dwarf -o nofp.folded ./nofp 0.8 >/dev/null 2>nofp.err
	pct=$(awk '{ n = $NF; t += n; if ($0 ~ /(^|;)main;/) m += n } END { if (t) printf "%d", 100 * m / t }' nofp.folded)
	[ "${pct:-0}" -ge 95 ] && t_pass "-g dwarf: main under >= 95% of samples ($pct%)" ||
		t_fail "-g dwarf: main under >= 95% of samples" "got ${pct:-0}%: $(cat nofp.err)"
	# Three levels deep: -g fp names a frameless function's caller from the CFI (t3200), not the levels above.
	cc -O1 -g -fomit-frame-pointer -o nofp3 "$KILN_ROOT/tests/helpers/prof_leaf.c"
	"$KILN" profile -q -o nofp-fp.folded ./nofp3 0.3 >/dev/null 2>nofp-fp.err
	grep -q "try --call-graph dwarf" nofp-fp.err && t_pass "broken frame-pointer stacks are reported" ||
		t_fail "broken frame-pointer stacks are reported" "$(cat nofp-fp.err)"
else
	t_skip "-g dwarf" "no C compiler"
fi
"$KILN" profile -q -o fp-ok.folded "$H/prof_exit" exit 0 0.3 2>fp-ok.err
grep -q "warning" fp-ok.err && t_fail "no frame-pointer warning for good stacks" "$(cat fp-ok.err)" ||
	t_pass "no frame-pointer warning for good stacks"

# --- stripped binary with its debug info under a .build-id directory -----------------------------------------
if command -v cc >/dev/null 2>&1 && command -v objcopy >/dev/null 2>&1 && command -v strip >/dev/null 2>&1 &&
	cc -O1 -g -fno-omit-frame-pointer -Wl,--build-id -o stripped "$KILN_ROOT/tests/helpers/prof_shares.c"; then
	bid=$(readelf -n stripped | awk '/Build ID/ {print $3}')
	mkdir -p "dbg/.build-id/${bid:0:2}"
	objcopy --only-keep-debug stripped "dbg/.build-id/${bid:0:2}/${bid:2}.debug"
	strip --strip-all stripped
	"$KILN" profile -q --debuginfo-dir "$PWD/dbg" -o stripped.folded ./stripped 0.5 >/dev/null 2>stripped.err
	miss=""
	for f in main work_a work_b work_c; do grep -q "$f" stripped.folded || miss="$miss $f"; done
	if [ -z "$miss" ] && ! grep -q 'stripped+0x' stripped.folded; then
		t_pass "stripped binary named from .build-id debug info"
	else
		t_fail "stripped binary named from .build-id debug info" "missing:$miss $(head -3 stripped.folded)"
	fi
else
	t_skip "stripped binary" "no cc/objcopy/strip"
fi

# --- the debug file cache: a compressed debug file is copied uncompressed, by build-id -------------------------
if command -v cc >/dev/null 2>&1 && command -v objcopy >/dev/null 2>&1 && command -v strip >/dev/null 2>&1 &&
	cc -O1 -g -fno-omit-frame-pointer -Wl,--build-id -o zipped "$KILN_ROOT/tests/helpers/prof_shares.c" &&
	zbid=$(readelf -n zipped | awk '/Build ID/ {print $3}') && mkdir -p "zdbg/.build-id/${zbid:0:2}" &&
	objcopy --only-keep-debug --compress-debug-sections=zlib zipped "zdbg/.build-id/${zbid:0:2}/${zbid:2}.debug" &&
	strip --strip-all zipped && readelf -St "zdbg/.build-id/${zbid:0:2}/${zbid:2}.debug" | grep -q COMPRESSED; then
	names() { # FOLDED: the functions kiln named, or what it could not
		local f miss=""
		for f in main work_a work_b work_c; do grep -q "$f" "$1" || miss="$miss $f"; done
		grep -q 'zipped+0x' "$1" && miss="$miss (unnamed frames)"
		echo "$miss"
	}
	copy="$PWD/kcache/debuginfo/$zbid.debug"
	KILN_CACHE_DIR="$PWD/kcache" "$KILN" profile -q --debuginfo-dir "$PWD/zdbg" -o z1.folded ./zipped 0.3 \
		>/dev/null 2>z1.err
	miss=$(names z1.folded)
	if [ -z "$miss" ] && [ -s "$copy" ] && ! readelf -St "$copy" | grep -q COMPRESSED &&
		readelf -n "$copy" | grep -q "$zbid"; then
		t_pass "debug cache: compressed debug file named the functions and was stored uncompressed"
	else
		t_fail "debug cache: compressed debug file stored uncompressed" "missing:$miss; $(ls -la kcache/debuginfo 2>&1)"
	fi
	mv zdbg zdbg.away
	KILN_CACHE_DIR="$PWD/kcache" "$KILN" profile -q --debuginfo-dir "$PWD/zdbg" -o z2.folded ./zipped 0.3 \
		>/dev/null 2>z2.err
	miss=$(names z2.folded)
	[ -z "$miss" ] && t_pass "debug cache: the copy is used by build-id" ||
		t_fail "debug cache: the copy is used by build-id" "missing:$miss $(head -3 z2.folded)"
	mv zdbg.away zdbg
	head -c 4096 /dev/urandom >"$copy"
	KILN_CACHE_DIR="$PWD/kcache" "$KILN" profile -q --debuginfo-dir "$PWD/zdbg" -o z3.folded ./zipped 0.3 \
		>/dev/null 2>z3.err
	miss=$(names z3.folded)
	if [ -z "$miss" ] && readelf -n "$copy" 2>/dev/null | grep -q "$zbid" && [ ! -s z3.err ]; then
		t_pass "debug cache: a damaged copy is not believed, and is made again"
	else
		t_fail "debug cache: a damaged copy is not believed" "missing:$miss $(cat z3.err)"
	fi
	env -u KILN_CACHE_DIR XDG_CACHE_HOME="$PWD/xdg" "$KILN" profile -q --debuginfo-dir "$PWD/zdbg" -o z4.folded \
		./zipped 0.2 >/dev/null 2>&1
	KILN_CACHE_DIR= XDG_CACHE_HOME="$PWD/xdg-off" HOME="$PWD/home-off" "$KILN" profile -q \
		--debuginfo-dir "$PWD/zdbg" -o z5.folded ./zipped 0.2 >/dev/null 2>&1
	if [ -s "xdg/kiln/debuginfo/$zbid.debug" ] && [ ! -e xdg-off ] && [ ! -e home-off ] && [ -z "$(names z5.folded)" ]; then
		t_pass "debug cache: under XDG_CACHE_HOME; KILN_CACHE_DIR= turns it off"
	else
		t_fail "debug cache: XDG_CACHE_HOME and KILN_CACHE_DIR=" "$(find xdg xdg-off home-off 2>&1 | head -5)"
	fi
else
	t_skip "debug cache" "no cc/objcopy/strip with zlib section compression"
fi

# --- inlined functions ------------------------------------------------------------------------------------------
"$KILN" profile -o inline.pb.gz "$H/prof_inline" 0.4 2>inline.err
"$KILN" convert inline.pb.gz -o inline.folded 2>/dev/null
if grep -q 'outer_loop;inl_mix' inline.folded && grep -q 'inl_mix (.*prof_inline.c:[0-9]' inline.err; then
	t_pass "inlined function as a frame"
else
	t_fail "inlined function as a frame" "$(head -3 inline.folded; cat inline.err)"
fi
if command -v go >/dev/null 2>&1 && go tool pprof -top -lines inline.pb.gz >inline.top 2>/dev/null; then
	grep -q 'inl_mix .*prof_inline.c:[0-9]* (inline)' inline.top && t_pass "inlined frame has file:line" ||
		t_fail "inlined frame has file:line" "$(head -12 inline.top)"
else
	t_skip "inlined frame file:line" "go tool pprof is not available"
fi

# --- perf.data read directly ----------------------------------------------------------------------------------
if command -v perf >/dev/null 2>&1 && perf record -q -g -o perf.data "$H/prof_threads" 0.2 >/dev/null 2>perf.err; then
	"$KILN" convert perf.data -o perfdata.folded 2>pd.err
	st=$?
	miss=""
	for f in "alpha;start_thread;run;thread_alpha" "beta;start_thread;run;thread_beta" \
		"prof_threads;__libc_start_call_main;main;child_gamma" "prof_exec2;__libc_start_call_main;main;exec_delta"; do
		grep -q "^$f" perfdata.folded || miss="$miss $f"
	done
	[ $st -eq 0 ] && [ -z "$miss" ] && t_pass "perf.data read directly" ||
		t_fail "perf.data read directly" "status $st, missing:$miss $(cat pd.err; head -5 perfdata.folded)"
	if [ -x nofp ] && perf record -q --call-graph dwarf -o dwarf.data ./nofp 0.4 >/dev/null 2>&1; then
		"$KILN" convert dwarf.data -o dwarf.folded 2>/dev/null
		pct=$(awk '{ n = $NF; t += n; if ($0 ~ /;main;/) m += n } END { if (t) printf "%d", 100 * m / t }' dwarf.folded)
		[ "${pct:-0}" -ge 95 ] && t_pass "perf.data from --call-graph dwarf unwound ($pct% under main)" ||
			t_fail "perf.data from --call-graph dwarf unwound" "${pct:-0}% under main: $(head -3 dwarf.folded)"
	fi
	head -c 3000 perf.data >trunc.data
	t_fails "truncated perf.data" 2 "$KILN" convert trunc.data -o trunc.folded
else
	t_skip "perf.data" "perf record does not work here: $(head -1 perf.err 2>/dev/null)"
fi
t_done
