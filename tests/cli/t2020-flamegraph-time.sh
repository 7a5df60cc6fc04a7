#!/bin/bash
# kiln flamegraph of a recorded profile: tooltips carry the time a sample stands for (the sampling period the
# profile records) next to the count, and that time equals count x period; folded input, which says nothing
# about time, keeps flamegraph.pl's "N samples, P%" tooltips.
. "$(dirname "$0")/lib.sh"
H=$KILN_BUILD/tests/helpers
cd "$T_TMP" || exit 1

if ! "$KILN" profile -q -F 499 -o rec.pb.gz -- "$H/prof_work" >/dev/null 2>err.txt; then
	t_skip "flame graph tooltips with time" "kiln profile cannot record here: $(tail -n 1 err.txt)"
	exit 0
fi
"$KILN" flamegraph --value samples rec.pb.gz -o rec.svg
python3 - rec.svg <<'PY' && t_pass "tooltips: N samples and N x the 499 Hz period as time" || t_fail "tooltips with time" "$(grep -o '<title>[^<]*' rec.svg | head -3)"
import re, sys
svg = open(sys.argv[1]).read()
titles = re.findall(r"<title>([^<]*) \(([\d,]+) samples, ([\d.]+) (ms|s|us|µs), [\d.]+%\)</title>", svg)
assert titles, "no tooltip with a time"
scale = {"s": 1e9, "ms": 1e6, "us": 1e3, "µs": 1e3}
period = 1e9 / 499
for name, n, t, unit in titles:
    n = int(n.replace(",", ""))
    ns = float(t) * scale[unit]
    # the printed time is rounded to 4 significant digits at most
    assert abs(ns - n * period) <= max(0.002 * n * period, 0.5 * scale[unit] / 10), (name, n, t, unit)
PY
"$KILN" convert rec.pb.gz -o rec.folded
"$KILN" flamegraph rec.folded -o folded.svg
if grep -q '<title>all ([0-9,]* samples, 100%)</title>' folded.svg && ! grep -q ' ms, ' folded.svg; then
	t_pass "folded input: flamegraph.pl's tooltips, no time"
else
	t_fail "folded input: flamegraph.pl's tooltips, no time" "$(grep -o '<title>[^<]*' folded.svg | head -2)"
fi
