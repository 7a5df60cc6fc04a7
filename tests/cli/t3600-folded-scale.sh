#!/bin/bash
# One scale for folded output: `kiln profile -o x.folded` and `kiln convert x.pb.gz -o y.folded` count the same
# thing (samples, unless --value picks another column), checked against the sample count of the run's report
# and, with a deterministic heap profile, stack by stack.
. "$(dirname "$0")/lib.sh"

H=$KILN_BUILD/tests/helpers
cd "$T_TMP" || exit 1

if ! "$KILN" profile -q -o probe.pb.gz -- true 2>probe.err; then
	t_skip "folded scale" "cannot sample here: $(head -1 probe.err)"
	exit 0
fi

# sum FILE: the total of a folded file's counts.
sum() { awk '{ s += $NF } END { printf "%d\n", s }' "$1"; }
# samples ERRFILE: the sample count of the report ("kiln: 1,234 samples at ...").
samples() { sed -n 's/^kiln: \([0-9,]*\) samples at .*/\1/p' "$1" | tr -d , | head -1; }

# --- cpu: both paths sum to the report's sample count ---------------------------------------------------
"$KILN" profile -o direct.folded "$H/prof_exit" exit 0 0.4 2>direct.err
want=$(samples direct.err) got=$(sum direct.folded)
if [ -n "$want" ] && [ "$want" -gt 50 ] && [ "$got" = "$want" ]; then
	t_pass "profile -o x.folded counts samples ($got = report's $want)"
else
	t_fail "profile -o x.folded counts samples" "folded sums to $got, report says '$want'"
fi

"$KILN" profile -o conv.pb.gz "$H/prof_exit" exit 0 0.4 2>conv.err
want=$(samples conv.err)
"$KILN" convert conv.pb.gz -o conv.folded 2>conv2.err
got=$(sum conv.folded)
if [ -n "$want" ] && [ "$want" -gt 50 ] && [ "$got" = "$want" ]; then
	t_pass "convert x.pb.gz -o y.folded counts samples ($got = report's $want)"
else
	t_fail "convert x.pb.gz -o y.folded counts samples" "folded sums to $got, report says '$want': $(cat conv2.err)"
fi

# --value picks the other column: cpu time, one sampling period (1e9/999 ns at the default -F) per sample.
"$KILN" convert conv.pb.gz --value cpu -o conv-ns.folded 2>/dev/null
ns=$(sum conv-ns.folded)
if [ -n "$want" ] && [ "$ns" = "$((want * (1000000000 / 999)))" ]; then
	t_pass "convert --value cpu writes nanoseconds (samples x period)"
else
	t_fail "convert --value cpu writes nanoseconds (samples x period)" "$ns ns for $want samples"
fi

# --- mem: a deterministic program gives the same folded file both ways, stack by stack --------------------
LIB=$KILN_BUILD/libkiln-heap.so
[ -f "$LIB" ] || LIB=$KILN_RELEASE/libkiln-heap.so
if [ -f "$LIB" ]; then
	export KILN_HEAP_LIB=$LIB
	"$KILN" profile --mode mem -q -o heap.folded "$H/heap_leaks" 2>/dev/null
	"$KILN" profile --mode mem -q -o heap.pb.gz "$H/heap_leaks" 2>/dev/null
	"$KILN" convert heap.pb.gz -o heap-conv.folded 2>/dev/null
	sort heap.folded >a.sorted
	sort heap-conv.folded >b.sorted
	if [ -s a.sorted ] && grep -q leak_page a.sorted; then
		t_same "mem: profile -o x.folded equals convert of x.pb.gz" a.sorted b.sorted
	else
		t_fail "mem: profile -o x.folded equals convert of x.pb.gz" "no heap profile: $(head -3 a.sorted)"
	fi
else
	t_skip "mem: profile -o x.folded equals convert of x.pb.gz" "libkiln-heap.so is not built"
fi
t_done
