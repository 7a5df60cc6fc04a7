#!/bin/bash
# Non-root users at kernel.perf_event_paranoid=2 (Debian's default): cpu and mem profiles of a launched program
# are symbolized, user space only, with one note saying why kernel frames are missing; the eBPF modes fail at
# once with one line naming the capabilities they need. Runs as nobody (setpriv), so it needs root to set up.
. "$(dirname "$0")/lib.sh"

H=$KILN_BUILD/tests/helpers
if [ "$(id -u)" -ne 0 ]; then
	t_skip "unprivileged profiling" "needs root to switch to nobody and to set kernel.perf_event_paranoid"
	exit 0
fi
if ! command -v setpriv >/dev/null 2>&1 || [ ! -r /proc/sys/kernel/perf_event_paranoid ]; then
	t_skip "unprivileged profiling" "no setpriv or no /proc/sys/kernel/perf_event_paranoid"
	exit 0
fi
if ! "$KILN" profile -q -o "$T_TMP/probe.pb.gz" -- true 2>"$T_TMP/probe.err"; then
	t_skip "unprivileged profiling" "cannot sample here even as root: $(head -1 "$T_TMP/probe.err")"
	exit 0
fi
saved=$(cat /proc/sys/kernel/perf_event_paranoid)
if ! echo 2 >/proc/sys/kernel/perf_event_paranoid 2>/dev/null; then
	t_skip "unprivileged profiling" "cannot set kernel.perf_event_paranoid (a container?)"
	exit 0
fi
# A directory nobody may use (T_TMP is private to root), removed with the setting restored.
W=$(mktemp -d /tmp/kiln-t3510.XXXXXX)
trap 'echo "$saved" >/proc/sys/kernel/perf_event_paranoid; rm -rf "$W"' EXIT
chmod 755 "$W"
for h in prof_shares heap_leaks; do install -m 755 "$H/$h" "$W/$h"; done
mkdir "$W/out" && chown 65534:65534 "$W/out"
cd "$W/out" || exit 1
# KILN_CACHE_DIR=: the suite's cache directory is root's; HOME: nobody's is not writable.
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$W/out" KILN_CACHE_DIR= "$@"; }

# --- cpu: user space only, symbolized, shares of the truth --------------------------------------------------
nobody "$KILN" profile -o cpu.pb.gz -- ../prof_shares 1.2 50 30 20 >cpu.truth 2>cpu.err
st=$?
nobody "$KILN" convert cpu.pb.gz -o cpu.folded 2>/dev/null
bad=""
for f in work_a work_b work_c; do
	want=$(awk -v f=$f '$1 == "share" && $2 == f {print $3}' cpu.truth)
	got=$(awk -v f=$f '{ n = $NF; t += n; sub(/ [0-9]+$/, ""); k = split($0, a, ";"); if (a[k] == f) s += n }
		END { if (t) printf "%.2f", 100 * s / t }' cpu.folded 2>/dev/null)
	ok=$(awk -v a="$want" -v b="$got" 'BEGIN { d = a - b; if (d < 0) d = -d; print (a != "" && b != "" && d <= 3) }')
	[ "$ok" = 1 ] || bad="$bad $f: truth $want%, kiln $got%;"
done
if [ $st -eq 0 ] && [ -z "$bad" ] && grep -q 'main;work_a' cpu.folded; then
	t_pass "nobody at paranoid 2: cpu profile symbolized, shares within 3 points"
else
	t_fail "nobody at paranoid 2: cpu profile symbolized" "exit $st;$bad $(head -3 cpu.err)"
fi
notes=$(grep -c 'perf_event_paranoid' cpu.err)
if [ "$notes" -eq 1 ] && grep -q 'sysctl kernel.perf_event_paranoid=1, or run as root' cpu.err; then
	t_pass "one note says why kernel frames are missing and how to get them"
else
	t_fail "one note about kernel frames" "$notes notes: $(cat cpu.err | head -5)"
fi
if grep -q '_\[k\]\|\[kernel' cpu.folded; then t_fail "no kernel frames" "$(grep -m3 'kernel' cpu.folded)"
else t_pass "no kernel frames"; fi
nobody "$KILN" profile -q --user-only -o user.pb.gz -- ../prof_shares 0.2 >/dev/null 2>user.err
st=$?
[ $st -eq 0 ] && ! grep -q 'perf_event_paranoid' user.err && t_pass "--user-only: no note" ||
	t_fail "--user-only: no note" "exit $st: $(cat user.err)"
nobody "$KILN" profile -q -a -d 0.2 -o all.pb.gz >/dev/null 2>all.err
st=$?
[ $st -eq 125 ] && [ "$(wc -l <all.err)" -eq 1 ] && grep -q -- '--all-cpus needs it at 0 or below, or CAP_PERFMON' all.err &&
	t_pass "nobody: --all-cpus says what it needs" || t_fail "nobody: --all-cpus says what it needs" "exit $st: $(cat all.err)"
# As root, the same setting takes kernel samples and prints no note.
"$KILN" profile -o "$T_TMP/root.pb.gz" -- ../prof_shares 0.2 >/dev/null 2>"$T_TMP/root.err"
grep -q 'perf_event_paranoid' "$T_TMP/root.err" && t_fail "root: no note" "$(cat "$T_TMP/root.err")" ||
	t_pass "root: no note"

# --- mem: the heap profile is complete and symbolized ---------------------------------------------------------
nobody "$KILN" profile --mode mem -o mem.pb.gz --report-json mem.json -- ../heap_leaks >/dev/null 2>mem.err
st=$?
[ $st -eq 3 ] && t_pass "nobody: --mode mem runs (exit status 3 mirrored)" ||
	t_fail "nobody: --mode mem runs" "exit $st: $(tail -3 mem.err)"
json_check "nobody: --mode mem finds the three leaks by function name" mem.json \
	'sorted((l["function"], l["bytes"]) for l in d["leaks"] if not l["suppressed"]) == [("leak_calloc", 1000), ("leak_grow", 777), ("leak_page", 4096)] and all("main" in l["stack"] for l in d["leaks"] if not l["suppressed"])'

# --- the eBPF modes: one line naming the capabilities, before the command runs ---------------------------------
for m in offcpu wall io; do
	nobody "$KILN" profile --mode $m -o $m.pb.gz -- touch ran-$m >/dev/null 2>$m.err
	st=$?
	if [ $st -eq 125 ] && [ "$(wc -l <$m.err)" -eq 1 ] && grep -q "CAP_BPF and CAP_PERFMON" $m.err && [ ! -e ran-$m ]; then
		t_pass "nobody: --mode $m fails at once naming CAP_BPF and CAP_PERFMON"
	else
		t_fail "nobody: --mode $m fails naming the capabilities" "exit $st, ran: $(ls ran-$m 2>&1); $(cat $m.err)"
	fi
done
t_done
