/*
 * The benchmark runs of kiln serve (bench_store.h): what does not depend on the database (the limits, the
 * listing, the history, the ids) over a backend of bench_store_impl.h, SQLite or PostgreSQL.
 */
#include "server/bench_store.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "bench/history.h"
#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "server/bench_store_impl.h"
#include "server/store.h"

/* Runs measured before this are past the retention (INT64_MIN: none is), as a parameter's text. */
static void cutoff(const struct bench_store *b, char *out, size_t size)
{
	snprintf(out, size, "%" PRId64, b->lim.retention_s > 0 ? (int64_t)time(NULL) - b->lim.retention_s : INT64_MIN);
}

/* Deletes the runs past the retention, with their names. Called with the lock held (or before any thread). */
static int drop_expired(struct bench_store *b, struct err *e)
{
	char cut[32];
	const char *v[] = { cut };
	int rc;

	if (b->lim.retention_s <= 0)
		return 0;
	cutoff(b, cut, sizeof(cut));
	if (b->be->exec(b, b->be->begin, 0, NULL, e))
		return -1;
	rc = b->be->exec(b, "DELETE FROM bench_names WHERE (tenant, id) IN"
			 " (SELECT tenant, id FROM bench_runs WHERE time < CAST($1 AS BIGINT))", 1, v, e);
	if (!rc)
		rc = b->be->exec(b, "DELETE FROM bench_runs WHERE time < CAST($1 AS BIGINT)", 1, v, e);
	if (!rc)
		rc = b->be->exec(b, "COMMIT", 0, NULL, e);
	if (rc)
		b->be->exec(b, "ROLLBACK", 0, NULL, NULL);
	return rc;
}

struct bench_store *bench_store_open(const char *location, const struct bench_limits *lim, struct err *e)
{
	struct bench_store *b = xcalloc(1, sizeof(*b));
	bool pg = store_is_postgres(location);

	pthread_mutex_init(&b->lock, NULL);
	if (lim)
		b->lim = *lim;
	if ((pg ? bench_pg_open(b, location, e) : bench_sqlite_open(b, location, e)) || drop_expired(b, e)) {
		bench_store_close(b);
		return NULL;
	}
	return b;
}

void bench_store_close(struct bench_store *b)
{
	if (!b)
		return;
	if (b->be)
		b->be->close(b);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

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

/* The tenant's caps on runs and on distinct benchmarks, with `r` added: 0, 429 past one, -1 on a fault. */
static int check_caps(struct bench_store *b, const char *tenant, const struct hist_run *r, struct err *e)
{
	int64_t have = 0, known = 0;
	size_t k, j;

	if (b->lim.max_runs) {
		if (b->be->count(b, "SELECT count(*) FROM bench_runs WHERE tenant = $1", 1, &tenant, &have, e))
			return -1;
		if ((uint64_t)have >= b->lim.max_runs)
			return err_set(e, "the tenant has %" PRId64 " benchmark runs, the limit (--max-bench-runs): "
				       "no more until the retention drops old ones", have), 429;
	}
	if (!b->lim.max_benchmarks)
		return 0;
	if (b->be->count(b, "SELECT count(DISTINCT name) FROM bench_names WHERE tenant = $1", 1, &tenant, &have, e))
		return -1;
	for (k = 0; k < r->set.nr; k++) {
		const char *v[] = { tenant, r->set.v[k].name };

		for (j = 0; j < k && strcmp(r->set.v[j].name, v[1]); j++)
			;
		if (j < k)
			continue; /* another metric of a benchmark already counted */
		if (b->be->count(b, "SELECT count(*) FROM (SELECT 1 FROM bench_names WHERE tenant = $1 AND name = $2"
				 " LIMIT 1) AS x", 2, v, &known, e))
			return -1;
		if (!known && (uint64_t)++have > b->lim.max_benchmarks)
			return err_set(e, "benchmark '%.100s' would be the tenant's %" PRId64 "th, past the limit of %" PRIu64
				       " (--max-benchmarks)", v[1], have, b->lim.max_benchmarks), 429;
	}
	return 0;
}

/* The run's row with a fresh id, and its benchmark names; -1 with `e` set. */
static int insert_run(struct bench_store *b, const char *tenant, const struct hist_run *r, const char *doc,
		      size_t len, const void *prof, size_t plen, const char *ext, char *id, size_t idsz, struct err *e)
{
	char when[32], *text = xstrndup(doc, len);
	const char *v[7] = { tenant, id, when, r->commit, r->branch, r->machine, text };
	int rc = 1, attempt;
	size_t k;

	snprintf(when, sizeof(when), "%" PRId64, r->time);
	/* 48 random bits per second and commit: a second attempt is for the unthinkable, not for load. */
	for (attempt = 0; rc == 1 && attempt < 3; attempt++) {
		make_id(r, id, idsz);
		rc = b->be->insert(b, v, prof, plen, ext, e);
	}
	if (rc == 1)
		rc = err_set(e, "bench runs: no free id for the run");
	for (k = 0; !rc && k < r->set.nr; k++) {
		const char *n[] = { tenant, r->set.v[k].name, id };

		/* a benchmark has a row per metric in the run: its name is kept once */
		rc = b->be->exec(b, "INSERT INTO bench_names(tenant, name, id) VALUES($1, $2, $3) ON CONFLICT DO NOTHING",
				 3, n, e);
	}
	free(text);
	return rc;
}

int bench_store_add(struct bench_store *b, const char *tenant, const struct hist_run *r, const char *doc,
		    size_t len, const void *prof, size_t plen, const char *ext, char *id, size_t idsz, struct err *e)
{
	size_t samples = 0, k;
	char cut[32];
	int rc;

	for (k = 0; k < r->set.nr; k++)
		samples += r->set.v[k].n;
	if (b->lim.max_samples && samples > b->lim.max_samples)
		return err_set(e, "the run has %zu samples, more than the limit of %zu (--max-bench-samples)", samples,
			       b->lim.max_samples), 400;
	cutoff(b, cut, sizeof(cut));
	if (r->time < strtoll(cut, NULL, 10))
		return err_set(e, "the run's time %" PRId64 " is older than the retention (--retention)", r->time), 400;
	pthread_mutex_lock(&b->lock);
	if (drop_expired(b, e) || b->be->exec(b, b->be->begin, 0, NULL, e)) {
		rc = -1;
		goto out;
	}
	rc = check_caps(b, tenant, r, e);
	if (!rc)
		rc = insert_run(b, tenant, r, doc, len, prof, plen, ext, id, idsz, e);
	if (!rc)
		rc = b->be->exec(b, "COMMIT", 0, NULL, e);
	if (rc)
		b->be->exec(b, "ROLLBACK", 0, NULL, NULL);
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

/* The runs of a tenant (of a branch, machine or id when not NULL), oldest first, to `fn`. */
static int each_run(struct bench_store *b, const char *tenant, const char *branch, const char *machine,
		    const char *id, bench_row_fn fn, void *arg, struct err *e)
{
	char cut[32];
	const char *v[] = { tenant, branch, machine, id, cut };

	/* runs past the retention that are not dropped yet stay out of sight */
	cutoff(b, cut, sizeof(cut));
	return b->be->rows(b, "SELECT id, profile_ext, doc FROM bench_runs WHERE tenant = $1"
			   " AND (CAST($2 AS TEXT) IS NULL OR branch = $2) AND (CAST($3 AS TEXT) IS NULL OR machine = $3)"
			   " AND (CAST($4 AS TEXT) IS NULL OR id = $4) AND time >= CAST($5 AS BIGINT) ORDER BY time, id", 5,
			   v, fn, arg, e);
}

static int list_row(const struct bench_row *row, void *arg, struct err *e)
{
	struct buf *out = arg;

	/* The document was validated as JSON when it was pushed: it is embedded as it is. */
	buf_adds(out, out->buf[out->len - 1] == '[' ? "\n{\"id\":" : ",\n{\"id\":");
	json_str(out, row->id);
	buf_adds(out, ",\"profile\":");
	/* Ids are made of [A-Za-z0-9_-] (make_id) and extensions are checked when pushed: nothing to escape. */
	if (row->ext)
		buf_addf(out, "\"profiles/%s%s\"", row->id, row->ext);
	else
		buf_adds(out, "null");
	buf_adds(out, ",\"run\":");
	buf_add(out, row->doc, row->len);
	buf_addch(out, '}');
	return 0;
}

int bench_store_list(struct bench_store *b, const char *tenant, const char *branch, const char *machine,
		     const char *id, struct buf *out, struct err *e)
{
	size_t start = out->len;
	int rc;

	pthread_mutex_lock(&b->lock);
	buf_adds(out, "{\"runs\":[");
	rc = each_run(b, tenant, branch, machine, id, list_row, out, e);
	buf_adds(out, "]}\n");
	pthread_mutex_unlock(&b->lock);
	if (rc)
		buf_setlen(out, start);
	return rc ? -1 : 0;
}

static int hist_row(const struct bench_row *row, void *arg, struct err *e)
{
	struct hist *h = arg;
	struct hist_run run;

	if (hist_parse_run(&run, row->doc, row->len, row->id, e))
		return -1;
	free(run.stem);
	run.stem = xstrdup(row->id);
	free(run.profile);
	run.profile = row->ext ? xasprintf("profiles/%s%s", row->id, row->ext) : NULL;
	ALLOC_GROW(h->v, h->nr + 1, h->alloc);
	h->v[h->nr++] = run;
	return 0;
}

int bench_store_hist(struct bench_store *b, const char *tenant, const char *branch, const char *machine,
		     struct hist *h, struct err *e)
{
	int rc;

	memset(h, 0, sizeof(*h));
	pthread_mutex_lock(&b->lock);
	rc = each_run(b, tenant, branch, machine, NULL, hist_row, h, e);
	pthread_mutex_unlock(&b->lock);
	return rc ? -1 : 0;
}

int bench_store_profile(struct bench_store *b, const char *tenant, const char *id, struct buf *out, struct err *e)
{
	int rc;

	pthread_mutex_lock(&b->lock);
	rc = b->be->profile(b, tenant, id, out, e);
	pthread_mutex_unlock(&b->lock);
	return rc;
}
