#!/bin/bash
# kiln convert: any readable format to any writable one through the model. Real inputs: a Go test's
# -cpuprofile, a Node --cpu-prof profile, a gperftools CPU profile; outputs checked by `go tool pprof` and by the
# speedscope schema's required fields.
. "$(dirname "$0")/lib.sh"

FIX=$KILN_ROOT/tests/fixtures
D=$T_DIR
have() { command -v "$1" >/dev/null 2>&1; }

# ---- exact outputs of small, checked-in inputs ----
t_exact evented-to-folded -- "$KILN" convert "$FIX/speedscope/evented.json" -o - --to folded
t_exact legacy-to-folded -- "$KILN" convert "$FIX/pprof/gperftools-cpu.prof" -o - --to folded
"$KILN" convert --list >"$T_TMP/list"
if grep -q '^pprof  *yes  *yes ' "$T_TMP/list" && grep -q '^speedscope  *yes  *yes ' "$T_TMP/list" &&
	grep -q '^cpuprofile  *yes  *- ' "$T_TMP/list"; then
	t_pass "--list shows pprof, speedscope and cpuprofile"
else
	t_fail "--list shows pprof, speedscope and cpuprofile" "$(cat "$T_TMP/list")"
fi

# ---- round trips through the model keep stacks and values ----
"$KILN" convert "$FIX/pprof/go-cpu.pb.gz" -o "$T_TMP/go.folded"
for fmt in pb.gz pb json; do
	"$KILN" convert "$FIX/pprof/go-cpu.pb.gz" -o "$T_TMP/rt.$fmt" &&
		"$KILN" convert "$T_TMP/rt.$fmt" -o "$T_TMP/rt-$fmt.folded"
	sort "$T_TMP/go.folded" >"$T_TMP/a"
	sort "$T_TMP/rt-$fmt.folded" >"$T_TMP/b"
	t_same "go profile -> .$fmt -> folded keeps every stack and value" "$T_TMP/a" "$T_TMP/b"
done
if [ "$(head -c2 "$T_TMP/rt.pb.gz" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then
	t_pass ".pb.gz output is gzip"
else
	t_fail ".pb.gz output is gzip"
fi
if [ "$(head -c2 "$T_TMP/rt.pb" | od -An -tx1 | tr -d ' ')" != 1f8b ]; then
	t_pass ".pb output is plain protobuf"
else
	t_fail ".pb output is plain protobuf"
fi
printf 'main;a;b 5\nmain;a 3\nmain;c;d;e 7\n' >"$T_TMP/in.folded"
"$KILN" convert "$T_TMP/in.folded" -o "$T_TMP/in.pb.gz"
"$KILN" convert "$T_TMP/in.pb.gz" -o "$T_TMP/in.json"
"$KILN" convert "$T_TMP/in.json" -o - --to folded | sort >"$T_TMP/back.folded"
sort "$T_TMP/in.folded" >"$T_TMP/want.folded"
t_same "folded -> pprof -> speedscope -> folded is lossless" "$T_TMP/want.folded" "$T_TMP/back.folded"
"$KILN" convert - --to pprof -o - <"$T_TMP/in.folded" >"$T_TMP/stdio.pb.gz"
"$KILN" convert - -o - --to folded <"$T_TMP/stdio.pb.gz" | sort >"$T_TMP/stdio.folded"
t_same "stdin and stdout work both ways" "$T_TMP/want.folded" "$T_TMP/stdio.folded"

# ---- go tool pprof reads what kiln writes ----
if have go; then
	export GOCACHE=$T_TMP/gocache GOPATH=$T_TMP/gopath GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local
	if go tool pprof -top "$T_TMP/rt.pb.gz" >"$T_TMP/top" 2>&1 && grep -q 'burn.sumSquares' "$T_TMP/top" &&
		grep -q 'square (inline)' "$T_TMP/top"; then
		t_pass "go tool pprof -top reads kiln's pprof (inlined frames kept)"
	else
		t_fail "go tool pprof -top reads kiln's pprof (inlined frames kept)" "$(cat "$T_TMP/top")"
	fi
	if go tool pprof -top "$T_TMP/in.pb.gz" >"$T_TMP/top2" 2>&1 && grep -Eq '^ +7 +46\.67% .* e$' "$T_TMP/top2"; then
		t_pass "go tool pprof -top shows a converted folded profile's counts"
	else
		t_fail "go tool pprof -top shows a converted folded profile's counts" "$(cat "$T_TMP/top2")"
	fi
	# A heap profile: four sample types, a default one, numeric "bytes" labels.
	"$KILN" convert "$FIX/pprof/go-heap.pb.gz" -o "$T_TMP/heap.pb.gz"
	for view in "-sample_index=alloc_space -top" "-sample_index=inuse_objects -top" "-sample_index=alloc_space -tags"; do
		# shellcheck disable=SC2086
		go tool pprof $view "$FIX/pprof/go-heap.pb.gz" 2>/dev/null >"$T_TMP/heap-orig"
		# shellcheck disable=SC2086
		go tool pprof $view "$T_TMP/heap.pb.gz" 2>/dev/null >"$T_TMP/heap-kiln"
		if [ "$(wc -l <"$T_TMP/heap-orig")" -lt 3 ]; then
			t_fail "go tool pprof $view of a Go heap profile" "$(cat "$T_TMP/heap-orig")"
		else
			t_same "go tool pprof $view: same for a Go heap profile and kiln's rewrite" \
				"$T_TMP/heap-orig" "$T_TMP/heap-kiln"
		fi
	done
	# A fresh profile from `go test -cpuprofile`.
	cp -r "$D/go" "$T_TMP/gosrc"
	if (cd "$T_TMP/gosrc" && go test -run XXX -bench . -benchtime 300ms -cpuprofile cpu.prof >go.log 2>&1); then
		"$KILN" convert "$T_TMP/gosrc/cpu.prof" -o "$T_TMP/live.folded"
		if grep -q 'burn.BenchmarkBurn;burn.sumSquares\|burn.BenchmarkBurn;example.com/burn.sumSquares' \
			"$T_TMP/live.folded"; then
			t_pass "a live go test -cpuprofile converts to folded"
		else
			t_fail "a live go test -cpuprofile converts to folded" "$(head -5 "$T_TMP/live.folded")"
		fi
		"$KILN" convert "$T_TMP/gosrc/cpu.prof" -o "$T_TMP/live2.pb.gz" &&
			go tool pprof -top "$T_TMP/gosrc/cpu.prof" 2>/dev/null | sed -n '/flat%/,$p' >"$T_TMP/top-orig" &&
			go tool pprof -top "$T_TMP/live2.pb.gz" 2>/dev/null | sed -n '/flat%/,$p' >"$T_TMP/top-kiln"
		t_same "go tool pprof -top: same table for the original and kiln's rewrite" "$T_TMP/top-orig" \
			"$T_TMP/top-kiln"
	else
		t_skip "live go test -cpuprofile" "go test failed: $(tail -1 "$T_TMP/gosrc/go.log")"
	fi
else
	t_skip "go tool pprof reads kiln's pprof" "go is not installed"
fi

# ---- speedscope output validates against the schema's required fields ----
if have python3; then
	"$KILN" convert "$FIX/pprof/go-cpu.pb.gz" -o "$T_TMP/go.speedscope.json"
	t_ok "speedscope from pprof passes the schema check" python3 "$D/check_speedscope.py" "$T_TMP/go.speedscope.json"
	"$KILN" convert "$FIX/cpuprofile/node-burn.cpuprofile" -o "$T_TMP/node.json"
	t_ok "speedscope from a .cpuprofile passes the schema check" python3 "$D/check_speedscope.py" "$T_TMP/node.json"
else
	t_skip "speedscope schema check" "python3 is not installed"
fi

# ---- Node --cpu-prof ----
if have node; then
	if (cd "$T_TMP" && node --cpu-prof --cpu-prof-dir="$T_TMP/nodeprof" --cpu-prof-name=burn.cpuprofile \
		"$D/burn.js") 2>"$T_TMP/node.err"; then
		t_ok "a live node --cpu-prof profile converts to pprof" \
			"$KILN" convert "$T_TMP/nodeprof/burn.cpuprofile" -o "$T_TMP/node.pb.gz"
		"$KILN" convert "$T_TMP/nodeprof/burn.cpuprofile" -o "$T_TMP/node.folded"
		# JS functions are named with their script and first line (docs/runtimes.md).
		if grep -Eq ';work \(burn\.js:[0-9]+\);fib \(burn\.js:[0-9]+\)' "$T_TMP/node.folded"; then
			t_pass "node profile keeps the JS call chain (work;fib)"
		else
			t_fail "node profile keeps the JS call chain (work;fib)" "$(head -3 "$T_TMP/node.folded")"
		fi
		if have go && go tool pprof -top "$T_TMP/node.pb.gz" 2>&1 | grep -q ' fib$'; then
			t_pass "go tool pprof reads a converted node profile"
		else
			t_skip "go tool pprof reads a converted node profile" "go missing or fib not shown"
		fi
	else
		t_skip "node --cpu-prof" "node failed: $(head -1 "$T_TMP/node.err")"
	fi
else
	t_skip "node --cpu-prof" "node is not installed"
fi

# ---- gperftools: a live legacy CPU profile from libprofiler ----
LIBPROFILER=$(ls /usr/lib/*/libprofiler.so.0 2>/dev/null | head -1)
if [ -n "$LIBPROFILER" ] && cc -O1 -g -fno-omit-frame-pointer -o "$T_TMP/spin" "$D/spin.c" 2>/dev/null; then
	CPUPROFILE=$T_TMP/spin.prof CPUPROFILE_FREQUENCY=1000 LD_PRELOAD=$LIBPROFILER "$T_TMP/spin" 2>/dev/null
	if [ -s "$T_TMP/spin.prof" ]; then
		"$KILN" convert "$T_TMP/spin.prof" -o "$T_TMP/spin.folded"
		if grep -q '^\[spin+0x[0-9a-f]*\];' "$T_TMP/spin.folded"; then
			t_pass "a gperftools CPU profile reads with [module+0xoff] frames"
		else
			t_fail "a gperftools CPU profile reads with [module+0xoff] frames" "$(head -3 "$T_TMP/spin.folded")"
		fi
	else
		t_skip "gperftools CPU profile" "libprofiler wrote no profile"
	fi
else
	t_skip "gperftools CPU profile" "libprofiler.so (libgoogle-perftools4) is not installed"
fi

# An unsymbolized address stays an address in pprof output, with its mapping's real range: go tool pprof
# symbolizes the converted profile as it does the original (same totals, same names; the old reader wrote
# "[prog+0x116b]" placeholders as function names and zero mapping ranges).
if [ -n "$LIBPROFILER" ] && have go && cc -O1 -g -fno-omit-frame-pointer -o "$T_TMP/twowork" "$D/twowork.c" 2>/dev/null; then
	export GOCACHE=$T_TMP/gocache GOPATH=$T_TMP/gopath GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local
	CPUPROFILE=$T_TMP/two.prof CPUPROFILE_FREQUENCY=1000 LD_PRELOAD=$LIBPROFILER "$T_TMP/twowork" 2>/dev/null
	"$KILN" convert "$T_TMP/two.prof" -o "$T_TMP/two.pb.gz" 2>"$T_TMP/two.err"
	go tool pprof -top "$T_TMP/twowork" "$T_TMP/two.prof" 2>/dev/null | sed -n '/^Showing/,$p' >"$T_TMP/two-orig"
	go tool pprof -top "$T_TMP/twowork" "$T_TMP/two.pb.gz" 2>/dev/null | sed -n '/^Showing/,$p' >"$T_TMP/two-kiln"
	if grep -q ' alpha$' "$T_TMP/two-orig" && grep -q ' spin$' "$T_TMP/two-orig"; then
		t_same "go tool pprof BINARY: same totals and names for a gperftools profile and kiln's pprof of it" \
			"$T_TMP/two-orig" "$T_TMP/two-kiln"
	else
		t_skip "go tool pprof BINARY on a gperftools profile" "pprof did not symbolize the original: $(head -3 "$T_TMP/two-orig")"
	fi
	go tool pprof -raw "$T_TMP/two.pb.gz" 2>/dev/null >"$T_TMP/two-raw"
	if grep -Eq '^[0-9]+: 0x[0-9a-f]+/0x[0-9a-f]+/0x[0-9a-f]+ .*/twowork' "$T_TMP/two-raw" &&
		! grep -Eq '^[0-9]+: 0x0/0x0/0x0 .*/twowork' "$T_TMP/two-raw" && ! grep -q '\[twowork+0x' "$T_TMP/two-raw"; then
		t_pass "kiln's pprof keeps the program's mapping range and no placeholder function names"
	else
		t_fail "kiln's pprof keeps the program's mapping range and no placeholder function names" \
			"$(sed -n '/^Mappings/,$p' "$T_TMP/two-raw")"
	fi
else
	t_skip "go tool pprof symbolizes a converted gperftools profile" "needs libprofiler.so.0, go and cc"
fi

# ---- errors: one line, exit 2, no output file ----
t_fails "a missing input" 2 "$KILN" convert "$T_TMP/nope.pb.gz" -o "$T_TMP/x.json"
t_fails "no -o" 2 "$KILN" convert "$FIX/pprof/go-cpu.pb.gz"
t_fails "an unknown --to" 2 "$KILN" convert "$FIX/pprof/go-cpu.pb.gz" -o - --to nope
t_fails "an unknown --type" 2 "$KILN" convert "$FIX/pprof/go-cpu.pb.gz" -o x.json --type nope
t_fails "an output extension nothing writes" 2 "$KILN" convert "$FIX/pprof/go-cpu.pb.gz" -o "$T_TMP/x.unknown"
t_fails "stdout without --to" 2 "$KILN" convert "$FIX/pprof/go-cpu.pb.gz" -o -
t_fails "a read-only format as output" 2 "$KILN" convert "$FIX/pprof/go-cpu.pb.gz" -o - --to cpuprofile
t_fails "an unknown --value" 2 "$KILN" convert "$FIX/pprof/go-cpu.pb.gz" -o "$T_TMP/x.folded" --value nope
head -c 600 "$FIX/pprof/go-cpu.pb.gz" >"$T_TMP/trunc.pb.gz"
t_fails "a truncated pprof" 2 "$KILN" convert "$T_TMP/trunc.pb.gz" -o "$T_TMP/trunc.json"
head -c 100 "$T_TMP/rt.pb" >"$T_TMP/trunc.pb"
t_fails "a truncated plain pprof" 2 "$KILN" convert "$T_TMP/trunc.pb" --type pprof -o "$T_TMP/trunc2.json"
printf '{"nodes":[{"id":1,"callFrame":{},"children":[1]}],"samples":[1],"timeDeltas":[1]}' >"$T_TMP/cycle.cpuprofile"
t_fails "a cpuprofile with a cycle" 2 "$KILN" convert "$T_TMP/cycle.cpuprofile" -o "$T_TMP/cycle.json"
printf '{"shared":{"frames":[]},"profiles":[{"type":"sampled","samples":[[3]],"weights":[1]}]}' >"$T_TMP/bad.json"
t_fails "a speedscope file with a bad frame index" 2 "$KILN" convert "$T_TMP/bad.json" -o "$T_TMP/bad.folded"
if [ -e "$T_TMP/trunc.json" ] || [ -e "$T_TMP/trunc2.json" ] || [ -e "$T_TMP/cycle.json" ] || [ -e "$T_TMP/bad.folded" ]; then
	t_fail "failed conversions leave no output file"
else
	t_pass "failed conversions leave no output file"
fi
# A folded file whose first line is longer than the detection window (a 100,000-deep stack): still folded,
# and deep stacks survive every writer and reader (no recursion on the C stack).
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "f%d;", i; print "leaf 7"; print "main;x 3" }' >"$T_TMP/deep.folded"
if "$KILN" convert "$T_TMP/deep.folded" -o "$T_TMP/deep.pb.gz" 2>"$T_TMP/deep.err" &&
	"$KILN" convert "$T_TMP/deep.pb.gz" -o "$T_TMP/deep.json" 2>>"$T_TMP/deep.err" &&
	"$KILN" convert "$T_TMP/deep.json" -o "$T_TMP/deep2.folded" 2>>"$T_TMP/deep.err"; then
	t_same "a 100,000-deep stack round-trips through pprof and speedscope" "$T_TMP/deep.folded" "$T_TMP/deep2.folded"
else
	t_fail "a 100,000-deep stack round-trips through pprof and speedscope" "$(head -3 "$T_TMP/deep.err")"
fi
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "word%d ", i; print "" }' >"$T_TMP/longtext.txt"
t_fails "one long line of text is not a profile" 2 "$KILN" convert "$T_TMP/longtext.txt" -o "$T_TMP/longtext.json"
t_ok "kiln help convert" "$KILN" help convert
t_done
