#!/bin/bash
# Runs every unit test (cmocka, TAP output) and every end-to-end CLI test (tests/cli/t*.sh), then prints
# "N passed, N failed[, N skipped]". Each assertion counts once. Usage: tests/run.sh [PATTERN]
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/san}
export KILN="$PWD/$BUILD/kiln"
export KILN_BUILD="$PWD/$BUILD"
export KILN_RELEASE="$PWD/${RELEASE_BUILD:-build}"
export KILN_ROOT="$PWD"
export KILN_SHARED="${KILN_SHARED:-$PWD/../shared}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}"
export LC_ALL=C NO_COLOR=1
pattern=${1:-}
pass=0 fail=0 skip=0
log=$(mktemp -d /tmp/kiln-tests.XXXXXX)
trap 'rm -rf "$log"' EXIT
# The debug file cache (docs/symbols.md) of this run only: the tests leave the user's ~/.cache alone.
export KILN_CACHE_DIR="$log/cache"

tally() { # NAME OUTFILE STATUS [SECONDS]
	local name=$1 out=$2 status=$3 secs=${4:-} p f s
	p=$(grep -c '^ok ' "$out" || true)
	f=$(grep -c '^not ok ' "$out" || true)
	s=$(grep -c '^skip ' "$out" || true)
	# cmocka's TAP marks skips as "ok N - name # SKIP"
	local ts; ts=$(grep -c '^ok .*# SKIP' "$out" || true)
	p=$((p - ts)); s=$((s + ts))
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		if [ "$status" -eq 77 ]; then
			s=$((s + 1))
		else
			f=$((f + 1))
			echo "not ok - $name exited with status $status" >>"$out"
		fi
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	if [ "$f" -gt 0 ]; then
		echo "FAIL $name ($p passed, $f failed)"
		grep -v '^ok ' "$out" | head -60 | sed 's/^/    /'
	else
		printf '%-40s %d passed%s%s\n' "$name" "$p" "$( [ "$s" -gt 0 ] && echo ", $s skipped")" \
			"${secs:+ (${secs} s)}"
		grep '^skip ' "$out" | sed 's/^/    /'
	fi
}

for bin in "$BUILD"/tests/test_*; do
	[ -x "$bin" ] || continue
	name=unit/$(basename "$bin")
	case "$name" in *"$pattern"*) ;; *) continue ;; esac
	out="$log/$(basename "$bin").out"
	t0=$SECONDS
	CMOCKA_MESSAGE_OUTPUT=TAP timeout 300 "$bin" >"$out" 2>&1
	tally "$name" "$out" $? $((SECONDS - t0))
done

for t in tests/cli/t[0-9]*.sh; do
	[ -f "$t" ] || continue
	name=cli/$(basename "$t" .sh)
	case "$name" in *"$pattern"*) ;; *) continue ;; esac
	out="$log/$(basename "$t").out"
	t0=$SECONDS
	T_TMP=$(mktemp -d "$log/tmp.XXXXXX") timeout 900 bash "$t" >"$out" 2>&1
	tally "$name" "$out" $? $((SECONDS - t0))
done

if [ "${KILN_NO_FUZZ:-}" = "" ] && [ -z "$pattern" -o "$pattern" = fuzz ]; then
	out="$log/fuzz.out"
	t0=$SECONDS
	scripts/fuzz.sh short >"$out" 2>&1
	tally "fuzz (short runs)" "$out" $? $((SECONDS - t0))
fi

echo
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
