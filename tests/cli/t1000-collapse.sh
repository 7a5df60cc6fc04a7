#!/bin/bash
# kiln collapse: perf script text to folded stacks, byte-identical to FlameGraph's stackcollapse-perf.pl. The
# shared fixtures hold 13 public captures with the Perl script's output for 7 options (91 cases); the local ones
# are captures recorded with perf on a test machine, their expected outputs checked against the Perl script.
. "$(dirname "$0")/lib.sh"

FIX=$KILN_ROOT/tests/fixtures/perf-script
SC=$SHARED/fixtures/stackcollapse-perf

# ---- the 91 reference cases ----
if [ -d "$SC/input" ] && [ -d "$SC/expected" ]; then
	n=0 bad=0 detail=
	for in in "$SC"/input/*.txt; do
		name=$(basename "$in" .txt)
		for opt in default pid tid kernel jit all addrs; do
			want=$SC/expected/$name-collapsed-$opt.txt
			[ -f "$want" ] || continue
			args=()
			[ $opt != default ] && args=(--$opt)
			n=$((n + 1))
			if ! "$KILN" collapse -q "${args[@]}" "$in" >"$T_TMP/got" 2>"$T_TMP/err" ||
				! cmp -s "$T_TMP/got" "$want"; then
				bad=$((bad + 1))
				detail="$detail$name --$opt: $(diff "$want" "$T_TMP/got" | head -3; head -2 "$T_TMP/err")
"
			fi
		done
	done
	if [ $n -eq 91 ] && [ $bad -eq 0 ]; then
		t_pass "all 91 stackcollapse-perf.pl reference outputs match byte for byte"
	else
		t_fail "all 91 stackcollapse-perf.pl reference outputs match byte for byte" "$n cases, $bad differ
$detail"
	fi
else
	t_skip "91 stackcollapse-perf.pl reference outputs" "$SC is absent (shared fixtures not available)"
fi

# ---- local captures (expected outputs verified against stackcollapse-perf.pl) ----
t_exact spin-default -- "$KILN" collapse "$FIX/spin-user.txt"
t_exact spin-addrs -- "$KILN" collapse --addrs "$FIX/spin-user.txt"
t_exact kernel-default -- "$KILN" collapse "$FIX/system-wide-kernel.txt"
t_exact kernel-annotated -- "$KILN" collapse --kernel "$FIX/system-wide-kernel.txt"
t_exact threads-pid -- "$KILN" collapse --pid "$FIX/threads-pid-tid.txt"
t_exact threads-tid -- "$KILN" collapse --tid "$FIX/threads-pid-tid.txt"
t_exact node-jit -- "$KILN" collapse --jit "$FIX/node-jit.txt"
t_exact node-all -- "$KILN" collapse --all "$FIX/node-jit.txt"
t_exact two-events-first -- "$KILN" collapse -q "$FIX/two-events.txt"
t_exact two-events-cpu-clock -- "$KILN" collapse --event-filter=cpu-clock "$FIX/two-events.txt"

# ---- event selection ----
"$KILN" collapse --event cpu-clock "$FIX/two-events.txt" >"$T_TMP/ev1" 2>/dev/null
"$KILN" collapse --event-filter cpu-clock "$FIX/two-events.txt" >"$T_TMP/ev2" 2>/dev/null
t_same "--event and --event-filter are the same option" "$T_TMP/ev1" "$T_TMP/ev2"
"$KILN" collapse "$FIX/two-events.txt" >/dev/null 2>"$T_TMP/ev.err"
if grep -q "warning: '.*two-events.txt': kept only 'page-faults' samples (the first event); skipped 93 samples" \
	"$T_TMP/ev.err"; then
	t_pass "mixed events: the first event is kept and the skip is reported on stderr"
else
	t_fail "mixed events: the first event is kept and the skip is reported on stderr" "$(cat "$T_TMP/ev.err")"
fi
# stackcollapse-perf.pl prints nothing and succeeds; kiln says the result is empty (one line, exit 2).
t_fails "an event that never occurs: no samples, an error" 2 "$KILN" collapse --event-filter=no-such-event \
	"$FIX/two-events.txt"

# ---- stdin, -o, --to ----
"$KILN" collapse "$FIX/system-wide-kernel.txt" >"$T_TMP/file.out"
"$KILN" collapse <"$FIX/system-wide-kernel.txt" >"$T_TMP/stdin.out"
t_same "stdin gives the same output as a file" "$T_TMP/file.out" "$T_TMP/stdin.out"
cat "$FIX/system-wide-kernel.txt" | "$KILN" collapse - >"$T_TMP/pipe.out"
t_same "a pipe ('-') gives the same output as a file" "$T_TMP/file.out" "$T_TMP/pipe.out"
"$KILN" collapse "$FIX/system-wide-kernel.txt" -o "$T_TMP/o.folded"
t_same "-o FILE writes the same bytes" "$T_TMP/file.out" "$T_TMP/o.folded"
t_fails "-o into a missing directory fails with one line" 2 \
	"$KILN" collapse "$FIX/spin-user.txt" -o "$T_TMP/no/such/dir/x.folded"
[ ! -e "$T_TMP/no/such/dir/x.folded" ] && t_pass "no output file is left behind on failure" ||
	t_fail "no output file is left behind on failure"
if "$KILN" collapse "$FIX/spin-user.txt" -o "$T_TMP/spin.pb.gz" &&
	[ "$(head -c2 "$T_TMP/spin.pb.gz" | od -An -tx1 | tr -d ' ')" = 1f8b ] &&
	"$KILN" convert "$T_TMP/spin.pb.gz" -o - --to folded >"$T_TMP/back.folded" 2>"$T_TMP/back.err"; then
	"$KILN" collapse "$FIX/spin-user.txt" >"$T_TMP/spin.folded"
	t_same "-o x.pb.gz writes pprof with every stack and count (read back through kiln convert)" \
		"$T_TMP/spin.folded" "$T_TMP/back.folded"
else
	t_fail "-o x.pb.gz writes pprof with every stack and count" "$(cat "$T_TMP/back.err")"
fi
"$KILN" collapse "$FIX/spin-user.txt" --format pprof -o "$T_TMP/spin.folded.out"
[ "$(head -c2 "$T_TMP/spin.folded.out" | od -An -tx1 | tr -d ' ')" = 1f8b ] &&
	t_pass "--format overrides the extension" || t_fail "--format overrides the extension"
t_fails "an unknown --format is a usage error" 2 "$KILN" collapse --format nope "$FIX/spin-user.txt"

# ---- robustness: clear errors or correct results, never a crash ----
: >"$T_TMP/empty"
t_fails "empty input: an error, not empty output" 2 "$KILN" collapse "$T_TMP/empty"
printf '# only comments\n#\n' >"$T_TMP/comments"
t_fails "input without a sample: an error" 2 "$KILN" collapse "$T_TMP/comments"
grep -q "no samples in" "$T_TMP/fails.err" && t_pass "... which says there are no samples" ||
	t_fail "... which says there are no samples" "$(cat "$T_TMP/fails.err")"
head -c 20000 "$KILN" >"$T_TMP/binary"
t_fails "binary input is an error" 2 "$KILN" collapse "$T_TMP/binary"
printf 'PERFILE2\010\000\000\000\000\000\000\000' >"$T_TMP/perf.data"
t_fails "a truncated perf.data file is an error" 2 "$KILN" collapse "$T_TMP/perf.data"
grep -q "perf.data" "$T_TMP/fails.err" && t_pass "the truncated perf.data message says what the file is" ||
	t_fail "the truncated perf.data message says what the file is" "$(cat "$T_TMP/fails.err")"
printf 'main;foo;bar 12\nmain;foo 3\n' >"$T_TMP/folded"
t_fails "folded stacks (not perf script) are an error" 2 "$KILN" collapse "$T_TMP/folded"
t_fails "a missing file is an error" 2 "$KILN" collapse "$T_TMP/does-not-exist"
t_fails "a directory is an error" 2 "$KILN" collapse "$T_TMP"
t_fails "an unknown option is a usage error" 2 "$KILN" collapse --bogus "$FIX/spin-user.txt"
t_fails "two inputs are a usage error" 2 "$KILN" collapse "$FIX/spin-user.txt" "$FIX/spin-user.txt"

sed 's/$/\r/' "$FIX/system-wide-kernel.txt" >"$T_TMP/crlf.txt"
"$KILN" collapse "$T_TMP/crlf.txt" >"$T_TMP/crlf.out" 2>"$T_TMP/crlf.err"
t_same "CRLF line endings give the same result as LF" "$T_TMP/file.out" "$T_TMP/crlf.out"

# A capture cut mid-sample: the incomplete last sample is dropped (the Perl script counts a sample at its
# terminating empty line), everything before it is counted.
size=$(wc -c <"$FIX/system-wide-kernel.txt")
head -c $((size / 2)) "$FIX/system-wide-kernel.txt" >"$T_TMP/cut.txt"
awk 'BEGIN { RS = ""; ORS = "\n\n" } { blocks[NR] = $0 } END { for (i = 1; i < NR; i++) print blocks[i] }' \
	"$T_TMP/cut.txt" >"$T_TMP/whole-samples.txt"
"$KILN" collapse "$T_TMP/cut.txt" >"$T_TMP/cut.out" 2>/dev/null
"$KILN" collapse "$T_TMP/whole-samples.txt" >"$T_TMP/whole.out" 2>/dev/null
if [ -s "$T_TMP/cut.out" ]; then
	t_same "truncated input: every complete sample is counted" "$T_TMP/whole.out" "$T_TMP/cut.out"
else
	t_fail "truncated input: every complete sample is counted" "empty output"
fi

# A 20 MB symbol on one line, from a file (mapped) and from a pipe (streamed).
{
	printf 'prog 1 1.0: 1 cycles:\n\t1 '
	head -c 20000000 /dev/zero | tr '\0' 'x'
	printf ' (/bin/prog)\n\t2 main (/bin/prog)\n\n'
} >"$T_TMP/huge.txt"
printf 'prog;main;' >"$T_TMP/huge.want"
head -c 20000000 /dev/zero | tr '\0' 'x' >>"$T_TMP/huge.want"
printf ' 1\n' >>"$T_TMP/huge.want"
"$KILN" collapse "$T_TMP/huge.txt" >"$T_TMP/huge.out" 2>"$T_TMP/huge.err"
t_same "a 20 MB line is handled (file)" "$T_TMP/huge.want" "$T_TMP/huge.out"
"$KILN" collapse - <"$T_TMP/huge.txt" >"$T_TMP/huge2.out" 2>"$T_TMP/huge2.err"
t_same "a 20 MB line is handled (stdin)" "$T_TMP/huge.want" "$T_TMP/huge2.out"
rm -f "$T_TMP"/huge*

# Lines the Perl script skips or reads in surprising ways keep its semantics.
printf '%s\n' \
	'# a comment' \
	'V8 WorkerThread 25607/25610 [000] 94564.109216:     100 cycles: ' \
	'	ffff foo(int, char*)+0x1f ([kernel.kallsyms])' \
	'	7f00 [unknown] (/usr/lib/libc.so.6)' \
	'	7f01 [unknown] ([unknown])' \
	'	7f02 net/http.(*Client).Do (/bin/go)' \
	'	7f03 Lorg/x/Y;.call(Lx;)V (/tmp/perf-12.map)' \
	'	7f04 a->b->c (/bin/x)' \
	'	7f05 ns::(anonymous namespace)::f(int) (/bin/x)' \
	'	7f06 (process) (/bin/x)' \
	'garbage' \
	'' >"$T_TMP/odd.txt"
printf '%s\n' \
	'V8_WorkerThread-25607/25610;ns::(anonymous namespace)::f;a;b_[i];c_[i];Lorg/x/Y:.call_[j];net/http.(*Client).Do;[unknown <7f01>];[libc.so.6 <7f00>];foo_[k] 100' \
	>"$T_TMP/odd.want"
"$KILN" collapse -q --tid --all --addrs "$T_TMP/odd.txt" >"$T_TMP/odd.out"
t_same "odd lines follow the Perl script (names, annotations, addresses, skips)" "$T_TMP/odd.want" "$T_TMP/odd.out"
"$KILN" collapse "$T_TMP/odd.txt" 2>&1 >/dev/null |
	grep -q "warning: '.*odd.txt': ignored 1 line with invalid format (the first is line 11)" &&
	t_pass "unrecognized lines are counted in one warning" ||
	t_fail "unrecognized lines are counted in one warning" "$("$KILN" collapse "$T_TMP/odd.txt" 2>&1 >/dev/null)"

# perf script --inline prints inlined functions as extra frame lines; --inline is accepted for compatibility.
printf '%s\n' 'prog 7 1.0: 1 cycles: ' '	11e4 square (inlined)' '	11e4 sum_squares+0x14 (/bin/prog)' \
	'	1100 main+0x20 (/bin/prog)' '' >"$T_TMP/inline.txt"
echo 'prog;main;sum_squares;square 1' >"$T_TMP/inline.want"
"$KILN" collapse --inline "$T_TMP/inline.txt" >"$T_TMP/inline.out" 2>"$T_TMP/inline.err"
t_same "input from perf script --inline keeps the inlined frames (--inline accepted)" "$T_TMP/inline.want" \
	"$T_TMP/inline.out"

# ---- perf.data, read directly ----
# A program with frame pointers and three named functions, recorded by perf itself.
if command -v perf >/dev/null && command -v cc >/dev/null; then
	cat >"$T_TMP/pd.c" <<'CEOF'
#include <stdio.h>
static volatile double sink;
__attribute__((noinline)) void pd_leaf(int n) { for (int i = 0; i < n; i++) sink += i * 0.5; }
__attribute__((noinline)) void pd_mid(int n) { pd_leaf(n); sink += 1; }
int main(void) { for (int i = 0; i < 400; i++) pd_mid(400000); return 0; }
CEOF
	if cc -O1 -g -fno-omit-frame-pointer -o "$T_TMP/pd" "$T_TMP/pd.c" &&
		perf record -q -F 999 -g -o "$T_TMP/pd.data" -- "$T_TMP/pd" >/dev/null 2>&1; then
		"$KILN" collapse "$T_TMP/pd.data" >"$T_TMP/pd.folded" 2>"$T_TMP/pd.err"
		s=$?
		if [ $s -eq 0 ] && grep -q '^pd;.*main;\(pd_mid;\)\?pd_leaf [0-9]' "$T_TMP/pd.folded"; then
			t_pass "a perf.data file is collapsed directly, symbolized by kiln"
		else
			t_fail "a perf.data file is collapsed directly, symbolized by kiln" \
				"exit $s: $(head -3 "$T_TMP/pd.err") $(head -3 "$T_TMP/pd.folded")"
		fi
	else
		t_skip "collapse of perf.data" "perf record cannot run here"
	fi
else
	t_skip "collapse of perf.data" "perf or cc is not installed"
fi

# ---- help ----
"$KILN" collapse --help >"$T_TMP/h1"
"$KILN" help collapse >"$T_TMP/h2"
t_same "'kiln help collapse' and 'kiln collapse --help' print the same page" "$T_TMP/h1" "$T_TMP/h2"
grep -q -- '--event-filter' "$T_TMP/h1" && grep -q 'perf script | kiln collapse' "$T_TMP/h1" &&
	t_pass "--help lists the options and examples" || t_fail "--help lists the options and examples"
