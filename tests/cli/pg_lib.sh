# Helpers for the kiln serve on PostgreSQL tests (t9200-t9299), sourced after lib.sh and serve_lib.sh.
#   pg_start VAR DIR                 a throw-away cluster (scripts/pg-cluster.sh) in DIR, its URL in VAR; on
#                                    failure reports the test skipped (77) or failed and returns 1
#   pg_cluster VAR                   pg_start in a new directory (PGDIR), stopped and removed when the test exits
#   pg_gen DIR NOW COUNT FIRST SEED  COUNT folded profiles, numbered from FIRST, of 4 services in 2 regions, one a
#                                    minute from NOW-4800 s; stacks from a small pool, so that servers meet the
#                                    same stacks at once. Line 1 of each is "NAME FROM".
#   pg_send URL FILE                 ingests one of them; prints the status code
#   pg_same DESC TAG URL_A URL_B     asks both servers the same questions and checks every answer equal (TAG
#                                    names the answer files in T_TMP)

pg_start() {
	local var=$1 dir=$2 url rc
	url=$("$KILN_ROOT/scripts/pg-cluster.sh" start "$dir" 2>"$dir.why")
	rc=$?
	case $rc in
	0) eval "$var=\$url"; return 0 ;;
	77) t_skip "kiln serve on PostgreSQL" "$(cat "$dir.why")" ;;
	*) t_fail "the PostgreSQL cluster starts" "$(cat "$dir.why")" ;;
	esac
	return 1
}

pg_cluster() {
	PGDIR=$(mktemp -d /tmp/kiln-pgt.XXXXXX)
	chmod 755 "$PGDIR"
	trap '"$KILN_ROOT/scripts/pg-cluster.sh" stop "$PGDIR/c"; rm -rf "$PGDIR"' EXIT
	pg_start "$1" "$PGDIR/c"
}

pg_gen() {
	python3 - "$@" <<'EOF'
import os, random, sys
out, now, count, first, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
os.makedirs(out, exist_ok=True)
rnd = random.Random(seed)
frames = ["main", "serve", "handle", "parse", "json_decode", "db_query", "render", "gzip", "hash", "sort"]
pool = [";".join(rnd.choice(frames) for _ in range(rnd.randint(2, 7))) for _ in range(40)]
for i in range(first, first + count):
    svc, region = f"svc{i % 4}", ("eu", "us")[i // 4 % 2]
    lines = {}
    for _ in range(rnd.randint(3, 15)):
        s = rnd.choice(pool)
        lines[s] = lines.get(s, 0) + rnd.randint(1, 50)
    with open(f"{out}/{i:03d}", "w") as f:
        f.write(f"{svc}.cpu{{region={region}}} {now - 4800 + i * 60}\n")
        f.writelines(f"{s} {v}\n" for s, v in sorted(lines.items()))
EOF
}

pg_send() {
	local head name from
	head=$(head -n 1 "$2")
	name=${head% *}
	from=${head##* }
	tail -n +2 "$2" | curl -sS -o /dev/null -w '%{http_code}\n' --data-binary @- \
		"$1/ingest?name=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$name")&from=$from&until=$((from + 10))"
}

# The questions of pg_same: each answer of A must equal B's byte for byte, except where noted.
pg_same() {
	local desc=$1 tag=$2 a=$3 b=$4 T='process_cpu:cpu:nanoseconds:cpu:nanoseconds' n=0 bad="" q sel range
	local now start end
	now=$(date +%s)
	get() { # NAME PATH CURL-ARGS...: both answers into T_TMP/TAG.{a,b}.NAME
		local name=$1 path=$2
		shift 2
		curl -sS --get "$a$path" "$@" >"$T_TMP/$tag.a.$name"
		curl -sS --get "$b$path" "$@" >"$T_TMP/$tag.b.$name"
	}
	post() { # NAME METHOD JSON
		curl -sS -H 'Content-Type: application/json' "$a/querier.v1.QuerierService/$2" -d "$3" >"$T_TMP/$tag.a.$1"
		curl -sS -H 'Content-Type: application/json' "$b/querier.v1.QuerierService/$2" -d "$3" >"$T_TMP/$tag.b.$1"
	}
	differs() { # NAME: the two answers differ, or are empty
		[ -s "$T_TMP/$tag.a.$1" ] && cmp -s "$T_TMP/$tag.a.$1" "$T_TMP/$tag.b.$1" && return 1
		bad="$bad $1"
	}
	# pprof has no canonical order of samples and locations (each backend rebuilds stacks in its own order):
	# compared by content, as the stacks and values kiln reads from it.
	pprof_differs() {
		local x
		for x in a b; do
			"$KILN" convert "$T_TMP/$tag.$x.$1" -o "$T_TMP/$tag.$x.$1.folded" 2>/dev/null &&
				sort -o "$T_TMP/$tag.$x.$1.folded" "$T_TMP/$tag.$x.$1.folded"
		done
		differs "$1.folded"
	}
	# Ranges in absolute seconds (both servers get the same): all of it, one with raw edges inside hours
	# (rollups in the middle), a quarter of an hour (every selector has data in each).
	for range in "$((now - 7200)) $now" "$((now - 4000)) $((now - 1000))" "$((now - 4201)) $((now - 3300))"; do
		set -- $range
		for sel in 'service_name="svc1"' 'region="eu"' 'service_name=~"svc[02]",region!="us"' ''; do
			n=$((n + 1))
			for f in folded pprof svg; do
				get "export$n.$f" /api/v1/export --data-urlencode "query=$T{$sel}" --data-urlencode "from=$1" \
					--data-urlencode "until=$2" --data-urlencode "format=$f"
				if [ $f = pprof ]; then pprof_differs "export$n.$f"; else differs "export$n.$f"; fi
			done
			get "render$n" /pyroscope/render --data-urlencode "query=$T{$sel}" --data-urlencode "from=$1" \
				--data-urlencode "until=$2" --data-urlencode format=json
			differs "render$n"
		done
	done
	start=$(((now - 7200) * 1000))
	end=$((now * 1000))
	post names LabelNames "{\"start\": \"$start\", \"end\": \"$end\"}"
	differs names
	post values LabelValues "{\"name\": \"region\", \"start\": \"$start\", \"end\": \"$end\"}"
	differs values
	post series Series "{\"labelNames\": [\"service_name\", \"region\"], \"start\": \"$start\", \"end\": \"$end\"}"
	differs series
	post merge SelectMergeStacktraces "{\"profileTypeID\": \"$T\", \"labelSelector\": \"{region=\\\"us\\\"}\",
		\"start\": \"$start\", \"end\": \"$end\", \"maxNodes\": \"8192\"}"
	differs merge
	post sseries SelectSeries "{\"profileTypeID\": \"$T\", \"labelSelector\": \"{}\", \"start\": \"$start\",
		\"end\": \"$end\", \"step\": 60, \"groupBy\": [\"service_name\"]}"
	differs sseries
	# The profile lists: the same profiles (times, totals, labels) in the same order; only the ids differ.
	get profiles /api/v1/profiles --data-urlencode "query=$T{}" --data-urlencode "from=$((now - 7200))" \
		--data-urlencode "until=$now" --data-urlencode limit=1000
	python3 - "$T_TMP/$tag.a.profiles" "$T_TMP/$tag.b.profiles" <<'EOF' || bad="$bad profiles"
import json, sys
a, b = ([{k: v for k, v in p.items() if k != "id"} for p in json.load(open(f))["profiles"]] for f in sys.argv[1:])
sys.exit(0 if a == b and a else 1)
EOF
	if [ -z "$bad" ]; then
		t_pass "$desc ($n exports as folded, pprof and SVG, $n renders, 5 Connect queries, the profile list)"
	else
		t_fail "$desc" "differ or empty:$bad"
	fi
}
