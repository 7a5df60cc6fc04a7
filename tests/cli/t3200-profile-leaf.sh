#!/bin/bash
# kiln profile -g fp (the default): the caller of code without a frame of its own at the sampled instruction
# (leaf functions, a shrink-wrapped function's fast path, glibc's assembly and syscall wrappers, Go's
# aeshashbody) is named from the CFI, where a frame-pointer walk alone names the caller's caller.
. "$(dirname "$0")/lib.sh"

cd "$T_TMP" || exit 1

if ! "$KILN" profile -q -o probe.pb.gz -- true 2>probe.err; then
	t_skip "kiln profile" "cannot sample here: $(head -1 probe.err)"
	exit 0
fi

# callers FOLDED FUNC_REGEX CALLER_REGEX: "PCT SAMPLES" for the samples with FUNC (its name without GCC's
# .constprop.N-style suffixes matched in full by FUNC_REGEX; the leafmost such frame) whose next frame
# rootward is matched in full by CALLER_REGEX.
callers() {
	awk -v f="^($2)\$" -v c="^($3)\$" '{
		n = $NF; sub(/ [0-9]+$/, ""); k = split($0, a, ";")
		for (i = k; i > 1; i--) {
			name = a[i]; sub(/\.(constprop|part|isra|cold|lto_priv)\.[0-9.]*$/, "", name)
			if (name !~ f)
				continue
			all += n; if (a[i - 1] ~ c) ok += n
			break
		}
	} END { if (all) printf "%.1f %d\n", 100 * ok / all, all; else print "0 0" }' "$1"
}

# check_callers FOLDED MIN_PCT "FUNC_REGEX CALLER" ...: each function under its caller in >= MIN_PCT % of its
# samples (and at least 20 samples, so that the share means something); prints what failed.
check_callers() {
	local folded=$1 min=$2 bad="" pair pct cnt
	shift 2
	for pair in "$@"; do
		set -- $pair
		read -r pct cnt < <(callers "$folded" "$1" "$2")
		awk -v p="$pct" -v c="$cnt" -v m="$min" 'BEGIN { exit !(p >= m && c >= 20) }' ||
			bad="$bad $1<-$2: $pct% of $cnt;"
	done
	echo "$bad"
}

LEAF_PAIRS=("leaf_add call_add" "leaf_mul call_mul" "leaf_xor call_xor" "shrink call_shrink"
	"_*memcmp(_[a-z0-9_]+)? call_memcmp" "_*memchr(_[a-z0-9_]+)? call_memchr"
	"read|__libc_read|__GI___libc_read call_read")

# --- a C program built as the docs advise: -O2 -g -fno-omit-frame-pointer -----------------------------------
if command -v cc >/dev/null 2>&1 &&
	cc -O2 -g -fno-omit-frame-pointer -o prof_leaf "$KILN_ROOT/tests/helpers/prof_leaf.c"; then
	"$KILN" profile -q -o leaf.folded ./prof_leaf 1.5 >/dev/null 2>leaf.err
	bad=$(check_callers leaf.folded 99 "${LEAF_PAIRS[@]}")
	[ -z "$bad" ] && t_pass "leaf, shrink-wrapped, glibc asm and syscall wrapper under their true caller (>= 99%)" ||
		t_fail "frameless code under its true caller (>= 99%)" "$bad $(cat leaf.err)"

	# The same frame-pointer callchains without the registers and stack (perf record -g): the callers are lost,
	# which is what the check above would see without the repair.
	if command -v perf >/dev/null 2>&1 && perf record -q -g -F 999 -o leaf.data ./prof_leaf 1 >/dev/null 2>perf.err
	then
		"$KILN" collapse leaf.data >leaf-perf.folded 2>/dev/null
		read -r pct cnt < <(callers leaf-perf.folded leaf_add call_add)
		awk -v p="$pct" -v c="$cnt" 'BEGIN { exit !(p < 50 && c >= 20) }' &&
			t_pass "perf record -g loses the leaf's caller ($pct% of $cnt): the check can fail" ||
			t_fail "perf record -g loses the leaf's caller" "$pct% of $cnt samples"
	else
		t_skip "perf record -g contrast" "perf record does not work here: $(head -1 perf.err 2>/dev/null)"
	fi
else
	t_skip "frameless code under its true caller" "no C compiler"
fi

# --- the bundled demo: crc32_of runs in a thread started at checksum_thread, count_word is called by
# tokenize_and_count; the report names them as callers ------------------------------------------------------
demo=${KILN_RELEASE:-}/examples/demo
if [ ! -x "$demo" ] && command -v cc >/dev/null 2>&1; then
	cc -O2 -g -fno-omit-frame-pointer -pthread -o demo "$KILN_ROOT/examples/demo.c" && demo=./demo
fi
if [ -x "$demo" ]; then
	"$KILN" profile -q -o demo.pb.gz "$demo" >/dev/null 2>demo.err
	"$KILN" convert demo.pb.gz -o demo.folded 2>/dev/null
	bad=$(check_callers demo.folded 99 "crc32_of checksum_thread" "count_word tokenize_and_count")
	[ -z "$bad" ] && t_pass "demo: crc32_of under checksum_thread, count_word under tokenize_and_count" ||
		t_fail "demo: true callers" "$bad $(cat demo.err)"
	"$KILN" analyze demo.pb.gz >report.txt 2>&1
	if grep -q 'checksum_thread' report.txt && grep -q 'tokenize_and_count' report.txt &&
		! grep -q 'from start_thread' report.txt; then
		t_pass "demo report names checksum_thread and tokenize_and_count"
	else
		t_fail "demo report names checksum_thread and tokenize_and_count" "$(grep -E 'called|entered' report.txt)"
	fi
else
	t_skip "demo callers" "no demo binary and no C compiler"
fi

# --- Go: runtime.mapassign_faststr's share as Go's own profiler sees it --------------------------------------
if command -v go >/dev/null 2>&1 &&
	GOPATH="$T_TMP/gopath" GOCACHE="$T_TMP/gocache" GO111MODULE=off GOFLAGS= \
		go build -o gomap "$KILN_ROOT/tests/helpers/prof_gomap.go" 2>go.err; then
	./gomap -t 1.5 -cpuprofile go.prof >/dev/null 2>&1
	"$KILN" convert go.prof -o go.folded 2>/dev/null
	"$KILN" profile -q -o kiln-go.folded ./gomap -t 1.5 >/dev/null 2>kgo.err
	share() { awk '{ n = $NF; t += n; if ($0 ~ /(^|;)runtime\.mapassign_faststr(;| )/) m += n }
		END { if (t) printf "%.1f", 100 * m / t; else print 0 }' "$1"; }
	g=$(share go.folded) k=$(share kiln-go.folded)
	awk -v g="$g" -v k="$k" 'BEGIN { d = g - k; if (d < 0) d = -d; exit !(g > 50 && d <= 5) }' &&
		t_pass "Go: mapassign_faststr inclusive $k%, Go's profiler $g% (within 5 points)" ||
		t_fail "Go: mapassign_faststr inclusive within 5 points of Go's profiler" "kiln $k%, go $g%: $(cat kgo.err)"
	# The map code hashes keys when it inserts and, while the map grows, when it moves them.
	bad=$(check_callers kiln-go.folded 99 "aeshashbody runtime[.](mapassign|evacuate)_faststr")
	[ -z "$bad" ] && t_pass "Go: aeshashbody under the map code that hashes" ||
		t_fail "Go: aeshashbody under the map code that hashes" "$bad"
else
	t_skip "Go map benchmark" "no go toolchain that builds offline: $(head -1 go.err 2>/dev/null)"
fi
t_done
