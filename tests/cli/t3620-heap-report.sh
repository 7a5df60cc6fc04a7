#!/bin/bash
# The heap report (kiln profile --mode mem) on tests/helpers/heap_reach.c: a function leaking from two stacks
# is offered as one suppression; the C library's one-time allocations (NSS, locale) are still reachable, not
# leaks; a leak stack cut short in a library without frame pointers is warned about.
. "$(dirname "$0")/lib.sh"

H=$KILN_BUILD/tests/helpers
cd "$T_TMP" || exit 1
LIB=$KILN_BUILD/libkiln-heap.so
[ -f "$LIB" ] || LIB=$KILN_RELEASE/libkiln-heap.so
if [ ! -f "$LIB" ] || ! command -v python3 >/dev/null; then
	t_skip "heap report" "libkiln-heap.so or python3 is missing"
	exit 0
fi
export KILN_HEAP_LIB=$LIB
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
check() { local got; got=$(json "$2" "$3" 2>&1); if [ "$got" = True ]; then t_pass "$1"; else t_fail "$1" "$3 -> $got"; fi; }

"$KILN" profile --mode mem -o r.pb.gz --json r.json "$H/heap_reach" 2>r.err
if [ "$(grep -c '^  leak:leak_twice$' r.err)" = 1 ] &&
	[ "$(grep -c 'allocated in leak_twice$' r.err)" = 2 ]; then
	t_pass "two leak stacks of one function: one suppression line"
else
	t_fail "two leak stacks of one function: one suppression line" "$(grep -A8 Suppressions r.err)"
fi
check "JSON suppressions listed once" r.json 'len(d["suppressions"]) == len(set(d["suppressions"])) and "leak:leak_twice" in d["suppressions"]'
# Leaks counted: 100 + 200 (leak_twice) + 321 (the qsort callback); the C library's blocks are apart.
check "leaked bytes are the program's own (621)" r.json 'd["leaked_bytes"] == 621'
check "NSS and locale allocations are still reachable, not leaks" r.json \
	'd["still_reachable_bytes"] > 0 and all(l["kind"] == "still_reachable" for l in d["leaks"] if l["function"] not in ("leak_twice", "leaky_cmp")) and any(l["kind"] == "still_reachable" for l in d["leaks"])'
if grep -q "^  still reachable: .*one-time allocations" r.err; then t_pass "the text report names them apart"
else t_fail "the text report names them apart" "$(head -8 r.err)"; fi
# leaky_cmp's stack: leaky_cmp <- qsort internals in libc.so.6, where the frame pointer walk ends.
check "the short stack is counted, in libc" r.json 'd["short_leak_stacks"] >= 1 and "libc.so" in d["short_stacks_module"]'
if grep -q "leak stacks stop before main or a thread start, most in libc.so.6" r.err; then
	t_pass "short leak stacks warned about"
else
	t_fail "short leak stacks warned about" "$(grep -i warning r.err)"
fi
check "full stacks are not short: leak_twice reaches main" r.json \
	'all("main" in l["stack"] for l in d["leaks"] if l["function"] == "leak_twice")'
t_done
