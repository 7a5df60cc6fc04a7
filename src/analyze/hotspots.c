/* Per-function self and inclusive cost, from the stack trie in linear passes over its nodes. */
#include "hotspots.h"

#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/hash.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../profile/frame_name.h"
#include "../profile/profile.h"
#include "stackwalk.h"

void frame_display_name(struct buf *b, const struct profile *p, uint32_t frame)
{
	profile_frame_name(b, p, frame); /* the rule every output follows */
}

static int by_self(const void *a, const void *b)
{
	const struct hotspot *x = a, *y = b;

	if (x->self != y->self)
		return x->self > y->self ? -1 : 1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
}

static int by_total(const void *a, const void *b)
{
	const struct hotspot *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return by_self(a, b);
}

int hotspots_compute(struct profile *p, int column, struct hotspots *out)
{
	return hotspots_compute_skip(p, column, NULL, out);
}

int hotspots_compute_skip(struct profile *p, int column, const bool *skip, struct hotspots *out)
{
	return hotspots_compute_nodes(p, column, skip, NULL, out, NULL);
}

int hotspots_compute_nodes(struct profile *p, int column, const bool *skip, const uint32_t *self_node,
			   struct hotspots *out, struct hotspot_nodes *nodes)
{
	struct u64map fn_index = U64MAP_INIT;
	int64_t *node_self = NULL, *node_total = NULL, *fn_self = NULL;
	uint32_t *node_fn = NULL, *frame_fn = NULL, *order = NULL, *up = NULL, *name_fn = NULL;
	struct buf name = BUF_INIT;
	bool *full = NULL;
	size_t alloc = 0, nc = p->ncolumns, nnames = 0;

	memset(out, 0, sizeof(*out));
	if (column < 0)
		column = profile_default_column(p);
	if (column < 0 || (size_t)column >= nc)
		return -1;
	out->column = column;

	/* Each frame maps to a function entry (display name + module); a placed frame's name says its place. */
	full = profile_placed_full_paths(p);
	frame_fn = xmalloc((p->frames_nr ? p->frames_nr : 1) * sizeof(*frame_fn));
	for (size_t f = 0; f < p->frames_nr; f++) {
		const struct frame *fr = &p->frames[f];
		uint32_t nm, first;
		uint64_t *slot;
		int ins;

		/* A named frame's display name is its function's string: no need to intern it again. */
		if (frame_is_placed(fr)) {
			buf_reset(&name);
			profile_frame_label(&name, p, (uint32_t)f, full);
			nm = profile_intern(p, name.buf, name.len);
		} else if (fr->function && profile_strlen(p, fr->function)) {
			nm = fr->function;
		} else {
			buf_reset(&name);
			frame_display_name(&name, p, (uint32_t)f);
			nm = profile_intern(p, name.buf, name.len);
		}
		if (nm >= nnames) {
			size_t was = nnames;

			ALLOC_GROW(name_fn, (size_t)nm + 1, nnames);
			for (size_t i = was; i < nnames; i++)
				name_fn[i] = UINT32_MAX;
		}
		/* A name's first entry is found by the name alone; the map holds the same name in other modules.
		 * (With a distinct name per frame, as in a deep stack, the map would take a cache miss per frame.) */
		slot = NULL;
		ins = 1;
		first = name_fn[nm];
		if (first != UINT32_MAX && out->v[first].module == fr->module) {
			frame_fn[f] = first;
			continue;
		}
		if (first != UINT32_MAX)
			slot = u64map_insert(&fn_index, ((uint64_t)nm << 32) | fr->module, &ins);
		if (ins) {
			ALLOC_GROW(out->v, out->nr + 1, alloc);
			memset(&out->v[out->nr], 0, sizeof(out->v[0]));
			out->v[out->nr].name = nm;
			out->v[out->nr].module = fr->module;
			out->v[out->nr].kind = fr->kind;
			if (frame_is_placed(fr)) { /* its place is part of what it is, costly or not */
				out->v[out->nr].placed = true;
				out->v[out->nr].file = fr->file;
				out->v[out->nr].line = fr->line;
			}
			out->v[out->nr].id = (uint32_t)out->nr;
			if (slot)
				*slot = out->nr;
			else
				name_fn[nm] = (uint32_t)out->nr;
			frame_fn[f] = (uint32_t)out->nr++;
		} else {
			frame_fn[f] = (uint32_t)*slot;
		}
	}
	free(name_fn);

	node_self = xcalloc(p->nodes_nr, sizeof(*node_self));
	/* Self cost as the functions get it: the leaves' own, or that of the nodes `self_node` names. */
	if (self_node)
		fn_self = xcalloc(p->nodes_nr, sizeof(*fn_self));
	node_total = xcalloc(p->nodes_nr, sizeof(*node_total));
	node_fn = xmalloc(p->nodes_nr * sizeof(*node_fn));
	up = xmalloc(p->nodes_nr * sizeof(*up));
	for (size_t r = 0; r < p->rows_nr; r++) {
		int64_t v = p->values[r * nc + (size_t)column];

		if (v <= 0 || (skip && skip[r]))
			continue;
		node_self[p->rows[r].node] = sat_add64(node_self[p->rows[r].node], v);
		if (fn_self)
			fn_self[self_node[r]] = sat_add64(fn_self[self_node[r]], v);
		out->grand_total = sat_add64(out->grand_total, v);
	}
	/* Children come after parents: a backwards pass accumulates inclusive cost. */
	memcpy(node_total, node_self, p->nodes_nr * sizeof(*node_total));
	for (size_t n = p->nodes_nr - 1; n >= 1; n--)
		node_total[p->nodes[n].parent] = sat_add64(node_total[p->nodes[n].parent], node_total[n]);
	node_fn[0] = STACK_NO_KEY;
	for (size_t n = 1; n < p->nodes_nr; n++)
		node_fn[n] = frame_fn[p->nodes[n].frame];
	/* A recursive function's inclusive cost counts at its outermost frame only: each sample once (pprof's cum). */
	order = stack_preorder(p);
	stack_same_key_ancestor(p, order, node_fn, out->nr, up);
	for (size_t n = 1; n < p->nodes_nr; n++) {
		struct hotspot *h = &out->v[node_fn[n]];

		int64_t self = fn_self ? fn_self[n] : node_self[n];

		h->self = sat_add64(h->self, self);
		if (!up[n])
			h->total = sat_add64(h->total, node_total[n]);
		/* Source position: that of the frame carrying the most self cost (more than the others so far). */
		if (self && p->frames[p->nodes[n].frame].file && (!h->file || self > h->self - self)) {
			h->file = p->frames[p->nodes[n].frame].file;
			h->line = p->frames[p->nodes[n].frame].line;
		}
	}
	for (size_t i = 0; i < out->nr; i++) {
		out->v[i].self_pct = out->grand_total ? 100.0 * (double)out->v[i].self / (double)out->grand_total : 0;
		out->v[i].total_pct = out->grand_total ? 100.0 * (double)out->v[i].total / (double)out->grand_total : 0;
	}
	if (out->nr) {
		uint32_t *at = xmalloc(out->nr * sizeof(*at));

		qsort(out->v, out->nr, sizeof(*out->v), by_self);
		for (size_t i = 0; i < out->nr; i++)
			at[out->v[i].id] = (uint32_t)i;
		for (size_t f = 0; f < p->frames_nr; f++)
			frame_fn[f] = at[frame_fn[f]];
		for (size_t i = 0; i < out->nr; i++)
			out->v[i].id = (uint32_t)i;
		free(at);
	}
	out->frame_fn = frame_fn;
	if (nodes) {
		nodes->self = node_self;
		nodes->total = node_total;
		nodes->order = order;
		nodes->up = up;
	} else {
		free(node_self);
		free(node_total);
		free(order);
		free(up);
	}
	free(node_fn);
	free(fn_self);
	free(full);
	u64map_release(&fn_index);
	buf_release(&name);
	return 0;
}

void hotspots_sort_total(struct hotspots *h)
{
	free(h->frame_fn);
	h->frame_fn = NULL;
	if (h->nr)
		qsort(h->v, h->nr, sizeof(*h->v), by_total);
}

void hotspots_release(struct hotspots *h)
{
	free(h->v);
	free(h->frame_fn);
	memset(h, 0, sizeof(*h));
}

static void print_table(FILE *out, const struct profile *p, const struct hotspot *v, size_t n, bool total_first)
{
	char c1[32], c2[32];

	fprintf(out, "  %8s %7s %8s %7s  %s\n", "self", "self%", "total", "total%", "function");
	for (size_t i = 0; i < n; i++) {
		const struct hotspot *h = &v[i];
		const char *mod = h->module ? profile_str(p, h->module) : NULL, *slash = mod ? strrchr(mod, '/') : NULL;

		fprintf(out, "  %8s %6.2f%% %8s %6.2f%%  %s", fmt_count(c1, (uint64_t)h->self), h->self_pct,
			fmt_count(c2, (uint64_t)h->total), h->total_pct, profile_str(p, h->name));
		if (h->placed)
			; /* its name says "name (file:line)" already */
		else if (h->file)
			fprintf(out, " (%s:%u)", profile_str(p, h->file), h->line);
		else if (mod && *mod)
			fprintf(out, " [%s]", slash ? slash + 1 : mod);
		fputc('\n', out);
	}
	(void)total_first;
}

void hotspots_print(FILE *out, const struct profile *p, const struct hotspots *h, size_t top)
{
	struct hotspots copy = *h;
	size_t n = top < h->nr ? top : h->nr, shown = 0;
	const struct value_type *vt = &p->columns[h->column];
	char tot[32];

	fprintf(out, "Total: %s %s (%s)\n\n", fmt_count(tot, (uint64_t)h->grand_total), profile_str(p, vt->type),
		profile_str(p, vt->unit));
	fprintf(out, "Top functions by self time:\n");
	while (shown < n && h->v[shown].self > 0)
		shown++;
	print_table(out, p, h->v, shown, false);
	copy.v = xmalloc((h->nr ? h->nr : 1) * sizeof(*copy.v));
	memcpy(copy.v, h->v, h->nr * sizeof(*copy.v));
	copy.frame_fn = NULL; /* h's */
	hotspots_sort_total(&copy);
	fprintf(out, "\nTop functions by total (inclusive) time:\n");
	print_table(out, p, copy.v, n, true);
	free(copy.v);
}
