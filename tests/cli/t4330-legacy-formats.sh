#!/bin/bash
# Readers of pprof's legacy text/Java profiles, callgrind/cachegrind, perf script without -g and Ruby stackprof:
# every file gives its reference tool's totals (go tool pprof, callgrind_annotate, cg_annotate, perf report, the
# stackprof file's own "samples"), and broken variants are refused with one line and exit 2.
. "$(dirname "$0")/lib.sh"

FIX=$KILN_ROOT/tests/fixtures
SF=$SHARED/fixtures/formats
D=$T_DIR
have() { command -v "$1" >/dev/null 2>&1; }

# "type/unit total" per sample type, as `go tool pprof -raw` reads FILE.
pprof_totals() {
	go tool pprof -raw -symbolize=none "$1" 2>/dev/null | awk '
	/^Samples:/ { s = 1; next }
	s == 1 { cols = split($0, name, " "); s = 2; next }
	s == 2 && /^Locations/ { exit }
	s == 2 && $1 ~ /^-?[0-9]+:?$/ { for (i = 1; i <= cols; i++) { v = $i; sub(/:$/, "", v); t[i] += v } }
	END { for (i = 1; i <= cols; i++) printf "%s %.0f\n", name[i], t[i] }'
}

# The same per column from kiln analyze --json --value TYPE.
kiln_totals() {
	local f=$1 ty
	"$KILN" convert "$f" -o "$T_TMP/cols.pb.gz" 2>/dev/null || return 1
	pprof_totals "$T_TMP/cols.pb.gz" | while read -r ty _; do
		printf '%s %s\n' "$ty" "$("$KILN" analyze "$f" --json --value "${ty%%/*}" | sed -n 's/^  "total": \([0-9-]*\),$/\1/p')"
	done
}

# ---- pprof legacy formats against go tool pprof ----
if have go; then
	export GOCACHE=$T_TMP/gocache GOPATH=$T_TMP/gopath GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local
	sed '1s/@ heapprofile/@ heap_v2\/524288/' "$FIX/pprof-legacy/gperftools.heap" >"$T_TMP/v2.heap"
	sed '1s/@ heapprofile/@ growthz/' "$FIX/pprof-legacy/gperftools.heap" >"$T_TMP/growth.heap"
	# Without an alloc bracket that differs, pprof reads two types (objects, space).
	awk 'NR == 1 { print "heap profile:   4410: 31978784 [  4410: 31978784] @ heapprofile"; next } { print }' \
		"$FIX/pprof-legacy/gperftools.heap" >"$T_TMP/inuse.heap"
	live=()
	if [ -e /usr/lib/x86_64-linux-gnu/libtcmalloc.so.4 ] && cc -O1 -g -o "$T_TMP/heapprog" "$D/heapprog.c"; then
		(cd "$T_TMP" && HEAPPROFILE=$T_TMP/live LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4 \
			./heapprog 5000 >/dev/null 2>&1)
		[ -s "$T_TMP/live.0001.heap" ] && live+=("$T_TMP/live.0001.heap")
	fi
	cp -r "$D/goheap" "$T_TMP/goheap"
	if (cd "$T_TMP/goheap" && go build -o goheap . 2>/dev/null && ./goheap heap.txt thread.txt); then
		live+=("$T_TMP/goheap/heap.txt")
	fi
	for f in "$FIX/pprof-legacy/gperftools.heap" "$FIX/pprof-legacy/go-heap.txt" "$T_TMP/v2.heap" \
		"$T_TMP/growth.heap" "$T_TMP/inuse.heap" "$SF/pprof-legacy/cppbench.small.contention" \
		"$SF/pprof-legacy/cppbench.thread" "$FIX/pprof-legacy/java.heapz" "$FIX/pprof-legacy/java.contentionz" \
		"$FIX/pprof-legacy/java-le32.cpu" "$FIX/pprof-legacy/java-be64.cpu" "${live[@]}"; do
		[ -f "$f" ] || { t_skip "$(basename "$f")" "missing"; continue; }
		pprof_totals "$f" >"$T_TMP/want"
		"$KILN" convert "$f" -o "$T_TMP/k.pb.gz" 2>"$T_TMP/err" && pprof_totals "$T_TMP/k.pb.gz" >"$T_TMP/got"
		if [ -s "$T_TMP/want" ] && [ "$(wc -l <"$T_TMP/want")" -ge 1 ] && cmp -s "$T_TMP/want" "$T_TMP/got"; then
			t_pass "$(basename "$f"): every sample type's total equals go tool pprof's ($(tr '\n' ' ' <"$T_TMP/want"))"
		else
			t_fail "$(basename "$f"): totals equal go tool pprof's" "$(cat "$T_TMP/err"; diff "$T_TMP/want" "$T_TMP/got")"
		fi
		kiln_totals "$f" >"$T_TMP/got2"
		t_same "$(basename "$f"): kiln analyze --json totals per --value equal go tool pprof's" "$T_TMP/want" "$T_TMP/got2"
	done
else
	t_skip "legacy pprof totals" "go is not installed"
fi
# Go's threadcreate text: records without addresses (threads made before profiling), which pprof refuses;
# the total is the header's.
for f in "$FIX/pprof-legacy/go-threadcreate.txt" ${GOCACHE:+"$T_TMP/goheap/thread.txt"}; do
	[ -f "$f" ] || continue
	want=$(sed -n 's/^threadcreate profile: total \([0-9]*\)$/\1/p' "$f")
	got=$("$KILN" analyze "$f" --json | sed -n 's/^  "total": \([0-9]*\),$/\1/p')
	if [ -n "$want" ] && [ "$want" = "$got" ]; then
		t_pass "$(basename "$f"): threadcreate total $got equals the header's"
	else
		t_fail "$(basename "$f"): threadcreate total equals the header's" "want '$want' got '$got'"
	fi
done
# Go heap: frames are named from the "# 0xADDR func+0xOFF file:line" comments.
if "$KILN" convert "$FIX/pprof-legacy/go-heap.txt" -o - --to folded | grep -q 'runtime.main;main.main;main.allocBig '; then
	t_pass "go heap text: functions named from its comment lines"
else
	t_fail "go heap text: functions named from its comment lines"
fi
# gperftools: addresses stay unsymbolized, relative to their mapping.
if "$KILN" convert "$FIX/pprof-legacy/gperftools.heap" -o - --to folded | grep -q '\[heapprog+0x[0-9a-f]*\]'; then
	t_pass "gperftools heap: addresses named by their mapping"
else
	t_fail "gperftools heap: addresses named by their mapping"
fi
for f in gperftools.heap go-heap.txt go-threadcreate.txt java.heapz java-le32.cpu; do
	fmt=$("$KILN" analyze "$FIX/pprof-legacy/$f" --json | sed -n '/"formats"/{n;p}' | tr -d ' ",')
	case $f in java*) want=pprof-java ;; *) want=pprof-legacy ;; esac
	if [ "$fmt" = "$want" ]; then t_pass "$f is detected as $want"; else t_fail "$f is detected as $want" "got '$fmt'"; fi
done

# ---- refusals: one line, exit 2 ----
sed '2s/@/#/' "$FIX/pprof-legacy/gperftools.heap" >"$T_TMP/bad.heap"
t_fails "a heap profile with a broken record is refused" 2 "$KILN" analyze "$T_TMP/bad.heap"
grep -v resolution "$FIX/pprof-legacy/java.heapz" >"$T_TMP/nores.heapz"
t_fails "a Java heapz profile without a resolution is refused" 2 "$KILN" analyze "$T_TMP/nores.heapz"
printf 'events: Ir\nfl=a.c\nfn=main\n16 20\nbogus line\n' >"$T_TMP/bad.callgrind"
t_fails "callgrind with an unknown line is refused" 2 "$KILN" analyze "$T_TMP/bad.callgrind"
printf 'events: Ir\nfl=a.c\nfn=main\n16 -20\n' >"$T_TMP/neg.callgrind"
t_fails "callgrind whose costs total a negative number is refused" 2 "$KILN" analyze "$T_TMP/neg.callgrind"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); del d["raw"]; json.dump(d, open(sys.argv[2], "w"))' \
	"$SF/stackprof/simple-stackprof.json" "$T_TMP/noraw.json"
t_fails "stackprof without raw stacks is refused" 2 "$KILN" analyze "$T_TMP/noraw.json"
head -c 60 "$FIX/pprof-legacy/java-le32.cpu" >"$T_TMP/cut.cpu"
t_fails "a cut Java CPU profile is refused" 2 "$KILN" convert "$T_TMP/cut.cpu" -o "$T_TMP/cut.pb.gz"

# ---- callgrind / cachegrind against callgrind_annotate / cg_annotate ----
# "TOTAL n" and "function self" per function name (summed over the files the annotate tools split a function
# into), from `TOOL --show=EVENT FILE` (run from / so that no path prefix is stripped).
# The total is PROGRAM TOTALS, or the file's own "totals:" when it has one: callgrind's "summary:", which the
# annotate tool prints, can exceed the sum of the cost lines by a few events that no function holds.
annotate_self() { # TOOL EVENT FILE
	local th=100 col
	[ "$1" = cg_annotate ] && th=0
	col=$(sed -n 's/^events: *//p' "$3" | head -1 | tr ' ' '\n' | grep -nx -- "$2" | cut -d: -f1)
	(cd / && "$1" --threshold=$th --show="$2" --sort="$2" "$3" 2>/dev/null) | awk -v tot="$(sed -n 's/^totals: *//p' "$3" |
		awk -v c="$col" '{ print $c }')" '
	/PROGRAM TOTALS/ { gsub(",", "", $1); print "TOTAL", tot != "" ? tot : $1; next }
	/file:function/ { s = 1; next }
	s == 1 && /^-+$/ { s = 2; next }
	s == 2 && (/^ *$/ || /^-+$/) { s = 3 }
	s == 2 && $1 ~ /^-?[0-9,]+$/ && NF >= 2 { v = $1; gsub(",", "", v); line = $0
		sub(/^ *-?[0-9,]+ +(\( *-?[0-9.]+%\) +)?/, "", line); sub(/ \[[^]]*\]$/, "", line)
		sub(/^[^:]*:/, "", line); self[line] += v }
	END { for (f in self) if (self[f]) print f, self[f] }' | sort
}
# The same from kiln's folded output (a leaf's value is its function's self cost), limited to the functions in
# WANT (the annotate tools stop listing at their threshold); the total covers every function.
kiln_self() { # FILE EVENT WANT
	"$KILN" convert "$1" -o - --to folded --value "$2" | awk -v want="$3" '
	BEGIN { while ((getline l < want) > 0) { n = split(l, w, " "); k = l; sub(/ [^ ]*$/, "", k); keep[k] = 1 } }
	{ v = $NF; st = $0; sub(/ [^ ]*$/, "", st); n = split(st, fr, ";"); self[fr[n]] += v; t += v }
	END { print "TOTAL", t; for (f in self) if (self[f] && keep[f]) print f, self[f] }' | sort
}
if have callgrind_annotate; then
	cg_files=("$SF/callgrind/callgrind.example.log" "$SF/callgrind/callgrind.name-compression.log"
		"$SF/callgrind/callgrind.subposition-compression.log")
	if have valgrind && cc -O1 -g -o "$T_TMP/cgprog" "$D/cgprog.c"; then
		valgrind --tool=callgrind --callgrind-out-file="$T_TMP/cg.out" "$T_TMP/cgprog" >/dev/null 2>&1 &&
			cg_files+=("$T_TMP/cg.out")
		valgrind --tool=callgrind --dump-instr=yes --cache-sim=yes --branch-sim=yes \
			--callgrind-out-file="$T_TMP/cgfull.out" "$T_TMP/cgprog" >/dev/null 2>&1 && cg_files+=("$T_TMP/cgfull.out")
	fi
	for f in "${cg_files[@]}"; do
		for ev in $(sed -n 's/^events: *//p' "$f" | head -1); do
			annotate_self callgrind_annotate "$ev" "$f" >"$T_TMP/want"
			kiln_self "$f" "${ev%%(*}" "$T_TMP/want" >"$T_TMP/got"
			if [ "$(wc -l <"$T_TMP/want")" -lt 2 ]; then
				t_fail "$(basename "$f") [$ev]: callgrind_annotate lists functions" "$(cat "$T_TMP/want")"
			else
				t_same "$(basename "$f") [$ev]: total and self cost per function equal callgrind_annotate's" \
					"$T_TMP/want" "$T_TMP/got"
			fi
		done
	done
	# pprof -callgrind writes "calls=0": the cost after it is still the call's inclusive cost, so the total is
	# the self costs' 1120 (callgrind_annotate 3.19 counts calls=0 costs as self cost and prints 6370).
	got=$("$KILN" analyze "$SF/callgrind/pprof.cpu.callgrind" --json | sed -n 's/^  "total": \([0-9]*\),$/\1/p')
	want=$(awk '/^calls=/ { skip = 1; next } /^[-+*0-9]/ { if (!skip) t += $NF; skip = 0 } END { print t }' \
		"$SF/callgrind/pprof.cpu.callgrind")
	if [ "$got" = "$want" ]; then t_pass "pprof.cpu.callgrind: total $got is the sum of its self costs"; else
		t_fail "pprof.cpu.callgrind: total is the sum of its self costs" "want $want got $got"; fi
	if [ -f "$T_TMP/cgfull.out" ]; then
		# The default column is the first event; analyze ranks by it.
		vt=$("$KILN" analyze "$T_TMP/cgfull.out" --json | sed -n 's/^  "value_type": "\(.*\)",$/\1/p')
		if [ "$vt" = Ir ]; then t_pass "callgrind: analyze ranks by the first event (Ir)"; else
			t_fail "callgrind: analyze ranks by the first event" "got '$vt'"; fi
		if "$KILN" convert "$T_TMP/cg.out" -o - --to folded | grep -q ';main;mid;leaf '; then
			t_pass "callgrind: the call tree holds main;mid;leaf"
		else
			t_fail "callgrind: the call tree holds main;mid;leaf"
		fi
	fi
else
	t_skip "callgrind against callgrind_annotate" "callgrind_annotate is not installed"
fi
if have cg_annotate && have valgrind && [ -x "$T_TMP/cgprog" ]; then
	valgrind --tool=cachegrind --cache-sim=yes --branch-sim=yes --cachegrind-out-file="$T_TMP/cache.out" \
		"$T_TMP/cgprog" >/dev/null 2>&1
	for ev in Ir D1mr Bcm; do
		annotate_self cg_annotate "$ev" "$T_TMP/cache.out" >"$T_TMP/want"
		kiln_self "$T_TMP/cache.out" "$ev" "$T_TMP/want" >"$T_TMP/got"
		t_same "cachegrind [$ev]: total and self cost per function equal cg_annotate's" "$T_TMP/want" "$T_TMP/got"
	done
else
	t_skip "cachegrind against cg_annotate" "valgrind or cg_annotate is missing"
fi

# ---- perf script without -g ----
t_exact nog-folded -- "$KILN" convert "$FIX/perf-script/spin-nog.txt" -o - --to folded
if have perf && cc -O1 -g -o "$T_TMP/nogspin" "$D/nog_spin.c" &&
	perf record -q -e cpu-clock -F 999 -o "$T_TMP/nog.data" -- "$T_TMP/nogspin" >/dev/null 2>&1; then
	perf script -i "$T_TMP/nog.data" 2>/dev/null >"$T_TMP/nog.txt"
	perf report -i "$T_TMP/nog.data" --stdio -n --sort sym 2>/dev/null |
		awk '$1 ~ /%$/ && $3 ~ /^\[/ { n = $4; for (i = 5; i <= NF; i++) n = n " " $i; c[n] += $2 }
		END { for (k in c) print k, c[k] }' | sort >"$T_TMP/want"
	"$KILN" convert "$T_TMP/nog.txt" -o - --to folded --value samples |
		awk '{ v = $NF; st = $0; sub(/ [^ ]*$/, "", st); n = split(st, fr, ";"); c[fr[n]] += v }
		END { for (k in c) print k, c[k] }' | sort >"$T_TMP/got"
	if [ "$(wc -l <"$T_TMP/want")" -ge 1 ]; then
		t_same "perf script without -g: samples per symbol equal perf report's" "$T_TMP/want" "$T_TMP/got"
	else
		t_skip "perf script without -g" "perf report printed nothing"
	fi
else
	t_skip "perf script without -g" "perf record is not usable here"
fi

# ---- stackprof: the file's own samples total ----
for f in "$SF/stackprof/simple-stackprof.json" "$SF/stackprof/object-stackprof.json"; do
	want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["samples"])' "$f")
	got=$("$KILN" analyze "$f" --json | sed -n 's/^  "total": \([0-9]*\),$/\1/p')
	if [ "$want" = "$got" ]; then t_pass "$(basename "$f"): total $got equals its samples"; else
		t_fail "$(basename "$f"): total equals its samples" "want $want got $got"; fi
done
if "$KILN" convert "$SF/stackprof/simple-stackprof.json" -o - --to folded | grep -q '^<main>;<main>;block in <main>;Object#a'; then
	t_pass "stackprof: raw stacks run from the root"
else
	t_fail "stackprof: raw stacks run from the root"
fi
exit $T_FAILED
