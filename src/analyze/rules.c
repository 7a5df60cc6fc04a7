/* Evaluating the recommendation rule catalogue (rule_catalogue.c, docs/rules.md) over an analysis. */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/hash.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "analysis.h"

/* ---- matching ------------------------------------------------------------------------------------------ */

static int has_icase(const char *s, size_t len, const char *needle)
{
	size_t nl = strlen(needle);

	for (size_t i = 0; i + nl <= len; i++)
		if (!strncasecmp(s + i, needle, nl))
			return 1;
	return 0;
}

int rule_pattern_match(const char *pat, const char *name, size_t len)
{
	const char *p = pat + 1;
	size_t pl = strlen(p);

	switch (pat[0]) {
	case '=':
		return len == pl && !memcmp(name, p, pl);
	case '^':
		return len >= pl && !memcmp(name, p, pl);
	case '~':
		return pl <= len && memmem(name, len, p, pl) != NULL;
	case '%':
		return has_icase(name, len, p);
	default:
		return 0;
	}
}

/* Drops flamegraph annotations ("_[k]", "_[j]", "_[i]", "_[w]") and a "@plt"-style suffix. */
static size_t normalized_len(const char *name, size_t len)
{
	if (len > 4 && name[len - 4] == '_' && name[len - 3] == '[' && name[len - 1] == ']')
		len -= 4;
	/* "cfree@GLIBC_2.2.5", "memcpy@plt": symbol versions and PLT stubs name the same function. */
	for (size_t i = len; i-- > 1;) {
		char c = name[i];

		if (c == '@') {
			len = name[i - 1] == '@' ? i - 1 : i;
			break;
		}
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '.'))
			break;
	}
	return len;
}

uint32_t rules_match_name(const char *name, size_t len, uint8_t *variants)
{
	uint32_t mask = 0;

	len = normalized_len(name, len);
	for (size_t r = 0; rule_catalogue[r].id; r++) {
		for (const struct rule_pattern *pt = rule_catalogue[r].patterns; pt->pat; pt++) {
			if (rule_pattern_match(pt->pat, name, len)) {
				mask |= 1u << r;
				if (variants)
					variants[r] = (uint8_t)pt->variant;
				break;
			}
		}
	}
	return mask;
}

/* ---- evaluation ---------------------------------------------------------------------------------------- */

#define MAX_RULES 32
#define MAX_VARIANTS 8

struct rule_acc {
	int64_t value;
	int64_t variant_value[MAX_VARIANTS];
	struct share_list callers;
	struct u64map caller_idx;
	struct share_list functions;
};

static double pct(const struct analysis *a, int64_t v)
{
	return a->grand_total ? 100.0 * (double)v / (double)a->grand_total : 0.0;
}

static void acc_caller(struct analysis *a, struct rule_acc *acc, uint32_t fn, int64_t v)
{
	int ins;
	uint64_t *slot = u64map_insert(&acc->caller_idx, fn, &ins);

	if (ins) {
		*slot = acc->callers.nr;
		share_list_add(&acc->callers, a->fns.v[fn].name, a->fns.v[fn].module, 0, 0, 0);
	}
	acc->callers.v[*slot].value += v;
}

static void list_names(struct buf *b, const struct analysis *a, const struct share_list *l, size_t max)
{
	for (size_t i = 0; i < l->nr && i < max; i++)
		buf_addf(b, "%s%s (%.1f%%)", i ? ", " : "", profile_str(a->p, l->v[i].name), l->v[i].pct);
}

static struct recommendation *add_rec(struct analysis *a, const struct rule *r, double share)
{
	struct recommendation *rec;

	ALLOC_GROW(a->recs, a->recs_nr + 1, a->recs_alloc);
	rec = &a->recs[a->recs_nr++];
	memset(rec, 0, sizeof(*rec));
	rec->rule = r->id;
	rec->title = r->title;
	rec->severity = severity_of(share, r->min_pct);
	if (rec->severity == SEV_NONE)
		rec->severity = SEV_MEDIUM;
	rec->evidence.pct = share;
	return rec;
}

static void finish_list(struct analysis *a, struct share_list *l, size_t max)
{
	for (size_t i = 0; i < l->nr; i++)
		l->v[i].pct = pct(a, l->v[i].value);
	share_list_finish(l, max);
}

static bool listed(const struct share_list *l, size_t max, uint32_t name)
{
	for (size_t i = 0; i < l->nr && i < max; i++)
		if (l->v[i].name == name)
			return true;
	return false;
}

/* Rules measured on stack contents (RULE_UNDER, RULE_SELF). */
static void eval_name_rules(struct analysis *a, size_t nrules, int64_t *covered)
{
	const struct profile *p = a->p;
	uint32_t *frame_mask = xcalloc(p->frames_nr ? p->frames_nr : 1, sizeof(*frame_mask));
	uint8_t *frame_var = xcalloc((p->frames_nr ? p->frames_nr : 1) * nrules, 1);
	uint32_t *node_mask = xcalloc(p->nodes_nr, sizeof(*node_mask));
	uint32_t under = 0, any = 0;
	struct rule_acc *acc = xcalloc(nrules, sizeof(*acc));
	int64_t *inside = NULL;
	struct buf msg = BUF_INIT;

	for (size_t r = 0; r < nrules; r++)
		if (rule_catalogue[r].measure == RULE_UNDER)
			under |= 1u << r;
	/* Frames are matched by their function's display name. */
	for (size_t f = 0; f < p->frames_nr; f++) {
		const char *name = analysis_fn_name(a, a->frame_fn[f]);

		frame_mask[f] = rules_match_name(name, strlen(name), frame_var + f * nrules);
		any |= frame_mask[f];
	}
	if (!any)
		goto out;
	for (size_t n = 1; n < p->nodes_nr; n++) {
		uint32_t fr = p->nodes[n].frame, par = p->nodes[n].parent, fm = frame_mask[fr];
		uint32_t inherited = node_mask[par] & under, entries = fm & ~inherited;

		node_mask[n] = inherited | fm;
		for (uint32_t m = node_mask[n]; m; m &= m - 1) {
			size_t r = (size_t)__builtin_ctz(m);
			bool self_rule = !(under & (1u << r));
			int64_t v;

			if (self_rule && !(fm & (1u << r)))
				continue;
			acc[r].value += a->node_self[n];
			if (!(entries & (1u << r)) && !self_rule)
				continue;
			/* An entry into matched code (or a matched frame for self rules): attribute it. */
			v = self_rule ? a->node_self[n] : a->node_total[n];
			acc[r].variant_value[frame_var[fr * nrules + r] % MAX_VARIANTS] += v;
			if (par)
				acc_caller(a, &acc[r], a->frame_fn[p->nodes[par].frame], v);
		}
	}

	inside = xcalloc(a->fns.nr ? a->fns.nr : 1, sizeof(*inside));
	for (size_t r = 0; r < nrules; r++) {
		const struct rule *rule = &rule_catalogue[r];
		struct recommendation *rec;
		struct u64map seen = U64MAP_INIT;
		double share = pct(a, acc[r].value);
		size_t best = 0;

		if (rule->measure != RULE_UNDER && rule->measure != RULE_SELF)
			continue;
		if (!acc[r].value || share < rule->min_pct)
			continue;
		rec = add_rec(a, rule, share);
		rec->evidence.value = acc[r].value;
		for (size_t f = 0; f < p->frames_nr; f++) {
			size_t fn = a->frame_fn[f];
			const struct hotspot *h = &a->fns.v[fn];
			int ins;
			int64_t v = rule->measure == RULE_SELF ? h->self : h->total;

			if (!(frame_mask[f] & (1u << r)) || !v)
				continue;
			u64map_insert(&seen, fn, &ins);
			if (ins)
				share_list_add(&rec->evidence.functions, h->name, h->module, 0, v, 0);
		}
		u64map_release(&seen);
		finish_list(a, &rec->evidence.functions, 5);
		rec->evidence.callers = acc[r].callers;
		memset(&acc[r].callers, 0, sizeof(acc[r].callers));
		finish_list(a, &rec->evidence.callers, 5);
		/* The code that runs inside the matched frames, and what the hotspot rule may consider explained. */
		for (size_t n = 1; n < p->nodes_nr; n++) {
			uint32_t fr = p->nodes[n].frame;

			if (!a->node_self[n] || !((rule->measure == RULE_SELF ? frame_mask[fr] : node_mask[n]) & (1u << r)))
				continue;
			inside[a->frame_fn[fr]] += a->node_self[n];
		}
		for (size_t fn = 0; fn < a->fns.nr; fn++) {
			if (!inside[fn])
				continue;
			share_list_add(&rec->evidence.inside, a->fns.v[fn].name, a->fns.v[fn].module, 0, inside[fn], 0);
			if (inside[fn] > covered[fn])
				covered[fn] = inside[fn];
			inside[fn] = 0;
		}
		finish_list(a, &rec->evidence.inside, 5);
		for (size_t v = 1; v < MAX_VARIANTS; v++)
			if (acc[r].variant_value[v] > acc[r].variant_value[best])
				best = v;
		for (size_t v = 0; v <= best; v++)
			if (!rule->advice[v]) {
				best = 0;
				break;
			}

		buf_reset(&msg);
		buf_addf(&msg, "%.1f%% of the profile is in %s", share, rule->what);
		if (rec->evidence.functions.nr) {
			buf_adds(&msg, ": ");
			list_names(&msg, a, &rec->evidence.functions, 3);
		}
		if (rec->evidence.callers.nr) {
			buf_adds(&msg, rule->measure == RULE_SELF ? "; called from " : "; entered mostly from ");
			list_names(&msg, a, &rec->evidence.callers, 3);
		}
		if (rec->evidence.inside.nr && rule->measure == RULE_UNDER && !listed(&rec->evidence.functions, 3,
										      rec->evidence.inside.v[0].name)) {
			buf_addf(&msg, "; the most self time inside is in %s (%.1f%%)",
				 profile_str(p, rec->evidence.inside.v[0].name), rec->evidence.inside.v[0].pct);
		}
		buf_addf(&msg, ". %s", rule->advice[best]);
		rec->message = buf_detach(&msg, NULL);
	}
out:
	for (size_t r = 0; r < nrules; r++) {
		share_list_release(&acc[r].callers);
		share_list_release(&acc[r].functions);
		u64map_release(&acc[r].caller_idx);
	}
	free(acc);
	free(inside);
	free(frame_mask);
	free(frame_var);
	free(node_mask);
	buf_release(&msg);
}

/* Deep recursion: samples whose stack holds RULE_RECURSION_DEPTH or more frames of one function. */
static void eval_recursion(struct analysis *a, const struct rule *rule)
{
	const struct calltree *t = &a->tree;
	uint32_t *onpath = xcalloc(a->fns.nr ? a->fns.nr : 1, sizeof(*onpath));
	uint32_t *maxdepth = xcalloc(a->fns.nr ? a->fns.nr : 1, sizeof(*maxdepth));
	uint8_t *deep = xcalloc(t->nr ? t->nr : 1, 1);
	int64_t *fn_cost = xcalloc(a->fns.nr ? a->fns.nr : 1, sizeof(*fn_cost));
	uint32_t *stack = NULL;
	size_t sp = 0, salloc = 0;
	int64_t value = 0;
	struct recommendation *rec;
	struct buf msg = BUF_INIT;
	double share;

	for (uint32_t c = t->first_child[0]; c != UINT32_MAX; c = t->next_sibling[c]) {
		ALLOC_GROW(stack, sp + 1, salloc);
		stack[sp++] = c;
	}
	while (sp) {
		uint32_t m = stack[--sp], fn;

		if (m & 0x80000000u) {
			onpath[t->fn[m & 0x7fffffffu]]--;
			continue;
		}
		fn = t->fn[m];
		onpath[fn]++;
		if (onpath[fn] > maxdepth[fn])
			maxdepth[fn] = onpath[fn];
		deep[m] = deep[t->parent[m]] || onpath[fn] >= RULE_RECURSION_DEPTH;
		if (onpath[fn] == RULE_RECURSION_DEPTH && !deep[t->parent[m]])
			fn_cost[fn] += t->total[m];
		if (deep[m])
			value += t->self[m];
		ALLOC_GROW(stack, sp + 1, salloc);
		stack[sp++] = m | 0x80000000u;
		for (uint32_t c = t->first_child[m]; c != UINT32_MAX; c = t->next_sibling[c]) {
			ALLOC_GROW(stack, sp + 1, salloc);
			stack[sp++] = c;
		}
	}
	share = pct(a, value);
	if (value && share >= rule->min_pct) {
		size_t deepest = 0;

		rec = add_rec(a, rule, share);
		rec->evidence.value = value;
		for (size_t fn = 0; fn < a->fns.nr; fn++)
			if (fn_cost[fn])
				share_list_add(&rec->evidence.functions, a->fns.v[fn].name, a->fns.v[fn].module, 0,
					       fn_cost[fn], 0);
		finish_list(a, &rec->evidence.functions, 5);
		for (size_t fn = 0; fn < a->fns.nr; fn++)
			if (a->fns.v[fn].name == rec->evidence.functions.v[0].name &&
			    a->fns.v[fn].module == rec->evidence.functions.v[0].module)
				deepest = fn;
		buf_addf(&msg, "%s recurses up to %u frames deep", analysis_fn_name(a, deepest), maxdepth[deepest]);
		rec->evidence.detail = buf_detach(&msg, NULL);
		buf_addf(&msg, "%.1f%% of the profile is in %s (%u or more frames of one function on a stack): ", share,
			 rule->what, RULE_RECURSION_DEPTH);
		list_names(&msg, a, &rec->evidence.functions, 3);
		buf_addf(&msg, "; %s. %s", rec->evidence.detail, rule->advice[0]);
		rec->message = buf_detach(&msg, NULL);
	}
	free(stack);
	free(onpath);
	free(maxdepth);
	free(deep);
	free(fn_cost);
	buf_release(&msg);
}

static void eval_tiny(struct analysis *a, const struct rule *rule)
{
	size_t n = 0;
	int64_t value = 0;
	double share;
	struct recommendation *rec;
	struct buf msg = BUF_INIT;

	for (size_t i = 0; i < a->fns.nr; i++)
		if (a->fns.v[i].self > 0 && a->fns.v[i].self_pct < RULE_TINY_PCT) {
			n++;
			value += a->fns.v[i].self;
		}
	share = pct(a, value);
	if (n < RULE_TINY_MIN_FUNCTIONS || share < rule->min_pct)
		return;
	rec = add_rec(a, rule, share);
	rec->evidence.value = value;
	for (size_t i = 0; i < a->fns.nr && rec->evidence.functions.nr < 5; i++)
		if (a->fns.v[i].self > 0 && a->fns.v[i].self_pct < RULE_TINY_PCT)
			share_list_add(&rec->evidence.functions, a->fns.v[i].name, a->fns.v[i].module, 0,
				       a->fns.v[i].self, a->fns.v[i].self_pct);
	buf_addf(&msg, "%zu functions each take under %.0f%% self time and together %.1f%%; the largest single "
		 "function takes %.1f%%", n, RULE_TINY_PCT, share, a->fns.nr ? a->fns.v[0].self_pct : 0.0);
	rec->evidence.detail = buf_detach(&msg, NULL);
	buf_addf(&msg, "%s (the heaviest: ", rec->evidence.detail);
	list_names(&msg, a, &rec->evidence.functions, 3);
	buf_addf(&msg, "). %s", rule->advice[0]);
	rec->message = buf_detach(&msg, NULL);
	buf_release(&msg);
}

static bool explained(const struct analysis *a, size_t nbefore, uint32_t name, uint32_t module)
{
	/* A function named as evidence of an earlier recommendation. */
	for (size_t i = 0; i < nbefore; i++)
		for (size_t k = 0; k < a->recs[i].evidence.functions.nr; k++)
			if (a->recs[i].evidence.functions.v[k].name == name &&
			    a->recs[i].evidence.functions.v[k].module == module)
				return true;
	return false;
}

static void eval_hotspots(struct analysis *a, const struct rule *rule, const int64_t *covered)
{
	const struct profile *p = a->p;
	size_t nbefore = a->recs_nr;
	struct buf msg = BUF_INIT;

	for (size_t i = 0; i < a->fns.nr && a->fns.v[i].self_pct >= rule->min_pct; i++) {
		const struct hotspot *h = &a->fns.v[i];
		struct recommendation *rec;
		struct rule_acc acc = { 0 };

		/* Explained: named by another rule, or with most of its self time inside another rule's code. */
		if (!h->self || explained(a, nbefore, h->name, h->module) || covered[i] * 2 >= h->self)
			continue;
		rec = add_rec(a, rule, h->self_pct);
		rec->evidence.value = h->self;
		share_list_add(&rec->evidence.functions, h->name, h->module, h->line, h->self, h->self_pct);
		for (size_t n = 1; n < p->nodes_nr; n++)
			if (a->frame_fn[p->nodes[n].frame] == i && a->node_self[n] && p->nodes[n].parent)
				acc_caller(a, &acc, a->frame_fn[p->nodes[p->nodes[n].parent].frame], a->node_self[n]);
		rec->evidence.callers = acc.callers;
		finish_list(a, &rec->evidence.callers, 5);
		u64map_release(&acc.caller_idx);

		buf_addf(&msg, "%s", profile_str(p, h->name));
		if (h->file)
			buf_addf(&msg, " (%s:%u)", profile_str(p, h->file), h->line);
		buf_addf(&msg, " alone takes %.1f%% of the profile in its own code", h->self_pct);
		if (rec->evidence.callers.nr) {
			buf_adds(&msg, ", called from ");
			list_names(&msg, a, &rec->evidence.callers, 3);
		}
		buf_addf(&msg, ". %s", rule->advice[0]);
		rec->message = buf_detach(&msg, NULL);
	}
	buf_release(&msg);
}

static int rec_cmp(const void *x, const void *y)
{
	const struct recommendation *a = x, *b = y;
	int ga = !strcmp(a->rule, "tiny-functions"), gb = !strcmp(b->rule, "tiny-functions");

	/* The general observation comes after the specific findings. */
	if (ga != gb)
		return ga - gb;
	if (a->evidence.pct != b->evidence.pct)
		return a->evidence.pct > b->evidence.pct ? -1 : 1;
	return strcmp(a->rule, b->rule);
}

void rules_evaluate(struct analysis *a)
{
	size_t nrules = rule_count();
	int64_t *covered;

	if (nrules > MAX_RULES)
		BUG("the rule catalogue has %zu rules, at most %d fit a mask", nrules, MAX_RULES);
	if (!a->grand_total)
		return;
	covered = xcalloc(a->fns.nr ? a->fns.nr : 1, sizeof(*covered));
	eval_name_rules(a, nrules, covered);
	for (size_t r = 0; r < nrules; r++) {
		switch (rule_catalogue[r].measure) {
		case RULE_RECURSION:
			eval_recursion(a, &rule_catalogue[r]);
			break;
		case RULE_TINY:
			eval_tiny(a, &rule_catalogue[r]);
			break;
		default:
			break;
		}
	}
	for (size_t r = 0; r < nrules; r++)
		if (rule_catalogue[r].measure == RULE_HOTSPOT)
			eval_hotspots(a, &rule_catalogue[r], covered);
	free(covered);
	if (a->recs_nr > 1)
		qsort(a->recs, a->recs_nr, sizeof(*a->recs), rec_cmp);
}
