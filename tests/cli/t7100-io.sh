#!/bin/bash
# kiln profile --mode io: the system call summary against programs whose calls are known
# (tests/helpers/wait_writes.c: N one-byte writes to /dev/null from writer(), then one 12-byte write to a file),
# errors, per-file bytes with paths, children, stacks in the pprof profile, JSON, and the command line.
. "$(dirname "$0")/lib.sh"

H=$KILN_BUILD/tests/helpers
cd "$T_TMP" || exit 1
io() { timeout 120 "$KILN" profile --mode io "$@"; }

# --- command line (no eBPF needed) ----------------------------------------------------------------------
t_ok "--help" "$KILN" profile --mode io --help
t_fails "nothing to profile" 2 "$KILN" profile --mode io
t_fails "--min-block is for offcpu/wall" 2 "$KILN" profile --mode io --min-block 10 true
t_fails "--no-stacks is for io" 2 "$KILN" profile --mode offcpu --no-stacks true
t_fails "--json into a missing directory" 2 "$KILN" profile --mode io --json /nonexistent/dir/x.json true

if ! command -v python3 >/dev/null; then
	t_skip "kiln profile --mode io" "python3 is needed to check the JSON summary"
	exit 0
fi
io -q -o probe.pb.gz true 2>probe.err
st=$?
if [ $st -ne 0 ]; then
	if [ $st -eq 125 ] && grep -q 'eBPF' probe.err; then
		t_skip "kiln profile --mode io" "eBPF is not available here: $(head -1 probe.err)"
		exit 0
	fi
	t_fail "io on 'true'" "exit $st: $(head -3 probe.err)"
fi

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
check() {
	local got
	got=$(json "$2" "$3" 2>&1)
	if [ "$got" = "True" ]; then t_pass "$1"; else t_fail "$1" "$3 -> $got"; fi
}
SYS='{s["name"]: s for s in d["syscalls"]}'

# --- truth: 500,000 writes counted exactly, with their latency -------------------------------------------
io -o w.pb.gz --json w.json "$H/wait_writes" 500000 >/dev/null 2>w.err
st=$?
[ $st -eq 0 ] && t_pass "exit status 0" || t_fail "exit status 0" "status $st: $(head -3 w.err)"
check "write counted exactly: 500,000" w.json "$SYS['write']['calls'] == 500000"
check "write latency: total, mean, max" w.json \
	"(lambda w: w['total_ns'] > 0 and 0 < w['mean_ns'] <= w['max_ns'] <= w['total_ns'])($SYS['write'])"
check "write histogram adds up to the calls" w.json \
	"sum(b['count'] for b in $SYS['write']['histogram']) == 500000"
check "no write errors" w.json "$SYS['write']['errors'] == 0"
check "/dev/null: 500,000 writes of 500,000 bytes" w.json \
	"[(f['writes'], f['write_bytes']) for f in d['files'] if f['path'] == '/dev/null'] == [(500000, 500000)]"
check "slowest calls with stacks" w.json \
	"len(d['slowest']) > 0 and any('writer' in (s['stack'] or '') for s in d['slowest'])"
if grep -q '^write ' w.err && grep -q 'latency of write' w.err && grep -q 'slowest calls' w.err; then
	t_pass "report: summary, histogram, slowest calls"
else
	t_fail "report: summary, histogram, slowest calls" "$(head -20 w.err)"
fi

# The profile: columns syscalls/count and latency/nanoseconds, stacks ending in the system call's frame,
# totals exact per system call.
"$KILN" convert w.pb.gz -o w-calls.folded --value syscalls 2>/dev/null
"$KILN" convert w.pb.gz -o w-lat.folded 2>/dev/null
calls=$(awk '{ n = $NF; s = $0; sub(/ [0-9]+$/, "", s); k = split(s, a, ";"); if (a[k] == "write") t += n }
	END { print t + 0 }' w-calls.folded)
[ "$calls" = 500000 ] && t_pass "profile: 500,000 write calls" || t_fail "profile: 500,000 write calls" "got $calls"
if grep -q ';main;writer;write;write ' w-lat.folded; then t_pass "profile: writer -> write stack"
else t_fail "profile: writer -> write stack" "$(sort -t' ' -k2 -rn w-lat.folded | head -3)"; fi
"$KILN" analyze w.pb.gz >w-analyze.out 2>&1
if grep -q 'latency (nanoseconds)' w-analyze.out; then t_pass "pprof default sample type latency/nanoseconds"
else t_fail "pprof default sample type latency/nanoseconds" "$(head -3 w-analyze.out)"; fi

# --- errors, files and paths, children -------------------------------------------------------------------
io -q -o e.pb.gz --json e.json sh -c "cat /nonexistent-kiln-file 2>/dev/null; \"$H/wait_writes\" 1000 \"$T_TMP/out.txt\"; exit 4" \
	2>e.err
st=$?
[ $st -eq 4 ] && t_pass "exit status of the command (4)" || t_fail "exit status of the command (4)" "status $st"
check "failed openat counted as an error" e.json "$SYS['openat']['errors'] >= 1"
check "children followed: 1,001 writes" e.json "$SYS['write']['calls'] >= 1001"
check "file path and bytes" e.json \
	"[(f['writes'], f['write_bytes']) for f in d['files'] if f['path'].endswith('/out.txt')] == [(1, 12)]"

# --no-stacks: the summary stays exact.
io -q --no-stacks --json ns.json -o ns.pb.gz "$H/wait_writes" 2000 2>ns.err
check "--no-stacks: still exact" ns.json "$SYS['write']['calls'] == 2000"

# JSON to stdout.
io -q --json - -o so.pb.gz "$H/wait_writes" 10 >so.json 2>so.err
check "--json -: to stdout" so.json "$SYS['write']['calls'] == 10"

# --pid: attach while it runs.
"$H/wait_sleep" 300 100 &
bg=$!
sleep 0.1
io -q -p $bg --json pid.json -o pid.pb.gz 2>pid.err
wait $bg
check "--pid: the reads of a running process" pid.json "$SYS['read']['calls'] >= 3"

# --- the fallback without eBPF: perf_event tracepoints, counts only ----------------------------------------
KILN_NO_BPF=1 io --json fb.json -o fb.pb.gz "$H/wait_writes" 3000 >/dev/null 2>fb.err
st=$?
if [ $st -eq 0 ] && grep -q 'counting system calls through perf_event tracepoints' fb.err; then
	check "fallback: write counted exactly, flagged counts_only" fb.json \
		"d['counts_only'] and $SYS['write']['calls'] == 3000"
elif grep -q 'cannot find the system call tracepoints' fb.err; then
	t_skip "fallback through perf_event tracepoints" "no tracefs here"
else
	t_fail "fallback through perf_event tracepoints" "status $st: $(head -3 fb.err)"
fi
check "eBPF run: not counts_only" w.json "not d['counts_only']"
