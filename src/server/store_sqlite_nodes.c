/*
 * The SQLite backend's copy of the stack node table for queries (struct sq_stack_cache), and the merge that a
 * flame graph of at most maxNodes nodes needs (sq_rebuild_truncated): a week of a fleet holds half a million
 * distinct stacks over 2.9 M nodes, and building all of them as a profile with names, only for the graph to fold
 * all but 8,192 into "other", was most of that query's time and its memory peak.
 */
#include "server/store_sqlite.h"

#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "profile/profile.h"
#include "server/flamebearer.h"

void sq_nodes_put(struct sq_stack_cache *c, int64_t seq, int64_t parent, int64_t frame)
{
	size_t had = c->alloc;

	ALLOC_GROW(c->frame, (size_t)seq + 1, c->alloc);
	if (c->alloc != had) { /* `parent` follows `frame`'s growth, not every node (a realloc per node copies) */
		c->parent = xrealloc(c->parent, c->alloc * sizeof(*c->parent));
		memset(c->frame + had, 0, (c->alloc - had) * sizeof(*c->frame));
	}
	c->parent[seq] = (uint32_t)parent;
	c->frame[seq] = frame;
	c->n = (size_t)seq + 1;
}

int sq_nodes_refresh(struct sq_stack_cache *c, sqlite3 *meta, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;

	pthread_rwlock_wrlock(&c->lock);
	if (sqlite3_prepare_v2(meta, "SELECT s.seq, s.seq - s.up, f.id FROM stacks s LEFT JOIN frames f ON f.seq = s.frame"
				     " WHERE s.seq >= ? ORDER BY s.seq", -1, &st, NULL) != SQLITE_OK) {
		ret = sq_err(meta, "reading stacks", e);
		goto out;
	}
	sqlite3_bind_int64(st, 1, c->n ? (int64_t)c->n : 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0), parent = sqlite3_column_int64(st, 1);
		int64_t frame = sqlite3_column_int64(st, 2);

		/* A parent numbered before its child is what makes every walk up end (and sums by number work). */
		if (seq < 1 || seq > INT32_MAX || parent < 0 || parent >= seq || !frame) {
			ret = err_set(e, "the store is damaged: stack node %lld", (long long)seq);
			break;
		}
		sq_nodes_put(c, seq, parent, frame);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = sq_err(meta, "reading stacks", e);
out:
	sqlite3_finalize(st);
	pthread_rwlock_unlock(&c->lock);
	return ret;
}

void sq_nodes_release(struct sq_stack_cache *c)
{
	pthread_rwlock_destroy(&c->lock);
	free(c->parent);
	free(c->frame);
}

static void swap64(int64_t *a, int64_t *b)
{
	int64_t t = *a;

	*a = *b;
	*b = t;
}

/* The k-th largest (0-based) of v[0..n), n > k (quickselect, three-way so that equal totals cost no more). */
static int64_t kth_largest(int64_t *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n;

	while (hi - lo > 1) {
		int64_t pivot = v[lo + (hi - lo) / 2];
		size_t gt = lo, i = lo, lt = hi; /* [lo, gt) > pivot, [gt, i) == pivot, [lt, hi) < pivot */

		while (i < lt) {
			if (v[i] > pivot)
				swap64(&v[gt++], &v[i++]);
			else if (v[i] < pivot)
				swap64(&v[i], &v[--lt]);
			else
				i++;
		}
		if (k < gt)
			hi = gt;
		else if (k >= lt)
			lo = lt;
		else
			return pivot;
	}
	return v[lo];
}

/* The frame of `out` for stored frame `fid`, read once per rebuild. */
static int frame_of(struct sq_rebuild *b, int64_t fid, uint32_t *frame, struct err *e)
{
	uint64_t *f = u64map_find(&b->rb.frames, (uint64_t)fid);
	int ins, rc;

	if (f) {
		*frame = (uint32_t)*f;
		return 0;
	}
	if ((rc = b->rb.frame(b->rb.arg, fid, frame, e))) {
		if (rc > 0)
			err_set(e, "the store is damaged: frame %lld is missing", (long long)fid);
		return -1;
	}
	*u64map_insert(&b->rb.frames, (uint64_t)fid, &ins) = *frame;
	return 0;
}

enum { UNSEEN, SEEN, KEPT };

int sq_rebuild_truncated(struct sq_rebuild *b, const struct store_sums *leaves, int64_t max_nodes, struct err *e)
{
	const struct sq_stack_cache *c = b->cache;
	struct profile *out = b->rb.out;
	size_t n = c->n ? c->n : 1, nseen = 0;
	int64_t *self = xcalloc(n, sizeof(*self)), *total = xcalloc(n, sizeof(*total)), min_total = INT64_MIN;
	int64_t root_self = 0, root_other = 0;
	uint8_t *state = xcalloc(n, 1);
	uint32_t *node_of = xmalloc(n * sizeof(*node_of)), other = UINT32_MAX, *order = NULL;
	size_t order_alloc = 0;
	int ret = -1;

	/* Selves by node number, and every node on a path to a leaf seen once. */
	for (size_t i = 0; i < leaves->n; i++) {
		int64_t id = leaves->ids[i];

		if (!leaves->v[i])
			continue;
		if (!id) {
			root_self = sat_add64(root_self, leaves->v[i]); /* an empty stack */
			continue;
		}
		if (id < 0 || (uint64_t)id >= n || !c->frame[id]) {
			err_set(e, "the store is damaged: stack %lld is missing", (long long)id);
			goto out;
		}
		self[id] = sat_add64(self[id], leaves->v[i]);
		for (uint32_t x = (uint32_t)id; x && state[x] == UNSEEN; x = c->parent[x]) {
			if (!c->frame[x]) {
				err_set(e, "the store is damaged: stack %u is missing", x);
				goto out;
			}
			state[x] = SEEN;
			ALLOC_GROW(order, nseen + 1, order_alloc);
			order[nseen++] = x;
		}
	}
	/* The seen nodes in ascending numbers, parents first (the caller truncates only when they are many). */
	for (size_t x = 1, k = 0; x < n; x++)
		if (state[x] != UNSEEN)
			order[k++] = (uint32_t)x;
	/* Totals: children come after their parent, so one pass backwards sums every subtree. */
	for (size_t i = nseen; i-- > 0;) {
		uint32_t x = order[i];

		total[x] = sat_add64(total[x], self[x]);
		if (c->parent[x])
			total[c->parent[x]] = sat_add64(total[c->parent[x]], total[x]);
	}
	if ((size_t)max_nodes < nseen) {
		int64_t *keys = xmalloc(nseen * sizeof(*keys));

		for (size_t i = 0; i < nseen; i++)
			keys[i] = total[order[i]];
		min_total = kth_largest(keys, nseen, (size_t)max_nodes - 1);
		free(keys);
	}
	/* The kept nodes, parents first; a node is kept only under a kept parent (totals only shrink downwards). */
	for (size_t i = 0; i < nseen; i++) {
		uint32_t x = order[i], p = c->parent[x], frame;

		if (total[x] < min_total || (p && state[p] != KEPT))
			continue;
		if (frame_of(b, c->frame[x], &frame, e))
			goto out;
		node_of[x] = profile_node(out, p ? node_of[p] : 0, frame);
		state[x] = KEPT;
		if (self[x])
			profile_add_sample1(out, node_of[x], 0, self[x]);
	}
	if (root_self)
		profile_add_sample1(out, 0, 0, root_self);
	/* What a kept node's left-out children hold, as its "other" child (self[] is free again for the sums). */
	for (size_t i = 0; i < nseen; i++) {
		uint32_t x = order[i], p = c->parent[x];

		if (state[x] == KEPT)
			self[x] = 0;
		if (state[x] != SEEN || (p && state[p] != KEPT))
			continue;
		if (p)
			self[p] = sat_add64(self[p], total[x]);
		else
			root_other = sat_add64(root_other, total[x]);
	}
	for (size_t i = 0; i <= nseen; i++) {
		uint32_t x = i < nseen ? order[i] : 0;
		int64_t v = x ? (state[x] == KEPT ? self[x] : 0) : root_other;

		if (!v)
			continue;
		if (other == UINT32_MAX)
			other = profile_frame(out, &(struct frame){ .function = profile_intern_str(out, FLAMEBEARER_OTHER) });
		profile_add_sample1(out, profile_node(out, x ? node_of[x] : 0, other), 0, v);
	}
	ret = 0;
out:
	free(self);
	free(total);
	free(state);
	free(node_of);
	free(order);
	return ret;
}
