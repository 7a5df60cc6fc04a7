#!/bin/bash
# Benchmark: symbolization throughput of src/symbols (unique addresses per second, first pass: every address
# is a cache miss, and the files' symbol tables, debuginfo and line tables are loaded on the way) for
#   - libc.so.6 with its separate debuginfo (libc6-dbg): every function entry, and one address every 64
#     bytes of text (many inside inlined code), in three modes: symbol only, + file:line, + inline frames;
#   - python3.11 (no debuginfo installed: .dynsym only), every exported function.
# Anchor, measured in the same run on the same addresses: binutils `addr2line -f -i` (and llvm-symbolizer
# when installed), whole process wall time. bench/symbolize.c is the driver.
#
# usage: bench/symbolize.sh [STRIDE]     env: BUILD (default build/bench), LIBC, PYTHON
set -eu
cd "$(dirname "$0")/.."
STRIDE=${1:-64}
BUILD=${BUILD:-build/bench}
LIBC=${LIBC:-$(ldconfig -p 2>/dev/null | awk '/libc.so.6 .*x86-64/ {print $NF; exit}')}
LIBC=${LIBC:-/lib/x86_64-linux-gnu/libc.so.6}
PYTHON=${PYTHON:-/usr/bin/python3.11}

make --no-print-directory -s BUILD="$BUILD" "$BUILD/libkiln.a" >&2
work=$(mktemp -d /tmp/kiln-bench-sym.XXXXXX)
trap 'rm -rf "$work"' EXIT
# shellcheck disable=SC2046
cc -O2 -g -Isrc -o "$work/symbolize" bench/symbolize.c "$BUILD/libkiln.a" \
	$(pkg-config --libs libdw libelf zlib libprotobuf-c jansson) -lm -lpthread

field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }

run() { # FILE MODE [--stride N]
	local out
	out=$("$work/symbolize" "$@")
	printf '%-28s %-7s %-10s %7s addrs %9s/s  cached %10s/s  frames %6s  inlined %5s  with line %6s  named %6s\n' \
		"$(basename "$1")" "$3" "${5:+stride $5}" "$(echo "$out" | field addresses)" \
		"$(echo "$out" | field per_second)" "$(echo "$out" | field cached_per_second)" \
		"$(echo "$out" | field frames)" "$(echo "$out" | field inlined)" "$(echo "$out" | field with_line)" \
		"$(echo "$out" | field named)"
}

echo "kiln symbolizer (first pass includes opening the file and loading its debuginfo):"
for mode in sym lines inline; do run "$LIBC" --mode "$mode"; done
for mode in sym lines inline; do run "$LIBC" --mode "$mode" --stride "$STRIDE"; done
[ -x "$PYTHON" ] && run "$PYTHON" --mode inline

# The anchor on the same addresses (libc, stride): kiln's time vs addr2line's whole run.
"$work/symbolize" "$LIBC" --mode inline --stride "$STRIDE" --print | awk '{print $1}' >"$work/addrs"
n=$(wc -l <"$work/addrs")
t_kiln=$("$work/symbolize" "$LIBC" --mode inline --stride "$STRIDE" | field seconds)
t0=$(date +%s.%N)
addr2line -f -i -e "$LIBC" <"$work/addrs" >/dev/null
t_a2l=$(echo "$(date +%s.%N) - $t0" | bc -l)
echo
printf 'anchor, %d addresses with inline frames and file:line (libc, stride %s):\n' "$n" "$STRIDE"
printf '  kiln            %8.3f s  %10.0f addr/s\n' "$t_kiln" "$(echo "$n / $t_kiln" | bc -l)"
printf '  addr2line -f -i %8.3f s  %10.0f addr/s   kiln is %.1fx faster\n' "$t_a2l" "$(echo "$n / $t_a2l" | bc -l)" \
	"$(echo "$t_a2l / $t_kiln" | bc -l)"
if command -v llvm-symbolizer >/dev/null; then
	t0=$(date +%s.%N)
	sed 's/^/0x/; s/^0x0x/0x/' "$work/addrs" | llvm-symbolizer --obj="$LIBC" --inlining >/dev/null 2>&1 || true
	t_llvm=$(echo "$(date +%s.%N) - $t0" | bc -l)
	printf '  llvm-symbolizer %8.3f s  %10.0f addr/s   kiln is %.1fx faster\n' "$t_llvm" \
		"$(echo "$n / $t_llvm" | bc -l)" "$(echo "$t_llvm / $t_kiln" | bc -l)"
fi
