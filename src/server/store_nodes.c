/*
 * Stack nodes by dense number (store_nodes.h): the key set, the node table, and the merge that a flame graph of
 * at most maxNodes nodes needs (store_nodes_truncated): a week of a fleet holds half a million distinct stacks
 * over 2.9 M nodes, and building all of them as a profile with names, only for the graph to fold all but 8,192
 * into "other", was most of that query's time and its memory peak.
 */
#include "server/store_nodes.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/array.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "profile/profile.h"
#include "server/flamebearer.h"

/* ---- the key set ---- */

static size_t slot_of(const struct store_keys *k, uint64_t key)
{
	return (size_t)(hash_u64(key) & k->mask);
}

/* Places number `seq` in the first free slot of its key's probe sequence. */
static void place(struct store_keys *k, uint32_t seq)
{
	size_t i = slot_of(k, k->keys[seq]);

	while (k->slots[i])
		i = (i + 1) & k->mask;
	k->slots[i] = seq;
}

static void grow(struct store_keys *k)
{
	uint32_t *old = k->slots;
	size_t ncap = k->slots ? (k->mask + 1) * 2 : 1024;

	k->slots = xcalloc(ncap, sizeof(*k->slots));
	k->mask = ncap - 1;
	for (size_t i = 0; old && i < ncap / 2; i++)
		if (old[i])
			place(k, old[i]);
	free(old);
}

int64_t store_keys_find(const struct store_keys *k, uint64_t key, int64_t limit)
{
	if (!k->slots)
		return 0;
	for (size_t i = slot_of(k, key); k->slots[i]; i = (i + 1) & k->mask) {
		uint32_t seq = k->slots[i];

		/* A number at or past `limit` was taken back with its batch and may since name another key. */
		if (seq < limit && k->keys[seq] == key)
			return seq;
	}
	return 0;
}

void store_keys_add(struct store_keys *k, uint64_t key, int64_t seq)
{
	if ((size_t)seq >= k->keys_alloc) {
		size_t had = k->keys_alloc;

		ALLOC_GROW(k->keys, (size_t)seq + 1, k->keys_alloc);
		memset(k->keys + had, 0, (k->keys_alloc - had) * sizeof(*k->keys));
	}
	k->keys[seq] = key;
	/* at most three quarters full: probes stay short, and a slot is 4 bytes */
	if ((k->nr + 1) * 4 > (k->slots ? k->mask + 1 : 0) * 3)
		grow(k);
	place(k, (uint32_t)seq);
	k->nr++;
}

void store_keys_release(struct store_keys *k)
{
	free(k->slots);
	free(k->keys);
	memset(k, 0, sizeof(*k));
}

/* ---- arrays of one query over the node table ---- */

static size_t page_round(size_t size)
{
	return (size ? size + 4095 : 4096) & ~(size_t)4095;
}

static void *mapped(void *p, size_t size)
{
	if (p == MAP_FAILED) { /* as xalloc.h does */
		fprintf(stderr, "kiln: out of memory allocating %zu bytes\n", size);
		abort();
	}
	return p;
}

void *store_big_zalloc(size_t size)
{
	return mapped(mmap(NULL, page_round(size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), size);
}

void *store_big_grow(void *p, size_t old, size_t size)
{
	if (!p)
		return store_big_zalloc(size);
	if (page_round(size) <= page_round(old)) /* the tail of the last page is still zero (never written) */
		return p;
	/* the pages an anonymous mapping grows by are zero */
	return mapped(mremap(p, page_round(old), page_round(size), MREMAP_MAYMOVE), size);
}

void store_big_free(void *p, size_t size)
{
	if (p)
		munmap(p, page_round(size));
}

/* ---- the node table ---- */

void store_nodes_put(struct store_nodes *c, int64_t seq, int64_t parent, int64_t frame)
{
	uint64_t *at;
	int ins;

	if ((size_t)seq >= c->alloc) {
		/* Mapped, as a query's arrays: grown by remapping, not by copies that the arenas of malloc would keep
		 * (the cache is filled by the first query after ingest: 14 MB of old copies stayed resident). The
		 * new pages are zero, so numbers without a node (only in a damaged table) read as none. */
		size_t alloc = c->alloc ? c->alloc : 1 << 16;

		while (alloc <= (size_t)seq)
			alloc *= 2;
		c->frame = store_big_grow(c->frame, c->alloc * sizeof(*c->frame), alloc * sizeof(*c->frame));
		c->parent = store_big_grow(c->parent, c->alloc * sizeof(*c->parent), alloc * sizeof(*c->parent));
		c->alloc = alloc;
	}
	c->parent[seq] = (uint32_t)parent;
	c->frame[seq] = 0; /* frame id 0 is no frame: a damaged node, as good as none */
	if (frame) {
		at = u64map_insert(&c->frame_at, (uint64_t)frame, &ins);
		if (ins) {
			ALLOC_GROW(c->frame_ids, c->nframes + 1, c->frames_alloc);
			c->frame_ids[c->nframes] = frame;
			*at = c->nframes++;
		}
		c->frame[seq] = (uint32_t)*at + 1;
	}
	c->n = (size_t)seq + 1;
}

void store_nodes_release(struct store_nodes *c)
{
	store_big_free(c->parent, c->alloc * sizeof(*c->parent));
	store_big_free(c->frame, c->alloc * sizeof(*c->frame));
	free(c->frame_ids);
	u64map_release(&c->frame_at);
}

/* The frame of `out` for stored frame `fid`, read once per rebuild. */
static int frame_of(struct store_rebuild *rb, int64_t fid, uint32_t *frame, struct err *e)
{
	uint64_t *f = u64map_find(&rb->frames, (uint64_t)fid);
	int ins, rc;

	if (f) {
		*frame = (uint32_t)*f;
		return 0;
	}
	if ((rc = rb->frame(rb->arg, fid, frame, e))) {
		if (rc > 0)
			err_set(e, "the store is damaged: frame %lld is missing", (long long)fid);
		return -1;
	}
	*u64map_insert(&rb->frames, (uint64_t)fid, &ins) = *frame;
	return 0;
}

enum { UNSEEN, SEEN, KEPT };

/* The k-th largest total (k from 1) of the seen nodes, k < their number: a min-heap of the k largest so far, where
 * a copy of every total to select in (8 bytes a node) was a fifth of a week's merge's memory peak. */
static int64_t kth_largest(const int64_t *v, const uint8_t *state, size_t n, size_t k)
{
	int64_t *heap = xmalloc(k * sizeof(*heap)), kth;
	size_t nh = 0;

	for (size_t x = 1; x < n; x++) {
		size_t i = 0;

		if (state[x] == UNSEEN)
			continue;
		if (nh < k) {
			/* sift up */
			for (i = nh++; i && heap[(i - 1) / 2] > v[x]; i = (i - 1) / 2)
				heap[i] = heap[(i - 1) / 2];
			heap[i] = v[x];
			continue;
		}
		if (v[x] <= heap[0])
			continue;
		/* the smallest goes; sift the new one down from the top */
		for (;;) {
			size_t l = 2 * i + 1, m = l + 1 < k && heap[l + 1] < heap[l] ? l + 1 : l;

			if (l >= k || heap[m] >= v[x])
				break;
			heap[i] = heap[m];
			i = m;
		}
		heap[i] = v[x];
	}
	kth = heap[0];
	free(heap);
	return kth;
}

static int64_t sat_sub64(int64_t a, int64_t b)
{
	int64_t r;

	return __builtin_sub_overflow(a, b, &r) ? (b < 0 ? INT64_MAX : INT64_MIN) : r;
}

/* A kept node: its node in the output, and the totals of its seen children and of those kept. */
struct kept {
	uint32_t x, node;
	int64_t kids, kept_kids;
};

/*
 * Grows the caller's sums to the node table's size and adds `late` to them (the numbers stored since the merge
 * began; 0, an empty stack, goes to *root_self).
 */
static int sums_complete(const struct store_nodes *c, int64_t **sums, size_t *nsums, const struct store_sums *late,
			 int64_t *root_self, struct err *e)
{
	size_t n = c->n ? c->n : 1;

	for (size_t x = n; x < *nsums; x++) /* past the table: cannot be (the table only grows) unless damaged */
		if ((*sums)[x])
			return err_set(e, "the store is damaged: stack %zu is missing", x);
	if (*nsums < n) {
		*sums = store_big_grow(*sums, *nsums * sizeof(**sums), n * sizeof(**sums));
		*nsums = n;
	}
	for (size_t i = 0; i < late->n; i++) {
		int64_t id = late->ids[i];

		if (!id)
			*root_self = sat_add64(*root_self, late->v[i]);
		else if (id < 0 || (uint64_t)id >= n || !c->frame[id])
			return err_set(e, "the store is damaged: stack %lld is missing", (long long)id);
		else
			(*sums)[id] = sat_add64((*sums)[id], late->v[i]);
	}
	return 0;
}

int store_nodes_truncated(struct store_rebuild *rb, const struct store_nodes *c, int64_t **sums, size_t *nsums,
			  const struct store_sums *late, int64_t max_nodes, struct err *e)
{
	struct profile *out = rb->out;
	size_t n = c->n ? c->n : 1, nseen = 0, nkept = 0, kept_alloc = 0;
	int64_t *v, min_total = INT64_MIN, root_self = 0, root_kids = 0, root_kept = 0;
	uint8_t *state = NULL;
	struct kept *kept = NULL;
	struct u64map kept_at = U64MAP_INIT; /* node number -> index in kept */
	uint32_t other = UINT32_MAX;
	int ret = -1;

	if (sums_complete(c, sums, nsums, late, &root_self, e))
		return -1;
	v = *sums;
	state = store_big_zalloc(n);
	/*
	 * Subtree totals in place of the selves, and the nodes on a path to a value seen: children are numbered
	 * after their parent, so one pass backwards has every child summed into a node before it reaches the node.
	 */
	for (size_t x = n; x-- > 1;) {
		uint32_t p = c->parent[x];

		if (state[x] == UNSEEN) {
			if (!v[x])
				continue;
			if (!c->frame[x]) {
				err_set(e, "the store is damaged: stack %zu is missing", x);
				goto out;
			}
			state[x] = SEEN;
		}
		nseen++;
		if (!p)
			continue;
		if (!c->frame[p]) {
			err_set(e, "the store is damaged: stack %u is missing", p);
			goto out;
		}
		state[p] = SEEN;
		v[p] = sat_add64(v[p], v[x]);
	}
	if ((size_t)max_nodes < nseen)
		min_total = kth_largest(v, state, n, (size_t)max_nodes);
	/*
	 * The kept nodes, parents first; a node is kept only under a kept parent (totals only shrink downwards).
	 * What a kept node's children hold is summed beside it, so that its self and its "other" come out as
	 * differences (exact unless a total saturated) rather than from arrays over the whole table.
	 */
	for (size_t x = 1; x < n; x++) {
		uint32_t p = c->parent[x], frame, parent_node = 0;
		bool keep = v[x] >= min_total;
		struct kept *pk = NULL;
		int ins;

		if (state[x] == UNSEEN || (p && state[p] != KEPT))
			continue;
		if (p) {
			pk = &kept[*u64map_find(&kept_at, p)];
			pk->kids = sat_add64(pk->kids, v[x]);
			if (keep)
				pk->kept_kids = sat_add64(pk->kept_kids, v[x]);
			parent_node = pk->node;
		} else {
			root_kids = sat_add64(root_kids, v[x]);
			if (keep)
				root_kept = sat_add64(root_kept, v[x]);
		}
		if (!keep)
			continue;
		if (frame_of(rb, store_node_frame(c, x), &frame, e))
			goto out;
		ALLOC_GROW(kept, nkept + 1, kept_alloc);
		kept[nkept] = (struct kept){ (uint32_t)x, profile_node(out, parent_node, frame), 0, 0 };
		*u64map_insert(&kept_at, x, &ins) = nkept++;
		state[x] = KEPT;
	}
	for (size_t i = 0; i < nkept; i++) {
		int64_t self = sat_sub64(v[kept[i].x], kept[i].kids);

		if (self)
			profile_add_sample1(out, kept[i].node, 0, self);
	}
	if (root_self)
		profile_add_sample1(out, 0, 0, root_self);
	/* What a kept node's left-out children hold, as its "other" child. */
	for (size_t i = 0; i <= nkept; i++) {
		int64_t o = i < nkept ? sat_sub64(kept[i].kids, kept[i].kept_kids) : sat_sub64(root_kids, root_kept);

		if (!o)
			continue;
		if (other == UINT32_MAX)
			other = profile_frame(out, &(struct frame){ .function = profile_intern_str(out, FLAMEBEARER_OTHER) });
		profile_add_sample1(out, profile_node(out, i < nkept ? kept[i].node : 0, other), 0, o);
	}
	ret = 0;
out:
	store_big_free(state, n);
	free(kept);
	u64map_release(&kept_at);
	return ret;
}
