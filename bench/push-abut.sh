#!/bin/bash
# kiln profile --push over a long run (default 10 minutes of 10 s windows) to a local kiln serve: the stored
# windows must abut (each from is the previous until, to the nanosecond: no gap, no overlap), one per window,
# covering the whole run, none dropped. Not part of make check. Usage: bench/push-abut.sh  (env: BUILD,
# SECONDS_TOTAL (600), EVERY (10))
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
TOTAL=${SECONDS_TOTAL:-600}
EVERY=${EVERY:-10}
KILN=$BUILD/kiln
SPIN=$BUILD/tests/helpers/drv_spin
make --no-print-directory -s BUILD="$BUILD" "$KILN" "$SPIN" >/dev/null || exit 1
tmp=$(mktemp -d)
. bench/lib.sh
trap 'bench_serve_stop; rm -rf "$tmp"' EXIT
bench_serve_start "$KILN" "$tmp"

echo "pushing ${TOTAL} s of a spinning target in ${EVERY} s windows to $URL ..."
"$KILN" profile --push "$URL" --every "$EVERY" --service abut -- timeout -s INT "$TOTAL" "$SPIN" 2>"$tmp/err"
tail -1 "$tmp/err"
curl -sS --get "$URL/api/v1/profiles" --data-urlencode limit=100000 --data-urlencode from=now-24h \
	--data-urlencode 'query=process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="abut"}' >"$tmp/list"
python3 - "$tmp/list" "$TOTAL" "$EVERY" <<'PY'
import json, sys
p = sorted(json.load(open(sys.argv[1]))["profiles"], key=lambda q: q["from"])
total, every = float(sys.argv[2]), float(sys.argv[3])
gaps = [(a["until"], b["from"]) for a, b in zip(p, p[1:]) if a["until"] != b["from"]]
span = (p[-1]["until"] - p[0]["from"]) / 1e9 if p else 0
want = int(total // every) + (1 if total % every else 0)
bad_len = [q for q in p[:-1] if q["until"] - q["from"] != int(every * 1e9)]
print(f"windows stored: {len(p)} (expected about {want}); span {span:.3f} s of {total:.0f} s")
print(f"gaps or overlaps between consecutive windows: {len(gaps)}; windows not {every:g} s long (but the last): {len(bad_len)}")
ok = p and not gaps and not bad_len and abs(len(p) - want) <= 1 and abs(span - total) <= every
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
