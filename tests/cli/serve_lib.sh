# Helpers for the kiln serve tests (t9000-t9199), sourced after lib.sh.
#   serve_start VAR_PREFIX KILN_BINARY ARGS...   starts a server on a free port; sets ${P}_PID, ${P}_URL
#   serve_stop PID                              SIGTERM, then waits; returns the server's exit status
#   http_code FILE CURL_ARGS...                 runs curl, body into FILE, prints the status code
#   rss_kb PID                                  resident set size in KiB
command -v curl >/dev/null 2>&1 || { t_skip "kiln serve" "curl is not installed"; exit 0; }

serve_start() {
	local p=$1 bin=$2 log="$T_TMP/serve-$1.log"
	shift 2
	"$bin" serve --listen 127.0.0.1:0 "$@" 2>"$log" &
	eval "${p}_PID=$!"
	for _ in $(seq 1 200); do
		if grep -q 'serving on' "$log"; then
			eval "${p}_URL=$(sed -n 's|.*serving on \(http://[^ ]*\) .*|\1|p' "$log" | head -1)"
			return 0
		fi
		kill -0 "$(eval echo "\$${p}_PID")" 2>/dev/null || break
		sleep 0.1
	done
	t_fail "server $p starts" "$(cat "$log")"
	return 1
}

serve_stop() {
	kill -TERM "$1" 2>/dev/null
	wait "$1"
}

http_code() {
	local out=$1
	shift
	curl -sS -o "$out" -w '%{http_code}' "$@"
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}
