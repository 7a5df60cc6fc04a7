#!/bin/bash
# The trend view in a browser (issue 21): the static page of `kiln trend -o page.html` and kiln serve's trend
# view (/ui/trend) draw the same history, one pushed at once to a directory and to the server, with Debian's
# Chromium (playwright-core, tests/web/trend-check.js). The expected numbers come from `kiln trend DIR
# --format json` and from gen_history.py's truth (the step's commit and the function made slower): charts
# drawn per series of the chosen branch and machine, with a point per run and the change points; drag-to-zoom
# narrows a chart and a double click restores it; the branch filter; a click on the regression opens its diff
# with the slowed function on top and the differential flame graph; no console error, no request to any
# other host. Also the endpoints behind the view: /api/v1/bench/trend and /api/v1/bench/diff.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
CLI=$(dirname "$T_DIR")
cd "$T_TMP" || exit 1
command -v python3 >/dev/null || { t_skip "trend view" "python3 is needed"; exit 0; }

serve_start S "$KILN" --storage store --retention 0 || exit 0

python3 "$CLI/t5600-trend.d/gen_history.py" gen --commits 40 --benchmarks 4 --seed 9 --step 24:1:1.25:encode_utf8
. "$CLI/t5600-trend.d/push_history.sh"
ok=$(push_history gen 60 --history dir --push "$S_URL" --branch main --machine ci-1)
# a second branch on another machine: the filters must tell them apart
for i in 0 1 2 3 4 5; do
	"$KILN" push-bench gen/00$i.json --history dir --push "$S_URL" --commit "dev$i" --branch dev --machine ci-2 \
		--time $((1700100000 + i)) 2>>push.err && ok=$((ok + 1))
done
[ $ok = 46 ] && t_pass "46 runs pushed to the directory and the server" || t_fail "46 runs pushed" "$(cat push.err)"

"$KILN" trend dir --format json -o dir.json 2>/dev/null
"$KILN" trend dir -o trend.html --commit-url 'https://example.org/r/commit/{commit}' 2>/dev/null
curl -sS "$S_URL/api/v1/bench/trend" >srv.json
cat >same.py <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
key = lambda t: [(s["name"], s["branch"], s["machine"], s["centre"], s["lo"], s["hi"],
                  [(c["good_commit"], c["bad_commit"], c["verdict"], c["p"], c["change"]) for c in s["changes"]])
                 for s in t["series"]]
assert key(a) == key(b), "the series differ"
assert [r["commit"] for r in a["runs"]] == [r["commit"] for r in b["runs"]]
assert all(r["id"] and r["profile"] == (r["branch"] == "main") for r in b["runs"]), "run ids and profile flags"
print(sum(len(s["changes"]) for s in b["series"]))
PY
out=$(python3 same.py dir.json srv.json 2>&1) && t_pass "/api/v1/bench/trend = kiln trend DIR ($out changes)" ||
	t_fail "/api/v1/bench/trend = kiln trend DIR" "$out"
# the diff endpoint: the change's runs by id; the slowed function on top, as kiln trend DIR found it
read -r good bad <<<"$(python3 -c '
import json; d = json.load(open("srv.json"))
c = [c for s in d["series"] for c in s["changes"] if c["verdict"] == "regression"][0]
print(d["runs"][c["good_run"]]["id"], d["runs"][c["bad_run"]]["id"])')"
curl -sS "$S_URL/api/v1/bench/diff?before=$good&after=$bad" >diff.json
json_check "/api/v1/bench/diff: encode_utf8 tops the table" diff.json \
	'd["functions"][0]["name"]=="encode_utf8" and d["functions"][0]["delta_pct"]>0'
python3 - dir.json diff.json >fns.out 2>&1 <<'PY'
import json, sys
t, d = (json.load(open(f)) for f in sys.argv[1:3])
c = [c for s in t["series"] for c in s["changes"] if c["verdict"] == "regression"][0]
want = [(f["name"], round(f["delta_pct"], 9)) for f in c["functions"]]
got = [(f["name"], round(f["delta_pct"], 9)) for f in d["functions"]][:len(want)]
assert want == got, (want, got)
PY
[ $? = 0 ] && t_pass "the server's diff = kiln trend DIR's diff of that change" || t_fail "the server's diff" "$(cat fns.out)"
code=$(http_code diff.svg "$S_URL/api/v1/bench/diff?before=$good&after=$bad&format=svg")
[ "$code" = 200 ] && grep -q '<svg' diff.svg && grep -q encode_utf8 diff.svg &&
	t_pass "/api/v1/bench/diff?format=svg: the differential flame graph" || t_fail "diff as SVG" "$code"
code=$(http_code e.out "$S_URL/api/v1/bench/diff?before=$good")
[ "$code" = 400 ] && t_pass "diff without after: 400" || t_fail "diff without after: 400" "$code $(cat e.out)"
dev=$(python3 -c 'import json; print([r["id"] for r in json.load(open("srv.json"))["runs"] if r["branch"]=="dev"][0])')
code=$(http_code e.out "$S_URL/api/v1/bench/diff?before=$good&after=$dev")
[ "$code" = 404 ] && grep -q 'with a profile' e.out && t_pass "diff of a run without a profile: 404" ||
	t_fail "diff of a run without a profile: 404" "$code $(cat e.out)"
code=$(http_code e.out "$S_URL/api/v1/bench/trend?window=1")
[ "$code" = 400 ] && t_pass "trend with a bad window: 400" || t_fail "trend with a bad window: 400" "$code $(cat e.out)"

# ---- in the browser ----
[ -x /usr/bin/chromium ] || { t_skip "trend view in Chromium" "/usr/bin/chromium is not installed"; serve_stop "$S_PID"; exit 0; }
if ! "$KILN_ROOT/scripts/install-web-test.sh" >npm.log 2>&1; then
	t_skip "trend view in Chromium" "cannot install playwright-core with npm: $(tail -1 npm.log)"
	serve_stop "$S_PID"
	exit 0
fi
NODE_PATH="$KILN_ROOT/build/npm-web/node_modules" timeout 240 node "$KILN_ROOT/tests/web/trend-check.js" "$S_URL" \
	"$T_TMP" dir.json gen/truth.json >browser.log 2>&1
while IFS= read -r line; do
	case $line in
	"ok "*) t_pass "${line#ok }" ;;
	"FAIL "*) t_fail "${line#FAIL }" "" ;;
	esac
done <browser.log
grep -q '^ok ui: no console errors$' browser.log && grep -q '^ok static: no console errors$' browser.log ||
	t_fail "the browser run finished" "$(tail -5 browser.log)"
serve_stop "$S_PID"
t_done
