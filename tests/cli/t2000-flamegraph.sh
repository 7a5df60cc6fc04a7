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
grep -q '<title>fork (40 samples, 24.10%)</title><rect x="[0-9.]*" y="85"' "$T_TMP/rev.svg" &&
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
grep -o '<title>fork [^<]*</title><rect [^>]*fill="rgb([0-9]*,[0-9]*,0)"' "$T_TMP/java.svg" >/dev/null &&
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

# Parity with flamegraph.pl (peer suites: FlameGraph's and inferno's test data). flamegraph.pl is not packaged
# for Debian: flamegraph_pl_titles.py computes the titles it draws from its documented rules.
titles() { # SVG: its <title> texts, sorted, one a line
	python3 -c 'import sys, xml.etree.ElementTree as E
print("\n".join(sorted(t.text or "" for t in E.parse(sys.argv[1]).getroot().iter("{http://www.w3.org/2000/svg}title"))))' "$1"
}
same_titles() { # DESC "KILN-OPTS" INPUT: kiln's titles equal flamegraph.pl's
	# shellcheck disable=SC2086
	"$KILN" flamegraph $2 "$3" -o "$T_TMP/pl.svg" 2>/dev/null && titles "$T_TMP/pl.svg" >"$T_TMP/pl.kiln" &&
		python3 "$D/flamegraph_pl_titles.py" $2 "$3" >"$T_TMP/pl.ref" && [ -s "$T_TMP/pl.ref" ] &&
		cmp -s "$T_TMP/pl.kiln" "$T_TMP/pl.ref" && return 0
	t_fail "$1" "$(diff "$T_TMP/pl.kiln" "$T_TMP/pl.ref" | head -6)"
	return 1
}
EXP=$SHARED/fixtures/stackcollapse-perf/expected
if [ -d "$EXP" ]; then
	n=0 bad=0
	for f in "$EXP"/*.txt; do
		n=$((n + 1))
		same_titles "titles of $(basename "$f")" "" "$f" || bad=$((bad + 1))
	done
	[ $bad = 0 ] && t_pass "flamegraph.pl's titles, names and counts for FlameGraph's $n folded files"
	for f in "$EXP"/*-collapsed-all.txt; do
		same_titles "--reverse titles of $(basename "$f")" "--reverse" "$f" || bad=$((bad + 1))
		same_titles "--factor titles of $(basename "$f")" "--factor 2.5" "$f" || bad=$((bad + 1))
	done
	[ $bad = 0 ] && t_pass "flamegraph.pl's titles with --reverse and --factor"
else
	t_skip "titles of FlameGraph's folded files" "fixtures not found in $EXP"
fi
# Fractional counts (inferno's fractional-samples case): summed, not rounded; widths are differences of the
# running sum, so 6.1 + 1.4 after 31.23 shows as 7 samples, as in flamegraph.pl.
printf 'cksum;_start;__libc_start_main;main;cksum 31.23\ncksum;cksum 6.1\ncksum;cksum;__GI___fread_unlocked;entry_SYSCALL_64_fastpath_[k];sys_read_[k] 1.4\ncksum;main;cksum 19.0\nnoploop;[unknown] 2.567\nnoploop;main 274.321\n' >"$T_TMP/frac.folded"
same_titles "fractional counts give flamegraph.pl's titles" "" "$T_TMP/frac.folded" &&
	t_pass "fractional counts give flamegraph.pl's titles"
"$KILN" flamegraph "$T_TMP/frac.folded" -o "$T_TMP/frac.svg"
has "fractional counts are summed (334.618, not 333 or 335 rounded lines)" "$T_TMP/frac.svg" "<title>all (335 samples, 100%)</title>"
has "a span of 7.4999... samples shows 7" "$T_TMP/frac.svg" "<title>cksum (7 samples, 2.09%)</title>"
same_titles "differential titles" "" "$D/diff.folded" && t_pass "differential titles are flamegraph.pl's"
same_titles "--negate titles" "--negate" "$D/diff.folded" && t_pass "--negate titles are flamegraph.pl's"
# inferno's grey-frames case, against the titles and colours of inferno's expected SVG (tests/data/flamegraph/
# grey-frames/grey-frames.svg, generated with --hash)
"$KILN" flamegraph --hash "$D/inferno-grey-frames.folded" -o "$T_TMP/grey.svg"
grey() { # DESC TITLE FILL
	grep -q "<title>$2</title><rect [^>]*fill=\"$3\"" "$T_TMP/grey.svg" && t_pass "$1" || t_fail "$1" "'$2' $3"
}
grey "grey frames: '-' is light grey" '- (6 samples, 1.80%)' 'rgb(200,200,200)'
grey "grey frames: '--' is dark grey" '-- (31 samples, 9.31%)' 'rgb(160,160,160)'
grey "grey frames: _[k] stripped from the title" 'ext4_file_read_iter (1 samples, 0.30%)' 'rgb(236,145,34)'
grey "grey frames: --hash colours as inferno's" 'noploop (276 samples, 82.88%)' 'rgb(248,212,47)'
grey "grey frames: a repeated name, its count" 'cksum (57 samples, 17.12%)' 'rgb(226,95,23)'
has "grey frames: root" "$T_TMP/grey.svg" '<title>all (333 samples, 100%)</title>'
hasnt "no annotation is shown in titles" "$T_TMP/grey.svg" '_[k] ('
# Annotations colour frames but are not shown, in titles or labels.
printf 'main;do_sys_open_[k];vfs_open_[k] 10\nmain;Interp_[j] 10\n' >"$T_TMP/annot.folded"
"$KILN" flamegraph --colors java "$T_TMP/annot.folded" -o "$T_TMP/annot.svg"
has "_[k] stripped from the title" "$T_TMP/annot.svg" "<title>do_sys_open (10 samples, 50.00%)</title>"
has "_[k] stripped from the label" "$T_TMP/annot.svg" ">do_sys_open</text>"
has "_[j] stripped from the title" "$T_TMP/annot.svg" "<title>Interp (10 samples, 50.00%)</title>"
grep -q '<title>vfs_open (10 samples, 50.00%)</title><rect [^>]*fill="rgb([0-9]*,[0-9]*,0)"' "$T_TMP/annot.svg" &&
	t_pass "a stripped _[k] frame is still coloured as kernel (orange)" || t_fail "stripped _[k] keeps its colour"
# --negate: no change is 0.00%, never -0.00%.
printf 'a;b 5 5\na;c 1 3\n' >"$T_TMP/zero.folded"
"$KILN" flamegraph --negate "$T_TMP/zero.folded" -o "$T_TMP/zero.svg"
has "--negate of no change is 0.00%" "$T_TMP/zero.svg" "<title>b (5 samples, 62.50%; 0.00%)</title>"
hasnt "--negate never prints -0.00%" "$T_TMP/zero.svg" "-0.00%"
has "--negate of growth is negative" "$T_TMP/zero.svg" "<title>c (3 samples, 37.50%; -25.00%)</title>"
# Empty frame names are frames ('a;;b', as flamegraph.pl draws them); a trailing ';' is not a frame.
printf 'a;;b 2\na;c; 1\n' >"$T_TMP/empty-frame.folded"
"$KILN" flamegraph "$T_TMP/empty-frame.folded" -o "$T_TMP/ef.svg"
has "an empty frame name is drawn" "$T_TMP/ef.svg" "<title> (2 samples, 66.67%)</title>"
has "its child sits above it" "$T_TMP/ef.svg" '<title>b (2 samples, 66.67%)</title><rect x="10.0" y="37"'
n=$(grep -c '<title>' "$T_TMP/ef.svg")
[ "$n" = 5 ] && t_pass "a trailing ';' adds no frame" || t_fail "a trailing ';' adds no frame" "$n titles"
same_titles "empty frames as flamegraph.pl" "" "$T_TMP/empty-frame.folded" && t_pass "empty frames as flamegraph.pl"
printf ' 3\na;;b 2\n;;x 1\n' >"$T_TMP/empty-stack.folded"
same_titles "an empty stack counts for the root" "" "$T_TMP/empty-stack.folded" &&
	t_pass "an empty stack (' 3') counts for the root only, as flamegraph.pl"
"$KILN" flamegraph "$T_TMP/empty-frame.folded" "$T_TMP/annot.folded" -o /dev/null 2>"$T_TMP/ign.err"
printf 'a;b 1\nnot a stack\n' >"$T_TMP/ign.folded"
"$KILN" flamegraph "$T_TMP/ign.folded" -o /dev/null 2>"$T_TMP/ign.err"
grep -q "ignored 1 line with invalid format (the first is line 2)" "$T_TMP/ign.err" && t_pass "ignored lines are counted on stderr" ||
	t_fail "ignored lines are counted on stderr" "$(cat "$T_TMP/ign.err")"
# --nameattr (flamegraph.pl's file: FUNCTION<TAB>key=value...), as inferno's nameattr cases use it.
printf 'main\tclass=k\ttitle=foo\tg_extra=stroke-width="1" stroke="green"\thref=https://example.org/?a=1&b=2\ta_extra=rel="external"\ncksum\ttitle=bar\tclass=flames\nnoploop\tid=test\tstyle="><script>x</script>\n' >"$T_TMP/attrs.txt"
"$KILN" flamegraph --nameattr "$T_TMP/attrs.txt" "$D/inferno-grey-frames.folded" -o "$T_TMP/attrs.svg"
svg_ok "--nameattr keeps the SVG well-formed" "$T_TMP/attrs.svg"
n=$(grep -c '<g class="flames">' "$T_TMP/attrs.svg"); m=$(grep -c '<title>bar</title>' "$T_TMP/attrs.svg")
[ "$n" = 3 ] && [ "$m" = 3 ] && t_pass "--nameattr: class and title on every cksum frame" ||
	t_fail "--nameattr class and title" "$n groups, $m titles"
has "--nameattr: href makes a link" "$T_TMP/attrs.svg" '<a xlink:href="https://example.org/?a=1&amp;b=2" target="_top" rel="external" class="k" stroke-width="1" stroke="green">'
has "--nameattr: the title replaces the tooltip" "$T_TMP/attrs.svg" '<title>foo</title>'
has "--nameattr: values are escaped" "$T_TMP/attrs.svg" 'style="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"'
has "--nameattr: frames without attributes keep their title" "$T_TMP/attrs.svg" '<g id="test" '
printf 'main class=k\n' >"$T_TMP/badattrs.txt"
t_fails "--nameattr: a line without a tab" 2 "$KILN" flamegraph --nameattr "$T_TMP/badattrs.txt" "$SMALL"
t_fails "--nameattr: a missing file" 2 "$KILN" flamegraph --nameattr "$T_TMP/nope.txt" "$SMALL"
# --encoding: declared, and names copied as the input's bytes.
printf 'caf\351;x 2\n' >"$T_TMP/latin1.folded"
"$KILN" flamegraph --encoding ISO-8859-1 "$T_TMP/latin1.folded" -o "$T_TMP/enc.svg"
has "--encoding is declared" "$T_TMP/enc.svg" '<?xml version="1.0" encoding="ISO-8859-1" standalone="no"?>'
has "--encoding copies the input's bytes" "$T_TMP/enc.svg" "$(printf '<title>caf\351 (2 samples')"
svg_ok "--encoding ISO-8859-1 is well-formed" "$T_TMP/enc.svg"
t_fails "--encoding rejects a bad name" 2 "$KILN" flamegraph --encoding 'a"b' "$SMALL"
# --base (inferno's): stacks start at their first base frame; stacks without one are left out.
printf 'a;b;Final;c 3\na;Final;d;Final;e 2\nx;y 10\n' >"$T_TMP/base.folded"
"$KILN" flamegraph --base Final "$T_TMP/base.folded" -o "$T_TMP/base.svg"
has "--base: the total is the stacks with a base frame" "$T_TMP/base.svg" "<title>all (5 samples, 100%)</title>"
has "--base: the base frame is the root's child" "$T_TMP/base.svg" '<title>Final (5 samples, 100.00%)</title><rect x="10.0" y="85"'
has "--base: a nested base frame stays" "$T_TMP/base.svg" "<title>Final (2 samples, 40.00%)</title>"
hasnt "--base: frames below the base are gone" "$T_TMP/base.svg" "<title>a ("
"$KILN" flamegraph --base Final --base y "$T_TMP/base.folded" -o "$T_TMP/base2.svg"
has "--base is repeatable" "$T_TMP/base2.svg" "<title>all (15 samples, 100%)</title>"
if [ -d "$PERF_FIX" ]; then
	"$KILN" flamegraph --base read "$PERF_FIX/perf-dd-stacks-01.txt" -o "$T_TMP/base3.svg" 2>/dev/null
	grep -q '<title>read (' "$T_TMP/base3.svg" && ! grep -q '<title>dd (' "$T_TMP/base3.svg" &&
		t_pass "--base applies to every input format" || t_fail "--base on perf script input"
fi
t_fails "--base without any base frame draws nothing" 2 "$KILN" flamegraph --base nothere "$T_TMP/base.folded"
# --no-sort (inferno's): sorted input draws the same; unsorted input is an error.
LC_ALL=C sort "$SMALL" >"$T_TMP/sorted.folded"
"$KILN" flamegraph --no-sort "$T_TMP/sorted.folded" -o "$T_TMP/ns.svg"
"$KILN" flamegraph "$T_TMP/sorted.folded" -o "$T_TMP/s.svg"
t_same "--no-sort on sorted input draws the same graph" "$T_TMP/ns.svg" "$T_TMP/s.svg"
printf 'b;a 1\na;b 2\n' >"$T_TMP/unsorted.folded"
t_fails "--no-sort on unsorted input is an error" 2 "$KILN" flamegraph --no-sort "$T_TMP/unsorted.folded"
"$KILN" flamegraph "$T_TMP/unsorted.folded" -o /dev/null && t_pass "unsorted input draws without --no-sort" ||
	t_fail "unsorted input draws without --no-sort"

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
