#!/bin/bash
# kiln pgo compare on builds whose costs are known: a program that spins N times against the same program
# spinning N/2 times (twice as fast: +100 %), against itself (no change), and against itself after a sleep (the
# same CPU time, a much longer wall time: CPU time is the default cost, --wall measures elapsed time). The
# figures are read from the report and the Markdown table; the JSON export holds every run of every build.
. "$(dirname "$0")/lib.sh"
cd "$T_TMP" || exit 1

check() { # DESC COMMAND [DETAIL]: passes when the shell test holds
	if eval "$2"; then t_pass "$1"; else t_fail "$1" "${3:-}"; fi
}
command -v cc >/dev/null || { t_skip "kiln pgo compare" "no C compiler"; exit 0; }
cat >spin.c <<'C'
#include <stdlib.h>
int main(int argc, char **argv)
{
	volatile unsigned long x = 0;
	for (long i = atol(argv[1]); i > 0; i--)
		x += (unsigned long)i;
	return 0;
}
C
cc -O1 -o spin spin.c || { t_fail "cc spin.c"; exit 0; }
N=40000000
gain() { # NAME FILE: the build's speed-up in percent, from the report line
	sed -n "s/^  $1 .* speed-up \([-+][0-9.]*\) %.*/\1/p" "$2"
}
in_range() { # VALUE LO HI
	awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v != "" && v >= lo && v <= hi) }'
}

"$KILN" pgo compare -r 9 -n full -n half -n same -n sleepy --export-markdown cmp.md --export-json cmp.json \
	"./spin $N" "./spin $((N / 2))" "./spin $N" "sleep 0.3; ./spin $N" >cmp.out 2>cmp.err
cat cmp.out cmp.err >cmp.all
check "compare: 9 interleaved rounds of CPU time" "grep -q '^9 interleaved rounds, CPU time' cmp.out" "$(cat cmp.all)"
g=$(gain half cmp.out)
check "half the work: +100 % (+80 .. +120), measured $g %" "in_range '$g' 80 120" "$(cat cmp.all)"
check "half the work: faster" "grep -q '^  half .*: faster\$' cmp.out" "$(cat cmp.all)"
g=$(gain same cmp.out)
check "the same build: 0 % (-5 .. +5), measured $g %" "in_range '$g' -5 5" "$(cat cmp.all)"
g=$(gain sleepy cmp.out)
check "a sleep costs no CPU time: 0 % (-10 .. +10), measured $g %" "in_range '$g' -10 10" "$(cat cmp.all)"
check "Markdown: the baseline and each build's figure" \
	"grep -q '^| \`full\` | [0-9.]* | | | | baseline |' cmp.md && grep -q '^| \`half\` | [0-9.]* | +[0-9.]* % | .* | faster |' cmp.md" "$(cat cmp.md)"
json_check "JSON: every run of the four builds" cmp.json \
	'[r["command"] for r in d["results"]] == ["full", "half", "same", "sleepy"] and all(len(r["user_times"]) == 9 for r in d["results"])'

# Elapsed time: two sleeps of 0.5 s and 0.1 s (a loaded machine only adds wake-up latency to each: the speed-up
# stays under +400 % and far above 0).
"$KILN" pgo compare --wall -r 5 'sleep 0.5' 'sleep 0.1' >wall.out 2>wall.err
g=$(gain optimized wall.out)
check "--wall: elapsed time, +400 % at most (above +150), measured $g %" "in_range '$g' 150 410" "$(cat wall.out wall.err)"

t_fails "compare needs two command lines" 2 "$KILN" pgo compare 'true'
t_fails "more names than builds" 2 "$KILN" pgo compare -n a -n b -n c 'true' 'true'
t_fails "a build that fails" 2 "$KILN" pgo compare -r 2 'true' 'false'
t_done
