/* The profile model: interned strings and frames, a stack prefix trie, typed value columns, label sets. */
#include "profile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/err.h"
#include "../core/util.h"
#include "../core/xalloc.h"

static const char *const kind_names[FRAME_KIND_NR] = {
	[FRAME_NATIVE] = "native", [FRAME_KERNEL] = "kernel", [FRAME_JIT] = "jit",     [FRAME_INLINED] = "inlined",
	[FRAME_PYTHON] = "python", [FRAME_JS] = "js",         [FRAME_JAVA] = "java",   [FRAME_GO] = "go",
	[FRAME_ROOT] = "root",     [FRAME_UNKNOWN] = "unknown",
};

const char *frame_kind_name(enum frame_kind kind)
{
	return (unsigned)kind < FRAME_KIND_NR ? kind_names[kind] : "unknown";
}

/* Room for `n` more nodes, in `nodes` and in `first_child` alike. */
static void grow_nodes(struct profile *p, size_t n)
{
	size_t na = p->nodes_alloc;

	ALLOC_GROW(p->nodes, p->nodes_nr + n, na);
	if (na != p->nodes_alloc)
		p->first_child = xrealloc(p->first_child, na * sizeof(*p->first_child));
	p->nodes_alloc = na;
}

struct profile *profile_new(unsigned flags)
{
	struct profile *p = xcalloc(1, sizeof(*p));

	p->flags = flags;
	p->default_column = -1;
	profile_intern(p, "", 0);
	strtab_intern(&p->labelsets, "", 0);
	grow_nodes(p, 1);
	p->nodes[0] = (struct stack_node){ 0, UINT32_MAX, 0 };
	p->first_child[0] = UINT32_MAX;
	p->nodes_nr = 1;
	return p;
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	strtab_release(&p->strings);
	free(p->frames);
	free(p->frame_next);
	u64map_release(&p->frame_index);
	free(p->nodes);
	free(p->first_child);
	u64map_release(&p->children);
	free(p->rows);
	free(p->values);
	u64map_release(&p->row_index);
	strtab_release(&p->labelsets);
	free(p->comments);
	profile_meta_release(&p->meta);
	free(p->warnings);
	free(p);
}

uint32_t profile_intern_str(struct profile *p, const char *s)
{
	return profile_intern(p, s, strlen(s));
}

static inline bool frame_eq(const struct frame *a, const struct frame *b)
{
	return a->function == b->function && a->module == b->module && a->file == b->file && a->line == b->line &&
	       a->addr == b->addr && a->kind == b->kind;
}

static inline uint64_t frame_hash(const struct frame *f)
{
	uint64_t h = hash_u64(((uint64_t)f->function << 32) ^ f->module);

	h = hash_u64(h ^ (((uint64_t)f->file << 32) | f->line));
	h = hash_u64(h ^ f->addr ^ ((uint64_t)f->kind << 56));
	/* U64MAP_EMPTY is reserved. */
	return h == U64MAP_EMPTY ? 0 : h;
}

uint32_t profile_frame(struct profile *p, const struct frame *f)
{
	uint64_t h = frame_hash(f), *head;
	uint32_t id;
	int inserted;

	head = u64map_insert(&p->frame_index, h, &inserted);
	if (!inserted) {
		for (id = (uint32_t)*head; id != UINT32_MAX; id = p->frame_next[id])
			if (frame_eq(&p->frames[id], f))
				return id;
	}
	if (p->frames_nr + 1 > p->frames_alloc) {
		size_t na = p->frames_alloc;

		ALLOC_GROW(p->frames, p->frames_nr + 1, na);
		p->frame_next = xrealloc(p->frame_next, na * sizeof(*p->frame_next));
		p->frames_alloc = na;
	}
	id = (uint32_t)p->frames_nr++;
	p->frames[id] = *f;
	p->frames[id].pad_ = 0;
	p->frame_next[id] = inserted ? UINT32_MAX : (uint32_t)*head;
	*head = id;
	return id;
}

uint32_t profile_frame_named(struct profile *p, const char *name, size_t len, enum frame_kind kind)
{
	struct frame f = { 0 };

	f.function = profile_intern(p, name, len);
	f.kind = kind;
	return profile_frame(p, &f);
}

/*
 * A node's first child is found in `first_child`, the others through the `children` map: most nodes of a real
 * trie have one child, and a deep stack is a chain of them, whose walk then stays in the node arrays instead of
 * a hash lookup (a cache and TLB miss each, once the map outgrows the caches) per frame.
 */
uint32_t profile_node(struct profile *p, uint32_t parent, uint32_t frame)
{
	uint32_t first = p->first_child[parent], id;
	uint64_t *v = NULL;
	int inserted;

	if (first != UINT32_MAX) {
		if (p->nodes[first].frame == frame)
			return first;
		v = u64map_insert(&p->children, ((uint64_t)parent << 32) | frame, &inserted);
		if (!inserted)
			return (uint32_t)*v;
	}
	grow_nodes(p, 1);
	id = (uint32_t)p->nodes_nr++;
	p->nodes[id] = (struct stack_node){ parent, frame, p->nodes[parent].depth + 1 };
	p->first_child[id] = UINT32_MAX;
	if (v)
		*v = id;
	else
		p->first_child[parent] = id;
	return id;
}

void profile_reserve(struct profile *p, size_t nodes, size_t rows)
{
	grow_nodes(p, nodes);
	u64map_reserve(&p->children, p->children.nr + nodes);
	u64map_reserve(&p->row_index, p->row_index.nr + rows);
}

uint32_t profile_node_find(const struct profile *p, uint32_t parent, uint32_t frame)
{
	uint32_t first = p->first_child[parent];
	const uint64_t *v;

	if (first == UINT32_MAX)
		return UINT32_MAX;
	if (p->nodes[first].frame == frame)
		return first;
	v = u64map_find(&p->children, ((uint64_t)parent << 32) | frame);
	return v ? (uint32_t)*v : UINT32_MAX;
}

/* Gives every row room for one more column (values of the new column start at 0). */
static void widen_rows(struct profile *p)
{
	size_t nc = p->ncolumns;

	if (p->rows_alloc && nc) {
		int64_t *nv = xcalloc(p->rows_alloc, (nc + 1) * sizeof(*nv));

		for (size_t r = 0; r < p->rows_nr; r++)
			memcpy(nv + r * (nc + 1), p->values + r * nc, nc * sizeof(*nv));
		free(p->values);
		p->values = nv;
	} else if (p->rows_alloc) {
		free(p->values);
		p->values = xcalloc(p->rows_alloc, sizeof(*p->values));
	}
}

int profile_add_column(struct profile *p, const char *type, const char *unit)
{
	uint32_t t = profile_intern_str(p, type), u = profile_intern_str(p, unit);

	for (size_t i = 0; i < p->ncolumns; i++)
		if (p->columns[i].type == t && p->columns[i].unit == u)
			return (int)i;
	if (p->ncolumns >= PROFILE_MAX_COLUMNS)
		BUG("more than %d value columns", PROFILE_MAX_COLUMNS);
	widen_rows(p);
	p->columns[p->ncolumns] = (struct value_type){ t, u };
	return (int)p->ncolumns++;
}

int profile_find_column(const struct profile *p, const char *type)
{
	int64_t t = strtab_find(&p->strings, type, strlen(type));

	if (t < 0)
		return -1;
	for (size_t i = 0; i < p->ncolumns; i++)
		if (p->columns[i].type == (uint32_t)t)
			return (int)i;
	return -1;
}

int profile_default_column(const struct profile *p)
{
	if (!p->ncolumns)
		return -1;
	if (p->default_column >= 0 && (size_t)p->default_column < p->ncolumns)
		return p->default_column;
	return (int)p->ncolumns - 1;
}

static int label_cmp(const void *a, const void *b)
{
	const struct label *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->str != y->str)
		return x->str < y->str ? -1 : 1;
	if (x->num != y->num)
		return x->num < y->num ? -1 : 1;
	return 0;
}

uint32_t profile_labelset(struct profile *p, const struct label *labels, size_t n)
{
	struct label tmp[32], *sorted = tmp;
	uint32_t id;

	if (!n)
		return 0;
	if (n > ARRAY_SIZE(tmp))
		sorted = xmalloc(n * sizeof(*sorted));
	for (size_t i = 0; i < n; i++) {
		sorted[i] = labels[i];
		sorted[i].pad_ = 0;
	}
	qsort(sorted, n, sizeof(*sorted), label_cmp);
	id = strtab_intern(&p->labelsets, (const char *)sorted, n * sizeof(*sorted));
	if (sorted != tmp)
		free(sorted);
	return id;
}

const struct label *profile_labelset_get(const struct profile *p, uint32_t id, size_t *n)
{
	*n = strtab_len(&p->labelsets, id) / sizeof(struct label);
	/* The arena aligns every string to 16 bytes, so the copy is aligned for struct label. */
	return (const struct label *)(const void *)strtab_str(&p->labelsets, id);
}

uint32_t profile_label_str(const struct profile *p, uint32_t labelset, const char *key)
{
	int64_t k = strtab_find(&p->strings, key, strlen(key));
	const struct label *l;
	size_t n;

	if (k < 0)
		return 0;
	l = profile_labelset_get(p, labelset, &n);
	for (size_t i = 0; i < n; i++)
		if (l[i].key == (uint32_t)k && l[i].str)
			return l[i].str;
	return 0;
}

bool profile_label_num(const struct profile *p, uint32_t labelset, const char *key, int64_t *out)
{
	int64_t k = strtab_find(&p->strings, key, strlen(key));
	const struct label *l;
	size_t n;

	if (k < 0)
		return false;
	l = profile_labelset_get(p, labelset, &n);
	for (size_t i = 0; i < n; i++) {
		if (l[i].key == (uint32_t)k && !l[i].str) {
			*out = l[i].num;
			return true;
		}
	}
	return false;
}

static size_t new_row(struct profile *p, uint32_t node, uint32_t labelset)
{
	size_t r = p->rows_nr;

	if (r + 1 > p->rows_alloc) {
		size_t na = p->rows_alloc;

		ALLOC_GROW(p->rows, r + 1, na);
		p->values = xrealloc(p->values, na * (p->ncolumns ? p->ncolumns : 1) * sizeof(*p->values));
		p->rows_alloc = na;
	}
	p->rows[r] = (struct sample_row){ node, labelset };
	memset(p->values + r * p->ncolumns, 0, p->ncolumns * sizeof(*p->values));
	p->rows_nr++;
	return r;
}

void profile_add_sample(struct profile *p, uint32_t node, uint32_t labelset, const int64_t *values)
{
	size_t r;

	if (p->flags & PROFILE_KEEP_ORDER) {
		if (p->rows_nr && p->rows[p->rows_nr - 1].node == node && p->rows[p->rows_nr - 1].labelset == labelset)
			r = p->rows_nr - 1;
		else
			r = new_row(p, node, labelset);
	} else {
		int inserted;
		uint64_t *v = u64map_insert(&p->row_index, ((uint64_t)node << 32) | labelset, &inserted);

		if (inserted)
			*v = new_row(p, node, labelset);
		r = (size_t)*v;
	}
	for (size_t c = 0; c < p->ncolumns; c++)
		p->values[r * p->ncolumns + c] = sat_add64(p->values[r * p->ncolumns + c], values[c]);
}

void profile_add_sample1(struct profile *p, uint32_t node, uint32_t labelset, int64_t value)
{
	int64_t v[PROFILE_MAX_COLUMNS] = { 0 };

	if (!p->ncolumns)
		profile_add_column(p, "samples", "count");
	v[0] = value;
	profile_add_sample(p, node, labelset, v);
}

int64_t profile_total(const struct profile *p, int column)
{
	int64_t t = 0;

	if (column < 0 || (size_t)column >= p->ncolumns)
		return 0;
	for (size_t r = 0; r < p->rows_nr; r++)
		t = sat_add64(t, p->values[r * p->ncolumns + (size_t)column]);
	return t;
}

bool profile_sums_saturate(const struct profile *p, int column)
{
	int64_t pos = 0, neg = 0;

	if (column < 0 || (size_t)column >= p->ncolumns)
		return false;
	/* Any sum of a subset of the rows lies between the sum of the negative and that of the positive values. */
	for (size_t r = 0; r < p->rows_nr; r++) {
		int64_t v = p->values[r * p->ncolumns + (size_t)column];

		if (v == INT64_MAX || v == INT64_MIN)
			return true;
		if (v > 0 ? __builtin_add_overflow(pos, v, &pos) : __builtin_add_overflow(neg, v, &neg))
			return true;
	}
	return false;
}

void profile_add_comment(struct profile *p, const char *s)
{
	ALLOC_GROW(p->comments, p->comments_nr + 1, p->comments_alloc);
	p->comments[p->comments_nr++] = profile_intern_str(p, s);
}

void profile_add_warning(struct profile *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ALLOC_GROW(p->warnings, p->warnings_nr + 1, p->warnings_alloc);
	p->warnings[p->warnings_nr++] = profile_intern_str(p, msg);
}

size_t profile_stack(const struct profile *p, uint32_t node, uint32_t *out, size_t max)
{
	size_t depth = p->nodes[node].depth, n = depth < max ? depth : max, i = depth;

	/* Fill from the leaf backwards; if the stack is deeper than max, keep the root end. */
	while (node != 0) {
		i--;
		if (i < n)
			out[i] = p->nodes[node].frame;
		node = p->nodes[node].parent;
	}
	return n;
}

/* Maps a string id of `src` into `dst`. */
static uint32_t map_str(struct profile *dst, const struct profile *src, uint32_t *smap, uint32_t id)
{
	if (smap[id] == UINT32_MAX)
		smap[id] = profile_intern(dst, profile_str(src, id), profile_strlen(src, id));
	return smap[id];
}

int profile_merge(struct profile *dst, const struct profile *src, struct err *e)
{
	uint32_t *smap = xmalloc(src->strings.nr * sizeof(*smap));
	uint32_t *fmap = xmalloc((src->frames_nr ? src->frames_nr : 1) * sizeof(*fmap));
	uint32_t *nmap = xmalloc(src->nodes_nr * sizeof(*nmap));
	uint32_t *lmap = xmalloc(src->labelsets.nr * sizeof(*lmap));
	int cmap[PROFILE_MAX_COLUMNS];
	int64_t vals[PROFILE_MAX_COLUMNS];
	bool dst_empty = !dst->rows_nr;

	memset(smap, 0xff, src->strings.nr * sizeof(*smap));
	memset(lmap, 0xff, src->labelsets.nr * sizeof(*lmap));
	for (size_t c = 0; c < src->ncolumns; c++) {
		uint32_t t = map_str(dst, src, smap, src->columns[c].type);
		uint32_t u = map_str(dst, src, smap, src->columns[c].unit);

		if (dst->ncolumns >= PROFILE_MAX_COLUMNS && profile_find_column(dst, profile_str(dst, t)) < 0) {
			free(smap), free(fmap), free(nmap), free(lmap);
			return err_set(e, "cannot merge profiles: more than %d value types", PROFILE_MAX_COLUMNS);
		}
		cmap[c] = profile_add_column(dst, profile_str(dst, t), profile_str(dst, u));
	}
	for (size_t f = 0; f < src->frames_nr; f++) {
		struct frame fr = src->frames[f];

		fr.function = map_str(dst, src, smap, fr.function);
		fr.module = map_str(dst, src, smap, fr.module);
		fr.file = map_str(dst, src, smap, fr.file);
		fmap[f] = profile_frame(dst, &fr);
	}
	nmap[0] = 0;
	/* A node is always created after its parent, so one pass in id order sees parents first. */
	for (size_t n = 1; n < src->nodes_nr; n++)
		nmap[n] = profile_node(dst, nmap[src->nodes[n].parent], fmap[src->nodes[n].frame]);
	for (size_t r = 0; r < src->rows_nr; r++) {
		uint32_t ls = src->rows[r].labelset;

		if (lmap[ls] == UINT32_MAX) {
			size_t n;
			const struct label *l = profile_labelset_get(src, ls, &n);
			struct label *copy = xmalloc((n ? n : 1) * sizeof(*copy));

			for (size_t i = 0; i < n; i++) {
				copy[i] = l[i];
				copy[i].key = map_str(dst, src, smap, l[i].key);
				copy[i].str = map_str(dst, src, smap, l[i].str);
				copy[i].num_unit = map_str(dst, src, smap, l[i].num_unit);
			}
			lmap[ls] = profile_labelset(dst, copy, n);
			free(copy);
		}
		memset(vals, 0, sizeof(vals));
		for (size_t c = 0; c < src->ncolumns; c++)
			vals[cmap[c]] += src->values[r * src->ncolumns + c];
		profile_add_sample(dst, nmap[src->rows[r].node], lmap[ls], vals);
	}
	for (size_t c = 0; c < src->comments_nr; c++)
		profile_add_comment(dst, profile_str(src, src->comments[c]));
	profile_meta_merge(dst, src, dst_empty);
	if (!dst->period && src->period) {
		dst->period = src->period;
		dst->period_type.type = map_str(dst, src, smap, src->period_type.type);
		dst->period_type.unit = map_str(dst, src, smap, src->period_type.unit);
	}
	dst->duration_nanos += src->duration_nanos;
	if (!dst->time_nanos || (src->time_nanos && src->time_nanos < dst->time_nanos))
		dst->time_nanos = src->time_nanos;
	free(smap);
	free(fmap);
	free(nmap);
	free(lmap);
	return 0;
}

size_t profile_memory(const struct profile *p)
{
	size_t m = sizeof(*p);

	m += p->strings.arena.used_total + p->strings.alloc * (sizeof(char *) + 4 + 8) + (p->strings.mask + 1) * 4;
	m += p->frames_alloc * (sizeof(struct frame) + 4) + (p->frame_index.mask + 1) * 16;
	m += p->nodes_alloc * (sizeof(struct stack_node) + 4) + (p->children.mask + 1) * 16;
	m += p->rows_alloc * (sizeof(struct sample_row) + p->ncolumns * 8) + (p->row_index.mask + 1) * 16;
	m += p->labelsets.arena.used_total;
	return m;
}
