/*
 * The PostgreSQL backend's listings (store_pg.h): series, label names and values, profile types, totals over
 * time, and the profiles of a query, all over the series that store_pg_read.c selects.
 */
#include "server/store_pg.h"

#include <stdlib.h>

#include "profile/profile.h"

/* ---- listing ---- */

/* Runs `fn` over the matching series with a connection of the pool. */
static int with_series(struct pg_store *s, const struct store_query *q, struct series_set *set, struct err *e)
{
	PGconn *c = read_get(s, e);
	int rc;

	if (!c)
		return -1;
	rc = pg_load_series(c, q, set, e);
	pool_put(s, c);
	return rc;
}

int pg_series(struct store *h, const struct store_query *q, store_series_cb cb, void *arg, struct err *e)
{
	struct series_set set = { 0 };
	int rc = with_series((struct pg_store *)h, q, &set, e);

	for (size_t i = 0; !rc && i < set.nr; i++)
		if (cb(arg, set.v[i].type, set.v[i].labels, set.v[i].nlabels))
			rc = err_set(e, "listing series: stopped by the caller");
	pg_series_set_release(&set);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts, removes duplicates and calls `cb` per string. */
static int emit_unique(const char **v, size_t n, store_string_cb cb, void *arg, struct err *e)
{
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(v[i], v[i - 1]))
			continue;
		if (cb(arg, v[i]))
			return err_set(e, "listing: stopped by the caller");
	}
	return 0;
}

/* The label names (name == NULL), one label's values, or the profile types (types) of the matching series. */
static int list_strings(struct pg_store *s, const struct store_query *q, const char *name, bool types,
			store_string_cb cb, void *arg, struct err *e)
{
	struct series_set set = { 0 };
	const char **v = NULL;
	size_t nr = 0, alloc = 0;
	int rc = with_series(s, q, &set, e);

	for (size_t i = 0; !rc && i < set.nr; i++) {
		if (types) {
			PUSH(v, nr, alloc, set.v[i].type);
			continue;
		}
		for (size_t j = 0; j < set.v[i].nlabels; j++) {
			const struct label_pair *l = &set.v[i].labels[j];

			if (!name)
				PUSH(v, nr, alloc, l->name);
			else if (!strcmp(l->name, name))
				PUSH(v, nr, alloc, l->value);
		}
	}
	if (!rc)
		rc = emit_unique(v, nr, cb, arg, e);
	free(v);
	pg_series_set_release(&set);
	return rc;
}

int pg_label_names(struct store *h, const struct store_query *q, store_string_cb cb, void *arg, struct err *e)
{
	return list_strings((struct pg_store *)h, q, NULL, false, cb, arg, e);
}

int pg_label_values(struct store *h, const struct store_query *q, const char *name, store_string_cb cb, void *arg,
		    struct err *e)
{
	return list_strings((struct pg_store *)h, q, name, false, cb, arg, e);
}

int pg_profile_types(struct store *h, const struct store_query *q, store_string_cb cb, void *arg, struct err *e)
{
	return list_strings((struct pg_store *)h, q, NULL, true, cb, arg, e);
}

/* ---- totals over time ---- */

/* Points only where there is data: a fine step over a long range costs what the data costs. */
struct tl_point {
	uint64_t group, step;
	int64_t sum;
};

struct timeline {
	const struct store_query *q;
	int64_t step;
	struct u64map series_group; /* series id -> group index */
	struct tl_point *pts;
	size_t pts_nr, pts_alloc;
	struct u64map index; /* hash of (group, step) -> index in pts, probing on to the next hash on a clash */
};

static int cmp_tl_point(const void *a, const void *b)
{
	const struct tl_point *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return (x->step > y->step) - (x->step < y->step);
}

static int timeline_row(void *arg, const PGresult *r, struct err *e)
{
	struct timeline *t = arg;
	uint64_t *g = u64map_find(&t->series_group, (uint64_t)field_i64(r, 0, 0));
	int64_t k = field_i64(r, 0, 1);
	uint64_t step, key;

	if (!g || k < 0)
		return 0;
	step = (uint64_t)k;
	key = hash_u64(*g * 0x9e3779b97f4a7c15ULL ^ step);
	for (;;) {
		int ins;
		uint64_t *slot;

		if (key == U64MAP_EMPTY)
			key = 0;
		slot = u64map_insert(&t->index, key, &ins);
		if (ins) {
			*slot = t->pts_nr;
			PUSH(t->pts, t->pts_nr, t->pts_alloc, ((struct tl_point){ *g, step, 0 }));
		}
		struct tl_point *pt = &t->pts[*slot];

		if (pt->group == *g && pt->step == step) {
			pt->sum = sat_add64(pt->sum, field_i64(r, 0, 2));
			return 0;
		}
		key = hash_u64(key + 1);
	}
	(void)e;
}

/* The group of a series: the values of the group-by labels, as one NUL-separated key. */
static void group_key(struct buf *b, const struct series_row *row, const char *const *group_by, size_t ngroup_by)
{
	buf_reset(b);
	for (size_t g = 0; g < ngroup_by; g++) {
		const char *value = "";

		for (size_t j = 0; j < row->nlabels; j++)
			if (!strcmp(row->labels[j].name, group_by[g]))
				value = row->labels[j].value;
		buf_add(b, value, strlen(value) + 1);
	}
}

struct group {
	char *key; /* NUL-separated values */
	size_t len;
};

static int cmp_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->key, y->key, n);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

int pg_select_series(struct store *h, const struct store_query *q, const char *const *group_by, size_t ngroup_by,
		     int64_t step_ns, store_group_cb cb, void *arg, struct err *e)
{
	struct pg_store *s = (struct pg_store *)h;
	struct series_set set = { 0 };
	struct timeline t = { q, step_ns, U64MAP_INIT, NULL, 0, 0, U64MAP_INIT };
	struct group *groups = NULL;
	size_t ngroups = 0, galloc = 0;
	struct buf key = BUF_INIT, ids = BUF_INIT;
	PGconn *c = NULL;
	int rc = -1;

	if (step_ns <= 0)
		return err_set(e, "the step of a series query must be positive");
	if (q->until_ns <= q->from_ns)
		return 0;
	c = read_get(s, e);
	if (!c)
		return -1;
	if (pg_load_series(c, q, &set, e))
		goto out;
	/* Groups in sorted order of their values; a series joins the group of its values. */
	for (size_t i = 0; i < set.nr; i++) {
		group_key(&key, &set.v[i], group_by, ngroup_by);
		PUSH(groups, ngroups, galloc, ((struct group){ memdup(key.buf, key.len), key.len }));
	}
	qsort(groups, ngroups, sizeof(*groups), cmp_group);
	{
		size_t out = 0;

		for (size_t i = 0; i < ngroups; i++) {
			if (out && !cmp_group(&groups[out - 1], &groups[i]))
				free(groups[i].key);
			else
				groups[out++] = groups[i];
		}
		ngroups = out;
	}
	for (size_t i = 0; i < set.nr; i++) {
		struct group g;
		struct group *found;

		group_key(&key, &set.v[i], group_by, ngroup_by);
		g = (struct group){ key.buf, key.len };
		found = bsearch(&g, groups, ngroups, sizeof(*groups), cmp_group);
		*u64map_insert(&t.series_group, set.v[i].id, &(int){ 0 }) = (uint64_t)(found - groups);
	}
	if (set.nr) {
		pg_ids_array(&ids, &set);
		if (pg_stream_selection(c, q->tenant ? q->tenant : "", ids.buf, q->from_ns, q->until_ns, step_ns,
				     timeline_row, &t, e))
			goto out;
	}
	pool_put(s, c);
	c = NULL;
	qsort(t.pts, t.pts_nr, sizeof(*t.pts), cmp_tl_point);
	for (size_t g = 0, next = 0; g < ngroups; g++) {
		struct label_pair *labels = xcalloc(ngroup_by + 1, sizeof(*labels));
		struct store_point *points = xcalloc(t.pts_nr + 1, sizeof(*points));
		size_t np = 0;
		const char *p = groups[g].key;

		for (size_t i = 0; i < ngroup_by; i++) {
			labels[i] = (struct label_pair){ group_by[i], p };
			p += strlen(p) + 1;
		}
		for (; next < t.pts_nr && t.pts[next].group == g; next++)
			points[np++] = (struct store_point){ q->from_ns + (int64_t)t.pts[next].step * step_ns,
							     t.pts[next].sum };
		int stop = cb(arg, labels, ngroup_by, points, np);

		free(labels);
		free(points);
		if (stop) {
			err_set(e, "series query: stopped by the caller");
			goto out;
		}
	}
	rc = 0;
out:
	pool_put(s, c);
	for (size_t i = 0; i < ngroups; i++)
		free(groups[i].key);
	free(groups);
	free(t.pts);
	u64map_release(&t.index);
	u64map_release(&t.series_group);
	pg_series_set_release(&set);
	buf_release(&key);
	buf_release(&ids);
	return rc;
}

/* ---- profiles ---- */

int pg_list_profiles(struct store *h, const struct store_query *q, size_t limit, store_profile_cb cb, void *arg,
		     struct err *e)
{
	struct pg_store *s = (struct pg_store *)h;
	struct series_set set = { 0 };
	struct u64map index = U64MAP_INIT;
	struct buf ids = BUF_INIT;
	char from[32], until[32], lim[32];
	PGresult *r = NULL;
	PGconn *c = read_get(s, e);
	int rc = -1;

	if (!c)
		return -1;
	if (pg_load_series(c, q, &set, e))
		goto out;
	if (!set.nr || !limit) {
		rc = 0;
		goto out;
	}
	pg_ids_array(&ids, &set);
	for (size_t i = 0; i < set.nr; i++)
		*u64map_insert(&index, set.v[i].id, &(int){ 0 }) = i;
	snprintf(from, sizeof(from), "%lld", (long long)q->from_ns);
	snprintf(until, sizeof(until), "%lld", (long long)q->until_ns);
	snprintf(lim, sizeof(lim), "%zu", limit);
	{
		const char *v[] = { q->tenant ? q->tenant : "", ids.buf, from, until, lim };

		r = run(c,
			"SELECT id, series, from_ns, until_ns, total FROM kiln_profiles WHERE tenant = $1"
			" AND series = ANY($2::bigint[]) AND from_ns >= $3::bigint AND from_ns < $4::bigint"
			" ORDER BY from_ns DESC, id LIMIT $5::bigint",
			5, v, NULL, NULL, 1, e);
	}
	if (!r)
		goto out;
	pool_put(s, c);
	c = NULL;
	for (int i = 0; i < PQntuples(r); i++) {
		uint64_t *k = u64map_find(&index, (uint64_t)field_i64(r, i, 1));
		struct store_profile_ref ref = { { 0 }, 0, 0, 0, NULL, NULL, 0 };

		if (!k)
			continue;
		snprintf(ref.id, sizeof(ref.id), "%s", PQgetvalue(r, i, 0));
		ref.from_ns = field_i64(r, i, 2);
		ref.until_ns = field_i64(r, i, 3);
		ref.total = field_i64(r, i, 4);
		ref.profile_type = set.v[*k].type;
		ref.labels = set.v[*k].labels;
		ref.nlabels = set.v[*k].nlabels;
		if (cb(arg, &ref)) {
			err_set(e, "listing profiles: stopped by the caller");
			goto out;
		}
	}
	rc = 0;
out:
	PQclear(r);
	pool_put(s, c);
	pg_series_set_release(&set);
	u64map_release(&index);
	buf_release(&ids);
	return rc;
}
