#!/bin/bash
# kiln serve's web UI, the views beyond t9600 (issue 19): the sandwich view of a function (from the table and
# from a frame's right-click), the tag explorer, the analyze panel (and its endpoint, checked against kiln
# analyze of the same selection) and the token setting for a server with --auth-file. Debian's Chromium
# (playwright-core, tests/web/ui-views.js) checks each against the ingested stacks; screenshots in the temp dir.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
. "$(dirname "$0")/web_lib.sh"

serve_start S "$KILN" --storage "$T_TMP/store" --retention 0 || exit 0
U=$S_URL
NOW=$(date +%s)
mkdir -p "$T_TMP/fx"
# a function (util) called from two places, once recursively
printf 'main;a;util;x 30\nmain;b;util;y 10\nmain;b;util;util;x 5\nmain;c 55\n' >"$T_TMP/fx/lib.folded"
curl -gsS --data-binary @"$T_TMP/fx/lib.folded" "$U/ingest?name=lib{}&from=$((NOW - 1800))&until=$((NOW - 1790))"
# the tag explorer: service web, region eu (two profiles) and us (one), each in its own minute
mkdir -p "$T_TMP/fx/tags/eu" "$T_TMP/fx/tags/us"
printf 'main;work;eu_fn 40\nmain;idle 10\n' >"$T_TMP/fx/tags/eu/1.folded"
printf 'main;work;eu_fn 20\nmain;work;shared 5\nmain;idle 10\n' >"$T_TMP/fx/tags/eu/2.folded"
printf 'main;work;us_fn 30\nmain;work;shared 5\nmain;idle 30\n' >"$T_TMP/fx/tags/us/1.folded"
for f in eu/1:1500 eu/2:900 us/1:1200; do
	curl -gsS --data-binary @"$T_TMP/fx/tags/${f%:*}.folded" \
		"$U/ingest?name=web{region=${f%%/*}}&from=$((NOW - ${f#*:}))&until=$((NOW - ${f#*:} + 10))"
done

# ---- the analyze endpoint: kiln analyze's document of the merged selection ----
printf 'main;parse;malloc;_int_malloc 25\nmain;parse;free 10\nmain;parse 5\nmain;compute 60\n' >"$T_TMP/fx/alloc.folded"
curl -gsS --data-binary @"$T_TMP/fx/alloc.folded" "$U/ingest?name=alloc{}&from=$((NOW - 1000))&until=$((NOW - 990))"
Q='process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="alloc"}'
R="from=$((NOW - 7200))&until=$NOW"
c=$(http_code "$T_TMP/an.json" -g "$U/api/v1/analyze?query=$Q&$R")
curl -gsS -o "$T_TMP/an.pb" "$U/api/v1/export?query=$Q&$R&format=pprof"
"$KILN" analyze --json --detailed "$T_TMP/an.pb" >"$T_TMP/cli.json" 2>"$T_TMP/cli.err"
python3 - "$T_TMP/an.json" "$T_TMP/cli.json" >"$T_TMP/an.diff" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for d in (a, b):
    d.pop("files"), d.pop("formats")
print("same" if a == b else json.dumps([a, b]))
PY
[ "$c" = 200 ] && [ "$(cat "$T_TMP/an.diff")" = same ] &&
	t_pass "GET /api/v1/analyze: the document of kiln analyze --json --detailed of the exported selection" ||
	t_fail "GET /api/v1/analyze: kiln analyze's document" "$c $(head -c 600 "$T_TMP/an.diff") $(cat "$T_TMP/cli.err")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["hotspots"] and any(r["rule"]=="alloc" for r in d["recommendations"])))' \
	"$T_TMP/an.json" && t_pass "analyze: hotspots, and the allocation rule fires on 35% in malloc/free" ||
	t_fail "analyze: hotspots and the allocation rule" "$(head -c 400 "$T_TMP/an.json")"
c=$(http_code "$T_TMP/b" -g "$U/api/v1/analyze?query=$Q&$R&threshold=200")
[ "$c" = 400 ] && t_pass "analyze: threshold=200 is a 400" || t_fail "analyze: threshold=200 is a 400" "$c"
c=$(http_code "$T_TMP/b" -g "$U/api/v1/analyze?query=${Q/alloc/none}&$R")
[ "$c" = 404 ] && grep -q 'no profiles' "$T_TMP/b" && t_pass "analyze: an empty selection is a 404" || t_fail "analyze: empty selection 404" "$c $(cat "$T_TMP/b")"
c=$(http_code "$T_TMP/b" -g "$U/api/v1/analyze?query={}")
[ "$c" = 400 ] && t_pass "analyze: a query without a profile type is a 400" || t_fail "analyze: no profile type 400" "$c"

browser() {
	local url=$1
	shift
	web_ready "web UI in Chromium ($*)" || return 0
	ANALYZE_JSON=${ANALYZE_JSON:-} web_run "$1: " 240 ui-views.js "$url" "$T_TMP" "$T_TMP/fx" "$@"
	mv "$T_TMP/browser.log" "$T_TMP/browser-$1.log"
}

ANALYZE_JSON="$T_TMP/an.json" browser "$U" sandwich tags analyze
serve_stop "$S_PID"

# ---- a server with --auth-file: the token pasted once into the page ----
printf 'pt-1 acme push\nrt-1 acme read\n' >"$T_TMP/auth"
serve_start A "$KILN" --storage "$T_TMP/store-a" --retention 0 --auth-file "$T_TMP/auth" || exit 0
printf 'main;serve;secret_fn 35\nmain;serve;other 15\nmain;idle 50\n' >"$T_TMP/fx/sec.folded"
curl -gsS -H 'Authorization: Bearer pt-1' --data-binary @"$T_TMP/fx/sec.folded" \
	"$A_URL/ingest?name=sec{}&from=$((NOW - 600))&until=$((NOW - 590))"
rm -f "$T_TMP/auth-download.pb.gz"
KILN_TOKEN=rt-1 browser "$A_URL" auth
if [ -f "$T_TMP/auth-download.pb.gz" ]; then
	"$KILN" convert "$T_TMP/auth-download.pb.gz" -o - --to folded 2>&1 | sort >"$T_TMP/dl.folded"
	awk '{ $2 = $2 * 10000000; print }' "$T_TMP/fx/sec.folded" | sort >"$T_TMP/want.folded"
	cmp -s "$T_TMP/dl.folded" "$T_TMP/want.folded" && t_pass "auth: the downloaded pprof holds the ingested stacks" ||
		t_fail "auth: the downloaded pprof holds the ingested stacks" "$(head -5 "$T_TMP/dl.folded")"
fi
serve_stop "$A_PID"
