#!/bin/bash
# kiln flamegraph in a real browser (headless Chromium): the SVG renders, its script runs without errors, and
# zoom, search ("Matched: X%"), case toggle and reset work; hostile names never run as script.
. "$(dirname "$0")/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
	t_skip "flame graphs in a browser" "$CHROMIUM is not installed (apt-get install chromium)"
	exit 0
fi

chrome() { # ARGS...: headless, isolated, offline
	local profile
	profile=$(mktemp -d "$T_TMP/chrome.XXXXXX")
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" "$@" 2>"$T_TMP/chrome.err"
}

# An HTML page that inlines the SVG (without its XML prolog), records every script error and alert() call,
# drives the graph's own functions and writes what it saw into <pre id="result"> for --dump-dom.
wrap() { # SVG SEARCH-TERM FRAME-TO-ZOOM > HTML
	cat <<'EOF'
<!DOCTYPE html><html><head><meta charset="utf-8"><script>
window.kilnErrors = []; window.kilnAlerts = 0;
window.onerror = function (m, s, l, c) { window.kilnErrors.push(m + " at " + l + ":" + c); };
window.alert = function () { window.kilnAlerts++; };
</script></head><body>
EOF
	sed -e '/^<?xml/d' -e '/^<!DOCTYPE/d' "$1"
	cat <<EOF
<pre id="result">not run</pre>
<script>
var TERM = $(printf '%s' "$2" | sed 's/["\\]/\\&/g; s/.*/"&"/'), ZOOM = $(printf '%s' "$3" | sed 's/["\\]/\\&/g; s/.*/"&"/');
EOF
	cat <<'EOF'
window.addEventListener("load", function () {
	var out = [];
	function text(id) { return document.getElementById(id).textContent; }
	try {
		init();
		out.push("frames=" + frames.length);
		var root = frames.filter(function (f) { return f.name === "all"; })[0];
		out.push("rootwidth=" + root.rect.getAttribute("width"));
		search(TERM);
		out.push("matched=" + text("matched"));
		out.push("highlighted=" + frames.filter(function (f) {
			return f.rect.getAttribute("fill") === conf.searchcolor; }).length);
		toggle_ignorecase();
		out.push("matched_ic=" + text("matched"));
		toggle_ignorecase();
		var z = frames.filter(function (f) { return f.name === ZOOM; })[0];
		z.g.dispatchEvent(new MouseEvent("click", { bubbles: true }));
		out.push("zoomed_width=" + z.rect.getAttribute("width"));
		out.push("hidden=" + frames.filter(function (f) { return f.g.classList.contains("hide"); }).length);
		out.push("unzoom_visible=" + !document.getElementById("unzoom").classList.contains("hide"));
		out.push("matched_zoomed=" + text("matched"));
		z.g.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
		out.push("details=" + text("details"));
		document.getElementById("unzoom").dispatchEvent(new MouseEvent("click", { bubbles: true }));
		out.push("unzoomed_width=" + z.rect.getAttribute("width"));
		out.push("hidden_after=" + frames.filter(function (f) { return f.g.classList.contains("hide"); }).length);
		search_prompt(); /* with a search active, this resets it */
		out.push("after_reset=" + text("search") + "|" + frames.filter(function (f) {
			return f.rect.getAttribute("fill") === conf.searchcolor; }).length);
		search("([");
		out.push("bad_regexp=" + text("matched"));
		reset_search();
		/* the keyboard: Ctrl-F prompts for a term and searches, Ctrl-I toggles the case */
		window.prompt = function () { return TERM; };
		window.dispatchEvent(new KeyboardEvent("keydown", { key: "f", ctrlKey: true, bubbles: true }));
		out.push("ctrl_f=" + text("matched"));
		window.dispatchEvent(new KeyboardEvent("keydown", { key: "i", ctrlKey: true, bubbles: true }));
		out.push("ctrl_i=" + document.getElementById("ignorecase").classList.contains("show"));
	} catch (e) {
		window.kilnErrors.push("test: " + e);
	}
	out.push("errors=" + window.kilnErrors.length + " " + window.kilnErrors.join("; "));
	out.push("alerts=" + window.kilnAlerts);
	document.getElementById("result").textContent = out.join("\n");
});
</script></body></html>
EOF
}

result() { # HTML KEY: the value the page reported for KEY
	sed -n "s/^$2=//p" "$1" | head -1
}
check() { # DESC GOT WANT
	if [ "$2" = "$3" ]; then t_pass "$1"; else t_fail "$1" "got '$2', want '$3'"; fi
}

printf 'main;foo;bar 10\nmain;foo::bar;baz 5\nmain;foo 3\nmain;Foo-x 2\nmain;foo;qux 980\n' >"$T_TMP/g.folded"
"$KILN" flamegraph "$T_TMP/g.folded" -o "$T_TMP/g.svg" || t_fail "render the test graph"

# 1. The SVG on its own: a screenshot, and no console errors.
chrome --enable-logging=stderr --v=0 --screenshot="$T_TMP/g.png" --window-size=1200,800 "file://$T_TMP/g.svg" \
	>/dev/null
if [ -s "$T_TMP/g.png" ] && [ "$(head -c 8 "$T_TMP/g.png" | od -An -c | tr -d ' ')" = "211PNG\r\n032\n" ]; then
	t_pass "a screenshot of the SVG is taken"
else
	t_fail "a screenshot of the SVG is taken" "$(tail -3 "$T_TMP/chrome.err")"
fi
if grep -E 'Uncaught|SyntaxError|ReferenceError|TypeError' "$T_TMP/chrome.err" >"$T_TMP/console"; then
	t_fail "the SVG's script loads without console errors" "$(head -3 "$T_TMP/console")"
else
	t_pass "the SVG's script loads without console errors"
fi
[ -n "${KILN_KEEP_SCREENSHOT:-}" ] && cp "$T_TMP/g.png" "$KILN_KEEP_SCREENSHOT"

# 2. The script, driven: zoom, search, case toggle, reset.
wrap "$T_TMP/g.svg" "qux" "foo" >"$T_TMP/g.html"
chrome --virtual-time-budget=5000 --dump-dom "file://$T_TMP/g.html" >"$T_TMP/g.dom"
sed -n '/<pre id="result">/,/<\/pre>/p' "$T_TMP/g.dom" | sed 's/<[^>]*>//g' >"$T_TMP/g.res"
if [ ! -s "$T_TMP/g.res" ] || grep -q '^not run' "$T_TMP/g.res"; then
	t_fail "the test page ran" "$(tail -5 "$T_TMP/chrome.err")"
else
	check "no script errors" "$(result "$T_TMP/g.res" errors)" "0 "
	check "all frames are found" "$(result "$T_TMP/g.res" frames)" 8
	check "the root spans the graph" "$(result "$T_TMP/g.res" rootwidth)" "1180.0"
	check "search reports Matched: X%" "$(result "$T_TMP/g.res" matched)" "Matched: 98.0%"
	check "search highlights the matches" "$(result "$T_TMP/g.res" highlighted)" 1
	check "case toggle keeps a lowercase match" "$(result "$T_TMP/g.res" matched_ic)" "Matched: 98.0%"
	check "click zooms the frame to full width" "$(result "$T_TMP/g.res" zoomed_width)" "1180.0"
	check "zoom hides frames outside the zoomed one" "$(result "$T_TMP/g.res" hidden)" 3
	check "zoom shows Reset Zoom" "$(result "$T_TMP/g.res" unzoom_visible)" true
	check "Matched is relative to the zoomed frame" "$(result "$T_TMP/g.res" matched_zoomed)" "Matched: 98.7%"
	check "mouse-over fills the detail line" "$(result "$T_TMP/g.res" details)" \
		"Function: foo (993 samples, 99.30%)"
	check "Reset Zoom restores the layout" "$(result "$T_TMP/g.res" unzoomed_width)" "1171.7"
	check "Reset Zoom shows every frame" "$(result "$T_TMP/g.res" hidden_after)" 0
	check "a second Search resets the highlight" "$(result "$T_TMP/g.res" after_reset)" "Search|0"
	check "a bad regexp is reported, not thrown" "$(result "$T_TMP/g.res" bad_regexp)" "Invalid regexp"
	check "Ctrl-F prompts and searches" "$(result "$T_TMP/g.res" ctrl_f)" "Matched: 98.0%"
	check "Ctrl-I toggles case-insensitive search" "$(result "$T_TMP/g.res" ctrl_i)" true
fi

# 2b. The same in an icicle graph (ancestors are above, not below).
"$KILN" flamegraph --inverted "$T_TMP/g.folded" -o "$T_TMP/i.svg"
wrap "$T_TMP/i.svg" "qux" "foo" >"$T_TMP/i.html"
chrome --virtual-time-budget=5000 --dump-dom "file://$T_TMP/i.html" | sed 's/<[^>]*>//g' >"$T_TMP/i.res"
check "icicle: no script errors" "$(result "$T_TMP/i.res" errors)" "0 "
check "icicle: click zooms the frame to full width" "$(result "$T_TMP/i.res" zoomed_width)" "1180.0"
check "icicle: zoom hides frames outside the zoomed one" "$(result "$T_TMP/i.res" hidden)" 3
check "icicle: Matched is relative to the zoomed frame" "$(result "$T_TMP/i.res" matched_zoomed)" "Matched: 98.7%"

# 3. Case-insensitive search: "foo" matches "Foo-x" only with the toggle.
wrap "$T_TMP/g.svg" "^foo-" "main" >"$T_TMP/c.html"
chrome --virtual-time-budget=5000 --dump-dom "file://$T_TMP/c.html" | sed 's/<[^>]*>//g' >"$T_TMP/c.res"
check "case-sensitive search misses Foo-x" "$(result "$T_TMP/c.res" highlighted)" 0
check "Ctrl-I's toggle finds Foo-x" "$(result "$T_TMP/c.res" matched_ic)" "Matched: 0.2%"

# 4. Hostile names and options render as text: no script of theirs runs, no error.
printf 'main;</title><script>alert(1)</script> 5\nmain;<img src=x onerror=alert(2)> 5\nmain;"\x27)+alert(3)+// 5\nmain;]]><script>alert(4)</script> 5\n' \
	>"$T_TMP/h.folded"
"$KILN" flamegraph --title '<script>alert(5)</script>' --nametype '");alert(6);//' --countname '<b onmouseover=alert(7)>' \
	"$T_TMP/h.folded" -o "$T_TMP/h.svg"
wrap "$T_TMP/h.svg" "alert" "main" >"$T_TMP/h.html"
chrome --virtual-time-budget=5000 --dump-dom "file://$T_TMP/h.html" | sed 's/<[^>]*>//g' >"$T_TMP/h.res"
check "hostile input: no script errors" "$(result "$T_TMP/h.res" errors)" "0 "
check "hostile input: nothing of theirs runs" "$(result "$T_TMP/h.res" alerts)" 0
check "hostile input: names are searchable text" "$(result "$T_TMP/h.res" highlighted)" 4
chrome --screenshot="$T_TMP/h.png" --window-size=1200,800 "file://$T_TMP/h.svg" >/dev/null
if [ -s "$T_TMP/h.png" ]; then t_pass "hostile input renders"; else t_fail "hostile input renders"; fi
[ -n "${KILN_KEEP_SCREENSHOT:-}" ] && cp "$T_TMP/h.png" "${KILN_KEEP_SCREENSHOT%.png}-hostile.png"
t_done
