/* Per-function self and inclusive cost, from the stack trie in one pass over nodes. */
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
	struct u64map fn_index = U64MAP_INIT;
	int64_t *node_self = NULL, *node_total = NULL;
	uint32_t *node_fn = NULL, *frame_fn = NULL;
	struct buf name = BUF_INIT;
	size_t alloc = 0, nc = p->ncolumns;

	memset(out, 0, sizeof(*out));
	if (column < 0)
		column = profile_default_column(p);
	if (column < 0 || (size_t)column >= nc)
		return -1;
	out->column = column;

	/* Each frame maps to a function entry (display name + module). */
	frame_fn = xmalloc((p->frames_nr ? p->frames_nr : 1) * sizeof(*frame_fn));
	for (size_t f = 0; f < p->frames_nr; f++) {
		const struct frame *fr = &p->frames[f];
		uint32_t nm;
		uint64_t *slot;
		int ins;

		buf_reset(&name);
		frame_display_name(&name, p, (uint32_t)f);
		nm = profile_intern(p, name.buf, name.len);
		slot = u64map_insert(&fn_index, ((uint64_t)nm << 32) | fr->module, &ins);
		if (ins) {
			ALLOC_GROW(out->v, out->nr + 1, alloc);
			memset(&out->v[out->nr], 0, sizeof(out->v[0]));
			out->v[out->nr].name = nm;
			out->v[out->nr].module = fr->module;
			out->v[out->nr].kind = fr->kind;
			*slot = out->nr++;
		}
		frame_fn[f] = (uint32_t)*slot;
	}

	node_self = xcalloc(p->nodes_nr, sizeof(*node_self));
	node_total = xcalloc(p->nodes_nr, sizeof(*node_total));
	node_fn = xmalloc(p->nodes_nr * sizeof(*node_fn));
	for (size_t r = 0; r < p->rows_nr; r++) {
		int64_t v = p->values[r * nc + (size_t)column];

		node_self[p->rows[r].node] += v;
		out->grand_total += v;
	}
	/* Children come after parents: a backwards pass accumulates inclusive cost. */
	memcpy(node_total, node_self, p->nodes_nr * sizeof(*node_total));
	for (size_t n = p->nodes_nr - 1; n >= 1; n--)
		node_total[p->nodes[n].parent] += node_total[n];
	node_fn[0] = UINT32_MAX;
	for (size_t n = 1; n < p->nodes_nr; n++) {
		uint32_t fn = frame_fn[p->nodes[n].frame], a;
		struct hotspot *h = &out->v[fn];
		bool outer = true;

		node_fn[n] = fn;
		h->self += node_self[n];
		/* Count a recursive function's inclusive cost only at its outermost frame. */
		for (a = p->nodes[n].parent; a != 0; a = p->nodes[a].parent)
			if (node_fn[a] == fn) {
				outer = false;
				break;
			}
		if (outer)
			h->total += node_total[n];
		/* Source position: that of the frame carrying the most self cost. */
		if (node_self[n] && p->frames[p->nodes[n].frame].file &&
		    (!h->file || node_self[n] * 2 > h->self)) {
			h->file = p->frames[p->nodes[n].frame].file;
			h->line = p->frames[p->nodes[n].frame].line;
		}
	}
	for (size_t i = 0; i < out->nr; i++) {
		out->v[i].self_pct = out->grand_total ? 100.0 * (double)out->v[i].self / (double)out->grand_total : 0;
		out->v[i].total_pct = out->grand_total ? 100.0 * (double)out->v[i].total / (double)out->grand_total : 0;
	}
	if (out->nr)
		qsort(out->v, out->nr, sizeof(*out->v), by_self);
	free(frame_fn);
	free(node_self);
	free(node_total);
	free(node_fn);
	u64map_release(&fn_index);
	buf_release(&name);
	return 0;
}

void hotspots_sort_total(struct hotspots *h)
{
	if (h->nr)
		qsort(h->v, h->nr, sizeof(*h->v), by_total);
}

void hotspots_release(struct hotspots *h)
{
	free(h->v);
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
		if (h->file)
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
	hotspots_sort_total(&copy);
	fprintf(out, "\nTop functions by total (inclusive) time:\n");
	print_table(out, p, copy.v, n, true);
	free(copy.v);
}
