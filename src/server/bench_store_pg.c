/*
 * The PostgreSQL backend of the benchmark-run store (bench_store_impl.h): the tables bench_runs and
 * bench_names in the profile store's database (--storage postgres://...), reached with the same connection
 * string as store_pg.c, over one connection of its own (runs are few; the profile store's pool is its own).
 * A lost connection is reset once before a statement fails.
 */
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "server/bench_store_impl.h"

/* The tables, created under an advisory lock so that servers starting together do not race. */
static const char schema[] =
	"BEGIN; SELECT pg_advisory_xact_lock(1801610350);" /* "kbrn": another key than the profile store's */
	"CREATE TABLE IF NOT EXISTS bench_runs(tenant text NOT NULL, id text NOT NULL, time bigint NOT NULL,"
	" commit_sha text NOT NULL, branch text NOT NULL, machine text NOT NULL, doc text NOT NULL,"
	" profile_ext text, profile bytea, PRIMARY KEY(tenant, id));"
	"CREATE INDEX IF NOT EXISTS bench_runs_time ON bench_runs(tenant, time, id);"
	"CREATE TABLE IF NOT EXISTS bench_names(tenant text NOT NULL, name text NOT NULL, id text NOT NULL,"
	" PRIMARY KEY(tenant, name, id));"
	"COMMIT;";

static int pg_err(PGconn *c, const PGresult *r, const char *what, struct err *e)
{
	const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(c);

	err_set(e, "bench runs: %s: %.*s", what, (int)strcspn(m, "\n"), m);
	return -1;
}

/* `sql` with its parameters (text, or binary where `lengths` says), after a reset when the link was lost. */
static PGresult *run(struct bench_store *b, const char *sql, int n, const char *const *vals, const int *lengths,
		     const int *formats, int binary_result)
{
	PGconn *c = b->db;

	if (PQstatus(c) != CONNECTION_OK)
		PQreset(c);
	return n ? PQexecParams(c, sql, n, NULL, vals, lengths, formats, binary_result) : PQexec(c, sql);
}

static int ok(struct bench_store *b, PGresult *r, const char *what, struct err *e)
{
	ExecStatusType s = PQresultStatus(r);
	int rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? 0 : pg_err(b->db, r, what, e);

	PQclear(r);
	return rc;
}

static int pq_exec(struct bench_store *b, const char *sql, int n, const char *const *vals, struct err *e)
{
	return ok(b, run(b, sql, n, vals, NULL, NULL, 0), "exec", e);
}

static int pq_count(struct bench_store *b, const char *sql, int n, const char *const *vals, int64_t *out,
		    struct err *e)
{
	PGresult *r = run(b, sql, n, vals, NULL, NULL, 0);

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, "bench runs: count: %s", "not one row");
	}
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		*out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	return ok(b, r, "count", e);
}

static int pq_rows(struct bench_store *b, const char *sql, int n, const char *const *vals, bench_row_fn fn,
		   void *arg, struct err *e)
{
	PGresult *r = run(b, sql, n, vals, NULL, NULL, 0);
	int rc = 0, i;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return ok(b, r, "list", e);
	for (i = 0; !rc && i < PQntuples(r); i++) {
		struct bench_row row = { PQgetvalue(r, i, 0), PQgetisnull(r, i, 1) ? NULL : PQgetvalue(r, i, 1),
					 PQgetvalue(r, i, 2), (size_t)PQgetlength(r, i, 2) };

		rc = fn(&row, arg, e);
	}
	PQclear(r);
	return rc;
}

static int pq_insert(struct bench_store *b, const char *const vals[7], const void *prof, size_t plen,
		     const char *ext, struct err *e)
{
	static const char sql[] = "INSERT INTO bench_runs(tenant, id, time, commit_sha, branch, machine, doc,"
				  " profile_ext, profile) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)";
	const char *v[9] = { vals[0], vals[1], vals[2], vals[3], vals[4], vals[5], vals[6], prof ? ext : NULL,
			     prof ? (plen ? prof : "") : NULL };
	int lengths[9] = { 0 }, formats[9] = { 0 };
	PGresult *r;
	const char *state;

	lengths[8] = (int)plen;
	formats[8] = 1; /* the profile's bytes as they are */
	r = run(b, sql, 9, v, lengths, formats, 0);
	state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && state && !strcmp(state, "23505")) {
		PQclear(r);
		return 1; /* unique_violation: the id is taken */
	}
	return ok(b, r, "insert", e);
}

static int pq_profile(struct bench_store *b, const char *tenant, const char *id, struct buf *out, struct err *e)
{
	const char *v[] = { tenant, id };
	PGresult *r = run(b, "SELECT profile FROM bench_runs WHERE tenant = $1 AND id = $2 AND profile IS NOT NULL",
			  2, v, NULL, NULL, 1);

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return ok(b, r, "read", e);
	if (!PQntuples(r)) {
		PQclear(r);
		return 1;
	}
	buf_add(out, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
	PQclear(r);
	return 0;
}

static void pq_close(struct bench_store *b)
{
	PQfinish(b->db);
}

static const struct bench_backend pg_backend = {
	"BEGIN", pq_exec, pq_count, pq_rows, pq_insert, pq_profile, pq_close,
};

static void quiet(void *arg, const PGresult *r)
{
	(void)arg;
	(void)r;
}

int bench_pg_open(struct bench_store *b, const char *url, struct err *e)
{
	PGconn *c = PQconnectdb(url);

	if (PQstatus(c) != CONNECTION_OK) {
		pg_err(c, NULL, "cannot connect to PostgreSQL", e);
		PQfinish(c);
		return -1;
	}
	/* "relation already exists, skipping" notices are not for the server's log */
	PQsetNoticeReceiver(c, quiet, NULL);
	b->db = c;
	b->be = &pg_backend;
	if (pq_exec(b, schema, 0, NULL, e)) {
		pq_exec(b, "ROLLBACK", 0, NULL, NULL);
		PQfinish(c);
		b->db = NULL;
		b->be = NULL;
		return -1;
	}
	return 0;
}
