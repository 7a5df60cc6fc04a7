/* Evaluating the recommendation rule catalogue (rule_catalogue.c, docs/rules.md) over an analysis. */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/hash.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "analysis.h"
#include "rules_eval.h"

unsigned rules_kind_of(const char *type, bool has_syscalls)
{
	if (!strcmp(type, "off_cpu"))
		return RK_OFFCPU;
	if (!strcmp(type, "wall"))
		return RK_WALL;
	if (has_syscalls && (!strcmp(type, "latency") || !strcmp(type, "syscalls")))
		return RK_SYSCALL;
	return RK_CPU;
}

static bool fits(const struct analysis *a, const struct rule *r)
{
	return (r->kinds & (a->kind ? a->kind : RK_CPU)) != 0;
}

/* ---- evaluation ---------------------------------------------------------------------------------------- */

#define MAX_RULES 32

double rule_pct(const struct analysis *a, int64_t v)
{
	return a->grand_total ? 100.0 * (double)v / (double)a->grand_total : 0.0;
}

void rule_acc_caller(struct analysis *a, struct rule_acc *acc, uint32_t fn, int64_t v)
{
	int ins;
	uint64_t *slot = u64map_insert(&acc->caller_idx, fn, &ins);

	if (ins) {
		*slot = acc->callers.nr;
		share_list_add(&acc->callers, a->fns.v[fn].name, a->fns.v[fn].module, 0, 0, 0);
	}
	acc->callers.v[*slot].value = sat_add64(acc->callers.v[*slot].value, v);
}

void rule_list_names(struct buf *b, const struct analysis *a, const struct share_list *l, size_t max)
{
	for (size_t i = 0; i < l->nr && i < max; i++)
		buf_addf(b, "%s%s (%.1f%%)", i ? ", " : "", profile_str(a->p, l->v[i].name), l->v[i].pct);
}

struct recommendation *rule_add_rec(struct analysis *a, const struct rule *r, double share)
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

void rule_finish_list(struct analysis *a, struct share_list *l, size_t max)
{
	for (size_t i = 0; i < l->nr; i++)
		l->v[i].pct = rule_pct(a, l->v[i].value);
	share_list_finish(l, max);
}

static bool listed(const struct share_list *l, size_t max, uint32_t name)
{
	for (size_t i = 0; i < l->nr && i < max; i++)
		if (l->v[i].name == name)
			return true;
	return false;
}

/* The scheduler's functions, where off-CPU time is spent. */
static bool scheduler_fn(const char *name)
{
	return !strcmp(name, "__schedule") || !strcmp(name, "schedule") || !strncmp(name, "finish_task_switch", 18) ||
	       !strncmp(name, "schedule_", 9) || !strcmp(name, "__traceiter_sched_switch");
}

static bool system_library(const char *module)
{
	return !strncmp(module, "libc.so", 7) || !strncmp(module, "libc-", 5) || !strncmp(module, "libpthread", 10) ||
	       !strncmp(module, "ld-linux", 8) || !strncmp(module, "ld64.so", 7) || !strncmp(module, "libc.musl", 9) ||
	       !strncmp(module, "ld-musl", 7);
}

/* The C allocators a process links (its malloc): advice to swap or tune the allocator is about these. */
static bool c_allocator_library(const char *module)
{
	return system_library(module) || !strncmp(module, "libjemalloc", 11) || !strncmp(module, "libtcmalloc", 11) ||
	       !strncmp(module, "libmimalloc", 11);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/*
 * Library code rather than the program's own: the kernel, shared objects, and the standard libraries and
 * installed packages of the runtimes. A loose name pattern ('%hash') counts only here, so that a program's own
 * function that happens to be called `hashing` is not taken for a hash library.
 */
static bool library_frame(const struct profile *p, const struct frame *fr)
{
	const char *m = profile_str(p, fr->module);

	if (fr->kind == FRAME_KERNEL)
		return true;
	if (!*m)
		return false;
	return m[0] == '[' || strstr(base_name(m), ".so") || strstr(m, "/lib/python") || strstr(m, "-packages/") ||
	       strstr(m, "node_modules/") || !strncmp(m, "node:", 5) || strstr(m, ".jar") || strstr(m, "/jmods/");
}

static bool interpreted_kind(uint32_t kind)
{
	return kind == FRAME_PYTHON || kind == FRAME_JS || kind == FRAME_JAVA;
}

/*
 * Rules keyed by module: loose patterns only in library code; the C allocator's advice (variant 0 of `alloc`:
 * reuse, or swap the allocator) only for the process's own malloc (libc, jemalloc, tcmalloc, mimalloc, the
 * program itself when linked statically), not for a runtime's arena or interpreted frames (ALLOC_OTHER).
 */
#define ALLOC_OTHER 5

static uint32_t key_by_module(const struct profile *p, const struct frame *fr, const char *name, uint32_t m,
			      uint32_t loose, uint8_t *var, size_t alloc_rule)
{
	const char *mod = profile_str(p, fr->module), *open = strrchr(name, '(');
	size_t nl = strlen(name);

	if (loose && !library_frame(p, fr)) {
		/* the word in the module or source file names the library ("json_loads (json/decoder.py:5)") */
		const char *where[3] = { mod, profile_str(p, fr->file), NULL };
		uint8_t scratch[MAX_RULES];
		uint32_t keep = 0, v;

		if (open && open > name && open[-1] == ' ' && nl && name[nl - 1] == ')')
			where[2] = open + 1;
		for (int i = 0; i < 3; i++)
			if (where[i] && *where[i])
				keep |= rule_match_name(where[i], strlen(where[i]) - (i == 2), scratch, &v, NULL);
		m &= ~(loose & ~keep);
	}
	if (alloc_rule < MAX_RULES && (m & (1u << alloc_rule)) && var[alloc_rule] == 0 &&
	    (interpreted_kind(fr->kind) ||
	     (*mod && strstr(base_name(mod), ".so") && !c_allocator_library(base_name(mod)))))
		var[alloc_rule] = ALLOC_OTHER;
	return m;
}

/*
 * Where a wait is entered from, for the wait rules: the innermost frame above `node` that is the program's own
 * code (not the kernel, not the C library's wrappers); else the innermost non-kernel frame; else the parent.
 */
static uint32_t wait_site(const struct analysis *a, uint32_t node)
{
	const struct profile *p = a->p;
	uint32_t user = UINT32_MAX;

	for (uint32_t n = p->nodes[node].parent; n; n = p->nodes[n].parent) {
		const struct frame *fr = &p->frames[p->nodes[n].frame];
		uint32_t fn = a->frame_fn[p->nodes[n].frame];

		if (fr->kind == FRAME_KERNEL || fr->kind == FRAME_ROOT)
			continue;
		if (user == UINT32_MAX)
			user = fn;
		if (!system_library(analysis_fn_module(a, fn)))
			return fn;
	}
	return user != UINT32_MAX ? user : a->frame_fn[p->nodes[p->nodes[node].parent].frame];
}

/*
 * The functions matched by rule `r` with the cost under their frames that are not vetoed, each function counted
 * at its outermost such frame on a stack (so that a recursive function is not counted twice).
 */
static void vetoed_functions(struct analysis *a, size_t r, const uint32_t *frame_mask, const uint32_t *node_veto,
			     const int64_t *counted, struct share_list *out)
{
	const struct profile *p = a->p;
	int64_t *value = xcalloc(a->fns.nr ? a->fns.nr : 1, sizeof(*value));

	for (size_t n = 1; n < p->nodes_nr; n++) {
		uint32_t fr = p->nodes[n].frame, fn = a->frame_fn[fr];

		if (!(frame_mask[fr] & (1u << r)) || (node_veto[n] & (1u << r)) || !counted[n])
			continue;
		if (!a->node_up[n]) /* the function's outermost frame on the stack */
			value[fn] = sat_add64(value[fn], counted[n]);
	}
	for (size_t fn = 0; fn < a->fns.nr; fn++)
		if (value[fn])
			share_list_add(out, a->fns.v[fn].name, a->fns.v[fn].module, 0, value[fn], 0);
	free(value);
}

/* Rules measured on stack contents (RULE_UNDER, RULE_SELF). */
static void eval_name_rules(struct analysis *a, size_t nrules, int64_t *covered)
{
	const struct profile *p = a->p;
	uint32_t *frame_mask = xcalloc(p->frames_nr ? p->frames_nr : 1, sizeof(*frame_mask));
	struct u64map frame_var = U64MAP_INIT; /* (frame << 8 | rule) -> variant, for the few nonzero variants */
	uint8_t var[MAX_RULES];
	uint32_t *frame_veto = xcalloc(p->frames_nr ? p->frames_nr : 1, sizeof(*frame_veto));
	uint32_t *node_mask = xcalloc(p->nodes_nr, sizeof(*node_mask));
	uint32_t *node_veto = xcalloc(p->nodes_nr, sizeof(*node_veto));
	uint32_t under = 0, any = 0, active = 0, vetoed = 0, cpu_rules = 0, firing = 0;
	uint8_t slot[MAX_RULES] = { 0 };
	size_t nslots = 0, alloc_rule = MAX_RULES;
	int64_t *counted = NULL; /* nslots x nodes */
	struct rule_acc *acc = xcalloc(nrules, sizeof(*acc));
	int64_t *inside = NULL;
	struct buf msg = BUF_INIT;

	for (size_t r = 0; r < nrules; r++) {
		if (rule_catalogue[r].measure == RULE_UNDER)
			under |= 1u << r;
		if (fits(a, &rule_catalogue[r]))
			active |= 1u << r;
		if (rule_catalogue[r].kinds & RK_CPU)
			cpu_rules |= 1u << r;
		if (!strcmp(rule_catalogue[r].id, "alloc"))
			alloc_rule = r;
	}
	/* Frames are matched by their function's display name. */
	for (size_t f = 0; f < p->frames_nr; f++) {
		const char *name = analysis_fn_name(a, a->frame_fn[f]);
		uint32_t loose, m = rule_match_name(name, strlen(name), var, &frame_veto[f], &loose);
		int ins;

		m = key_by_module(p, &p->frames[f], name, m, loose, var, alloc_rule);
		frame_mask[f] = m & active;
		for (; m; m &= m - 1)
			if (var[__builtin_ctz(m)])
				*u64map_insert(&frame_var, (uint64_t)f << 8 | (unsigned)__builtin_ctz(m), &ins) =
					var[__builtin_ctz(m)];
		/* Wall-clock profiles: the CPU rules measure on-CPU time only, not time blocked in the scheduler. */
		if (a->kind == RK_WALL && scheduler_fn(name))
			frame_veto[f] |= cpu_rules;
		frame_mask[f] &= ~frame_veto[f];
		frame_veto[f] &= active;
		any |= frame_mask[f];
		vetoed |= frame_veto[f];
	}
	if (!any)
		goto out;
	/* A vetoed frame takes itself and its callees out of the rule (their cost is another cause's). */
	for (size_t n = 1; n < p->nodes_nr; n++) {
		uint32_t fr = p->nodes[n].frame, par = p->nodes[n].parent;

		node_veto[n] = node_veto[par] | frame_veto[fr];
		node_mask[n] = ((node_mask[par] & under) | frame_mask[fr]) & ~node_veto[n];
	}
	/* The share of each rule first: only the rules that fire need callers and variants. */
	for (size_t n = 1; n < p->nodes_nr; n++) {
		uint32_t fm = frame_mask[p->nodes[n].frame] & ~node_veto[n];

		for (uint32_t m = node_mask[n]; m; m &= m - 1) {
			size_t r = (size_t)__builtin_ctz(m);

			if ((under & (1u << r)) || (fm & (1u << r)))
				acc[r].value = sat_add64(acc[r].value, a->node_self[n]);
		}
	}
	for (size_t r = 0; r < nrules; r++)
		if (acc[r].value && rule_pct(a, acc[r].value) >= rule_catalogue[r].min_pct)
			firing |= 1u << r;
	vetoed &= firing;
	/* The cost that counts under each node, for the firing rules with vetoes (else node_total). */
	for (size_t r = 0; r < nrules; r++)
		if (vetoed & (1u << r))
			slot[r] = nslots++;
	if (nslots) {
		counted = xcalloc(p->nodes_nr * nslots, sizeof(*counted));
		for (size_t n = p->nodes_nr; n-- > 1;) {
			uint32_t par = p->nodes[n].parent;

			for (uint32_t m = vetoed; m; m &= m - 1) {
				size_t r = (size_t)__builtin_ctz(m);
				int64_t *c = counted + (size_t)slot[r] * p->nodes_nr;

				if (node_mask[n] & (1u << r))
					c[n] = sat_add64(c[n], a->node_self[n]);
				c[par] = sat_add64(c[par], c[n]);
			}
		}
	}
	for (size_t n = 1; n < p->nodes_nr; n++) {
		uint32_t fr = p->nodes[n].frame, par = p->nodes[n].parent;
		uint32_t fm = frame_mask[fr] & ~node_veto[n], entries = fm & ~(node_mask[par] & under);

		for (uint32_t m = node_mask[n] & firing; m; m &= m - 1) {
			size_t r = (size_t)__builtin_ctz(m);
			bool self_rule = !(under & (1u << r));
			int64_t v;

			if (self_rule && !(fm & (1u << r)))
				continue;
			if (!(entries & (1u << r)) && !self_rule)
				continue;
			/* An entry into matched code (or a matched frame for self rules): attribute it. */
			v = self_rule ? a->node_self[n] :
			    (vetoed & (1u << r)) ? counted[(size_t)slot[r] * p->nodes_nr + n] : a->node_total[n];
			{
				const uint64_t *vs = u64map_find(&frame_var, (uint64_t)fr << 8 | r);
				size_t vi = vs ? *vs % MAX_VARIANTS : 0;

				acc[r].variant_value[vi] = sat_add64(acc[r].variant_value[vi], v);
			}
			if (!par || !v)
				continue;
			if (rule_catalogue[r].kinds & RK_CPU)
				rule_acc_caller(a, &acc[r], a->frame_fn[p->nodes[par].frame], v);
			else
				rule_acc_caller(a, &acc[r], wait_site(a, (uint32_t)n), v);
		}
	}

	inside = xcalloc(a->fns.nr ? a->fns.nr : 1, sizeof(*inside));
	for (size_t r = 0; r < nrules; r++) {
		const struct rule *rule = &rule_catalogue[r];
		struct recommendation *rec;
		struct u64map seen = U64MAP_INIT;
		double share = rule_pct(a, acc[r].value);
		size_t best = 0;

		if (rule->measure != RULE_UNDER && rule->measure != RULE_SELF)
			continue;
		if (!acc[r].value || share < rule->min_pct)
			continue;
		rec = rule_add_rec(a, rule, share);
		rec->evidence.value = acc[r].value;
		if (vetoed & (1u << r)) {
			/* Part of the matched functions' cost is vetoed: count only their frames that count. */
			vetoed_functions(a, r, frame_mask, node_veto, counted + (size_t)slot[r] * p->nodes_nr,
					 &rec->evidence.functions);
		} else {
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
		}
		u64map_release(&seen);
		rule_finish_list(a, &rec->evidence.functions, 5);
		rec->evidence.callers = acc[r].callers;
		memset(&acc[r].callers, 0, sizeof(acc[r].callers));
		rule_finish_list(a, &rec->evidence.callers, 5);
		/* The code that runs inside the matched frames, and what the hotspot rule may consider explained. */
		for (size_t n = 1; n < p->nodes_nr; n++) {
			uint32_t fr = p->nodes[n].frame;

			if (!a->node_self[n] || !((rule->measure == RULE_SELF ? frame_mask[fr] : node_mask[n]) & (1u << r)))
				continue;
			inside[a->frame_fn[fr]] = sat_add64(inside[a->frame_fn[fr]], a->node_self[n]);
		}
		for (size_t fn = 0; fn < a->fns.nr; fn++) {
			if (!inside[fn])
				continue;
			share_list_add(&rec->evidence.inside, a->fns.v[fn].name, a->fns.v[fn].module, 0, inside[fn], 0);
			if (inside[fn] > covered[fn])
				covered[fn] = inside[fn];
			inside[fn] = 0;
		}
		rule_finish_list(a, &rec->evidence.inside, 5);
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
			rule_list_names(&msg, a, &rec->evidence.functions, 3);
		}
		if (rec->evidence.callers.nr) {
			buf_adds(&msg, rule->measure == RULE_SELF ? "; called from " : "; entered mostly from ");
			rule_list_names(&msg, a, &rec->evidence.callers, 3);
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
	free(frame_veto);
	u64map_release(&frame_var);
	free(node_mask);
	free(node_veto);
	free(counted);
	buf_release(&msg);
}

static bool rule_matches(const struct rule *r, const char *name)
{
	size_t len = rule_normalized_len(name, strlen(name));

	for (const struct rule_pattern *pt = r->patterns; pt->pat; pt++)
		if (pt->variant != RULE_VETO && rule_pattern_match(pt->pat, name, len))
			return true;
	return false;
}

/* Whether rule `r` (RULE_CALLS) takes the calls of system call `name`. */
static bool calls_rule_takes(const struct rule *r, const char *name)
{
	if (r->patterns[0].pat)
		return rule_matches(r, name);
	for (size_t i = 0; rule_catalogue[i].id; i++)
		if (rule_catalogue[i].measure == RULE_CALLS && rule_catalogue[i].patterns[0].pat &&
		    rule_matches(&rule_catalogue[i], name))
			return false;
	return true;
}

/* "writer <- main <- __libc_start_call_main": the frames above a leaf whose function is not the leaf's. */
static void stack_text(struct buf *b, const struct analysis *a, uint32_t leaf, size_t max)
{
	const struct profile *p = a->p;
	uint32_t lfn = a->frame_fn[p->nodes[leaf].frame];
	size_t k = 0;

	for (uint32_t n = p->nodes[leaf].parent; n && k < max; n = p->nodes[n].parent) {
		uint32_t fn = a->frame_fn[p->nodes[n].frame];

		if (a->fns.v[fn].name == a->fns.v[lfn].name)
			continue;
		buf_addf(b, "%s%s", k++ ? " <- " : "", analysis_fn_name(a, fn));
	}
	if (!k)
		buf_adds(b, "(no user stack)");
}

/*
 * System-call profiles: stacks (call sites) that make at least RULE_MANY_CALLS calls of at most RULE_FAST_NS
 * mean latency each, of the system calls the rule takes.
 */
static void eval_calls(struct analysis *a, const struct rule *rule)
{
	const struct profile *p = a->p;
	int ccol = profile_find_column(p, "syscalls"), lcol = profile_find_column(p, "latency");
	size_t nc = p->ncolumns, nstacks = 0;
	int64_t *calls, *lat, *val, value = 0, best_calls = 0;
	uint32_t best = 0;
	struct rule_acc fnacc = { 0 }, siteacc = { 0 };
	struct recommendation *rec;
	struct buf msg = BUF_INIT, stack = BUF_INIT;
	char t1[32], t2[32], c1[32];
	double share;

	if (ccol < 0 || lcol < 0 || !p->nodes_nr)
		return;
	calls = xcalloc(p->nodes_nr, sizeof(*calls));
	lat = xcalloc(p->nodes_nr, sizeof(*lat));
	val = xcalloc(p->nodes_nr, sizeof(*val));
	for (size_t r = 0; r < p->rows_nr; r++) {
		uint32_t node = p->rows[r].node;

		if (a->row_idle && a->row_idle[r])
			continue;
		calls[node] = sat_add64(calls[node], p->values[r * nc + (size_t)ccol]);
		lat[node] = sat_add64(lat[node], p->values[r * nc + (size_t)lcol]);
		val[node] = sat_add64(val[node], p->values[r * nc + (size_t)a->column]);
	}
	for (uint32_t n = 1; n < p->nodes_nr; n++) {
		uint32_t fn = a->frame_fn[p->nodes[n].frame], par = p->nodes[n].parent;

		if (calls[n] < RULE_MANY_CALLS || lat[n] / calls[n] > (int64_t)RULE_FAST_NS || val[n] <= 0 ||
		    !calls_rule_takes(rule, analysis_fn_name(a, fn)))
			continue;
		nstacks++;
		value = sat_add64(value, val[n]);
		rule_acc_caller(a, &fnacc, fn, val[n]);
		while (par && a->fns.v[a->frame_fn[p->nodes[par].frame]].name == a->fns.v[fn].name)
			par = p->nodes[par].parent;
		if (par)
			rule_acc_caller(a, &siteacc, a->frame_fn[p->nodes[par].frame], val[n]);
		if (!best || val[n] > val[best]) {
			best = n;
			best_calls = calls[n];
		}
	}
	share = rule_pct(a, value);
	if (!value || share < rule->min_pct)
		goto out;
	rec = rule_add_rec(a, rule, share);
	rec->evidence.value = value;
	rec->evidence.functions = fnacc.callers;
	memset(&fnacc.callers, 0, sizeof(fnacc.callers));
	rule_finish_list(a, &rec->evidence.functions, 5);
	rec->evidence.callers = siteacc.callers;
	memset(&siteacc.callers, 0, sizeof(siteacc.callers));
	rule_finish_list(a, &rec->evidence.callers, 5);
	stack_text(&stack, a, best, 4);
	fmt_ns(t1, (double)lat[best] / (double)best_calls);
	fmt_ns(t2, (double)lat[best]);
	buf_addf(&msg, "%s: %s calls from one stack (%s), %s each on average, %s in all",
		 analysis_fn_name(a, a->frame_fn[p->nodes[best].frame]), fmt_count(c1, (uint64_t)best_calls),
		 stack.buf, t1, t2);
	rec->evidence.detail = buf_detach(&msg, NULL);
	buf_addf(&msg, "%.1f%% of the profile is in %s (%zu stack%s with %d or more calls of under %s each): %s",
		 share, rule->what, nstacks, nstacks == 1 ? "" : "s", RULE_MANY_CALLS,
		 fmt_ns(t1, (double)RULE_FAST_NS), rec->evidence.detail);
	if (nstacks > 1) {
		buf_adds(&msg, "; the system calls: ");
		rule_list_names(&msg, a, &rec->evidence.functions, 3);
	}
	buf_addf(&msg, ". %s", rule->advice[0]);
	rec->message = buf_detach(&msg, NULL);
out:
	share_list_release(&fnacc.callers);
	share_list_release(&siteacc.callers);
	u64map_release(&fnacc.caller_idx);
	u64map_release(&siteacc.caller_idx);
	buf_release(&msg);
	buf_release(&stack);
	free(calls);
	free(lat);
	free(val);
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
	int64_t *own = NULL;

	/* The rule is about a function's own code: where a wait's self time went to its wait site (a->row_site),
	 * the leaves' own self time says what ran. */
	if (a->row_site) {
		own = xcalloc(a->fns.nr ? a->fns.nr : 1, sizeof(*own));
		for (size_t n = 1; n < p->nodes_nr; n++)
			own[a->frame_fn[p->nodes[n].frame]] = sat_add64(own[a->frame_fn[p->nodes[n].frame]], a->node_self[n]);
	}
	for (size_t i = 0; i < a->fns.nr && (own || a->fns.v[i].self_pct >= rule->min_pct); i++) {
		const struct hotspot *h = &a->fns.v[i];
		int64_t self = own ? own[i] : h->self;
		double self_pct = own ? rule_pct(a, self) : h->self_pct;
		struct recommendation *rec;
		struct rule_acc acc = { 0 };

		/* Explained: named by another rule, or with most of its self time inside another rule's code. */
		if (!self || self_pct < rule->min_pct || explained(a, nbefore, h->name, h->module) ||
		    covered[i] >= self - covered[i])
			continue;
		/* Off-CPU time ends in the scheduler: that is where threads wait, not code to speed up. */
		if ((a->kind & RK_WAIT) && scheduler_fn(analysis_fn_name(a, i)))
			continue;
		rec = rule_add_rec(a, rule, self_pct);
		rec->evidence.value = self;
		share_list_add(&rec->evidence.functions, h->name, h->module, h->line, self, self_pct);
		for (size_t n = 1; n < p->nodes_nr; n++)
			if (a->frame_fn[p->nodes[n].frame] == i && a->node_self[n] && p->nodes[n].parent)
				rule_acc_caller(a, &acc, a->frame_fn[p->nodes[p->nodes[n].parent].frame], a->node_self[n]);
		rec->evidence.callers = acc.callers;
		rule_finish_list(a, &rec->evidence.callers, 5);
		u64map_release(&acc.caller_idx);

		buf_addf(&msg, "%s", profile_str(p, h->name));
		if (h->file && !h->placed) /* a placed name says its file:line */
			buf_addf(&msg, " (%s:%u)", profile_str(p, h->file), h->line);
		buf_addf(&msg, " alone takes %.1f%% of the profile in its own code", self_pct);
		if (rec->evidence.callers.nr) {
			buf_adds(&msg, ", called from ");
			rule_list_names(&msg, a, &rec->evidence.callers, 3);
		}
		buf_addf(&msg, ". %s", rule->advice[0]);
		rec->message = buf_detach(&msg, NULL);
	}
	free(own);
	buf_release(&msg);
}

static int rec_cmp(const void *x, const void *y)
{
	const struct recommendation *a = x, *b = y;
	int ga = !strcmp(a->rule, "tiny-functions"), gb = !strcmp(b->rule, "tiny-functions");

	/* The most severe first; within a severity, the general observation after the specific findings. */
	if (a->severity != b->severity)
		return a->severity > b->severity ? -1 : 1;
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
		if (!fits(a, &rule_catalogue[r]))
			continue;
		switch (rule_catalogue[r].measure) {
		case RULE_CALLS:
			eval_calls(a, &rule_catalogue[r]);
			break;
		case RULE_RECURSION:
			rules_eval_recursion(a, &rule_catalogue[r]);
			break;
		case RULE_TINY:
			rules_eval_tiny(a, &rule_catalogue[r]);
			break;
		default:
			break;
		}
	}
	for (size_t r = 0; r < nrules; r++)
		if (rule_catalogue[r].measure == RULE_HOTSPOT && fits(a, &rule_catalogue[r]))
			eval_hotspots(a, &rule_catalogue[r], covered);
	free(covered);
	if (a->recs_nr > 1)
		qsort(a->recs, a->recs_nr, sizeof(*a->recs), rec_cmp);
}
