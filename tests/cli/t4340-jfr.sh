#!/bin/bash
# kiln reads Java Flight Recorder recordings: detected from content; every stack's execution samples, native
# method samples, allocation samples and allocated bytes equal those computed by t4340-jfr.d/ref.py from
# `jfr print --json` (the JDK's own parser); several chunks in one file; the sampling period from the recording's
# settings; flame charts in time order; damaged files refused with one line, never a crash or a hang.
# The committed recordings (tests/fixtures/jfr, made by make.sh there) are always checked against the reference
# stored beside this script; with a JDK, the reference is recomputed from them, and fresh recordings are made
# and checked too.
. "$(dirname "$0")/lib.sh"

FIX=$KILN_ROOT/tests/fixtures/jfr
D=$T_DIR
REF="python3 $D/ref.py"
EVENTS=jdk.ExecutionSample,jdk.NativeMethodSample,jdk.ObjectAllocationSample,jdk.ObjectAllocationInNewTLAB
EVENTS=$EVENTS,jdk.ObjectAllocationOutsideTLAB
COLUMNS="samples native_samples alloc_samples alloc_space"
if ! command -v python3 >/dev/null 2>&1; then
	t_skip "jfr" "python3 is not installed"
	exit 0
fi
HAVE_JFR=0
command -v jfr >/dev/null 2>&1 && command -v javac >/dev/null 2>&1 && HAVE_JFR=1

# got FILE COLUMN: kiln's stacks of one column, summed per stack name and sorted as the reference prints them.
got() {
	"$KILN" convert "$1" --to folded --value "$2" -o - 2>"$T_TMP/conv.err" | $REF strip
}

# reference FILE: jfr print's JSON of the sample events.
reference() {
	jfr print --json --stack-depth 4096 --events "$EVENTS" "$1" >"$T_TMP/ref.json"
}

# ---- the committed recordings ----
for f in cpu alloc tlab; do
	"$KILN" analyze "$FIX/$f.jfr" >"$T_TMP/an" 2>"$T_TMP/an.err"
	if head -1 "$T_TMP/an" | grep -qF "(jfr)"; then
		t_pass "$f.jfr is detected as jfr"
	else
		t_fail "$f.jfr is detected as jfr" "$(head -2 "$T_TMP/an") $(cat "$T_TMP/an.err")"
	fi
	[ $HAVE_JFR = 1 ] && reference "$FIX/$f.jfr"
	for col in $COLUMNS; do
		want=$D/$f.$col.want
		if [ ! -f "$want" ]; then
			# a column the recording has no events for is not made up
			if "$KILN" convert "$FIX/$f.jfr" --to folded --value "$col" -o - >/dev/null 2>&1; then
				t_fail "$f.jfr has no $col column"
			else
				t_pass "$f.jfr has no $col column"
			fi
			continue
		fi
		if [ $HAVE_JFR = 1 ]; then
			$REF "$col" "$T_TMP/ref.json" >"$T_TMP/live"
			t_same "$f.jfr: the stored $col reference is jfr print's" "$want" "$T_TMP/live"
		fi
		got "$FIX/$f.jfr" "$col" >"$T_TMP/got"
		t_same "$f.jfr: every stack's $col as jfr print's ($(wc -l <"$want") stacks)" "$want" "$T_TMP/got"
	done
done

# Per-method shares of the CPU recording: Alpha.spin and Beta.mix leaf samples as the reference counts them.
for m in 'Cpu$Alpha.spin(int)' 'Cpu$Beta.mix(long[], java.lang.String)'; do
	want=$(awk -v m="$m" '{ n = $NF; sub(/ [0-9]+$/, ""); k = split($0, a, ";"); if (a[k] == m) s += n }
		END { print s + 0 }' "$D/cpu.samples.want")
	have=$("$KILN" analyze --json "$FIX/cpu.jfr" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
def walk(x):
    if isinstance(x, dict):
        if x.get("function") == sys.argv[1] and "self" in x:
            yield x["self"]
        for v in x.values():
            yield from walk(v)
    elif isinstance(x, list):
        for v in x:
            yield from walk(v)
print(next(walk(doc), "none"))' "$m")
	if [ "$want" -gt 0 ] && [ "$have" = "$want" ]; then
		t_pass "analyze: $m has the reference's $want self samples"
	else
		t_fail "analyze: $m has the reference's $want self samples" "got $have"
	fi
done

# ---- several chunks in one file ----
# Three recordings end to end: each chunk is read with its own metadata and constant pools. (jfr print cannot be
# the reference here: it reuses constants of earlier chunks by key, which holds only within one JVM's recording;
# a JVM's own multi-chunk recording is checked against it below, with the fresh ones.)
cat "$FIX/cpu.jfr" "$FIX/alloc.jfr" "$FIX/tlab.jfr" >"$T_TMP/three.jfr"
for col in samples alloc_space; do
	# alloc_space: cpu.jfr and alloc.jfr have allocation samples, so tlab.jfr's TLAB events are left out
	cat "$D/cpu.$col.want" "$D/alloc.$col.want" $([ $col = samples ] && echo "$D/tlab.$col.want") |
		$REF strip >"$T_TMP/want3"
	got "$T_TMP/three.jfr" "$col" >"$T_TMP/got3"
	t_same "three chunks: every stack's $col is the sum of the recordings'" "$T_TMP/want3" "$T_TMP/got3"
done

# ---- metadata: the sampling period of the settings (kiln.jfc asks for 10 ms) ----
if command -v go >/dev/null 2>&1; then
	"$KILN" convert "$FIX/cpu.jfr" -o "$T_TMP/cpu.pb.gz"
	if go tool pprof -raw "$T_TMP/cpu.pb.gz" 2>/dev/null | grep -qx 'Period: 10000000'; then
		t_pass "the execution sampling period (10 ms) is the profile's period"
	else
		t_fail "the execution sampling period (10 ms) is the profile's period" \
			"$(go tool pprof -raw "$T_TMP/cpu.pb.gz" 2>&1 | head -5)"
	fi
else
	t_skip "sampling period" "go tool pprof is not available to read it"
fi

# ---- flame chart: samples in time order (two threads take turns, so the top frames alternate) ----
chart_roots() {
	"$KILN" flamegraph --flamechart "$1" -o "$T_TMP/chart.svg" &&
		python3 -c '
import html, re, sys
svg = open(sys.argv[1]).read()
rects = re.findall(r"<title>([^<]*)</title><rect x=\"([0-9.]+)\" y=\"([0-9]+)\"", svg)
top = max(int(y) for t, x, y in rects if t.startswith("all "))
row = [(float(x), html.unescape(t)) for t, x, y in rects if int(y) == top - 16]
for x, t in sorted(row):
    print(re.sub(r" \([0-9,]+ samples?(, [0-9.]+ [a-zµ]+)?, [0-9.]+%\)$", "", t))' "$T_TMP/chart.svg"
}
chart_roots "$FIX/cpu.jfr" >"$T_TMP/order"
t_same "flame chart of cpu.jfr: top frames in time order ($(wc -l <"$D/cpu.order.want") runs)" \
	"$D/cpu.order.want" "$T_TMP/order"

# ---- hand-made recordings (mini.py): what was written is known, whatever the JVM does ----
# Both integer encodings, every string encoding, two linked checkpoints, samples written out of time order, a
# sample without a stack trace, an event type the reader does not know, the period in a jdk.ActiveSetting.
for n in mini mini-raw; do
	python3 "$FIX/mini.py" "$T_TMP" $([ $n = mini-raw ] && echo raw)
	t_same "$n.jfr: the committed fuzz seed is what mini.py writes" "$KILN_ROOT/tests/fuzz/corpus/jfr/$n.jfr" \
		"$T_TMP/$n.jfr"
	for col in samples alloc_space; do
		got "$T_TMP/$n.jfr" "$col" >"$T_TMP/got"
		t_same "$n.jfr: every stack's $col as written" "$T_TMP/$n.$col.want" "$T_TMP/got"
	done
	chart_roots "$T_TMP/$n.jfr" >"$T_TMP/order"
	t_same "$n.jfr: samples written out of order are charted in time order" "$T_TMP/$n.order.want" \
		"$T_TMP/order"
done
if [ $HAVE_JFR = 1 ]; then
	jfr print --json --stack-depth 99 --events jdk.ExecutionSample,jdk.ObjectAllocationSample "$T_TMP/mini.jfr" \
		>"$T_TMP/ref.json"
	for col in samples alloc_space; do
		$REF "$col" "$T_TMP/ref.json" >"$T_TMP/live"
		t_same "mini.jfr: jfr print reads what mini.py meant ($col)" "$T_TMP/mini.$col.want" "$T_TMP/live"
	done
fi
if command -v go >/dev/null 2>&1; then
	"$KILN" convert "$T_TMP/mini.jfr" -o "$T_TMP/mini.pb.gz"
	go tool pprof -raw "$T_TMP/mini.pb.gz" 2>/dev/null | grep -qx 'Period: 20000000' &&
		t_pass "mini.jfr: the period of its jdk.ActiveSetting (20 ms)" ||
		t_fail "mini.jfr: the period of its jdk.ActiveSetting (20 ms)"
fi

# ---- fresh recordings of the same programs (other runs, other stacks and counts) ----
if [ $HAVE_JFR = 1 ] && "$FIX/make.sh" "$T_TMP/fresh" >"$T_TMP/make.log" 2>&1; then
	for f in cpu alloc tlab; do
		reference "$T_TMP/fresh/$f.jfr"
		for col in $COLUMNS; do
			$REF "$col" "$T_TMP/ref.json" >"$T_TMP/want"
			[ -s "$T_TMP/want" ] || continue
			got "$T_TMP/fresh/$f.jfr" "$col" >"$T_TMP/got"
			t_same "fresh $f.jfr: every stack's $col as jfr print's ($(wc -l <"$T_TMP/want") stacks)" \
				"$T_TMP/want" "$T_TMP/got"
		done
	done
	reference "$T_TMP/fresh/cpu.jfr"
	$REF order "$T_TMP/ref.json" >"$T_TMP/want"
	chart_roots "$T_TMP/fresh/cpu.jfr" >"$T_TMP/order"
	t_same "fresh cpu.jfr: flame chart in time order" "$T_TMP/want" "$T_TMP/order"
	# A second recording started while the first runs makes the JVM start a new chunk.
	java -Xlog:disable -XX:StartFlightRecording=filename="$T_TMP/multi.jfr",settings="$FIX/kiln.jfc" \
		-cp "$T_TMP/fresh/classes" Cpu 3000 >/dev/null 2>&1 &
	jpid=$!
	sleep 1.5
	jcmd $jpid JFR.start name=second settings="$FIX/kiln.jfc" >/dev/null 2>&1
	wait $jpid
	chunks=$(jfr summary "$T_TMP/multi.jfr" 2>/dev/null | awk '/Chunks:/ { print $2 }')
	if [ "${chunks:-0}" -ge 2 ]; then
		reference "$T_TMP/multi.jfr"
		for col in samples native_samples; do
			$REF "$col" "$T_TMP/ref.json" >"$T_TMP/want"
			got "$T_TMP/multi.jfr" "$col" >"$T_TMP/got"
			t_same "a JVM's $chunks-chunk recording: every stack's $col as jfr print's" "$T_TMP/want" "$T_TMP/got"
		done
	else
		t_fail "a JVM's multi-chunk recording" "jfr summary says ${chunks:-no} chunks"
	fi
elif [ $HAVE_JFR = 1 ]; then
	t_fail "fresh recordings" "$(tail -5 "$T_TMP/make.log")"
else
	t_skip "fresh recordings and the live reference" "no JDK (javac and jfr)"
fi

# ---- damaged files: exit 0 with a result, or exit 2 with one line; never a crash or a hang ----
size=$(wc -c <"$FIX/cpu.jfr")
head -c 40 "$FIX/cpu.jfr" >"$T_TMP/hdr.jfr"
t_fails "a recording cut in its header is refused" 2 "$KILN" analyze --type jfr "$T_TMP/hdr.jfr"
head -c $((size / 2)) "$FIX/cpu.jfr" >"$T_TMP/half.jfr"
t_fails "a recording cut in half is refused" 2 "$KILN" analyze "$T_TMP/half.jfr"
{ cat "$FIX/cpu.jfr"; printf 'FLR\0\0\2\0\1garbage'; } >"$T_TMP/tail.jfr"
t_fails "a recording with a cut second chunk is refused" 2 "$KILN" analyze "$T_TMP/tail.jfr"
{ printf 'FLR\0\0\1\0\0'; tail -c +9 "$FIX/cpu.jfr"; } >"$T_TMP/v1.jfr"
t_fails "a JFR 1.0 (JDK 9/10) recording is refused" 2 "$KILN" analyze "$T_TMP/v1.jfr"
# the header's constant pool offset pointed at the metadata, and the metadata offset at the header's end
python3 - "$FIX/cpu.jfr" "$T_TMP" <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
meta = struct.unpack(">q", d[24:32])[0]
a = bytearray(d); a[16:24] = struct.pack(">q", meta); open(sys.argv[2] + "/cp.jfr", "wb").write(a)
b = bytearray(d); b[24:32] = struct.pack(">q", 68); open(sys.argv[2] + "/meta.jfr", "wb").write(b)
EOF
t_fails "a chunk whose constant pool offset is not a checkpoint is refused" 2 "$KILN" analyze "$T_TMP/cp.jfr"
t_fails "a chunk whose metadata offset is not metadata is refused" 2 "$KILN" analyze "$T_TMP/meta.jfr"

bad=0
for i in $(seq 1 60); do
	python3 - "$FIX/$( [ $((i % 3)) = 0 ] && echo alloc || echo cpu).jfr" "$T_TMP/d.jfr" "$i" <<'EOF'
import random, sys
d = bytearray(open(sys.argv[1], "rb").read())
r = random.Random(int(sys.argv[3]))
if r.random() < 0.3:
    d = d[:r.randrange(68, len(d))]
for _ in range(r.randrange(1, 8)):
    d[r.randrange(68, len(d))] = r.randrange(256)
open(sys.argv[2], "wb").write(d)
EOF
	timeout 20 "$KILN" convert "$T_TMP/d.jfr" --to folded -o "$T_TMP/d.folded" 2>"$T_TMP/d.err"
	st=$?
	if { [ $st -ne 0 ] && [ $st -ne 2 ]; } || { [ $st -eq 2 ] && [ "$(wc -l <"$T_TMP/d.err")" -ne 1 ]; } ||
		grep -q '^[^;]* -' "$T_TMP/d.folded" 2>/dev/null; then
		bad=$((bad + 1))
		t_fail "damaged recording $i" "exit $st: $(head -3 "$T_TMP/d.err")"
	fi
done
[ $bad = 0 ] && t_pass "60 damaged recordings: each read or refused with one line"
t_done
