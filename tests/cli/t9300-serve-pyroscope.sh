#!/bin/bash
# kiln serve speaks Pyroscope's Connect and render APIs: the documented curl examples (shared/protocols/
# pyroscope.md 11: JSON Push, LabelNames, LabelValues, Series, SelectMergeStacktraces, SelectSeries, render)
# answer with the documented fields and values; a Go pprof pushed as binary proto (gzip) and queried back as pprof
# gives the same stacks and totals as `go tool pprof -raw` of the input, and its flame graph decodes (7.3) to the
# same stacks with sum of self == total; bad selectors, JSON, protobuf and content types get 4xx Connect errors.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
command -v python3 >/dev/null 2>&1 || { t_skip "pyroscope api" "python3 is not installed"; exit 0; }

PY="python3 $T_DIR/pyro.py"
GO=$KILN_ROOT/tests/fixtures/pprof/go-cpu.pb.gz
# The worked examples are a year old: keep everything (no retention) so that T = 1765000005 is stored.
serve_start S "$KILN" --storage "$T_TMP/store" --retention 0 || exit 0
U=$S_URL
CPU=process_cpu:cpu:nanoseconds:cpu:nanoseconds
JSON=(-H 'Content-Type: application/json')
RANGE='"start": "1764999000000", "end": "1765000200000"'

# post METHOD BODY OUT: a Connect JSON call; prints the status
post() { http_code "$3" "${JSON[@]}" "$U/$1" -d "$2"; }

# ---- 11.2: JSON Push ----
RAW=H4sIAAAAAAAC/+Ni4WAUYBLi5mJiYhRibZjy+g4ziMMM4qy4tpNdiY2DUYkJiNk4mIA0E5BmBtLMWiB9IJJJgAVIMguwGjEYMScXlBpx5yXm5RenJufnpRQbMafl5xsxJyUWgYgqj4YnN7d8PrJov0RAw4n1C1SjwJYnNKx9xAIA2iep74gAAAA=
c=$(post push.v1.PusherService/Push '{"series": [{"labels": [{"name": "__name__", "value": "process_cpu"},
	{"name": "service_name", "value": "push-test"}], "samples": [{"ID": "0b6f3c1e-2f4a-4c1b-9a57-6d2e8f1c3a10",
	"rawProfile": "'$RAW'"}]}]}' "$T_TMP/push")
[ "$c" = 200 ] && [ "$(cat "$T_TMP/push")" = "{}" ] && t_pass "JSON Push (11.2): 200 with {}" ||
	t_fail "JSON Push (11.2): 200 with {}" "$c $(cat "$T_TMP/push")"

# ---- 6.2: LabelNames, LabelValues, ProfileTypes, Series ----
post querier.v1.QuerierService/LabelNames "{\"matchers\": [\"{service_name=\\\"push-test\\\"}\"], $RANGE}" \
	"$T_TMP/names" >/dev/null
json_check "LabelNames: sorted, unique names[] with service_name and __profile_type__" "$T_TMP/names" \
	'd["names"] == sorted(set(d["names"])) and {"service_name", "__name__", "__profile_type__"} <= set(d["names"])'
post querier.v1.QuerierService/LabelValues "{\"name\": \"service_name\", $RANGE}" "$T_TMP/values" >/dev/null
json_check "LabelValues service_name: names == [push-test]" "$T_TMP/values" 'd == {"names": ["push-test"]}'
post querier.v1.QuerierService/ProfileTypes "{$RANGE}" "$T_TMP/types" >/dev/null
json_check "ProfileTypes: the CPU type split into its parts" "$T_TMP/types" 'd == {"profileTypes": [{"ID": "'$CPU'",
	"name": "process_cpu", "sampleType": "cpu", "sampleUnit": "nanoseconds", "periodType": "cpu", "periodUnit": "nanoseconds"}]}'
post querier.v1.QuerierService/Series "{\"labelNames\": [\"service_name\", \"__profile_type__\"], $RANGE}" \
	"$T_TMP/series" >/dev/null
json_check "Series with labelNames: the service list" "$T_TMP/series" 'd == {"labelsSet": [{"labels": [
	{"name": "__profile_type__", "value": "'$CPU'"}, {"name": "service_name", "value": "push-test"}]}]}'

# ---- 11.3: SelectMergeStacktraces ----
post querier.v1.QuerierService/SelectMergeStacktraces "{\"profileTypeID\": \"$CPU\",
	\"labelSelector\": \"{service_name=\\\"push-test\\\"}\", $RANGE, \"maxNodes\": \"8192\"}" "$T_TMP/merge" >/dev/null
json_check "SelectMergeStacktraces (11.3): the documented flame graph, int64 as strings" "$T_TMP/merge" \
	'd == {"flamegraph": {"names": ["total", "foo", "baz", "bar"], "levels": [{"values": ["0", "3000000000", "0", "0"]},
	{"values": ["0", "3000000000", "0", "1"]}, {"values": ["0", "1000000000", "1000000000", "3", "0", "2000000000",
	"2000000000", "2"]}], "total": "3000000000", "maxSelf": "2000000000"}}'
printf 'foo;bar 1000000000\nfoo;baz 2000000000\n' >"$T_TMP/want"
$PY flame "$T_TMP/merge" connect >"$T_TMP/got" 2>&1
t_same "its levels decode (7.3) to the pushed stacks, sum of self == total" "$T_TMP/want" "$T_TMP/got"
# numbers are accepted for int64 too, and a selector matching nothing is the empty graph
post querier.v1.QuerierService/SelectMergeStacktraces "{\"profileTypeID\": \"$CPU\",
	\"labelSelector\": \"{service_name=~\\\"nothing.*\\\"}\", \"start\": 1764999000000, \"end\": 1765000200000}" \
	"$T_TMP/empty" >/dev/null
json_check "an empty selection: names [total], one zero level, total omitted" "$T_TMP/empty" \
	'd == {"flamegraph": {"names": ["total"], "levels": [{"values": ["0", "0", "0", "0"]}]}}'

# ---- 6.4: SelectSeries ----
post querier.v1.QuerierService/SelectSeries "{\"profileTypeID\": \"$CPU\", \"labelSelector\": \"{}\", $RANGE,
	\"step\": 15, \"groupBy\": [\"service_name\"]}" "$T_TMP/sseries" >/dev/null
json_check "SelectSeries groupBy service_name: one series, its point at T with the total" "$T_TMP/sseries" \
	'd == {"series": [{"labels": [{"name": "service_name", "value": "push-test"}],
	"points": [{"value": 3000000000, "timestamp": "1765000005000"}]}]}'

# ---- 8.1-8.4: render ----
curl -sS --get "$U/pyroscope/render" --data-urlencode "query=$CPU{service_name=\"push-test\"}" \
	--data-urlencode from=1764999000 --data-urlencode until=1765000200 >"$T_TMP/render"
json_check "render (11.1): flamebearer, metadata, an 80-sample timeline with 3e9 at [67]" "$T_TMP/render" \
	'd["version"] == 1 and d["flamebearer"] == {"names": ["total", "foo", "baz", "bar"], "levels": [[0, 3000000000, 0, 0],
	[0, 3000000000, 0, 1], [0, 1000000000, 1000000000, 3, 0, 2000000000, 2000000000, 2]], "numTicks": 3000000000,
	"maxSelf": 2000000000} and d["metadata"] == {"format": "single", "spyName": "", "sampleRate": 1000000000,
	"units": "samples", "name": "cpu"} and d["timeline"]["startTime"] == 1764999000 and
	d["timeline"]["durationDelta"] == 15 and d["timeline"]["samples"] == [0] * 67 + [3000000000] + [0] * 12 and
	d["timeline"]["watermarks"] is None and d["groups"] is None and d["heatmap"] is None'
$PY flame "$T_TMP/render" render >"$T_TMP/got" 2>&1
t_same "render: levels decode to the pushed stacks, sum of self == numTicks" "$T_TMP/want" "$T_TMP/got"
curl -sS --get "$U/pyroscope/render-diff" --data-urlencode "leftQuery=$CPU{service_name=\"push-test\"}" \
	--data-urlencode "rightQuery=$CPU{}" --data-urlencode leftFrom=1764999000 --data-urlencode leftUntil=1765000200 \
	--data-urlencode rightFrom=1764999000 --data-urlencode rightUntil=1765000200 >"$T_TMP/rdiff"
json_check "render-diff of a selection with itself: double format, equal sides, numTicks = left + right" \
	"$T_TMP/rdiff" 'd["metadata"]["format"] == "double" and d["leftTicks"] == d["rightTicks"] == 3000000000 and
	d["flamebearer"]["numTicks"] == 6000000000 and all(l[i:i+3] == l[i+3:i+6] for l in d["flamebearer"]["levels"]
	for i in range(0, len(l), 7)) and d["timeline"] is None'
curl -sS --get "$U/pyroscope/label-values" --data-urlencode label=__name__ >"$T_TMP/lv"
json_check "label-values?label=__name__: the profile type IDs" "$T_TMP/lv" 'd == ["'$CPU'"]'

# ---- a Go pprof pushed as binary proto, gzip, and read back ----
$PY push-proto "$GO" process_cpu goapp | gzip >"$T_TMP/push.pb.gz"
c=$(http_code "$T_TMP/b" -H 'Content-Type: application/proto' -H 'Content-Encoding: gzip' \
	-H 'Connect-Protocol-Version: 1' --data-binary @"$T_TMP/push.pb.gz" "$U/push.v1.PusherService/Push")
[ "$c" = 200 ] && [ ! -s "$T_TMP/b" ] && t_pass "binary Push (gzip): 200 with a 0-byte PushResponse" ||
	t_fail "binary Push (gzip): 200 with a 0-byte PushResponse" "$c $(head -c 300 "$T_TMP/b")"
GORANGE='"start": "946684800000", "end": "4102444800000"'
c=$(post querier.v1.QuerierService/SelectMergeProfile "{\"profileTypeID\": \"$CPU\",
	\"labelSelector\": \"{service_name=\\\"goapp\\\"}\", $GORANGE}" "$T_TMP/merged.json")
json_check "SelectMergeProfile in JSON: a Profile with int64 strings" "$T_TMP/merged.json" \
	'd["sampleType"][0] and all(isinstance(v, str) for s in d["sample"] for v in s["value"])'
printf '{"profileTypeID": "%s", "labelSelector": "{service_name=\\"goapp\\"}", %s}' "$CPU" "$GORANGE" >"$T_TMP/req.json"
if command -v go >/dev/null 2>&1 && go tool pprof -raw "$GO" >"$T_TMP/raw-in" 2>/dev/null; then
	# the same request in binary proto: field 1 type, 2 selector, 3 start, 4 end
	python3 - "$CPU" >"$T_TMP/req.pb" <<'PYEOF'
import sys
def varint(x):
    o = b""
    while True:
        b, x = x & 0x7F, x >> 7
        if x: o += bytes([b | 0x80])
        else: return o + bytes([b])
def ld(f, d): return varint(f << 3 | 2) + varint(len(d)) + d
msg = ld(1, sys.argv[1].encode()) + ld(2, b'{service_name="goapp"}') + varint(3 << 3) + varint(946684800000) \
    + varint(4 << 3) + varint(4102444800000)
sys.stdout.buffer.write(msg)
PYEOF
	c=$(http_code "$T_TMP/back.pb" -H 'Content-Type: application/proto' --data-binary @"$T_TMP/req.pb" \
		"$U/querier.v1.QuerierService/SelectMergeProfile")
	go tool pprof -raw "$T_TMP/back.pb" >"$T_TMP/raw-back" 2>"$T_TMP/raw-back.err"
	$PY raw "$T_TMP/raw-in" 1 >"$T_TMP/stacks-in"
	$PY raw "$T_TMP/raw-back" 0 >"$T_TMP/stacks-back"
	n=$(wc -l <"$T_TMP/stacks-in")
	tot=$(awk '{ s += $NF } END { print s }' "$T_TMP/stacks-in")
	if [ "$c" = 200 ] && [ "$n" -gt 0 ] && cmp -s "$T_TMP/stacks-in" "$T_TMP/stacks-back"; then
		t_pass "pushed as proto, SelectMergeProfile as proto: go tool pprof -raw gives the input's $n stacks, total $tot"
	else
		t_fail "pushed as proto, SelectMergeProfile: same stacks and totals as go tool pprof -raw" \
			"$c $(diff "$T_TMP/stacks-in" "$T_TMP/stacks-back" | head -5) $(head -3 "$T_TMP/raw-back.err")"
	fi
	# the flame graph of the same selection: decoded stacks equal the input's, merged by function name
	post querier.v1.QuerierService/SelectMergeStacktraces "$(cat "$T_TMP/req.json")" "$T_TMP/gomerge" >/dev/null
	if $PY flame "$T_TMP/gomerge" connect >"$T_TMP/flame-go" 2>"$T_TMP/flame.err" &&
		cmp -s "$T_TMP/stacks-in" "$T_TMP/flame-go"; then
		t_pass "its flame graph decodes to the same $n stacks, sum of self == total == $tot"
	else
		t_fail "its flame graph decodes to the input's stacks" "$(cat "$T_TMP/flame.err") $(diff "$T_TMP/stacks-in" "$T_TMP/flame-go" | head -5)"
	fi
else
	t_skip "pprof against go tool pprof -raw" "go tool pprof is not available"
fi
# PPROF format of SelectMergeStacktraces: the same Profile inside pprof.profile
post querier.v1.QuerierService/SelectMergeStacktraces "$(sed 's/}$/, "format": "PROFILE_FORMAT_PPROF"}/' "$T_TMP/req.json")" \
	"$T_TMP/pp" >/dev/null
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); sys.exit(0 if a["pprof"]["profile"] == b else 1)' \
	"$T_TMP/pp" "$T_TMP/merged.json" && t_pass "format PPROF: pprof.profile equals SelectMergeProfile's answer" ||
	t_fail "format PPROF: pprof.profile equals SelectMergeProfile's answer" "$(head -c 300 "$T_TMP/pp")"

# ---- errors: 4xx with a Connect error body ----
# expect DESC STATUS CODE FILE
expect() {
	if [ "$got" = "$2" ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["code"] == sys.argv[2] and d["message"] else 1)' "$4" "$3" 2>/dev/null
	then t_pass "$1: $2 $3"; else t_fail "$1: $2 $3" "$got $(head -c 300 "$4")"; fi
}
got=$(post querier.v1.QuerierService/SelectMergeStacktraces "{\"profileTypeID\": \"$CPU\",
	\"labelSelector\": \"{service_name=\\\"push-test\\\"}\", \"start\": \"1764999000000\", \"end\": \"1764998000000\"}" "$T_TMP/e")
expect "start after end (11.3)" 400 invalid_argument "$T_TMP/e"
grep -q '"message":"query start time is after end time"' "$T_TMP/e" && t_pass "the documented message" ||
	t_fail "the documented message" "$(cat "$T_TMP/e")"
got=$(post querier.v1.QuerierService/SelectMergeStacktraces "{\"profileTypeID\": \"$CPU\",
	\"labelSelector\": \"{service_name=\\\"a\\\"\", $RANGE}" "$T_TMP/e")
expect "a bad selector" 400 invalid_argument "$T_TMP/e"
got=$(post querier.v1.QuerierService/SelectMergeStacktraces "{\"profileTypeID\": \"$CPU\",
	\"labelSelector\": \"{a=~\\\"p++++++++++++++++++++x\\\"}\", $RANGE}" "$T_TMP/e")
expect "a regex RE2 refuses" 400 invalid_argument "$T_TMP/e"
got=$(post querier.v1.QuerierService/SelectMergeStacktraces "{\"profileTypeID\": \"cpu\", $RANGE}" "$T_TMP/e")
expect "a bad profile type" 400 invalid_argument "$T_TMP/e"
got=$(post querier.v1.QuerierService/SelectMergeStacktraces "{\"profileTypeID\": \"$CPU\", $RANGE, \"maxNodes\": -1}" "$T_TMP/e")
expect "a negative maxNodes" 400 invalid_argument "$T_TMP/e"
got=$(post querier.v1.QuerierService/SelectMergeStacktraces "{\"profileTypeID\": \"$CPU\", $RANGE, \"format\": \"PROFILE_FORMAT_TREE\"}" "$T_TMP/e")
expect "format TREE" 501 unimplemented "$T_TMP/e"
got=$(post querier.v1.QuerierService/SelectMergeStacktraces "{\"profileTypeID\": \"$CPU\"}" "$T_TMP/e")
expect "no time range" 400 invalid_argument "$T_TMP/e"
got=$(post querier.v1.QuerierService/LabelNames '{"start": "12x"' "$T_TMP/e")
expect "bad JSON" 400 invalid_argument "$T_TMP/e"
got=$(post querier.v1.QuerierService/LabelNames '{"start": true}' "$T_TMP/e")
expect "a mistyped field" 400 invalid_argument "$T_TMP/e"
got=$(post push.v1.PusherService/Push '{"series": [{"labels": [{"name": "service_name", "value": "x"}],
	"samples": [{"rawProfile": "bm90IGEgcHJvZmlsZQ=="}]}]}' "$T_TMP/e")
expect "a rawProfile that is no pprof" 400 invalid_argument "$T_TMP/e"
got=$(post push.v1.PusherService/Push '{"series": [{"labels": [{"name": "__name__", "value": "process_cpu"}],
	"samples": [{"rawProfile": "'$RAW'"}]}]}' "$T_TMP/e")
expect "a Push without service_name" 400 invalid_argument "$T_TMP/e"
printf '\x0a\x40trunc' >"$T_TMP/bad.pb"
got=$(http_code "$T_TMP/e" -H 'Content-Type: application/proto' --data-binary @"$T_TMP/bad.pb" "$U/push.v1.PusherService/Push")
expect "a truncated protobuf" 400 invalid_argument "$T_TMP/e"
got=$(http_code "$T_TMP/e" -H 'Content-Type: text/plain' -d '{}' "$U/querier.v1.QuerierService/LabelNames")
expect "a wrong content type" 415 invalid_argument "$T_TMP/e"
got=$(post querier.v1.QuerierService/NoSuchMethod '{}' "$T_TMP/e")
expect "an unknown method" 404 not_found "$T_TMP/e"
got=$(http_code "$T_TMP/e" --get "$U/pyroscope/render" --data-urlencode 'query={service_name="x"}')
expect "render without a profile type" 400 invalid_argument "$T_TMP/e"
got=$(http_code "$T_TMP/e" --get "$U/pyroscope/render")
expect "render without a query" 400 invalid_argument "$T_TMP/e"
got=$(http_code "$T_TMP/e" --get "$U/pyroscope/render-diff" --data-urlencode "leftQuery=$CPU{}" \
	--data-urlencode 'rightQuery=memory:inuse_space:bytes:space:bytes{}')
expect "render-diff of two profile types" 400 invalid_argument "$T_TMP/e"
c=$(http_code "$T_TMP/b" "$U/ready")
[ "$c" = 200 ] && t_pass "the server still serves after the bad requests" || t_fail "the server still serves" "$c"
serve_stop "$S_PID" && t_pass "SIGTERM: clean exit" || t_fail "SIGTERM: clean exit" "$(tail -3 "$T_TMP/serve-S.log")"
