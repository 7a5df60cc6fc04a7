#!/bin/bash
# kiln serve on PostgreSQL: two servers ingest into one database at once (no coordination between them) and a
# third one answers queries; every answer equals, byte for byte, that of a SQLite server that ingested the same
# profiles (pg_lib.sh's pg_same: merged exports as folded, pprof and SVG, flame graphs and timelines of the
# render API over three ranges and four selectors, label names and values, series, Connect merges and
# timelines, and the profile lists but for their ids); so do the writers' own answers. The database is a
# throw-away cluster (scripts/pg-cluster.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
. "$(dirname "$0")/pg_lib.sh"

pg_cluster URL || exit 0

serve_start W1 "$KILN" --storage "$URL" --retention 0 || exit 0
serve_start W2 "$KILN" --storage "$URL" --retention 0 || exit 0
serve_start R "$KILN" --storage "$URL" --retention 0 || exit 0
serve_start SQ "$KILN" --storage "$T_TMP/sqlite" --retention 0 || exit 0

# 80 folded profiles of 4 services in 2 regions over the last 80 minutes.
pg_gen "$T_TMP/gen" "$(date +%s)" 80 0 7

# The two PostgreSQL writers take alternate profiles, at the same time.
(i=0; for f in "$T_TMP"/gen/*; do [ $((i % 2)) -eq 0 ] && pg_send "$W1_URL" "$f"; i=$((i + 1)); done) >"$T_TMP/w1.codes" &
A=$!
(i=0; for f in "$T_TMP"/gen/*; do [ $((i % 2)) -eq 1 ] && pg_send "$W2_URL" "$f"; i=$((i + 1)); done) >"$T_TMP/w2.codes" &
B=$!
for f in "$T_TMP"/gen/*; do pg_send "$SQ_URL" "$f"; done >"$T_TMP/sq.codes"
wait $A $B
codes=$(cat "$T_TMP/w1.codes" "$T_TMP/w2.codes" | sort | uniq -c | tr -s ' ')
[ "$codes" = " 80 200" ] && t_pass "two servers ingest 80 profiles into one PostgreSQL database at once: all 200" ||
	t_fail "two PostgreSQL writers: all 200" "$codes"
[ "$(sort -u "$T_TMP/sq.codes")" = 200 ] && t_pass "the SQLite server ingests the same 80" ||
	t_fail "the SQLite server ingests the same 80" "$(sort "$T_TMP/sq.codes" | uniq -c)"

# The same questions to the PostgreSQL reader and to the SQLite server, then to each writer.
pg_same "the reader answers as SQLite" reader "$R_URL" "$SQ_URL"
pg_same "the first writer answers as SQLite" w1 "$W1_URL" "$SQ_URL"
pg_same "the second writer answers as SQLite" w2 "$W2_URL" "$SQ_URL"

serve_stop "$W1_PID"
serve_stop "$W2_PID"
serve_stop "$R_PID"
serve_stop "$SQ_PID"
