#!/bin/bash
# kiln push-bench and kiln trend, the acceptance test of issue 21: a synthetic history (gen_history.py, fixed
# seed) of 200 commits of 20 benchmarks with noise, drift and outliers, with three injected step changes. All
# three must be found at the first bad commit, with at most one false alarm, and with the profiles attached
# the function made slower in each step must top the linked diff. Then the store's contract: append-only
# files, every field read back, errors.
. "$(dirname "$0")/lib.sh"
cd "$T_TMP" || exit 1
if ! command -v python3 >/dev/null; then
	t_skip "kiln trend" "python3 is needed"
	exit 0
fi

python3 "$T_DIR/gen_history.py" gen --seed 21 --step 57:3:1.12:hash_lookup --step 113:11:1.08:encode_utf8 \
	--step 161:17:1.15:sort_keys
. "$T_DIR/push_history.sh"
pushed=$(push_history gen 3600 --history hist --branch main --machine ci-1)
[ $pushed = 200 ] && t_pass "200 runs pushed" || t_fail "200 runs pushed" "only $pushed"

"$KILN" trend hist --format json -o trend.json 2>trend.err
t_ok "kiln trend writes JSON" test -s trend.json
cat >acceptance.py <<'PY'
import json, sys
t = json.load(open(sys.argv[1])); truth = json.load(open(sys.argv[2]))
found = {(s["name"], c["bad_commit"]): c for s in t["series"] for c in s["changes"]}
bad = []
for st in truth["steps"]:
    c = found.pop((st["benchmark"], st["commit"]), None)
    if c is None:
        bad.append("step at %d in %s not found" % (st["index"], st["benchmark"]))
    elif c["verdict"] != "regression":
        bad.append("step at %d is a %s" % (st["index"], c["verdict"]))
    elif not c.get("functions") or c["functions"][0]["name"] != st["function"]:
        bad.append("top function at %d: %s, expected %s" % (st["index"],
                   c.get("functions", [{}])[0].get("name"), st["function"]))
    elif abs(c["change"] - (st["factor"] - 1)) > 0.04:
        bad.append("step at %d: change %.3f, injected %.3f" % (st["index"], c["change"], st["factor"] - 1))
if len(found) > 1:
    bad.append("false alarms: %s" % sorted(found))
print("\n".join(bad)); sys.exit(1 if bad else 0)
PY
if out=$(python3 acceptance.py trend.json gen/truth.json 2>&1); then
	t_pass "three steps found at the first bad commit, top function of each diff right, <= 1 false alarm"
else
	t_fail "three steps found at the first bad commit, top function of each diff right, <= 1 false alarm" "$out"
fi
json_check "diffs carry the differential flame graph" trend.json \
	'all(c.get("graph","").lstrip().startswith("<?xml") or "<svg" in c.get("graph","")[:400] for s in d["series"] for c in s["changes"] if c["verdict"]=="regression")'
json_check "every run read back with commit, branch, machine and time" trend.json \
	'len(d["runs"])==200 and all(r["branch"]=="main" and r["machine"]=="ci-1" for r in d["runs"]) and d["runs"][5]["time"]==1700000000+5*3600'

# Other seeds, the same steps: each found at its commit with at most one false alarm. (The method before the
# placement step missed seeds 2 and 4 by a commit or two; the top function is not asserted here: a +8 % step
# moves one function's share of a single profile by about as much as Poisson noise moves the others'.)
for seed in 2 4; do
	python3 "$T_DIR/gen_history.py" s$seed --seed $seed --step 57:3:1.12:hash_lookup \
		--step 113:11:1.08:encode_utf8 --step 161:17:1.15:sort_keys
	rm -f s$seed/*.folded
	i=0
	while read -r c; do
		"$KILN" push-bench s$seed/$(printf %03d $i).json --history h$seed --commit "$c" --branch main \
			--time $((1700000000 + i * 3600)) 2>/dev/null
		i=$((i + 1))
	done < <(python3 -c "import json;print('\n'.join(json.load(open('s$seed/truth.json'))['commits']))")
	"$KILN" trend h$seed --format json -o s$seed.json 2>/dev/null
	python3 - s$seed.json s$seed/truth.json >s$seed.out 2>&1 <<'PY'
import json, sys
t = json.load(open(sys.argv[1])); truth = json.load(open(sys.argv[2]))
found = {(s["name"], c["bad_commit"]) for s in t["series"] for c in s["changes"]}
want = {(st["benchmark"], st["commit"]) for st in truth["steps"]}
assert want <= found and len(found - want) <= 1, (sorted(want - found), len(found - want))
PY
	[ $? = 0 ] && t_pass "seed $seed: the three steps at their commits, <= 1 false alarm" ||
		t_fail "seed $seed: the three steps at their commits" "$(cat s$seed.out)"
done

# A null history (no steps, the same noise): no alarm beyond one.
python3 "$T_DIR/gen_history.py" null --seed 7 --commits 120 --benchmarks 10
i=0
while [ $i -lt 120 ]; do
	f=$(printf %03d $i)
	"$KILN" push-bench null/$f.json --history nullhist --commit c$i --branch main --time $((1700000000 + i)) 2>/dev/null
	i=$((i + 1))
done
"$KILN" trend nullhist --format json -o null.json 2>/dev/null
json_check "no steps: at most one false alarm" null.json 'sum(len(s["changes"]) for s in d["series"]) <= 1'

# The page: self-contained (no URL to another host but the commit links), the data and the charts' code.
"$KILN" trend hist -o trend.html --commit-url 'https://example.org/r/commit/{commit}' 2>/dev/null
t_ok "kiln trend writes the page" grep -q 'id="data"' trend.html
# What makes a request: src/href to a URL, url(), fetch, XMLHttpRequest, @import, dynamic import (the SVG's
# namespace and DTD identifiers are names, not requests; the commit links are the user's own template).
if grep -Eo '(src|href)=\\?"(https?:)?//|url\((https?:)?//|fetch\(|XMLHttpRequest|@import|import\(' trend.html |
	grep -q .; then
	t_fail "the page makes no request" "$(grep -Eo '(src|href)=\\?"(https?:)?//|url\(|fetch\(|XMLHttpRequest' trend.html | head)"
else
	t_pass "the page makes no request"
fi

# The store: one file per run, never rewritten; two pushes of one commit are two runs.
"$KILN" push-bench gen/000.json --history dup --commit abc --branch main --machine m --time 1 2>/dev/null
"$KILN" push-bench gen/000.json --history dup --commit abc --branch main --machine m --time 1 2>/dev/null
[ "$(ls dup/runs | wc -l)" = 2 ] && t_pass "append-only: a second push adds a file" ||
	t_fail "append-only: a second push adds a file" "$(ls dup/runs)"
python3 - gen/000.json dup/runs >roundtrip.out 2>&1 <<'PY'
import json, os, sys
src = {r["command"]: r["times"] for r in json.load(open(sys.argv[1]))["results"]}
f = sorted(os.listdir(sys.argv[2]))[0]
run = json.load(open(os.path.join(sys.argv[2], f)))
got = {b["name"]: b["samples"] for b in run["benchmarks"] if b["metric"] == "time"}
assert run["commit"] == "abc" and run["branch"] == "main" and run["machine"] == "m", run
assert set(got) == set(src), (sorted(got), sorted(src))
for k in src:
    assert all(abs(a - b) <= 1e-12 * abs(b) for a, b in zip(got[k], src[k])) and len(got[k]) == len(src[k]), k
PY
[ $? = 0 ] && t_pass "samples read back intact" || t_fail "samples read back intact" "$(cat roundtrip.out)"

# compare --baseline-from: the latest run of a branch is the baseline; Markdown is a pull-request comment.
"$KILN" push-bench gen/000.json --history base --commit c000 --branch old --machine ci-1 --time 1 \
	--profile gen/000.folded 2>/dev/null
"$KILN" push-bench gen/199.json --history base --commit c199 --branch main --machine ci-1 --time 2 2>/dev/null
"$KILN" compare --baseline-from base --branch old gen/199.json --format markdown --profile gen/199.folded \
	>pr.md 2>pr.err
st=$?
[ $st = 1 ] && t_pass "baseline-from: the regressions exit 1" || t_fail "baseline-from: exit 1" "exit $st $(cat pr.err)"
# (bench11's 8 % step is within the noise of one run of 10 samples with outliers: Welch need not flag it.)
head -1 pr.md | grep -Eq '^:x: \*\*[23] regressions\*\* against `old@c000` \(ci-1\): `bench03` \+1[0-4]\.[0-9]%' && t_pass "summary line first" ||
	t_fail "summary line first" "$(head -3 pr.md)"
grep -q '^<details><summary>All benchmarks</summary>' pr.md && grep -q '| bench17 |.*regression' pr.md &&
	t_pass "the table folded in <details>" || t_fail "the table folded in <details>" "$(head -20 pr.md)"
# sort_keys took the largest share (the 15 % step), then hash_lookup and encode_utf8.
sed -n '/Top changed functions/,$p' pr.md | grep -m1 -o 'sort_keys' | grep -q . &&
	t_pass "top changed functions listed" || t_fail "top changed functions listed" "$(tail -20 pr.md)"
"$KILN" compare --baseline-from base --branch main gen/199.json --no-fail >/dev/null 2>&1 &&
	t_pass "against itself: no regression" || t_fail "against itself: no regression"
t_fails "baseline-from an unknown branch" 2 "$KILN" compare --baseline-from base --branch nope gen/199.json
t_fails "baseline-from with two files" 2 "$KILN" compare --baseline-from base gen/1.json gen/2.json

# kiln bench --history stores the runs it measured.
"$KILN" bench --runs 3 -N --history bh --commit abc --branch main --machine m --label os=linux true >/dev/null 2>&1
json_check "kiln bench --history stores its samples" "$(ls bh/runs/*.json)" \
	'd["commit"]=="abc" and d["labels"]=={"os":"linux"} and len(d["benchmarks"][0]["samples"])==3'

t_fails "push-bench without --history" 2 "$KILN" push-bench gen/000.json --commit a --branch b
t_fails "push-bench without --commit" 2 env -u GITHUB_SHA -u CI_COMMIT_SHA "$KILN" push-bench gen/000.json \
	--history h2 --branch b
t_fails "push-bench of a non-result" 2 "$KILN" push-bench gen/000.folded --history h2 --commit a --branch b
t_fails "trend of a missing directory" 2 "$KILN" trend nowhere
mkdir -p broken/runs && echo '{"schema":"kiln-bench-run/1"}' >broken/runs/x.json
t_fails "trend of a damaged run" 2 "$KILN" trend broken
t_fails "a --commit-url without {commit}" 2 "$KILN" trend hist --commit-url https://x/
t_done
