#!/bin/bash
# kiln flamegraph: SVG output, flamegraph.pl's options, determinism, escaping, bad input.
. "$(dirname "$0")/lib.sh"

D=$T_DIR
SMALL=$D/small.folded
PERF_FIX=$SHARED/fixtures/stackcollapse-perf/input

svg_ok() { # DESC FILE: the file is well-formed XML
	if ! command -v xmllint >/dev/null; then
		t_skip "$1" "xmllint is not installed (apt-get install libxml2-utils)"
	elif xmllint --noout "$2" 2>"$T_TMP/xmllint.err"; then
		t_pass "$1"
	else
		t_fail "$1" "$(head -5 "$T_TMP/xmllint.err")"
	fi
}
has() { # DESC FILE FIXED-STRING
	if grep -qF -- "$3" "$2"; then t_pass "$1"; else t_fail "$1" "'$3' not in $2"; fi
}
hasnt() {
	if grep -qF -- "$3" "$2"; then t_fail "$1" "'$3' found in $2"; else t_pass "$1"; fi
}

# Golden outputs: same input, same bytes (the layout, tooltips, colours and script are all deterministic).
t_exact default -- "$KILN" flamegraph "$SMALL"
t_exact inverted-java-hash -- "$KILN" flamegraph --inverted --colors java --hash --title 'Java & co' "$SMALL"
t_exact stdin --stdin "$SMALL" -- "$KILN" flamegraph --width 600 --colors mem
t_exact differential -- "$KILN" flamegraph "$D/diff.folded"

"$KILN" flamegraph "$SMALL" -o "$T_TMP/a.svg"
"$KILN" flamegraph "$SMALL" -o "$T_TMP/b.svg"
t_same "same input, same bytes" "$T_TMP/a.svg" "$T_TMP/b.svg"
svg_ok "the SVG is well-formed" "$T_TMP/a.svg"
has "tooltips read NAME (N samples, P%)" "$T_TMP/a.svg" "<title>execute_command (70 samples, 42.17%)</title>"
has "the root reads all (N samples, 100%)" "$T_TMP/a.svg" "<title>all (166 samples, 100%)</title>"
has "default title" "$T_TMP/a.svg" ">Flame Graph</text>"
has "the script is embedded" "$T_TMP/a.svg" "function search("
n=$(grep -c '<title>foo (' "$T_TMP/a.svg")
if [ "$n" -eq 1 ]; then t_pass "foo next to foo::bar and foo-x is one frame"; else t_fail "foo is one frame" "$n frames"; fi

# Text options.
"$KILN" flamegraph --title 'My title' --subtitle 'Sub' --countname bytes --nametype 'Func:' --notes 'note-1' \
	--fonttype Courier --fontsize 10 "$SMALL" -o "$T_TMP/t.svg"
has "--title" "$T_TMP/t.svg" ">My title</text>"
has "--subtitle" "$T_TMP/t.svg" ">Sub</text>"
has "--countname in the tooltips" "$T_TMP/t.svg" "<title>readline (30 bytes, 18.07%)</title>"
has "--nametype for the detail line" "$T_TMP/t.svg" 'data-nametype="Func:"'
has "--notes as a comment" "$T_TMP/t.svg" "<!-- NOTES: note-1 -->"
has "--fonttype" "$T_TMP/t.svg" 'font-family="Courier"'
has "--fontsize" "$T_TMP/t.svg" 'font-size="10"'

# Geometry.
"$KILN" flamegraph --inverted "$SMALL" -o "$T_TMP/inv.svg"
has "--inverted is titled Icicle Graph" "$T_TMP/inv.svg" ">Icicle Graph</text>"
has "--inverted puts the root at the top" "$T_TMP/inv.svg" \
	'<title>all (166 samples, 100%)</title><rect x="10.0" y="36"'
"$KILN" flamegraph --reverse "$SMALL" -o "$T_TMP/rev.svg"
grep -q '<title>fork_\[k\] (40 samples, 24.10%)</title><rect x="[0-9.]*" y="85"' "$T_TMP/rev.svg" &&
	t_pass "--reverse puts leaf functions at the bottom" || t_fail "--reverse puts leaf functions at the bottom"
"$KILN" flamegraph --width 800 --height 20 "$SMALL" -o "$T_TMP/wh.svg"
has "--width" "$T_TMP/wh.svg" 'width="800" height="170"'
has "--height sets the frame height" "$T_TMP/wh.svg" 'height="19.0"'
"$KILN" flamegraph --minwidth 100 "$SMALL" -o "$T_TMP/mw.svg"
hasnt "--minwidth prunes narrow frames" "$T_TMP/mw.svg" "<title>foo-x ("
has "--minwidth keeps wide ones" "$T_TMP/mw.svg" "<title>execute_command ("
"$KILN" flamegraph --minwidth 10% "$SMALL" -o "$T_TMP/mwp.svg"
hasnt "--minwidth N% prunes below N% of the total" "$T_TMP/mwp.svg" "<title>foo ("
has "--minwidth N% keeps wider frames" "$T_TMP/mwp.svg" "<title>readline ("
"$KILN" flamegraph --factor 2.5 "$SMALL" -o "$T_TMP/f.svg"
has "--factor scales the counts" "$T_TMP/f.svg" "<title>all (415 samples, 100%)</title>"
has "--factor keeps the percentages" "$T_TMP/f.svg" "<title>readline (75 samples, 18.07%)</title>"
"$KILN" flamegraph --total 332 "$SMALL" -o "$T_TMP/tot.svg"
has "--total makes the root stand for the total" "$T_TMP/tot.svg" "<title>all (332 samples, 100%)</title>"
has "--total halves the other frames" "$T_TMP/tot.svg" "<title>readline (30 samples, 9.04%)</title>"
"$KILN" flamegraph --total 10 "$SMALL" -o "$T_TMP/tot2.svg"
has "a --total below the sum is ignored" "$T_TMP/tot2.svg" "<title>all (166 samples, 100%)</title>"

# Flame chart: input order, only consecutive frames merge.
"$KILN" flamegraph --flamechart "$D/order.folded" -o "$T_TMP/fc.svg"
has "--flamechart is titled Flame Chart" "$T_TMP/fc.svg" ">Flame Chart</text>"
n=$(grep -c '<title>a (' "$T_TMP/fc.svg")
if [ "$n" -eq 2 ]; then t_pass "--flamechart keeps separate runs of a"; else t_fail "--flamechart runs" "$n"; fi
has "--flamechart keeps time order" "$T_TMP/fc.svg" \
	'<title>c (1 samples, 12.50%)</title><rect x="157.5" y="37" width="147.5"'
"$KILN" flamegraph "$D/order.folded" -o "$T_TMP/nfc.svg"
has "without --flamechart the runs merge" "$T_TMP/nfc.svg" "<title>a (6 samples, 75.00%)</title>"

# Differential (two counts per line) and --negate.
"$KILN" flamegraph "$D/diff.folded" -o "$T_TMP/d.svg"
has "differential tooltips carry the change" "$T_TMP/d.svg" "<title>b (20 samples, 58.82%; +29.41%)</title>"
has "growth is red" "$T_TMP/d.svg" 'fill="rgb(255,0,0)"'
"$KILN" flamegraph --negate "$D/diff.folded" -o "$T_TMP/dn.svg"
has "--negate flips the change" "$T_TMP/dn.svg" "<title>b (20 samples, 58.82%; -29.41%)</title>"
has "--negate turns growth blue" "$T_TMP/dn.svg" 'fill="rgb(0,0,255)"'

# Colours.
"$KILN" flamegraph --hash "$SMALL" -o "$T_TMP/h1.svg"
"$KILN" flamegraph --hash "$SMALL" -o "$T_TMP/h2.svg"
t_same "--hash is deterministic" "$T_TMP/h1.svg" "$T_TMP/h2.svg"
if cmp -s "$T_TMP/h1.svg" "$T_TMP/a.svg"; then t_fail "--hash picks other shades than the default"; else
	t_pass "--hash picks other shades than the default"; fi
"$KILN" flamegraph --random "$SMALL" -o "$T_TMP/r1.svg"
"$KILN" flamegraph --random "$SMALL" -o "$T_TMP/r2.svg"
if cmp -s "$T_TMP/r1.svg" "$T_TMP/r2.svg"; then t_fail "--random differs between runs"; else
	t_pass "--random differs between runs"; fi
has "the hot palette colours by name as flamegraph.pl does" "$T_TMP/a.svg" \
	'<title>main (119 samples, 71.69%)</title><rect x="10.0" y="69" width="845.9" height="15.0" fill="rgb(243,179,42)"'
for pal in hot mem io wakeup chain java js perl red green blue aqua yellow purple orange; do
	"$KILN" flamegraph --colors $pal "$SMALL" -o "$T_TMP/pal.svg" 2>"$T_TMP/pal.err" || break
done
if [ -s "$T_TMP/pal.err" ]; then t_fail "every palette draws" "$pal: $(cat "$T_TMP/pal.err")"; else
	t_pass "every palette draws"; fi
"$KILN" flamegraph --colors java "$SMALL" -o "$T_TMP/java.svg"
grep -o '<title>fork_\[k\] [^<]*</title><rect [^>]*fill="rgb([0-9]*,[0-9]*,0)"' "$T_TMP/java.svg" >/dev/null &&
	t_pass "java: _[k] is orange" || t_fail "java: _[k] is orange"
"$KILN" flamegraph --bgcolors blue "$SMALL" -o "$T_TMP/bg.svg"
has "--bgcolors blue" "$T_TMP/bg.svg" 'stop-color="#e0e0ff"'
"$KILN" flamegraph --bgcolors '#123456' "$SMALL" -o "$T_TMP/bg2.svg"
has "--bgcolors #rrggbb" "$T_TMP/bg2.svg" 'stop-color="#123456" offset="95%"'
t_fails "--bgcolors rejects an unknown colour" 2 "$KILN" flamegraph --bgcolors pink "$SMALL"
t_fails "--colors rejects an unknown palette" 2 "$KILN" flamegraph --colors pink "$SMALL"

# Consistent palette: written on first use, reused (and extended) later.
mkdir -p "$T_TMP/cp" && cd "$T_TMP/cp" || exit 1
"$KILN" flamegraph --cp "$SMALL" -o cp1.svg
if [ -s palette.map ] && grep -q '^readline->rgb(' palette.map; then t_pass "--cp writes palette.map"; else
	t_fail "--cp writes palette.map" "$(ls -la)"; fi
if sort -c palette.map 2>/dev/null; then t_pass "palette.map is sorted by name"; else t_fail "palette.map is sorted"; fi
sed -i 's/^readline->.*/readline->rgb(1,2,3)/' palette.map
"$KILN" flamegraph --cp --hash "$SMALL" -o cp2.svg
has "--cp reuses a remembered colour" cp2.svg '<title>readline (30 samples, 18.07%)</title><rect x="' 
grep -q '<title>readline ([^<]*</title><rect [^>]*fill="rgb(1,2,3)"' cp2.svg && t_pass "--cp colour is the file's" ||
	t_fail "--cp colour is the file's"
"$KILN" flamegraph --cp-file other.map "$D/order.folded" -o cp3.svg
has "--cp-file names the palette file" other.map "x->rgb("
echo 'f->rgb(1,2,3)" onload="alert(1)' >bad.map
t_fails "a palette file with a bad colour is an input error" 2 "$KILN" flamegraph --cp-file bad.map "$SMALL"
cd - >/dev/null || exit 1

# Any input kiln reads: perf script output (detected from the content).
if [ -d "$PERF_FIX" ]; then
	"$KILN" flamegraph "$PERF_FIX/perf-java-stacks-01.txt" -o "$T_TMP/perf.svg"
	svg_ok "perf script input draws a well-formed SVG" "$T_TMP/perf.svg"
	has "perf script frames are drawn" "$T_TMP/perf.svg" "<title>java ("
	"$KILN" flamegraph "$PERF_FIX/perf-java-stacks-01.txt" "$PERF_FIX/perf-dd-stacks-01.txt" -o "$T_TMP/two.svg"
	has "several inputs are drawn together" "$T_TMP/two.svg" "<title>dd ("
else
	t_skip "perf script input" "fixtures not found in $PERF_FIX"
fi

# Hostile names and option values render as text and keep the XML well-formed.
printf 'main;</title><script>alert(1)</script> 5\nmain;a&b"c'"'"'d 3\nmain;\001ctl\177 2\nmain;bad\377\376utf 2\nmain;]]>cdata 1\nmain;--> 1\n' \
	>"$T_TMP/hostile.folded"
"$KILN" flamegraph --title '</text><script>alert(2)</script>' --subtitle '"&<' --countname '<b>' \
	--nametype "'\"" --notes 'a--><script>' --fonttype 'x" onload="alert(3)' "$T_TMP/hostile.folded" -o "$T_TMP/hostile.svg"
svg_ok "hostile names and options keep the SVG well-formed" "$T_TMP/hostile.svg"
hasnt "no injected script element" "$T_TMP/hostile.svg" "<script>"
has "a hostile name is text" "$T_TMP/hostile.svg" "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt; (5 &lt;b&gt;"
has "control characters and invalid UTF-8 become U+FFFD" "$T_TMP/hostile.svg" "bad$(printf '\357\277\275\357\277\275')utf"

# Bad input: one line on stderr, exit 2, no output file.
: >"$T_TMP/empty"
head -c 4096 /dev/urandom >"$T_TMP/binary"
printf 'no counts here\nat all\n' >"$T_TMP/nocounts"
t_fails "empty input" 2 "$KILN" flamegraph "$T_TMP/empty" -o "$T_TMP/out-empty.svg"
t_fails "binary input" 2 "$KILN" flamegraph "$T_TMP/binary" -o "$T_TMP/out-bin.svg"
t_fails "input without counts" 2 "$KILN" flamegraph "$T_TMP/nocounts" -o "$T_TMP/out-nc.svg"
t_fails "a missing file" 2 "$KILN" flamegraph "$T_TMP/does-not-exist" -o "$T_TMP/out-missing.svg"
t_fails "an unknown --type" 2 "$KILN" flamegraph --type nope "$SMALL"
t_fails "a bad --width" 2 "$KILN" flamegraph --width abc "$SMALL"
t_fails "a bad --minwidth" 2 "$KILN" flamegraph --minwidth 5%% "$SMALL"
t_fails "--hash with --random" 2 "$KILN" flamegraph --hash --random "$SMALL"
t_fails "an empty stdin" 2 "$KILN" flamegraph -o "$T_TMP/out-stdin.svg" </dev/null
if ls "$T_TMP"/out-*.svg >/dev/null 2>&1; then t_fail "failed runs leave no output file" "$(ls "$T_TMP"/out-*)"
else t_pass "failed runs leave no output file"; fi
echo keep >"$T_TMP/keep.svg"
"$KILN" flamegraph "$T_TMP/empty" -o "$T_TMP/keep.svg" 2>/dev/null
if [ "$(cat "$T_TMP/keep.svg")" = keep ]; then t_pass "a failed run keeps an existing output"; else
	t_fail "a failed run keeps an existing output"; fi
if [ -w /dev/full ]; then
	"$KILN" flamegraph "$SMALL" >/dev/full 2>"$T_TMP/full.err"; s=$?
	if [ $s -ne 0 ] && [ "$(wc -l <"$T_TMP/full.err")" -ge 1 ]; then t_pass "a full stdout fails"; else
		t_fail "a full stdout fails" "exit $s"; fi
fi
# A unit taken from the input's own value column (pprof nanoseconds, cpuprofile microseconds) names the counts:
# the name must outlive the profile it came from (a use-after-free once; ASan builds caught it).
FUZZ=$(cd "$(dirname "$0")/../fuzz/corpus" && pwd)
if "$KILN" flamegraph "$FUZZ/pprof/go-cpu.pb.gz" -o "$T_TMP/pprof-unit.svg" 2>"$T_TMP/pprof-unit.err"; then
	has "a pprof's unit names the counts" "$T_TMP/pprof-unit.svg" 'data-countname="nanoseconds"'
else
	t_fail "a pprof's unit names the counts" "$(head -5 "$T_TMP/pprof-unit.err")"
fi
"$KILN" flamegraph "$FUZZ/cpuprofile/node.cpuprofile" -o "$T_TMP/cpuprofile.svg" 2>"$T_TMP/cpuprofile.err" &&
	t_pass "a .cpuprofile renders" || t_fail "a .cpuprofile renders" "$(head -5 "$T_TMP/cpuprofile.err")"
"$KILN" flamegraph --countname bytes "$FUZZ/pprof/go-cpu.pb.gz" -o "$T_TMP/pprof-countname.svg" 2>/dev/null
has "--countname wins over the input's unit" "$T_TMP/pprof-countname.svg" 'data-countname="bytes"'
"$KILN" flamegraph - - <"$SMALL" >"$T_TMP/twice.svg" 2>"$T_TMP/twice.err"; s=$?
[ $s = 2 ] && [ "$(wc -l <"$T_TMP/twice.err")" = 1 ] && t_pass "stdin given twice is a usage error" ||
	t_fail "stdin given twice is a usage error" "exit $s: $(head -3 "$T_TMP/twice.err")"
t_done
