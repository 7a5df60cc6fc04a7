/*
 * The storage interface (store.h): backend selection by location, and what every backend shares (store_impl.h):
 * encoding a write into content-addressed frames and stacks, rebuilding stored stacks, sums and the compaction
 * plan. The packed (stack, value) vectors are in store_pack.c.
 */
#include "server/store_impl.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/sort.h"
#include "core/xalloc.h"
#include "profile/profile.h"

bool store_is_postgres(const char *loc)
{
	return !strncmp(loc, "postgres://", 11) || !strncmp(loc, "postgresql://", 13);
}

struct store *store_open(const struct store_opts *o, struct err *e)
{
	if (!o->location || !*o->location)
		return err_set(e, "no storage location given"), NULL;
	if (o->read_location && !(store_is_postgres(o->location) && store_is_postgres(o->read_location)))
		return err_set(e, "a separate read location needs PostgreSQL for both storage and reads"), NULL;
	if (store_is_postgres(o->location))
		return store_pg_open(o, e);
	return store_sqlite_open(o, e);
}

void store_close(struct store *s)
{
	if (s)
		s->be->close(s);
}

int store_ingest(struct store *s, const struct store_write *w, size_t n, struct err *e)
{
	return s->be->ingest(s, w, n, e);
}

int store_select_merge(struct store *s, const struct store_query *q, struct profile *out, struct err *e)
{
	return s->be->select_merge(s, q, out, e);
}

int store_select_merge_graph(struct store *s, const struct store_query *q, int64_t max_nodes, struct profile *out,
			     struct err *e)
{
	if (!s->be->select_merge_graph || max_nodes <= 0)
		return s->be->select_merge(s, q, out, e);
	return s->be->select_merge_graph(s, q, max_nodes, out, e);
}

int store_series(struct store *s, const struct store_query *q, store_series_cb cb, void *arg, struct err *e)
{
	return s->be->series(s, q, cb, arg, e);
}

int store_label_names(struct store *s, const struct store_query *q, store_string_cb cb, void *arg, struct err *e)
{
	return s->be->label_names(s, q, cb, arg, e);
}

int store_label_values(struct store *s, const struct store_query *q, const char *name, store_string_cb cb,
		       void *arg, struct err *e)
{
	return s->be->label_values(s, q, name, cb, arg, e);
}

int store_profile_types(struct store *s, const struct store_query *q, store_string_cb cb, void *arg,
			struct err *e)
{
	return s->be->profile_types(s, q, cb, arg, e);
}

int store_select_series(struct store *s, const struct store_query *q, const char *const *group_by, size_t ngroup_by,
			int64_t step_ns, store_group_cb cb, void *arg, struct err *e)
{
	if (step_ns <= 0)
		return err_set(e, "the step must be positive");
	return s->be->select_series(s, q, group_by, ngroup_by, step_ns, cb, arg, e);
}

int store_list_profiles(struct store *s, const struct store_query *q, size_t limit, store_profile_cb cb, void *arg,
			struct err *e)
{
	return s->be->list_profiles(s, q, limit, cb, arg, e);
}

int store_get_profile(struct store *s, const char *tenant, const char *id, struct profile *out, struct err *e)
{
	return s->be->get_profile(s, tenant, id, out, e);
}

int store_enforce_retention(struct store *s, int64_t now_ns, struct err *e)
{
	return s->be->enforce_retention(s, now_ns, e);
}

int store_compact(struct store *s, int64_t now_ns, struct err *e)
{
	return s->be->compact ? s->be->compact(s, now_ns, e) : 0;
}

int store_stats(struct store *s, struct store_stats *st, struct err *e)
{
	memset(st, 0, sizeof(*st));
	return s->be->stats(s, st, e);
}

/* ---- rollup ranges ------------------------------------------------------------------------------------------ */

int64_t store_floor_to(int64_t t, int64_t unit)
{
	return t >= 0 ? t - t % unit : -((-t + unit - 1) / unit) * unit;
}

int64_t store_step_index(int64_t t, int64_t from, int64_t step)
{
	return t <= from ? 0 : (t - from - 1) / step + 1;
}

static int64_t ceil_to(int64_t t, int64_t unit)
{
	return -store_floor_to(-t, unit);
}

void store_split_range(int64_t from, int64_t until, int64_t hour_until, int64_t day_until, struct store_regions *r)
{
	int64_t h0 = ceil_to(from, STORE_HOUR_NS), h1 = store_floor_to(until, STORE_HOUR_NS);
	int64_t d0, d1;

	memset(r, 0, sizeof(*r));
	if (h1 > hour_until)
		h1 = hour_until;
	if (h1 <= h0) {
		r->part[r->n++] = (struct store_region){ 0, from, until };
		return;
	}
	if (from < h0)
		r->part[r->n++] = (struct store_region){ 0, from, h0 };
	d0 = ceil_to(h0, STORE_DAY_NS);
	d1 = store_floor_to(h1, STORE_DAY_NS);
	if (d1 > day_until)
		d1 = day_until;
	if (d1 > d0) {
		if (h0 < d0)
			r->part[r->n++] = (struct store_region){ 1, h0, d0 };
		r->part[r->n++] = (struct store_region){ 2, d0, d1 };
		if (d1 < h1)
			r->part[r->n++] = (struct store_region){ 1, d1, h1 };
	} else {
		r->part[r->n++] = (struct store_region){ 1, h0, h1 };
	}
	if (h1 < until)
		r->part[r->n++] = (struct store_region){ 0, h1, until };
}

/* ---- ids ---------------------------------------------------------------------------------------------------- */

int64_t store_id_of(const void *data, size_t len)
{
	int64_t id = (int64_t)(hash_bytes(data, len) & INT64_MAX);

	return id ? id : 1; /* 0 means "no parent" */
}

int64_t store_random_id(void)
{
	uint64_t r = 0;

	/* getrandom() of 8 bytes from an initialised pool never blocks or comes short. */
	if (getrandom(&r, sizeof(r), 0) != sizeof(r)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		r = hash_u64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)(uintptr_t)&ts);
	}
	r &= INT64_MAX;
	return r ? (int64_t)r : 1;
}

/* ---- encoding a write --------------------------------------------------------------------------------------- */

static void key_add_escaped(struct buf *b, const char *s, bool name)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '\n' || (name && *s == '='))
			buf_addch(b, '\\');
		buf_addch(b, *s == '\n' ? 'n' : *s);
	}
}

size_t store_labels_parse(char *key, struct label_pair *labels, size_t max)
{
	size_t n = 0;
	char *r = key, *w = key;

	while (*r && n < max) {
		char *start = w;
		bool in_value = false;

		labels[n].name = start;
		labels[n].value = "";
		for (; *r && *r != '\n'; r++) {
			if (*r == '\\' && r[1]) {
				r++;
				*w++ = *r == 'n' ? '\n' : *r;
			} else if (*r == '=' && !in_value) {
				*w++ = '\0';
				labels[n].value = w;
				in_value = true;
			} else {
				*w++ = *r;
			}
		}
		if (*r == '\n')
			r++;
		*w++ = '\0';
		n++;
	}
	return n;
}

static int check_labels(const struct store_write *w, struct err *e)
{
	for (size_t i = 0; i < w->nlabels; i++) {
		if (!w->labels[i].name || !*w->labels[i].name || !w->labels[i].value)
			return err_set(e, "a label has an empty name");
		if (i && strcmp(w->labels[i - 1].name, w->labels[i].name) >= 0)
			return err_set(e, "labels are not sorted by name or not unique ('%s')", w->labels[i].name);
	}
	return 0;
}

static int64_t frame_id(const struct profile *p, const struct frame *f)
{
	const char *str[] = { profile_str(p, f->function), profile_str(p, f->module), profile_str(p, f->file) };
	uint64_t num[] = { f->line, f->addr, f->kind };
	struct buf b = BUF_INIT;
	int64_t id;

	/* Text, not string ids: ids must not depend on the order in which a profile interned its strings. The
	 * strings with their NULs, then the numbers' bytes (no printf: this runs for every frame of every write). */
	for (size_t i = 0; i < 3; i++)
		buf_add(&b, str[i], strlen(str[i]) + 1);
	buf_add(&b, num, sizeof(num));
	id = store_id_of(b.buf, b.len);
	buf_release(&b);
	return id;
}

/* Records `node`'s frame (once) and stack node, whose parent's id is known; returns its id. */
static int64_t node_add(const struct profile *p, uint32_t node, int64_t parent, struct u64map *seen_frames,
			struct store_enc *enc)
{
	uint32_t fi = p->nodes[node].frame;
	const struct frame *f = &p->frames[fi];
	int64_t fid, key[2], id;
	int inserted;
	uint64_t *slot = u64map_insert(seen_frames, fi, &inserted);

	/* A frame's id is computed once per write, however many stacks it is in. */
	if (!inserted) {
		fid = (int64_t)*slot;
	} else {
		fid = frame_id(p, f);
		*slot = (uint64_t)fid;
		ALLOC_GROW(enc->frames, enc->nframes + 1, enc->frames_alloc);
		enc->frames[enc->nframes++] = (struct store_frame){ fid, profile_str(p, f->function),
			profile_str(p, f->module), profile_str(p, f->file), f->line, (int64_t)f->addr, (int)f->kind };
	}
	key[0] = parent;
	key[1] = fid;
	id = store_id_of(key, sizeof(key));
	ALLOC_GROW(enc->stacks, enc->nstacks + 1, enc->stacks_alloc);
	enc->stacks[enc->nstacks++] = (struct store_stack){ id, parent, fid };
	return id;
}

/* The id of `node`, recording it and its unseen ancestors; iterative, as stacks can be very deep. */
static int64_t node_id(const struct profile *p, uint32_t node, int64_t *ids, struct u64map *seen_frames,
		       struct store_enc *enc, uint32_t **path, size_t *path_alloc)
{
	size_t n = 0;

	for (uint32_t u = node; u && !ids[u]; u = p->nodes[u].parent) {
		ALLOC_GROW(*path, n + 1, *path_alloc);
		(*path)[n++] = u;
	}
	while (n--) {
		uint32_t u = (*path)[n];

		ids[u] = node_add(p, u, ids[p->nodes[u].parent], seen_frames, enc);
	}
	return ids[node];
}

SORT_BY_KEY(sort_pairs, struct store_pair, stack)

int store_encode(const struct store_write *w, struct store_enc *enc, struct err *e)
{
	const struct profile *p = w->prof;
	struct u64map seen_frames = U64MAP_INIT;
	struct buf key = BUF_INIT;
	int64_t *ids = NULL;
	uint32_t *path = NULL;
	size_t i, j, path_alloc = 0;

	memset(enc, 0, sizeof(*enc));
	if (check_labels(w, e))
		return -1;
	if (p && (w->column < 0 || (size_t)w->column >= p->ncolumns))
		return err_set(e, "no value column %d in the profile", w->column);
	if (w->until_ns < w->from_ns)
		return err_set(e, "the profile ends before it starts");
	enc->tenant = w->tenant ? w->tenant : "";
	enc->profile_type = w->profile_type;
	enc->labels = w->labels;
	enc->nlabels = w->nlabels;
	enc->from_ns = w->from_ns;
	enc->until_ns = w->until_ns;
	enc->tenant_id = store_id_of(enc->tenant, strlen(enc->tenant));
	for (i = 0; i < w->nlabels; i++) {
		key_add_escaped(&key, w->labels[i].name, true);
		buf_addch(&key, '=');
		key_add_escaped(&key, w->labels[i].value, false);
		buf_addch(&key, '\n');
	}
	{
		struct buf sid = BUF_INIT;

		buf_addf(&sid, "%lld%c%s%c%s", (long long)enc->tenant_id, 0, w->profile_type, 0, key.buf);
		enc->series_id = store_id_of(sid.buf, sid.len);
		buf_release(&sid);
	}
	enc->labels_key = buf_detach(&key, NULL);

	for (i = 0; i < w->npairs; i++) {
		if (!w->pairs[i].value)
			continue;
		ALLOC_GROW(enc->pairs, enc->npairs + 1, enc->pairs_alloc);
		enc->pairs[enc->npairs++] = w->pairs[i];
	}
	if (!p)
		goto pairs;
	ids = xcalloc(p->nodes_nr ? p->nodes_nr : 1, sizeof(*ids));
	for (i = 0; i < p->rows_nr; i++) {
		int64_t v = profile_row_values(p, i)[w->column];

		if (!v || (w->only_labelset && p->rows[i].labelset != w->labelset))
			continue;
		ALLOC_GROW(enc->pairs, enc->npairs + 1, enc->pairs_alloc);
		enc->pairs[enc->npairs++] = (struct store_pair){
			node_id(p, p->rows[i].node, ids, &seen_frames, enc, &path, &path_alloc), v };
	}
	free(path);
	free(ids);
	u64map_release(&seen_frames);
pairs:
	/* Rows of one stack under different label sets (or frames equal in content) become one pair. Pairs from
	 * a stack cache come sorted. */
	for (i = 1; i < enc->npairs && enc->pairs[i - 1].stack < enc->pairs[i].stack; i++)
		;
	if (i < enc->npairs)
		sort_pairs(enc->pairs, enc->npairs);
	for (i = 0, j = 0; i < enc->npairs; i++) {
		if (j && enc->pairs[j - 1].stack == enc->pairs[i].stack)
			enc->pairs[j - 1].value = sat_add64(enc->pairs[j - 1].value, enc->pairs[i].value);
		else
			enc->pairs[j++] = enc->pairs[i];
	}
	enc->npairs = j;
	for (i = 0; i < enc->npairs; i++)
		enc->total = sat_add64(enc->total, enc->pairs[i].value);
	return 0;
}

void store_stack_ids(const struct profile *p, const uint32_t *nodes, size_t n, int64_t *out)
{
	struct store_enc scratch = { 0 };
	struct u64map seen_frames = U64MAP_INIT;
	int64_t *ids = xcalloc(p->nodes_nr ? p->nodes_nr : 1, sizeof(*ids));
	uint32_t *path = NULL;
	size_t path_alloc = 0;

	for (size_t i = 0; i < n; i++)
		out[i] = nodes[i] && nodes[i] < p->nodes_nr ?
				 node_id(p, nodes[i], ids, &seen_frames, &scratch, &path, &path_alloc) : 0;
	free(path);
	free(ids);
	u64map_release(&seen_frames);
	store_enc_release(&scratch);
}

void store_enc_release(struct store_enc *enc)
{
	free(enc->labels_key);
	free(enc->frames);
	free(enc->stacks);
	free(enc->pairs);
	memset(enc, 0, sizeof(*enc));
}

/* ---- rebuilding stacks, sums, compaction plans (both backends) ---------------------------------------------- */

#define REBUILD_MAX_DEPTH (1 << 20) /* deeper than any real stack: a parent loop in damaged rows */

int store_rebuild_stack(struct store_rebuild *b, int64_t sid, uint32_t *node, struct err *e)
{
	size_t n = 0;
	uint32_t at = 0;
	uint64_t *placed;
	int rc;

	for (int64_t id = sid; id;) {
		if ((placed = u64map_find(&b->nodes, (uint64_t)id))) {
			at = (uint32_t)*placed;
			break;
		}
		if (n >= REBUILD_MAX_DEPTH)
			return err_set(e, "the store is damaged: stack %lld loops", (long long)sid);
		ALLOC_GROW(b->chain, 2 * n + 2, b->chain_alloc);
		b->chain[2 * n] = id;
		if ((rc = b->node(b->arg, id, &id, &b->chain[2 * n + 1], e))) {
			if (rc > 0)
				err_set(e, "the store is damaged: stack %lld is missing", (long long)b->chain[2 * n]);
			return rc;
		}
		n++;
	}
	while (n--) {
		int64_t fid = b->chain[2 * n + 1];
		uint64_t *f = u64map_find(&b->frames, (uint64_t)fid);
		uint32_t frame;
		int ins;

		if (f) {
			frame = (uint32_t)*f;
		} else {
			if ((rc = b->frame(b->arg, fid, &frame, e))) {
				if (rc > 0)
					err_set(e, "the store is damaged: frame %lld is missing", (long long)fid);
				return rc;
			}
			*u64map_insert(&b->frames, (uint64_t)fid, &ins) = frame;
		}
		at = profile_node(b->out, at, frame);
		*u64map_insert(&b->nodes, (uint64_t)b->chain[2 * n], &ins) = at;
	}
	*node = at;
	return 0;
}

void store_rebuild_release(struct store_rebuild *b)
{
	u64map_release(&b->nodes);
	u64map_release(&b->frames);
	free(b->chain);
	b->chain = NULL;
	b->chain_alloc = 0;
}

int store_sums_add(void *arg, int64_t id, int64_t value)
{
	struct store_sums *s = arg;
	int ins;
	uint64_t *slot = u64map_insert(&s->map, (uint64_t)id, &ins);

	if (ins) {
		size_t had = s->alloc;

		ALLOC_GROW(s->ids, s->n + 1, s->alloc);
		if (s->alloc != had) /* `v` follows `ids`' growth, not every id (a realloc per id copies) */
			s->v = xrealloc(s->v, s->alloc * sizeof(*s->v));
		s->ids[s->n] = id;
		s->v[s->n] = 0;
		*slot = s->n++;
	}
	s->v[*slot] = sat_add64(s->v[*slot], value);
	return 0;
}

int64_t store_sums_pack(const struct store_sums *s, struct buf *out)
{
	int64_t (*pairs)[2] = xcalloc(s->n + 1, sizeof(*pairs)), total = 0;
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (!s->v[i])
			continue;
		pairs[n][0] = s->ids[i];
		pairs[n++][1] = s->v[i];
		total = sat_add64(total, s->v[i]);
	}
	store_pack_pairs(out, pairs, n);
	free(pairs);
	return total;
}

void store_sums_release(struct store_sums *s)
{
	u64map_release(&s->map);
	free(s->ids);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

bool store_compact_next(int64_t hour_until, int64_t day_until, int64_t data_hour, int64_t now_ns,
			struct store_compact_plan *p)
{
	int64_t closed = store_floor_to(now_ns - STORE_COMPACT_GRACE_NS, STORE_HOUR_NS), hour;

	p->hour = -1;
	/*
	 * No data at or after the watermark: it stays. Moving it up to now would make every profile that a
	 * backfill brings for an earlier hour a late one, stored again as rollup rows of its hour and day.
	 */
	if (data_hour < 0)
		return false;
	if (data_hour >= closed) {
		/* No data in closed hours: the watermark moves up to what has closed (empty hours need no rows). */
		hour = closed;
	} else {
		p->hour = data_hour;
		hour = data_hour + STORE_HOUR_NS;
	}
	if (hour <= hour_until)
		return false;
	/* Days wholly below the new hour watermark roll up from their hours. */
	if (!day_until)
		day_until = store_floor_to(hour_until ? hour_until : hour - STORE_HOUR_NS, STORE_DAY_NS);
	p->day_from = day_until;
	while (day_until + STORE_DAY_NS <= hour)
		day_until += STORE_DAY_NS;
	p->hour_until = hour;
	p->day_until = day_until;
	return true;
}

static int64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void store_note_write(struct u64map *last_write, int64_t from_ns)
{
	int ins;

	*u64map_insert(last_write, (uint64_t)store_floor_to(from_ns, STORE_HOUR_NS), &ins) = (uint64_t)wall_ns();
}

bool store_hour_settled(struct u64map *last_write, int64_t hour, int64_t settle_ns)
{
	int64_t now = wall_ns();
	const uint64_t *t;

	if (last_write->nr > 4096) {
		struct u64map keep = U64MAP_INIT;
		size_t pos = 0;
		uint64_t k, v;
		int ins;

		while (u64map_next(last_write, &pos, &k, &v))
			if ((int64_t)v + settle_ns > now)
				*u64map_insert(&keep, k, &ins) = v;
		u64map_release(last_write);
		*last_write = keep;
	}
	t = u64map_find(last_write, (uint64_t)hour);
	return !t || (int64_t)*t + settle_ns <= now;
}
