/*
 * The reading half of the PostgreSQL backend (store_pg.c has the design and the writing half): which series
 * a query selects, merged profiles streamed from the day partitions and rollups, and single profiles. Listings
 * and totals over time are in store_pg_list.c, retention and statistics in store_pg_maint.c.
 */
#include "server/store_pg.h"

#include <stdlib.h>

#include "profile/profile.h"

/* ---- the series of a query ---- */

void pg_series_set_release(struct series_set *set)
{
	for (size_t i = 0; i < set->nr; i++) {
		free(set->v[i].type);
		free(set->v[i].labels);
		free(set->v[i].mem);
	}
	free(set->v);
	memset(set, 0, sizeof(*set));
}

/* Splits the stored labels of one series (store.c's label key: "name=value" lines). */
static int decode_labels(struct series_row *row, const char *data, size_t len, struct err *e)
{
	size_t n = 0;

	row->mem = xmalloc(len + 1);
	memcpy(row->mem, data, len);
	row->mem[len] = 0;
	for (size_t i = 0; i < len; i++)
		n += row->mem[i] == '\n';
	row->labels = xcalloc(n + 1, sizeof(*row->labels));
	row->nlabels = store_labels_parse(row->mem, row->labels, n);
	if (row->nlabels != n)
		return err_set(e, "stored labels of series %llu are damaged", (unsigned long long)row->id);
	return 0;
}

void pg_ids_array(struct buf *b, const struct series_set *set)
{
	buf_addch(b, '{');
	for (size_t i = 0; i < set->nr; i++)
		add_array_int(b, set->v[i].id, !i);
	buf_addch(b, '}');
}

/* Adds to `with` the series of `ids` (a bigint[] literal) that have a profile starting in [from, until). */
static int series_with_data(PGconn *c, const char *tenant, const char *ids, int64_t from, int64_t until,
			    struct u64map *with, struct err *e)
{
	char f[32], u[32];
	PGresult *r;

	snprintf(f, sizeof(f), "%lld", (long long)from);
	snprintf(u, sizeof(u), "%lld", (long long)until);
	r = run(c,
		"SELECT u.sid FROM unnest($2::bigint[]) AS u(sid) WHERE EXISTS (SELECT 1 FROM kiln_profiles p"
		" WHERE p.tenant = $1 AND p.series = u.sid AND p.from_ns >= $3::bigint AND p.from_ns < $4::bigint)",
		4, (const char *const[]){ tenant, ids, f, u }, NULL, NULL, 1, e);
	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		u64map_insert(with, (uint64_t)field_i64(r, i, 0), &(int){ 0 });
	PQclear(r);
	return 0;
}

/*
 * The series of the tenant that match the query's profile type and selector and have at least one profile
 * starting in [from, until). The day index narrows the candidates; one index probe per candidate makes the
 * answer exact for ranges that cut days.
 */
int pg_load_series(PGconn *c, const struct store_query *q, struct series_set *out, struct err *e)
{
	char d0[32], d1[32];
	const char *v[] = { q->tenant ? q->tenant : "", d0, d1, q->profile_type };
	struct series_set all = { 0 };
	struct buf ids = BUF_INIT;
	struct u64map live = U64MAP_INIT;
	PGresult *r;
	int rc = -1;

	if (q->until_ns <= q->from_ns)
		return 0;
	snprintf(d0, sizeof(d0), "%lld", (long long)day_of(q->from_ns));
	snprintf(d1, sizeof(d1), "%lld", (long long)day_of(q->until_ns - 1));
	r = run(c,
		"SELECT DISTINCT s.id, s.profile_type, s.labels FROM kiln_series s JOIN kiln_series_days d"
		" ON d.tenant = s.tenant AND d.series = s.id WHERE s.tenant = $1 AND d.day BETWEEN $2::int AND $3::int"
		" AND ($4::text IS NULL OR s.profile_type = $4) ORDER BY s.id",
		4, v, NULL, NULL, 1, e);
	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		struct series_row row = { (uint64_t)field_i64(r, i, 0), xstrdup(PQgetvalue(r, i, 1)), NULL, 0, NULL };

		PUSH(all.v, all.nr, all.alloc, row);
		if (decode_labels(&all.v[all.nr - 1], PQgetvalue(r, i, 2), (size_t)PQgetlength(r, i, 2), e)) {
			PQclear(r);
			goto out;
		}
	}
	PQclear(r);
	/* The selector first (cheap, in memory), then the exact time check for what is left. */
	for (size_t i = 0; i < all.nr; i++) {
		if (q->sel && !selector_match(q->sel, all.v[i].labels, all.v[i].nlabels))
			all.v[i].id = 0;
	}
	buf_addch(&ids, '{');
	for (size_t i = 0, first = 1; i < all.nr; i++)
		if (all.v[i].id) {
			add_array_int(&ids, all.v[i].id, first);
			first = 0;
		}
	buf_addch(&ids, '}');
	if (series_with_data(c, q->tenant ? q->tenant : "", ids.buf, q->from_ns, q->until_ns, &live, e))
		goto out;
	for (size_t i = 0; i < all.nr; i++) {
		if (all.v[i].id && u64map_find(&live, all.v[i].id)) {
			PUSH(out->v, out->nr, out->alloc, all.v[i]);
			memset(&all.v[i], 0, sizeof(all.v[i]));
		}
	}
	rc = 0;
out:
	pg_series_set_release(&all);
	u64map_release(&live);
	buf_release(&ids);
	return rc;
}

/* ---- reading profiles ---- */

/* A merge over millions of stored profiles holds one of them at a time. */
int stream_rows(PGconn *c, const char *sql, int n, const char *const *vals,
		       int (*fn)(void *arg, const PGresult *row, struct err *e), void *arg, struct err *e)
{
	PGresult *r;
	int rc = 0;

	if (!PQsendQueryParams(c, sql, n, NULL, vals, NULL, NULL, 1) || !PQsetSingleRowMode(c)) {
		err_set(e, "PostgreSQL: %s", PQerrorMessage(c));
		one_line(e);
		while ((r = PQgetResult(c)))
			PQclear(r);
		return -1;
	}
	while ((r = PQgetResult(c))) {
		ExecStatusType st = PQresultStatus(r);

		if (st == PGRES_SINGLE_TUPLE) {
			if (!rc && fn(arg, r, e))
				rc = -1;
		} else if (st != PGRES_TUPLES_OK && !rc) {
			err_set(e, "PostgreSQL: %s", PQresultErrorMessage(r));
			one_line(e);
			rc = -1;
		}
		PQclear(r);
	}
	return rc;
}

static int acc_pair(void *arg, int64_t stack, int64_t value)
{
	uint64_t *slot = u64map_insert(arg, (uint64_t)stack, &(int){ 0 });

	*slot = (uint64_t)sat_add64((int64_t)*slot, value);
	return 0;
}

/* Adds the run to `values`, each key's slot fetched a few keys ahead (a miss per stack, one at a time, was 40 %
 * of a week's merge before runs), and empties it. */
static void fold_run(struct merge_acc *m)
{
	enum { BATCH = 16 };
	uint64_t k[BATCH], v[BATCH];
	size_t pos = 0, n;

	if (!m->run.nr)
		return;
	u64map_reserve(&m->values, m->values.nr + m->run.nr); /* no growth (and no moved slots) in the loop */
	do {
		for (n = 0; n < BATCH && u64map_next(&m->run, &pos, &k[n], &v[n]); n++)
			u64map_prefetch(&m->values, k[n]);
		for (size_t i = 0; i < n; i++) {
			uint64_t *slot = u64map_insert(&m->values, k[i], &(int){ 0 });

			*slot = (uint64_t)sat_add64((int64_t)*slot, (int64_t)v[i]);
		}
	} while (n == BATCH);
	/* A run that fills an eighth of its slots or more is cleared for the next one; a smaller one is dropped, so
	 * that short runs (rows not grouped by series) do not pay for clearing a map grown by a long one. */
	if (m->run.nr * 8 >= m->run.mask + 1)
		u64map_clear(&m->run);
	else
		u64map_release(&m->run);
}

int merge_acc_add(struct merge_acc *m, int64_t series, const void *data, size_t len)
{
	if (series != m->series) {
		fold_run(m);
		m->series = series;
	}
	return store_unpack(data, len, acc_pair, &m->run);
}

void merge_acc_finish(struct merge_acc *m)
{
	fold_run(m);
}

/* A merge row: (data, series). */
static int acc_row(void *arg, const PGresult *r, struct err *e)
{
	if (merge_acc_add(arg, field_i64(r, 0, 1), PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0)))
		return err_set(e, "a stored profile is damaged");
	return 0;
}

void merge_acc_release(struct merge_acc *m)
{
	u64map_release(&m->values);
	u64map_release(&m->run);
}

/* Adds the sample types of the profile type ID ("name:type:unit:period_type:period_unit") to an empty `out`. */
static int set_column(struct profile *out, const char *type_id, struct err *e)
{
	struct profile_type t;
	char *mem = NULL;

	if (out->ncolumns)
		return 0;
	if (profile_type_parse(type_id, &t, &mem, e))
		return -1;
	profile_add_column(out, t.sample_type, t.sample_unit);
	out->period_type.type = profile_intern_str(out, t.period_type);
	out->period_type.unit = profile_intern_str(out, t.period_unit);
	free(mem);
	return 0;
}

/*
 * Streams what the selected series (`ids`, a bigint[] literal) hold in [from, until): raw profiles at the
 * edges, rollups in between (store_pg_rollup.c). Merge rows are (data, series), rollups in series order (struct
 * merge_acc); timeline rows (series, step, sum of totals),
 * raw rows only.
 */
int pg_stream_selection(PGconn *c, const char *tenant, const char *ids, int64_t from, int64_t until, int64_t step,
			int (*fn)(void *arg, const PGresult *row, struct err *e), void *arg, struct err *e)
{
	static const char *const sql[2] = {
		"SELECT data, series FROM kiln_profiles WHERE tenant = $1 AND series = ANY($2::bigint[])"
		" AND from_ns >= $3::bigint AND from_ns < $4::bigint",
		"SELECT data, series FROM kiln_rollups WHERE tenant = $1 AND level = $5::int"
		" AND series = ANY($2::bigint[]) AND bucket >= $3::bigint AND bucket < $4::bigint ORDER BY series",
	};
	int64_t hour_until, day_until;
	struct store_regions r;

	if (step) {
		/*
		 * A profile counts at the first step boundary at or after its time (6.4, store_step_index): an hour's
		 * rollup straddles two steps whenever a boundary falls inside it, so a timeline sums raw totals, per
		 * series and step in the database (a week of a fleet is 864,000 totals, read from the index that
		 * holds them; 15,000 sums come back). The sum is clamped as sat_add64 would.
		 */
		char f[32], u[32], st[32];
		const char *v[] = { tenant, ids, f, u, st };

		snprintf(f, sizeof(f), "%lld", (long long)from);
		snprintf(u, sizeof(u), "%lld", (long long)until);
		snprintf(st, sizeof(st), "%lld", (long long)step);
		return stream_rows(c,
				   "SELECT series, CASE WHEN from_ns <= $3::bigint THEN 0"
				   " ELSE (from_ns - $3::bigint - 1) / $5::bigint + 1 END AS step,"
				   " LEAST(GREATEST(sum(total), -9223372036854775808), 9223372036854775807)::bigint"
				   " FROM kiln_profiles WHERE tenant = $1 AND series = ANY($2::bigint[])"
				   " AND from_ns >= $3::bigint AND from_ns < $4::bigint GROUP BY series, step",
				   5, v, fn, arg, e);
	}
	if (pg_watermarks(c, tenant, &hour_until, &day_until, e))
		return -1;
	store_split_range(from, until, hour_until, day_until, &r);
	for (int i = 0; i < r.n; i++) {
		int level = r.part[i].level;
		char f[32], u[32], l[8];
		const char *v[] = { tenant, ids, f, u, l };

		snprintf(f, sizeof(f), "%lld", (long long)r.part[i].from);
		snprintf(u, sizeof(u), "%lld", (long long)r.part[i].until);
		snprintf(l, sizeof(l), "%d", level);
		if (stream_rows(c, sql[level != 0], level ? 5 : 4, v, fn, arg, e))
			return -1;
	}
	return 0;
}

/*
 * Streams the merge rows of the series of `set` in [q->from_ns, q->until_ns) into `acc`. Where a series has no
 * profile between an end of the range and the end of that day, its range is widened to the day's end: the same
 * data in fewer and larger rollups (a week up to a minute before midnight reads its last day as one day rollup,
 * not as 23 hour rollups and 59 minutes of raw profiles), as SQLite's merge does (store_sqlite_query.c,
 * series_regions). The series fall in four classes by which ends widen; one stream per class.
 */
static int stream_merge(PGconn *c, const char *tenant, const struct series_set *set, const struct store_query *q,
			struct merge_acc *acc, struct err *e)
{
	int64_t d0 = store_floor_to(q->from_ns, DAY_NS), d1 = -store_floor_to(-q->until_ns, DAY_NS);
	struct u64map before = U64MAP_INIT, after = U64MAP_INIT; /* series with data in [d0, from), [until, d1) */
	struct buf ids = BUF_INIT;
	int rc = -1;

	pg_ids_array(&ids, set);
	if ((q->from_ns > d0 && series_with_data(c, tenant, ids.buf, d0, q->from_ns, &before, e)) ||
	    (q->until_ns < d1 && series_with_data(c, tenant, ids.buf, q->until_ns, d1, &after, e)))
		goto out;
	for (int cls = 0; cls < 4; cls++) {
		bool wide_from = cls & 1, wide_until = cls & 2;
		size_t n = 0;

		buf_reset(&ids);
		buf_addch(&ids, '{');
		for (size_t i = 0; i < set->nr; i++) {
			uint64_t id = set->v[i].id;

			if (wide_from == (q->from_ns > d0 && !u64map_find(&before, id)) &&
			    wide_until == (q->until_ns < d1 && !u64map_find(&after, id)))
				add_array_int(&ids, id, !n++);
		}
		buf_addch(&ids, '}');
		if (n && pg_stream_selection(c, tenant, ids.buf, wide_from ? d0 : q->from_ns,
					     wide_until ? d1 : q->until_ns, 0, acc_row, acc, e))
			goto out;
	}
	rc = 0;
out:
	u64map_release(&before);
	u64map_release(&after);
	buf_release(&ids);
	return rc;
}

static int pg_select_merge_graph(struct store *h, const struct store_query *q, int64_t max_nodes,
				 struct profile *out, struct err *e)
{
	struct pg_store *s = (struct pg_store *)h;
	const char *tenant = q->tenant ? q->tenant : "";
	struct series_set set = { 0 };
	struct merge_acc acc = MERGE_ACC_INIT;
	PGconn *c;
	int rc = -1;

	if (!q->profile_type)
		return err_set(e, "a merged profile needs a profile type");
	if (set_column(out, q->profile_type, e))
		return -1;
	out->time_nanos = q->from_ns;
	out->duration_nanos = q->until_ns - q->from_ns;
	c = read_get(s, e);
	if (!c)
		return -1;
	/* One snapshot for all of the merge's statements: which series have data where, the watermarks, the rows. */
	if (run_ok(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, e) || pg_load_series(c, q, &set, e))
		goto out;
	if (set.nr) {
		if (stream_merge(c, tenant, &set, q, &acc, e))
			goto out;
		merge_acc_finish(&acc);
		if (pg_nodes_emit(s, c, tenant, &acc, max_nodes, out, e))
			goto out;
	}
	rc = run_ok(c, "COMMIT", 0, NULL, e);
out:
	pool_put(s, c); /* rolls back what a failure left open */
	pg_series_set_release(&set);
	merge_acc_release(&acc);
	return rc;
}

static int pg_select_merge(struct store *h, const struct store_query *q, struct profile *out, struct err *e)
{
	return pg_select_merge_graph(h, q, 0, out, e);
}

/* ---- single profiles ---- */

static int pg_get_profile(struct store *h, const char *tenant, const char *id, struct profile *out, struct err *e)
{
	struct pg_store *s = (struct pg_store *)h;
	struct merge_acc acc = MERGE_ACC_INIT;
	unsigned long long from;
	char fromstr[32], idcopy[40];
	PGresult *r;
	PGconn *c;
	int rc = -1, end = 0;

	/* The id starts with the start time: it names the partition, so the lookup reads one day. */
	if (strlen(id) != 33 || sscanf(id, "%16llx-%*16[0-9a-f]%n", &from, &end) != 1 || end != 33)
		return err_set(e, "no profile '%.40s'", id);
	snprintf(fromstr, sizeof(fromstr), "%lld", (long long)from);
	snprintf(idcopy, sizeof(idcopy), "%s", id);
	c = read_get(s, e);
	if (!c)
		return -1;
	{
		const char *v[] = { tenant ? tenant : "", fromstr, idcopy };

		r = run(c,
			"SELECT p.data, s.profile_type, p.from_ns, p.until_ns FROM kiln_profiles p JOIN kiln_series s"
			" ON s.tenant = p.tenant AND s.id = p.series WHERE p.tenant = $1 AND p.from_ns = $2::bigint"
			" AND p.id = $3",
			3, v, NULL, NULL, 1, e);
	}
	if (!r)
		goto out;
	if (PQntuples(r) != 1) {
		err_set(e, "no profile '%s'", idcopy);
	} else if (merge_acc_add(&acc, 0, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0))) {
		err_set(e, "a stored profile is damaged");
	} else if (!set_column(out, PQgetvalue(r, 0, 1), e)) {
		merge_acc_finish(&acc);
		out->time_nanos = field_i64(r, 0, 2);
		out->duration_nanos = field_i64(r, 0, 3) - out->time_nanos;
		rc = pg_nodes_emit(s, c, tenant ? tenant : "", &acc, 0, out, e);
	}
	PQclear(r);
out:
	pool_put(s, c);
	merge_acc_release(&acc);
	return rc;
}

const struct store_backend store_pg_backend = {
	.name = "postgresql",
	.close = pg_close,
	.ingest = pg_ingest,
	.select_merge = pg_select_merge,
	.select_merge_graph = pg_select_merge_graph,
	.series = pg_series,
	.label_names = pg_label_names,
	.label_values = pg_label_values,
	.profile_types = pg_profile_types,
	.select_series = pg_select_series,
	.list_profiles = pg_list_profiles,
	.get_profile = pg_get_profile,
	.enforce_retention = pg_enforce_retention,
	.stats = pg_stats,
	.compact = pg_compact,
};
