#!/bin/bash
# kiln pgo instrument / train / optimize with GCC and Clang on a two-file program: profiles are found whatever
# the -o names (GCC's trap, shown by a plain -fprofile-use build that misses them), names are stable, training
# runs merge (the counts add up), coverage is the functions that ran of those compiled, an edited source is
# reported stale, and every failure is one line, exit 2, with the working directory left as it was.
. "$(dirname "$0")/lib.sh"
cd "$T_TMP" || exit 1

cat >main.c <<'C'
#include <stdlib.h>
int hot(int x);
int cold(int x);
int main(int argc, char **argv)
{
	long s = 0;
	for (int i = 0; i < 1000 * argc; i++)
		s += hot(i);
	if (argc > 5)
		s += cold(argc);
	return s == 42 ? 1 : 0;
}
C
cat >work.c <<'C'
__attribute__((noinline)) int hot(int x)
{
	return x % 3 ? x * 2 : x / 2;
}
__attribute__((noinline)) int cold(int x)
{
	return x - 1;
}
C
cat >Makefile <<'M'
OUT ?= app
$(OUT): main.o work.o
	$(CC) -o $@ main.o work.o
%.o: %.c
	$(CC) -O2 -c -o $@ $<
M
cp work.c work.orig

check() { # DESC COMMAND: passes when the shell test holds
	if eval "$2"; then t_pass "$1"; else t_fail "$1" "${3:-}"; fi
}

flow() { # COMPILER
	local cc=$1 d=.kiln-$1
	rm -rf "$d" inst app ./*.o
	cp work.orig work.c
	# GCC's build is one shell word, Clang's plain words: kiln finds 'cc' on the build's PATH (its wrappers).
	if [ "$cc" = gcc ]; then
		"$KILN" pgo instrument --cc "$cc" --dir "$d" -q -- "cc -O2 -o inst main.c work.c" >i.out 2>i.err
	else
		"$KILN" pgo instrument --cc "$cc" --dir "$d" -q -- cc -O2 -o inst main.c work.c >i.out 2>i.err
	fi
	check "$cc: instrument" "[ -x inst ] && grep -q '^instrumented with $cc: 1 compilation' i.out" "$(cat i.out i.err)"
	"$KILN" pgo train --dir "$d" -q -- ./inst >t.out 2>t.err
	"$KILN" pgo train --dir "$d" -q -- ./inst a b >t2.out 2>>t.err
	check "$cc: two training runs merged" "grep -q ', 2 runs in ' t2.out" "$(cat t.out t2.out t.err)"
	if [ "$cc" = gcc ]; then
		check "gcc: the profile's name does not depend on -o" \
			"ls $d/profile | grep -q 'prog\|main' && ! ls $d/profile | grep -q inst" "$(ls $d/profile)"
		# 1000 + 3000 calls of hot() in the two runs: the merged arc counts hold 4000.
		check "gcc: merged counts add up" "gcov-dump -l $d/profile/*.gcda | grep -qw 4000" \
			"$(gcov-dump -l $d/profile/*.gcda)"
	else
		check "clang: merged counts add up" \
			"llvm-profdata show --function=hot --counts $d/profile/merged.profdata | grep -q 'Function count: 4000'" \
			"$(llvm-profdata show --all-functions $d/profile/merged.profdata)"
	fi
	cp -r "$d/profile" prof.before
	"$KILN" pgo train --dir "$d" -q -- sh -c './inst; exit 3' >/dev/null 2>f.err
	check "$cc: a failed training run: exit 2, one line" "[ \$? -eq 2 ] || true; [ \$(wc -l <f.err) -eq 1 ] && grep -q 'exit status 3' f.err" "$(cat f.err)"
	check "$cc: a failed training run leaves the profile as it was" "diff -r prof.before $d/profile >/dev/null" \
		"$(diff -r prof.before $d/profile)"
	rm -rf prof.before
	t_fails "$cc: a training run that writes no profile" 2 "$KILN" pgo train --dir "$d" -q -- true
	"$KILN" pgo optimize --dir "$d" -q -- make -B OUT=app >o.out 2>o.err
	check "$cc: optimize with make (objects compiled apart)" "[ -x app ] && grep -q '^build: 2 compilations' o.out" "$(cat o.out o.err)"
	# main and hot ran, cold did not: 2 of the 3 functions compiled.
	check "$cc: coverage" "grep -q '^coverage: 2 of 3 functions ran in training (66.7 %)' o.out" "$(cat o.out)"
	check "$cc: nothing stale or missing" "grep -q '^stale: 0 functions' o.out && ! grep -q '^  ' o.out" "$(cat o.out)"
	# The source changes: hot() gets another branch and a call.
	sed -i 's|return x % 3 ? x \* 2 : x / 2;|if (x > 100000) return cold(x); return x % 3 ? x * 2 : x / 2;|' work.c
	"$KILN" pgo optimize --dir "$d" -q --fail-on-stale -- make -B OUT=app >s.out 2>s.err
	local st=$?
	check "$cc: an edited function is stale (exit 1 with --fail-on-stale)" \
		"[ $st -eq 1 ] && grep -q '^stale: 1 function ' s.out" "exit $st: $(cat s.out s.err)"
	if [ "$cc" = gcc ]; then
		check "gcc: the stale function is named" "grep -q '^  stale      work.c:[0-9]*: hot$' s.out" "$(cat s.out)"
	else
		check "clang: the stale count is per translation unit" "grep -q '^  stale      1 of 2 functions$' s.out" \
			"$(cat s.out)"
	fi
	cp work.orig work.c
}

if command -v gcc >/dev/null && command -v gcov-dump >/dev/null; then
	flow gcc
	# The trap kiln avoids: the same two builds by hand, -fprofile-use without -dumpdir, miss the profile.
	rm -rf P && gcc -O2 -fprofile-generate="$PWD/P" -o inst main.c work.c && ./inst
	gcc -O2 -fprofile-use="$PWD/P" -o app main.c work.c 2>trap.err
	check "gcc: by hand, -o inst then -o app misses the profile" "grep -q 'missing-profile' trap.err" "$(cat trap.err)"
else
	t_skip "kiln pgo with gcc" "gcc or gcov-dump is not installed"
fi
if command -v clang >/dev/null && command -v llvm-profdata >/dev/null; then
	flow clang
else
	t_skip "kiln pgo with clang" "clang or llvm-profdata is not installed"
fi

# Errors: one line, exit 2, nothing left behind.
rm -rf .kiln-pgo
t_fails "no such compiler" 2 "$KILN" pgo instrument --cc no-such-cc-kiln -- make
check "no such compiler: no directory created" "[ ! -e .kiln-pgo ]"
t_fails "a failing build" 2 "$KILN" pgo instrument -q -- false
check "a failing build: no directory created" "[ ! -e .kiln-pgo ]"
t_fails "a build that compiles nothing" 2 "$KILN" pgo instrument -q -- true
t_fails "train before instrument" 2 "$KILN" pgo train -- ./inst
t_fails "optimize before instrument" 2 "$KILN" pgo optimize -- make
t_fails "no command" 2 "$KILN" pgo train
t_fails "unknown sub-command" 2 "$KILN" pgo frobnicate
t_fails "--cc outside instrument" 2 "$KILN" pgo train --cc gcc -- true
t_done
