/*
 * Flame graph encodings of Pyroscope (shared/protocols/pyroscope.md 7.1-7.4, 8.4). The profile's stacks are
 * merged by frame label (the one naming rule of profile/frame_name.h, so the graph names frames as kiln's
 * folded output does) into a tree holding two sides of values (left only for a single graph), then laid out:
 * a parent's self first, children after it in ascending byte order, each level's x delta-encoded.
 */
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/xalloc.h"
#include "profile/frame_name.h"
#include "profile/profile.h"
#include "server/flamebearer.h"
#include "server/store.h"

#define NONE UINT32_MAX

struct tnode {
	uint32_t name;   /* id in tree.names */
	uint32_t parent; /* the root (0) is its own parent */
	bool folded;     /* merged into its parent's "other" */
	int64_t total[2], self[2];
};

struct tree {
	struct strtab names;
	struct tnode *v;
	size_t nr, alloc;
	struct u64map index;  /* parent << 32 | name -> node */
	uint32_t *kids;       /* children of node i: kids[kid_at[i] .. kid_at[i + 1]), ascending by name */
	size_t *kid_at;
};

static uint32_t tree_child(struct tree *t, uint32_t parent, uint32_t name)
{
	int inserted;
	uint64_t *slot = u64map_insert(&t->index, (uint64_t)parent << 32 | name, &inserted);

	if (inserted) {
		ALLOC_GROW(t->v, t->nr + 1, t->alloc);
		t->v[t->nr] = (struct tnode){ .name = name, .parent = parent };
		*slot = t->nr++;
	}
	return (uint32_t)*slot;
}

static void tree_init(struct tree *t)
{
	memset(t, 0, sizeof(*t));
	strtab_intern(&t->names, "total", 5);
	ALLOC_GROW(t->v, 1, t->alloc);
	t->v[0] = (struct tnode){ 0 };
	t->nr = 1;
}

static void tree_release(struct tree *t)
{
	strtab_release(&t->names);
	free(t->v);
	u64map_release(&t->index);
	free(t->kids);
	free(t->kid_at);
}

/* Adds column `col` of `p` as side `side`: every profile stack node maps to the tree node of its label path. */
static int tree_add(struct tree *t, const struct profile *p, int col, int side, struct err *e)
{
	uint32_t *node_map, *frame_name;
	bool *full;
	struct buf b = BUF_INIT;
	int ret = 0;

	if (col < 0)
		col = profile_default_column(p);
	if (col < 0 || p->rows_nr == 0)
		return 0;
	if ((size_t)col >= p->ncolumns)
		return err_set(e, "no value column %d in the profile", col);
	node_map = xmalloc(p->nodes_nr * sizeof(*node_map));
	frame_name = xmalloc((p->frames_nr + 1) * sizeof(*frame_name));
	memset(frame_name, 0xff, (p->frames_nr + 1) * sizeof(*frame_name));
	full = profile_placed_full_paths(p);
	node_map[0] = 0;
	/* A node's parent was created before it, so one pass in id order sees every parent mapped. */
	for (size_t i = 1; i < p->nodes_nr; i++) {
		uint32_t f = p->nodes[i].frame;
		if (frame_name[f] == NONE) {
			buf_reset(&b);
			profile_frame_label(&b, p, f, full);
			frame_name[f] = strtab_intern(&t->names, b.buf, b.len);
		}
		node_map[i] = tree_child(t, node_map[p->nodes[i].parent], frame_name[f]);
	}
	for (size_t r = 0; r < p->rows_nr; r++) {
		int64_t v = profile_row_values(p, r)[col];
		uint32_t n;

		if (v == 0)
			continue;
		if (v < 0) {
			ret = err_set(e, "negative sample value %lld, which a flame graph cannot lay out", (long long)v);
			break;
		}
		/* An empty stack is one frame with an empty name, as Pyroscope reads the folded line " 3". */
		n = p->rows[r].node ? node_map[p->rows[r].node] : tree_child(t, 0, strtab_intern(&t->names, "", 0));
		t->v[n].self[side] = sat_add64(t->v[n].self[side], v);
	}
	free(node_map);
	free(frame_name);
	free(full);
	buf_release(&b);
	return ret;
}

static int64_t key_of(const struct tnode *n)
{
	return n->total[0] > n->total[1] ? n->total[0] : n->total[1];
}

/* Totals from selves: children come after their parents, so a reverse pass sums each subtree bottom-up. */
static void tree_totals(struct tree *t)
{
	for (size_t i = 0; i < t->nr; i++)
		for (int s = 0; s < 2; s++)
			t->v[i].total[s] = t->v[i].self[s];
	for (size_t i = t->nr; i-- > 1;)
		for (int s = 0; s < 2; s++)
			t->v[t->v[i].parent].total[s] = sat_add64(t->v[t->v[i].parent].total[s], t->v[i].total[s]);
}

static int cmp_name(const void *a, const void *b, void *arg)
{
	const struct tree *t = arg;
	uint32_t na = t->v[*(const uint32_t *)a].name, nb = t->v[*(const uint32_t *)b].name;
	uint32_t la = strtab_len(&t->names, na), lb = strtab_len(&t->names, nb);
	int c = memcmp(strtab_str(&t->names, na), strtab_str(&t->names, nb), la < lb ? la : lb);

	return c ? c : (la > lb) - (la < lb);
}

/* Children lists of the nodes with a value that are not folded, sorted by name. */
static void tree_link(struct tree *t)
{
	size_t *fill;

	free(t->kids);
	free(t->kid_at);
	t->kid_at = xcalloc(t->nr + 2, sizeof(*t->kid_at));
	t->kids = xmalloc((t->nr + 1) * sizeof(*t->kids));
	for (size_t i = 1; i < t->nr; i++)
		if (key_of(&t->v[i]) > 0 && !t->v[i].folded)
			t->kid_at[t->v[i].parent + 2]++;
	for (size_t i = 2; i < t->nr + 2; i++)
		t->kid_at[i] += t->kid_at[i - 1];
	fill = t->kid_at + 1;
	for (size_t i = 1; i < t->nr; i++)
		if (key_of(&t->v[i]) > 0 && !t->v[i].folded)
			t->kids[fill[t->v[i].parent]++] = (uint32_t)i;
	for (size_t i = 0; i < t->nr; i++)
		qsort_r(t->kids + t->kid_at[i], t->kid_at[i + 1] - t->kid_at[i], sizeof(*t->kids), cmp_name, t);
}

static int cmp_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x < y) - (x > y);
}

/*
 * 7.2: with more than `max_nodes` nodes, every child whose total is below the max_nodes-th largest total (or that
 * is already called "other") folds into one "other" child of its parent, a leaf holding their totals as self.
 */
static void tree_truncate(struct tree *t, int64_t max_nodes)
{
	int64_t *keys = xmalloc(t->nr * sizeof(*keys)), min_total;
	size_t n = 0, nr = t->nr;
	uint32_t other = strtab_intern(&t->names, FLAMEBEARER_OTHER, strlen(FLAMEBEARER_OTHER));

	/* A node called "other" folds whatever its total, so it takes no place among the max_nodes (a merge that
	 * left nodes out already, store.h's max_nodes, hands over such nodes). */
	for (size_t i = 1; i < t->nr; i++)
		if (key_of(&t->v[i]) > 0 && t->v[i].name != other)
			keys[n++] = key_of(&t->v[i]);
	if (max_nodes <= 0 || n <= (size_t)max_nodes) {
		free(keys);
		return;
	}
	qsort(keys, n, sizeof(*keys), cmp_desc);
	min_total = keys[max_nodes - 1];
	free(keys);
	for (size_t i = 0; i < nr; i++) {
		uint32_t folded_into = NONE;
		for (size_t k = t->kid_at[i]; k < t->kid_at[i + 1]; k++) {
			struct tnode *c = &t->v[t->kids[k]];
			if (key_of(c) >= min_total && c->name != other)
				continue;
			c->folded = true;
			if (folded_into == NONE) {
				ALLOC_GROW(t->v, t->nr + 1, t->alloc);
				folded_into = (uint32_t)t->nr;
				t->v[t->nr++] = (struct tnode){ .name = other, .parent = (uint32_t)i };
				c = &t->v[t->kids[k]];
			}
			for (int s = 0; s < 2; s++) {
				struct tnode *o = &t->v[folded_into];
				o->total[s] = sat_add64(o->total[s], c->total[s]);
				o->self[s] = o->total[s];
			}
		}
	}
	tree_link(t);
}

/*
 * Output name ids: "on first sight" in a depth-first walk that visits children in descending order (7.1). A tree
 * name's output id is looked up by its tree id, so each name is copied once, not hashed again per node.
 */
static uint32_t *assign_names(const struct tree *t, struct strtab *out)
{
	uint32_t *ids = xmalloc(t->nr * sizeof(*ids)), *stack = xmalloc((t->nr + 1) * sizeof(*stack));
	uint32_t *out_of = xmalloc((t->names.nr + 1) * sizeof(*out_of));
	size_t sp = 0;

	memset(out_of, 0xff, (t->names.nr + 1) * sizeof(*out_of));
	stack[sp++] = 0;
	while (sp) {
		uint32_t n = stack[--sp];
		uint32_t nm = t->v[n].name;

		if (out_of[nm] == NONE)
			out_of[nm] = strtab_intern(out, strtab_str(&t->names, nm), strtab_len(&t->names, nm));
		ids[n] = out_of[nm];
		for (size_t k = t->kid_at[n]; k < t->kid_at[n + 1]; k++)
			stack[sp++] = t->kids[k]; /* the last (largest) pops first */
	}
	free(out_of);
	free(stack);
	return ids;
}

struct visit {
	uint32_t node, depth;
	int64_t x[2];
};

static void emit(struct flamebearer *fb, const struct tree *t, const uint32_t *name_ids)
{
	struct visit *stack = xmalloc((t->nr + 1) * sizeof(*stack));
	int64_t (*cursor)[2] = NULL;
	size_t sp = 0;
	int sides = fb->diff ? 2 : 1;

	stack[sp++] = (struct visit){ 0, 0, { 0, 0 } };
	while (sp) {
		struct visit v = stack[--sp];
		const struct tnode *n = &t->v[v.node];
		struct fb_level *l;

		if (v.depth >= fb->nlevels) {
			fb->levels = xrealloc(fb->levels, (v.depth + 1) * sizeof(*fb->levels));
			memset(&fb->levels[fb->nlevels], 0, sizeof(*fb->levels));
			cursor = xrealloc(cursor, (v.depth + 1) * sizeof(*cursor));
			cursor[v.depth][0] = cursor[v.depth][1] = 0;
			fb->nlevels = v.depth + 1;
		}
		l = &fb->levels[v.depth];
		ALLOC_GROW(l->v, l->nr + 7, l->alloc);
		for (int s = 0; s < sides; s++) {
			l->v[l->nr++] = v.x[s] - cursor[v.depth][s];
			l->v[l->nr++] = n->total[s];
			l->v[l->nr++] = n->self[s];
			cursor[v.depth][s] = sat_add64(v.x[s], n->total[s]);
			if (n->self[s] > fb->max_self)
				fb->max_self = n->self[s];
		}
		l->v[l->nr++] = name_ids[v.node];
		fb->nodes++;
		/* Children start after the parent's self, in ascending order; push them reversed. */
		size_t first = t->kid_at[v.node], nk = t->kid_at[v.node + 1] - first;
		int64_t x[2] = { sat_add64(v.x[0], n->self[0]), sat_add64(v.x[1], n->self[1]) };
		for (size_t k = 0; k < nk; k++) {
			const struct tnode *c = &t->v[t->kids[first + k]];
			stack[sp + nk - 1 - k] = (struct visit){ t->kids[first + k], v.depth + 1, { x[0], x[1] } };
			x[0] = sat_add64(x[0], c->total[0]);
			x[1] = sat_add64(x[1], c->total[1]);
		}
		sp += nk;
	}
	free(cursor);
	free(stack);
}

static void finish(struct flamebearer *fb, struct tree *t, int64_t max_nodes)
{
	uint32_t *ids;

	tree_totals(t);
	tree_link(t);
	tree_truncate(t, max_nodes);
	ids = assign_names(t, &fb->names);
	emit(fb, t, ids);
	free(ids);
	fb->left_ticks = t->v[0].total[0];
	fb->right_ticks = t->v[0].total[1];
	fb->total = fb->diff ? sat_add64(fb->left_ticks, fb->right_ticks) : fb->left_ticks;
}

int flamebearer_build(struct flamebearer *fb, const struct profile *p, int column, int64_t max_nodes,
		      struct err *e)
{
	struct tree t;

	memset(fb, 0, sizeof(*fb));
	tree_init(&t);
	if (tree_add(&t, p, column, 0, e)) {
		tree_release(&t);
		return -1;
	}
	finish(fb, &t, max_nodes);
	fb->right_ticks = 0;
	tree_release(&t);
	return 0;
}

int flamebearer_build_diff(struct flamebearer *fb, const struct profile *left, int lcol, const struct profile *right,
			   int rcol, int64_t max_nodes, struct err *e)
{
	struct tree t;

	memset(fb, 0, sizeof(*fb));
	fb->diff = true;
	tree_init(&t);
	if (tree_add(&t, left, lcol, 0, e) || tree_add(&t, right, rcol, 1, e)) {
		tree_release(&t);
		return -1;
	}
	finish(fb, &t, max_nodes);
	tree_release(&t);
	return 0;
}

void flamebearer_release(struct flamebearer *fb)
{
	strtab_release(&fb->names);
	for (size_t i = 0; i < fb->nlevels; i++)
		free(fb->levels[i].v);
	free(fb->levels);
	memset(fb, 0, sizeof(*fb));
}

void flamebearer_write_json(const struct flamebearer *fb, struct jw *j)
{
	jw_key(j, "names");
	jw_array_begin(j);
	for (size_t i = 0; i < fb->names.nr; i++)
		jw_string_len(j, strtab_str(&fb->names, (uint32_t)i), strtab_len(&fb->names, (uint32_t)i));
	jw_array_end(j);
	jw_key(j, "levels");
	jw_array_begin(j);
	for (size_t d = 0; d < fb->nlevels; d++) {
		jw_array_begin(j);
		for (size_t k = 0; k < fb->levels[d].nr; k++)
			jw_int(j, fb->levels[d].v[k]);
		jw_array_end(j);
	}
	jw_array_end(j);
	jw_kv_i64(j, "numTicks", fb->total);
	jw_kv_i64(j, "maxSelf", fb->max_self);
}

int64_t timeline_step(int64_t from_ms, int64_t until_ms)
{
	/* 8.4's ladder: the first bound the raw step (range / 1500) does not exceed picks the step. */
	static const struct { double bound; int64_t step; } ladder[] = {
		{ 17.5, 15 }, { 25, 20 }, { 45, 30 }, { 90, 60 }, { 210, 120 }, { 450, 300 }, { 750, 600 },
		{ 1050, 900 }, { 1500, 1200 }, { 2700, 1800 }, { 5400, 3600 }, { 9000, 7200 }, { 16200, 10800 },
		{ 32400, 21600 }, { 86400, 43200 }, { 604800, 86400 }, { 1814400, 604800 },
	};
	double raw = (double)(until_ms - from_ms) / 1000.0 / 1500.0;

	if (raw < 15)
		return 15;
	for (size_t i = 0; i < ARRAY_SIZE(ladder); i++)
		if (raw <= ladder[i].bound)
			return ladder[i].step;
	return raw < 3628800 ? 30 * 86400 : 365 * 86400;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

void timeline_write_json(struct jw *j, int64_t from_ms, int64_t until_ms, int64_t step_s,
			 const struct store_point *points, size_t npoints)
{
	int64_t start = floor_div(from_ms, step_s * 1000) * step_s, end = floor_div(until_ms, step_s * 1000) * step_s;
	size_t n = end > start ? (size_t)((end - start) / step_s) : 0;
	int64_t *samples = xcalloc(n + 1, sizeof(*samples));

	for (size_t i = 0; i < npoints; i++) {
		/* The store selected profiles by their time already; a point outside the snapped range is dropped. */
		int64_t at = floor_div(points[i].time_ns, 1000000000) - start;
		if (at < 0)
			continue;
		size_t k = (size_t)(at / step_s);
		if (k < n)
			samples[k] = sat_add64(samples[k], points[i].value);
	}
	jw_object_begin(j);
	jw_kv_i64(j, "startTime", start);
	jw_key(j, "samples");
	jw_array_begin(j);
	for (size_t i = 0; i < n; i++)
		jw_int(j, samples[i]);
	jw_array_end(j);
	jw_kv_i64(j, "durationDelta", step_s);
	jw_kv_null(j, "watermarks");
	jw_object_end(j);
	free(samples);
}
