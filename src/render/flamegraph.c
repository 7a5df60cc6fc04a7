/* Flame graph layout: the merged frame tree, subtree values, pruning and positions; tooltip text. */
#include "flamegraph.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../profile/frame_name.h"
#include "../profile/profile.h"

static uint32_t intern(struct flamegraph *g, const char *s, size_t len)
{
	return strtab_intern(&g->names, s, len);
}

static uint32_t new_node(struct flamegraph *g, uint32_t parent, uint32_t name)
{
	uint32_t id = (uint32_t)g->nodes_nr;
	struct fg_node *n;

	if (g->nodes_nr >= UINT32_MAX - 1)
		BUG("flame graph node ids overflow");
	ALLOC_GROW(g->nodes, g->nodes_nr + 1, g->nodes_alloc);
	n = &g->nodes[g->nodes_nr++];
	memset(n, 0, sizeof(*n));
	n->name = name;
	n->parent = parent;
	n->first_child = n->next_sibling = FG_NONE;
	n->depth = id ? g->nodes[parent].depth + 1 : 0;

	if (g->last_child_alloc < g->nodes_alloc) {
		g->last_child = xrealloc(g->last_child, g->nodes_alloc * sizeof(*g->last_child));
		g->last_child_alloc = g->nodes_alloc;
	}
	g->last_child[id] = FG_NONE;
	if (id) {
		uint32_t last = g->last_child[parent];

		if (last == FG_NONE)
			g->nodes[parent].first_child = id;
		else
			g->nodes[last].next_sibling = id;
		g->last_child[parent] = id;
	}
	return id;
}

/* The child of `parent` called `name`: merged by name, or with the latest child only in a flame chart. */
static uint32_t child(struct flamegraph *g, uint32_t parent, uint32_t name)
{
	uint64_t *slot;
	int inserted;

	if (g->flamechart) {
		uint32_t last = g->last_child[parent];

		if (last != FG_NONE && g->nodes[last].name == name)
			return last;
		return new_node(g, parent, name);
	}
	slot = u64map_insert(&g->children, (uint64_t)parent << 32 | name, &inserted);
	if (inserted)
		*slot = new_node(g, parent, name);
	return (uint32_t)*slot;
}

struct flamegraph *fg_new(bool flamechart)
{
	struct flamegraph *g = xcalloc(1, sizeof(*g));

	g->flamechart = flamechart;
	new_node(g, 0, intern(g, "all", 3));
	g->self_name = intern(g, FG_SELF_NAME, sizeof(FG_SELF_NAME) - 1);
	return g;
}

void fg_free(struct flamegraph *g)
{
	if (!g)
		return;
	free(g->nodes);
	free(g->last_child);
	strtab_release(&g->names);
	u64map_release(&g->children);
	free(g);
}

uint32_t fg_find_child(const struct flamegraph *g, uint32_t parent, const char *name, size_t len)
{
	const uint64_t *slot;
	int64_t id;
	uint32_t c;

	if (!g->names.nr || (id = strtab_find(&g->names, name, len)) < 0)
		return FG_NONE;
	if (!g->flamechart) {
		slot = u64map_find(&g->children, (uint64_t)parent << 32 | (uint64_t)id);
		return slot ? (uint32_t)*slot : FG_NONE;
	}
	for (c = g->nodes[parent].first_child; c != FG_NONE; c = g->nodes[c].next_sibling)
		if (g->nodes[c].name == (uint32_t)id)
			return c;
	return FG_NONE;
}

static unsigned kind_hints(uint32_t kind)
{
	switch (kind) {
	case FRAME_KERNEL: return PALETTE_HINT_KERNEL;
	case FRAME_JIT: return PALETTE_HINT_JIT;
	case FRAME_INLINED: return PALETTE_HINT_INLINED;
	default: return 0;
	}
}

/* Per profile frame: its display-name id in the graph, computed once. */
struct name_cache {
	uint32_t *ids;
	const struct profile *p;
	struct flamegraph *g;
	bool *full;   /* profile_placed_full_paths() */
	struct buf b;
};

static uint32_t frame_name_id(struct name_cache *c, uint32_t frame)
{
	if (c->ids[frame] == FG_NONE) {
		buf_reset(&c->b);
		profile_frame_label(&c->b, c->p, frame, c->full);
		c->ids[frame] = intern(c->g, c->b.buf, c->b.len);
	}
	return c->ids[frame];
}

/* Maps profile stack node `pn` to a graph node, mapping its ancestors first where needed. */
static uint32_t map_node(struct flamegraph *g, const struct profile *p, uint32_t *map, struct name_cache *nc,
			 uint32_t pn, uint32_t **path, size_t *path_alloc)
{
	size_t n = 0;
	uint32_t cur = pn, gn;

	while (map[cur] == FG_NONE) {
		ALLOC_GROW(*path, n + 1, *path_alloc);
		(*path)[n++] = cur;
		cur = p->nodes[cur].parent;
	}
	gn = map[cur];
	while (n--) {
		const struct stack_node *sn = &p->nodes[(*path)[n]];

		gn = child(g, gn, frame_name_id(nc, sn->frame));
		g->nodes[gn].hints |= kind_hints(p->frames[sn->frame].kind);
		map[(*path)[n]] = gn;
	}
	return gn;
}

/* Adds samples ending at `leaf`; a flame chart keeps them in time order among the children, as a hidden run. */
static void add_self(struct flamegraph *g, uint32_t leaf, double value, double delta)
{
	g->nodes[leaf].delta += delta;
	if (g->flamechart)
		leaf = child(g, leaf, g->self_name);
	g->nodes[leaf].self += value;
}

static bool is_base_name(const struct flamegraph *g, const struct fg_build_opts *o, uint32_t id)
{
	size_t k, len = strtab_len(&g->names, id);

	for (k = 0; k < o->nbase; k++)
		if (strlen(o->base[k]) == len && !memcmp(o->base[k], strtab_str(&g->names, id), len))
			return true;
	return false;
}

int fg_add_profile(struct flamegraph *g, const struct profile *p, const struct fg_build_opts *o, struct err *e)
{
	struct name_cache nc = { NULL, p, g, NULL, BUF_INIT };
	uint32_t *map = NULL, *path = NULL;
	size_t path_alloc = 0, row, i, n;
	int col = o->column < 0 ? profile_default_column(p) : o->column;
	int base = o->base_column;

	if (col < 0 || (size_t)col >= p->ncolumns)
		return err_set(e, "profile has no value column %d", col);
	if (base >= 0 && (size_t)base >= p->ncolumns)
		return err_set(e, "profile has no value column %d", base);
	if (g->finished)
		BUG("fg_add_profile after fg_finish");

	nc.ids = xmalloc((p->frames_nr + 1) * sizeof(*nc.ids));
	memset(nc.ids, 0xff, (p->frames_nr + 1) * sizeof(*nc.ids));
	nc.full = profile_placed_full_paths(p);
	if (!o->reverse && !g->flamechart && !o->nbase) {
		map = xmalloc((p->nodes_nr + 1) * sizeof(*map));
		memset(map, 0xff, (p->nodes_nr + 1) * sizeof(*map));
		map[0] = 0;
	}
	if (base >= 0)
		g->has_delta = true;

	for (row = 0; row < p->rows_nr; row++) {
		const int64_t *v = profile_row_values(p, row);
		uint32_t pn = p->rows[row].node, gn;
		double value = (double)v[col];
		double delta = base >= 0 ? (double)v[col] - (double)v[base] : 0;

		if (value < 0 || (value == 0 && delta == 0) || pn >= p->nodes_nr)
			continue;
		if (map) {
			gn = map_node(g, p, map, &nc, pn, &path, &path_alloc);
		} else {
			/* the stack root first, reversed for --reverse */
			n = 0;
			for (uint32_t cur = pn; cur; cur = p->nodes[cur].parent) {
				ALLOC_GROW(path, n + 1, path_alloc);
				path[n++] = cur;
				if (n > p->nodes_nr)
					break; /* a cycle would be a broken profile; stop rather than loop */
			}
			gn = 0;
			i = 0;
			if (o->nbase) {
				/* --base: the stack starts at its first base frame; without one it is left out */
				for (; i < n; i++) {
					uint32_t fr = p->nodes[path[o->reverse ? i : n - 1 - i]].frame;
					uint32_t id = frame_name_id(&nc, fr);

					if (is_base_name(g, o, id))
						break;
				}
				if (i == n)
					continue;
			}
			for (; i < n; i++) {
				const struct stack_node *sn = &p->nodes[path[o->reverse ? i : n - 1 - i]];

				gn = child(g, gn, frame_name_id(&nc, sn->frame));
				g->nodes[gn].hints |= kind_hints(p->frames[sn->frame].kind);
			}
		}
		add_self(g, gn, value, delta);
	}
	free(nc.ids);
	free(nc.full);
	buf_release(&nc.b);
	free(map);
	free(path);
	return 0;
}

void fg_add_stack(struct flamegraph *g, const char *const *names, const size_t *lens, size_t n, double value,
		  double delta)
{
	uint32_t gn = 0;
	size_t i;

	if (g->finished)
		BUG("fg_add_stack after fg_finish");
	for (i = 0; i < n; i++)
		gn = child(g, gn, intern(g, names[i], lens[i]));
	add_self(g, gn, value, delta);
}

void fg_finish(struct flamegraph *g)
{
	int64_t sep;
	size_t i;

	if (g->finished)
		return;
	g->finished = true;
	free(g->last_child);
	g->last_child = NULL;
	g->last_child_alloc = 0;
	for (i = 0; i < g->nodes_nr; i++)
		g->nodes[i].value = g->nodes[i].self;
	/* children always have larger ids than their parents */
	for (i = g->nodes_nr - 1; i > 0; i--)
		g->nodes[g->nodes[i].parent].value += g->nodes[i].value;

	/* chain graphs: frames above a "--" separator are the wakers */
	sep = strtab_find(&g->names, "--", 2);
	for (i = 1; sep >= 0 && i < g->nodes_nr; i++) {
		const struct fg_node *parent = &g->nodes[g->nodes[i].parent];

		if ((parent->hints & PALETTE_HINT_WAKER) || (g->nodes[i].parent && parent->name == (uint32_t)sep))
			g->nodes[i].hints |= PALETTE_HINT_WAKER;
	}
}

/*
 * Sibling order: flamegraph.pl sorts whole folded lines, so a name sorts as if followed by ';' ("foo-x" before
 * "foo::bar" before "foo"). Same positions as flamegraph.pl, without its splitting of "foo" around them.
 */
static int cmp_by_name(const void *a, const void *b, void *ctx)
{
	const struct flamegraph *g = ctx;
	uint32_t x = g->nodes[*(const uint32_t *)a].name, y = g->nodes[*(const uint32_t *)b].name;
	uint32_t lx = strtab_len(&g->names, x), ly = strtab_len(&g->names, y);
	const unsigned char *sx = (const unsigned char *)strtab_str(&g->names, x);
	const unsigned char *sy = (const unsigned char *)strtab_str(&g->names, y);
	int c = memcmp(sx, sy, lx < ly ? lx : ly);

	if (c || lx == ly)
		return c;
	if (lx < ly)
		return sy[lx] == ';' ? -1 : ';' < sy[lx] ? -1 : 1;
	return sx[ly] == ';' ? 1 : sx[ly] < ';' ? -1 : 1;
}

/* flamegraph.pl keeps a frame's end in a hash key, as perl prints a number: 15 significant digits. */
static double perl_number(double v)
{
	char num[32];

	snprintf(num, sizeof(num), "%.15g", v);
	return strtod(num, NULL);
}

/* One node being laid out: its sorted children are kids[kbeg..kend), the next to visit kids[k]. */
struct walk {
	uint32_t node;
	size_t kbeg, kend, k, rect;
	double start;
};

size_t fg_layout(const struct flamegraph *g, double min_value, struct fg_rect **out, uint32_t *max_depth)
{
	struct fg_rect *rects = NULL;
	struct walk *st = NULL;
	uint32_t *kids = NULL, maxd = 0;
	size_t nr = 0, alloc = 0, sp = 0, st_alloc = 0, nkids = 0, kids_alloc = 0;
	double t = 0;

	if (!g->finished)
		BUG("fg_layout before fg_finish");
	*out = NULL;
	*max_depth = 0;
	if (!(g->nodes[0].value > 0))
		return 0;

	/*
	 * Positions are a running sum of the samples in drawing order, and a frame's width is the sum at its end
	 * minus the sum at its start: flamegraph.pl's arithmetic, so fractional counts round as they do there
	 * (6.1 + 1.4 after 31.23 is 7.4999..., drawn as 7 samples). A frame's own samples come first, then its
	 * children in name order (input order for a flame chart). Frames narrower than min_value are pruned with
	 * their subtrees (theirs are narrower still) but keep their place.
	 */
	for (uint32_t node = 0;;) {
		const struct fg_node *n = &g->nodes[node];
		struct walk *w;

		ALLOC_GROW(rects, nr + 1, alloc);
		rects[nr].node = node;
		rects[nr].x = t;
		if (n->depth > maxd)
			maxd = n->depth;
		ALLOC_GROW(st, sp + 1, st_alloc);
		w = &st[sp++];
		w->node = node;
		w->rect = nr++;
		w->start = t;
		w->kbeg = w->k = nkids;
		for (uint32_t c = n->first_child; c != FG_NONE; c = g->nodes[c].next_sibling) {
			if (g->nodes[c].value > 0 || (g->flamechart && g->nodes[c].name == g->self_name)) {
				ALLOC_GROW(kids, nkids + 1, kids_alloc);
				kids[nkids++] = c;
			}
		}
		w->kend = nkids;
		if (!g->flamechart && w->kend - w->kbeg > 1)
			qsort_r(kids + w->kbeg, w->kend - w->kbeg, sizeof(*kids), cmp_by_name, (void *)g);
		t += n->self;

		/* the next child wide enough to draw, finishing the frames whose children are done */
		node = FG_NONE;
		while (sp && node == FG_NONE) {
			w = &st[sp - 1];
			if (w->k == w->kend) {
				rects[w->rect].w = w->node ? perl_number(t) - w->start : g->nodes[0].value;
				nkids = w->kbeg;
				sp--;
				continue;
			}
			{
				uint32_t c = kids[w->k++];
				const struct fg_node *cn = &g->nodes[c];

				if (cn->value >= min_value && !(g->flamechart && cn->name == g->self_name))
					node = c;
				else
					t += cn->value;
			}
		}
		if (node == FG_NONE)
			break;
	}
	free(st);
	free(kids);
	*out = rects;
	*max_depth = maxd;
	return nr;
}

/* "%.0f" with thousands separators, as flamegraph.pl's perlfaq5 substitution writes counts. */
static void add_count(struct buf *b, double v)
{
	char num[64];
	size_t len, i, lead, digits;
	const char *p = num;

	snprintf(num, sizeof(num), "%.0f", v);
	if (*p == '-' || *p == '+')
		buf_addch(b, *p++);
	len = strlen(p);
	digits = strspn(p, "0123456789");
	if (digits != len) { /* inf or nan: as printed */
		buf_adds(b, p);
		return;
	}
	lead = len % 3 ? len % 3 : 3;
	buf_add(b, p, lead);
	for (i = lead; i < len; i += 3) {
		buf_addch(b, ',');
		buf_add(b, p + i, 3);
	}
}

size_t fg_strip_annotation(const char *name, size_t len)
{
	if (len >= 4 && name[len - 4] == '_' && name[len - 3] == '[' && name[len - 1] == ']' &&
	    strchr("kjiw", name[len - 2]) && name[len - 2])
		return len - 4;
	return len;
}

void fg_tooltip_root(struct buf *b, double total, double factor, const char *countname)
{
	buf_adds(b, "all (");
	add_count(b, total * factor);
	buf_addf(b, " %s, 100%%)", countname);
}

void fg_tooltip(struct buf *b, const char *name, size_t len, double value, double total, double factor,
		const char *countname, bool has_delta, double delta)
{
	char num[64];
	double samples, denom = total * factor;

	snprintf(num, sizeof(num), "%.0f", value * factor);
	samples = strtod(num, NULL);
	buf_add(b, name, len);
	buf_adds(b, " (");
	add_count(b, value * factor);
	buf_addf(b, " %s, %.2f%%", countname, denom != 0 ? 100 * samples / denom : 0.0);
	if (has_delta) {
		double pct = denom != 0 ? 100 * delta / denom : 0.0;

		/* a negated zero is still no change: "0.00%", as flamegraph.pl and inferno print it */
		if (pct == 0)
			pct = 0;
		buf_addf(b, "; %s%.2f%%", delta > 0 ? "+" : "", pct);
	}
	buf_addch(b, ')');
}
