/* Profile analysis: hotspots with severities, idle time, the hot path, per-hotspot detail; rules run from rules.c. */
#include "analysis.h"

#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/hash.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "idle.h"
#include "rules.h"
#include "stackwalk.h"
#include "waitsite.h"

const char *severity_name(enum severity s)
{
	switch (s) {
	case SEV_CRITICAL:
		return "critical";
	case SEV_HIGH:
		return "high";
	case SEV_MEDIUM:
		return "medium";
	default:
		return "none";
	}
}

enum severity severity_of(double pct, double threshold)
{
	if (pct >= SEVERITY_CRITICAL_PCT)
		return SEV_CRITICAL;
	if (pct >= SEVERITY_HIGH_PCT)
		return SEV_HIGH;
	if (pct >= threshold && pct > 0)
		return SEV_MEDIUM;
	return SEV_NONE;
}

void share_list_add(struct share_list *l, uint32_t name, uint32_t module, uint32_t line, int64_t value,
		    double pct)
{
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	l->v[l->nr].name = name;
	l->v[l->nr].module = module;
	l->v[l->nr].line = line;
	l->v[l->nr].value = value;
	l->v[l->nr].pct = pct;
	l->nr++;
}

static int share_cmp(const void *x, const void *y)
{
	const struct share *a = x, *b = y;

	if (a->value != b->value)
		return a->value > b->value ? -1 : 1;
	if (a->name != b->name)
		return a->name < b->name ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

void share_list_finish(struct share_list *l, size_t max)
{
	if (l->nr > 1)
		qsort(l->v, l->nr, sizeof(*l->v), share_cmp);
	if (l->nr > max)
		l->nr = max;
}

void share_list_release(struct share_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

const char *analysis_fn_name(const struct analysis *a, size_t fn)
{
	return profile_str(a->p, a->fns.v[fn].name);
}

const char *analysis_fn_module(const struct analysis *a, size_t fn)
{
	const char *m = a->fns.v[fn].module ? profile_str(a->p, a->fns.v[fn].module) : "";
	const char *slash = strrchr(m, '/');

	return slash ? slash + 1 : m;
}

const char *analysis_fmt_value(const struct analysis *a, int64_t v, char *out)
{
	const char *unit = profile_str(a->p, a->p->columns[a->column].unit);

	if (!strcmp(unit, "nanoseconds"))
		return fmt_ns(out, (double)v);
	if (!strcmp(unit, "microseconds"))
		return fmt_ns(out, (double)v * 1e3);
	if (!strcmp(unit, "milliseconds"))
		return fmt_ns(out, (double)v * 1e6);
	if (!strcmp(unit, "bytes"))
		return fmt_bytes(out, (double)v);
	if (v < 0) {
		out[0] = '-';
		fmt_count(out + 1, 0 - (uint64_t)v); /* INT64_MIN has no positive int64 */
		return out;
	}
	return fmt_count(out, (uint64_t)v);
}

double sample_weight(const struct profile *p, int column, bool strict)
{
	int64_t g = 0, min = INT64_MAX, total = 0;
	size_t nc = p->ncolumns;

	if (column < 0 || (size_t)column >= nc || strcmp(profile_str(p, p->columns[column].unit), "count"))
		return 0;
	for (size_t r = 0; r < p->rows_nr; r++) {
		int64_t v = p->values[r * nc + (size_t)column];

		if (v <= 0) /* negative values count 0, as everywhere in the analysis */
			continue;
		total = sat_add64(total, v);
		if (v < min)
			min = v;
		while (v) {
			int64_t t = g % v;

			g = v;
			v = t;
		}
	}
	if (p->meta.samples > 0 && total > p->meta.samples)
		return (double)total / (double)p->meta.samples;
	if (g <= 1 || (strict && (p->rows_nr < 8 || min != g)))
		return 0;
	return (double)g;
}

static double pct_of(int64_t v, int64_t total)
{
	return total ? 100.0 * (double)v / (double)total : 0.0;
}

/*
 * The hot path: from the root of the call tree with recursion folded, step into the heaviest callee while that
 * callee's inclusive cost is larger than the current function's self cost. It ends at the first function whose
 * own code costs at least as much as any one of its callees with everything under it: where the time is spent,
 * not in a 0.1 % interrupt frame below it. Ties go to the callee seen first.
 */
static void hot_path(struct analysis *a, const struct calltree *t)
{
	size_t alloc = 0;
	uint32_t m = 0;

	for (;;) {
		uint32_t best = UINT32_MAX;
		struct path_step *s;

		for (uint32_t c = t->first_child[m]; c != UINT32_MAX; c = t->next_sibling[c])
			if (t->total[c] > 0 && (best == UINT32_MAX || t->total[c] > t->total[best]))
				best = c;
		if (best == UINT32_MAX || (m && t->total[best] <= t->self[m]))
			break;
		ALLOC_GROW(a->hot_path, a->hot_path_nr + 1, alloc);
		s = &a->hot_path[a->hot_path_nr++];
		s->fn = t->fn[best];
		s->total = t->total[best];
		s->self = t->self[best];
		s->total_pct = pct_of(t->total[best], a->grand_total);
		s->self_pct = pct_of(t->self[best], a->grand_total);
		s->depth = t->depth[best] ? t->depth[best] : 1;
		m = best;
	}
}

#define ROOT_FN 0xffffffffu

/*
 * Callers and callees of the hotspots: each profile node is an edge (its parent's function calls its own); the
 * edges that touch a hotspot get a dense pair id, and an edge counts its inclusive cost only where no ancestor
 * edge is the same pair, so each sample counts once per (caller, callee) pair on its stack.
 */
static void edges(struct analysis *a)
{
	const struct profile *p = a->p;
	int32_t *hot = xmalloc((a->fns.nr ? a->fns.nr : 1) * sizeof(*hot));
	uint32_t *key = xmalloc(p->nodes_nr * sizeof(*key)), *up = xmalloc(p->nodes_nr * sizeof(*up));
	struct u64map pairs = U64MAP_INIT, caller_idx = U64MAP_INIT, callee_idx = U64MAP_INIT;
	uint32_t root_name = profile_intern_str(a->p, "(root)");

	for (size_t f = 0; f < a->fns.nr; f++)
		hot[f] = f < a->nhot ? (int32_t)f : -1;
	key[0] = STACK_NO_KEY;
	for (size_t n = 1; n < p->nodes_nr; n++) {
		uint32_t par = p->nodes[n].parent, f = a->frame_fn[p->nodes[n].frame];
		uint32_t g = par ? a->frame_fn[p->nodes[par].frame] : ROOT_FN;
		int ins;
		uint64_t *slot;

		key[n] = STACK_NO_KEY;
		if (hot[f] < 0 && (g == ROOT_FN || hot[g] < 0))
			continue;
		slot = u64map_insert(&pairs, ((uint64_t)g << 32) | f, &ins);
		if (ins)
			*slot = pairs.nr - 1;
		key[n] = (uint32_t)*slot;
	}
	stack_same_key_ancestor(p, a->order, key, pairs.nr, up);
	for (size_t n = 1; n < p->nodes_nr; n++) {
		uint32_t par = p->nodes[n].parent, f = a->frame_fn[p->nodes[n].frame];
		uint32_t g = par ? a->frame_fn[p->nodes[par].frame] : ROOT_FN;
		int64_t v = a->node_total[n];
		int ins;
		uint64_t *slot;

		if (key[n] == STACK_NO_KEY || up[n] || !v)
			continue;
		if (hot[f] >= 0) {
			struct share_list *l = &a->details[hot[f]].callers;

			slot = u64map_insert(&caller_idx, ((uint64_t)hot[f] << 32) | g, &ins);
			if (ins) {
				*slot = l->nr;
				share_list_add(l, g == ROOT_FN ? root_name : a->fns.v[g].name,
					       g == ROOT_FN ? 0 : a->fns.v[g].module, 0, 0, 0);
			}
			l->v[*slot].value = sat_add64(l->v[*slot].value, v);
		}
		if (g != ROOT_FN && hot[g] >= 0) {
			struct share_list *l = &a->details[hot[g]].callees;

			slot = u64map_insert(&callee_idx, ((uint64_t)hot[g] << 32) | f, &ins);
			if (ins) {
				*slot = l->nr;
				share_list_add(l, a->fns.v[f].name, a->fns.v[f].module, 0, 0, 0);
			}
			l->v[*slot].value = sat_add64(l->v[*slot].value, v);
		}
	}
	free(hot);
	free(key);
	free(up);
	u64map_release(&pairs);
	u64map_release(&caller_idx);
	u64map_release(&callee_idx);
}

/* Per hotspot: callers, callees (edges()) and the self cost of each of its source lines. */
static void details(struct analysis *a)
{
	const struct profile *p = a->p;
	struct u64map *line_idx = NULL;

	a->details = xcalloc(a->nhot ? a->nhot : 1, sizeof(*a->details));
	for (size_t i = 0; i < a->nhot; i++)
		a->details[i].fn = i;
	edges(a);
	line_idx = xcalloc(a->nhot ? a->nhot : 1, sizeof(*line_idx));
	for (size_t n = 1; n < p->nodes_nr; n++) {
		const struct frame *fr = &p->frames[p->nodes[n].frame];
		size_t h = a->frame_fn[p->nodes[n].frame];
		struct share_list *l;
		uint64_t *slot;
		int ins;

		if (h >= a->nhot || !a->node_self[n] || !fr->file)
			continue;
		l = &a->details[h].lines;
		slot = u64map_insert(&line_idx[h], ((uint64_t)fr->file << 32) | fr->line, &ins);
		if (ins) {
			*slot = l->nr;
			share_list_add(l, fr->file, 0, fr->line, 0, 0);
		}
		l->v[*slot].value = sat_add64(l->v[*slot].value, a->node_self[n]);
	}
	for (size_t i = 0; i < a->nhot; i++) {
		struct share_list *ls[3] = { &a->details[i].callers, &a->details[i].callees, &a->details[i].lines };

		for (size_t k = 0; k < 3; k++) {
			for (size_t j = 0; j < ls[k]->nr; j++)
				ls[k]->v[j].pct = pct_of(ls[k]->v[j].value, a->grand_total);
			share_list_finish(ls[k], 10);
		}
	}
	for (size_t i = 0; i < a->nhot; i++)
		u64map_release(&line_idx[i]);
	free(line_idx);
}

static const struct analysis *sort_ctx;

static int by_total_idx(const void *x, const void *y)
{
	const struct hotspot *a = &sort_ctx->fns.v[*(const size_t *)x], *b = &sort_ctx->fns.v[*(const size_t *)y];

	if (a->total != b->total)
		return a->total > b->total ? -1 : 1;
	if (a->self != b->self)
		return a->self > b->self ? -1 : 1;
	return *(const size_t *)x < *(const size_t *)y ? -1 : 1;
}

static int pick_columns(struct analysis *a, const struct analyze_opts *o, struct err *e)
{
	struct profile *p = a->p;

	if (!p->ncolumns)
		return err_set(e, "the profile has no values");
	if (o->value) {
		a->column = profile_find_column(p, o->value);
		if (a->column < 0) {
			struct buf have = BUF_INIT;

			for (size_t i = 0; i < p->ncolumns; i++)
				buf_addf(&have, "%s%s", i ? ", " : "", profile_str(p, p->columns[i].type));
			err_set(e, "the profile has no '%s' values (it has: %s)", o->value, have.buf);
			buf_release(&have);
			return -1;
		}
	} else {
		a->column = profile_default_column(p);
	}
	a->count_column = -1;
	for (size_t i = 0; i < p->ncolumns; i++) {
		const char *type = profile_str(p, p->columns[i].type), *unit = profile_str(p, p->columns[i].unit);

		if ((int)i != a->column && !strcmp(type, "samples") && !strcmp(unit, "count"))
			a->count_column = (int)i;
		if (!strcmp(type, "alloc_space") || !strcmp(type, "inuse_space"))
			a->heap = true;
	}
	{
		const char *type = profile_str(p, p->columns[a->column].type);
		const char *unit = profile_str(p, p->columns[a->column].unit);

		/* The rules reason about where time goes; memory columns measure something else. */
		a->rules_apply = strcmp(unit, "bytes") && strncmp(type, "alloc_", 6) && strncmp(type, "inuse_", 6) &&
				 strncmp(type, "peak_", 5) && strncmp(type, "temporary", 9);
		a->kind = rules_kind_of(type, profile_find_column(p, "syscalls") >= 0);
	}
	return 0;
}

/* Idle samples of CPU profiles (idle.h): marked per row, their cost kept apart. */
static void find_idle(struct analysis *a)
{
	struct profile *p = a->p;
	int64_t idle = 0, all = 0;

	if (a->kind != RK_CPU || !a->rules_apply || !p->rows_nr)
		return;
	a->row_idle = xmalloc(p->rows_nr * sizeof(*a->row_idle));
	if (!idle_rows(p, a->row_idle)) {
		free(a->row_idle);
	free(a->row_site);
		a->row_idle = NULL;
		return;
	}
	for (size_t r = 0; r < p->rows_nr; r++) {
		int64_t v = p->values[r * p->ncolumns + (size_t)a->column];

		if (v <= 0)
			continue;
		all = sat_add64(all, v);
		if (a->row_idle[r])
			idle = sat_add64(idle, v);
	}
	a->idle_total = idle;
	a->idle_pct = pct_of(idle, all);
}

/* Per profile node: the hotspots' self and inclusive cost and same-function ancestor; the recursion depth. */
static void node_costs(struct analysis *a, const struct hotspot_nodes *nodes)
{
	struct profile *p = a->p;
	size_t nc = p->ncolumns;
	struct u64map leaves = U64MAP_INIT;

	a->node_self = nodes->self;
	a->node_total = nodes->total;
	a->order = nodes->order;
	a->node_up = nodes->up;
	for (size_t r = 0; r < p->rows_nr; r++) {
		uint32_t node = p->rows[r].node;
		int64_t c = a->count_column >= 0 ? p->values[r * nc + (size_t)a->count_column] : 0;
		int ins;

		if (a->row_idle && a->row_idle[r])
			continue;
		if (c > 0) {
			a->grand_count = sat_add64(a->grand_count, c);
			uint32_t at = a->row_site ? a->row_site[r] : node;

			if (at && a->fn_count)
				a->fn_count[a->frame_fn[p->nodes[at].frame]] =
					sat_add64(a->fn_count[a->frame_fn[p->nodes[at].frame]], c);
		}
		u64map_insert(&leaves, node, &ins);
		if (p->nodes[node].depth > a->max_depth)
			a->max_depth = p->nodes[node].depth;
	}
	a->unique_stacks = leaves.nr;
	/* An ancestor's id is below its descendants': one ascending pass counts the frames of each function. */
	a->node_rdepth = xcalloc(p->nodes_nr, sizeof(*a->node_rdepth));
	for (size_t n = 1; n < p->nodes_nr; n++)
		a->node_rdepth[n] = a->node_up[n] ? a->node_rdepth[a->node_up[n]] + 1 : 1;
	u64map_release(&leaves);
}

int analysis_run(struct profile *p, const struct analyze_opts *o, struct analysis *a, struct err *e)
{
	static const struct analyze_opts defaults = ANALYZE_OPTS_INIT;
	struct hotspot_nodes nodes;

	if (!o)
		o = &defaults;
	memset(a, 0, sizeof(*a));
	a->p = p;
	a->threshold = o->threshold;
	a->top = o->top ? o->top : 20;
	a->detailed = o->detailed;
	if (pick_columns(a, o, e))
		return -1;
	find_idle(a);
	/* Waits: self time goes to where the program waited, not to the scheduler every wait ends in. */
	if (a->rules_apply && (a->kind == RK_OFFCPU || a->kind == RK_WALL))
		a->row_site = wait_site_rows(p, a->kind == RK_OFFCPU);
	if (hotspots_compute_nodes(p, a->column, a->row_idle, a->row_site, &a->fns, &nodes))
		return err_set(e, "the profile has no value column %d", a->column);
	a->grand_total = a->fns.grand_total;
	a->saturated = profile_sums_saturate(p, a->column) ||
		       (a->count_column >= 0 && profile_sums_saturate(p, a->count_column));

	/* Function of each frame, as hotspots_compute() keyed it (display name, module). */
	a->frame_fn = a->fns.frame_fn;
	if (a->count_column >= 0)
		a->fn_count = xcalloc(a->fns.nr ? a->fns.nr : 1, sizeof(*a->fn_count));
	node_costs(a, &nodes);
	a->weight = sample_weight(p, a->column, true);

	/* Tables. */
	a->by_total = xmalloc((a->fns.nr ? a->fns.nr : 1) * sizeof(*a->by_total));
	for (size_t i = 0; i < a->fns.nr; i++)
		a->by_total[i] = i;
	sort_ctx = a;
	if (a->fns.nr > 1)
		qsort(a->by_total, a->fns.nr, sizeof(*a->by_total), by_total_idx);
	sort_ctx = NULL;
	while (a->nhot < a->fns.nr && a->nhot < a->top && a->fns.v[a->nhot].self > 0 &&
	       a->fns.v[a->nhot].self_pct >= a->threshold)
		a->nhot++;
	while (a->ninclusive < a->fns.nr && a->ninclusive < a->top &&
	       a->fns.v[a->by_total[a->ninclusive]].total > 0 &&
	       a->fns.v[a->by_total[a->ninclusive]].total_pct >= a->threshold)
		a->ninclusive++;

	calltree_build(&a->tree, p, a->order, a->frame_fn, a->fns.nr, a->node_self, a->node_rdepth);
	hot_path(a, &a->tree);
	if (a->detailed)
		details(a);
	if (a->rules_apply)
		rules_evaluate(a);

	return 0;
}

void analysis_release(struct analysis *a)
{
	if (a->details) {
		for (size_t i = 0; i < a->nhot; i++) {
			share_list_release(&a->details[i].callers);
			share_list_release(&a->details[i].callees);
			share_list_release(&a->details[i].lines);
		}
		free(a->details);
	}
	for (size_t i = 0; i < a->recs_nr; i++) {
		free(a->recs[i].message);
		free(a->recs[i].evidence.detail);
		share_list_release(&a->recs[i].evidence.functions);
		share_list_release(&a->recs[i].evidence.callers);
		share_list_release(&a->recs[i].evidence.inside);
	}
	free(a->recs);
	free(a->hot_path);
	free(a->by_total);
	free(a->fn_count);
	free(a->node_self);
	free(a->node_total);
	free(a->order);
	free(a->node_up);
	free(a->node_rdepth);
	free(a->row_idle);
	free(a->row_site);
	hotspots_release(&a->fns);
	calltree_release(&a->tree);
	memset(a, 0, sizeof(*a));
}
