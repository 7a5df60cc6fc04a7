#!/bin/bash
# Off-CPU truth under load: the waits of a child started through `sh -c` (tests/helpers/wait_sleep: sleeper()
# sleeps 3 x 100 ms) and a wall-clock profile's main thread against its own lifetime, RUNS times in a row while
# `make -j2` of kiln (a copy of this tree, built into a scratch directory) keeps both CPUs busy. Every run must
# be within 15 % of its known time (as in tests/cli/t7000-offcpu.sh); prints one line per run and exits 1 when
# any missed. Not part of `make check` (minutes long). Usage: bench/offcpu-stress.sh   (env: BUILD, RUNS, LOAD=0
# for no load)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-20}
KILN=$PWD/$BUILD/kiln
H=$PWD/$BUILD/tests/helpers
make --no-print-directory -s BUILD="$BUILD" "$BUILD/kiln" "$BUILD/tests/helpers/wait_sleep" >/dev/null || exit 1
tmp=$(mktemp -d)
loadpid=
cleanup() {
	[ -n "$loadpid" ] && kill "$loadpid" 2>/dev/null && wait "$loadpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
if ! "$KILN" profile --mode offcpu -q -o "$tmp/probe.pb.gz" true 2>"$tmp/probe"; then
	echo "skip: kiln profile --mode offcpu cannot run here: $(head -1 "$tmp/probe")"
	exit 0
fi

if [ "${LOAD:-1}" != 0 ]; then
	mkdir -p "$tmp/src"
	git ls-files -z | xargs -0 cp --parents -t "$tmp/src"
	# `make clean` removes build/ only: the scratch build directory goes, so that every round compiles again.
	(while :; do rm -rf "$tmp/loadbuild"; make -C "$tmp/src" -j2 BUILD="$tmp/loadbuild" all >/dev/null 2>&1; done) &
	loadpid=$!
	sleep 3
fi

# sum FILE FUNCTION: nanoseconds of the folded stacks that pass through FUNCTION.
sum() { awk -v f="$2" '{ n = $NF; s = $0; sub(/ [0-9]+$/, "", s); k = split(s, a, ";");
	for (i = 1; i <= k; i++) if (a[i] == f) { t += n; break } } END { printf "%d", t }' "$1"; }
within() { awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; print (b > 0 && d <= b * p / 100) }'; }

bad=0
for i in $(seq "$RUNS"); do
	"$KILN" profile --mode offcpu -q -o "$tmp/child.folded" sh -c "\"$H/wait_sleep\" 100 50; exit 3" 2>"$tmp/child.err"
	st=$?
	s=$(sum "$tmp/child.folded" sleeper)
	WAIT_TIMING=1 "$KILN" profile --mode wall -o "$tmp/wall.folded" "$H/wait_sleep" 200 100 >/dev/null 2>"$tmp/wall.err"
	m=$(sum "$tmp/wall.folded" main)
	life=$(awk '$1 == "wait_sleep:" {print $2}' "$tmp/wall.err")
	ok=ok
	if [ $st -ne 3 ] || [ "$(within "$s" 300000000 15)" != 1 ] || [ -z "$life" ] ||
		[ "$(within "$m" "$life" 10)" != 1 ]; then
		ok=MISS
		bad=$((bad + 1))
	fi
	awk -v i="$i" -v s="$s" -v m="$m" -v l="${life:-0}" -v ok="$ok" -v st="$st" 'BEGIN {
		printf "run %2d: child sleeper %6.1f ms of 300 (exit %d); wall main %6.1f ms of %6.1f lifetime  %s\n",
			i, s / 1e6, st, m / 1e6, l / 1e6, ok }'
	uptime | sed 's/^/        /'
done
echo "$((RUNS - bad)) of $RUNS runs within 15 % (child) and 10 % (wall)"
[ $bad -eq 0 ]
