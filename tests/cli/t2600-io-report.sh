#!/bin/bash
# The I/O report travels in the profile: kiln profile --mode io writes its summary into the pprof file, and
# kiln analyze FILE reprints it with the live report's numbers (JSON member by member, the text tables line by
# line); kiln convert keeps it; a pprof file without it (an older kiln's) reads as before.
. "$(dirname "$0")/lib.sh"

H=$KILN_BUILD/tests/helpers
cd "$T_TMP" || exit 1
io() { timeout 120 "$KILN" profile --mode io "$@"; }

if ! command -v python3 >/dev/null; then
	t_skip "I/O report from a file" "python3 is needed to compare the JSON documents"
	exit 0
fi
io -q -o probe.pb.gz true 2>probe.err
st=$?
if [ $st -ne 0 ]; then
	if [ $st -eq 125 ] && grep -q 'eBPF' probe.err; then
		t_skip "I/O report from a file" "eBPF is not available here: $(head -1 probe.err)"
		exit 0
	fi
	t_fail "io on 'true'" "exit $st: $(head -3 probe.err)"
fi

# compare DESC LIVE.json ANALYZE.json: the analyze document's "io" member equals the live --json document.
compare() {
	local got
	got=$(python3 - "$2" "$3" <<'PY' 2>&1
import json, sys
live = json.load(open(sys.argv[1]))
io = json.load(open(sys.argv[2])).get("io")
if io is None:
    print("no io member in the analyze document")
elif io != live:
    diff = [k for k in live if live[k] != io.get(k)] + [k for k in io if k not in live]
    print("members differ: " + ", ".join(diff))
else:
    print("same")
PY
)
	[ "$got" = same ] && t_pass "$1" || t_fail "$1" "$got"
}

# 20,000 one-byte writes to /dev/null, then 12 bytes to a file: known counts the report must carry.
io -o w.pb.gz --json live.json --top 5 "$H/wait_writes" 20000 "$T_TMP/out.txt" >/dev/null 2>live.err
st=$?
[ $st -eq 0 ] && t_pass "record: exit status 0" || t_fail "record: exit status 0" "status $st: $(head -3 live.err)"
json_check "live: write counted exactly" live.json \
	"[s['calls'] for s in d['syscalls'] if s['name'] == 'write'] == [20001]"

"$KILN" analyze w.pb.gz --json -o an.json 2>an.err
compare "analyze --json: the io member equals the live --json document" live.json an.json
json_check "analyze --json: 20,001 writes, 20,000 bytes to /dev/null, 12 to the file" an.json \
	"[s['calls'] for s in d['io']['syscalls'] if s['name'] == 'write'] == [20001] and \
	 [(f['writes'], f['write_bytes']) for f in d['io']['files'] if f['path'] == '/dev/null'] == [(20000, 20000)] and \
	 [(f['writes'], f['write_bytes']) for f in d['io']['files'] if f['path'].endswith('/out.txt')] == [(1, 12)]"
json_check "analyze --json: the hotspots are still there" an.json "len(d['hotspots']) > 0"

# The text: the live report's lines after its first (which adds the command's exit status) are the tables
# analyze prints after its "I/O summary:" line, with the same --top.
"$KILN" analyze w.pb.gz --top 5 >an.txt 2>an.err
sed -n '/^I\/O summary: /,/^System call analysis of the /p' an.txt | sed '1d;$d' | sed '$d' >an.tables
sed '0,/^kiln: .* system calls in /d' live.err | grep -v '^kiln: ' >live.tables
if [ -s live.tables ] && grep -q '^write ' live.tables; then
	t_same "analyze: the tables equal the live report's" live.tables an.tables
else
	t_fail "live report has a system call table" "$(head -5 live.err)"
fi
live_head=$(sed -n 's/^kiln: \(.* system calls in .* of recording, [^;]* in them\).*/\1/p' live.err)
an_head=$(sed -n 's/^I\/O summary: //p' an.txt)
[ -n "$live_head" ] && [ "$live_head" = "$an_head" ] && t_pass "analyze: the summary line equals the live one" ||
	t_fail "analyze: the summary line equals the live one" "live '$live_head', analyze '$an_head'"
grep -q '^System call analysis of the latency values:' an.txt && t_pass "analyze: the analysis follows" ||
	t_fail "analyze: the analysis follows" "$(head -30 an.txt)"

# kiln convert keeps the summary (pprof to pprof), and merging two runs reports one summary.
"$KILN" convert w.pb.gz -o w2.pb.gz 2>/dev/null
"$KILN" analyze w2.pb.gz --json -o an2.json 2>/dev/null
compare "convert: the summary survives a pprof round trip" live.json an2.json

# The counting fallback (no eBPF): counts only, and the file says so.
KILN_NO_BPF=1 io -o fb.pb.gz --json fb.json "$H/wait_writes" 300 >/dev/null 2>fb.err
if [ $? -eq 0 ] && grep -q 'counting system calls through perf_event tracepoints' fb.err; then
	"$KILN" analyze fb.pb.gz --json -o fb-an.json 2>/dev/null
	compare "fallback: counts-only summary reprinted" fb.json fb-an.json
	json_check "fallback: counts_only, 300 writes" fb-an.json \
		"d['io']['counts_only'] and [s['calls'] for s in d['io']['syscalls'] if s['name'] == 'write'] == [300]"
elif grep -q 'cannot find the system call tracepoints' fb.err; then
	t_skip "fallback summary" "no tracefs here"
else
	t_fail "fallback summary" "$(head -3 fb.err)"
fi

# A profile without a summary (any other pprof, an older kiln's io file) gets no I/O section.
"$KILN" convert w.pb.gz -o w.folded 2>/dev/null
"$KILN" convert w.folded -o plain.pb.gz 2>/dev/null
"$KILN" analyze plain.pb.gz --json -o plain.json 2>plain.err
json_check "no summary: no io member" plain.json "'io' not in d and len(d['hotspots']) > 0"
"$KILN" analyze plain.pb.gz >plain.txt 2>&1
if grep -q 'I/O summary' plain.txt || ! grep -q '^Hotspots' plain.txt; then
	t_fail "no summary: the analysis alone" "$(head -5 plain.txt)"
else
	t_pass "no summary: the analysis alone"
fi
t_done
