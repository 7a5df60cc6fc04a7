#!/bin/bash
# Builds every fuzz target in tests/fuzz/ with clang's libFuzzer (+ASan+UBSan) and runs each on its seed corpus.
#   scripts/fuzz.sh short   bounded runs for `make check` (KILN_FUZZ_SECONDS each, default 6, one target per core:
#                           30-odd targets fit in about 2 minutes on two; `make fuzz` is the real fuzzing), TAP output
#   scripts/fuzz.sh long    longer runs for `make fuzz` (KILN_FUZZ_SECONDS each, default 300)
#   scripts/fuzz.sh build   build only
set -u
cd "$(dirname "$0")/.."
mode=${1:-short}
case $mode in
short) secs=${KILN_FUZZ_SECONDS:-6} ;;
long) secs=${KILN_FUZZ_SECONDS:-300} ;;
build) secs=0 ;;
*) echo "usage: scripts/fuzz.sh short|long|build" >&2; exit 2 ;;
esac
B=build/fuzz
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n){return 0;}' |
	clang -x c -fsanitize=fuzzer - -o /tmp/kiln-fuzz-probe.$$ 2>/dev/null; then
	echo "skip - fuzz: clang with libFuzzer is not available (install clang and libclang-rt-14-dev)"
	exit 0
fi
rm -f /tmp/kiln-fuzz-probe.$$
SANF="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
jobs=${KILN_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
if ! make --no-print-directory -s -j"$jobs" BUILD=$B CC=clang \
	CFLAGS="-O1 -g -fsanitize=fuzzer-no-link $SANF -DKILN_FUZZING" $B/libkiln.a >$B.log 2>&1; then
	echo "not ok - fuzz: building libkiln with clang failed"
	sed 's/^/#   /' $B.log | tail -20
	exit 1
fi
PKGS=$(make -s --no-print-directory print-PKGS)
LIBS=$(pkg-config --libs $PKGS)
CFL=$(pkg-config --cflags $PKGS)
# One target: build it, run it for $secs on its seeds; TAP lines on stdout, 1 when it fails to build or crashes.
target() {
	local src=$1 name bin seeds work log runs
	name=$(basename "$src" .c)
	bin=$B/$name
	if ! clang -O1 -g -fsanitize=fuzzer $SANF -D_GNU_SOURCE -Isrc -I$B/gen $CFL -o "$bin" "$src" $B/libkiln.a \
		$LIBS -lm -lpthread 2>"$B/$name.build.log"; then
		echo "not ok - $name: build failed"
		sed 's/^/#   /' "$B/$name.build.log" | tail -10
		return 1
	fi
	[ "$secs" -eq 0 ] && { echo "ok - $name built"; return 0; }
	seeds=tests/fuzz/corpus/${name#fuzz_}
	work=$(mktemp -d)
	mkdir -p "$seeds"
	log=$B/$name.log
	if (cd "$work" && ASAN_OPTIONS=detect_leaks=1 "$OLDPWD/$bin" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 "$work" "$OLDPWD/$seeds") >"$log" 2>&1; then
		runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
		echo "ok - $name (${runs:-?} inputs in ${secs}s)"
	else
		echo "not ok - $name found a crash (log: $log)"
		grep -E 'ERROR|SUMMARY|#[0-9] ' "$log" | head -15 | sed 's/^/#   /'
		# Keep the crashing input next to the log for reproduction.
		cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* $B/ 2>/dev/null
		rm -rf "$work"
		return 1
	fi
	rm -rf "$work"
}

# Targets are independent and each fuzzer uses one core: run one per core (KILN_FUZZ_JOBS), report in order.
status=0
pids=() names=()
for src in tests/fuzz/fuzz_*.c; do
	[ -f "$src" ] || continue
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	name=$(basename "$src" .c)
	target "$src" >"$B/$name.tap" 2>&1 &
	pids+=($!)
	names+=("$name")
done
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || status=1
	cat "$B/${names[$i]}.tap"
done
exit $status
