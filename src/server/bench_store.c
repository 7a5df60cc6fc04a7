/* The benchmark runs of kiln serve (bench_store.h): one table in DIR/bench.db. */
#include "server/bench_store.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "bench/history.h"
#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/xalloc.h"

struct bench_store {
	sqlite3 *db;
	pthread_mutex_t lock;
	struct bench_limits lim;
};

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

/* Runs measured before this are past the retention (INT64_MIN: none is). */
static int64_t cutoff(const struct bench_store *b)
{
	return b->lim.retention_s > 0 ? (int64_t)time(NULL) - b->lim.retention_s : INT64_MIN;
}

/* Deletes the runs past the retention, with their names. Called with the lock held (or before any thread). */
static int drop_expired(struct bench_store *b, struct err *e)
{
	static const char sql[] =
		"BEGIN IMMEDIATE;"
		"DELETE FROM bench_names WHERE (tenant, id) IN (SELECT tenant, id FROM bench_runs WHERE time < ?1);"
		"DELETE FROM bench_runs WHERE time < ?1;";
	const char *tail = sql;
	int rc = 0;

	if (b->lim.retention_s <= 0)
		return 0;
	while (!rc && *tail) {
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(b->db, tail, -1, &st, &tail) != SQLITE_OK) {
			rc = db_err(b->db, "retention", e);
			break;
		}
		if (!st)
			break;
		if (sqlite3_bind_parameter_count(st))
			sqlite3_bind_int64(st, 1, cutoff(b));
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_err(b->db, "retention", e);
		sqlite3_finalize(st);
	}
	sqlite3_exec(b->db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
	return rc;
}

struct bench_store *bench_store_open(const char *location, const struct bench_limits *lim, struct err *e)
{
	struct bench_store *b;
	char *path, *msg = NULL;

	if (!strncmp(location, "postgres://", 11) || !strncmp(location, "postgresql://", 13)) {
		err_set(e, "benchmark runs are stored with the SQLite store only (--storage DIR), not in PostgreSQL");
		return NULL;
	}
	if (mkdir(location, 0777) && errno != EEXIST) {
		err_errno(e, "cannot create directory '%s'", location);
		return NULL;
	}
	b = xcalloc(1, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
	if (lim)
		b->lim = *lim;
	path = xasprintf("%s/bench.db", location);
	if (sqlite3_open_v2(path, &b->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
	    SQLITE_OK) {
		err_set(e, "cannot open '%s': %s", path, b->db ? sqlite3_errmsg(b->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(b->db, 10000);
	if (sqlite3_exec(b->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, "cannot set up '%s': %s", path, msg ? msg : sqlite3_errmsg(b->db));
		sqlite3_free(msg);
		goto fail;
	}
	free(path);
	if (drop_expired(b, e))
		goto fail_nopath;
	return b;
fail:
	free(path);
fail_nopath:
	bench_store_close(b);
	return NULL;
}

void bench_store_close(struct bench_store *b)
{
	if (!b)
		return;
	sqlite3_close(b->db);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* Ids read like the directory store's file names (time first), with random bits instead of a counter. */
static void make_id(const struct hist_run *r, char *id, size_t idsz)
{
	time_t t = (time_t)r->time;
	unsigned char rnd[6] = { 0 };
	struct buf b = BUF_INIT;
	struct tm tm;
	char date[32];
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		for (i = 0; i < sizeof(rnd); i++)
			rnd[i] = (unsigned char)rand();
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm);
	buf_addf(&b, "%s-", date);
	for (i = 0; r->commit[i] && i < 12; i++) {
		char c = r->commit[i];

		buf_addch(&b, (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_');
	}
	buf_addch(&b, '-');
	for (i = 0; i < sizeof(rnd); i++)
		buf_addf(&b, "%02x", rnd[i]);
	snprintf(id, idsz, "%s", b.buf);
	buf_release(&b);
}

/* An integer that `sql` selects for ?1 = tenant and ?2 = name; -1 with `e` set on a storage fault. */
static int count_of(struct bench_store *b, const char *sql, const char *tenant, const char *name, int64_t *out,
		    struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(b->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_err(b->db, "prepare", e);
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	if (name)
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = 0;
	} else {
		db_err(b->db, "count", e);
	}
	sqlite3_finalize(st);
	return rc;
}

/* The tenant's caps on runs and on distinct benchmarks, with `r` added: 0, 429 past one, -1 on a fault. */
static int check_caps(struct bench_store *b, const char *tenant, const struct hist_run *r, struct err *e)
{
	int64_t have = 0, known = 0;
	size_t k, j;

	if (b->lim.max_runs) {
		if (count_of(b, "SELECT count(*) FROM bench_runs WHERE tenant = ?1", tenant, NULL, &have, e))
			return -1;
		if ((uint64_t)have >= b->lim.max_runs)
			return err_set(e, "the tenant has %" PRId64 " benchmark runs, the limit (--max-bench-runs): "
				       "no more until the retention drops old ones", have), 429;
	}
	if (!b->lim.max_benchmarks)
		return 0;
	if (count_of(b, "SELECT count(DISTINCT name) FROM bench_names WHERE tenant = ?1", tenant, NULL, &have, e))
		return -1;
	for (k = 0; k < r->set.nr; k++) {
		const char *name = r->set.v[k].name;

		for (j = 0; j < k && strcmp(r->set.v[j].name, name); j++)
			;
		if (j < k)
			continue; /* another metric of a benchmark already counted */
		if (count_of(b, "SELECT EXISTS(SELECT 1 FROM bench_names WHERE tenant = ?1 AND name = ?2)", tenant, name,
			     &known, e))
			return -1;
		if (!known && (uint64_t)++have > b->lim.max_benchmarks)
			return err_set(e, "benchmark '%.100s' would be the tenant's %" PRId64 "th, past the limit of %" PRIu64
				       " (--max-benchmarks)", name, have, b->lim.max_benchmarks), 429;
	}
	return 0;
}

/* The run's row with a fresh id; -1 with `e` set. */
static int insert_run(struct bench_store *b, const char *tenant, const struct hist_run *r, const char *doc,
		      size_t len, const void *prof, size_t plen, const char *ext, char *id, size_t idsz, struct err *e)
{
	static const char sql[] = "INSERT INTO bench_runs(tenant, id, time, commit_sha, branch, machine, doc,"
				  " profile_ext, profile) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = NULL;
	int rc = -1, attempt;

	if (sqlite3_prepare_v2(b->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_err(b->db, "prepare", e);
	/* 48 random bits per second and commit: a second attempt is for the unthinkable, not for load. */
	for (attempt = 0; attempt < 3; attempt++) {
		int s;

		make_id(r, id, idsz);
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, r->time);
		sqlite3_bind_text(st, 4, r->commit, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, r->branch, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, r->machine, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, doc, (int)len, SQLITE_STATIC);
		if (prof) {
			sqlite3_bind_text(st, 8, ext, -1, SQLITE_STATIC);
			sqlite3_bind_blob(st, 9, plen ? prof : "", (int)plen, SQLITE_STATIC);
		} else {
			sqlite3_bind_null(st, 8);
			sqlite3_bind_null(st, 9);
		}
		s = sqlite3_step(st);
		if (s == SQLITE_DONE) {
			rc = 0;
			goto out;
		}
		if (s != SQLITE_CONSTRAINT) {
			db_err(b->db, "insert", e);
			goto out;
		}
	}
	err_set(e, "bench runs: no free id for the run");
out:
	sqlite3_finalize(st);
	return rc;
}

static int insert_names(struct bench_store *b, const char *tenant, const struct hist_run *r, const char *id,
			struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;
	size_t k;

	if (sqlite3_prepare_v2(b->db, "INSERT OR IGNORE INTO bench_names(tenant, name, id) VALUES(?, ?, ?)", -1, &st,
			       NULL) != SQLITE_OK)
		return db_err(b->db, "prepare", e);
	for (k = 0; !rc && k < r->set.nr; k++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, r->set.v[k].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_err(b->db, "insert", e);
	}
	sqlite3_finalize(st);
	return rc;
}

int bench_store_add(struct bench_store *b, const char *tenant, const struct hist_run *r, const char *doc,
		    size_t len, const void *prof, size_t plen, const char *ext, char *id, size_t idsz, struct err *e)
{
	size_t samples = 0, k;
	int rc;

	for (k = 0; k < r->set.nr; k++)
		samples += r->set.v[k].n;
	if (b->lim.max_samples && samples > b->lim.max_samples)
		return err_set(e, "the run has %zu samples, more than the limit of %zu (--max-bench-samples)", samples,
			       b->lim.max_samples), 400;
	if (r->time < cutoff(b))
		return err_set(e, "the run's time %" PRId64 " is older than the retention (--retention)", r->time), 400;
	pthread_mutex_lock(&b->lock);
	if (drop_expired(b, e)) {
		rc = -1;
		goto out;
	}
	if (sqlite3_exec(b->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_err(b->db, "begin", e);
		goto out;
	}
	rc = check_caps(b, tenant, r, e);
	if (!rc)
		rc = insert_run(b, tenant, r, doc, len, prof, plen, ext, id, idsz, e);
	if (!rc)
		rc = insert_names(b, tenant, r, id, e);
	if (!rc && sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = db_err(b->db, "commit", e);
	if (rc)
		sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
out:
	pthread_mutex_unlock(&b->lock);
	return rc;
}

static void json_str(struct buf *out, const char *s)
{
	buf_addch(out, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			buf_addf(out, "\\%c", c);
		else if (c < 0x20)
			buf_addf(out, "\\u%04x", c);
		else
			buf_addch(out, (char)c);
	}
	buf_addch(out, '"');
}

/* The runs of a tenant (of a branch, machine or id when not NULL), oldest first: id, profile_ext, doc. */
static sqlite3_stmt *select_runs(struct bench_store *b, const char *tenant, const char *branch, const char *machine,
				 const char *id, struct err *e)
{
	static const char sql[] = "SELECT id, profile_ext, doc FROM bench_runs WHERE tenant = ?1"
				  " AND (?2 IS NULL OR branch = ?2) AND (?3 IS NULL OR machine = ?3)"
				  " AND (?4 IS NULL OR id = ?4) AND time >= ?5 ORDER BY time, id";
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(b->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_err(b->db, "prepare", e);
		return NULL;
	}
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, branch, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, machine, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
	/* runs past the retention that are not dropped yet stay out of sight */
	sqlite3_bind_int64(st, 5, cutoff(b));
	return st;
}

int bench_store_list(struct bench_store *b, const char *tenant, const char *branch, const char *machine,
		     const char *id, struct buf *out, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, s, n = 0;

	pthread_mutex_lock(&b->lock);
	if (!(st = select_runs(b, tenant, branch, machine, id, e)))
		goto out;
	buf_adds(out, "{\"runs\":[");
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *rid = (const char *)sqlite3_column_text(st, 0);
		const char *ext = (const char *)sqlite3_column_text(st, 1);

		/* The document was validated as JSON when it was pushed: it is embedded as it is. */
		buf_adds(out, n++ ? ",\n{\"id\":" : "\n{\"id\":");
		json_str(out, rid);
		buf_adds(out, ",\"profile\":");
		/* Ids are made of [A-Za-z0-9_-] (make_id) and extensions are checked when pushed: nothing to escape. */
		if (ext)
			buf_addf(out, "\"profiles/%s%s\"", rid, ext);
		else
			buf_adds(out, "null");
		buf_adds(out, ",\"run\":");
		buf_add(out, sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2));
		buf_addch(out, '}');
	}
	if (s != SQLITE_DONE) {
		db_err(b->db, "list", e);
		goto out;
	}
	buf_adds(out, "]}\n");
	rc = 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&b->lock);
	return rc;
}

int bench_store_hist(struct bench_store *b, const char *tenant, const char *branch, const char *machine,
		     struct hist *h, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, s;

	memset(h, 0, sizeof(*h));
	pthread_mutex_lock(&b->lock);
	if (!(st = select_runs(b, tenant, branch, machine, NULL, e)))
		goto out;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *rid = (const char *)sqlite3_column_text(st, 0);
		const char *ext = (const char *)sqlite3_column_text(st, 1);
		struct hist_run run;

		if (hist_parse_run(&run, (const char *)sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2),
				   rid, e))
			goto out;
		free(run.stem);
		run.stem = xstrdup(rid);
		free(run.profile);
		run.profile = ext ? xasprintf("profiles/%s%s", rid, ext) : NULL;
		ALLOC_GROW(h->v, h->nr + 1, h->alloc);
		h->v[h->nr++] = run;
	}
	if (s != SQLITE_DONE) {
		db_err(b->db, "list", e);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&b->lock);
	return rc;
}

int bench_store_profile(struct bench_store *b, const char *tenant, const char *id, struct buf *out, struct err *e)
{
	static const char sql[] = "SELECT profile FROM bench_runs WHERE tenant = ? AND id = ? AND profile IS NOT NULL";
	sqlite3_stmt *st = NULL;
	int rc = -1, s;

	pthread_mutex_lock(&b->lock);
	if (sqlite3_prepare_v2(b->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_err(b->db, "prepare", e);
		goto out;
	}
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		buf_add(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
		rc = 0;
	} else if (s == SQLITE_DONE) {
		rc = 1;
	} else {
		db_err(b->db, "read", e);
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&b->lock);
	return rc;
}
