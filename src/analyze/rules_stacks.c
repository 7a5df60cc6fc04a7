/* The rules measured on the shape of the stacks rather than on names: deep recursion and many tiny functions. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/buf.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "analysis.h"
#include "rules.h"
#include "rules_eval.h"

/* Code a compiler built and can inline (C, C++, Rust...): not the kernel, not interpreted or JIT-compiled code. */
static bool compiled_kind(uint32_t kind)
{
	return kind == FRAME_NATIVE || kind == FRAME_INLINED;
}

/*
 * Deep recursion. It fires when, for some function, the samples with RULE_RECURSION_DEPTH or more of its frames
 * on one stack reach the rule's share; such a function is deeply recursive. The rule then measures what the
 * hot path and the inclusive table show for those functions: the samples with any of them on the stack, each
 * counted once however deep it recursed, and the self time inside by function.
 */
void rules_eval_recursion(struct analysis *a, const struct rule *rule)
{
	const struct profile *p = a->p;
	size_t nf = a->fns.nr ? a->fns.nr : 1;
	uint32_t *maxdepth = xcalloc(nf, sizeof(*maxdepth));
	int64_t *deep_value = xcalloc(nf, sizeof(*deep_value)), *inside = xcalloc(nf, sizeof(*inside));
	bool *deep_fn = xcalloc(nf, sizeof(*deep_fn)), *deep = xcalloc(p->nodes_nr, sizeof(*deep));
	bool *under = xcalloc(p->nodes_nr, sizeof(*under));
	int64_t value = 0, deep_samples = 0;
	struct rule_acc acc = { 0 };
	struct recommendation *rec;
	struct buf msg = BUF_INIT;
	size_t deepest = SIZE_MAX;
	double share;

	/* A node with exactly RULE_RECURSION_DEPTH frames of its function is where that function's deep part starts:
	 * each stack has at most one such node per function, so its inclusive cost counts each sample once. */
	for (size_t n = 1; n < p->nodes_nr; n++) {
		uint32_t fn = a->frame_fn[p->nodes[n].frame], d = a->node_rdepth[n];

		if (d > maxdepth[fn])
			maxdepth[fn] = d;
		if (d == RULE_RECURSION_DEPTH)
			deep_value[fn] = sat_add64(deep_value[fn], a->node_total[n]);
		deep[n] = deep[p->nodes[n].parent] || d >= RULE_RECURSION_DEPTH;
		if (deep[n])
			deep_samples = sat_add64(deep_samples, a->node_self[n]);
	}
	for (size_t fn = 0; fn < a->fns.nr; fn++) {
		deep_fn[fn] = deep_value[fn] && rule_pct(a, deep_value[fn]) >= rule->min_pct;
		if (deep_fn[fn] && (deepest == SIZE_MAX || a->fns.v[fn].total > a->fns.v[deepest].total))
			deepest = fn;
	}
	if (deepest == SIZE_MAX)
		goto out;
	for (size_t n = 1; n < p->nodes_nr; n++) {
		uint32_t fn = a->frame_fn[p->nodes[n].frame], par = p->nodes[n].parent;

		under[n] = under[par] || deep_fn[fn];
		if (!under[n])
			continue;
		value = sat_add64(value, a->node_self[n]);
		inside[fn] = sat_add64(inside[fn], a->node_self[n]);
		/* Where the recursion is entered from: the caller of its outermost frame. */
		if (!under[par] && par && a->node_total[n])
			rule_acc_caller(a, &acc, a->frame_fn[p->nodes[par].frame], a->node_total[n]);
	}
	share = rule_pct(a, value);
	rec = rule_add_rec(a, rule, share);
	rec->evidence.value = value;
	for (size_t fn = 0; fn < a->fns.nr; fn++) {
		if (deep_fn[fn])
			share_list_add(&rec->evidence.functions, a->fns.v[fn].name, a->fns.v[fn].module, 0,
				       a->fns.v[fn].total, 0);
		if (inside[fn])
			share_list_add(&rec->evidence.inside, a->fns.v[fn].name, a->fns.v[fn].module, 0, inside[fn], 0);
	}
	rule_finish_list(a, &rec->evidence.functions, 5);
	rule_finish_list(a, &rec->evidence.inside, 5);
	rec->evidence.callers = acc.callers;
	memset(&acc.callers, 0, sizeof(acc.callers));
	rule_finish_list(a, &rec->evidence.callers, 5);
	buf_addf(&msg, "%s recurses up to %u frames deep; %.1f%% of the profile is %d or more frames of one "
		 "function deep", analysis_fn_name(a, deepest), maxdepth[deepest], rule_pct(a, deep_samples),
		 RULE_RECURSION_DEPTH);
	rec->evidence.detail = buf_detach(&msg, NULL);
	buf_addf(&msg, "%.1f%% of the profile is in %s (functions with %d or more of their frames on one stack, each "
		 "sample counted once): ", share, rule->what, RULE_RECURSION_DEPTH);
	for (size_t i = 0; i < rec->evidence.functions.nr && i < 3; i++) {
		const struct share *f = &rec->evidence.functions.v[i];
		size_t fn = SIZE_MAX;

		for (size_t k = 0; k < a->fns.nr && fn == SIZE_MAX; k++)
			if (a->fns.v[k].name == f->name && a->fns.v[k].module == f->module)
				fn = k;
		buf_addf(&msg, "%s%s (%.1f%%, depth up to %u)", i ? ", " : "", profile_str(p, f->name), f->pct,
			 fn == SIZE_MAX ? 0 : maxdepth[fn]);
	}
	if (rec->evidence.inside.nr)
		buf_addf(&msg, "; the most self time inside is in %s (%.1f%%)",
			 profile_str(p, rec->evidence.inside.v[0].name), rec->evidence.inside.v[0].pct);
	/* interpreted code gets the advice without compiler terms (advice[1]) */
	buf_addf(&msg, "; %s. %s", rec->evidence.detail,
		 rule->advice[compiled_kind(a->fns.v[deepest].kind) || !rule->advice[1] ? 0 : 1]);
	rec->message = buf_detach(&msg, NULL);
out:
	share_list_release(&acc.callers);
	u64map_release(&acc.caller_idx);
	free(maxdepth);
	free(deep_value);
	free(inside);
	free(deep_fn);
	free(deep);
	free(under);
	buf_release(&msg);
}

/*
 * Many tiny functions: the advice is about compilers (LTO, PGO, inlining), so only compiled user-space code
 * counts; tiny kernel, interpreted or JIT-compiled functions are not the program's build to change.
 */
void rules_eval_tiny(struct analysis *a, const struct rule *rule)
{
	size_t n = 0;
	int64_t value = 0;
	double share;
	struct recommendation *rec;
	struct buf msg = BUF_INIT;

	for (size_t i = 0; i < a->fns.nr; i++)
		if (a->fns.v[i].self > 0 && a->fns.v[i].self_pct < RULE_TINY_PCT && compiled_kind(a->fns.v[i].kind)) {
			n++;
			value = sat_add64(value, a->fns.v[i].self);
		}
	share = rule_pct(a, value);
	if (n < RULE_TINY_MIN_FUNCTIONS || share < rule->min_pct)
		return;
	rec = rule_add_rec(a, rule, share);
	rec->evidence.value = value;
	for (size_t i = 0; i < a->fns.nr && rec->evidence.functions.nr < 5; i++)
		if (a->fns.v[i].self > 0 && a->fns.v[i].self_pct < RULE_TINY_PCT && compiled_kind(a->fns.v[i].kind))
			share_list_add(&rec->evidence.functions, a->fns.v[i].name, a->fns.v[i].module, 0,
				       a->fns.v[i].self, a->fns.v[i].self_pct);
	buf_addf(&msg, "%zu functions each take under %.0f%% self time and together %.1f%%; the largest single "
		 "function takes %.1f%%", n, RULE_TINY_PCT, share, a->fns.nr ? a->fns.v[0].self_pct : 0.0);
	rec->evidence.detail = buf_detach(&msg, NULL);
	buf_addf(&msg, "%s (the heaviest: ", rec->evidence.detail);
	rule_list_names(&msg, a, &rec->evidence.functions, 3);
	buf_addf(&msg, "). %s", rule->advice[0]);
	rec->message = buf_detach(&msg, NULL);
	buf_release(&msg);
}
