/*
 * The PostgreSQL backend of kiln serve's storage (store.h), for a fleet: several stateless `kiln serve`
 * processes share one database, ingesting and querying at once without coordinating.
 *
 * Ids need no central counter: a frame's id is a hash of what it is (function, file, line, module, kind), a
 * stack's id a hash of (parent stack id, frame id), a series' id a hash of its profile type and labels, and a
 * profile's id is its start time and 64 random bits. Two writers that meet the same stack insert the same row
 * and `ON CONFLICT DO NOTHING` keeps one; rows are inserted in ascending id order so that two transactions
 * touching the same ids wait on each other in one order and cannot deadlock.
 *
 * Profiles live in `kiln_profiles`, partitioned by day on their start time, so retention drops whole
 * partitions. `kiln_series_days` says which series have data on which day: listing the series of a range
 * never scans profiles. Each process caches which ids it has already written (so steady ingest of known stacks
 * writes only the profile row) and what stack and frame ids resolve to (so queries of hot stacks do not ask
 * the database again); both caches are bounded and simply emptied when full.
 */
#include "server/store_pg.h"

#include <stdlib.h>
#include <sys/random.h>

#include "profile/profile.h"

/* ---- the connection pool ---- */

static PGconn *pool_take(struct pg_pool *p, struct err *e)
{
	PGconn *c = NULL;
	int slot = -1;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		for (int i = 0; i < p->nconns; i++)
			if (!p->busy[i]) {
				slot = i;
				break;
			}
		if (slot >= 0 || p->nconns < POOL_MAX)
			break;
		pthread_cond_wait(&p->cond, &p->lock);
	}
	if (slot < 0) {
		slot = p->nconns++;
		p->conns[slot] = NULL;
	}
	p->busy[slot] = true;
	c = p->conns[slot];
	pthread_mutex_unlock(&p->lock);

	if (!c) {
		c = PQconnectdb(p->conninfo);
		PQsetNoticeProcessor(c, NULL, NULL);
	} else if (PQstatus(c) != CONNECTION_OK) {
		PQreset(c);
	}
	if (PQstatus(c) != CONNECTION_OK) {
		err_set(e, "cannot connect to PostgreSQL: %s", PQerrorMessage(c));
		one_line(e);
	}
	pthread_mutex_lock(&p->lock);
	p->conns[slot] = c;
	if (PQstatus(c) != CONNECTION_OK) {
		p->busy[slot] = false;
		pthread_cond_signal(&p->cond);
		c = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	return c;
}

PGconn *pool_get(struct pg_store *s, struct err *e)
{
	return pool_take(&s->primary, e);
}

PGconn *read_get(struct pg_store *s, struct err *e)
{
	return pool_take(s->reads, e);
}

static bool pool_give(struct pg_pool *p, PGconn *c)
{
	bool found = false;

	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < p->nconns; i++)
		if (p->conns[i] == c) {
			p->busy[i] = false;
			found = true;
		}
	if (found)
		pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return found;
}

void pool_put(struct pg_store *s, PGconn *c)
{
	PGTransactionStatusType st = c ? PQtransactionStatus(c) : PQTRANS_UNKNOWN;

	/* A caller that failed inside its transaction (a query's snapshot) leaves it to be rolled back here. */
	if (st == PQTRANS_INTRANS || st == PQTRANS_INERROR)
		PQclear(PQexec(c, "ROLLBACK"));
	if (c && !pool_give(&s->primary, c))
		pool_give(&s->replica, c);
}

static void pool_init(struct pg_pool *p, const char *conninfo)
{
	p->conninfo = xstrdup(conninfo);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
}

static void pool_release(struct pg_pool *p)
{
	if (!p->conninfo)
		return;
	for (int i = 0; i < p->nconns; i++)
		PQfinish(p->conns[i]);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->conninfo);
}

static void nonotice(void *arg, const PGresult *r)
{
	(void)arg;
	(void)r;
}

/* Runs `sql` with text parameters (`bin` marks binary ones, with their lengths); binary results when asked. */
PGresult *run(PGconn *c, const char *sql, int n, const char *const *vals, const int *lens, const int *bin,
		     int binary_result, struct err *e)
{
	PGresult *r;
	ExecStatusType st;

	PQsetNoticeReceiver(c, nonotice, NULL);
	r = PQexecParams(c, sql, n, NULL, vals, lens, bin, binary_result);
	st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	err_set(e, "PostgreSQL: %s", PQresultErrorMessage(r));
	one_line(e);
	PQclear(r);
	return NULL;
}

int run_ok(PGconn *c, const char *sql, int n, const char *const *vals, struct err *e)
{
	PGresult *r = run(c, sql, n, vals, NULL, NULL, 0, e);

	PQclear(r);
	return r ? 0 : -1;
}

int pg_send(PGconn *c, const char *sql, int n, const char *const *vals, const int *lens, const int *bin,
	    struct err *e)
{
	if (PQsendQueryParams(c, sql, n, NULL, vals, lens, bin, 0))
		return 0;
	err_set(e, "PostgreSQL: %s", PQerrorMessage(c));
	one_line(e);
	return -1;
}

/* ---- schema ---- */

/*
 * The version of the tables below, kept in kiln_schema. There is no migration: a database of another version
 * is refused with a one-line message (as the SQLite store refuses another format version). Version 1 (no
 * kiln_schema table) stored a row per stack node; version 2 stores a row per stored stack, its frame ids whole;
 * version 3 keeps each profile's total in the index of the profiles by series and time as well, so that a
 * timeline reads the index alone (a week of a fleet's totals: 200 ms, where reading them from the table's
 * rows, whole packed profiles beside them, took 550 ms).
 */
#define SCHEMA_VERSION 3

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS kiln_schema (version integer NOT NULL);"
	"INSERT INTO kiln_schema SELECT 3 WHERE NOT EXISTS (SELECT 1 FROM kiln_schema);"
	"CREATE TABLE IF NOT EXISTS kiln_frames (tenant text NOT NULL, id bigint NOT NULL, name text NOT NULL,"
	" file text NOT NULL, line bigint NOT NULL, module text NOT NULL, kind integer NOT NULL, addr bigint NOT NULL,"
	" PRIMARY KEY (tenant, id));"
	/* `frames`: the frame ids from the root down, 8 bytes each, big-endian (store_pg_ingest.c). */
	"CREATE TABLE IF NOT EXISTS kiln_stacks (tenant text NOT NULL, id bigint NOT NULL, frames bytea NOT NULL,"
	" PRIMARY KEY (tenant, id));"
	"CREATE TABLE IF NOT EXISTS kiln_series (tenant text NOT NULL, id bigint NOT NULL,"
	" profile_type text NOT NULL, labels text NOT NULL, PRIMARY KEY (tenant, id));"
	"CREATE TABLE IF NOT EXISTS kiln_series_days (tenant text NOT NULL, day integer NOT NULL,"
	" series bigint NOT NULL, PRIMARY KEY (tenant, day, series));"
	"CREATE TABLE IF NOT EXISTS kiln_profiles (tenant text NOT NULL, id text NOT NULL, series bigint NOT NULL,"
	" from_ns bigint NOT NULL, until_ns bigint NOT NULL, total bigint NOT NULL, data bytea NOT NULL)"
	" PARTITION BY RANGE (from_ns);"
	"CREATE INDEX IF NOT EXISTS kiln_profiles_series ON kiln_profiles (tenant, series, from_ns) INCLUDE (total);"
	"CREATE TABLE IF NOT EXISTS kiln_rollups (tenant text NOT NULL, series bigint NOT NULL, level integer NOT NULL,"
	" bucket bigint NOT NULL, profiles integer NOT NULL, total bigint NOT NULL, data bytea NOT NULL);"
	"CREATE INDEX IF NOT EXISTS kiln_rollups_bucket ON kiln_rollups (tenant, level, series, bucket);"
	"CREATE TABLE IF NOT EXISTS kiln_compaction (tenant text PRIMARY KEY, hour_until bigint NOT NULL DEFAULT 0,"
	" day_until bigint NOT NULL DEFAULT 0);";

/* Refuses a database whose kiln tables are of another schema version; an empty one is fine (`*have` 0). */
static int check_version(PGconn *c, int *have, struct err *e)
{
	PGresult *r = run(c, "SELECT to_regclass('kiln_schema') IS NOT NULL, to_regclass('kiln_stacks') IS NOT NULL",
			  0, NULL, NULL, NULL, 0, e);
	int v = 0;

	if (!r)
		return -1;
	if (*PQgetvalue(r, 0, 0) == 't') {
		PQclear(r);
		r = run(c, "SELECT coalesce(max(version), 0) FROM kiln_schema", 0, NULL, NULL, NULL, 0, e);
		if (!r)
			return -1;
		v = atoi(PQgetvalue(r, 0, 0));
	} else if (*PQgetvalue(r, 0, 1) == 't') {
		v = 1; /* version 1 had no kiln_schema */
	}
	PQclear(r);
	if (have)
		*have = v;
	if (v && v != SCHEMA_VERSION)
		return err_set(e, "the PostgreSQL database holds kiln tables of schema version %d, this kiln needs %d"
			       " (there is no migration: use a new database)", v, SCHEMA_VERSION);
	return 0;
}

static int create_schema(PGconn *c, struct err *e)
{
	char lock[64];
	const char *v[] = { lock };
	int have = 0;

	snprintf(lock, sizeof(lock), "%d", SCHEMA_LOCK);
	if (run_ok(c, "BEGIN", 0, NULL, e) || run_ok(c, "SELECT pg_advisory_xact_lock($1::int, 0)", 1, v, e) ||
	    check_version(c, &have, e))
		goto fail;
	/* The tables and kiln_schema's row are created in one transaction: with the row, they are all there. Their
	 * CREATE INDEX IF NOT EXISTS would still lock the tables, and deadlock with servers already ingesting. */
	if (have)
		return run_ok(c, "COMMIT", 0, NULL, e);
	PGresult *r = PQexec(c, schema_sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		err_set(e, "creating kiln's tables in PostgreSQL: %s", PQresultErrorMessage(r));
		one_line(e);
		PQclear(r);
		goto fail;
	}
	PQclear(r);
	return run_ok(c, "COMMIT", 0, NULL, e);
fail:
	PQclear(PQexec(c, "ROLLBACK"));
	return -1;
}

/* ---- open / close ---- */

void pg_close(struct store *h)
{
	struct pg_store *s = (struct pg_store *)h;

	if (!s)
		return;
	pool_release(&s->primary);
	pool_release(&s->replica);
	pthread_mutex_destroy(&s->cache_lock);
	pthread_mutex_destroy(&s->group_lock);
	pthread_cond_destroy(&s->group_cond);
	u64map_release(&s->written);
	u64map_release(&s->last_write);
	u64map_release(&s->written_old);
	pg_nodes_release(s);
	strtab_release(&s->strings);
	pthread_rwlock_destroy(&s->nodes_lock);
	free(s);
}

struct store *store_pg_open(const struct store_opts *o, struct err *e)
{
	struct pg_store *s = xcalloc(1, sizeof(*s));
	PGconn *c;

	s->base.be = &store_pg_backend;
	s->max_series = o->max_series;
	s->retention_ns = o->retention_ns;
	s->settle_ns = o->settle_ns;
	s->read_only = o->read_only;
	pool_init(&s->primary, o->location);
	s->reads = &s->primary;
	if (o->read_location) {
		pool_init(&s->replica, o->read_location);
		s->reads = &s->replica;
	}
	pthread_mutex_init(&s->cache_lock, NULL);
	pthread_rwlock_init(&s->nodes_lock, NULL);
	s->nodes_max = NODES_MAX;
	pthread_mutex_init(&s->group_lock, NULL);
	pthread_cond_init(&s->group_cond, NULL);
	strtab_intern(&s->strings, "", 0);

	c = pool_get(s, e);
	if (!c || (s->read_only ? check_version(c, NULL, e) : create_schema(c, e))) {
		pool_put(s, c);
		pg_close(&s->base);
		return NULL;
	}
	pool_put(s, c);
	/* A replica that cannot be reached now is an error now, not at the first query; so is one of other tables
	 * (another database than the primary's). */
	if (s->reads != &s->primary && (!(c = read_get(s, e)) || check_version(c, NULL, e))) {
		pool_put(s, c);
		pg_close(&s->base);
		return NULL;
	}
	pool_put(s, c);
	return &s->base;
}

/* Empties the caches when they are full: they only save round trips, so forgetting is always correct. */
void caches_bound(struct pg_store *s)
{
	if (s->written.nr > CACHE_MAX) {
		u64map_release(&s->written_old);
		s->written_old = s->written;
		s->written = (struct u64map)U64MAP_INIT;
	}
}

