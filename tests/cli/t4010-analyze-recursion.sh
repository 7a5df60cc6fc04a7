#!/bin/bash
# kiln analyze through recursion and deep stacks: inclusive totals, the hot path, --detailed callers/callees
# and the recursion rule against a ground truth computed here from the folded text (each sample once per
# function, as pprof's cum; loops erased for the hot path), against `go tool pprof -top -cum` when go is
# installed, and on a live capture of a recursive C program (tests/helpers/recurse_hot.c) whose leaf's share
# it measures itself. Then analyze, flamegraph and diff on one stack of 200,000 frames: linear, not quadratic.
. "$(dirname "$0")/lib.sh"

H=$KILN_BUILD/tests/helpers
cd "$T_TMP" || exit 1

if ! command -v python3 >/dev/null 2>&1; then
	t_skip "kiln analyze through recursion" "python3 is not installed"
	exit 0
fi

# ---- inputs: recursion at every depth from 1 to 40 under a leaf hotspot; mutual recursion; random stacks ----
python3 - <<'EOF'
import random
with open("fib.folded", "w") as f:
    for d in range(1, 41):
        s = "prog;main" + ";fib" * d
        f.write(f"{s} 5\n{s};hot 8\n")
    f.write("prog;main;fib;hot;irq;tick 1\n")
with open("mutual.folded", "w") as f:
    f.write("main;eval;apply;eval;apply;eval;apply;prim 70\nmain;eval;apply;prim 10\nmain;eval;apply;eval 20\n")
random.seed(7)
with open("random.folded", "w") as f:
    for _ in range(300):
        f.write(";".join(random.choice("abcdef") for _ in range(random.randint(1, 14))) +
                f" {random.randint(1, 40)}\n")
EOF

# truth.py FOLDED: the expected hotspots (self, cum), hot path and caller/callee pairs, as JSON
cat >truth.py <<'EOF'
import json, sys
stacks = []
for line in open(sys.argv[1]):
    s, c = line.rsplit(None, 1)
    stacks.append((s.split(";"), int(c)))
total = sum(c for _, c in stacks)
self, cum, pair = {}, {}, {}
for fr, c in stacks:
    self[fr[-1]] = self.get(fr[-1], 0) + c
    for f in set(fr):
        cum[f] = cum.get(f, 0) + c
    for e in set(zip(["(root)"] + fr[:-1], fr)):
        pair[e] = pair.get(e, 0) + c
# loop erasure: when a function comes back, drop the frames since its earlier place
erased = []
for fr, c in stacks:
    le = []
    for f in fr:
        le = le[:le.index(f) + 1] if f in le else le + [f]
    erased.append((le, c))
path, steps = [], []
while True:
    under, own = {}, 0
    for le, c in erased:
        if le[:len(path)] != path:
            continue
        if len(le) == len(path):
            own += c
        else:
            under[le[len(path)]] = under.get(le[len(path)], 0) + c
    if not under:
        break
    best = max(under.values())
    if path and best <= own:
        break
    nxt = sorted(f for f in under if under[f] == best)
    path.append(nxt[0])
    steps.append({"function": nxt[0], "total": best, "tied": nxt})
json.dump({"total": total, "self": self, "cum": cum, "steps": steps,
           "pairs": [[a, b, v] for (a, b), v in pair.items()]}, sys.stdout)
EOF

# compare FOLDED: kiln's JSON against truth.py, every function and every hot path step
compare() {
	local desc=$1 f=$2
	"$KILN" analyze "$f" --json --detailed --threshold 0 --top 1000000 >"$f.json" 2>"$f.err" ||
		{ t_fail "$desc" "$(cat "$f.err")"; return; }
	python3 truth.py "$f" >"$f.truth"
	if out=$(python3 - "$f.json" "$f.truth" <<'EOF'
import json, sys
d, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad = []
if d["total"] != t["total"]:
    bad.append(f"total {d['total']} != {t['total']}")
inc = {f["function"]: f for f in d["inclusive"]}
for fn, v in t["cum"].items():
    if fn not in inc or inc[fn]["total"] != v or abs(inc[fn]["total_pct"] - 100 * v / t["total"]) > 1e-3:
        bad.append(f"{fn}: total {inc.get(fn, {}).get('total')} != {v}")
hp = d["hot_path"]
if len(hp) != len(t["steps"]):
    bad.append(f"hot path has {len(hp)} steps, want {len(t['steps'])}: {[s['function'] for s in hp]}")
for s, w in zip(hp, t["steps"]):
    if s["function"] not in w["tied"] or s["total"] != w["total"]:
        bad.append(f"step {s['function']} {s['total']} != {w['function']} {w['total']}")
pairs = {(a, b): v for a, b, v in t["pairs"]}
for h in d["hotspots"]:
    for c in h["callers"]:
        if pairs.get((c["function"], h["function"])) != c["value"]:
            bad.append(f"{c['function']} -> {h['function']}: {c['value']} != {pairs.get((c['function'], h['function']))}")
    for c in h["callees"]:
        if pairs.get((h["function"], c["function"])) != c["value"]:
            bad.append(f"{h['function']} -> {c['function']}: {c['value']} != {pairs.get((h['function'], c['function']))}")
print("; ".join(bad[:6]))
sys.exit(1 if bad else 0)
EOF
	); then t_pass "$desc"; else t_fail "$desc" "$out"; fi
}
compare "recursion at depths 1-40: totals, hot path, callers/callees equal the ground truth" fib.folded
compare "mutual recursion (eval/apply): totals, hot path, callers/callees equal the ground truth" mutual.folded
compare "300 random stacks over 6 functions: totals, hot path, callers/callees equal the ground truth" random.folded

# ---- the recursive program's numbers, exactly ----
"$KILN" analyze fib.folded --json >fib.json
python3 - fib.json >fib.check <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
hp = [(s["function"], s["total"], s["recursion_depth"]) for s in d["hot_path"]]
rec = [r for r in d["recommendations"] if r["rule"] == "recursion"]
hot = [h for h in d["hotspots"] if h["function"] == "hot"][0]
ok = (hp == [("prog", 521, 1), ("main", 521, 1), ("fib", 521, 40), ("hot", 321, 1)]
      and abs(d["hot_path"][-1]["total_pct"] - hot["total_pct"]) < 1e-9
      and rec and rec[0]["evidence"]["value"] == d["hot_path"][2]["total"]
      and rec[0]["evidence"]["inside"][0]["function"] == "hot"
      and abs(rec[0]["evidence"]["inside"][0]["pct"] - hot["self_pct"]) < 1e-9)
print(hp, rec and rec[0]["evidence"])
sys.exit(0 if ok else 1)
EOF
[ $? = 0 ] && t_pass "hot path steps over fib once (depth 40) and ends at hot with its full 61.6 %; the rule agrees" ||
	t_fail "hot path steps over fib once (depth 40) and ends at hot with its full 61.6 %; the rule agrees" \
		"$(cat fib.check)"
t_exact fib-text -- "$KILN" analyze fib.folded
t_exact fib-detailed-markdown -- "$KILN" analyze fib.folded --detailed --format markdown

# ---- go tool pprof -top -cum agrees on every function ----
if command -v go >/dev/null 2>&1 && go tool pprof -h >/dev/null 2>&1; then
	for f in fib mutual random; do
		"$KILN" convert $f.folded -o $f.pb.gz 2>/dev/null
		HOME=$T_TMP go tool pprof -top -cum -nodefraction=0 -nodecount=100000 $f.pb.gz >$f.pprof 2>/dev/null
		if out=$(python3 - $f.pprof $f.folded.json <<'EOF'
import json, re, sys
cum = {}
for line in open(sys.argv[1]):
    m = re.match(r"\s*(\d+)\s+\S+%\s+\S+%\s+(\d+)\s+\S+%\s+(.+?)\s*$", line)
    if m:
        cum[m.group(3)] = int(m.group(2))
d = json.load(open(sys.argv[2]))
kiln = {f["function"]: f["total"] for f in d["inclusive"]}
bad = [f"{k}: pprof {v}, kiln {kiln.get(k)}" for k, v in cum.items() if kiln.get(k) != v]
print("; ".join(bad[:5]) or f"{len(cum)} functions")
sys.exit(1 if bad or not cum or len(cum) != len(kiln) else 0)
EOF
		); then t_pass "go tool pprof -top -cum agrees with kiln analyze on $f.folded ($out)"
		else t_fail "go tool pprof -top -cum agrees with kiln analyze on $f.folded" "$out"; fi
	done
else
	t_skip "go tool pprof -top -cum comparison" "go is not installed"
fi

# ---- live: a recursive C program whose leaf takes about 60 % ----
# The hot path must end at leaf_work with its share as the hotspot table has it, within 5 points of the share the
# program measured (sampling noise on a busy machine; typically under 1), and the recursion rule must give
# leaf_work's self share inside the recursion as the hot path's last step does.
if [ -x "$H/recurse_hot" ] && "$KILN" profile -q -o probe.pb.gz -- true 2>probe.err; then
	"$KILN" profile -q -o rh.pb.gz -- "$H/recurse_hot" 1.5 >rh.truth 2>rh.err
	"$KILN" analyze rh.pb.gz --json >rh.json
	if out=$(python3 - rh.json rh.truth <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
truth = float([l.split()[2] for l in open(sys.argv[2]) if l.startswith("share leaf_work")][0])
hp = d["hot_path"]
walk = [s for s in hp if s["function"] == "walk"]
leaf = [h for h in d["hotspots"] if h["function"] == "leaf_work"]
rec = [r for r in d["recommendations"] if r["rule"] == "recursion"]
inside = rec and [f for f in rec[0]["evidence"]["inside"] if f["function"] == "leaf_work"]
msg = f"truth {truth}; hot path {[(s['function'], s['total_pct'], s['recursion_depth']) for s in hp]}; " \
      f"leaf self {leaf and leaf[0]['self_pct']}; rule: inside {inside and inside[0]['pct']}"
ok = (len(walk) == 1 and walk[0]["recursion_depth"] >= 20 and hp[-1]["function"] == "leaf_work"
      and leaf and abs(hp[-1]["total_pct"] - leaf[0]["total_pct"]) < 1e-9
      and abs(hp[-1]["total_pct"] - truth) <= 5 and inside and abs(inside[0]["pct"] - hp[-1]["self_pct"]) < 1e-3)
print(msg)
sys.exit(0 if ok else 1)
EOF
	); then t_pass "live recursive program: walk once, ends at leaf_work with its measured share ($out)"
	else t_fail "live recursive program: walk once, ends at leaf_work with its measured share" "$out"; fi
else
	t_skip "live recursive program" "cannot sample here: $(head -1 probe.err 2>/dev/null)"
fi

# ---- deep stacks: one stack of 20,000 and of 200,000 frames ----
deep() { # FRAMES: a cycle through 50 functions and a stack of distinct ones
	python3 -c "
import sys
n = int(sys.argv[1])
print(';'.join(['main'] + ['f%d' % (i % 50) for i in range(n)]), 10)
print(';'.join(['main'] + ['g%d' % i for i in range(n)]), 5)" "$1" >deep$1.folded
}
deep 20000
deep 200000
cpu_time() { # CMD...: user+sys seconds
	/usr/bin/time -f '%U %S' -o time.out "$@" >/dev/null 2>&1
	awk '{ print $1 + $2 }' time.out
}
if [ -x /usr/bin/time ]; then
	t20=$(cpu_time "$KILN" analyze deep20000.folded)
	t200=$(cpu_time "$KILN" analyze deep200000.folded)
	# Linear: 10x the frames take about 10x the time (quadratic was 80x); loose bounds for a busy machine.
	if awk -v a="$t20" -v b="$t200" 'BEGIN { r = b / (a > 0.01 ? a : 0.01); exit !(r < 20 && b < 30) }'; then
		t_pass "analyze: 200,000 frames take $t200 s, 20,000 take $t20 s (ratio < 20)"
	else
		t_fail "analyze: 200,000 frames take $t200 s, 20,000 take $t20 s (ratio < 20)"
	fi
else
	t_skip "analyze time on deep stacks" "/usr/bin/time is not installed"
fi
"$KILN" analyze deep200000.folded --json >deep.json
json_ok=$(python3 -c "
import json
d = json.load(open('deep.json'))
hp = d['hot_path']
print(int(d['max_depth'] == 200001 and len(hp) == 51 and hp[1]['recursion_depth'] == 4000 and hp[-1]['total'] == 10))")
[ "$json_ok" = 1 ] && t_pass "200,000 frames: the 50-function cycle is one fold, 4,000 deep" ||
	t_fail "200,000 frames: the 50-function cycle is one fold, 4,000 deep" "$(head -c 400 deep.json)"
t_ok "flamegraph of a 200,000-frame stack" "$KILN" flamegraph deep200000.folded -o deep.svg
t_ok "diff of a 200,000-frame stack" "$KILN" diff deep20000.folded deep200000.folded -o deep-diff.svg
t_done
