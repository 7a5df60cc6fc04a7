/* Profile analysis: hotspots with severities, the hot path, per-hotspot detail; the rules run from rules.c. */
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
#include "rules.h"

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
		fmt_count(out + 1, (uint64_t)-v);
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

		total += v;
		v = v < 0 ? -v : v;
		if (v && v < min)
			min = v;
		while (v) {
			int64_t t = g % v;

			g = v;
			v = t;
		}
	}
	for (size_t i = 0; i < p->comments_nr; i++) {
		const char *s = profile_str(p, p->comments[i]);
		long long n;

		if (!strncmp(s, "samples: ", 9) && sscanf(s + 9, "%lld", &n) == 1 && n > 0 && total > n)
			return (double)total / (double)n;
	}
	if (g <= 1 || (strict && (p->rows_nr < 8 || min != g)))
		return 0;
	return (double)g;
}

static double pct_of(int64_t v, int64_t total)
{
	return total ? 100.0 * (double)v / (double)total : 0.0;
}

static void mtree_build(struct calltree *t, const struct analysis *a)
{
	const struct profile *p = a->p;
	struct u64map idx = U64MAP_INIT;
	size_t n = p->nodes_nr ? p->nodes_nr : 1;
	uint32_t *last_child;
	bool identity;

	t->parent = xmalloc(n * sizeof(*t->parent));
	t->fn = xmalloc(n * sizeof(*t->fn));
	t->self = xcalloc(n, sizeof(*t->self));
	t->total = xcalloc(n, sizeof(*t->total));
	t->first_child = xmalloc(n * sizeof(*t->first_child));
	t->next_sibling = xmalloc(n * sizeof(*t->next_sibling));
	t->of_node = xmalloc(n * sizeof(*t->of_node));
	last_child = xmalloc(n * sizeof(*last_child));
	t->parent[0] = 0;
	t->fn[0] = UINT32_MAX;
	t->first_child[0] = t->next_sibling[0] = last_child[0] = UINT32_MAX;
	t->of_node[0] = 0;
	t->nr = 1;
	t->self[0] = a->node_self ? a->node_self[0] : 0;
	/* When every frame is its own function (folded stacks, perf script), the trie is already merged. */
	identity = a->fns.nr == p->frames_nr;
	for (size_t i = 1; i < p->nodes_nr; i++) {
		uint32_t mp = t->of_node[p->nodes[i].parent], fn = a->frame_fn[p->nodes[i].frame], m;
		int ins = 1;
		uint64_t ident = t->nr, *slot = identity ? &ident : u64map_insert(&idx, ((uint64_t)mp << 32) | fn, &ins);

		if (ins) {
			m = (uint32_t)t->nr++;
			*slot = m;
			t->parent[m] = mp;
			t->fn[m] = fn;
			t->first_child[m] = t->next_sibling[m] = last_child[m] = UINT32_MAX;
			if (last_child[mp] == UINT32_MAX)
				t->first_child[mp] = m;
			else
				t->next_sibling[last_child[mp]] = m;
			last_child[mp] = m;
		}
		m = (uint32_t)*slot;
		t->of_node[i] = m;
		t->self[m] += a->node_self[i];
	}
	memcpy(t->total, t->self, t->nr * sizeof(*t->total));
	for (size_t m = t->nr - 1; m >= 1; m--)
		t->total[t->parent[m]] += t->total[m];
	free(last_child);
	u64map_release(&idx);
}

static void mtree_release(struct calltree *t)
{
	free(t->parent);
	free(t->fn);
	free(t->self);
	free(t->total);
	free(t->first_child);
	free(t->next_sibling);
	free(t->of_node);
	memset(t, 0, sizeof(*t));
}

static void hot_path(struct analysis *a, const struct calltree *t)
{
	size_t alloc = 0;
	uint32_t m = 0;

	for (;;) {
		uint32_t best = UINT32_MAX;

		for (uint32_t c = t->first_child[m]; c != UINT32_MAX; c = t->next_sibling[c])
			if (t->total[c] > 0 && (best == UINT32_MAX || t->total[c] > t->total[best]))
				best = c;
		if (best == UINT32_MAX)
			break;
		ALLOC_GROW(a->hot_path, a->hot_path_nr + 1, alloc);
		a->hot_path[a->hot_path_nr].fn = t->fn[best];
		a->hot_path[a->hot_path_nr].total = t->total[best];
		a->hot_path[a->hot_path_nr].self = t->self[best];
		a->hot_path[a->hot_path_nr].total_pct = pct_of(t->total[best], a->grand_total);
		a->hot_path[a->hot_path_nr].self_pct = pct_of(t->self[best], a->grand_total);
		a->hot_path_nr++;
		m = best;
	}
}

/*
 * Callers and callees of the hotspots, by a depth-first walk that keeps, per function, how often it is on the
 * current path, so a recursive function counts only at its outermost frame (the shares then add up to its
 * total, as the hotspot table's total does).
 */
static void details(struct analysis *a, const struct calltree *t)
{
	const struct profile *p = a->p;
	uint32_t *onpath = xcalloc(a->fns.nr ? a->fns.nr : 1, sizeof(*onpath));
	int32_t *hot = xmalloc((a->fns.nr ? a->fns.nr : 1) * sizeof(*hot));
	struct u64map caller_idx = U64MAP_INIT, callee_idx = U64MAP_INIT, *line_idx = NULL;
	uint32_t *stack = NULL;
	size_t sp = 0, salloc = 0;

	for (size_t f = 0; f < a->fns.nr; f++)
		hot[f] = -1;
	a->details = xcalloc(a->nhot ? a->nhot : 1, sizeof(*a->details));
	for (size_t i = 0; i < a->nhot; i++) {
		a->details[i].fn = i;
		hot[i] = (int32_t)i;
	}

	/* Iterative DFS: a node is pushed on entry; UINT32_MAX marks "leave the node below". */
	ALLOC_GROW(stack, 1, salloc);
	for (uint32_t c = t->first_child[0]; c != UINT32_MAX; c = t->next_sibling[c]) {
		ALLOC_GROW(stack, sp + 1, salloc);
		stack[sp++] = c;
	}
	while (sp) {
		uint32_t m = stack[--sp];

		if (m & 0x80000000u) {
			onpath[t->fn[m & 0x7fffffffu]]--;
			continue;
		}
		uint32_t fn = t->fn[m], pm = t->parent[m];

		onpath[fn]++;
		if (hot[fn] >= 0 && onpath[fn] == 1) {
			struct share_list *l = &a->details[hot[fn]].callers;
			uint32_t cname = pm ? a->fns.v[t->fn[pm]].name : profile_intern_str(a->p, "(root)");
			uint32_t cmod = pm ? a->fns.v[t->fn[pm]].module : 0;
			int ins;
			uint64_t *slot = u64map_insert(&caller_idx,
						       ((uint64_t)hot[fn] << 32) | (pm ? t->fn[pm] : 0xffffffffu), &ins);

			if (ins) {
				*slot = l->nr;
				share_list_add(l, cname, cmod, 0, 0, 0);
			}
			l->v[*slot].value += t->total[m];
		}
		if (pm && hot[t->fn[pm]] >= 0 && onpath[t->fn[pm]] == 1) {
			struct share_list *l = &a->details[hot[t->fn[pm]]].callees;
			int ins;
			uint64_t *slot = u64map_insert(&callee_idx, ((uint64_t)hot[t->fn[pm]] << 32) | fn, &ins);

			if (ins) {
				*slot = l->nr;
				share_list_add(l, a->fns.v[fn].name, a->fns.v[fn].module, 0, 0, 0);
			}
			l->v[*slot].value += t->total[m];
		}
		ALLOC_GROW(stack, sp + 1, salloc);
		stack[sp++] = m | 0x80000000u;
		for (uint32_t c = t->first_child[m]; c != UINT32_MAX; c = t->next_sibling[c]) {
			ALLOC_GROW(stack, sp + 1, salloc);
			stack[sp++] = c;
		}
	}

	/* Source lines: self cost of each (file, line) of a hotspot's frames. */
	line_idx = xcalloc(a->nhot ? a->nhot : 1, sizeof(*line_idx));
	for (size_t n = 1; n < p->nodes_nr; n++) {
		const struct frame *fr = &p->frames[p->nodes[n].frame];
		int32_t h = hot[a->frame_fn[p->nodes[n].frame]];
		struct share_list *l;
		uint64_t *slot;
		int ins;

		if (h < 0 || !a->node_self[n] || !fr->file)
			continue;
		l = &a->details[h].lines;
		slot = u64map_insert(&line_idx[h], ((uint64_t)fr->file << 32) | fr->line, &ins);
		if (ins) {
			*slot = l->nr;
			share_list_add(l, fr->file, 0, fr->line, 0, 0);
		}
		l->v[*slot].value += a->node_self[n];
	}
	for (size_t i = 0; i < a->nhot; i++) {
		struct share_list *ls[3] = { &a->details[i].callers, &a->details[i].callees, &a->details[i].lines };

		for (size_t k = 0; k < 3; k++) {
			for (size_t j = 0; j < ls[k]->nr; j++)
				ls[k]->v[j].pct = pct_of(ls[k]->v[j].value, a->grand_total);
			share_list_finish(ls[k], 10);
		}
	}
	free(stack);
	free(onpath);
	free(hot);
	u64map_release(&caller_idx);
	u64map_release(&callee_idx);
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

int analysis_run(struct profile *p, const struct analyze_opts *o, struct analysis *a, struct err *e)
{
	static const struct analyze_opts defaults = ANALYZE_OPTS_INIT;
	struct u64map fn_index = U64MAP_INIT, leaves = U64MAP_INIT;
	struct buf name = BUF_INIT;
	size_t nc;

	if (!o)
		o = &defaults;
	memset(a, 0, sizeof(*a));
	a->p = p;
	a->threshold = o->threshold;
	a->top = o->top ? o->top : 20;
	a->detailed = o->detailed;
	if (pick_columns(a, o, e))
		return -1;
	if (hotspots_compute(p, a->column, &a->fns))
		return err_set(e, "the profile has no value column %d", a->column);
	a->grand_total = a->fns.grand_total;
	nc = p->ncolumns;

	/* Function of each frame: the same key hotspots_compute() uses (display name, module). */
	for (size_t i = 0; i < a->fns.nr; i++) {
		int ins;

		*u64map_insert(&fn_index, ((uint64_t)a->fns.v[i].name << 32) | a->fns.v[i].module, &ins) = i;
	}
	a->frame_fn = xmalloc((p->frames_nr ? p->frames_nr : 1) * sizeof(*a->frame_fn));
	for (size_t f = 0; f < p->frames_nr; f++) {
		uint64_t *slot;

		buf_reset(&name);
		frame_display_name(&name, p, (uint32_t)f);
		slot = u64map_find(&fn_index, ((uint64_t)profile_intern(p, name.buf, name.len) << 32) |
						      p->frames[f].module);
		if (!slot)
			BUG("frame %zu has no function after hotspots_compute", f);
		a->frame_fn[f] = (uint32_t)*slot;
	}

	/* Self and inclusive cost per profile node. */
	a->node_self = xcalloc(p->nodes_nr, sizeof(*a->node_self));
	a->node_total = xcalloc(p->nodes_nr, sizeof(*a->node_total));
	for (size_t r = 0; r < p->rows_nr; r++) {
		uint32_t node = p->rows[r].node;
		int ins;

		a->node_self[node] += p->values[r * nc + (size_t)a->column];
		if (a->count_column >= 0)
			a->grand_count += p->values[r * nc + (size_t)a->count_column];
		u64map_insert(&leaves, node, &ins);
		if (p->nodes[node].depth > a->max_depth)
			a->max_depth = p->nodes[node].depth;
	}
	a->unique_stacks = leaves.nr;
	a->weight = sample_weight(p, a->column, true);
	memcpy(a->node_total, a->node_self, p->nodes_nr * sizeof(*a->node_total));
	for (size_t n = p->nodes_nr - 1; n >= 1; n--)
		a->node_total[p->nodes[n].parent] += a->node_total[n];
	if (a->count_column >= 0) {
		a->fn_count = xcalloc(a->fns.nr ? a->fns.nr : 1, sizeof(*a->fn_count));
		for (size_t r = 0; r < p->rows_nr; r++) {
			uint32_t node = p->rows[r].node;

			if (node)
				a->fn_count[a->frame_fn[p->nodes[node].frame]] +=
					p->values[r * nc + (size_t)a->count_column];
		}
	}

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

	mtree_build(&a->tree, a);
	hot_path(a, &a->tree);
	if (a->detailed)
		details(a, &a->tree);
	if (a->rules_apply)
		rules_evaluate(a);

	u64map_release(&fn_index);
	u64map_release(&leaves);
	buf_release(&name);
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
	free(a->frame_fn);
	free(a->node_self);
	free(a->node_total);
	hotspots_release(&a->fns);
	mtree_release(&a->tree);
	memset(a, 0, sizeof(*a));
}
