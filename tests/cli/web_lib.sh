# Helpers for the web UI tests (t9600-t9699), sourced after lib.sh.
#   web_ready NAME                 0 when Debian's Chromium and the npm packages (scripts/install-web-test.sh)
#                                  are there; else reports NAME skipped with the reason and returns 1
#   web_run PREFIX TIMEOUT SCRIPT ARGS...
#                                  runs tests/web/SCRIPT under node; each "ok X" / "FAIL X: why" line it prints
#                                  becomes a passed / failed check named PREFIX X; a run that did not reach its
#                                  last check ("ok no console errors") fails. Its output is in $T_TMP/browser.log.
#   web_shop URL NOW ENV_BEFORE ENV_AFTER
#                                  ingests service "shop" as tests/web/ui-check.js and ui-a11y.js expect it: before
#                                  (NOW-3000..NOW-2400, env ENV_BEFORE) parse 30, render 10, idle 60; after
#                                  (NOW-1200..NOW-600, env ENV_AFTER) parse 70, render 10, idle 20 (100 Hz samples)
web_ready() {
	[ -x /usr/bin/chromium ] || { t_skip "$1" "/usr/bin/chromium is not installed"; return 1; }
	"$KILN_ROOT/scripts/install-web-test.sh" >"$T_TMP/npm.log" 2>&1 && return 0
	t_skip "$1" "cannot install the npm packages of tests/web: $(tail -1 "$T_TMP/npm.log")"
	return 1
}

web_run() {
	local prefix=$1 limit=$2 script=$3 line
	shift 3
	NODE_PATH="$KILN_ROOT/build/npm-web/node_modules" timeout "$limit" node "$KILN_ROOT/tests/web/$script" "$@" \
		>"$T_TMP/browser.log" 2>&1
	while IFS= read -r line; do
		case $line in
		"ok "*) t_pass "$prefix${line#ok }" ;;
		"FAIL "*) t_fail "$prefix${line#FAIL }" "" ;;
		esac
	done <"$T_TMP/browser.log"
	grep -q '^ok no console errors$' "$T_TMP/browser.log" || t_fail "${prefix}the browser run finished" "$(tail -5 "$T_TMP/browser.log")"
}

web_shop() {
	printf 'main;handle;parse 30\nmain;handle;render 10\nmain;idle 60\n' |
		curl -gsS --data-binary @- "$1/ingest?name=shop{env=$3}&from=$(($2 - 3000))&until=$(($2 - 2400))"
	printf 'main;handle;parse 70\nmain;handle;render 10\nmain;idle 20\n' |
		curl -gsS --data-binary @- "$1/ingest?name=shop{env=$4}&from=$(($2 - 1200))&until=$(($2 - 600))"
}
