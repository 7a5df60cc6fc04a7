/* The differential flame graph: AFTER's stacks coloured by the change from BEFORE (difffolded.pl semantics). */
#include "diff_graph.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/atomicfile.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "flamegraph.h"

struct graph_ctx {
	const struct diff_plan *o;
	struct flamegraph *a, *b;
	uint32_t *map_b; /* node of `a` -> node of `b` or FG_NONE */
	uint32_t *map_a; /* node of `b` -> node of `a` or FG_NONE */
	double total_a, total_b;
};

/* Maps each node of `g` to the node of `h` at the same path of names, by a depth-first walk. */
static uint32_t *map_nodes(const struct flamegraph *g, const struct flamegraph *h)
{
	uint32_t *map = xmalloc((g->nodes_nr ? g->nodes_nr : 1) * sizeof(*map));
	uint32_t *stack = NULL;
	size_t sp = 0, alloc = 0;

	for (size_t i = 0; i < g->nodes_nr; i++)
		map[i] = FG_NONE;
	map[0] = 0;
	ALLOC_GROW(stack, 1, alloc);
	stack[sp++] = 0;
	while (sp) {
		uint32_t n = stack[--sp];

		for (uint32_t c = g->nodes[n].first_child; c != FG_NONE; c = g->nodes[c].next_sibling) {
			size_t len;
			const char *name = fg_name(g, c, &len);

			map[c] = map[n] == FG_NONE ? FG_NONE : fg_find_child(h, map[n], name, len);
			ALLOC_GROW(stack, sp + 1, alloc);
			stack[sp++] = c;
		}
	}
	free(stack);
	return map;
}

/* A cost (AFTER's column units times unit_value) as text: "12.3 ms", "1.5 MiB", or "1,234 samples". */
static void add_cost(struct buf *b, const struct diff_plan *o, double units, bool sign)
{
	char tmp[48];
	double v = o->unit_value > 0 ? units * o->unit_value : units;

	if (sign && v != 0)
		buf_addch(b, v < 0 ? '-' : '+');
	if (sign)
		v = fabs(v);
	if (o->unit_value > 0 && o->unit && !strcmp(o->unit, "nanoseconds"))
		buf_adds(b, fmt_ns(tmp, v));
	else if (o->unit_value > 0 && o->unit && !strcmp(o->unit, "bytes"))
		buf_adds(b, fmt_bytes(tmp, v));
	else
		buf_addf(b, "%s %s", fmt_count(tmp, fabs(v) < 1.8e19 ? (uint64_t)(fabs(v) + 0.5) : UINT64_MAX), o->countname);
}

static double pct_of(double v, double total)
{
	return total > 0 ? 100 * v / total : 0;
}

static bool diff_tooltip(const struct flamegraph *g, uint32_t node, struct buf *tip, void *vctx)
{
	const struct graph_ctx *c = vctx;
	const struct diff_plan *o = c->o;
	const struct fg_node *n = &g->nodes[node];
	uint32_t bn = c->map_b[node];
	double bval = bn == FG_NONE ? 0 : c->b->nodes[bn].value, bself = bn == FG_NONE ? 0 : c->b->nodes[bn].self;
	double dself = n->self - o->scale * bself, dtot = n->value - o->scale * bval;
	size_t len;
	const char *name = fg_name(g, node, &len);
	char cnt[32];

	/* fg_tooltip()'s "NAME (N COUNTNAME, " start: the embedded script finds the frame's name by it */
	buf_add(tip, name, len);
	buf_addf(tip, " (%s %s, ", fmt_count(cnt, (uint64_t)llround(n->value)), o->countname);
	if (o->unit_value > 0) {
		add_cost(tip, o, n->value, false);
		buf_adds(tip, ", ");
	}
	buf_addf(tip, "%.2f%%; before ", pct_of(n->value, c->total_a));
	if (o->absolute) {
		add_cost(tip, o, o->scale * bval, false);
		buf_addf(tip, ", %.2f%%; change: self ", pct_of(bval, c->total_b));
		add_cost(tip, o, dself, true);
		buf_adds(tip, ", with callees ");
		add_cost(tip, o, dtot, true);
		buf_addch(tip, ')');
	} else {
		buf_addf(tip, "%.2f%%; change: self %+.2f%%, with callees %+.2f%%)", pct_of(bval, c->total_b),
			 pct_of(dself, c->total_a), pct_of(dtot, c->total_a));
	}
	return true;
}

static void folded_path(struct buf *b, const struct flamegraph *g, uint32_t node, uint32_t **path, size_t *alloc)
{
	size_t n = 0;

	for (uint32_t x = node; x != 0; x = g->nodes[x].parent) {
		ALLOC_GROW(*path, n + 1, *alloc);
		(*path)[n++] = x;
	}
	while (n--) {
		size_t len;
		const char *name = fg_name(g, (*path)[n], &len);

		buf_add(b, name, len);
		if (n)
			buf_addch(b, ';');
	}
}

static void write_folded(struct buf *out, const struct graph_ctx *c)
{
	double scale = c->o->scale;
	uint32_t *path = NULL;
	size_t alloc = 0;

	/* Stacks of AFTER with their BEFORE counts, then stacks only in BEFORE (difffolded.pl's output). */
	for (uint32_t n = 1; n < c->a->nodes_nr; n++) {
		uint32_t bn = c->map_b[n];
		double bs = bn == FG_NONE ? 0 : c->b->nodes[bn].self * scale;

		if (c->a->nodes[n].self == 0 && bs == 0)
			continue;
		folded_path(out, c->a, n, &path, &alloc);
		buf_addf(out, " %lld %lld\n", (long long)llround(bs), (long long)llround(c->a->nodes[n].self));
	}
	for (uint32_t n = 1; n < c->b->nodes_nr; n++) {
		if (c->map_a[n] != FG_NONE || c->b->nodes[n].self == 0)
			continue;
		folded_path(out, c->b, n, &path, &alloc);
		buf_addf(out, " %lld 0\n", (long long)llround(c->b->nodes[n].self * scale));
	}
	free(path);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

int fg_write_diff(const struct profile *before, const struct profile *after, const struct diff_plan *o,
		  const char *path, struct err *e)
{
	struct diff_plan plan = *o;
	struct graph_ctx c = { .o = &plan };
	struct fg_build_opts bo = { .column = o->after_column, .base_column = -1 };
	struct fg_svg_opts so;
	struct afile af = { 0 };
	struct buf text = BUF_INIT;
	int ret = -1;

	if (!plan.countname)
		plan.countname = fg_count_name(after, o->after_column);
	c.a = fg_new(false);
	c.b = fg_new(false);
	if (fg_add_profile(c.a, after, &bo, e))
		goto out;
	bo.column = o->before_column;
	if (fg_add_profile(c.b, before, &bo, e))
		goto out;
	fg_finish(c.a);
	fg_finish(c.b);
	c.total_a = c.a->nodes[0].value;
	c.total_b = c.b->nodes[0].value;
	if (!(c.total_a > 0)) {
		err_set(e, "the AFTER profile has no samples to draw");
		goto out;
	}
	c.map_b = map_nodes(c.a, c.b);
	c.map_a = map_nodes(c.b, c.a);
	/* flamegraph.pl colours a frame by the change of the samples ending in it. */
	for (uint32_t n = 0; n < c.a->nodes_nr; n++) {
		uint32_t bn = c.map_b[n];

		c.a->nodes[n].delta = c.a->nodes[n].self - (bn == FG_NONE ? 0 : o->scale * c.b->nodes[bn].self);
	}
	c.a->has_delta = true;

	if (ends_with(path, ".folded") || ends_with(path, ".txt")) {
		write_folded(&text, &c);
		ret = afile_write_all(path, text.buf, text.len, e);
		goto out;
	}
	fg_svg_opts_init(&so);
	so.title = o->title ? o->title : "Differential Flame Graph";
	so.subtitle = o->subtitle;
	so.countname = plan.countname;
	so.frame_tooltip = diff_tooltip;
	so.frame_tooltip_ctx = &c;
	if (afile_open(&af, path, e))
		goto out;
	if (fg_write_svg(c.a, af.fp, &so, e)) {
		afile_abort(&af);
		goto out;
	}
	ret = afile_commit(&af, e);
out:
	free(c.map_a);
	free(c.map_b);
	fg_free(c.a);
	fg_free(c.b);
	buf_release(&text);
	return ret;
}
