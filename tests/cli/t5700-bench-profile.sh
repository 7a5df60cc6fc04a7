#!/bin/bash
# kiln bench --profile: one extra run of the benchmarked program under the CPU recorder, stored with the run in
# the history. A real program in two builds (the second does 3x the work in `mix_hash`, the same in
# `parse_fields`): five commits of each, benchmarked with --profile; kiln trend must find the step at the first
# commit of the second build and put `mix_hash` on top of the linked diff. The stored profile is one run's
# worth (its sampled CPU time against the benchmark's own user+system time), not the timed runs'.
. "$(dirname "$0")/lib.sh"
cd "$T_TMP" || exit 1
if ! "$KILN" profile -q -o probe.folded -- true 2>probe.err; then
	t_skip "bench --profile" "perf_event_open is not allowed here: $(head -1 probe.err)"
	exit 0
fi
command -v cc >/dev/null || { t_skip "bench --profile" "no C compiler"; exit 0; }

cat >prog.c <<'C'
#include <stdint.h>
#include <stdio.h>
static volatile uint64_t sink;
__attribute__((noinline)) static uint64_t parse_fields(uint64_t n)
{
	uint64_t h = 1;
	for (uint64_t i = 0; i < n; i++)
		h = h * 31 + (i % 7);
	return h;
}
__attribute__((noinline)) static uint64_t checksum(uint64_t n)
{
	uint64_t h = 7;
	for (uint64_t i = 0; i < n; i++)
		h = (h << 5) + h + (i & 0xff);
	return h;
}
__attribute__((noinline)) static uint64_t mix_hash(uint64_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	for (uint64_t i = 0; i < n; i++)
		h = (h ^ i) * 0xff51afd7ed558ccdULL;
	return h;
}
int main(void)
{
	sink = parse_fields(40000000) + checksum(40000000) + mix_hash(HASH_WORK);
	return 0;
}
C
cc -O1 -g -fno-omit-frame-pointer -DHASH_WORK=40000000 -o good prog.c &&
	cc -O1 -g -fno-omit-frame-pointer -DHASH_WORK=160000000 -o bad prog.c || { t_fail "build the program"; exit 0; }

ok=0
for i in 0 1 2 3 4 5 6 7 8 9 10 11; do
	# One path, two builds, as in CI: the benchmark keeps its name across commits.
	if [ $i -ge 6 ]; then cp bad prog; else cp good prog; fi
	"$KILN" bench --runs 3 -N --history hist --commit c$i --branch main --machine m --time $((1700000000 + i)) \
		--profile --export-json run$i.json ./prog >/dev/null 2>bench$i.err && ok=$((ok + 1))
done
[ $ok = 12 ] && t_pass "twelve benchmarked commits with --profile" || t_fail "twelve benchmarked commits" "$(cat bench*.err)"
grep -q "profiling './prog'" bench0.err && t_pass "the profiled run is announced" ||
	t_fail "the profiled run is announced" "$(cat bench0.err)"
json_check "every run names its stored profile, and the file is there" "$(ls hist/runs/*.json | head -1)" \
	'd["profile"].startswith("profiles/") and __import__("os").path.exists("hist/" + d["profile"])'
[ "$(ls hist/profiles | wc -l)" = 12 ] && t_pass "twelve profiles stored" || t_fail "twelve profiles stored" "$(ls hist/profiles)"

# One run's worth of samples: the profile's CPU time against the median user+system time of the timed runs.
run=$(ls hist/runs/*.json | head -1)
"$KILN" convert "hist/$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['profile'])" "$run")" \
	-o p0.folded 2>/dev/null
samples=$(awk '{ n += $NF } END { print n }' p0.folded)
python3 - run0.json "$samples" >ratio.out <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"][0]
cpu = statistics.median(u + s for u, s in zip(r["user_times"], r["system_times"]))
print("%.3f %.3f" % (int(sys.argv[2]) / 999.0, cpu))
PY
read -r prof_s cpu_s <ratio.out
if python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if 0.6 < a / b < 1.4 else 1)" \
	"$prof_s" "$cpu_s"; then
	t_pass "the profile holds one run ($prof_s s sampled, $cpu_s s user+system per run)"
else
	t_fail "the profile holds one run" "$prof_s s sampled, $cpu_s s user+system per run"
fi
grep -q 'mix_hash' p0.folded && grep -q 'parse_fields' p0.folded && t_pass "the profile names the program's functions" ||
	t_fail "the profile names the program's functions" "$(head -5 p0.folded)"

"$KILN" trend hist --format json -o trend.json --window 6 --alpha 0.01 --threshold 10% 2>trend.err
json_check "the step is found at the first commit of the second build" trend.json \
	'[(c["bad_commit"], c["verdict"]) for s in d["series"] if s["metric"]=="time" for c in s["changes"]]==[("c6","regression")]'
json_check "mix_hash tops the diff between the last good and the first bad profile" trend.json \
	'[c["functions"][0]["name"] for s in d["series"] if s["metric"]=="time" for c in s["changes"]]==["mix_hash"]'

# --profile-output keeps the profile without a history; --profile alone has nowhere to go.
"$KILN" bench --runs 2 -N --profile-output one.folded ./good >/dev/null 2>po.err
grep -q mix_hash one.folded && t_pass "--profile-output writes the profile" || t_fail "--profile-output" "$(cat po.err)"
t_fails "--profile without a store" 2 "$KILN" bench --runs 2 -N --profile ./good
t_done
