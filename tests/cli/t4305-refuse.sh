#!/bin/bash
# No silent misreads: real profiles of the formats whose lines end in numbers (legacy pprof text, callgrind, ...)
# are read by their own reader, never as folded stacks or perf script, and a format kiln does not read is refused
# by every command with one line naming what it is; an empty result is an error everywhere;
# readers' warnings go to stderr and never into output files; skipped lines are counted, and a file with too
# many is refused. Live files are made with the tools that write them when installed (tcmalloc, go, valgrind).
. "$(dirname "$0")/lib.sh"

FIX=$KILN_ROOT/tests/fixtures
FMT=$SHARED/fixtures/formats
cd "$T_TMP" || exit 1
have() { command -v "$1" >/dev/null 2>&1; }

# refused FILE WHAT: every reading command exits 2 with one line "'FILE': WHAT, which kiln does not read" and
# leaves no output file behind.
refused() {
	local f=$1 what=$2 bad="" name
	name=$(basename "$f")
	for cmd in "analyze $f" "convert $f -o $T_TMP/out.pb.gz" "convert $f -o $T_TMP/out.folded" \
		"flamegraph $f -o $T_TMP/out.svg" "collapse $f -o $T_TMP/out.folded" "diff $f $f"; do
		# shellcheck disable=SC2086
		"$KILN" $cmd >"$T_TMP/r.out" 2>"$T_TMP/r.err"
		local st=$?
		if [ $st -ne 2 ] || [ "$(wc -l <"$T_TMP/r.err")" -ne 1 ] ||
			! grep -qF "'$f': $what, which kiln does not read" "$T_TMP/r.err"; then
			bad="$bad
kiln ${cmd%% *}: exit $st: $(head -2 "$T_TMP/r.err")"
		fi
		if [ -e "$T_TMP/out.pb.gz" ] || [ -e "$T_TMP/out.folded" ] || [ -e "$T_TMP/out.svg" ]; then
			bad="$bad
kiln ${cmd%% *} left an output file"
			rm -f "$T_TMP/out.pb.gz" "$T_TMP/out.folded" "$T_TMP/out.svg"
		fi
	done
	if [ -z "$bad" ]; then t_pass "$name: refused as $what by every command"; else t_fail "$name: refused as $what" "$bad"; fi
}

# read_as FILE FORMAT: detected as FORMAT (kiln analyze's "formats"), and analyze, convert and flamegraph read it
# with a non-empty result.
read_as() {
	local f=$1 want=$2 bad="" name got
	name=$(basename "$f")
	rm -f "$T_TMP/out.folded" "$T_TMP/out.svg"
	"$KILN" analyze --json "$f" >"$T_TMP/r.json" 2>"$T_TMP/r.err" || bad="analyze: $(head -2 "$T_TMP/r.err")"
	got=$(python3 -c 'import json,sys; print(",".join(json.load(open(sys.argv[1]))["formats"]))' "$T_TMP/r.json" 2>/dev/null)
	[ "$got" = "$want" ] || bad="$bad
detected as '$got'"
	"$KILN" convert "$f" -o "$T_TMP/out.folded" 2>"$T_TMP/r.err" && [ -s "$T_TMP/out.folded" ] ||
		bad="$bad
convert: $(head -2 "$T_TMP/r.err")"
	"$KILN" flamegraph "$f" -o "$T_TMP/out.svg" 2>"$T_TMP/r.err" && [ -s "$T_TMP/out.svg" ] ||
		bad="$bad
flamegraph: $(head -2 "$T_TMP/r.err")"
	rm -f "$T_TMP/out.folded" "$T_TMP/out.svg"
	if [ -z "$bad" ]; then t_pass "$name: read as $want"; else t_fail "$name: read as $want" "$bad"; fi
}

# ---- committed real files (tests/fixtures/pprof-legacy/README-detect.md says how each was made) ----
read_as "$FIX/pprof-legacy/gperftools-two-paths.heap" pprof-legacy
read_as "$FIX/pprof-legacy/go-legacy.heap" pprof-legacy
read_as "$FIX/pprof-legacy/go.threadcreate" pprof-legacy
read_as "$FIX/callgrind/small.callgrind" callgrind

# ---- the shared corpus of public sample files ----
if [ -d "$FMT" ]; then
	read_as "$FMT/pprof-legacy/cppbench.small.contention" pprof-legacy
	read_as "$FMT/pprof-legacy/cppbench.thread" pprof-legacy
	for f in "$FMT"/callgrind/*; do read_as "$f" callgrind; done
	for f in "$FMT"/stackprof/*.json; do read_as "$f" stackprof; done
	for f in "$FMT"/firefox/*.json; do read_as "$f" firefox; done
	read_as "$FMT/heapprofile/node-10.11.0-Heap-20181003T105432.heapprofile" heapprofile
	for f in "$FMT"/chrome-trace/*.json; do read_as "$f" trace-event; done
else
	t_skip "the shared corpus of other formats" "$FMT is absent"
fi

# ---- live files from the tools that write them ----
TCMALLOC=$(ls /usr/lib/*/libtcmalloc.so.4 2>/dev/null | head -1)
cat >"$T_TMP/alloc.c" <<'EOF'
#include <stdlib.h>
#include <string.h>
static void *keep[512];
__attribute__((noinline)) static void *get(size_t n) { void *p = malloc(n); memset(p, 1, n); return p; }
__attribute__((noinline)) static void a(int i) { keep[i % 512] = get(1000 + i % 7); }
__attribute__((noinline)) static void b(int i) { free(get(5000)); keep[(i * 7) % 512] = get(300); }
int main(void) { for (int i = 0; i < 20000; i++) { if (i & 1) a(i); else b(i); } return 0; }
EOF
if [ -n "$TCMALLOC" ] && cc -O1 -g -o "$T_TMP/alloc" "$T_TMP/alloc.c" 2>/dev/null; then
	(cd "$T_TMP" && HEAPPROFILE=$T_TMP/hp HEAP_PROFILE_ALLOCATION_INTERVAL=4000000 LD_PRELOAD=$TCMALLOC ./alloc 2>/dev/null)
	hp=$(ls "$T_TMP"/hp.*.heap 2>/dev/null | tail -1)
	if [ -n "$hp" ]; then read_as "$hp" pprof-legacy; else t_skip "live gperftools heap profile" "tcmalloc wrote none"; fi
else
	t_skip "live gperftools heap profile" "libtcmalloc.so.4 (libgoogle-perftools4) or cc is missing"
fi
if have go; then
	export GOCACHE=$T_TMP/gocache GOPATH=$T_TMP/gopath GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local
	mkdir -p "$T_TMP/gop"
	cat >"$T_TMP/gop/main.go" <<'EOF'
package main

import (
	"os"
	"runtime"
	"runtime/pprof"
)

var keep [][]byte

func main() {
	runtime.MemProfileRate = 1
	for i := 0; i < 100; i++ {
		keep = append(keep, make([]byte, 1000+i))
	}
	for _, name := range []string{"heap", "threadcreate", "goroutine", "block"} {
		f, _ := os.Create(name + ".txt")
		pprof.Lookup(name).WriteTo(f, 1)
		f.Close()
	}
}
EOF
	if (cd "$T_TMP/gop" && printf 'module gop\n' >go.mod && go run . >"$T_TMP/go.log" 2>&1); then
		read_as "$T_TMP/gop/heap.txt" pprof-legacy
		read_as "$T_TMP/gop/threadcreate.txt" pprof-legacy
		read_as "$T_TMP/gop/goroutine.txt" pprof-legacy
		# this program never blocks: its block profile has no record, an empty result
		t_fails "block.txt (no record): an empty result" 2 "$KILN" analyze "$T_TMP/gop/block.txt"
		grep -q "no samples" "$T_TMP/fails.err" && t_pass "... says 'no samples'" ||
			t_fail "... says 'no samples'" "$(cat "$T_TMP/fails.err")"
	else
		t_skip "live Go legacy text profiles" "go run failed: $(tail -1 "$T_TMP/go.log")"
	fi
else
	t_skip "live Go legacy text profiles" "go is not installed"
fi
if have valgrind && cc -O1 -g -o "$T_TMP/alloc" "$T_TMP/alloc.c" 2>/dev/null; then
	valgrind --tool=callgrind --callgrind-out-file="$T_TMP/cg.out" "$T_TMP/alloc" >/dev/null 2>&1
	valgrind --tool=cachegrind --cachegrind-out-file="$T_TMP/cache.out" "$T_TMP/alloc" >/dev/null 2>&1
	[ -s "$T_TMP/cg.out" ] && read_as "$T_TMP/cg.out" callgrind
	[ -s "$T_TMP/cache.out" ] && read_as "$T_TMP/cache.out" callgrind
else
	t_skip "live callgrind and cachegrind profiles" "valgrind or cc is missing"
fi

# ---- a format recognised and refused: a jemalloc heap dump ----
printf 'heap_v2/524288\n  t*: 28106: 56637512 [0: 0]\n' >"$T_TMP/jemalloc.heap"
refused "$T_TMP/jemalloc.heap" "a jemalloc heap profile"

# ---- text nothing claims ----
printf 'some notes\nwith words\nand no counts\n' >"$T_TMP/notes.txt"
t_fails "text of no format" 2 "$KILN" analyze "$T_TMP/notes.txt"
grep -qF "cannot detect the format of '$T_TMP/notes.txt'" "$T_TMP/fails.err" &&
	t_pass "... is 'cannot detect the format'" || t_fail "... is 'cannot detect the format'" "$(cat "$T_TMP/fails.err")"

# ---- an empty result is an error in every command, with no output file ----
# A pprof profile with a sample type and no sample: Profile{sample_type {1, 2}, string_table "", "samples", "count"}.
printf '\012\004\010\001\020\002\062\000\062\007samples\062\005count' >"$T_TMP/empty.pb"
printf 'main;a 0\nmain;b 0\n' >"$T_TMP/zero.folded"
for f in empty.pb zero.folded; do
	bad=""
	for cmd in "analyze $f" "convert $f -o $T_TMP/e.pb.gz" "convert $f -o $T_TMP/e.folded" \
		"flamegraph $f -o $T_TMP/e.svg" "diff $f $f"; do
		# shellcheck disable=SC2086
		"$KILN" $cmd >"$T_TMP/e.out" 2>"$T_TMP/e.err"
		st=$?
		if [ $st -ne 2 ] || [ "$(wc -l <"$T_TMP/e.err")" -ne 1 ] || ! grep -q "no samples in '$f'" "$T_TMP/e.err"; then
			bad="$bad
kiln ${cmd%% *}: exit $st: $(head -2 "$T_TMP/e.err")"
		fi
	done
	[ -e "$T_TMP/e.pb.gz" ] || [ -e "$T_TMP/e.folded" ] || [ -e "$T_TMP/e.svg" ] && bad="$bad
an output file was left behind"
	if [ -z "$bad" ]; then t_pass "$f: 'no samples', exit 2, no output, in every command"; else t_fail "$f: empty result" "$bad"; fi
done
"$KILN" convert "$FIX/pprof/go-heap.pb.gz" -o "$T_TMP/v.folded" --value inuse_objects 2>/dev/null
printf 'main;a 0 3\n' >"$T_TMP/diff.folded"
t_fails "convert --value of a column with only zeros" 2 "$KILN" convert "$T_TMP/diff.folded" --value before -o "$T_TMP/b.folded"
[ -e "$T_TMP/b.folded" ] && t_fail "... leaves no output file" || t_pass "... leaves no output file"

# ---- warnings go to stderr, in every command, never into output files ----
two=$FIX/perf-script/two-events.txt
"$KILN" convert "$two" -o "$T_TMP/two.pb.gz" 2>"$T_TMP/two.err"
if grep -qF "kiln: warning: '$two': kept only 'page-faults' samples" "$T_TMP/two.err"; then
	t_pass "convert prints the reader's warning on stderr"
else
	t_fail "convert prints the reader's warning on stderr" "$(cat "$T_TMP/two.err")"
fi
if gzip -dc "$T_TMP/two.pb.gz" | grep -qa "kept only\|skipped"; then
	t_fail "the warning is not stored in the pprof output"
else
	t_pass "the warning is not stored in the pprof output"
fi
for cmd in "analyze $two" "flamegraph $two -o $T_TMP/two.svg" "diff $two $two" "collapse $two -o $T_TMP/two.folded"; do
	# shellcheck disable=SC2086
	"$KILN" $cmd >/dev/null 2>"$T_TMP/w.err"
	if grep -qF "warning: '$two': kept only 'page-faults' samples" "$T_TMP/w.err"; then
		t_pass "kiln ${cmd%% *} prints the reader's warning"
	else
		t_fail "kiln ${cmd%% *} prints the reader's warning" "$(cat "$T_TMP/w.err")"
	fi
done
grep -q "kept only" "$T_TMP/two.svg" && t_fail "the warning is not in the SVG" || t_pass "the warning is not in the SVG"

# ---- skipped lines: counted, and too many make the file another format ----
{ for i in $(seq 1 30); do echo "main;f$i $i"; done; echo "not a stack"; } >"$T_TMP/stray.folded"
"$KILN" flamegraph "$T_TMP/stray.folded" -o "$T_TMP/stray.svg" 2>"$T_TMP/stray.err"
if [ $? -eq 0 ] && grep -qF "kiln: warning: '$T_TMP/stray.folded': ignored 1 line with invalid format (the first is line 31)" \
	"$T_TMP/stray.err" && grep -q "<title>all (465 samples, 100%)</title>" "$T_TMP/stray.svg"; then
	t_pass "a stray line in folded stacks: drawn without it, and counted in a warning (flamegraph.pl's 'Ignored')"
else
	t_fail "a stray line in folded stacks: drawn without it, and counted in a warning" "$(cat "$T_TMP/stray.err")"
fi
{ for i in $(seq 1 10); do echo "main;f$i $i"; echo "junk line $i here"; done; } >"$T_TMP/half.folded"
t_fails "folded stacks with half their lines invalid are refused" 2 "$KILN" flamegraph --type folded "$T_TMP/half.folded" -o "$T_TMP/half.svg"
[ -e "$T_TMP/half.svg" ] && t_fail "... and no SVG is written" || t_pass "... and no SVG is written"
t_done
