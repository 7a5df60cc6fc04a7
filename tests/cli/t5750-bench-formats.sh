#!/bin/bash
# Issue 21's acceptance "every supported benchmark file format pushes and reads back with its samples and
# units intact", against the files themselves: each fixture of tests/fixtures/bench is pushed to a directory
# store and to kiln serve, and what each gives back is compared with what t5750-bench-formats.d/reference.py
# reads from the file on its own (every sample of every metric, converted to the canonical unit, or the
# summary of an aggregates-only file).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
B=$(cd "$(dirname "$T_DIR")/../fixtures/bench" && pwd)
cd "$T_TMP" || exit 1
command -v python3 >/dev/null || { t_skip "formats read back" "python3 is needed"; exit 0; }

serve_start S "$KILN" --storage store --retention 0 || exit 0
n=0
for f in hyperfine.json gbench-1.0.json gbench-1.2.json gbench-aggregates.json gbench-one-repetition.json \
	pytest-head.json pytest-base.json pytest-summary.json go-1.0.txt go-1.2.txt criterion-head criterion-base; do
	n=$((n + 1))
	if ! "$KILN" push-bench "$B/$f" --history h$n --push "$S_URL" --commit c$n --branch f$n --machine m \
		--time 1700000000 2>push.err; then
		t_fail "push $f" "$(cat push.err)"
		continue
	fi
	curl -sS "$S_URL/api/v1/bench/runs?branch=f$n" >srv$n.json
	for src in "directory:$(ls h$n/runs/*.json)" "server:srv$n.json"; do
		if out=$(python3 "$T_DIR/reference.py" "$B/$f" "${src#*:}" 2>&1); then
			t_pass "$f from the ${src%%:*}: samples and units as in the file ($out)"
		else
			t_fail "$f from the ${src%%:*}: samples and units as in the file" "$out"
		fi
	done
done
serve_stop "$S_PID"
t_done
