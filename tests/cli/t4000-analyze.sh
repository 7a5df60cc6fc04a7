#!/bin/bash
# kiln analyze: hotspots, hot path and rule-based recommendations on real captures of every readable format;
# the seeds' usage lines verbatim; several runs; malformed inputs. Live perf captures of tests/helpers/
# analyze_work.c check that each rule fires on the program that does that work (skipped without perf).
. "$(dirname "$0")/lib.sh"

FIX=$KILN_ROOT/tests/fixtures
A=$FIX/analyze
H=$KILN_BUILD/tests/helpers
cd "$T_TMP" || exit 1

rules_of() { # FILE: the recommendation rule ids, one per line; the symbol-quality advice (debuginfo, tested in
	# t3500) is left out: these checks are about which performance rules a workload sets off
	python3 -c "import json,sys; [print(r['rule']) for r in json.load(open(sys.argv[1]))['recommendations'] if r['rule'] != 'debuginfo']" \
		"$1" 2>/dev/null
}

# ---- committed captures (perf script text recorded from analyze_work) ----
cp "$A"/*.perf.txt .
t_exact alloc-text -- "$KILN" analyze alloc.perf.txt
t_exact sort-json -- "$KILN" analyze sort.perf.txt --json
t_exact mix-markdown -- "$KILN" analyze mix.perf.txt --format markdown --detailed
t_exact recurse-text -- "$KILN" analyze recurse.perf.txt --top 5

"$KILN" analyze "$A/alloc.perf.txt" --json >alloc.json
json_check "json has the documented top-level keys" alloc.json \
	"all(k in d for k in ('total','unit','hotspots','hot_path','recommendations'))"
json_check "hotspots carry function, module, self, self_pct, total_pct, severity" alloc.json \
	"all(all(k in h for k in ('function','module','self','self_pct','total_pct','severity')) for h in d['hotspots'])"
json_check "recommendations carry rule, severity, message, evidence" alloc.json \
	"all(all(k in r for k in ('rule','severity','message','evidence')) for r in d['recommendations'])"
json_check "malloc-heavy program: the alloc rule fires with malloc as evidence" alloc.json \
	"any(r['rule']=='alloc' and any('malloc' in f['function'] for f in r['evidence']['functions']) for r in d['recommendations'])"
json_check "malloc-heavy program: no unrelated rule fires" alloc.json \
	"not any(r['rule'] in ('lock','sort','regex','serialization','recursion','gc','exceptions') for r in d['recommendations'])"
json_check "hot path starts at the heaviest root and shares do not grow" alloc.json \
	"all(d['hot_path'][i]['total_pct'] >= d['hot_path'][i+1]['total_pct'] for i in range(len(d['hot_path'])-1))"
json_check "severities follow the documented cut-offs" alloc.json \
	"all(h['severity'] == ('critical' if h['self_pct']>=20 else 'high' if h['self_pct']>=10 else 'medium') for h in d['hotspots'])"
"$KILN" analyze "$A/recurse.perf.txt" --json >rec.json
json_check "deep recursion program: the recursion rule fires" rec.json \
	"any(r['rule']=='recursion' for r in d['recommendations'])"
"$KILN" analyze "$A/sort.perf.txt" --json --threshold 50 >t50.json
json_check "--threshold 50 keeps only hotspots at 50 % or more" t50.json \
	"d['threshold_pct']==50 and all(h['self_pct']>=50 for h in d['hotspots'])"
"$KILN" analyze "$A/mix.perf.txt" --json --detailed >det.json
json_check "--detailed adds callers, callees and lines to hotspots" det.json \
	"all('callers' in h and 'callees' in h and 'lines' in h for h in d['hotspots']) and len(d['hotspots'])>0"
t_ok "--format json equals --json" "$KILN" analyze "$A/mix.perf.txt" --format json -o mix2.json
"$KILN" analyze "$A/mix.perf.txt" --json >mix1.json
t_same "--format json -o FILE writes the same document" mix1.json mix2.json

# ---- several runs ----
"$KILN" analyze "$A/alloc.perf.txt" "$A/mix.perf.txt" "$A/sort.perf.txt" --json >runs.json
json_check "several files: per-function mean and spread across runs" runs.json \
	"d['runs']['count']==3 and all(len(f['self_pct']['runs'])==3 and 'stddev' in f['self_pct'] for f in d['runs']['functions'])"
json_check "several files: mean is the mean of the per-run shares" runs.json \
	"all(abs(f['self_pct']['mean'] - sum(f['self_pct']['runs'])/3) < 1e-3 for f in d['runs']['functions'])"
"$KILN" analyze "$A/alloc.perf.txt" "$A/alloc.perf.txt" >same2.txt
if grep -q "Across 2 runs" same2.txt && grep -Eq '^ +[0-9.]+ +0\.00 ' same2.txt; then
	t_pass "the same run twice has zero spread"
else
	t_fail "the same run twice has zero spread" "$(head -60 same2.txt)"
fi

# ---- the seeds' usage lines, verbatim ----
if command -v perf >/dev/null 2>&1 && [ -x "$H/analyze_work" ] &&
	perf record -q -F 499 -g --no-buildid -o profile.data "$H/analyze_work" alloc 0.3 >/dev/null 2>perf.err; then
	t_ok "kiln analyze profile.data" "$KILN" analyze profile.data
	"$KILN" analyze profile.data --json > analysis.json
	json_check "kiln analyze profile.data --json > analysis.json" analysis.json \
		"d['total']>0 and any(r['rule']=='alloc' for r in d['recommendations'])"
else
	t_skip "kiln analyze profile.data (perf.data)" "perf record does not work here: $(head -1 perf.err 2>/dev/null)"
fi
cp "$FIX/pprof/go-cpu.pb.gz" cpu.prof
t_ok "kiln analyze cpu.prof --type pprof --detailed" "$KILN" analyze cpu.prof --type pprof --detailed
"$KILN" analyze cpu.prof --type pprof --detailed --json >go.json
json_check "go pprof: sumSquares is the critical hotspot with source lines" go.json \
	"d['hotspots'][0]['function'].endswith('sumSquares') and d['hotspots'][0]['severity']=='critical' and len(d['hotspots'][0]['lines'])>0"
json_check "go pprof: samples are counted beside cpu time" go.json "d['unit']=='nanoseconds' and d['samples']>0"

# ---- heap profiles: the heap report, then the allocation sites; no CPU rules ----
"$KILN" analyze "$A/go-heap.pb.gz" >heap.txt
if grep -q "Heap profile" heap.txt && grep -q "example.com/mem.alloc" heap.txt && grep -q "does not apply to memory" heap.txt; then
	t_pass "Go heap profile: heap report and allocation sites"
else
	t_fail "Go heap profile: heap report and allocation sites" "$(head -20 heap.txt)"
fi
"$KILN" analyze "$A/go-heap.pb.gz" --json >heap.json
json_check "Go heap profile JSON: heap report members at the top level, alloc_space hotspots, no recommendations" heap.json \
	"'heap' not in d and 'peak_bytes' in d and 'leaks' in d and d['value_type']=='alloc_space' and d['unit']=='bytes' and d['recommendations']==[] and d['hotspots'][0]['function']=='example.com/mem.alloc'"

# ---- every readable format ----
for f in "$FIX"/cpuprofile/*.cpuprofile "$FIX"/speedscope/*.json "$FIX"/pprof/*.prof "$FIX"/perf-script/*.txt; do
	[ -f "$f" ] || continue
	"$KILN" analyze "$f" --json >fmt.json 2>fmt.err
	st=$?
	json_check "analyzes $(basename "$(dirname "$f")")/$(basename "$f") (exit $st)" fmt.json \
		"d['total']>0 and len(d['hot_path'])>0"
done
if [ -d "$SHARED/fixtures/stackcollapse-perf/input" ]; then
	bad=
	for f in "$SHARED"/fixtures/stackcollapse-perf/input/*.txt; do
		"$KILN" analyze "$f" --json >shared.json 2>shared.err ||
			bad="$bad $(basename "$f"): $(head -1 shared.err)"
		python3 -c "import json; json.load(open('shared.json'))" 2>/dev/null || bad="$bad $(basename "$f"): bad json"
	done
	if [ -z "$bad" ]; then t_pass "all shared perf script captures analyse to valid JSON"
	else t_fail "all shared perf script captures analyse to valid JSON" "$bad"; fi
	"$KILN" analyze "$SHARED/fixtures/stackcollapse-perf/input/perf-vertx-stacks-01.txt" --json >vertx.json
	json_check "Java capture: the GC rule cites JVM GC threads" vertx.json \
		"any(r['rule']=='gc' and any('GC' in f['function'] or 'Scavenge' in f['function'] for f in r['evidence']['functions']) for r in d['recommendations'])"
else
	t_skip "shared perf script captures" "$SHARED/fixtures is absent"
fi

# ---- live captures: each rule fires on the program doing that work ----
if command -v perf >/dev/null 2>&1 && [ -x "$H/analyze_work" ] &&
	perf record -q -F 999 -g --no-buildid -o live.data "$H/analyze_work" spin 0.1 >/dev/null 2>perf.err; then
	for case in alloc:alloc sort:sort format:format recurse:recursion copy:memcpy; do
		mode=${case%%:*} rule=${case#*:}
		perf record -q -F 999 -g --no-buildid -o live.data "$H/analyze_work" "$mode" 0.4 >/dev/null 2>&1
		perf script -i live.data >live.txt 2>/dev/null
		"$KILN" analyze live.txt --json >live.json
		if rules_of live.json | grep -qx "$rule"; then
			t_pass "live $mode capture: rule $rule fires"
		else
			t_fail "live $mode capture: rule $rule fires" "rules: $(rules_of live.json | tr '\n' ' ')"
		fi
	done
	perf record -q -F 999 -g --no-buildid -o live.data "$H/analyze_work" spin 0.3 >/dev/null 2>&1
	perf script -i live.data >live.txt 2>/dev/null
	"$KILN" analyze live.txt --json >live.json
	if rules_of live.json | grep -qx hotspot && ! rules_of live.json | grep -vqx hotspot; then
		t_pass "live spin capture: only the hotspot rule fires (no evidence, no rule)"
	else
		t_fail "live spin capture: only the hotspot rule fires (no evidence, no rule)" \
			"rules: $(rules_of live.json | tr '\n' ' ')"
	fi
else
	t_skip "live perf captures of analyze_work" "perf record does not work here: $(head -1 perf.err 2>/dev/null)"
fi

# ---- off-CPU, wall-clock and io profiles: recommendations that fit what they measure ----
# rules_are FILE "ids": the recommendation rule ids, sorted, must be exactly these
rules_are() {
	local desc=$1 file=$2 want=$3 got
	"$KILN" analyze "$file" --json >wait.json 2>wait.err || { t_fail "$desc" "$(cat wait.err)"; return; }
	got=$(rules_of wait.json | sort | tr '\n' ' ')
	if [ "$got" = "$want " ]; then t_pass "$desc"; else t_fail "$desc" "rules: $got (want: $want)"; fi
}
rules_are "offcpu, mutex fight: lock contention only (the main thread's join is not contention)" \
	"$A/offcpu-lock.pb.gz" "lock-wait"
"$KILN" analyze "$A/offcpu-lock.pb.gz" --json >lock.json
json_check "offcpu lock: evidence is the futex wait entered from worker, share of the off-CPU total (join included)" \
	lock.json "[(r['severity'], [c['function'] for c in r['evidence']['callers']]) for r in d['recommendations']]==[('critical',['worker'])] and any(f['function']=='pthread_mutex_lock' for f in d['recommendations'][0]['evidence']['functions']) and 41 < d['recommendations'][0]['evidence']['pct'] < 42"
rules_are "offcpu, sleeps and a pipe read: sleep and io-wait, no CPU advice" "$A/offcpu-sleep.pb.gz" "io-wait sleep"
"$KILN" analyze "$A/offcpu-sleep.pb.gz" --json >sleep.json
json_check "offcpu sleep: 3/4 sleeping from sleeper and msleep, 1/4 reading a pipe from reader" sleep.json \
	"{r['rule']:(round(r['evidence']['pct']), sorted(c['function'] for c in r['evidence']['callers'])) for r in d['recommendations']}=={'sleep':(75,['msleep','sleeper']),'io-wait':(25,['reader'])}"
rules_are "offcpu, pipe ping-pong: io-wait only" "$A/offcpu-pingpong.pb.gz" "io-wait"
rules_are "offcpu, dd oflag=dsync: disk-wait only" "$A/offcpu-fsync.pb.gz" "disk-wait"
"$KILN" analyze "$A/offcpu-fsync.pb.gz" --json >fsync.json
json_check "offcpu fsync: evidence names the filesystem's sync path" fsync.json \
	"any(f['function']=='ext4_sync_file' for f in d['recommendations'][0]['evidence']['functions']) and 'sync once per batch' in d['recommendations'][0]['message']"
rules_are "wall, 4 threads fight over a mutex on 2 busy cores: runqueue, lock-wait and the on-CPU hotspot" "$A/wall-lock.pb.gz" \
	"hotspot lock-wait runqueue"
"$KILN" analyze "$A/wall-lock.pb.gz" --json >wall.json
json_check "wall: the scheduler is never a hotspot; preemption is not counted as lock waiting" wall.json \
	"not any(r['rule']=='hotspot' and r['evidence']['functions'][0]['function'] in ('__schedule','schedule') for r in d['recommendations']) and not any(r['rule']=='lock-wait' and any('unlock' in f['function'] for f in r['evidence']['functions']) for r in d['recommendations'])"
rules_are "io, 20000 one-byte writes: small-io only (no 'System calls 100%')" "$A/io-writes.pb.gz" "small-io"
"$KILN" analyze "$A/io-writes.pb.gz" --json >writes.json
json_check "io writes: the evidence gives the count, the mean and the stack" writes.json \
	"'20,000 calls from one stack (writer <- main' in d['recommendations'][0]['evidence']['detail'] and ' each on average' in d['recommendations'][0]['message']"
rules_are "io, sleeps and a pipe read: sleep only (no unbuffered I/O for 3 slow reads)" "$A/io-sleep.pb.gz" "sleep"
rules_are "io, a shell loop testing a file 5000 times: repeated-syscalls" "$A/io-repeated.pb.gz" \
	"repeated-syscalls"
"$KILN" analyze "$A/io-repeated.pb.gz" --json >rep.json
json_check "io repeated: newfstatat, 5,000 calls from one stack" rep.json \
	"[r for r in d['recommendations'] if r['rule'] == 'repeated-syscalls'][0]['evidence']['detail'].startswith('newfstatat: 5,000 calls from one stack')"
"$KILN" analyze "$A/io-writes.pb.gz" --value syscalls --json >writes-calls.json
json_check "io profile analysed by call counts: small-io by its share of the calls" writes-calls.json \
	"[r['rule'] for r in d['recommendations']]==['small-io'] and d['recommendations'][0]['evidence']['pct'] > 90"
# live: the mutex fight, recorded now (needs eBPF: skipped where kiln profile --mode offcpu cannot run)
if [ -x "$H/rules_lock" ] && "$KILN" profile --mode offcpu -q -o live-lock.pb.gz -- "$H/rules_lock" \
	>/dev/null 2>live.err; then
	"$KILN" analyze live-lock.pb.gz --json >live-lock.json
	if rules_of live-lock.json | grep -qx lock-wait && ! rules_of live-lock.json | grep -qvx -e lock-wait -e runqueue; then
		t_pass "live offcpu capture of rules_lock: lock-wait fires, no CPU rule"
	else
		t_fail "live offcpu capture of rules_lock: lock-wait fires, no CPU rule" \
			"rules: $(rules_of live-lock.json | tr '\n' ' ')"
	fi
else
	t_skip "live offcpu capture of rules_lock" "kiln profile --mode offcpu cannot run here: $(head -1 live.err 2>/dev/null)"
fi

# ---- malformed inputs and usage errors: one line, exit 2 ----
printf 'this is not a profile\n\x01\x02\x03\n' >garbage.bin
: >empty.txt
printf 'main;a notanumber\n' >bad.folded
head -c 300 "$FIX/pprof/go-cpu.pb.gz" >truncated.pb.gz
t_fails "garbage input" 2 "$KILN" analyze garbage.bin
t_fails "empty input" 2 "$KILN" analyze empty.txt
t_fails "missing file" 2 "$KILN" analyze no-such-file.prof
t_fails "malformed folded stacks" 2 "$KILN" analyze bad.folded --type folded
t_fails "truncated pprof" 2 "$KILN" analyze truncated.pb.gz
t_fails "unknown --type" 2 "$KILN" analyze "$A/alloc.perf.txt" --type nosuch
t_fails "--threshold out of range" 2 "$KILN" analyze "$A/alloc.perf.txt" --threshold 120
t_fails "--json and --format markdown" 2 "$KILN" analyze "$A/alloc.perf.txt" --json --format markdown
t_fails "no file" 2 "$KILN" analyze
t_fails "unknown --value" 2 "$KILN" analyze "$A/alloc.perf.txt" --value alloc_space
t_fails "unwritable -o" 2 "$KILN" analyze "$A/alloc.perf.txt" -o /nonexistent-dir/x.txt
[ ! -e /nonexistent-dir/x.txt ] && t_pass "no partial report file" || t_fail "no partial report file"

# ---- -o FILE: the extension picks the format unless --format says otherwise ----
"$KILN" analyze "$A/sort.perf.txt" -o ext.json && json_check "-o FILE.json writes JSON" ext.json "d['total'] > 0"
"$KILN" analyze "$A/sort.perf.txt" -o ext.md && grep -q '^## kiln analyze' ext.md &&
	t_pass "-o FILE.md writes Markdown" || t_fail "-o FILE.md writes Markdown" "$(head -3 ext.md)"
"$KILN" analyze "$A/sort.perf.txt" -o ext2.json --format text && ! grep -q '^{' ext2.json &&
	t_pass "--format wins over the extension" || t_fail "--format wins over the extension" "$(head -3 ext2.json)"

# ---- stdin, help, colour ----
t_ok "reads stdin" "$KILN" analyze - <"$A/sort.perf.txt"
# stdin redirected from a file could be read twice and counted twice: '-' is allowed once
"$KILN" analyze - - <"$A/sort.perf.txt" >/dev/null 2>twice.err; s=$?
[ $s = 2 ] && [ "$(wc -l <twice.err)" = 1 ] && t_pass "stdin given twice is a usage error" ||
	t_fail "stdin given twice is a usage error" "exit $s: $(head -3 twice.err)"
printf 'main (app.py:10);parse (app.py:20);json_loads (json/decoder.py:5) 30\nmain (app.py:10);render (app.py:40) 70\n' \
	>py.txt
"$KILN" analyze py.txt --type py-spy --json >py.json
json_check "--type py-spy reads py-spy's folded stacks (and the JSON rule sees json)" py.json \
	"d['total']==100 and d['hotspots'][0]['function'].startswith('render') and any(r['rule']=='serialization' for r in d['recommendations'])"
t_ok "--type perf reads perf script text" "$KILN" analyze "$A/mix.perf.txt" --type perf
if "$KILN" help analyze | grep -q "kiln analyze profile.data --json > analysis.json"; then
	t_pass "kiln help analyze shows the seed examples"
else
	t_fail "kiln help analyze shows the seed examples"
fi
"$KILN" analyze "$A/mix.perf.txt" >plain.txt
if grep -q $'\033' plain.txt; then t_fail "no colour when stdout is not a terminal"; else t_pass "no colour when stdout is not a terminal"; fi
t_done
