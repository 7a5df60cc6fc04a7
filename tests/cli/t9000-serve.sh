#!/bin/bash
# kiln serve, ingest: Pyroscope's documented folded curl example (shared/protocols/pyroscope.md 11.1) stored as
# documented (labels, values x 10,000,000 at 100 Hz), the name grammar and time values, every body format, a
# real Go pprof read back with the same stacks and totals as `go tool pprof -raw` gives for the input, gzip and
# multipart forms equal to raw bodies, and clean shutdown on SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

FIX=$KILN_ROOT/tests/fixtures
serve_start S "$KILN" --storage "$T_TMP/store" --retention 0 || exit 0
U=$S_URL
NOW=$(date +%s)

c=$(http_code "$T_TMP/ready" "$U/ready")
[ "$c" = 200 ] && t_pass "/ready answers 200" || t_fail "/ready answers 200" "$c"

# ---- 11.1: folded ingest with curl ----
c=$(printf 'foo;bar 100\nfoo;baz 200\n' | http_code "$T_TMP/b" -X POST --data-binary @- \
	"$U/ingest?name=curl-test-app&from=1765000005&until=1765000015")
if [ "$c" = 200 ] && [ ! -s "$T_TMP/b" ]; then t_pass "folded ingest: 200 with an empty body"
else t_fail "folded ingest: 200 with an empty body" "$c $(cat "$T_TMP/b")"; fi
Q='process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="curl-test-app"}'
curl -sS --get "$U/api/v1/export" --data-urlencode "query=$Q" --data-urlencode from=1764999000 \
	--data-urlencode until=1765000200 >"$T_TMP/exp"
printf 'foo;bar 1000000000\nfoo;baz 2000000000\n' >"$T_TMP/want"
t_same "stored at 100 Hz: values x 10,000,000 (11.1)" "$T_TMP/want" "$T_TMP/exp"
curl -sS --get "$U/api/v1/profiles" --data-urlencode "query=$Q" --data-urlencode from=1764999000 \
	--data-urlencode until=1765000200 >"$T_TMP/list"
json_check "the series carries the documented labels, at time T" "$T_TMP/list" \
	'len(d["profiles"]) == 1 and d["profiles"][0]["from"] == 1765000005 * 10**9 and d["profiles"][0]["labels"] == {
	"__delta__": "false", "__name__": "process_cpu", "__period_type__": "cpu", "__period_unit__": "nanoseconds",
	"__profile_type__": "process_cpu:cpu:nanoseconds:cpu:nanoseconds", "__service_name__": "curl-test-app",
	"__type__": "cpu", "__unit__": "nanoseconds", "pyroscope_spy": "unknown", "service_name": "curl-test-app"}'

# ---- the name grammar and errors (2.2, 3.4, 12) ----
c=$(echo 'a 1' | http_code "$T_TMP/b" --data-binary @- "$U/ingest?name=my.app")
if [ "$c" = 400 ] && grep -q '"message":"unknown profile type' "$T_TMP/b" && grep -q '"code":"invalid_argument"' "$T_TMP/b"
then t_pass "name=my.app: 400 unknown profile type, Connect error JSON"; else t_fail "name=my.app: 400" "$c $(cat "$T_TMP/b")"; fi
c=$(echo 'a 1' | http_code "$T_TMP/b" --data-binary @- "$U/ingest")
[ "$c" = 400 ] && t_pass "no name: 400" || t_fail "no name: 400" "$c $(cat "$T_TMP/b")"
c=$(echo 'a 1' | http_code "$T_TMP/b" --data-binary @- "$U/ingest?name=bad%20app%21")
[ "$c" = 400 ] && grep -q 'invalid service name' "$T_TMP/b" && t_pass "a bad service character: 400" ||
	t_fail "a bad service character: 400" "$c $(cat "$T_TMP/b")"
NAME=$(python3 -c 'import urllib.parse; print(urllib.parse.quote("a{k=v,k2=v=2 , __x=1,dropped"))')
c=$(echo 'x;y 3' | http_code "$T_TMP/b" --data-binary @- "$U/ingest?name=$NAME&from=$NOW")
curl -sS --get "$U/api/v1/profiles" --data-urlencode 'query=process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="a"}' \
	--data-urlencode "from=now-1h" >"$T_TMP/list"
json_check "name=a{k=v,k2=v=2,__x=1,...} stores k, k2 (values may hold '='), service_name=a; __* and unclosed pairs dropped" \
	"$T_TMP/list" 'd["profiles"][0]["labels"]["k"] == "v" and d["profiles"][0]["labels"]["k2"] == "v=2" and
	"__x" not in d["profiles"][0]["labels"] and "dropped" not in d["profiles"][0]["labels"]'

# ---- time values: s, ms, µs, ns and now-1h store the same instant (12) ----
T=$((NOW - 600))
for from in "$T" "${T}000" "${T}000000" "${T}000000000"; do
	echo 'same;instant 1' | curl -sS --data-binary @- "$U/ingest?name=timecheck-${#from}&from=$from&until=$((T + 10))"
done
REL=$(date +%s)
echo 'rel 1' | curl -sS --data-binary @- "$U/ingest?name=timecheck-rel&from=now-1h"
curl -sS --get "$U/api/v1/profiles" --data-urlencode 'query=process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name=~"timecheck-.*"}' \
	--data-urlencode "from=now-2h" >"$T_TMP/list"
json_check "from in s, ms, µs and ns: the same instant; now-1h within 2 s of now - 3600 s" "$T_TMP/list" \
	"sorted(p['from'] for p in d['profiles'] if p['labels']['service_name'] != 'timecheck-rel') == [$T * 10**9] * 4 and
	 abs([p['from'] for p in d['profiles'] if p['labels']['service_name'] == 'timecheck-rel'][0] - ($REL - 3600) * 10**9) <= 2 * 10**9"

# ---- sampleRate=97: the factor is floor(1e9 / 97) = 10,309,278; sampleRate=0 keeps counts ----
echo 'r;s 3' | curl -sS --data-binary @- "$U/ingest?name=rate97&sampleRate=97"
curl -sS --get "$U/api/v1/export" --data-urlencode 'query=process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="rate97"}' >"$T_TMP/exp"
[ "$(cat "$T_TMP/exp")" = "r;s $((3 * 10309278))" ] && t_pass "sampleRate=97 scales by 10,309,278" ||
	t_fail "sampleRate=97 scales by 10,309,278" "$(cat "$T_TMP/exp")"
echo 'r;s 3' | curl -sS --data-binary @- "$U/ingest?name=rate0.cpu&sampleRate=0"
curl -sS --get "$U/api/v1/export" --data-urlencode 'query=process_cpu:samples:count::{service_name="rate0"}' >"$T_TMP/exp"
[ "$(cat "$T_TMP/exp")" = "r;s 3" ] && t_pass "sampleRate=0: process_cpu:samples:count:: keeps counts" ||
	t_fail "sampleRate=0: process_cpu:samples:count:: keeps counts" "$(cat "$T_TMP/exp")"

# ---- lines and speedscope bodies ----
printf 'a;b\na;b\na;c\n\n' | curl -sS --data-binary @- "$U/ingest?name=lines-app.inuse_objects&format=lines"
curl -sS --get "$U/api/v1/export" --data-urlencode 'query=memory:inuse_objects:count::{service_name="lines-app"}' >"$T_TMP/exp"
printf 'a;b 2\na;c 1\n' >"$T_TMP/want"
t_same "format=lines counts each line once (memory:inuse_objects:count::)" "$T_TMP/want" "$T_TMP/exp"
if [ -f "$FIX/speedscope/evented.json" ]; then
	"$KILN" convert "$FIX/speedscope/evented.json" -o - --to folded | sort >"$T_TMP/want"
	curl -sS --data-binary @"$FIX/speedscope/evented.json" "$U/ingest?name=ss-app.cpu&format=speedscope&sampleRate=0"
	curl -sS --get "$U/api/v1/export" --data-urlencode 'query=process_cpu:samples:count::{service_name="ss-app"}' | sort >"$T_TMP/exp"
	t_same "format=speedscope stores what kiln convert reads" "$T_TMP/want" "$T_TMP/exp"
fi

# ---- pprof: a real Go CPU profile, gzip, raw and multipart ----
GO=$FIX/pprof/go-cpu.pb.gz
TS=$(date +%s)
c=$(http_code "$T_TMP/b" -H 'Content-Type: application/octet-stream' --data-binary @"$GO" \
	"$U/ingest?format=pprof&name=goapp&spyName=gospy&from=$TS&until=$((TS + 10))")
[ "$c" = 200 ] && t_pass "gzipped pprof: 200" || t_fail "gzipped pprof: 200" "$c $(cat "$T_TMP/b")"
gzip -dc "$GO" >"$T_TMP/go.pb"
curl -sS --data-binary @"$T_TMP/go.pb" "$U/ingest?format=pprof&name=goapp-raw&from=$TS"
printf -- '--XyZ\r\nContent-Disposition: form-data; name="profile"; filename="profile.pprof"\r\nContent-Type: application/octet-stream\r\n\r\n' >"$T_TMP/form"
cat "$GO" >>"$T_TMP/form"
printf '\r\n--XyZ\r\nContent-Disposition: form-data; name="sample_type_config"; filename="sample_type_config.json"\r\n\r\n{"samples":{"units":"samples"}}\r\n--XyZ--\r\n' >>"$T_TMP/form"
c=$(http_code "$T_TMP/b" -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary @"$T_TMP/form" \
	"$U/ingest?name=goapp-form&from=$TS")
[ "$c" = 200 ] && t_pass "multipart form with profile and sample_type_config: 200" || t_fail "multipart: 200" "$c $(cat "$T_TMP/b")"
for app in goapp goapp-raw goapp-form; do
	for t in samples:count cpu:nanoseconds; do
		# The pprof's own time_nanos is the profile's time (3.5): the fixture's, long ago.
		curl -sS --get "$U/api/v1/export" --data-urlencode "query=process_cpu:$t:cpu:nanoseconds{service_name=\"$app\"}" \
			--data-urlencode "from=20000101" | sort >"$T_TMP/$app-${t%%:*}"
	done
done
t_same "gzip and raw pprof store identical profiles" "$T_TMP/goapp-cpu" "$T_TMP/goapp-raw-cpu"
t_same "a form with only profile equals raw format=pprof" "$T_TMP/goapp-cpu" "$T_TMP/goapp-form-cpu"
[ -s "$T_TMP/goapp-cpu" ] && [ -s "$T_TMP/goapp-samples" ] && t_pass "one series per sample type (samples, cpu)" ||
	t_fail "one series per sample type" "$(head -3 "$T_TMP/goapp-cpu")"
# Against go tool pprof -raw of the input: the same stacks (function names, root first) and the same totals.
if command -v go >/dev/null 2>&1 && go tool pprof -raw "$GO" >"$T_TMP/raw" 2>/dev/null; then
	curl -sS --get "$U/api/v1/export" --data-urlencode 'query=process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="goapp"}' \
		--data-urlencode "from=20000101" --data-urlencode format=pprof >"$T_TMP/back.pb"
	go tool pprof -raw "$T_TMP/back.pb" >"$T_TMP/raw-back" 2>&1
	python3 - "$T_TMP/raw" "$T_TMP/raw-back" >"$T_TMP/cmp" 2>&1 <<'PY'
import sys, collections
def stacks(path, col):
    # go tool pprof -raw: "Samples:" header, then per sample "  v1 v2: loc loc ..." and indented extra locations;
    # "Locations" lists id: addr M=.. function file:line.
    lines = open(path).read().split("\n")
    locs, samples, i = {}, [], 0
    while i < len(lines) and not lines[i].startswith("Samples:"): i += 1
    i += 2
    cur = None
    while i < len(lines) and not lines[i].startswith("Locations"):
        l = lines[i]
        if ":" in l:
            vals, ids = l.split(":", 1)
            cur = [int(vals.split()[col if len(vals.split()) > 1 else 0]), ids.split()]
            samples.append(cur)
        elif l.strip() and cur is not None:
            cur[1] += l.split()
        i += 1
    i += 1
    last = None
    while i < len(lines) and not lines[i].startswith("Mappings"):
        l = lines[i]
        if l.strip() and l.split(":")[0].strip().isdigit():
            lid, rest = l.split(":", 1)
            parts = rest.split()
            names = [parts[2]] if len(parts) > 2 else ["?"]
            locs[lid.strip()] = names
            last = lid.strip()
        elif l.strip() and last:
            locs[last].append(l.split()[0])  # inlined frames follow
        i += 1
    agg = collections.Counter()
    for v, ids in samples:
        frames = []
        for lid in ids:
            frames.extend(locs.get(lid, ["?"]))
        agg[";".join(reversed(frames))] += v
    return {k: v for k, v in agg.items() if v}
a, b = stacks(sys.argv[1], 1), stacks(sys.argv[2], 0)
print("input", len(a), sum(a.values()), "back", len(b), sum(b.values()))
sys.exit(0 if a == b and a else 1)
PY
	if [ $? = 0 ]; then t_pass "pprof in, pprof out: go tool pprof -raw gives the same stacks and totals ($(cat "$T_TMP/cmp"))"
	else t_fail "pprof in, pprof out: same stacks and totals as go tool pprof -raw" "$(cat "$T_TMP/cmp")"; fi
else
	t_skip "pprof against go tool pprof -raw" "go tool pprof is not available"
fi
# prev_profile non-empty is refused with the documented message.
printf -- '--B\r\nContent-Disposition: form-data; name="profile"\r\n\r\nx\r\n--B\r\nContent-Disposition: form-data; name="prev_profile"\r\n\r\nold\r\n--B--\r\n' >"$T_TMP/form2"
c=$(http_code "$T_TMP/b" -H 'Content-Type: multipart/form-data; boundary=B' --data-binary @"$T_TMP/form2" "$U/ingest?name=x")
[ "$c" = 400 ] && grep -q 'unsupported client version' "$T_TMP/b" && t_pass "non-empty prev_profile: 400" ||
	t_fail "non-empty prev_profile: 400" "$c $(cat "$T_TMP/b")"

# ---- unknown endpoints and methods ----
c=$(http_code "$T_TMP/b" "$U/nope")
[ "$c" = 404 ] && grep -q '"code":"not_found"' "$T_TMP/b" && t_pass "unknown path: 404 with a Connect error" ||
	t_fail "unknown path: 404" "$c $(cat "$T_TMP/b")"
c=$(http_code "$T_TMP/b" "$U/ingest")
[ "$c" = 405 ] && t_pass "GET /ingest: 405" || t_fail "GET /ingest: 405" "$c"

# ---- /metrics counts what happened ----
curl -sS "$U/metrics" >"$T_TMP/metrics"
grep -q '^kiln_store_series [1-9]' "$T_TMP/metrics" && grep -q '^kiln_ingest_ack_seconds_count [1-9]' "$T_TMP/metrics" &&
	grep -q '^kiln_ingest_rejected_total{code="4xx"} [1-9]' "$T_TMP/metrics" &&
	t_pass "/metrics: Prometheus text with store and ingest counters" || t_fail "/metrics" "$(head -20 "$T_TMP/metrics")"

# ---- SIGTERM: a clean stop, exit 0 ----
serve_stop "$S_PID"
s=$?
[ $s = 0 ] && grep -q 'stopping' "$T_TMP/serve-S.log" && t_pass "SIGTERM stops the server cleanly (exit 0)" ||
	t_fail "SIGTERM stops the server cleanly" "exit $s: $(tail -3 "$T_TMP/serve-S.log")"
# The data outlives the process: a new server answers the same.
serve_start S2 "$KILN" --storage "$T_TMP/store" --retention 0 || exit 0
curl -sS --get "$S2_URL/api/v1/export" --data-urlencode "query=$Q" --data-urlencode from=1764999000 \
	--data-urlencode until=1765000200 >"$T_TMP/exp"
printf 'foo;bar 1000000000\nfoo;baz 2000000000\n' >"$T_TMP/want"
t_same "a restarted server reads the same store" "$T_TMP/want" "$T_TMP/exp"
serve_stop "$S2_PID"
# Bad options: one line, exit 2.
t_fails "--retention nonsense: exit 2" 2 "$KILN" serve --retention 3x
t_fails "postgres:// says it is not built yet" 2 "$KILN" serve --listen 127.0.0.1:0 --storage postgres://localhost/kiln
