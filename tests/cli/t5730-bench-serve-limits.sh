#!/bin/bash
# Benchmark runs in kiln serve under its limits (issue 21): --max-bench-samples (400), --max-bench-runs and
# --max-benchmarks per tenant (429), --max-body (413) and --retention (a run measured before it is refused
# with 400, one that ages past it disappears from the reads). Each refusal is a one-line message naming the
# limit, which push-bench prints with exit status 2; a refused run is not stored.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
cd "$T_TMP" || exit 1
command -v python3 >/dev/null || { t_skip "bench run limits" "python3 is needed"; exit 0; }

serve_start S "$KILN" --storage store --retention 1h --max-bench-samples 25 --max-bench-runs 3 --max-benchmarks 2 \
	--max-body 65536 || exit 0
NOW=$(date +%s)
json_check "the trend of an empty store: no runs, no series" <(curl -sS "$S_URL/api/v1/bench/trend") \
	'd["runs"]==[] and d["series"]==[] and d["regressions"]==0'
t_ok "kiln trend of a server without runs" "$KILN" trend "$S_URL"

# a run of one benchmark with N samples, in kiln's own export format
one() {
	python3 - "$1" "$2" <<'PY'
import json, sys
n, name = int(sys.argv[1]), sys.argv[2]
t = [0.01 + 0.001 * i for i in range(n)]
print(json.dumps({"results": [{"command": name, "times": t, "mean": sum(t) / n, "stddev": 0, "median": t[n // 2],
                               "user": 0, "system": 0, "min": min(t), "max": max(t)}]}))
PY
}
runs() { curl -sS "$S_URL/api/v1/bench/runs" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["runs"]))'; }

one 26 big >big.json
"$KILN" push-bench big.json --push "$S_URL" --commit a --branch main --time $NOW 2>err.txt
st=$?
[ $st = 2 ] && [ "$(wc -l <err.txt)" = 1 ] && grep -q '26 samples.*limit of 25.*--max-bench-samples' err.txt &&
	t_pass "26 samples past --max-bench-samples 25: refused, one line, exit 2" ||
	t_fail "samples past the limit refused" "exit $st: $(cat err.txt)"
code=$(http_code e.out -X POST -H 'Content-Type: application/json' \
	--data "$(python3 -c 'import json; print(json.dumps({"schema":"kiln-bench-run/1","commit":"a","branch":"b","machine":"m","time":'$NOW',"benchmarks":[{"name":"x","metric":"time","unit":"s","samples":[1.0]*26}]}))')" \
	"$S_URL/api/v1/bench/runs")
[ "$code" = 400 ] && grep -q -- '--max-bench-samples' e.out && t_pass "the endpoint answers 400 for it" ||
	t_fail "the endpoint answers 400" "$code $(cat e.out)"

one 5 first >a.json
one 5 second >b.json
one 5 third >c.json
t_ok "a run of 5 samples is stored" "$KILN" push-bench a.json --push "$S_URL" --commit a --branch main --time $NOW
t_ok "a second benchmark is stored" "$KILN" push-bench b.json --push "$S_URL" --commit b --branch main --time $NOW
"$KILN" push-bench c.json --push "$S_URL" --commit c --branch main --time $NOW 2>err.txt
st=$?
[ $st = 2 ] && grep -q "'third'.*--max-benchmarks" err.txt && grep -q 429 err.txt &&
	t_pass "a third benchmark name past --max-benchmarks 2: 429" || t_fail "benchmarks past the limit" "exit $st: $(cat err.txt)"
[ "$(runs)" = 2 ] && t_pass "the refused runs were not stored" || t_fail "the refused runs were not stored" "$(runs)"
# another tenant has caps of its own
t_ok "another tenant may push its own benchmarks" env KILN_TENANT=other "$KILN" push-bench c.json --push "$S_URL" \
	--commit c --branch main --time $NOW
t_ok "a known benchmark again" "$KILN" push-bench a.json --push "$S_URL" --commit a2 --branch main --time $NOW
"$KILN" push-bench a.json --push "$S_URL" --commit a3 --branch main --time $NOW 2>err.txt
st=$?
[ $st = 2 ] && grep -q 'has 3 benchmark runs.*--max-bench-runs' err.txt && t_pass "a fourth run past --max-bench-runs 3: 429" ||
	t_fail "runs past the limit" "exit $st: $(cat err.txt)"

# retention: a run measured two hours ago is refused; the body limit is the server's --max-body
"$KILN" push-bench a.json --push "$S_URL" --commit old --branch old --time $((NOW - 7200)) 2>err.txt
st=$?
[ $st = 2 ] && grep -q 'older than the retention' err.txt && t_pass "a run older than --retention 1h: refused" ||
	t_fail "a run older than the retention" "exit $st: $(cat err.txt)"
head -c 70000 /dev/zero | tr '\0' 'x' >huge.bin
code=$(http_code e.out -X POST -H 'Content-Type: application/json' --data-binary @huge.bin "$S_URL/api/v1/bench/runs")
[ "$code" = 413 ] && grep -q 'larger than 65536 bytes' e.out && t_pass "a body past --max-body: 413" ||
	t_fail "a body past --max-body: 413" "$code $(cat e.out)"
serve_stop "$S_PID"

# a run stored without a retention is dropped when the server starts with one that it is past
serve_start R "$KILN" --storage keep --retention 0 || exit 0
"$KILN" push-bench a.json --push "$R_URL" --commit old --branch main --time $((NOW - 7200)) 2>/dev/null
"$KILN" push-bench a.json --push "$R_URL" --commit new --branch main --time $NOW 2>/dev/null
serve_stop "$R_PID"
serve_start R "$KILN" --storage keep --retention 1h || exit 0
json_check "past the retention: dropped, the newer run kept" <(curl -sS "$R_URL/api/v1/bench/runs") \
	'[r["run"]["commit"] for r in d["runs"]]==["new"]'
serve_stop "$R_PID"
t_done
