#!/bin/bash
# kiln diff: per-function share changes with significance tests (Holm/BH-corrected), the differential flame
# graph, and the JSON schema; a profile against itself, two captures of the same program (noise) and of
# different programs (real changes); malformed inputs.
. "$(dirname "$0")/lib.sh"

FIX=$KILN_ROOT/tests/fixtures
A=$FIX/analyze
H=$KILN_BUILD/tests/helpers
cd "$T_TMP" || exit 1
cp "$A"/*.perf.txt .

have_py=0
command -v python3 >/dev/null 2>&1 && have_py=1

t_exact self-text -- "$KILN" diff mix.perf.txt mix.perf.txt
t_exact alloc-sort-text -- "$KILN" diff alloc.perf.txt sort.perf.txt --top 8
t_exact alloc-mix-json -- "$KILN" diff alloc.perf.txt mix.perf.txt --json --top 5
t_exact alloc-mix-markdown -- "$KILN" diff alloc.perf.txt mix.perf.txt --format markdown --top 5

# Counts that merely share a factor are samples, not weights: 10 + 5 samples are 15, not 3.
printf 'main;a 10\nmain;b 5\n' >factor1.folded
printf 'main;a 20\nmain;b 10\n' >factor2.folded
"$KILN" diff factor1.folded factor2.folded --format json >factor.json
json_check "small folded counts with a common factor are not divided" factor.json \
	"d['before']['total']==15 and d['after']['total']==30 and not d['counts_estimated']"
printf 'prog 1 [000] 1.0: 1 cpu-clock:\n\t1 f (/p)\n\nprog 1 [000] 1.1: 1 cpu-clock:\n\t1 f (/p)\n\n' >two.perf.txt
"$KILN" diff two.perf.txt two.perf.txt --format json >two.json
json_check "perf script samples are counted as samples" two.json "d['before']['total']==2"
# -o FILE.json / FILE.md is the table (as --report), never an SVG under a .json name
"$KILN" diff alloc.perf.txt sort.perf.txt -o ext.json >/dev/null
json_check "-o FILE.json writes the JSON table" ext.json "'functions' in d"
"$KILN" diff alloc.perf.txt sort.perf.txt -o ext.md >/dev/null
grep -q '^## kiln diff' ext.md && t_pass "-o FILE.md writes the Markdown table" ||
	t_fail "-o FILE.md writes the Markdown table" "$(head -3 ext.md)"
"$KILN" diff mix.perf.txt mix.perf.txt --format json >self.json
json_check "a profile against itself: nothing significant, all deltas zero" self.json \
	"d['significant']==0 and all(not f['significant'] and f['delta_pct']==0 for f in d['functions'])"
json_check "json functions carry the documented keys" self.json \
	"all(all(k in f for k in ('function','before_pct','after_pct','delta_pct','p_value','significant')) for f in d['functions'])"
"$KILN" diff alloc.perf.txt sort.perf.txt --json >as.json
json_check "different programs: the sort and alloc functions changed significantly" as.json \
	"any(f['significant'] and f['delta_pct']>0 and 'msort' in f['function'] for f in d['functions']) and any(f['significant'] and f['delta_pct']<0 and 'malloc' in f['function'] for f in d['functions'])"
json_check "p-values are probabilities and adjusted ones are not smaller" as.json \
	"all(0<=f['p_value']<=f['p_adjusted']<=1 for f in d['functions'])"
json_check "changes are sorted by size" as.json \
	"all(abs(d['functions'][i]['delta_pct']) >= abs(d['functions'][i+1]['delta_pct']) for i in range(len(d['functions'])-1))"
"$KILN" diff alloc.perf.txt sort.perf.txt --json --correction none >none.json
"$KILN" diff alloc.perf.txt sort.perf.txt --json --correction bh >bh.json
json_check "--correction none reports raw p-values" none.json "all(f['p_value']==f['p_adjusted'] for f in d['functions'])"
json_check "--correction bh is documented in the output" bh.json "d['correction']=='bh'"
"$KILN" diff alloc.perf.txt sort.perf.txt --json --min-delta 100 >md.json
json_check "--min-delta 100 leaves nothing significant" md.json "d['significant']==0"

# ---- the differential flame graph ----
t_ok "-o diff.svg" "$KILN" diff alloc.perf.txt mix.perf.txt -o diff.svg
if [ $have_py = 1 ] && python3 -c "import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])" diff.svg 2>/dev/null; then
	t_pass "the differential graph is well-formed XML"
else
	t_fail "the differential graph is well-formed XML" "$(head -c 300 diff.svg)"
fi
if grep -q 'Differential Flame Graph' diff.svg && grep -q 'with callees' diff.svg &&
	grep -Eq 'fill="rgb\(255,[0-9]+,[0-9]+\)"' diff.svg && grep -Eq 'fill="rgb\([0-9]+,[0-9]+,255\)"' diff.svg; then
	t_pass "frames are red (grew) and blue (shrank), tooltips show subtree changes"
else
	t_fail "frames are red (grew) and blue (shrank), tooltips show subtree changes" "$(grep -o '<title>[^<]*' diff.svg | head -5)"
fi
"$KILN" diff mix.perf.txt mix.perf.txt -o same.svg >/dev/null
if ! grep -Eo 'self [+-][0-9.]+%' same.svg | grep -vq 'self +0.00%'; then
	t_pass "a profile against itself: every frame unchanged"
else
	t_fail "a profile against itself: every frame unchanged" "$(grep -Eo 'self [+-][0-9.]+%' same.svg | sort | uniq -c)"
fi
t_ok "-o diff.folded" "$KILN" diff alloc.perf.txt mix.perf.txt -o diff.folded
if [ -s diff.folded ] && awk 'NF < 3 || $(NF) !~ /^[0-9]+$/ || $(NF-1) !~ /^[0-9]+$/ { bad = 1 } END { exit bad }' diff.folded; then
	t_pass "the folded form has two counts per stack (difffolded.pl)"
else
	t_fail "the folded form has two counts per stack (difffolded.pl)" "$(head -3 diff.folded)"
fi
if command -v "$KILN_ROOT/../FlameGraph/flamegraph.pl" >/dev/null 2>&1; then :; fi

# ---- two captures of one program: noise stays noise ----
if command -v perf >/dev/null 2>&1 && [ -x "$H/analyze_work" ] &&
	perf record -q -F 999 -g --no-buildid -o r1.data "$H/analyze_work" mix 0.4 >/dev/null 2>perf.err &&
	perf record -q -F 999 -g --no-buildid -o r2.data "$H/analyze_work" mix 0.4 >/dev/null 2>&1 &&
	perf record -q -F 999 -g --no-buildid -o r3.data "$H/analyze_work" sort 0.4 >/dev/null 2>&1; then
	for i in 1 2 3; do perf script -i r$i.data >r$i.txt 2>/dev/null; done
	"$KILN" diff r1.txt r2.txt --json >rr.json
	# Same program twice: scheduler and interrupt frames may really differ between runs on a busy machine, but no
	# function's share may be flagged as having moved by a large amount.
	json_check "two runs of the same program: no large change flagged (noise stays noise)" rr.json \
		"d['significant']<=2 and all(abs(f['delta_pct'])<3 for f in d['functions'] if f['significant'])"
	"$KILN" diff r1.txt r3.txt --json >r13.json
	json_check "mix vs sort program: the spin loop is a significant drop" r13.json \
		"any(f['function']=='do_spin' and f['significant'] and f['delta_pct']<0 for f in d['functions'])"
	t_ok "perf.data inputs" "$KILN" diff r1.data r3.data -o r13.svg
else
	t_skip "live perf captures" "perf record does not work here: $(head -1 perf.err 2>/dev/null)"
fi
t_ok "pprof against itself" "$KILN" diff "$FIX/pprof/go-cpu.pb.gz" "$FIX/pprof/go-cpu.pb.gz" --json -o go.svg

# ---- errors: one line, exit 2 ----
printf 'garbage\x01\x02\n' >garbage.bin
: >empty.txt
t_fails "one file" 2 "$KILN" diff alloc.perf.txt
t_fails "three files" 2 "$KILN" diff alloc.perf.txt sort.perf.txt mix.perf.txt
t_fails "garbage BEFORE" 2 "$KILN" diff garbage.bin sort.perf.txt
t_fails "empty AFTER" 2 "$KILN" diff sort.perf.txt empty.txt
t_fails "missing file" 2 "$KILN" diff sort.perf.txt nope.txt
t_fails "bad --alpha" 2 "$KILN" diff sort.perf.txt mix.perf.txt --alpha 2
t_fails "bad --correction" 2 "$KILN" diff sort.perf.txt mix.perf.txt --correction bonferroni
t_fails "unwritable -o" 2 "$KILN" diff sort.perf.txt mix.perf.txt -o /nonexistent-dir/d.svg
[ ! -e /nonexistent-dir/d.svg ] && t_pass "no partial graph" || t_fail "no partial graph"
t_fails "both stdin" 2 "$KILN" diff - -
t_done
