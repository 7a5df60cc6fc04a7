/*
 * The upkeep of the PostgreSQL backend (store_pg.c has the design): retention by whole day partitions and
 * the statistics behind /metrics.
 */
#include "server/store_pg.h"

#include <stdlib.h>

/* ---- retention and statistics ---- */

int pg_enforce_retention(struct store *h, int64_t now_ns, struct err *e)
{
	struct pg_store *s = (struct pg_store *)h;
	int64_t cutoff;
	PGresult *r;
	PGconn *c;
	int dropped = 0;

	if (!s->retention_ns || s->read_only)
		return 0;
	/* A day partition goes when all of it is older than the retention. */
	cutoff = day_of(now_ns - s->retention_ns);
	c = pool_get(s, e);
	if (!c)
		return -1;
	r = run(c,
		"SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
		" WHERE i.inhparent = 'kiln_profiles'::regclass",
		0, NULL, NULL, NULL, 0, e);
	if (!r)
		goto fail;
	for (int i = 0; i < PQntuples(r); i++) {
		long long day;
		int end = 0;
		char sql[128], d[32];
		const char *v[] = { d };

		if (sscanf(PQgetvalue(r, i, 0), "kiln_profiles_d%lld%n", &day, &end) != 1 ||
		    PQgetvalue(r, i, 0)[end] || day >= cutoff)
			continue;
		snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS kiln_profiles_d%lld", day);
		snprintf(d, sizeof(d), "%lld", day);
		if (run_ok(c, sql, 0, NULL, e) ||
		    run_ok(c, "DELETE FROM kiln_series_days WHERE day = $1::int", 1, v, e)) {
			PQclear(r);
			goto fail;
		}
		dropped++;
	}
	PQclear(r);
	/* Rollups of the dropped days go with them (a small table: hours and days per series). */
	{
		char b[32];
		const char *v[] = { b };

		snprintf(b, sizeof(b), "%lld", (long long)(cutoff * DAY_NS));
		if (run_ok(c, "DELETE FROM kiln_rollups WHERE bucket < $1::bigint", 1, v, e))
			goto fail;
	}
	pool_put(s, c);
	if (dropped)
		forget_partitions(s);
	return dropped;
fail:
	pool_put(s, c);
	return -1;
}

int pg_stats(struct store *h, struct store_stats *st, struct err *e)
{
	struct pg_store *s = (struct pg_store *)h;
	PGconn *c = pool_get(s, e);
	PGresult *r;

	if (!c)
		return -1;
	/* Profiles and series are counted (an index-only scan); stacks, the big table, are the planner's estimate
	 * once it has one. */
	r = run(c,
		"SELECT (SELECT count(*) FROM kiln_profiles)::bigint,"
		" coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint, count(*)::bigint,"
		" (SELECT CASE WHEN reltuples < 0 THEN (SELECT count(*) FROM kiln_stacks) ELSE reltuples END::bigint"
		"  FROM pg_class WHERE oid = 'kiln_stacks'::regclass),"
		" (SELECT count(*) FROM kiln_series)::bigint"
		" FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'kiln_profiles'::regclass",
		0, NULL, NULL, NULL, 1, e);
	pool_put(s, c);
	if (!r)
		return -1;
	st->profiles = (uint64_t)field_i64(r, 0, 0);
	st->bytes = (uint64_t)field_i64(r, 0, 1);
	st->partitions = (uint64_t)field_i64(r, 0, 2);
	st->stacks = (uint64_t)field_i64(r, 0, 3);
	st->series = (uint64_t)field_i64(r, 0, 4);
	PQclear(r);
	return 0;
}

