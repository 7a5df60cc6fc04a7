#!/bin/bash
# kiln serve's web UI, the views beyond t9600 (issue 19): the sandwich view of a function (from the table and
# from a frame's right-click), the tag explorer, the analyze panel (and its endpoint, checked against kiln
# analyze of the same selection) and the token setting for a server with --auth-file. Debian's Chromium
# (playwright-core, tests/web/ui-views.js) checks each against the ingested stacks; screenshots in the temp dir.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

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

browser() {
	[ -x /usr/bin/chromium ] || { t_skip "web UI in Chromium ($*)" "/usr/bin/chromium is not installed"; return; }
	if ! "$KILN_ROOT/scripts/install-web-test.sh" >"$T_TMP/npm.log" 2>&1; then
		t_skip "web UI in Chromium ($*)" "cannot install playwright-core with npm: $(tail -1 "$T_TMP/npm.log")"
		return
	fi
	local url=$1
	shift
	NODE_PATH="$KILN_ROOT/build/npm-web/node_modules" timeout 240 node "$KILN_ROOT/tests/web/ui-views.js" "$url" "$T_TMP" \
		"$T_TMP/fx" "$@" >"$T_TMP/browser-$1.log" 2>&1
	while IFS= read -r line; do
		case $line in
		"ok "*) t_pass "$1: ${line#ok }" ;;
		"FAIL "*) t_fail "$1: ${line#FAIL }" "" ;;
		esac
	done <"$T_TMP/browser-$1.log"
	grep -q '^ok no console errors$' "$T_TMP/browser-$1.log" ||
		t_fail "$1: the browser run finished" "$(tail -5 "$T_TMP/browser-$1.log")"
}

browser "$U" sandwich tags
serve_stop "$S_PID"
