#!/bin/bash
# kiln analyze, diff and flamegraph on counts near 2^63 (folded, pprof, gperftools' legacy format): totals
# saturate instead of wrapping, no negative total, no share above 100 %, one warning on stderr and never in an
# output file. Then idle CPU time of system-wide profiles: reported apart and left out of the hotspots, on
# folded stacks, on a real `perf record -a` capture and live with `kiln profile -a`.
. "$(dirname "$0")/lib.sh"

FIX=$KILN_ROOT/tests/fixtures
H=$KILN_BUILD/tests/helpers
cd "$T_TMP" || exit 1

if ! command -v python3 >/dev/null 2>&1; then
	t_skip "extreme counts and idle time" "python3 is not installed"
	exit 0
fi
WARN="kiln: warning: totals saturated at 2^63-1; shares are approximate"

# ---- inputs near 2^63 ----
printf 'main;a 4000000000000000000\nmain;b 4000000000000000000\nmain;b;c 4000000000000000000\nmain;b;c 4000000000000000000\n' \
	>big.folded
printf 'main;a 3\nmain;b 5\nmain;b;c 2\n' >small.folded
"$KILN" convert big.folded -o big.pb.gz 2>/dev/null
# gperftools' legacy CPU profile: header (0, 3, 0, period 1000 us, 0), records (count, depth, pcs), trailer
python3 - <<'EOF'
import struct
w = lambda *v: struct.pack("<%dQ" % len(v), *v)
d = w(0, 3, 0, 1000, 0)
d += w(0x7000000000000000, 2, 0x401000, 0x402000)
d += w(0x7000000000000000, 2, 0x401000, 0x403000)
d += w(0x6fffffffffffffff, 3, 0x401000, 0x402000, 0x404000)
d += w(0, 1, 0)
open("big-legacy.prof", "wb").write(d)
EOF

# no_negative_or_over_100 DESC FILE: no number printed negative, no percentage above 100
no_negative_or_over_100() {
	if out=$(python3 - "$2" <<'EOF'
import re, sys
t = open(sys.argv[1], errors="replace").read()
neg = re.findall(r"(?<![\w^.])-\d[\d,]*(?:\.\d+)?", t)
over = [p for p in re.findall(r"(\d[\d,]*(?:\.\d+)?)\s*%", t) if float(p.replace(",", "")) > 100.0001]
pct = [v for v in re.findall(r'"(?:\w*_)?pct"\s*:\s*(-?[\d.e+-]+)', t) if not 0 <= float(v) <= 100.0001]
tot = [v for v in re.findall(r'"(?:total|value|self|before|after)"\s*:\s*(-[\d]+)', t)]
print(neg[:3], over[:3], pct[:3], tot[:3])
sys.exit(1 if neg or over or pct or tot else 0)
EOF
	); then t_pass "$1"; else t_fail "$1" "$out"; fi
}
# warned_once DESC ERRFILE [PATTERN]: exactly one warning line
warned_once() {
	local n; n=$(grep -c "^kiln: warning: " "$2")
	if [ "$n" = 1 ] && grep -q "${3:-$WARN}" "$2"; then t_pass "$1"; else t_fail "$1" "$(head -3 "$2")"; fi
}

for f in big.folded big.pb.gz big-legacy.prof; do
	"$KILN" analyze $f >$f.txt 2>$f.err; st=$?
	[ $st = 0 ] && t_pass "analyze $f: exit 0" || t_fail "analyze $f: exit 0" "exit $st: $(head -2 $f.err)"
	no_negative_or_over_100 "analyze $f: no negative total, no share above 100 %" $f.txt
	warned_once "analyze $f: one warning on stderr" $f.err
	"$KILN" analyze $f --json --detailed >$f.json 2>/dev/null
	no_negative_or_over_100 "analyze $f --json --detailed: no negative value, every pct in [0, 100]" $f.json
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d['saturated'] and d['total']==2**63-1 else 1)" \
		$f.json && t_pass "analyze $f --json: total saturated at 2^63-1, said so" ||
		t_fail "analyze $f --json: total saturated at 2^63-1, said so" "$(head -c 300 $f.json)"
done
"$KILN" analyze big.folded -o report.txt 2>report.err
if ! grep -q warning report.txt && grep -q "$WARN" report.err; then
	t_pass "the warning goes to stderr, never into the -o file"
else
	t_fail "the warning goes to stderr, never into the -o file" "$(grep warning report.txt)"
fi
"$KILN" analyze small.folded >small.txt 2>small.err
[ ! -s small.err ] && t_pass "ordinary counts: no warning" || t_fail "ordinary counts: no warning" "$(cat small.err)"

for pair in "big.folded small.folded" "small.folded big.folded" "big.pb.gz big-legacy.prof"; do
	set -- $pair
	"$KILN" diff "$1" "$2" >diff.txt 2>diff.err; st=$?
	[ $st = 0 ] && t_pass "diff $1 $2: exit 0" || t_fail "diff $1 $2: exit 0" "exit $st: $(head -2 diff.err)"
	# DELTA and CHANGE (the change of the count, a single number here) are signed
	sed -E 's/^( +[0-9.]+ +[0-9.]+) +[-+][0-9.]+( +[0-9,]+ +[0-9,]+) +[-+]?/\1\2 /' diff.txt >diff-unsigned.txt
	no_negative_or_over_100 "diff $1 $2: no negative total, no share above 100 %" diff-unsigned.txt
	warned_once "diff $1 $2: one warning on stderr" diff.err
	"$KILN" diff "$1" "$2" --json >diff.json 2>/dev/null
	python3 - diff.json <<'EOF' && t_pass "diff $1 $2 --json: totals and shares in range" ||
import json, sys
d = json.load(open(sys.argv[1]))
ok = d["before"]["total"] >= 0 and d["after"]["total"] >= 0 and all(
    0 <= f[k] <= 100.0001 for f in d["functions"] for k in ("before_pct", "after_pct"))
sys.exit(0 if ok else 1)
EOF
		t_fail "diff $1 $2 --json: totals and shares in range" "$(head -c 400 diff.json)"
	"$KILN" diff "$1" "$2" -o diff.svg >/dev/null 2>&1
	grep -o '<title>[^<]*' diff.svg | sed 's/change: [^)]*//' >diff-titles.txt # changes are signed
	no_negative_or_over_100 "diff $1 $2 -o diff.svg: no negative count, no share above 100 %" diff-titles.txt
done

for f in big.folded big.pb.gz big-legacy.prof; do
	"$KILN" flamegraph $f -o $f.svg 2>fg.err; st=$?
	[ $st = 0 ] && t_pass "flamegraph $f: exit 0" || t_fail "flamegraph $f: exit 0" "exit $st: $(head -2 fg.err)"
	grep -o '<title>[^<]*' $f.svg >titles.txt
	no_negative_or_over_100 "flamegraph $f: no negative count, no share above 100 %" titles.txt
	warned_once "flamegraph $f: one warning on stderr" fg.err "totals exceed 2^63-1"
	grep -q warning $f.svg && t_fail "flamegraph $f: no warning in the SVG" || t_pass "flamegraph $f: no warning in the SVG"
done
# The graph sums in floating point: the widths stay exact in proportion (c holds 2/3 of the 4 x 4e18 + ... total)
if grep -q '<title>c (8,000,000,000,000,000,000 samples, 50.00%)' big.folded.svg; then
	t_pass "flamegraph keeps the proportions past 2^63"
else
	t_fail "flamegraph keeps the proportions past 2^63" "$(grep -o '<title>c [^<]*' big.folded.svg)"
fi

# ---- idle CPU time ----
cat >idle.folded <<'EOF'
swapper;secondary_startup_64;start_secondary;cpu_startup_entry;do_idle;cpuidle_enter;cpuidle_enter_state;intel_idle 500
swapper;x86_64_start_kernel;start_kernel;rest_init;cpu_startup_entry;do_idle;default_idle_call;default_idle;pv_native_safe_halt 250
swapper/1;do_idle;poll_idle 50
app;main;compute 150
app;main;parse 50
EOF
"$KILN" analyze idle.folded --json >idle.json
python3 - idle.json <<'EOF' && t_pass "folded idle stacks: idle 80 % reported apart; compute 75 % and parse 25 % are the hotspots" ||
import json, sys
d = json.load(open(sys.argv[1]))
hot = [(h["function"], h["self_pct"]) for h in d["hotspots"]]
sys.exit(0 if d["idle"] == {"value": 800, "pct": 80} and d["total"] == 200 and hot == [("compute", 75), ("parse", 25)]
         and d["hot_path"][0]["function"] == "app" else 1)
EOF
	t_fail "folded idle stacks: idle 80 % reported apart; compute 75 % and parse 25 % are the hotspots" "$(head -c 500 idle.json)"
"$KILN" analyze idle.folded >idle.txt
grep -q '^idle: 80.00% of CPU samples (800, left out of hotspots' idle.txt && t_pass "text: the idle line" ||
	t_fail "text: the idle line" "$(head -4 idle.txt)"
# A real `perf record -a` capture of a nearly idle machine: 53 of its 60 samples are the swapper's idle loop.
"$KILN" analyze "$FIX/perf-script/system-wide-kernel.txt" --json >sw.json
python3 - sw.json <<'EOF' && t_pass "perf record -a capture: idle 53/60 left out, no idle function among the hotspots" ||
import json, sys
d = json.load(open(sys.argv[1]))
idle = ("idle", "halt", "cpu_startup_entry", "swapper")
ok = abs(d["idle"]["pct"] - 100 * 53 / 60) < 1e-3 and d["samples"] == 7 and not any(
    any(w in h["function"] for w in idle) for h in d["hotspots"] + d["inclusive"] + d["hot_path"])
sys.exit(0 if ok else 1)
EOF
	t_fail "perf record -a capture: idle 53/60 left out, no idle function among the hotspots" "$(head -c 600 sw.json)"
"$KILN" analyze "$FIX/analyze/offcpu-sleep.pb.gz" --json >off.json
python3 -c "import json,sys; sys.exit(0 if json.load(open('off.json'))['idle']['value']==0 else 1)" &&
	t_pass "off-CPU profiles have no idle time" || t_fail "off-CPU profiles have no idle time"

# live: the whole system for 2 s while a CPU-bound helper runs
if [ "$(id -u)" = 0 ] && [ -x "$H/recurse_hot" ] &&
	"$KILN" profile -q -a --duration 0.2 -o probe.pb.gz 2>probe.err; then
	"$H/recurse_hot" 3 >/dev/null &
	hp=$!
	sleep 0.3
	"$KILN" profile -q -a --duration 2 -o sys.pb.gz 2>sys.err
	wait $hp
	"$KILN" analyze sys.pb.gz --json >sys.json 2>sys.err
	if out=$(python3 - sys.json <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
bad_names = ("idle", "safe_halt", "cpu_startup_entry", "do_idle", "mwait")
hot = [h["function"] for h in d["hotspots"]]
print(f"idle {d['idle']['pct']} %, hotspots {hot[:5]}")
sys.exit(0 if "leaf_work" in hot and "idle" in d and not any(any(b in f for b in bad_names) for f in hot) else 1)
EOF
	); then t_pass "kiln profile -a + analyze: the workload is the hotspot, idle apart ($out)"
	else t_fail "kiln profile -a + analyze: the workload is the hotspot, idle apart" "$out"; fi
else
	t_skip "kiln profile -a + analyze" "needs root and perf_event_open for the whole system: $(head -1 probe.err 2>/dev/null)"
fi
t_done
