#!/bin/bash
# kiln serve on PostgreSQL and the version of its tables: a new database gets kiln_schema version 3 (a row per
# stored stack, its frame ids whole; profiles' totals in their index) and opens again; a database of kiln's
# earlier tables (version 1, a row per stack node and no kiln_schema table; version 2, totals not in the index)
# or of a later version is refused with one line and exit 2, for writing
# and for reading (--read-from), and nothing is written into it. A query reading a stack row whose frame ids
# are damaged answers an error; the server goes on serving. The database is a throw-away cluster
# (scripts/pg-cluster.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
. "$(dirname "$0")/pg_lib.sh"

pg_cluster URL || exit 0
sql() { psql -Atq "$1" -c "$2" 2>&1; }
# The same cluster, another database.
url_of() { echo "$URL" | sed "s|/kiln?|/$1?|"; }
for db in v1 v2 v4; do sql "$URL" "CREATE DATABASE $db" >/dev/null; done

# A new database: version 3 written, and a second start finds it.
serve_start A "$KILN" --storage "$URL" --retention 0 || exit 0
[ "$(sql "$URL" 'SELECT version FROM kiln_schema')" = 3 ] && t_pass "a new database gets kiln_schema version 3" ||
	t_fail "kiln_schema version 3" "$(sql "$URL" 'SELECT * FROM kiln_schema')"
# Its timeline's totals come from the profiles' index (version 3).
sql "$URL" "SELECT pg_get_indexdef('kiln_profiles_series'::regclass)" | grep -q 'INCLUDE (total)' &&
	t_pass "... whose index of profiles holds their totals" ||
	t_fail "the index of profiles holds their totals" "$(sql "$URL" "SELECT pg_get_indexdef('kiln_profiles_series'::regclass)")"
serve_stop "$A_PID"
serve_start A "$KILN" --storage "$URL" --retention 0 || exit 0

# Version 1's stack table (no kiln_schema), version 2 and a later version: refused, in one line naming the version.
sql "$(url_of v1)" 'CREATE TABLE kiln_stacks (tenant text NOT NULL, id bigint NOT NULL, parent bigint NOT NULL,
	frame bigint NOT NULL, PRIMARY KEY (tenant, id))' >/dev/null
for v in 2 4; do
	sql "$(url_of v$v)" "CREATE TABLE kiln_schema (version integer NOT NULL); INSERT INTO kiln_schema VALUES ($v)" >/dev/null
done
for v in 1 2 4; do
	t_fails "a database of schema version $v is refused (exit 2, one line)" 2 \
		"$KILN" serve --listen 127.0.0.1:0 --storage "$(url_of v$v)"
	grep -q "schema version $v, this kiln needs 3" "$T_TMP/fails.err" &&
		t_pass "... the message names both versions" || t_fail "the message names both versions" "$(cat "$T_TMP/fails.err")"
	t_fails "... as a replica to read from (exit 2, one line)" 2 \
		"$KILN" serve --listen 127.0.0.1:0 --storage "$URL" --read-from "$(url_of v$v)"
done
tables=$(sql "$(url_of v1)" "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relname LIKE 'kiln%'
	AND relkind = 'r'")
[ "$tables" = kiln_stacks ] && t_pass "nothing was created in the refused database" ||
	t_fail "nothing created in the refused database" "$tables"

# Stored stacks with a byte too many: the merge is an error, not a crash, and the server still answers.
pg_gen "$T_TMP/gen" "$(date +%s)" 8 0 3
codes=$(for f in "$T_TMP"/gen/*; do pg_send "$A_URL" "$f"; done | sort -u)
[ "$codes" = 200 ] && t_pass "8 profiles ingested" || t_fail "8 profiles ingested" "$codes"
serve_stop "$A_PID"
sql "$URL" "UPDATE kiln_stacks SET frames = frames || '\\x01'::bytea" >/dev/null
serve_start A "$KILN" --storage "$URL" --retention 0 || exit 0
q="query=process_cpu:cpu:nanoseconds:cpu:nanoseconds{}&from=now-3h&until=now&format=json"
code=$(http_code "$T_TMP/render.json" -g "$A_URL/pyroscope/render?$q")
[ "$code" -ge 500 ] && grep -q damaged "$T_TMP/render.json" &&
	t_pass "a damaged stack row: the query answers an error naming the damage ($code)" ||
	t_fail "a damaged stack row answers an error" "$code $(head -c 300 "$T_TMP/render.json")"
code=$(http_code "$T_TMP/labels.json" "$A_URL/pyroscope/label-values?label=service_name")
[ "$code" = 200 ] && grep -q svc0 "$T_TMP/labels.json" && t_pass "... and the server goes on answering" ||
	t_fail "the server answers after the damaged query" "$code"
serve_stop "$A_PID"
