/*
 * The SQLite backend's listing queries (store_sqlite.h): series, label names and values, profile types,
 * totals over time, and individual profiles.
 */
#include "server/store_sqlite.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "profile/profile.h"

/* ---- series, labels and profile types ----------------------------------------------------------------------- */

int sq_series(struct store *st, const struct store_query *q, store_series_cb cb, void *arg, struct err *e)
{
	struct sq_reader r;
	int ret = -1;

	if (sq_reader_start((struct sq_store *)st, q, &r, e) || sq_mark_in_range(&r, q, e))
		goto out;
	for (size_t i = 0; i < r.n; i++)
		if (r.v[i].in_range && cb(arg, r.v[i].ptype, r.v[i].labels, r.v[i].nlabels))
			goto out;
	ret = 0;
out:
	sq_reader_release(&r);
	return ret;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Calls `cb` with the distinct strings of `t`, sorted bytewise. */
static int emit_sorted(struct strtab *t, store_string_cb cb, void *arg)
{
	const char **v = xcalloc(t->nr ? t->nr : 1, sizeof(*v));
	int ret = 0;

	for (size_t i = 0; i < t->nr; i++)
		v[i] = strtab_str(t, (uint32_t)i);
	qsort(v, t->nr, sizeof(*v), str_cmp);
	for (size_t i = 0; i < t->nr && !ret; i++)
		ret = cb(arg, v[i]);
	free(v);
	return ret ? -1 : 0;
}

/* What of the in-range series a string query collects: label names, one label's values, or profile types. */
enum collect { COLLECT_NAMES, COLLECT_VALUES, COLLECT_TYPES };

static int collect(struct store *st, const struct store_query *q, enum collect what, const char *name,
		   store_string_cb cb, void *arg, struct err *e)
{
	struct sq_reader r;
	struct strtab t = STRTAB_INIT;
	int ret = -1;

	if (sq_reader_start((struct sq_store *)st, q, &r, e) || sq_mark_in_range(&r, q, e))
		goto out;
	for (size_t i = 0; i < r.n; i++) {
		const struct sq_series *ss = &r.v[i];

		if (!ss->in_range)
			continue;
		if (what == COLLECT_TYPES) {
			strtab_intern(&t, ss->ptype, strlen(ss->ptype));
			continue;
		}
		for (size_t k = 0; k < ss->nlabels; k++) {
			if (what == COLLECT_NAMES)
				strtab_intern(&t, ss->labels[k].name, strlen(ss->labels[k].name));
			else if (!strcmp(ss->labels[k].name, name))
				strtab_intern(&t, ss->labels[k].value, strlen(ss->labels[k].value));
		}
	}
	ret = emit_sorted(&t, cb, arg);
	if (ret)
		err_set(e, "the query was stopped");
out:
	strtab_release(&t);
	sq_reader_release(&r);
	return ret;
}

int sq_label_names(struct store *st, const struct store_query *q, store_string_cb cb, void *arg, struct err *e)
{
	return collect(st, q, COLLECT_NAMES, NULL, cb, arg, e);
}

int sq_label_values(struct store *st, const struct store_query *q, const char *name, store_string_cb cb, void *arg,
		    struct err *e)
{
	return collect(st, q, COLLECT_VALUES, name, cb, arg, e);
}

int sq_profile_types(struct store *st, const struct store_query *q, store_string_cb cb, void *arg, struct err *e)
{
	return collect(st, q, COLLECT_TYPES, NULL, cb, arg, e);
}

/* ---- totals over time --------------------------------------------------------------------------------------- */

struct group {
	struct label_pair *pairs;
	size_t n;
	struct store_sums points; /* step index -> sum */
};

static int i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The group key of a series: its values of the group-by labels, as "name=value" lines. */
static void group_key(const struct sq_series *ss, const char *const *group_by, size_t ngroup_by, struct buf *key)
{
	buf_reset(key);
	for (size_t g = 0; g < ngroup_by; g++)
		for (size_t k = 0; k < ss->nlabels; k++)
			if (!strcmp(ss->labels[k].name, group_by[g]))
				buf_addf(key, "%s=%s\n", group_by[g], ss->labels[k].value);
}

static int emit_group(struct group *g, int64_t from_ns, int64_t step_ns, store_group_cb cb, void *arg)
{
	struct store_point *pts = xcalloc(g->points.n ? g->points.n : 1, sizeof(*pts));
	int64_t *order = xcalloc(g->points.n ? g->points.n : 1, sizeof(*order));
	int ret;

	memcpy(order, g->points.ids, g->points.n * sizeof(*order));
	qsort(order, g->points.n, sizeof(*order), i64_cmp);
	for (size_t i = 0; i < g->points.n; i++) {
		pts[i].time_ns = from_ns + order[i] * step_ns;
		pts[i].value = g->points.v[*u64map_find(&g->points.map, (uint64_t)order[i])];
	}
	ret = cb(arg, g->pairs, g->n, pts, g->points.n);
	free(pts);
	free(order);
	return ret;
}

struct key_order {
	const char *key;
	size_t group;
};

static int key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct key_order *)a)->key, ((const struct key_order *)b)->key);
}

/*
 * Whether one pass over a partition's profiles in table order reads less than looking up the picked series'
 * profiles in [from, until) one by one: a lookup reads a page for each profile (the series of a step are stored
 * side by side, so the next profile of a series is pages away), a pass reads each page once but every profile.
 * Estimated from the partition's counts per series, as if each series' profiles were spread evenly over its span.
 */
static bool scan_cheaper(sqlite3 *db, const struct store_query *q, const struct u64map *picked)
{
	sqlite3_stmt *st = NULL;
	double want = 0, all = 0;

	if (sqlite3_prepare_v2(db, "SELECT series, n, first_ns, last_ns FROM pseries", -1, &st, NULL) != SQLITE_OK)
		return false;
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t n = sqlite3_column_int64(st, 1), first = sqlite3_column_int64(st, 2);
		int64_t last = sqlite3_column_int64(st, 3), lo = first > q->from_ns ? first : q->from_ns;
		int64_t hi = last < q->until_ns - 1 ? last : q->until_ns - 1;

		all += (double)n;
		if (hi < lo || !u64map_find(picked, (uint64_t)sqlite3_column_int64(st, 0)))
			continue;
		want += last > first ? (double)n * (double)(hi - lo) / (double)(last - first) : (double)n;
	}
	sqlite3_finalize(st);
	/* a lookup costs about what a pass costs for 8 profiles (a dozen fit in a page) */
	return want * 8 >= all;
}

static int sum_day(struct sq_reader *r, const struct store_query *q, int64_t day, const uint32_t *group_of,
		   const struct u64map *picked, struct group *groups, int64_t step_ns, struct err *e)
{
	sqlite3 *db = r->n ? sq_open_part(r->s, day) : NULL;
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_DONE;
	bool scan;

	if (!db)
		return 0;
	scan = scan_cheaper(db, q, picked);
	if (sqlite3_prepare_v2(db, scan ? "SELECT time_ns, total, series FROM profiles NOT INDEXED"
					  " WHERE time_ns >= ?2 AND time_ns < ?3"
					: "SELECT time_ns, total FROM profiles WHERE series = ?1 AND time_ns >= ?2"
					  " AND time_ns < ?3", -1, &st, NULL) != SQLITE_OK) {
		sq_err(db, "reading a partition", e);
		sqlite3_close(db);
		return -1;
	}
	for (size_t i = 0; i < (scan ? 1 : r->n); i++) {
		sq_bind_series_range(st, scan ? 0 : r->v[i].id, q);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const uint64_t *at = NULL;

			if (scan && !(at = u64map_find(picked, (uint64_t)sqlite3_column_int64(st, 2))))
				continue;
			store_sums_add(&groups[group_of[scan ? *at : i]].points,
				       store_step_index(sqlite3_column_int64(st, 0), q->from_ns, step_ns),
				       sqlite3_column_int64(st, 1));
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		sq_err(db, "reading a partition", e);
	sqlite3_close(db);
	return e->msg[0] ? -1 : 0;
}

int sq_select_series(struct store *st, const struct store_query *q, const char *const *group_by, size_t ngroup_by,
		     int64_t step_ns, store_group_cb cb, void *arg, struct err *e)
{
	struct sq_reader r;
	struct strtab keys = STRTAB_INIT;
	struct group *groups = NULL;
	struct key_order *order = NULL;
	uint32_t *group_of = NULL;
	struct buf key = BUF_INIT;
	struct u64map picked = U64MAP_INIT; /* series id -> index in r.v */
	size_t ngroups = 0, galloc = 0;
	int ret = -1, ins;

	if (sq_reader_start((struct sq_store *)st, q, &r, e))
		goto out;
	group_of = xcalloc(r.n ? r.n : 1, sizeof(*group_of));
	for (size_t i = 0; i < r.n; i++) {
		*u64map_insert(&picked, (uint64_t)r.v[i].id, &ins) = i;
		group_key(&r.v[i], group_by, ngroup_by, &key);
		group_of[i] = strtab_intern(&keys, key.buf, key.len);
		if (group_of[i] < ngroups)
			continue;
		ALLOC_GROW(groups, ngroups + 1, galloc);
		memset(&groups[ngroups], 0, sizeof(*groups));
		groups[ngroups].pairs = xcalloc(ngroup_by ? ngroup_by : 1, sizeof(struct label_pair));
		for (size_t g = 0; g < ngroup_by; g++)
			for (size_t k = 0; k < r.v[i].nlabels; k++)
				if (!strcmp(r.v[i].labels[k].name, group_by[g]))
					groups[ngroups].pairs[groups[ngroups].n++] = r.v[i].labels[k];
		ngroups++;
	}
	for (size_t d = 0; d < r.ndays; d++)
		if (sum_day(&r, q, r.days[d], group_of, &picked, groups, step_ns, e))
			goto out;
	order = xcalloc(ngroups ? ngroups : 1, sizeof(*order));
	for (size_t g = 0; g < ngroups; g++)
		order[g] = (struct key_order){ strtab_str(&keys, (uint32_t)g), g };
	qsort(order, ngroups, sizeof(*order), key_cmp);
	for (size_t g = 0; g < ngroups; g++) {
		if (!groups[order[g].group].points.n)
			continue;
		if (emit_group(&groups[order[g].group], q->from_ns, step_ns, cb, arg)) {
			err_set(e, "the query was stopped");
			goto out;
		}
	}
	ret = 0;
out:
	for (size_t g = 0; g < ngroups; g++) {
		free(groups[g].pairs);
		store_sums_release(&groups[g].points);
	}
	free(groups);
	free(order);
	free(group_of);
	u64map_release(&picked);
	buf_release(&key);
	strtab_release(&keys);
	sq_reader_release(&r);
	return ret;
}

/* ---- individual profiles ------------------------------------------------------------------------------------ */

struct listed {
	int64_t day, rowid, from_ns, until_ns, total;
	size_t series;
};

static int listed_cmp(const void *a, const void *b)
{
	const struct listed *x = a, *y = b;

	if (x->from_ns != y->from_ns)
		return x->from_ns > y->from_ns ? -1 : 1; /* newest first */
	return x->rowid < y->rowid ? -1 : x->rowid > y->rowid;
}

static int list_day(struct sq_reader *r, const struct store_query *q, int64_t day, size_t limit, struct listed **v,
		    size_t *n, size_t *alloc, struct err *e)
{
	sqlite3 *db;
	sqlite3_stmt *st = sq_part_prepare(r, day, "SELECT id, time_ns, until_ns, total FROM profiles WHERE series = ?"
						  " AND time_ns >= ? AND time_ns < ? ORDER BY time_ns DESC LIMIT ?", &db, e);

	if (!st)
		return e->msg[0] ? -1 : 0;
	for (size_t i = 0; i < r->n; i++) {
		sq_bind_series_range(st, r->v[i].id, q);
		sqlite3_bind_int64(st, 4, (int64_t)limit);
		while (sqlite3_step(st) == SQLITE_ROW) {
			ALLOC_GROW(*v, *n + 1, *alloc);
			(*v)[(*n)++] = (struct listed){ day, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
							sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3), i };
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return 0;
}

int sq_list_profiles(struct store *st, const struct store_query *q, size_t limit, store_profile_cb cb, void *arg,
		     struct err *e)
{
	struct sq_reader r;
	struct listed *v = NULL;
	size_t n = 0, alloc = 0;
	int ret = -1;

	if (sq_reader_start((struct sq_store *)st, q, &r, e))
		goto out;
	/* Days newest first: once `limit` profiles are found, older days cannot hold newer ones. */
	for (size_t d = r.ndays; d-- > 0 && n < limit;)
		if (list_day(&r, q, r.days[d], limit, &v, &n, &alloc, e))
			goto out;
	if (n)
		qsort(v, n, sizeof(*v), listed_cmp);
	for (size_t i = 0; i < n && i < limit; i++) {
		const struct sq_series *ss = &r.v[v[i].series];
		struct store_profile_ref ref = { .from_ns = v[i].from_ns, .until_ns = v[i].until_ns,
						 .total = v[i].total, .profile_type = ss->ptype,
						 .labels = ss->labels, .nlabels = ss->nlabels };

		snprintf(ref.id, sizeof(ref.id), "%" PRId64 "-%" PRIx64, v[i].day, (uint64_t)v[i].rowid);
		if (cb(arg, &ref)) {
			err_set(e, "the query was stopped");
			goto out;
		}
	}
	ret = 0;
out:
	free(v);
	sq_reader_release(&r);
	return ret;
}

/* Reads profile `rowid` of a partition into `out`: its series' type, its time, its stacks. */
static int read_profile(struct sq_store *s, sqlite3 *db, sqlite3 *meta, int64_t tenant_id, int64_t rowid,
			struct profile *out, struct err *e)
{
	sqlite3_stmt *st = NULL, *ser = NULL, *ref = NULL;
	struct store_sums u = STORE_SUMS_INIT;
	struct sq_rebuild b;
	bool rb = false;
	int ret = -1;

	if (sqlite3_prepare_v2(db, "SELECT series, time_ns, until_ns, data FROM profiles WHERE id = ?", -1, &st,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT stack FROM stack_ref WHERE series = ? AND local = ?", -1, &ref, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(meta, "SELECT ptype FROM series WHERE id = ? AND tenant = ?", -1, &ser, NULL) !=
		    SQLITE_OK) {
		sq_err(db, "reading a profile", e);
		goto out;
	}
	sqlite3_bind_int64(st, 1, rowid);
	if (sqlite3_step(st) != SQLITE_ROW) {
		err_set(e, "no such profile");
		goto out;
	}
	sqlite3_bind_int64(ser, 1, sqlite3_column_int64(st, 0));
	sqlite3_bind_int64(ser, 2, tenant_id);
	if (sqlite3_step(ser) != SQLITE_ROW) {
		err_set(e, "no such profile"); /* another tenant's */
		goto out;
	}
	if (sq_add_type_column(out, (const char *)sqlite3_column_text(ser, 0), e))
		goto out;
	out->time_nanos = sqlite3_column_int64(st, 1);
	out->duration_nanos = sqlite3_column_int64(st, 2) - out->time_nanos;
	if (store_unpack(sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3), store_sums_add, &u)) {
		err_set(e, "the store is damaged: the profile does not decode");
		goto out;
	}
	if (sq_rebuild_init(&b, s, meta, tenant_id, out, e))
		goto out;
	rb = true;
	for (size_t i = 0; i < u.n; i++) {
		uint32_t node;

		sqlite3_bind_int64(ref, 1, sqlite3_column_int64(st, 0));
		sqlite3_bind_int64(ref, 2, u.ids[i]);
		if (sqlite3_step(ref) != SQLITE_ROW) {
			err_set(e, "the store is damaged: stack id %" PRId64 " is missing", u.ids[i]);
			goto out;
		}
		if (sq_rebuild_stack(&b, sqlite3_column_int64(ref, 0), &node, e))
			goto out;
		sqlite3_reset(ref);
		profile_add_sample1(out, node, 0, u.v[i]);
	}
	ret = 0;
out:
	if (rb)
		sq_rebuild_release(&b);
	store_sums_release(&u);
	sqlite3_finalize(st);
	sqlite3_finalize(ser);
	sqlite3_finalize(ref);
	return ret;
}

int sq_get_profile(struct store *st, const char *tenant, const char *id, struct profile *out, struct err *e)
{
	struct sq_store *s = (struct sq_store *)st;
	sqlite3 *db = NULL, *meta = NULL;
	int64_t day;
	uint64_t rowid;
	char tail;
	int ret;

	if (sscanf(id, "%" SCNd64 "-%" SCNx64 "%c", &day, &rowid, &tail) != 2 || day < 0 || rowid > INT64_MAX)
		return err_set(e, "'%s' is not a profile id", id);
	tenant = tenant ? tenant : "";
	if (!(db = sq_open_part(s, day)))
		return err_set(e, "no profile '%s'", id);
	if (sq_open_meta(s, &meta, e)) {
		sqlite3_close(db);
		return -1;
	}
	ret = read_profile(s, db, meta, store_id_of(tenant, strlen(tenant)), (int64_t)rowid, out, e);
	if (ret)
		err_wrap(e, "profile '%s'", id);
	sqlite3_close(db);
	sqlite3_close(meta);
	return ret;
}
