#!/bin/sh
# A throw-away PostgreSQL cluster for tests and benchmarks: `pg-cluster.sh start DIR` creates a cluster in DIR
# (initdb, trust authentication, a Unix socket in DIR, no TCP), starts it, creates the database `kiln` and
# prints its connection URL; `pg-cluster.sh replica PRIMARY_DIR DIR` makes a streaming replica of that cluster in
# DIR (pg_basebackup -R, hot standby) and prints its URL; `pg-cluster.sh stop DIR` stops either.
# KILN_PG_OPTS adds server options (e.g. "-c shared_buffers=1GB" for a benchmark). PostgreSQL refuses to run
# as root, so as root the cluster runs as the `postgres` user (Debian's packages create it). Exit 77 when PostgreSQL is not
# installed or cannot start (the reason on stderr), so that callers can report the test skipped.
set -eu

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: pg-cluster.sh start|stop DIR | replica PRIMARY_DIR DIR" >&2; exit 2; }

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
	echo "PostgreSQL server binaries not found (apt-get install postgresql-15)" >&2
	exit 77
fi

as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# Starts the cluster in $dir/data on a port of its own (the port number names the socket file, so that
# clusters of parallel tests do not meet) and prints its URL; `extra` are more server options.
serve() {
	extra=$1
	port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 20000))
	if ! as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-c listen_addresses='' -c unix_socket_directories='$dir' -p $port -c fsync=on -c max_connections=50 $extra ${KILN_PG_OPTS:-}" \
		start >/dev/null 2>&1; then
		echo "PostgreSQL did not start: $(tail -n 1 "$dir/server.log" 2>/dev/null)" >&2
		exit 77
	fi
	echo "$port" >"$dir/port"
}

case "$cmd" in
replica)
	primary=$dir
	dir=${3:-}
	[ -n "$dir" ] && [ -r "$primary/port" ] || { echo "usage: pg-cluster.sh replica PRIMARY_DIR DIR" >&2; exit 2; }
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
	# -R writes primary_conninfo and standby.signal: the copy starts as a hot standby that streams from the
	# primary (initdb's pg_hba.conf trusts local replication connections). --checkpoint=fast: the default
	# spread checkpoint makes the copy wait most of checkpoint_timeout on an idle cluster (93 s here).
	if ! as_owner "$bindir/pg_basebackup" -h "$primary" -p "$(cat "$primary/port")" -U postgres -D "$dir/data" \
		-R -X stream --checkpoint=fast >"$dir/basebackup.log" 2>&1; then
		echo "pg_basebackup failed: $(tail -n 1 "$dir/basebackup.log")" >&2
		exit 77
	fi
	serve "-c hot_standby=on"
	echo "postgresql://postgres@/kiln?host=$dir&port=$port"
	;;
start)
	if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
		echo "no 'postgres' user to run PostgreSQL as" >&2
		exit 77
	fi
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
	if ! as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1; then
		echo "initdb failed: $(tail -n 1 "$dir/initdb.log")" >&2
		exit 77
	fi
	serve ""
	if ! "$bindir/psql" -q -h "$dir" -p "$port" -U postgres -d postgres -c 'CREATE DATABASE kiln' >/dev/null 2>&1; then
		echo "cannot create the database: see $dir/server.log" >&2
		exit 77
	fi
	echo "postgresql://postgres@/kiln?host=$dir&port=$port"
	;;
stop)
	[ -d "$dir/data" ] || exit 0
	as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	;;
*)
	echo "usage: pg-cluster.sh start|stop DIR | replica PRIMARY_DIR DIR" >&2
	exit 2
	;;
esac
