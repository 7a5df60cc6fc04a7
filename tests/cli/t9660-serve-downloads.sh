#!/bin/bash
# kiln serve's downloads (issue 19): a merged selection (/api/v1/export) and one stored profile
# (/api/v1/profile) in each format the web UI offers, each read back by kiln itself: pprof, folded and
# speedscope convert to the ingested stacks and values, the SVG holds the frames (names, counts, shares) that
# kiln flamegraph draws from the downloaded pprof. An unknown format is a 400; an empty selection has no SVG.
# Then /speedscope/, the speedscope release shipped in web/vendor/ (scripts/update-speedscope.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

serve_start S "$KILN" --storage "$T_TMP/store" --retention 0 || exit 0
U=$S_URL
NOW=$(date +%s)
# two profiles of service "dl" (one per pod) whose stacks overlap: the export merges them
printf 'main;read;parse 30\nmain;read;decode 12\nmain;write 7\n' >"$T_TMP/a.folded"
printf 'main;read;parse 5\nmain;idle 41\n' >"$T_TMP/b.folded"
curl -gsS --data-binary @"$T_TMP/a.folded" "$U/ingest?name=dl{pod=a}&from=$((NOW - 900))&until=$((NOW - 890))"
curl -gsS --data-binary @"$T_TMP/b.folded" "$U/ingest?name=dl{pod=b}&from=$((NOW - 600))&until=$((NOW - 590))"
# the merged stacks in nanoseconds (folded input is 100 Hz samples: 10 ms each), as kiln convert writes them
cat "$T_TMP/a.folded" "$T_TMP/b.folded" |
	awk '{ v[$1] += $2 * 10000000 } END { for (s in v) print s, v[s] }' | sort >"$T_TMP/want-merged.folded"
awk '{ print $1, $2 * 10000000 }' "$T_TMP/a.folded" | sort >"$T_TMP/want-a.folded"

Q='process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="dl"}'
R="from=$((NOW - 3600))&until=$NOW"
id=$(curl -gsS "$U/api/v1/profiles?query=${Q/\}/,pod=\"a\"\}}&$R" | python3 -c 'import json,sys; print(json.load(sys.stdin)["profiles"][0]["id"])')

# check NAME URL WANT: downloads URL in every format and reads each back
check() {
	local name=$1 url=$2 want=$3 f ext c cd ct ctype
	for f in pprof:pb.gz:application/octet-stream folded:folded:text/plain speedscope:speedscope.json:application/json \
		svg:svg:image/svg+xml; do
		ctype=${f##*:} f=${f%:*}
		ext=${f#*:} f=${f%%:*}
		c=$(curl -gsS -D "$T_TMP/h" -o "$T_TMP/$name.$ext" -w '%{http_code}' "$url&format=$f")
		cd=$(sed -n 's/^Content-Disposition: \([^\r]*\).*/\1/ip' "$T_TMP/h")
		ct=$(sed -n 's/^Content-Type: \([^;\r]*\).*/\1/ip' "$T_TMP/h")
		[ "$c" = 200 ] && [ "$cd" = attachment ] && [ "$ct" = "$ctype" ] &&
			t_pass "$name as $f: 200, an attachment of $ctype" || t_fail "$name as $f: 200, an attachment of $ctype" "$c '$cd' '$ct'"
	done
	for ext in pb.gz folded speedscope.json; do
		"$KILN" convert "$T_TMP/$name.$ext" --to folded -o - 2>"$T_TMP/conv.err" | sort >"$T_TMP/got.folded"
		t_same "$name: the $ext download reads back as the ingested stacks and values" "$want" "$T_TMP/got.folded"
	done
	# the SVG's frames (tooltip text: name, count, share) are kiln flamegraph's of the same profile
	"$KILN" flamegraph "$T_TMP/$name.pb.gz" -o "$T_TMP/ref.svg"
	python3 - "$T_TMP/$name.svg" "$T_TMP/ref.svg" >"$T_TMP/svg.diff" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
def frames(path):
    return sorted(t.text for g in ET.parse(path).iter(ns + "g") for t in g.findall(ns + "title"))
got, ref = frames(sys.argv[1]), frames(sys.argv[2])
print("same %d" % len(got) if got == ref and len(got) > 3 else "got %r\nwant %r" % (got[:8], ref[:8]))
PY
	grep -q '^same' "$T_TMP/svg.diff" && t_pass "$name: the SVG holds kiln flamegraph's frames ($(cat "$T_TMP/svg.diff"))" ||
		t_fail "$name: the SVG holds kiln flamegraph's frames" "$(cat "$T_TMP/svg.diff")"
}
check export "$U/api/v1/export?query=$Q&$R" "$T_TMP/want-merged.folded"
check profile "$U/api/v1/profile?id=$id" "$T_TMP/want-a.folded"

c=$(http_code "$T_TMP/b" -g "$U/api/v1/export?query=$Q&$R&format=png")
[ "$c" = 400 ] && grep -q "format 'png' is not one of" "$T_TMP/b" && t_pass "format=png: 400 naming the formats" ||
	t_fail "format=png: 400" "$c $(cat "$T_TMP/b")"
c=$(http_code "$T_TMP/b" -g "$U/api/v1/export?query=${Q/dl/none}&$R&format=svg")
[ "$c" = 404 ] && t_pass "an empty selection as SVG: 404" || t_fail "an empty selection as SVG: 404" "$c $(cat "$T_TMP/b")"

# ---- speedscope, served from the binary ----
c=$(curl -sS -D "$T_TMP/h" -o "$T_TMP/ss.html" -w '%{http_code}' "$U/speedscope/")
ct=$(sed -n 's/^Content-Type: \([^;\r]*\).*/\1/ip' "$T_TMP/h")
[ "$c" = 200 ] && [ "$ct" = text/html ] && cmp -s "$T_TMP/ss.html" "$KILN_ROOT/web/vendor/speedscope/index.html" &&
	t_pass "/speedscope/: speedscope's index.html" || t_fail "/speedscope/: speedscope's index.html" "$c $ct"
grep -qi "^Content-Security-Policy: default-src 'self'.*script-src 'self' 'wasm-unsafe-eval'" "$T_TMP/h" &&
	t_pass "/speedscope/: same-origin CSP that lets its WebAssembly compile" || t_fail "/speedscope/ CSP" "$(cat "$T_TMP/h")"
js=$(grep -o 'speedscope-[A-Z0-9]*\.js' "$T_TMP/ss.html")
c=$(http_code "$T_TMP/b" "$U/speedscope/$js")
[ -n "$js" ] && [ "$c" = 200 ] && cmp -s "$T_TMP/b" "$KILN_ROOT/web/vendor/speedscope/$js" &&
	t_pass "/speedscope/$js: the shipped file" || t_fail "/speedscope/$js" "$c"
c=$(http_code "$T_TMP/b" "$U/speedscope/missing.js")
[ "$c" = 404 ] && t_pass "/speedscope/missing.js: 404" || t_fail "/speedscope/missing.js: 404" "$c"
[ -s "$KILN_ROOT/web/vendor/speedscope/LICENSE.txt" ] && grep -q 'MIT' "$KILN_ROOT/web/vendor/speedscope/LICENSE.txt" &&
	t_pass "speedscope ships with its license" || t_fail "speedscope ships with its license" "no LICENSE.txt"
serve_stop "$S_PID"
