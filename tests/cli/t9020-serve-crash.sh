#!/bin/bash
# kiln serve acknowledges only durable writes: kill -9 during sustained ingest from 4 concurrent clients, restart
# on the same storage, and every profile that got its 200 is there.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

# The release build: the point is the server's behaviour under load, not the sanitizers' speed.
K=${KILN_RELEASE:+$KILN_RELEASE/kiln}
[ -x "${K:-}" ] || K=$KILN
serve_start S "$K" --storage "$T_TMP/store" --retention 0 || exit 0

python3 - "$S_URL" "$T_TMP/acked" >"$T_TMP/client.log" 2>&1 <<'PY' &
import http.client, sys, threading, urllib.parse
url = urllib.parse.urlparse(sys.argv[1])
out = open(sys.argv[2], "w")
lock = threading.Lock()
def client(k):
    n = 0
    while True:
        try:
            c = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
            name = urllib.parse.quote("crash{client=%d,seq=%d}" % (k, n))
            body = "".join("main;f%d;g%d %d\n" % (i, (n + i) % 7, i + 1) for i in range(20))
            c.request("POST", "/ingest?name=%s" % name, body)
            r = c.getresponse()
            r.read()
            if r.status == 200:
                with lock:
                    out.write("%d-%d\n" % (k, n))
                    out.flush()
            n += 1
        except Exception:
            return
ts = [threading.Thread(target=client, args=(k,)) for k in range(4)]
for t in ts: t.start()
for t in ts: t.join()
PY
CLIENT=$!
sleep 3
kill -9 "$S_PID"
wait "$S_PID" 2>/dev/null
wait "$CLIENT"
acked=$(wc -l <"$T_TMP/acked")
serve_start S2 "$K" --storage "$T_TMP/store" --retention 0 || exit 0
curl -sS --get "$S2_URL/api/v1/profiles" --data-urlencode 'query=process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="crash"}' \
	--data-urlencode from=now-1h --data-urlencode limit=100000 >"$T_TMP/list"
python3 - "$T_TMP/list" "$T_TMP/acked" >"$T_TMP/cmp" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
stored = {"%s-%s" % (p["labels"]["client"], p["labels"]["seq"]) for p in d["profiles"]}
acked = set(open(sys.argv[2]).read().split())
missing = acked - stored
print("acked %d, stored %d, missing %d %s" % (len(acked), len(stored), len(missing), sorted(missing)[:5]))
sys.exit(0 if acked and not missing else 1)
PY
if [ $? = 0 ]; then t_pass "kill -9 under load: every acknowledged profile is stored ($(cat "$T_TMP/cmp"))"
else t_fail "kill -9 under load: every acknowledged profile is stored" "$(cat "$T_TMP/cmp") $(tail -3 "$T_TMP/client.log")"; fi
# The restarted store takes writes again.
c=$(http_code /dev/null --data-binary 'after;restart 1' "$S2_URL/ingest?name=crash")
[ "$c" = 200 ] && t_pass "the restarted server stores again" || t_fail "the restarted server stores again" "$c"
serve_stop "$S2_PID"
