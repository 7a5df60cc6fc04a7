#!/bin/bash
# Benchmark runs in kiln serve on PostgreSQL (issue 21): the same history pushed at once to a SQLite server
# and to one on a throw-away PostgreSQL cluster (scripts/pg-cluster.sh) reads back the same from both: every
# run document with its samples and units byte for byte, the trend (change points, verdicts), the profiles
# and the diff behind the regression (the slowed function on top); the caps answer 429 there too, and a
# server started with a retention drops the runs past it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
. "$(dirname "$0")/pg_lib.sh"
CLI=$(dirname "$T_DIR")
command -v python3 >/dev/null || { t_skip "bench runs on PostgreSQL" "python3 is needed"; exit 0; }

PGDIR=$(mktemp -d /tmp/kiln-pgb.XXXXXX)
chmod 755 "$PGDIR"
cleanup() { "$KILN_ROOT/scripts/pg-cluster.sh" stop "$PGDIR/c"; rm -rf "$PGDIR"; }
trap cleanup EXIT
pg_start URL "$PGDIR/c" || exit 0
cd "$T_TMP" || exit 1

# the synthetic runs are dated 2023: no retention until the end
serve_start P "$KILN" --storage "$URL" --retention 0 --max-bench-runs 47 || exit 0
serve_start Q "$KILN" --storage sqlite --retention 0 || exit 0

python3 "$CLI/t5600-trend.d/gen_history.py" gen --commits 40 --benchmarks 4 --seed 11 --step 22:3:1.2:hash_lookup
. "$CLI/t5600-trend.d/push_history.sh"
ok=$(($(push_history gen 60 --push "$P_URL" --branch main --machine ci-1) +
	$(push_history gen 60 --push "$Q_URL" --branch main --machine ci-1)))
B=$(cd "$CLI/../fixtures/bench" && pwd)
for f in hyperfine.json gbench-1.2.json pytest-head.json go-1.2.txt criterion-head; do
	for u in "$P_URL" "$Q_URL"; do
		"$KILN" push-bench "$B/$f" --push "$u" --commit "$f" --branch formats --machine m --time 1700009999 \
			2>>push.err && ok=$((ok + 1))
	done
done
[ $ok = 90 ] && t_pass "45 runs pushed to each server" || t_fail "45 runs pushed to each server" "$ok $(cat push.err)"

for s in P Q; do
	u=$(eval echo "\$${s}_URL")
	curl -sS "$u/api/v1/bench/runs" >runs-$s.json
	curl -sS "$u/api/v1/bench/trend" >trend-$s.json
done
cat >same.py <<'PY'
import json
p, q = (json.load(open("runs-%s.json" % s))["runs"] for s in "PQ")
assert len(p) == len(q) == 45, (len(p), len(q))
# the documents as pushed: samples, units, formats
assert [r["run"] for r in p] == [r["run"] for r in q], "documents differ"
assert [r["profile"] is None for r in p] == [r["profile"] is None for r in q]
fmts = sorted({r["run"]["source_format"] for r in p})
tp, tq = (json.load(open("trend-%s.json" % s)) for s in "PQ")
key = lambda t: [(s["name"], s["centre"], [(c["bad_commit"], c["verdict"], c["change"]) for c in s["changes"]])
                 for s in t["series"]]
assert key(tp) == key(tq), "trends differ"
print(" ".join(fmts))
PY
out=$(python3 same.py 2>&1) && t_pass "PostgreSQL = SQLite: every run document, every format ($out), the trend" ||
	t_fail "PostgreSQL = SQLite" "$out"

# the diff of the injected step's runs (the commit before it and its own), from each server
ids() {
	python3 - "$1" <<'PY'
import json, sys
t = json.load(open("gen/truth.json")); s = t["steps"][0]
runs = {r["run"]["commit"]: r["id"] for r in json.load(open(sys.argv[1]))["runs"] if r["run"]["branch"] == "main"}
print(runs[t["commits"][s["index"] - 1]], runs[s["commit"]])
PY
}
read -r good bad <<<"$(ids runs-P.json)"
read -r qgood qbad <<<"$(ids runs-Q.json)"
curl -sS "$P_URL/api/v1/bench/diff?before=$good&after=$bad" >diff-P.json
curl -sS "$Q_URL/api/v1/bench/diff?before=$qgood&after=$qbad" >diff-Q.json
json_check "the step's diff from PostgreSQL: hash_lookup on top" diff-P.json 'd["functions"][0]["name"]=="hash_lookup"'
t_same "the step's diff from PostgreSQL = from SQLite" diff-P.json diff-Q.json
curl -sS "$P_URL/api/v1/bench/profile?id=$bad" >p.prof
n=$(python3 -c 'import json; d=json.load(open("trend-P.json")); print([i for i,r in enumerate(d["runs"]) if r["id"]=="'"$bad"'"][0])')
t_same "a stored profile reads back byte for byte" p.prof "gen/$(printf %03d "$n").folded"

t_ok "run 46 of --max-bench-runs 47" "$KILN" push-bench gen/000.json --push "$P_URL" --commit x --branch cap --time 1700000000
t_ok "run 47 of --max-bench-runs 47" "$KILN" push-bench gen/000.json --push "$P_URL" --commit y --branch cap --time 1700000000
code=$(http_code e.out -X POST -H 'Content-Type: application/json' --data "$(python3 -c 'import json; print(json.dumps(json.load(open("runs-P.json"))["runs"][0]["run"]))')" \
	"$P_URL/api/v1/bench/runs")
[ "$code" = 429 ] && grep -q -- '--max-bench-runs' e.out && t_pass "run 48: 429 naming the limit" || t_fail "run 48: 429" "$code $(cat e.out)"
serve_stop "$P_PID"
serve_stop "$Q_PID"

# a server with a retention drops the 2023 runs from the database when it starts
serve_start R "$KILN" --storage "$URL" --retention 1h || exit 0
json_check "past the retention: dropped from PostgreSQL" <(curl -sS "$R_URL/api/v1/bench/runs") 'd["runs"]==[]'
t_ok "a run of now is stored" "$KILN" push-bench gen/000.json --push "$R_URL" --commit now --branch main \
	--time "$(date +%s)"
json_check "and reads back" <(curl -sS "$R_URL/api/v1/bench/runs") '[r["run"]["commit"] for r in d["runs"]]==["now"]'
serve_stop "$R_PID"
t_done
