#!/bin/bash
# kiln serve on PostgreSQL: two servers ingest into one database at once (no coordination between them) and a
# third one answers queries; every answer equals that of a SQLite server that ingested the same profiles:
# merged exports per service, by tag and for all, flame graphs and timelines of the render API, label names
# and values, the profile lists. The database is a throw-away cluster (scripts/pg-cluster.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

PGDIR=$(mktemp -d /tmp/kiln-pgt.XXXXXX)
chmod 755 "$PGDIR"
cleanup() { "$KILN_ROOT/scripts/pg-cluster.sh" stop "$PGDIR/c"; rm -rf "$PGDIR"; }
trap cleanup EXIT
URL=$("$KILN_ROOT/scripts/pg-cluster.sh" start "$PGDIR/c" 2>"$PGDIR/why")
case $? in
0) ;;
77) t_skip "kiln serve on PostgreSQL" "$(cat "$PGDIR/why")"; exit 0 ;;
*) t_fail "the PostgreSQL cluster starts" "$(cat "$PGDIR/why")"; exit 0 ;;
esac

serve_start W1 "$KILN" --storage "$URL" --retention 0 || exit 0
serve_start W2 "$KILN" --storage "$URL" --retention 0 || exit 0
serve_start R "$KILN" --storage "$URL" --retention 0 || exit 0
serve_start SQ "$KILN" --storage "$T_TMP/sqlite" --retention 0 || exit 0

# 80 folded profiles of 4 services in 2 regions over the last 80 minutes; stacks drawn from a small pool, so
# that servers meet the same stacks at once.
NOW=$(date +%s)
python3 - "$T_TMP/gen" "$NOW" <<'EOF'
import os, random, sys
out, now = sys.argv[1], int(sys.argv[2])
os.makedirs(out, exist_ok=True)
rnd = random.Random(7)
frames = ["main", "serve", "handle", "parse", "json_decode", "db_query", "render", "gzip", "hash", "sort"]
pool = [";".join(rnd.choice(frames) for _ in range(rnd.randint(2, 7))) for _ in range(40)]
for i in range(80):
    svc, region = f"svc{i % 4}", ("eu", "us")[i // 4 % 2]
    lines = {}
    for _ in range(rnd.randint(3, 15)):
        s = rnd.choice(pool)
        lines[s] = lines.get(s, 0) + rnd.randint(1, 50)
    with open(f"{out}/{i:03d}", "w") as f:
        f.write(f"{svc}.cpu{{region={region}}} {now - 4800 + i * 60}\n")
        f.writelines(f"{s} {v}\n" for s, v in sorted(lines.items()))
EOF

send() { # URL FILE
	local head name from
	head=$(head -n 1 "$2")
	name=${head% *}
	from=${head##* }
	tail -n +2 "$2" | curl -sS -o /dev/null -w '%{http_code}\n' --data-binary @- \
		"$1/ingest?name=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$name")&from=$from&until=$((from + 10))"
}
# The two PostgreSQL writers take alternate profiles, at the same time.
(i=0; for f in "$T_TMP"/gen/*; do [ $((i % 2)) -eq 0 ] && send "$W1_URL" "$f"; i=$((i + 1)); done) >"$T_TMP/w1.codes" &
A=$!
(i=0; for f in "$T_TMP"/gen/*; do [ $((i % 2)) -eq 1 ] && send "$W2_URL" "$f"; i=$((i + 1)); done) >"$T_TMP/w2.codes" &
B=$!
for f in "$T_TMP"/gen/*; do send "$SQ_URL" "$f"; done >"$T_TMP/sq.codes"
wait $A $B
codes=$(cat "$T_TMP/w1.codes" "$T_TMP/w2.codes" | sort | uniq -c | tr -s ' ')
[ "$codes" = " 80 200" ] && t_pass "two servers ingest 80 profiles into one PostgreSQL database at once: all 200" ||
	t_fail "two PostgreSQL writers: all 200" "$codes"
[ "$(sort -u "$T_TMP/sq.codes")" = 200 ] && t_pass "the SQLite server ingests the same 80" ||
	t_fail "the SQLite server ingests the same 80" "$(sort "$T_TMP/sq.codes" | uniq -c)"

# The same questions to the PostgreSQL reader and to the SQLite server.
T='process_cpu:cpu:nanoseconds:cpu:nanoseconds'
ask() { # NAME PATH ARGS... (curl --get --data-urlencode arguments)
	local name=$1 path=$2
	shift 2
	curl -sS --get "$R_URL$path" "$@" >"$T_TMP/pg.$name"
	curl -sS --get "$SQ_URL$path" "$@" >"$T_TMP/sq.$name"
}
same_json() { # DESC NAME [PYTHON-EXPR that normalizes d]
	local norm=${3:-d}
	if python3 - "$T_TMP/pg.$2" "$T_TMP/sq.$2" "$norm" <<'EOF'; then t_pass "$1"; else t_fail "$1" "$(head -c 400 "$T_TMP/pg.$2") / $(head -c 400 "$T_TMP/sq.$2")"; fi
import json, sys
def load(p):
    d = json.load(open(p))
    return eval(sys.argv[3], {"d": d})
a, b = load(sys.argv[1]), load(sys.argv[2])
sys.exit(0 if a == b and a not in (None, {}, []) else 1)
EOF
}
for sel in 'service_name="svc1"' 'region="eu"' 'service_name=~"svc[02]",region!="us"' ''; do
	n=$((${n:-0} + 1))
	ask "export$n" /api/v1/export --data-urlencode "query=$T{$sel}" --data-urlencode from=now-2h --data-urlencode until=now
	if [ -s "$T_TMP/pg.export$n" ] && cmp -s <(sort "$T_TMP/pg.export$n") <(sort "$T_TMP/sq.export$n"); then
		t_pass "merged folded export {$sel}: PostgreSQL = SQLite ($(wc -l <"$T_TMP/pg.export$n") stacks)"
	else
		t_fail "merged folded export {$sel}: PostgreSQL = SQLite" "$(diff <(sort "$T_TMP/pg.export$n") <(sort "$T_TMP/sq.export$n") | head -5)"
	fi
	ask "render$n" /pyroscope/render --data-urlencode "query=$T{$sel}" --data-urlencode from=now-2h \
		--data-urlencode until=now --data-urlencode format=json
	same_json "render {$sel}: flame graph and timeline equal" "render$n" '(d["flamebearer"], d["timeline"])'
done
ask labels /pyroscope/label-values --data-urlencode label=region --data-urlencode from=now-2h --data-urlencode until=now
same_json "label values equal" labels
ask profiles /api/v1/profiles --data-urlencode "query=$T{}" --data-urlencode from=now-2h --data-urlencode until=now \
	--data-urlencode limit=1000
same_json "profile lists equal (80 profiles, times, totals, labels; ids differ)" profiles \
	'sorted((p["from"], p["until"], p["total"], sorted(p["labels"].items())) for p in d["profiles"]) if len(d["profiles"]) == 80 else None'

serve_stop "$W1_PID"
serve_stop "$W2_PID"
serve_stop "$R_PID"
serve_stop "$SQ_PID"
