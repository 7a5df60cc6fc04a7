#!/bin/bash
# kiln serve --read-from: a server that ingests into the PostgreSQL primary and answers queries from a real
# streaming replica (pg_basebackup -R of the throw-away primary). Its answers equal a SQLite server's fed the
# same profiles; while the replica's replay is paused, new profiles reach the primary but the replica server
# still answers exactly as a SQLite server without them (late, never wrong, and proof that its reads go to
# the replica), and once replay resumes it answers as a SQLite server with them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
. "$(dirname "$0")/pg_lib.sh"

PGDIR=$(mktemp -d /tmp/kiln-pgt.XXXXXX)
chmod 755 "$PGDIR"
cleanup() {
	"$KILN_ROOT/scripts/pg-cluster.sh" stop "$PGDIR/r"
	"$KILN_ROOT/scripts/pg-cluster.sh" stop "$PGDIR/p"
	rm -rf "$PGDIR"
}
trap cleanup EXIT
pg_start URL "$PGDIR/p" || exit 0
REPLICA=$("$KILN_ROOT/scripts/pg-cluster.sh" replica "$PGDIR/p" "$PGDIR/r" 2>"$PGDIR/why")
case $? in
0) ;;
77) t_skip "kiln serve with a PostgreSQL replica" "$(cat "$PGDIR/why")"; exit 0 ;;
*) t_fail "the streaming replica starts" "$(cat "$PGDIR/why")"; exit 0 ;;
esac
sql() { psql -Atq "$1" -c "$2"; }
[ "$(sql "$REPLICA" 'SELECT pg_is_in_recovery()')" = t ] && t_pass "the replica is a hot standby" ||
	t_fail "the replica is a hot standby"

# Waits until the replica has replayed everything the primary has written so far.
caught_up() {
	local lsn
	lsn=$(sql "$URL" 'SELECT pg_current_wal_lsn()')
	for _ in $(seq 1 300); do
		[ "$(sql "$REPLICA" "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && return 0
		sleep 0.1
	done
	return 1
}

t_fails "--read-from with SQLite storage is a usage error" 2 "$KILN" serve --listen 127.0.0.1:0 \
	--storage "$T_TMP/x" --read-from "$REPLICA"
t_fails "an unreachable replica is an error at start" 2 "$KILN" serve --listen 127.0.0.1:0 \
	--storage "$URL" --read-from "postgresql://postgres@/kiln?host=$PGDIR/none&port=1"

serve_start W "$KILN" --storage "$URL" --retention 0 || exit 0
serve_start R "$KILN" --storage "$URL" --read-from "$REPLICA" --retention 0 || exit 0
serve_start OLD "$KILN" --storage "$T_TMP/old" --retention 0 || exit 0
serve_start ALL "$KILN" --storage "$T_TMP/all" --retention 0 || exit 0

NOW=$(date +%s)
pg_gen "$T_TMP/gen" "$NOW" 70 0 11
# Profiles 0-39 to everyone (W and R both ingest, into the primary), 40-69 later.
codes=$(for f in "$T_TMP"/gen/0[0-3]?; do
	case $f in *[02468]) pg_send "$W_URL" "$f" ;; *) pg_send "$R_URL" "$f" ;; esac
	pg_send "$OLD_URL" "$f"
	pg_send "$ALL_URL" "$f"
done | sort | uniq -c | tr -s ' ')
[ "$codes" = " 120 200" ] && t_pass "40 profiles ingested through both servers and into two SQLite stores" ||
	t_fail "first ingest all 200" "$codes"
caught_up || t_fail "the replica catches up" "$(sql "$REPLICA" 'SELECT pg_last_wal_replay_lsn()')"
pg_same "the replica server answers as SQLite" first "$R_URL" "$OLD_URL"

# Replay paused: the next profiles are on the primary (W reads them there) but not yet on the replica.
sql "$REPLICA" 'SELECT pg_wal_replay_pause()' >/dev/null
codes=$(for f in "$T_TMP"/gen/0[4-6]?; do pg_send "$W_URL" "$f"; pg_send "$ALL_URL" "$f"; done | sort | uniq -c |
	tr -s ' ')
[ "$codes" = " 60 200" ] && t_pass "30 more profiles ingested while the replica's replay is paused" ||
	t_fail "second ingest all 200" "$codes"
pg_same "the primary has them (a server reading the primary answers as SQLite with all 70)" primary "$W_URL" "$ALL_URL"
pg_same "the lagging replica answers as before, exactly as SQLite without them" lagging "$R_URL" "$OLD_URL"
if [ -s "$T_TMP/lagging.a.export1.folded" ] && ! cmp -s "$T_TMP/lagging.a.export1.folded" "$T_TMP/primary.a.export1.folded"
then
	t_pass "... which differs from what the primary holds (the comparison sees the missing profiles)"
else
	t_fail "the lagging replica's merge differs from the primary's"
fi

sql "$REPLICA" 'SELECT pg_wal_replay_resume()' >/dev/null
caught_up || t_fail "the replica catches up after resuming" "$(sql "$REPLICA" 'SELECT pg_last_wal_replay_lsn()')"
pg_same "once replay resumes, the replica server answers as SQLite with all 70" resumed "$R_URL" "$ALL_URL"

for p in "$W_PID" "$R_PID" "$OLD_PID" "$ALL_PID"; do serve_stop "$p"; done
