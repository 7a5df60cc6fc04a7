#!/bin/bash
# Benchmark runs in kiln serve (issue 21): push-bench --push and bench --push store runs in the server, and
# kiln trend URL / kiln compare --baseline-from URL read them as they read a directory. Every run is pushed
# to a directory and to the server at once, so the directory's answers are the ground truth: the trend of
# the server (change points, verdicts, the top function of each diff) must be the directory's, and every
# benchmark file format must read back from the server with its samples and units as the directory keeps them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
CLI=$(dirname "$T_DIR")
cd "$T_TMP" || exit 1
command -v python3 >/dev/null || { t_skip "bench runs in kiln serve" "python3 is needed"; exit 0; }

# the synthetic runs are dated 2023: no retention, or the server would refuse them (t5730 tests that)
serve_start S "$KILN" --storage store --retention 0 || exit 0

# A short synthetic history with one step whose profiles name the function made slower.
python3 "$CLI/t5600-trend.d/gen_history.py" gen --commits 40 --benchmarks 4 --seed 5 \
	--step 20:2:1.2:sort_keys
. "$CLI/t5600-trend.d/push_history.sh"
ok=$(push_history gen 60 --history dir --push "$S_URL" --branch main --machine ci-1)
[ $ok = 40 ] && t_pass "40 runs pushed to the directory and the server" || t_fail "40 runs pushed" "$(cat push.err)"
grep -q "pushed run .* to $S_URL" push.err && t_pass "the pushed run's id is printed" ||
	t_fail "the pushed run's id is printed" "$(cat push.err)"

"$KILN" trend dir --format json -o dir.json 2>/dev/null
"$KILN" trend "$S_URL" --format json -o url.json 2>url.err
cat >same.py <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
def key(t):
    return [(s["name"], s["metric"], [(c["bad_commit"], c["verdict"], round(c["change"], 9),
             [f["name"] for f in c.get("functions", [])]) for c in s["changes"]]) for s in t["series"]]
assert len(a["runs"]) == len(b["runs"]) == 40, (len(a["runs"]), len(b["runs"]))
assert [(r["commit"], r["time"]) for r in a["runs"]] == [(r["commit"], r["time"]) for r in b["runs"]]
assert key(a) == key(b), (key(a), key(b))
steps = [c for s in b["series"] for c in s["changes"] if c["verdict"] == "regression"]
truth = json.load(open("gen/truth.json"))["steps"][0]
assert [(c["bad_commit"], c["functions"][0]["name"]) for c in steps] == [(truth["commit"], "sort_keys")], steps
print(len(steps))
PY
if out=$(python3 same.py dir.json url.json 2>&1); then
	t_pass "kiln trend URL = kiln trend DIR (the step found at its commit, sort_keys on top of its diff)"
else
	t_fail "kiln trend URL = kiln trend DIR" "$out $(cat url.err)"
fi
mkdir -p tmp
TMPDIR=$T_TMP/tmp "$KILN" trend "$S_URL" -o url.html 2>/dev/null
grep -q 'sort_keys' url.html && t_pass "the page from the server links the diff" || t_fail "the page from the server"
[ -z "$(ls tmp)" ] && t_pass "the downloaded history is removed" || t_fail "the downloaded history is removed" "$(ls tmp)"

# compare --baseline-from URL: the same comment as from the directory.
last=$(tail -1 gen/commits.txt)
"$KILN" compare --baseline-from dir --branch main gen/039.json --format markdown --profile gen/039.folded \
	--no-fail >dir.md 2>/dev/null
"$KILN" compare --baseline-from "$S_URL" --branch main gen/039.json --format markdown --profile gen/039.folded \
	--no-fail >url.md 2>url.err
t_same "compare --baseline-from URL = --baseline-from DIR" dir.md url.md
grep -q "main@${last:0:12}" url.md && t_pass "the baseline is the branch's latest run" ||
	t_fail "the baseline is the branch's latest run" "$(head -3 url.md)"
t_fails "baseline-from a branch the server lacks" 2 "$KILN" compare --baseline-from "$S_URL" --branch nope gen/039.json

# Every format reads back from the server as the directory store keeps it (samples and units).
B=$(cd "$CLI/../fixtures/bench" && pwd)
n=0
for f in hyperfine.json gbench-1.2.json gbench-aggregates.json pytest-head.json go-1.2.txt criterion-head; do
	n=$((n + 1))
	"$KILN" push-bench "$B/$f" --history fmt$n --push "$S_URL" --commit f$n --branch fmt-$n --machine m \
		--time 1 2>/dev/null || { t_fail "push $f"; continue; }
	curl -sS "$S_URL/api/v1/bench/runs?branch=fmt-$n" >srv$n.json
	if out=$(python3 - fmt$n/runs srv$n.json <<'PY' 2>&1
import json, os, sys
d = json.load(open(os.path.join(sys.argv[1], os.listdir(sys.argv[1])[0])))
s = json.load(open(sys.argv[2]))["runs"]
assert len(s) == 1, len(s)
s = s[0]["run"]
assert d["source_format"] == s["source_format"], (d["source_format"], s["source_format"])
assert d["benchmarks"] == s["benchmarks"], "benchmarks differ"
print(d["source_format"], len(d["benchmarks"]), sum(len(b.get("samples", [])) for b in d["benchmarks"]))
PY
	); then
		t_pass "$f reads back intact ($out)"
	else
		t_fail "$f reads back intact" "$out"
	fi
done

# kiln bench --push, and the endpoints' errors.
"$KILN" bench --runs 3 -N --push "$S_URL" --commit b1 --branch bench --machine m true >/dev/null 2>bench.err
json_check "kiln bench --push stores its samples" <(curl -sS "$S_URL/api/v1/bench/runs?branch=bench") \
	'len(d["runs"])==1 and len(d["runs"][0]["run"]["benchmarks"][0]["samples"])==3 and d["runs"][0]["profile"] is None'
code=$(http_code bad.out -X POST -H 'Content-Type: application/json' --data '{"schema":"x"}' "$S_URL/api/v1/bench/runs")
[ "$code" = 400 ] && grep -q 'not a kiln benchmark run' bad.out && t_pass "a bad run is refused with 400" ||
	t_fail "a bad run is refused with 400" "$code $(cat bad.out)"
code=$(http_code nf.out "$S_URL/api/v1/bench/profile?id=nope")
[ "$code" = 404 ] && t_pass "an unknown profile is 404" || t_fail "an unknown profile is 404" "$code"
t_fails "push to a server that is not there" 2 "$KILN" push-bench "$B/hyperfine.json" --push http://127.0.0.1:1 \
	--commit a --branch b
t_fails "--push needs a URL" 2 "$KILN" push-bench "$B/hyperfine.json" --push dir --commit a --branch b
t_fails "trend of a server that is not there" 2 "$KILN" trend http://127.0.0.1:1
serve_stop "$S_PID" && t_pass "the server stops cleanly" || t_fail "the server stops cleanly"
t_done
