/*
 * Rollups of the PostgreSQL backend: a merged profile per series per hour (level 1) and per day (level 2), so
 * that a query over a week reads a few hundred pre-merged rows instead of millions of profiles.
 *
 * Per tenant, `kiln_compaction` holds two watermarks: every hour before `hour_until` and every day before
 * `day_until` is rolled up for every series of the tenant. A query splits its range into days below
 * `day_until`, hours below `hour_until` and raw edges, and reads each part from its own table; raw profiles
 * are never deleted by compaction, so a query that read old watermarks is still right.
 *
 * A profile that arrives late, for an hour already rolled up, is added as one more rollup row of its hour
 * (and of its day) in its own ingest transaction; queries sum every row of a bucket. The ingest transaction
 * reads the watermarks FOR SHARE and compaction advances them FOR UPDATE, so a profile is either seen by the
 * compaction that covers its hour or added as a late row, never both and never neither.
 */
#include "server/store_pg.h"

#include <stdlib.h>

#include "profile/profile.h"

#define MAX_HOURS_PER_CALL 48

int pg_watermarks(PGconn *c, const char *tenant, int64_t *hour_until, int64_t *day_until, struct err *e)
{
	const char *v[] = { tenant };
	PGresult *r = run(c,
			  "SELECT hour_until, day_until FROM kiln_compaction WHERE tenant = $1",
			  1, v, NULL, NULL, 1, e);

	if (!r)
		return -1;
	*hour_until = PQntuples(r) ? field_i64(r, 0, 0) : 0;
	*day_until = PQntuples(r) ? field_i64(r, 0, 1) : 0;
	PQclear(r);
	return 0;
}

static int insert_rollup(PGconn *c, const char *tenant, uint64_t series, int level, int64_t bucket,
			 int64_t profiles, int64_t total, const struct buf *body, struct err *e)
{
	char sid[32], lvl[8], b[32], np[32], tot[32];
	const char *v[] = { tenant, sid, lvl, b, np, tot, body->buf };
	int lens[] = { 0, 0, 0, 0, 0, 0, (int)body->len }, bin[] = { 0, 0, 0, 0, 0, 0, 1 };
	PGresult *r;

	snprintf(sid, sizeof(sid), "%llu", (unsigned long long)series);
	snprintf(lvl, sizeof(lvl), "%d", level);
	snprintf(b, sizeof(b), "%lld", (long long)bucket);
	snprintf(np, sizeof(np), "%lld", (long long)profiles);
	snprintf(tot, sizeof(tot), "%lld", (long long)total);
	r = run(c,
		"INSERT INTO kiln_rollups (tenant, series, level, bucket, profiles, total, data)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7)",
		7, v, lens, bin, 0, e);
	PQclear(r);
	return r ? 0 : -1;
}

/* ---- compaction ---- */

/*
 * The merge of one bucket, per series, from rows (series, data) sorted by series. The rollups are kept until
 * the rows have all been read: a statement sent while a result is still streaming would make libpq discard
 * the rest of it.
 */
struct rollup {
	uint64_t series;
	int64_t profiles, total;
	struct buf body;
};

struct bucket {
	uint64_t series; /* the series being summed, 0 before the first row */
	int64_t profiles;
	struct store_sums acc;
	struct rollup *done;
	size_t done_nr, done_alloc;
};

/* Packs the rollup of the series summed so far. */
static void bucket_flush(struct bucket *b)
{
	struct rollup ru = { b->series, b->profiles, 0, BUF_INIT };

	if (!b->series)
		return;
	ru.total = store_sums_pack(&b->acc, &ru.body);
	PUSH(b->done, b->done_nr, b->done_alloc, ru);
	store_sums_release(&b->acc);
	b->profiles = 0;
	b->series = 0;
}

static int bucket_row(void *arg, const PGresult *r, struct err *e)
{
	struct bucket *b = arg;
	uint64_t series = (uint64_t)field_i64(r, 0, 0);

	if (series != b->series)
		bucket_flush(b);
	b->series = series;
	b->profiles += PQgetlength(r, 0, 2) == 8 ? field_i64(r, 0, 2) : 1;
	if (store_unpack((const unsigned char *)PQgetvalue(r, 0, 1), (size_t)PQgetlength(r, 0, 1), store_sums_add,
			 &b->acc))
		return err_set(e, "a stored profile is damaged");
	return 0;
}

/* Rolls up one hour (from raw profiles) or one day (from hour rollups) of a tenant. */
static int compact_bucket(PGconn *c, const char *tenant, int level, int64_t start, struct err *e)
{
	struct bucket b = { 0, 0, STORE_SUMS_INIT, NULL, 0, 0 };
	char s0[32], s1[32];
	const char *v[] = { tenant, s0, s1 };
	int rc;

	snprintf(s0, sizeof(s0), "%lld", (long long)start);
	snprintf(s1, sizeof(s1), "%lld", (long long)(start + (level == 1 ? HOUR_NS : DAY_NS)));
	rc = stream_rows(c,
			 level == 1 ? "SELECT series, data, 1::bigint FROM kiln_profiles WHERE tenant = $1"
				      " AND from_ns >= $2::bigint AND from_ns < $3::bigint ORDER BY series"
				    : "SELECT series, data, profiles::bigint FROM kiln_rollups WHERE tenant = $1 AND level = 1"
				      " AND bucket >= $2::bigint AND bucket < $3::bigint ORDER BY series",
			 3, v, bucket_row, &b, e);
	bucket_flush(&b);
	for (size_t i = 0; i < b.done_nr; i++) {
		const struct rollup *ru = &b.done[i];

		if (!rc)
			rc = insert_rollup(c, tenant, ru->series, level, start, ru->profiles, ru->total, &ru->body, e);
		buf_release(&b.done[i].body);
	}
	free(b.done);
	store_sums_release(&b.acc);
	return rc;
}

/* The start of the first hour at or after `t` that holds a profile of the tenant, or -1 when none does. */
static int64_t next_data_hour(PGconn *c, const char *tenant, int64_t t, struct err *e)
{
	char ts[32];
	const char *v[] = { tenant, ts };
	PGresult *r;
	int64_t next = -1;

	snprintf(ts, sizeof(ts), "%lld", (long long)t);
	r = run(c, "SELECT min(from_ns) FROM kiln_profiles WHERE tenant = $1 AND from_ns >= $2::bigint", 2, v, NULL,
		NULL, 1, e);
	if (!r)
		return -2;
	if (!PQgetisnull(r, 0, 0))
		next = store_floor_to(field_i64(r, 0, 0), HOUR_NS);
	PQclear(r);
	return next;
}

void pg_note_write(struct pg_store *s, int64_t from_ns)
{
	if (!s->settle_ns)
		return;
	pthread_mutex_lock(&s->cache_lock);
	store_note_write(&s->last_write, from_ns);
	pthread_mutex_unlock(&s->cache_lock);
}

/*
 * Whether `hour` has had no write from this process for settle_ns. Other servers' writes are not seen: an hour
 * they still fill gets late rows, which queries add (correct, only slower), as SQLite's store does for data that
 * comes after its hour was rolled up.
 */
static bool settled(struct pg_store *s, int64_t hour)
{
	bool ok;

	if (!s->settle_ns)
		return true;
	pthread_mutex_lock(&s->cache_lock);
	ok = store_hour_settled(&s->last_write, hour, s->settle_ns);
	pthread_mutex_unlock(&s->cache_lock);
	return ok;
}

/*
 * One step of compaction for a tenant (store_compact_next), in one transaction. Returns 1 when it did
 * something, 0 when the tenant is up to date or its next hour is still being written, -1 on error.
 */
static int compact_step(struct pg_store *s, PGconn *c, const char *tenant, int64_t now_ns, struct err *e)
{
	int64_t hour_until, day_until, hour;
	struct store_compact_plan p;
	char h[32], d[32];
	const char *v[] = { tenant, h, d };

	if (run_ok(c, "BEGIN", 0, NULL, e))
		return -1;
	if (pg_watermarks(c, tenant, &hour_until, &day_until, e) ||
	    run_ok(c, "SELECT 1 FROM kiln_compaction WHERE tenant = $1 FOR UPDATE", 1, v, e))
		goto fail;
	/* Re-read under the lock: another server may have moved them meanwhile. */
	if (pg_watermarks(c, tenant, &hour_until, &day_until, e))
		goto fail;
	hour = next_data_hour(c, tenant, hour_until, e);
	if (hour == -2)
		goto fail;
	/* Data still arriving for the next hour (a backfill, a burst of old data): wait for it to settle. */
	if (!store_compact_next(hour_until, day_until, hour, now_ns, &p) || (p.hour >= 0 && !settled(s, p.hour))) {
		PQclear(PQexec(c, "ROLLBACK"));
		return 0;
	}
	if (p.hour >= 0 && compact_bucket(c, tenant, 1, p.hour, e))
		goto fail;
	for (int64_t day = p.day_from; day < p.day_until; day += DAY_NS)
		if (compact_bucket(c, tenant, 2, day, e))
			goto fail;
	snprintf(h, sizeof(h), "%lld", (long long)p.hour_until);
	snprintf(d, sizeof(d), "%lld", (long long)p.day_until);
	if (run_ok(c, "UPDATE kiln_compaction SET hour_until = $2::bigint, day_until = $3::bigint WHERE tenant = $1",
		   3, v, e) ||
	    run_ok(c, "COMMIT", 0, NULL, e))
		goto fail;
	return 1;
fail:
	PQclear(PQexec(c, "ROLLBACK"));
	return -1;
}

int pg_compact(struct store *h, int64_t now_ns, struct err *e)
{
	struct pg_store *s = (struct pg_store *)h;
	PGconn *c;
	PGresult *tenants;
	int steps = 0;

	if (s->read_only)
		return 0;
	c = pool_get(s, e);
	if (!c)
		return -1;
	tenants = run(c, "SELECT tenant FROM kiln_compaction ORDER BY tenant", 0, NULL, NULL, NULL, 0, e);
	if (!tenants)
		goto fail;
	for (int t = 0; t < PQntuples(tenants); t++) {
		const char *tenant = PQgetvalue(tenants, t, 0);

		for (int i = 0; i < MAX_HOURS_PER_CALL; i++) {
			int rc = compact_step(s, c, tenant, now_ns, e);

			if (rc < 0) {
				PQclear(tenants);
				goto fail;
			}
			if (!rc)
				break;
			steps++;
		}
	}
	PQclear(tenants);
	pool_put(s, c);
	return steps;
fail:
	pool_put(s, c);
	return -1;
}
