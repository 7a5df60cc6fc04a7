#!/bin/bash
# Debug symbols on demand: a stripped binary whose debug file a local debuginfod-compatible HTTP server serves
# (GET /buildid/ID/debuginfo) is named with DEBUGINFOD_URLS set, and stays unnamed without it, where
# kiln analyze names the missing build-id; the /usr/lib/debug layouts (DIR/PATH.debug, .gnu_debuglink next to
# the binary); the build-ids recorded into pprof mappings.
. "$(dirname "$0")/lib.sh"

cd "$T_TMP" || exit 1

if ! "$KILN" profile -q -o probe.pb.gz -- true 2>probe.err; then
	t_skip "debug symbols on demand" "cannot sample here: $(head -1 probe.err)"
	exit 0
fi
if ! command -v cc >/dev/null 2>&1 || ! command -v objcopy >/dev/null 2>&1 || ! command -v strip >/dev/null 2>&1; then
	t_skip "debug symbols on demand" "no cc/objcopy/strip"
	exit 0
fi

# Self-time shares of work_a/b/c (truth printed by the program) within 3 points, none unnamed.
shares_ok() { # TRUTH FOLDED -> prints what is wrong, nothing when right
	local bad="" f want got ok
	for f in work_a work_b work_c; do
		want=$(awk -v f=$f '$1 == "share" && $2 == f {print $3}' "$1")
		got=$(awk -v f=$f '{ n = $NF; t += n; sub(/ [0-9]+$/, ""); k = split($0, a, ";"); if (a[k] == f) s += n }
			END { if (t) printf "%.2f", 100 * s / t }' "$2")
		ok=$(awk -v a="$want" -v b="$got" 'BEGIN { d = a - b; if (d < 0) d = -d; print (a != "" && b != "" && d <= 3) }')
		[ "$ok" = 1 ] || bad="$bad $f: truth $want%, kiln $got%;"
	done
	grep -q "$3+0x" "$2" && bad="$bad unnamed frames: $(grep -o "\[$3+0x[0-9a-f]*\]" "$2" | sort -u | head -3 | tr '\n' ' ')"
	printf '%s' "$bad"
}

cc -O1 -g -fno-omit-frame-pointer -Wl,--build-id -o prog "$KILN_ROOT/tests/helpers/prof_shares.c" || exit 1
bid=$(readelf -n prog | awk '/Build ID/ {print $3}')
mkdir -p keep
objcopy --only-keep-debug prog keep/prog.debug # not beside prog: libdwfl would find it there by name
strip --strip-all prog
if [ ${#bid} -lt 8 ] || readelf -S prog | grep -q '\.symtab'; then
	t_fail "test binary" "no build-id ('$bid') or not stripped"
	exit 0
fi

# --- without any debug file: unnamed, and kiln analyze names the build-id -----------------------------------
# KILN_CACHE_DIR= keeps the debug file cache out of the comparison (it could serve the copy of a later run).
env -u DEBUGINFOD_URLS KILN_CACHE_DIR= "$KILN" profile -q -o bare.pb.gz ./prog 0.6 50 30 20 >/dev/null 2>bare.err
"$KILN" convert bare.pb.gz -o bare.folded 2>/dev/null
if grep -q 'prog+0x' bare.folded && ! grep -q 'work_a' bare.folded; then
	t_pass "stripped binary without debug info is unnamed"
else
	t_fail "stripped binary without debug info is unnamed" "$(head -3 bare.folded) $(cat bare.err)"
fi
env -u DEBUGINFOD_URLS "$KILN" analyze bare.pb.gz >bare.txt 2>&1
if grep -q "Missing debug symbols (debuginfo" bare.txt && grep -q "build-id $bid (set DEBUGINFOD_URLS=" bare.txt; then
	t_pass "analyze names the missing build-id and DEBUGINFOD_URLS"
else
	t_fail "analyze names the missing build-id and DEBUGINFOD_URLS" "$(grep -A2 Recommendations bare.txt)"
fi
"$KILN" analyze --json bare.pb.gz >bare.json 2>/dev/null
json_check "analyze --json: the debuginfo recommendation covers (nearly) every sample" bare.json \
	"[r for r in d['recommendations'] if r['rule'] == 'debuginfo' and r['evidence']['pct'] > 90 and '$bid' in r['message']]"
DEBUGINFOD_URLS=http://127.0.0.1:9/ "$KILN" analyze bare.pb.gz >bare-urls.txt 2>&1
grep -q "build-id $bid is neither in /usr/lib/debug/.build-id nor at DEBUGINFOD_URLS" bare-urls.txt &&
	t_pass "analyze with DEBUGINFOD_URLS set: the server had nothing" ||
	t_fail "analyze with DEBUGINFOD_URLS set: the server had nothing" "$(grep -A2 Recommendations bare-urls.txt)"
# The build-id travels in the pprof mapping (go tool pprof and kiln convert keep it).
if command -v go >/dev/null 2>&1 && go tool pprof -raw bare.pb.gz >raw.txt 2>/dev/null; then
	grep -q "$bid" raw.txt && t_pass "pprof mapping carries the build-id" ||
		t_fail "pprof mapping carries the build-id" "$(grep -A5 Mappings raw.txt)"
else
	t_skip "pprof mapping carries the build-id" "no go tool pprof"
fi

# --- debuginfod ---------------------------------------------------------------------------------------------
have_debuginfod=0
for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /lib/x86_64-linux-gnu; do
	[ -e "$d/libdebuginfod.so.1" ] && have_debuginfod=1
done
if [ $have_debuginfod = 0 ]; then
	t_skip "debuginfod" "libdebuginfod1 is not installed (scripts/install-deps.sh installs it)"
elif ! command -v python3 >/dev/null 2>&1; then
	t_skip "debuginfod" "no python3 for the test server"
else
	mkdir -p "srv/buildid/$bid"
	cp keep/prog.debug "srv/buildid/$bid/debuginfo"
	# A debuginfod server as far as clients go: GET /buildid/ID/debuginfo, 404 for anything else.
	python3 - "$PWD/srv" >srv.port 2>srv.log <<'EOF' &
import http.server, os, sys
root = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        parts = self.path.split("/")
        f = os.path.join(root, "buildid", parts[2], "debuginfo") if len(parts) == 4 and parts[1] == "buildid" \
            and parts[3] == "debuginfo" and parts[2].isalnum() else None
        if not f or not os.path.isfile(f):
            self.send_error(404)
            return
        data = open(f, "rb").read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF
	srv=$!
	for _ in $(seq 50); do [ -s srv.port ] && break; sleep 0.1; done
	port=$(cat srv.port)
	env DEBUGINFOD_URLS="http://127.0.0.1:$port" DEBUGINFOD_CACHE_PATH="$PWD/dcache" KILN_CACHE_DIR= \
		"$KILN" profile -q -o served.pb.gz ./prog 1.2 50 30 20 >served.truth 2>served.err
	"$KILN" convert served.pb.gz -o served.folded 2>/dev/null
	bad=$(shares_ok served.truth served.folded prog)
	if [ -z "$bad" ] && grep -q "GET /buildid/$bid/debuginfo" srv.log; then
		t_pass "DEBUGINFOD_URLS: the served debug file names every function, shares within 3 points"
	else
		t_fail "DEBUGINFOD_URLS: the served debug file names every function" "$bad $(cat served.err srv.log | head -5)"
	fi
	env DEBUGINFOD_URLS="http://127.0.0.1:$port" "$KILN" analyze served.pb.gz >served.txt 2>&1
	grep -q "Missing debug symbols" served.txt && t_fail "no debuginfo advice once named" "$(grep -A2 Recomm served.txt)" ||
		t_pass "no debuginfo advice once named"
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
fi

# --- the /usr/lib/debug layouts ------------------------------------------------------------------------------
# DIR/PATH.debug: the binary's own directory under a debug directory, found by its .gnu_debuglink name.
mkdir -p "dbgroot$PWD/linked" linked
cp prog linked/prog
cp keep/prog.debug keep/prog-syms.debug # a debuglink name other than PROG.debug, which libdwfl also tries
objcopy --add-gnu-debuglink=keep/prog-syms.debug linked/prog
cp keep/prog.debug "dbgroot$PWD/linked/prog-syms.debug"
KILN_CACHE_DIR= "$KILN" profile -q --debuginfo-dir "$PWD/dbgroot" -o tree.folded ./linked/prog 1.2 50 30 20 \
	>tree.truth 2>tree.err
bad=$(shares_ok tree.truth tree.folded prog)
[ -z "$bad" ] && t_pass "debug file at DIR/PATH/NAME.debug (debuglink)" ||
	t_fail "debug file at DIR/PATH/NAME.debug (debuglink)" "$bad $(head -3 tree.err)"
# .gnu_debuglink next to the binary.
mkdir -p beside
cp linked/prog beside/prog
cp keep/prog.debug beside/prog-syms.debug
KILN_CACHE_DIR= "$KILN" profile -q --debuginfo-dir /nonexistent -o beside.folded ./beside/prog 1.2 50 30 20 \
	>beside.truth 2>beside.err
bad=$(shares_ok beside.truth beside.folded prog)
[ -z "$bad" ] && t_pass "debug file next to the binary (debuglink)" ||
	t_fail "debug file next to the binary (debuglink)" "$bad $(head -3 beside.err)"
t_done
