#!/bin/bash
# kiln diff and kiln profile --diff compare absolute cost as well as shares: a program against its 8x faster
# version (tests/helpers/diff_work: `hot` shrinks 15x, `steady` does the same work in both) reports the speed-up
# that getrusage measured, flags `hot` as shrunk and leaves `steady` alone, although its share grew 6 % -> 50 %.
. "$(dirname "$0")/lib.sh"

H=$KILN_BUILD/tests/helpers
if ! "$KILN" profile -q -o "$T_TMP/probe.folded" -- true 2>"$T_TMP/probe.err"; then
	t_skip "absolute diffs" "perf_event_open is not allowed here: $(head -1 "$T_TMP/probe.err")"
	exit 0
fi
cd "$T_TMP" || exit 1
cpu_of() { awk '/^cpu /{ print $2 }' "$1" | tail -1; }

"$KILN" profile -q -o slow.pb.gz -- "$H/diff_work" 150 10 2>slow.err
"$KILN" profile -q -o fast.pb.gz -- "$H/diff_work" 10 10 2>fast.err
slow=$(cpu_of slow.err)
fast=$(cpu_of fast.err)
if [ -z "$slow" ] || [ -z "$fast" ]; then
	t_fail "profile the two versions" "$(cat slow.err fast.err)"
	exit 0
fi

# ---- kiln diff --absolute on the two profiles ----
"$KILN" diff --absolute slow.pb.gz fast.pb.gz --json >abs.json
json_check "the report says the verdict is by absolute cost, and why" abs.json \
	"d['basis']=='absolute' and d['basis_reason']=='--absolute'"
json_check "each side's cost is its CPU time from getrusage (within 10 %: $slow s, $fast s)" abs.json \
	"abs(d['before']['cost']/1e9/$slow-1)<0.1 and abs(d['after']['cost']/1e9/$fast-1)<0.1"
json_check "the ratio is getrusage's ($slow / $fast) within 10 %, about 8x" abs.json \
	"abs(d['ratio']/($slow/$fast)-1)<0.1 and 6.5<d['ratio']<9.5"
json_check "absolute: hot shrank significantly" abs.json \
	"any(f['function']=='hot' and f['significant'] and f['change']=='shrank' and f['delta_cost']<0 for f in d['functions'])"
json_check "absolute: steady (the same work) is not flagged, whatever its share did" abs.json \
	"any(f['function']=='steady' and not f['significant'] and f['delta_pct']>30 for f in d['functions'])"
json_check "absolute: nothing is flagged as grown (no function got slower)" abs.json \
	"not any(f['significant'] and f['change']=='grew' for f in d['functions'])"
json_check "costs: a function's change is after - before" abs.json \
	"all(abs(f['after_cost']-f['before_cost']-f['delta_cost'])<=1e-5*max(1,abs(f['before_cost'])+abs(f['after_cost'])) for f in d['functions'])"

# ---- files default to shares: the share of steady really did rise ----
"$KILN" diff slow.pb.gz fast.pb.gz --json >shares.json
json_check "files: the verdict is by shares by default, and says why" shares.json \
	"d['basis']=='shares' and 'whole runs' in d['basis_reason'] and abs(d['ratio']/($slow/$fast)-1)<0.1"
json_check "shares: steady's share grew" shares.json \
	"any(f['function']=='steady' and f['significant'] and f['change']=='grew' for f in d['functions'])"
"$KILN" diff --normalize slow.pb.gz fast.pb.gz --json >norm.json
json_check "--normalize is the shares basis" norm.json "d['basis']=='shares' and d['basis_reason']=='--normalize'"
"$KILN" diff --no-normalize slow.pb.gz fast.pb.gz --json >nonorm.json
json_check "--no-normalize (difffolded.pl's default) is the absolute basis" nonorm.json "d['basis']=='absolute'"
"$KILN" diff --absolute slow.pb.gz fast.pb.gz >abs.txt
grep -Eq '^Overall: [0-9.]+× less CPU time$' abs.txt && grep -q '^Verdict by absolute CPU time' abs.txt &&
	t_pass "text: the overall speed-up and the basis" || t_fail "text: the overall speed-up and the basis" "$(cat abs.txt)"

# ---- kiln profile --diff: both commands run to completion, so absolute by default ----
"$KILN" profile --diff -o pd.svg "$H/diff_work 150 10" "$H/diff_work 10 10" >pd.txt 2>pd.err
s=$?
t_ok "--diff exits 0" test $s -eq 0
read -r slow fast < <(awk '/^cpu /{ printf "%s ", $2 }' pd.err)
ratio=$(sed -n 's/^Overall: \([0-9.]*\)× less CPU time$/\1/p' pd.txt)
if [ -n "$ratio" ] && [ -n "$fast" ] &&
	awk -v r="$ratio" -v s="$slow" -v f="$fast" 'BEGIN { g = s / f; exit !(r / g > 0.9 && r / g < 1.1) }'; then
	t_pass "--diff reports the speed-up that getrusage measured ($ratio vs $slow / $fast)"
else
	t_fail "--diff reports the speed-up that getrusage measured" "$(cat pd.txt pd.err)"
fi
grep -q '^Verdict by absolute CPU time (both sides ran their command to completion' pd.txt &&
	t_pass "--diff judges by absolute time and says why" || t_fail "--diff judges by absolute time and says why" "$(cat pd.txt)"
grep -Eq ' -[0-9.]+ ms .* yes +hot$' pd.txt && t_pass "--diff: hot's time dropped significantly" ||
	t_fail "--diff: hot's time dropped significantly" "$(cat pd.txt)"
grep -Eq ' noise +steady$' pd.txt && t_pass "--diff: steady is not flagged" || t_fail "--diff: steady is not flagged" "$(cat pd.txt)"
# The graph on the same basis: hot is deep blue, steady nearly white; tooltips carry the time.
hot_fill=$(grep -o '<title>hot ([^<]*</title><rect [^>]*fill="[^"]*"' pd.svg | grep -o 'fill="[^"]*"')
steady_fill=$(grep -o '<title>steady ([^<]*</title><rect [^>]*fill="[^"]*"' pd.svg | grep -o 'fill="[^"]*"')
if [[ $hot_fill =~ rgb\(([0-9]+),([0-9]+),255\) ]] && [ "${BASH_REMATCH[1]}" -lt 60 ] &&
	[[ $steady_fill =~ rgb\(255,([0-9]+),([0-9]+)\)|rgb\(([0-9]+),([0-9]+),255\) ]] &&
	[ "${BASH_REMATCH[1]:-${BASH_REMATCH[3]}}" -gt 150 ]; then
	t_pass "graph: hot is deep blue, steady nearly white ($hot_fill, $steady_fill)"
else
	t_fail "graph: hot is deep blue, steady nearly white" "$hot_fill $steady_fill"
fi
grep -Eq '<title>hot \([0-9,]+ samples, [0-9.]+ ms, [0-9.]+%; before [0-9.]+ ms, [0-9.]+%; change: self -[0-9.]+ ms' pd.svg &&
	t_pass "graph tooltips give time before and after" || t_fail "graph tooltips give time before and after" \
	"$(grep -o '<title>hot[^<]*' pd.svg)"
t_done
