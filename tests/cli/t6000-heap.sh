#!/bin/bash
# kiln profile --mode mem: the heap profiler against programs whose leaks and peak are known
# (tests/helpers/heap_*.c), threads, fork, exec, C++, sampling, suppressions, exit statuses and the
# report from the pprof file (kiln analyze).
. "$(dirname "$0")/lib.sh"

H=$KILN_BUILD/tests/helpers
cd "$T_TMP" || exit 1

if ! command -v python3 >/dev/null; then
	t_skip "kiln profile --mode mem" "python3 is needed to check the JSON reports"
	exit 0
fi
LIB=$KILN_BUILD/libkiln-heap.so
[ -f "$LIB" ] || LIB=$KILN_RELEASE/libkiln-heap.so
if [ ! -f "$LIB" ]; then
	t_skip "kiln profile --mode mem" "libkiln-heap.so is not built"
	exit 0
fi
export KILN_HEAP_LIB=$LIB
# Programs under the heap profiler run without sanitizers of their own; kiln itself may have them.
mem() { timeout 120 "$KILN" profile --mode mem "$@"; }

# json FILE EXPR: evaluates a Python expression over the JSON document `d`; prints the result.
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# check DESC FILE EXPR: passes when the expression is true.
check() {
	local got
	got=$(json "$2" "$3" 2>&1)
	if [ "$got" = "True" ]; then t_pass "$1"; else t_fail "$1" "$3 -> $got"; fi
}

# --- command line ---------------------------------------------------------------------------------------
t_ok "--help" "$KILN" profile --mode mem --help
"$KILN" profile --mode mem --help >help.out
if grep -q 'sample-bytes' help.out && grep -q 'kiln profile --mode mem' help.out; then t_pass "help page"
else t_fail "help page" "$(head -5 help.out)"; fi
t_fails "nothing to profile" 2 "$KILN" profile --mode mem
t_fails "bad --sample-bytes" 2 "$KILN" profile --mode mem --sample-bytes -1 true
t_fails "bad --sample-bytes suffix" 2 "$KILN" profile --mode mem --sample-bytes 12X true
t_fails "bad --depth" 2 "$KILN" profile --mode mem --depth 0 true
t_fails "unknown output extension" 2 "$KILN" profile --mode mem -o out.xyz true
printf 'leak:ok\nnot a suppression\n' >bad.supp
t_fails "bad suppressions file" 2 "$KILN" profile --mode mem --suppressions bad.supp true
t_fails "missing suppressions file" 2 "$KILN" profile --mode mem --suppressions no-such.supp true
t_fails "command not found" 127 "$KILN" profile --mode mem -q -o x.pb.gz ./no-such-command
cp "$H/heap_leaks" noexec && chmod -x noexec
t_fails "command not executable" 126 "$KILN" profile --mode mem -q -o x.pb.gz ./noexec

# --- the acceptance program: three leaks (one through realloc), a 64 MiB peak -----------------------------
mem -o leaks.pb.gz --report-json leaks.json --flamegraph leaks.svg "$H/heap_leaks" >/dev/null 2>leaks.err
st=$?
if [ $st -eq 3 ]; then t_pass "exit status 3 mirrored"; else t_fail "exit status 3 mirrored" "got $st: $(tail -3 leaks.err)"; fi
check "leaked bytes exactly 4096 + 1000 + 777" leaks.json 'd["leaked_bytes"] == 5873 and d["leaked_blocks"] == 3'
check "exactly the three leaks, by function" leaks.json \
	'sorted((l["function"], l["bytes"], l["blocks"]) for l in d["leaks"] if not l["suppressed"]) == [("leak_calloc", 1000, 1), ("leak_grow", 777, 1), ("leak_page", 4096, 1)]'
check "leak stacks reach main" leaks.json \
	'all(l["stack"][0] == l["function"] and "main" in l["stack"] for l in d["leaks"] if not l["suppressed"])'
check "leak module is the program" leaks.json \
	'all(l["module"].endswith("heap_leaks") for l in d["leaks"] if not l["suppressed"])'
check "peak within 1% of 64 MiB + leaks" leaks.json 'abs(d["peak_bytes"] - (64 * 1048576 + 5873)) <= 0.01 * (64 * 1048576 + 5873)'
check "peak time within the run" leaks.json '0 <= d["peak_time_ns"] <= d["duration_ns"]'
check "totals" leaks.json \
	'd["allocation_calls"] >= 1068 and d["total_allocated_bytes"] >= 64 * 1048576 + 5873 + 100 and d["temporary_allocations"] >= 1000'
check "size histogram has the 1 MiB blocks" leaks.json \
	'any(h["min"] == 1048576 and h["count"] == 64 for h in d["histogram"])'
check "top by peak is peak()" leaks.json 'd["top_by_peak"][0]["function"] == "peak"'
check "suppressions offered in LSan format" leaks.json '"leak:leak_page" in d["suppressions"]'
if grep -q 'Leaks (not freed at exit)' leaks.err && grep -q 'leak_grow' leaks.err &&
	grep -q "wrote 'leaks.pb.gz'" leaks.err; then t_pass "text report on stderr"
else t_fail "text report on stderr" "$(head -20 leaks.err)"; fi
if grep -q '>peak ' leaks.svg 2>/dev/null; then t_pass "allocation flame graph"; else t_fail "allocation flame graph"; fi

# The pprof file alone carries the report: kiln analyze prints the same.
if "$KILN" analyze leaks.pb.gz >analyze.out 2>analyze.err; then
	sed -n '/^Heap profile/,/^kiln: wrote/p' leaks.err | grep -v '^kiln: wrote' >report.live
	sed -n '/^Heap profile/,$p' analyze.out | head -n "$(wc -l <report.live)" >report.file
	t_same "kiln analyze HEAP.pb.gz prints the live report" report.live report.file
	"$KILN" analyze leaks.pb.gz --json >analyze.json 2>/dev/null
	check "kiln analyze --json has the heap report" analyze.json \
		'"heap" not in d and d["leaked_bytes"] == 5873 and d["peak_bytes"] == json.load(open("leaks.json"))["peak_bytes"] and len([l for l in d["leaks"] if not l["suppressed"]]) == 3 and "hotspots" in d'
else
	t_skip "kiln analyze of a heap profile" "$(head -1 analyze.err)"
fi
if "$KILN" convert leaks.pb.gz -o leaks.folded 2>/dev/null && grep -q 'leak_page' leaks.folded; then
	t_pass "heap profile converts (kiln convert)"
else
	t_fail "heap profile converts (kiln convert)"
fi
if command -v go >/dev/null && timeout 120 go tool pprof -raw leaks.pb.gz >pprof.raw 2>pprof.err; then
	if grep -q 'alloc_space/bytes' pprof.raw && grep -q 'inuse_space/bytes' pprof.raw &&
		grep -q 'leak_page' pprof.raw; then t_pass "go tool pprof reads the heap profile"
	else t_fail "go tool pprof reads the heap profile" "$(head -5 pprof.raw)"; fi
else
	t_skip "go tool pprof reads the heap profile" "go is not available or failed: $(head -1 pprof.err 2>/dev/null)"
fi

# Suppressions in LSan's format.
printf '# mine\nleak:leak_page\nleak:^leak_gr*$\n' >my.supp
mem -q -o supp.pb.gz --report-json supp.json --suppressions my.supp "$H/heap_leaks" >/dev/null 2>/dev/null
check "suppressed leaks are not counted" supp.json 'd["leaked_bytes"] == 1000 and d["suppressed_bytes"] >= 4096 + 777'

# --- every interposed allocator, errno preserved by free ---------------------------------------------------
mem -q -o misc.pb.gz --report-json misc.json "$H/heap_misc" >/dev/null 2>misc.err
st=$?
if [ $st -eq 0 ]; then t_pass "allocator checks pass under the profiler (errno, usable size, overflow)"
else t_fail "allocator checks pass under the profiler (errno, usable size, overflow)" "exit $st: $(tail -3 misc.err)"; fi
check "posix_memalign, aligned_alloc, memalign, valloc, pvalloc, reallocarray recorded" misc.json \
	'sorted(l["bytes"] for l in d["leaks"] if not l["suppressed"] and l["function"] == "leak_aligned") == [100, 128, 200, 300, 400, 500]'

# --- threads: cross-thread frees, no false leaks, no deadlock ---------------------------------------------
for n in 1 4 8; do
	mem -q -o thr.pb.gz --report-json thr.json "$H/heap_threads" $n >/dev/null 2>thr.err
	st=$?
	if [ $st -ne 0 ]; then
		t_fail "$n threads" "exit $st: $(tail -3 thr.err)"
		continue
	fi
	check "$n threads: exactly one 333-byte leak per thread" thr.json \
		"[(l['function'], l['bytes'], l['blocks']) for l in d['leaks'] if not l['suppressed']] == [('thread_leak', 333 * $n, $n)]"
	check "$n threads: every allocation counted" thr.json "d['allocation_calls'] >= 40000 * $n"
done
# One thread allocates what another frees: the peak is the heap's (under 1 MB), not what was allocated (500 MB).
mem -q -o hand.pb.gz --report-json hand.json "$H/heap_handoff" >/dev/null 2>hand.err
st=$?
[ $st -eq 0 ] && t_pass "handoff between threads runs" || t_fail "handoff between threads runs" "exit $st: $(tail -3 hand.err)"
check "handoff: the peak stays near the live heap, nothing leaked" hand.json \
	"100000 <= d['peak_bytes'] < 4 * 1024 * 1024 and d['total_allocated_bytes'] >= 500000000 and d['leaked_bytes'] == 0"

# --- fork, exec, system(): every process image, the child's leaks, the exit status ------------------------
mem -q -o fork.pb.gz --report-json fork.json "$H/heap_fork" >/dev/null 2>fork.err
st=$?
if [ $st -eq 0 ]; then t_pass "fork/exec program exits 0"; else t_fail "fork/exec program exits 0" "exit $st: $(tail -3 fork.err)"; fi
check "leaks of parent, forked child and exec'd child" fork.json \
	'{("parent_leak", 111), ("child_leak", 222), ("exec_leak", 444)} <= {(l["function"], l["bytes"]) for l in d["leaks"]}'
check "processes counted" fork.json 'd["processes"] >= 4'
mem -q -o nochild.pb.gz --report-json nochild.json --no-children "$H/heap_fork" >/dev/null 2>/dev/null
check "--no-children follows only the command" nochild.json \
	'{l["function"] for l in d["leaks"] if not l["suppressed"]} == {"parent_leak"} and d["processes"] == 1'

# --- C++ new/delete --------------------------------------------------------------------------------------
if command -v g++ >/dev/null && g++ -O1 -g -fno-omit-frame-pointer -o heap_cxx "$KILN_ROOT/tests/helpers/heap_cxx.cc" 2>cxx.err; then
	mem -q -o cxx.pb.gz --report-json cxx.json ./heap_cxx >/dev/null 2>cxx.err
	st=$?
	if [ $st -eq 0 ]; then t_pass "C++ program runs"; else t_fail "C++ program runs" "exit $st: $(tail -3 cxx.err)"; fi
	check "C++: the one leak, made by new in make_leak()" cxx.json \
		'[(l["function"], l["bytes"]) for l in d["leaks"] if not l["suppressed"]] == [("make_leak()", 48)]'
	check "C++: operator new counted" cxx.json 'd["allocation_calls"] >= 3000'
else
	t_skip "C++ new/delete" "g++ is not available"
fi

# A frame pointer just below the top of the address space (code without frame pointers leaves anything in %rbp):
# the stack walk stops there instead of faulting in the target.
mem -q -o badfp.pb.gz "$H/heap_badfp" >badfp.out 2>badfp.err
st=$?
if [ $st -eq 0 ] && grep -q '^ok$' badfp.out; then t_pass "a wild frame pointer does not crash the target"
else t_fail "a wild frame pointer does not crash the target" "exit $st: $(tail -2 badfp.err)"; fi

# A thread whose first allocation is inside pthread_getattr_np (the JVM's threads): no deadlock.
timeout 30 "$KILN" profile --mode mem -q -o getattr.pb.gz "$H/heap_getattr" >getattr.out 2>getattr.err
st=$?
if [ $st -eq 0 ] && grep -q '^ok$' getattr.out; then t_pass "allocating inside pthread_getattr_np does not deadlock"
else t_fail "allocating inside pthread_getattr_np does not deadlock" "exit $st (124: timed out): $(tail -2 getattr.err)"; fi

# --- Python: its small objects come from pymalloc's own arenas unless PYTHONMALLOC=malloc, which kiln sets ---
PY311=/usr/bin/python3.11
[ -x "$PY311" ] || PY311=$(command -v python3.11 || true)
if [ -n "$PY311" ]; then
	mem -q -o py.pb.gz --report-json py.json "$PY311" -c 'x = [str(i) * 10 for i in range(100000)]' >/dev/null 2>py.err
	st=$?
	[ $st -eq 0 ] && t_pass "python: exits 0 under the heap profiler" || t_fail "python: exits 0" "exit $st: $(tail -2 py.err)"
	check "python: its objects are seen (100,000 strings)" py.json 'd["allocation_calls"] >= 100000'
else
	t_skip "python objects" "no python3.11"
fi

# --- sampling --------------------------------------------------------------------------------------------
mem -q -o sampled.pb.gz --report-json sampled.json --sample-bytes 64K "$H/heap_bench" alloc 1 1 >/dev/null 2>sampled.err
check "sampled: marked as estimates, exact call count" sampled.json \
	'd["sampled"] and d["sample_bytes"] == 65536 and 1000000 <= d["allocation_calls"] <= 1000010'
check "sampled: nothing leaks" sampled.json 'd["leaked_bytes"] == 0'
mem -q -o full.pb.gz --report-json full.json "$H/heap_bench" alloc 1 1 >/dev/null 2>/dev/null
check "full trace: exact totals" full.json '1000000 <= d["allocation_calls"] <= 1000010 and not d["sampled"]'
check "sampled: total allocated bytes counted exactly (as the full trace's)" sampled.json \
	'abs(d["total_allocated_bytes"] - json.load(open("full.json"))["total_allocated_bytes"]) <= 4096'
check "sampled: allocated bytes estimate within 10%" sampled.json \
	'abs(sum(s["bytes"] for s in d["top_by_calls"]) - json.load(open("full.json"))["total_allocated_bytes"]) < 0.1 * json.load(open("full.json"))["total_allocated_bytes"]'

mem -q -o every.pb.gz --report-json every.json --sample-bytes 1 "$H/heap_leaks" >/dev/null 2>every.err
check "sampled at every byte: the three leaks, the realloc one too" every.json \
	'sorted(l["bytes"] for l in d["leaks"] if not l["suppressed"]) == [777, 1000, 4096] and d["sampled"]'

# The library without kiln (no socket, or one nobody listens on) forwards every call and breaks nothing.
if LD_PRELOAD="$LIB" "$H/heap_misc" >alone.out 2>&1 &&
	KILN_HEAP_SOCK="$PWD/nobody-listens" KILN_HEAP_SAMPLE=65536 LD_PRELOAD="$LIB" "$H/heap_misc" >>alone.out 2>&1 &&
	KILN_HEAP_SOCK="$PWD/nobody-listens" LD_PRELOAD="$LIB" "$H/heap_misc" >>alone.out 2>&1; then
	t_pass "the library without kiln: allocator checks pass"
else
	t_fail "the library without kiln: allocator checks pass" "$(tail -3 alone.out)"
fi

# --- signals and shells ----------------------------------------------------------------------------------
mem -q -o sig.pb.gz sh -c 'kill -TERM $$' 2>sig.err
st=$?
if [ $st -eq 143 ]; then t_pass "signal death gives 128+N"; else t_fail "signal death gives 128+N" "got $st: $(tail -2 sig.err)"; fi
if [ -s sig.pb.gz ]; then t_pass "profile written after a signal death"; else t_fail "profile written after a signal death"; fi

# An output that cannot be written is a usage error found before the command runs (as in the other modes),
# not a failure (125) after the whole run was spent.
rm -f ran
mem -q -o /nonexistent-dir/x.pb.gz sh -c 'touch ran' 2>nowrite.err
st=$?
if [ $st -eq 2 ] && [ "$(wc -l <nowrite.err)" -eq 1 ] && [ ! -e ran ]; then
	t_pass "unwritable output: exit 2, one line, before the command runs"
else
	t_fail "unwritable output: exit 2, one line, before the command runs" "got $st: $(cat nowrite.err)"
fi
t_done
