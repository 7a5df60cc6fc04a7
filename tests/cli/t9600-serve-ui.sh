#!/bin/bash
# kiln serve's web UI (issue 19): the embedded files are served with their content types, an ETag that
# revalidates (304) and a same-origin content security policy; then Debian's Chromium (playwright-core from
# npm, tests/web/ui-check.js) loads the UI over profiles of known stacks and checks the services list, the
# flame graph's shares, search with its matched %, the URL state across reload and back, the timeline brush,
# compare, the profiles list and its downloads in every format (read back here by kiln), "Open in speedscope"
# (the shipped release loading the selection's export), with no request to another host and no console error.
# Screenshots at 1280x800 are left in the test's temp dir.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
. "$(dirname "$0")/web_lib.sh"

serve_start S "$KILN" --storage "$T_TMP/store" --retention 0 || exit 0
U=$S_URL

# ---- the files ----
for f in /:text/html /ui/explore:text/html /ui/js/app.js:text/javascript /ui/css/kiln.css:text/css; do
	p=${f%%:*} want=${f#*:}
	curl -sS -D "$T_TMP/h" -o "$T_TMP/b" "$U$p"
	ct=$(sed -n 's/^Content-Type: \([^;\r]*\).*/\1/ip' "$T_TMP/h")
	[ "$ct" = "$want" ] && [ -s "$T_TMP/b" ] && t_pass "GET $p: $want" || t_fail "GET $p: $want" "$ct $(head -c 200 "$T_TMP/b")"
done
cmp -s "$T_TMP/b" "$KILN_ROOT/web/css/kiln.css" && t_pass "the served file is web/'s, byte for byte" ||
	t_fail "the served file is web/'s, byte for byte" "differs"
etag=$(sed -n 's/^ETag: \([^\r]*\).*/\1/ip' "$T_TMP/h")
rm -f "$T_TMP/b"
c=$(http_code "$T_TMP/b" -H "If-None-Match: $etag" "$U/ui/css/kiln.css")
[ -n "$etag" ] && [ "$c" = 304 ] && [ ! -s "$T_TMP/b" ] && t_pass "If-None-Match with its ETag: 304, no body" ||
	t_fail "If-None-Match with its ETag: 304" "etag '$etag' status $c"
c=$(http_code "$T_TMP/b" -H 'If-None-Match: "0000"' "$U/ui/css/kiln.css")
[ "$c" = 200 ] && t_pass "another ETag: 200" || t_fail "another ETag: 200" "$c"
grep -qi "^Content-Security-Policy: default-src 'self'" "$T_TMP/h" && t_pass "CSP: default-src 'self'" ||
	t_fail "CSP: default-src 'self'" "$(cat "$T_TMP/h")"
c=$(http_code "$T_TMP/b" "$U/ui/js/missing.js")
[ "$c" = 404 ] && t_pass "a missing file: 404" || t_fail "a missing file: 404" "$c"
c=$(http_code "$T_TMP/b" "$U/ui/../meta.db")
[ "$c" = 404 ] && t_pass "/ui/../meta.db: 404" || t_fail "/ui/../meta.db: 404" "$c"
# (web/vendor/ holds third-party builds whose text names their sites; the browser checks see that they make no
# request elsewhere)
grep -rhoE --exclude-dir=vendor "https?://[^\"' )]+" "$KILN_ROOT/web" | grep -v '^http://www.w3.org/2000/svg$' >"$T_TMP/hosts"
[ ! -s "$T_TMP/hosts" ] && t_pass "web/ names no other host" || t_fail "web/ names no other host" "$(head -3 "$T_TMP/hosts")"

# ---- in the browser ----
web_ready "web UI in Chromium" || { serve_stop "$S_PID"; exit 0; }
NOW=$(date +%s)
web_shop "$U" "$NOW" prod prod
web_run "" 180 ui-check.js "$U" "$T_TMP" "$NOW"
# the newest profile's downloads, read back by kiln: its stacks in nanoseconds (100 Hz samples of 10 ms)
printf 'main;handle;parse 700000000\nmain;handle;render 100000000\nmain;idle 200000000\n' | sort >"$T_TMP/want.folded"
for ext in pb.gz speedscope.json; do
	"$KILN" convert "$T_TMP/download.$ext" --to folded -o - 2>&1 | sort >"$T_TMP/got.folded"
	t_same "the browser's $ext download reads back as the profile's stacks" "$T_TMP/want.folded" "$T_TMP/got.folded"
done
"$KILN" flamegraph "$T_TMP/download.pb.gz" -o "$T_TMP/ref.svg" 2>/dev/null
grep -o '<title>[^<]*</title>' "$T_TMP/download.svg" 2>/dev/null | sort >"$T_TMP/got.titles"
grep -o '<title>[^<]*</title>' "$T_TMP/ref.svg" | sort >"$T_TMP/want.titles"
[ -s "$T_TMP/got.titles" ] && grep -q '<title>parse (700,000,000 nanoseconds, 70.00%)' "$T_TMP/got.titles" &&
	t_same "the browser's SVG download holds kiln flamegraph's frames of the pprof" "$T_TMP/want.titles" "$T_TMP/got.titles" ||
	t_fail "the browser's SVG download holds parse at 70%" "$(head -5 "$T_TMP/got.titles")"
[ -s "$T_TMP/explore-1280x800.png" ] && t_pass "screenshot at 1280x800: $T_TMP/explore-1280x800.png" ||
	t_fail "screenshot at 1280x800" "missing"
serve_stop "$S_PID"
