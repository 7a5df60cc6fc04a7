/* The SQLite backend of the benchmark-run store (bench_store_impl.h): DIR/bench.db beside the profile store. */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "server/bench_store_impl.h"

static const char schema[] =
	"PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	"CREATE TABLE IF NOT EXISTS bench_runs(tenant TEXT NOT NULL, id TEXT NOT NULL, time INTEGER NOT NULL,"
	" commit_sha TEXT NOT NULL, branch TEXT NOT NULL, machine TEXT NOT NULL, doc TEXT NOT NULL,"
	" profile_ext TEXT, profile BLOB, PRIMARY KEY(tenant, id));"
	"CREATE INDEX IF NOT EXISTS bench_runs_time ON bench_runs(tenant, time, id);"
	/* the benchmark names of each run, for the cap on benchmarks per tenant (the documents are opaque here) */
	"CREATE TABLE IF NOT EXISTS bench_names(tenant TEXT NOT NULL, name TEXT NOT NULL, id TEXT NOT NULL,"
	" PRIMARY KEY(tenant, name, id));";

static int db_err(sqlite3 *db, const char *what, struct err *e)
{
	return err_set(e, "bench runs: %s: %s", what, sqlite3_errmsg(db));
}

/* `sql` prepared with its text parameters bound; NULL with `e` set. */
static sqlite3_stmt *prepare(sqlite3 *db, const char *sql, int n, const char *const *vals, struct err *e)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_err(db, "prepare", e);
		return NULL;
	}
	for (int i = 0; i < n; i++)
		sqlite3_bind_text(st, i + 1, vals[i], -1, SQLITE_STATIC);
	return st;
}

static int sq_exec(struct bench_store *b, const char *sql, int n, const char *const *vals, struct err *e)
{
	sqlite3 *db = b->db;
	sqlite3_stmt *st;
	int s;

	if (!n)
		return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : db_err(db, "exec", e);
	if (!(st = prepare(db, sql, n, vals, e)))
		return -1;
	while ((s = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_finalize(st);
	return s == SQLITE_DONE ? 0 : db_err(db, "write", e);
}

static int sq_count(struct bench_store *b, const char *sql, int n, const char *const *vals, int64_t *out,
		    struct err *e)
{
	sqlite3_stmt *st = prepare(b->db, sql, n, vals, e);
	int rc = -1;

	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = 0;
	} else {
		db_err(b->db, "count", e);
	}
	sqlite3_finalize(st);
	return rc;
}

static int sq_rows(struct bench_store *b, const char *sql, int n, const char *const *vals, bench_row_fn fn,
		   void *arg, struct err *e)
{
	sqlite3_stmt *st = prepare(b->db, sql, n, vals, e);
	int rc = 0, s;

	if (!st)
		return -1;
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		struct bench_row row = { (const char *)sqlite3_column_text(st, 0),
					 (const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2),
					 (size_t)sqlite3_column_bytes(st, 2) };

		rc = fn(&row, arg, e);
	}
	if (!rc && s != SQLITE_DONE)
		rc = db_err(b->db, "list", e);
	sqlite3_finalize(st);
	return rc;
}

static int sq_insert(struct bench_store *b, const char *const vals[7], const void *prof, size_t plen,
		     const char *ext, struct err *e)
{
	static const char sql[] = "INSERT INTO bench_runs(tenant, id, time, commit_sha, branch, machine, doc,"
				  " profile_ext, profile) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)";
	sqlite3_stmt *st = prepare(b->db, sql, 7, vals, e);
	int s;

	if (!st)
		return -1;
	if (prof) {
		sqlite3_bind_text(st, 8, ext, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 9, plen ? prof : "", (int)plen, SQLITE_STATIC);
	}
	s = sqlite3_step(st);
	sqlite3_finalize(st);
	if (s == SQLITE_DONE)
		return 0;
	return s == SQLITE_CONSTRAINT ? 1 : db_err(b->db, "insert", e);
}

static int sq_profile(struct bench_store *b, const char *tenant, const char *id, struct buf *out, struct err *e)
{
	const char *vals[] = { tenant, id };
	sqlite3_stmt *st = prepare(b->db, "SELECT profile FROM bench_runs WHERE tenant = $1 AND id = $2"
				   " AND profile IS NOT NULL", 2, vals, e);
	int rc = -1, s;

	if (!st)
		return -1;
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		buf_add(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
		rc = 0;
	} else if (s == SQLITE_DONE) {
		rc = 1;
	} else {
		db_err(b->db, "read", e);
	}
	sqlite3_finalize(st);
	return rc;
}

static void sq_close(struct bench_store *b)
{
	sqlite3_close(b->db);
}

static const struct bench_backend sqlite_backend = {
	"BEGIN IMMEDIATE", sq_exec, sq_count, sq_rows, sq_insert, sq_profile, sq_close,
};

int bench_sqlite_open(struct bench_store *b, const char *dir, struct err *e)
{
	sqlite3 *db = NULL;
	char *path, *msg = NULL;
	int rc = -1;

	if (mkdir(dir, 0777) && errno != EEXIST)
		return err_errno(e, "cannot create directory '%s'", dir);
	path = xasprintf("%s/bench.db", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
	    SQLITE_OK) {
		err_set(e, "cannot open '%s': %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, 10000);
	if (sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, "cannot set up '%s': %s", path, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		goto out;
	}
	rc = 0;
out:
	if (rc)
		sqlite3_close(db);
	else {
		b->db = db;
		b->be = &sqlite_backend;
	}
	free(path);
	return rc;
}
