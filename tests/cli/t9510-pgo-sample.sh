#!/bin/bash
# kiln pgo sample: a kiln CPU profile of a clang -O2 -g program becomes an LLVM sample profile whose line offsets
# are the source's own (counted here from the source text), with the inline nesting of the program (main ->
# work -> sq, all inlined), totals that add up, nothing at an offset of another file, and that llvm-profdata and
# clang -fprofile-sample-use accept. Both ways kiln gets lines are covered: from its symbolizer (the binary has
# .debug_aranges) and from the DWARF inline chain at each address (Clang's default, without aranges).
. "$(dirname "$0")/lib.sh"
cd "$T_TMP" || exit 1

for tool in clang llvm-profdata python3; do
	command -v $tool >/dev/null || { t_skip "kiln pgo sample" "$tool is not installed"; exit 0; }
done
"$KILN" profile -o probe.pb.gz true >/dev/null 2>probe.err
if [ $? -ne 0 ]; then
	t_skip "kiln pgo sample" "kiln profile cannot sample here: $(head -1 probe.err)"
	exit 0
fi

cat >inl.c <<'C'
#include <stdlib.h>
static inline int sq(int x)
{
	return x * x; /* SQ_BODY */
}

static int work(int n)
{
	int s = 0;
	for (int i = 0; i < n; i++)
		s += sq(i) % 7; /* WORK_CALL */
	return s;
}

int main(int argc, char **argv)
{
	long t = 0;
	for (int k = 0; k < 2500 * argc; k++)
		t += work(100000); /* MAIN_CALL */
	return t == 1;
}
C
line() { grep -n "$1" inl.c | head -1 | cut -d: -f1; }
MAIN_OFF=$(($(line MAIN_CALL) - $(line '^int main')))
WORK_OFF=$(($(line WORK_CALL) - $(line '^static int work')))
SQ_OFF=$(($(line SQ_BODY) - $(line '^static inline int sq')))

# Parses the text format and checks the nesting main -> work -> sq at the source's offsets.
cat >check.py <<'PY'
import re, sys
path, main_off, work_off, sq_off, written = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
funcs, stack = {}, []
body_sum = 0
for raw in open(path):
    line = raw.rstrip("\n")
    depth = len(line) - len(line.lstrip(" "))
    text = line.strip()
    if depth == 0:
        name, total, head = text.rsplit(":", 2)
        node = {"name": name, "total": int(total), "body": {}, "calls": {}}
        funcs[name] = node
        stack = [node]
        continue
    del stack[depth:]
    m = re.match(r"^(\d+)(?:\.(\d+))?: (.*)$", text)
    assert m, line
    off = int(m.group(1))
    assert 0 <= off < 65535, line
    rest = m.group(3).split(" ")
    if re.match(r"^\d+$", rest[0]):
        stack[-1]["body"][off] = stack[-1]["body"].get(off, 0) + int(rest[0])
        body_sum += int(rest[0]) if len(rest) == 1 else 0
    else:
        callee, total = rest[0].rsplit(":", 1)
        node = {"name": callee, "total": int(total), "body": {}, "calls": {}}
        stack[-1]["calls"][(off, callee)] = node
        stack.append(node)

def total(n):
    return sum(n["body"].values()) + sum(total(c) for c in n["calls"].values())
def check_totals(n):
    assert n["total"] == total(n), (n["name"], n["total"], total(n))
    for c in n["calls"].values():
        check_totals(c)
for f in funcs.values():
    check_totals(f)
main = funcs["main"]
work = main["calls"][(main_off, "work")]
sq = work["calls"][(work_off, "sq")]
assert sq["body"].get(sq_off, 0) > 0, sq
assert body_sum == written, (body_sum, written)
assert work["total"] >= 0.9 * main["total"], (work["total"], main["total"])
PY

for variant in aranges plain; do
	flags="-O2 -g"
	[ $variant = aranges ] && flags="$flags -gdwarf-aranges"
	clang $flags -o inl-$variant inl.c || { t_fail "$variant: compile"; continue; }
	"$KILN" profile -o $variant.pb.gz ./inl-$variant >/dev/null 2>&1
	"$KILN" pgo sample $variant.pb.gz --binary ./inl-$variant -o $variant.prof >$variant.out 2>$variant.err
	st=$?
	if [ $st -ne 0 ]; then
		t_fail "$variant: kiln pgo sample" "exit $st: $(cat $variant.err)"
		continue
	fi
	written=$(sed -n 's/.*placed (\([0-9]*\) of \([0-9]*\) in.*/\1/p' $variant.out)
	in_bin=$(sed -n 's/.*placed (\([0-9]*\) of \([0-9]*\) in.*/\2/p' $variant.out)
	if python3 check.py $variant.prof $MAIN_OFF $WORK_OFF $SQ_OFF "${written:-0}" 2>py.err; then
		t_pass "$variant: offsets from the source, inline nesting, totals"
	else
		t_fail "$variant: offsets from the source, inline nesting, totals" "$(tail -3 py.err; cat $variant.out $variant.prof)"
	fi
	if [ -n "$in_bin" ] && [ "$in_bin" -gt 0 ] && [ $((written * 100 / in_bin)) -ge 95 ]; then
		t_pass "$variant: the program's samples are placed ($written of $in_bin)"
	else
		t_fail "$variant: the program's samples are placed" "$(cat $variant.out)"
	fi
	t_ok "$variant: llvm-profdata reads it" llvm-profdata show --sample $variant.prof
	clang -O2 -g -fprofile-sample-use=$variant.prof -S -emit-llvm -o $variant.ll inl.c 2>$variant.cc.err
	if grep -q '!"ProfileFormat", !"SampleProfile"' $variant.ll && grep -q 'branch_weights' $variant.ll; then
		t_pass "$variant: clang -fprofile-sample-use applies it (branch weights)"
	else
		t_fail "$variant: clang -fprofile-sample-use applies it" "$(head -3 $variant.cc.err)"
	fi
done
# Discriminators (clang -fdebug-info-for-profiling): each N.D record names a line and a DWARF discriminator of
# it. LLVM writes a base discriminator D below 32 as 2*D in the low 7 bits; the bits above carry the duplication
# factor of unrolled or vectorised copies (DILocation::encodeDiscriminator).
cat >disc.c <<'C'
__attribute__((noinline)) long f(const int *v, int n)
{
	long s = 0;
	for (int i = 0; i < n; i++) { if (v[i] & 1) s += v[i] * 3; else s -= v[i] >> 1; }
	return s;
}
int main(int argc, char **argv)
{
	static int v[100000];
	long t = 0;
	for (int i = 0; i < 100000; i++) v[i] = (i * 2654435761u) >> 7;
	for (int k = 0; k < 2500 * argc; k++) t += f(v, 100000 - (k & 7));
	return t == 1;
}
C
clang -O2 -g -fdebug-info-for-profiling -o disc disc.c
"$KILN" profile -o disc.pb.gz ./disc >/dev/null 2>&1
"$KILN" pgo sample disc.pb.gz --binary ./disc -o disc.prof >/dev/null 2>disc.err
start=$(grep -n '^__attribute__((noinline)) long f' disc.c | cut -d: -f1)
llvm-dwarfdump --debug-line disc | awk '$1 ~ /^0x/ { print $2, $6 % 128 }' | sort -u >dwarf-disc.txt
bad=$(sed -n '/^f:/,/^[^ ]/p' disc.prof | sed -n 's/^ \([0-9]*\)\.\([0-9]*\): .*/\1 \2/p' | while read -r off d; do
	grep -qx "$((start + off)) $((2 * d))" dwarf-disc.txt || echo "$off.$d"
done)
if grep -qE '^ [0-9]+\.[0-9]+: ' disc.prof && [ -z "$bad" ]; then
	t_pass "discriminators are the DWARF's"
else
	t_fail "discriminators are the DWARF's" "not in the DWARF: $bad; $(cat disc.err disc.prof)"
fi

# Body samples only (as AutoFDO from IP samples): no call targets, same bodies.
"$KILN" pgo sample plain.pb.gz --binary ./inl-plain --no-call-targets -o nct.prof >/dev/null 2>&1
if [ -s nct.prof ] && ! grep -qE '^ +[0-9.]+: [0-9]+ [^ ]+:[0-9]+' nct.prof; then
	t_pass "--no-call-targets writes no call targets"
else
	t_fail "--no-call-targets writes no call targets" "$(cat nct.prof)"
fi

# A profile of another build: the source gained lines above work(), the program was rebuilt under its name.
sed 's|^static int work|/* moved */\n\n&|' inl.c >edited.c && clang -O2 -g -gdwarf-aranges -o inl-aranges edited.c
t_fails "a profile of another build is reported stale, not misapplied" 2 "$KILN" pgo sample aranges.pb.gz \
	--binary ./inl-aranges -o stale.prof
grep -q "stale" "$T_TMP/fails.err" && [ ! -e stale.prof ] && t_pass "the refusal says stale" ||
	t_fail "the refusal says stale" "$(cat "$T_TMP/fails.err")"
t_fails "a binary that is not the profiled one" 2 "$KILN" pgo sample plain.pb.gz --binary ./inl-aranges -o x.prof
t_fails "a binary without debug information" 2 sh -c "cp inl-plain stripped && strip stripped && \"$KILN\" pgo sample plain.pb.gz --binary ./stripped -o x.prof"
t_fails "GCC's AutoFDO format is refused with its cause" 2 "$KILN" pgo sample plain.pb.gz --format gcc -o x.afdo
grep -q "llvm-profdata" "$T_TMP/fails.err" && t_pass "the refusal names llvm-profdata" || t_fail "the refusal names llvm-profdata" "$(cat "$T_TMP/fails.err")"
t_fails "no output" 2 "$KILN" pgo sample plain.pb.gz
t_fails "a missing profile" 2 "$KILN" pgo sample nothere.pb.gz -o x.prof
t_fails "a kiln serve query (not yet)" 2 "$KILN" pgo sample http://localhost:4040/q -o x.prof
check() { [ ! -e x.prof ] && [ ! -e x.afdo ] && ! ls ./*kiln-text* >/dev/null 2>&1; }
if check; then t_pass "failures leave no output behind"; else t_fail "failures leave no output behind" "$(ls)"; fi
t_done
