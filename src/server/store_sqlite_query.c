/*
 * Queries of the SQLite backend (store_sqlite.h). A query picks its series from meta.db (the label index
 * narrows by an exact matcher, then the selector decides), then reads each day's partition in the range:
 * packed vectors are summed per partition-local stack id, mapped to stacks, and the stacks rebuilt as frames
 * into the caller's profile.
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

#define MAX_LABELS 256

void sq_reader_release(struct sq_reader *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].ptype);
		free(r->v[i].key);
		free(r->v[i].labels);
	}
	free(r->v);
	free(r->days);
	sqlite3_close(r->meta);
	memset(r, 0, sizeof(*r));
}

int sq_open_meta(struct sq_store *s, sqlite3 **db, struct err *e)
{
	struct buf path = BUF_INIT;
	int ret;

	buf_addf(&path, "%s/meta.db", s->dir);
	ret = sq_open(path.buf, false, db, e);
	buf_release(&path);
	return ret;
}

/* A partition for reading, or NULL when it does not exist (retention may just have removed it). */
sqlite3 *sq_open_part(struct sq_store *s, int64_t day)
{
	char *path = sq_part_path(s, day);
	struct err e = ERR_INIT;
	sqlite3 *db = NULL;

	sq_open(path, false, &db, &e);
	free(path);
	return db;
}

static bool ptype_match(const char *stored, const char *want)
{
	size_t n = strlen(stored);

	/* A 6-part ID ("...:delta") selects its first five parts. */
	return !strncmp(stored, want, n) && (want[n] == '\0' || want[n] == ':');
}

static const struct label_matcher *index_matcher(const struct selector *sel)
{
	for (size_t i = 0; sel && i < sel->n; i++)
		if (sel->m[i].op == MATCH_EQ && sel->m[i].value && *sel->m[i].value)
			return &sel->m[i];
	return NULL;
}

/* Fills r->v with the tenant's series that the query's profile type and selector pick. */
static int pick_series(struct sq_reader *r, const struct store_query *q, struct err *e)
{
	const struct label_matcher *im = index_matcher(q->sel);
	sqlite3_stmt *st = NULL;
	int rc;

	if (im)
		rc = sqlite3_prepare_v2(r->meta, "SELECT s.id, s.ptype, s.labels FROM series_labels l JOIN series s"
						 " ON s.id = l.series WHERE l.tenant = ? AND l.name = ? AND l.value = ?",
					-1, &st, NULL);
	else
		rc = sqlite3_prepare_v2(r->meta, "SELECT id, ptype, labels FROM series WHERE tenant = ?", -1, &st,
					NULL);
	if (rc != SQLITE_OK)
		return sq_err(r->meta, "selecting series", e);
	sqlite3_bind_int64(st, 1, r->tenant_id);
	if (im) {
		sqlite3_bind_text(st, 2, im->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, im->value, -1, SQLITE_STATIC);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *ptype = (const char *)sqlite3_column_text(st, 1);
		const char *key = (const char *)sqlite3_column_text(st, 2);
		struct sq_series ss = { 0 };

		if (!ptype || !key || (q->profile_type && !ptype_match(ptype, q->profile_type)))
			continue;
		ss.id = sqlite3_column_int64(st, 0);
		ss.key = xstrdup(key);
		ss.labels = xcalloc(MAX_LABELS, sizeof(*ss.labels));
		ss.nlabels = store_labels_parse(ss.key, ss.labels, MAX_LABELS);
		if (q->sel && !selector_match(q->sel, ss.labels, ss.nlabels)) {
			free(ss.key);
			free(ss.labels);
			continue;
		}
		ss.ptype = xstrdup(ptype);
		ALLOC_GROW(r->v, r->n + 1, r->alloc);
		r->v[r->n++] = ss;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sq_err(r->meta, "selecting series", e);
}

int64_t sq_day_of(int64_t ns)
{
	return ns >= 0 ? ns / STORE_DAY_NS : (ns - STORE_DAY_NS + 1) / STORE_DAY_NS;
}

/* Opens meta.db, picks the series and lists the partitions that overlap [from, until). */
int sq_reader_start(struct sq_store *s, const struct store_query *q, struct sq_reader *r, struct err *e)
{
	const char *tenant = q->tenant ? q->tenant : "";
	int64_t *all = NULL, first, last;
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	r->s = s;
	r->tenant_id = store_id_of(tenant, strlen(tenant));
	if (q->until_ns <= q->from_ns)
		return 0;
	if (sq_open_meta(s, &r->meta, e) || pick_series(r, q, e) || sq_list_days(s, &all, &n, e))
		return -1;
	first = sq_day_of(q->from_ns);
	last = sq_day_of(q->until_ns - 1);
	for (size_t i = 0; i < n; i++)
		if (all[i] >= first && all[i] <= last)
			all[r->ndays++] = all[i];
	r->days = all;
	return 0;
}

/* Marks the picked series that have a profile in [from, until). */
int sq_mark_in_range(struct sq_reader *r, const struct store_query *q, struct err *e)
{
	for (size_t d = 0; d < r->ndays; d++) {
		sqlite3 *db;
		sqlite3_stmt *st = sq_part_prepare(r, r->days[d], "SELECT 1 FROM profiles WHERE series = ?"
							   " AND time_ns >= ? AND time_ns < ? LIMIT 1", &db, e);

		if (!st) {
			if (db || e->msg[0])
				return -1;
			continue;
		}
		for (size_t i = 0; i < r->n; i++) {
			if (r->v[i].in_range)
				continue;
			sq_bind_series_range(st, r->v[i].id, q);
			if (sqlite3_step(st) == SQLITE_ROW)
				r->v[i].in_range = true;
			sqlite3_reset(st);
		}
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	return 0;
}

/* ---- rebuilding stacks -------------------------------------------------------------------------------------- */

/* A stored stack node, from the shared copy of the node table (store_rebuild's callback). */
static int rebuild_node(void *arg, int64_t seq, int64_t *parent, int64_t *frame, struct err *e)
{
	const struct store_nodes *c = ((struct sq_rebuild *)arg)->cache;

	/* No tenant check: the number came from a series of the tenant, and frames are looked up by tenant. */
	if (seq < 1 || (uint64_t)seq >= c->n || !c->frame[seq])
		return 1;
	*parent = c->parent[seq];
	*frame = store_node_frame(c, (size_t)seq);
	return 0;
}

static uint32_t text_id(struct profile *p, sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	return s ? profile_intern(p, s, (size_t)sqlite3_column_bytes(st, col)) : 0;
}

static int rebuild_frame(void *arg, int64_t fid, uint32_t *out, struct err *e)
{
	struct sq_rebuild *b = arg;
	struct frame f = { 0 };

	sqlite3_bind_int64(b->frame, 1, b->tenant_id);
	sqlite3_bind_int64(b->frame, 2, fid);
	if (sqlite3_step(b->frame) != SQLITE_ROW) {
		sqlite3_reset(b->frame);
		return 1;
	}
	f.function = text_id(b->rb.out, b->frame, 0);
	f.module = text_id(b->rb.out, b->frame, 1);
	f.file = text_id(b->rb.out, b->frame, 2);
	f.line = (uint32_t)sqlite3_column_int64(b->frame, 3);
	f.addr = (uint64_t)sqlite3_column_int64(b->frame, 4);
	f.kind = (uint32_t)sqlite3_column_int(b->frame, 5);
	if (f.kind >= FRAME_KIND_NR)
		f.kind = FRAME_UNKNOWN;
	sqlite3_reset(b->frame);
	*out = profile_frame(b->rb.out, &f);
	return 0;
}

int sq_rebuild_init(struct sq_rebuild *b, struct sq_store *s, sqlite3 *meta, int64_t tenant_id, struct profile *out,
		    struct err *e)
{
	memset(b, 0, sizeof(*b));
	b->cache = &s->cache;
	b->tenant_id = tenant_id;
	b->rb.out = out;
	b->rb.node = rebuild_node;
	b->rb.frame = rebuild_frame;
	b->rb.arg = b;
	if (sqlite3_prepare_v2(meta, "SELECT function, module, file, line, addr, kind FROM frames"
				     " WHERE tenant = ? AND id = ?", -1, &b->frame, NULL) != SQLITE_OK)
		return sq_err(meta, "reading stacks", e);
	if (sq_nodes_refresh(b->cache, meta, e))
		return -1;
	pthread_rwlock_rdlock(&b->cache->lock);
	b->locked = true;
	return 0;
}

void sq_rebuild_release(struct sq_rebuild *b)
{
	if (b->locked)
		pthread_rwlock_unlock(&b->cache->lock);
	b->locked = false;
	sqlite3_finalize(b->frame);
	store_rebuild_release(&b->rb);
}

/* The node of stored stack `seq` in the output profile. */
int sq_rebuild_stack(struct sq_rebuild *b, int64_t seq, uint32_t *node, struct err *e)
{
	return store_rebuild_stack(&b->rb, seq, node, e) ? -1 : 0;
}

/* Adds `out`'s one column for profile type `ptype` ("name:type:unit:period_type:period_unit"). */
int sq_add_type_column(struct profile *out, const char *ptype, struct err *e)
{
	struct profile_type pt;
	char *mem = NULL;

	if (profile_type_parse(ptype, &pt, &mem, e))
		return -1;
	profile_add_column(out, pt.sample_type, pt.sample_unit);
	out->period_type.type = profile_intern_str(out, pt.period_type);
	out->period_type.unit = profile_intern_str(out, pt.period_unit);
	free(mem);
	return 0;
}

/* ---- merging ------------------------------------------------------------------------------------------------ */

sqlite3_stmt *sq_part_prepare(struct sq_reader *r, int64_t day, const char *sql, sqlite3 **db, struct err *e)
{
	sqlite3_stmt *st = NULL;

	if (!(*db = sq_open_part(r->s, day)))
		return NULL;
	if (sqlite3_prepare_v2(*db, sql, -1, &st, NULL) != SQLITE_OK) {
		sq_err(*db, "reading a partition", e);
		sqlite3_close(*db);
		*db = NULL;
		return NULL;
	}
	return st;
}

void sq_bind_series_range(sqlite3_stmt *st, int64_t series, const struct store_query *q)
{
	sqlite3_bind_int64(st, 1, series);
	sqlite3_bind_int64(st, 2, q->from_ns);
	sqlite3_bind_int64(st, 3, q->until_ns);
}

/*
 * One series' sums by partition-local stack id. The writer numbers a series' stacks 1, 2, ... in a partition, so
 * an array indexed by the id sums a pair with one add (a hash map per pair was half of a 24 h merge); an id past
 * DENSE_MAX (only a damaged or enormous partition) goes to the map instead.
 */
#define DENSE_MAX (1 << 22)
struct local_sums {
	int64_t *v;
	uint8_t *seen;
	size_t cap, nseen;
	struct store_sums sparse;
};

static int local_add(void *arg, int64_t id, int64_t value)
{
	struct local_sums *l = arg;

	if (id < 0 || id >= DENSE_MAX)
		return store_sums_add(&l->sparse, id, value);
	if ((size_t)id >= l->cap) {
		size_t cap = l->cap ? l->cap : 1024;

		while (cap <= (size_t)id)
			cap *= 2;
		l->v = xrealloc(l->v, cap * sizeof(*l->v));
		l->seen = xrealloc(l->seen, cap);
		memset(l->v + l->cap, 0, (cap - l->cap) * sizeof(*l->v));
		memset(l->seen + l->cap, 0, cap - l->cap);
		l->cap = cap;
	}
	if (!l->seen[id]) {
		l->seen[id] = 1;
		l->nseen++;
	}
	l->v[id] = sat_add64(l->v[id], value);
	return 0;
}

/* Empties the sums for the next series (only the ids seen, so a small series costs what it holds). */
static void local_clear(struct local_sums *l, size_t upto)
{
	size_t n = upto < l->cap ? upto : l->cap;

	memset(l->v, 0, n * sizeof(*l->v));
	memset(l->seen, 0, n);
	l->nseen = 0;
	store_sums_release(&l->sparse);
}

static void local_release(struct local_sums *l)
{
	free(l->v);
	free(l->seen);
	store_sums_release(&l->sparse);
	memset(l, 0, sizeof(*l));
}

/*
 * A merge's sums by stack node number: once they are many, an array over the numbers the node table had when the
 * merge began (an add per pair, where a hash map insert was a sixth of a week's merge; the truncated rebuild then
 * sums the totals in it), a map before that and for the nodes stored since.
 */
struct stack_sums {
	int64_t *v;
	size_t n;
	struct store_sums late;
};

/* From the map to the array once the sums are many (a 64th of the table: the map's inserts before that were a
 * tenth of a week's merge): the array is a page fault per few stacks that a small merge (one service, a few
 * thousand stacks) would touch all over the table. */
static void stack_densify(struct stack_sums *s)
{
	struct store_sums keep = STORE_SUMS_INIT;

	s->v = store_big_zalloc(s->n * sizeof(*s->v));
	for (size_t i = 0; i < s->late.n; i++) {
		int64_t id = s->late.ids[i];

		if (id <= 0 || (uint64_t)id >= s->n)
			store_sums_add(&keep, id, s->late.v[i]);
		else
			s->v[id] = s->late.v[i];
	}
	store_sums_release(&s->late);
	s->late = keep;
}

static void stack_add(struct stack_sums *s, int64_t id, int64_t value)
{
	if (!s->v || id <= 0 || (uint64_t)id >= s->n) {
		store_sums_add(&s->late, id, value);
		if (!s->v && s->late.n > s->n / 64 + 4096)
			stack_densify(s);
		return;
	}
	s->v[id] = sat_add64(s->v[id], value);
}

/* The sums as one list (what the whole rebuild reads: ids, v and n of a store_sums). */
static void stack_take(const struct stack_sums *s, struct store_sums *out)
{
	size_t n = 0;

	out->alloc = s->late.n + 1;
	for (size_t i = 0; s->v && i < s->n; i++)
		out->alloc += s->v[i] != 0;
	out->ids = xmalloc(out->alloc * sizeof(*out->ids));
	out->v = xmalloc(out->alloc * sizeof(*out->v));
	for (size_t i = 0; s->v && i < s->n; i++) {
		if (!s->v[i])
			continue;
		out->ids[n] = (int64_t)i;
		out->v[n++] = s->v[i];
	}
	for (size_t i = 0; i < s->late.n; i++) {
		out->ids[n] = s->late.ids[i];
		out->v[n++] = s->late.v[i];
	}
	out->n = n;
}

static void stack_sums_release(struct stack_sums *s)
{
	store_big_free(s->v, s->n * sizeof(*s->v));
	store_sums_release(&s->late);
}

/*
 * Adds the sums of one series' local stack ids to `total` by stack, reading the series' id map in order; empties
 * `local`.
 */
static int add_local(sqlite3_stmt *ref, int64_t series, struct local_sums *local, struct stack_sums *total,
		     struct err *e)
{
	size_t found = 0, want = local->nseen + local->sparse.n, upto = 0;
	int ret = 0;

	sqlite3_bind_int64(ref, 1, series);
	while (found < want && sqlite3_step(ref) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(ref, 0), stack = sqlite3_column_int64(ref, 1);
		const uint64_t *at;

		if (id >= 0 && (size_t)id < local->cap) {
			if (!local->seen[id])
				continue;
			stack_add(total, stack, local->v[id]);
			upto = (size_t)id + 1;
		} else if ((id < 0 || id >= DENSE_MAX) && (at = u64map_find(&local->sparse.map, (uint64_t)id))) {
			stack_add(total, stack, local->sparse.v[*at]);
		} else {
			continue;
		}
		found++;
	}
	sqlite3_reset(ref);
	if (found < want)
		ret = err_set(e, "the store is damaged: stack ids of series %" PRId64 " are missing", series);
	local_clear(local, found < want ? local->cap : upto);
	return ret;
}

/* What a merge reads: its range and the rollup watermarks read before the partitions. */
struct merge_range {
	int64_t from, until, hour_until, day_until;
};

/*
 * The regions of a series' data in the partition of day [d0, d1): where the series has no profile between an end
 * of the range and the end of the day ([first, last] is its span there), the range is widened to that end of the
 * day, which holds the same data in fewer and larger rollups (a week up to a minute before midnight reads its last
 * day as one day rollup, not as 23 hour rollups and 59 minutes of raw profiles, once the day is rolled up).
 */
static void series_regions(const struct merge_range *m, int64_t d0, int64_t d1, int64_t first, int64_t last,
			   struct store_regions *rg)
{
	int64_t from = m->from > d0 ? m->from : d0, until = m->until < d1 ? m->until : d1;

	if (last >= first) {
		if (first >= from)
			from = d0;
		if (last < until)
			until = d1;
	}
	store_split_range(from, until, m->hour_until, m->day_until, rg);
}

/* The span of a series' profiles in a partition, [first, last]; last < first when the partition does not say. */
static void series_span(sqlite3_stmt *span, int64_t series, int64_t *first, int64_t *last)
{
	*first = 0;
	*last = -1;
	sqlite3_bind_int64(span, 1, series);
	if (sqlite3_step(span) == SQLITE_ROW && sqlite3_column_type(span, 0) != SQLITE_NULL &&
	    sqlite3_column_type(span, 1) != SQLITE_NULL) {
		*first = sqlite3_column_int64(span, 0);
		*last = sqlite3_column_int64(span, 1);
	}
	sqlite3_reset(span);
}

/*
 * Sums one partition's selected profiles, per series by local stack id, then by stack into `total`: raw
 * profiles for the raw edges of the range, rollup rows for its rolled-up hours and days.
 */
static int merge_day(struct sq_reader *r, sqlite3 *db, int64_t day, const struct merge_range *m,
		     struct stack_sums *total, struct err *e)
{
	struct local_sums local = { 0 };
	sqlite3_stmt *raw = NULL, *rolled = NULL, *ref = NULL, *span = NULL;
	int64_t d0 = day * STORE_DAY_NS, d1 = d0 + STORE_DAY_NS;
	int ret = -1;

	if (sqlite3_prepare_v2(db, "SELECT data FROM profiles WHERE series = ? AND time_ns >= ? AND time_ns < ?", -1,
			       &raw, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT data FROM rollups WHERE series = ? AND bucket >= ? AND bucket < ?"
				   " AND level = ?", -1, &rolled, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT local, stack FROM stack_ref WHERE series = ? ORDER BY local", -1, &ref,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT first_ns, last_ns FROM pseries WHERE series = ?", -1, &span,
			       NULL) != SQLITE_OK) {
		sq_err(db, "reading a partition", e);
		goto out;
	}
	for (size_t i = 0; i < r->n; i++) {
		struct store_regions rg;
		int64_t first, last;

		series_span(span, r->v[i].id, &first, &last);
		series_regions(m, d0, d1, first, last, &rg);
		for (int k = 0; k < rg.n; k++) {
			const struct store_region *g = &rg.part[k];
			sqlite3_stmt *st = g->level ? rolled : raw;
			struct store_query part = { .from_ns = g->from, .until_ns = g->until };

			if (part.from_ns >= part.until_ns)
				continue;
			sqlite3_bind_int(rolled, 4, g->level);
			sq_bind_series_range(st, r->v[i].id, &part);
			while (sqlite3_step(st) == SQLITE_ROW) {
				if (store_unpack(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
						 local_add, &local)) {
					sqlite3_reset(st);
					err_set(e, "the store is damaged: a profile of series %" PRId64 " does not decode",
						r->v[i].id);
					goto out;
				}
			}
			sqlite3_reset(st);
		}
		if ((local.nseen || local.sparse.n) && add_local(ref, r->v[i].id, &local, total, e))
			goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(raw);
	sqlite3_finalize(rolled);
	sqlite3_finalize(ref);
	sqlite3_finalize(span);
	local_release(&local);
	return ret;
}

static int emit_sums(struct sq_reader *r, struct stack_sums *sums, int64_t max_nodes, struct profile *out,
		     struct err *e)
{
	struct store_sums list = STORE_SUMS_INIT;
	struct sq_rebuild b;
	int ret = -1;

	if (!sums->v && !sums->late.n)
		return 0;
	if (sq_rebuild_init(&b, r->s, r->meta, r->tenant_id, out, e))
		goto out;
	/* One read transaction for the node lookups: each statement on its own would take and drop SQLite's file
	 * locks (four system calls per stack node, most of a large merge's time). */
	sqlite3_exec(r->meta, "BEGIN", NULL, NULL, NULL);
	/* Few stacks are rebuilt whole (the graph truncates them): the truncated rebuild's arrays over the node
	 * table would cost more in page faults than it saves. */
	if (max_nodes > 0 && !sums->v && sums->late.n * 16 >= b.cache->n)
		stack_densify(sums);
	if (max_nodes > 0 && sums->v) {
		ret = store_nodes_truncated(&b.rb, b.cache, &sums->v, &sums->n, &sums->late, max_nodes, e);
		goto out;
	}
	stack_take(sums, &list);
	for (size_t i = 0; i < list.n; i++) {
		uint32_t node;

		if (!list.v[i])
			continue;
		if (sq_rebuild_stack(&b, list.ids[i], &node, e))
			goto out;
		profile_add_sample1(out, node, 0, list.v[i]);
	}
	ret = 0;
out:
	if (!sqlite3_get_autocommit(r->meta))
		sqlite3_exec(r->meta, "COMMIT", NULL, NULL, NULL);
	sq_rebuild_release(&b);
	store_sums_release(&list);
	return ret;
}

int sq_select_merge_graph(struct store *st, const struct store_query *q, int64_t max_nodes, struct profile *out,
			  struct err *e)
{
	struct sq_reader r;
	struct stack_sums sums = { 0 };
	struct merge_range m = { q->from_ns, q->until_ns, 0, 0 };
	int ret = -1;

	if (!q->profile_type)
		return err_set(e, "a merge needs a profile type");
	if (sq_add_type_column(out, q->profile_type, e))
		return -1;
	if (sq_reader_start((struct sq_store *)st, q, &r, e))
		goto out;
	if (!r.ndays || !r.n) {
		ret = 0;
		goto out;
	}
	/* The watermarks before the partitions: a partition holds its rollups before the watermarks move. */
	if (sq_read_watermarks(r.meta, &m.hour_until, &m.day_until, e))
		goto out;
	if (sq_nodes_refresh(&r.s->cache, r.meta, e))
		goto out;
	pthread_rwlock_rdlock(&r.s->cache.lock);
	sums.n = r.s->cache.n;
	pthread_rwlock_unlock(&r.s->cache.lock);
	for (size_t d = 0; d < r.ndays; d++) {
		sqlite3 *db = sq_open_part(r.s, r.days[d]);
		int rc;

		if (!db)
			continue;
		/* One read snapshot per partition, as for the node lookups below. */
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		rc = merge_day(&r, db, r.days[d], &m, &sums, e);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(db);
		if (rc)
			goto out;
	}
	ret = emit_sums(&r, &sums, max_nodes, out, e);
out:
	stack_sums_release(&sums);
	sq_reader_release(&r);
	return ret;
}


int sq_select_merge(struct store *st, const struct store_query *q, struct profile *out, struct err *e)
{
	return sq_select_merge_graph(st, q, 0, out, e);
}
