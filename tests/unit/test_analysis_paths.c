/*
 * Unit tests for the analysis through recursion, deep stacks, huge counts and idle CPUs: inclusive totals and
 * caller/callee pairs against a brute force over explicit stacks (pprof's cum: once per sample per function),
 * the hot path with recursion folded and its stopping rule, the recursion rule's share, the idle definition,
 * saturating totals, and the linear stack walks on a 100,000-frame stack.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analysis.h"
#include "analyze/idle.h"
#include "analyze/report.h"
#include "analyze/stackwalk.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "profile/profile.h"

/* Adds `count` samples of the stack "a;b;c" (root first) with label set `ls`. */
static void add_ls(struct profile *p, const char *stack, int64_t count, uint32_t ls)
{
	char *tmp = strdup(stack), *save = NULL;
	uint32_t node = 0;

	for (char *tok = strtok_r(tmp, ";", &save); tok; tok = strtok_r(NULL, ";", &save))
		node = profile_node(p, node, profile_frame_named(p, tok, strlen(tok), FRAME_NATIVE));
	profile_add_sample1(p, node, ls, count);
	free(tmp);
}

static void add(struct profile *p, const char *stack, int64_t count)
{
	add_ls(p, stack, count, 0);
}

static struct profile *new_profile(void)
{
	struct profile *p = profile_new(0);

	profile_add_column(p, "samples", "count");
	return p;
}

static void run(struct profile *p, struct analysis *a, bool detailed)
{
	struct analyze_opts o = ANALYZE_OPTS_INIT;
	struct err e = ERR_INIT;

	o.detailed = detailed;
	assert_int_equal(analysis_run(p, &o, a, &e), 0);
}

static size_t fn_index(const struct analysis *a, const char *name)
{
	for (size_t i = 0; i < a->fns.nr; i++)
		if (!strcmp(analysis_fn_name(a, i), name))
			return i;
	fail_msg("no function '%s'", name);
	return 0;
}

static const struct recommendation *find_rec(const struct analysis *a, const char *rule)
{
	for (size_t i = 0; i < a->recs_nr; i++)
		if (!strcmp(a->recs[i].rule, rule))
			return &a->recs[i];
	return NULL;
}

/* ---- ground truth over explicit stacks ---- */

#define NFN 5
#define MAXD 12

struct stacks {
	int fn[400][MAXD];
	int depth[400];
	int64_t count[400];
	size_t nr;
};

static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (unsigned)(rnd_state % n);
}

static const char *const names[NFN] = { "a", "b", "c", "d", "e" };

/* Random stacks over 5 functions, so that direct and mutual recursion are frequent. */
static struct profile *random_profile(struct stacks *s)
{
	struct profile *p = new_profile();
	struct buf b = BUF_INIT;

	s->nr = 60 + rnd(200);
	for (size_t i = 0; i < s->nr; i++) {
		s->depth[i] = 1 + (int)rnd(MAXD);
		s->count[i] = 1 + rnd(50);
		buf_reset(&b);
		for (int k = 0; k < s->depth[i]; k++) {
			s->fn[i][k] = (int)rnd(NFN);
			buf_addf(&b, "%s%s", k ? ";" : "", names[s->fn[i][k]]);
		}
		add(p, b.buf, s->count[i]);
	}
	buf_release(&b);
	return p;
}

static void test_cum_and_pairs_brute_force(void **state)
{
	(void)state;
	for (int round = 0; round < 30; round++) {
		struct stacks s;
		struct profile *p = random_profile(&s);
		struct analysis a;
		struct analyze_opts o = ANALYZE_OPTS_INIT;
		struct err e = ERR_INIT;
		int64_t cum[NFN] = { 0 }, self[NFN] = { 0 }, pair[NFN + 1][NFN] = { { 0 } };

		for (size_t i = 0; i < s.nr; i++) {
			bool seen[NFN] = { false }, seen_pair[NFN + 1][NFN] = { { false } };

			self[s.fn[i][s.depth[i] - 1]] += s.count[i];
			for (int k = 0; k < s.depth[i]; k++) {
				int f = s.fn[i][k], g = k ? s.fn[i][k - 1] : NFN;

				if (!seen[f])
					cum[f] += s.count[i];
				seen[f] = true;
				if (!seen_pair[g][f])
					pair[g][f] += s.count[i];
				seen_pair[g][f] = true;
			}
		}
		o.detailed = true;
		o.threshold = 0;
		o.top = 100;
		assert_int_equal(analysis_run(p, &o, &a, &e), 0);
		for (int f = 0; f < NFN; f++) {
			size_t i;
			const struct hotspot_detail *d = NULL;

			if (!cum[f])
				continue;
			i = fn_index(&a, names[f]);
			assert_int_equal(a.fns.v[i].total, cum[f]);
			assert_int_equal(a.fns.v[i].self, self[f]);
			for (size_t k = 0; k < a.nhot; k++)
				if (a.details[k].fn == i)
					d = &a.details[k];
			if (!d)
				continue;
			/* Every listed caller and callee carries the brute force's count for its pair. */
			for (size_t k = 0; k < d->callers.nr; k++) {
				const char *c = profile_str(p, d->callers.v[k].name);
				int g = !strcmp(c, "(root)") ? NFN : c[0] - 'a';

				assert_int_equal(d->callers.v[k].value, pair[g][f]);
			}
			for (size_t k = 0; k < d->callees.nr; k++)
				assert_int_equal(d->callees.v[k].value, pair[f][profile_str(p, d->callees.v[k].name)[0] - 'a']);
		}
		analysis_release(&a);
		profile_free(p);
	}
}

/* Loop erasure of each stack, then the heaviest-child walk by hand: the hot path's totals must agree. */
static void test_hot_path_brute_force(void **state)
{
	(void)state;
	for (int round = 0; round < 30; round++) {
		struct stacks s;
		struct profile *p = random_profile(&s);
		struct analysis a;
		int le[400][MAXD], len[400];
		int path[NFN], plen = 0;

		for (size_t i = 0; i < s.nr; i++) {
			len[i] = 0;
			for (int k = 0; k < s.depth[i]; k++) {
				int f = s.fn[i][k], j;

				for (j = 0; j < len[i] && le[i][j] != f; j++)
					;
				if (j < len[i])
					len[i] = j + 1; /* erase the loop back to f's earlier place */
				else
					le[i][len[i]++] = f;
			}
		}
		run(p, &a, false);
		for (;;) {
			int64_t tot[NFN] = { 0 }, self = 0;
			int best = -1;

			for (size_t i = 0; i < s.nr; i++) {
				if (len[i] < plen || memcmp(le[i], path, (size_t)plen * sizeof(int)))
					continue;
				if (len[i] == plen)
					self += s.count[i];
				else
					tot[le[i][plen]] += s.count[i];
			}
			for (int f = 0; f < NFN; f++)
				if (tot[f] && (best < 0 || tot[f] > tot[best]))
					best = f;
			/* Among equal totals the analysis may pick another: follow it if it is one of them. */
			if (best >= 0 && (size_t)plen < a.hot_path_nr) {
				int chose = analysis_fn_name(&a, a.hot_path[plen].fn)[0] - 'a';

				if (tot[chose] == tot[best])
					best = chose;
			}
			if (best < 0 || (plen && tot[best] <= self)) {
				assert_int_equal(a.hot_path_nr, plen);
				break;
			}
			assert_true((size_t)plen < a.hot_path_nr);
			assert_int_equal(a.hot_path[plen].total, tot[best]);
			path[plen++] = best;
		}
		analysis_release(&a);
		profile_free(p);
	}
}

/* A recursive program whose leaf hotspot has about 61 % self time, at every recursion depth from 1 to 40. */
static struct profile *fib_profile(void)
{
	struct profile *p = new_profile();
	struct buf s = BUF_INIT;

	for (int d = 1; d <= 40; d++) {
		buf_reset(&s);
		buf_adds(&s, "prog;main");
		for (int k = 0; k < d; k++)
			buf_adds(&s, ";fib");
		add(p, s.buf, 5);
		buf_adds(&s, ";hot");
		add(p, s.buf, 8);
	}
	add(p, "prog;main;fib;hot;irq;tick", 1);
	buf_release(&s);
	return p;
}

static void test_hot_path_through_recursion(void **state)
{
	struct profile *p = fib_profile();
	struct analysis a;
	const struct recommendation *r;
	struct buf out = BUF_INIT;

	(void)state;
	run(p, &a, true);
	assert_int_equal(a.grand_total, 521);
	/* prog, main, fib (once, depth 40), hot: and not into irq (1 sample under hot's 320 of self). */
	assert_int_equal(a.hot_path_nr, 4);
	assert_string_equal(analysis_fn_name(&a, a.hot_path[2].fn), "fib");
	assert_int_equal(a.hot_path[2].depth, 40);
	assert_int_equal(a.hot_path[2].total, 521);
	assert_int_equal(a.hot_path[2].self, 200);
	assert_string_equal(analysis_fn_name(&a, a.hot_path[3].fn), "hot");
	assert_int_equal(a.hot_path[3].depth, 1);
	assert_int_equal(a.hot_path[3].total, 321);
	assert_int_equal(a.hot_path[3].self, 320);
	/* The hot path ends at the hotspot with its whole share, as the hotspot table has it. */
	assert_true(fabs(a.hot_path[3].total_pct - a.fns.v[fn_index(&a, "hot")].total_pct) < 1e-9);
	/* The recursion rule: fib's inclusive share, the same as its hot path step; hot inside with its share. */
	r = find_rec(&a, "recursion");
	assert_non_null(r);
	assert_int_equal(r->evidence.value, a.hot_path[2].total);
	assert_string_equal(profile_str(p, r->evidence.inside.v[0].name), "hot");
	assert_int_equal(r->evidence.inside.v[0].value, a.hot_path[3].self);
	assert_non_null(strstr(r->message, "fib (100.0%, depth up to 40)"));
	/* --detailed: fib calls hot in all of hot's samples, counted once each. */
	for (size_t i = 0; i < a.nhot; i++)
		if (!strcmp(analysis_fn_name(&a, a.details[i].fn), "fib")) {
			const struct share_list *c = &a.details[i].callees;

			for (size_t k = 0; k < c->nr; k++)
				if (!strcmp(profile_str(p, c->v[k].name), "hot"))
					assert_int_equal(c->v[k].value, 321);
		}
	analysis_format_text(&a, &out, false, false);
	assert_non_null(strstr(out.buf, "fib (recursive, depth up to 40)  (self 38.39%)\n"));
	assert_non_null(strstr(out.buf, " 61.61%     hot  (self 61.42%)\n\n"));
	buf_release(&out);
	analysis_release(&a);
	profile_free(p);
}

static void test_mutual_recursion_and_stop(void **state)
{
	struct profile *p = new_profile();
	struct analysis a;

	(void)state;
	add(p, "main;eval;apply;eval;apply;eval;apply;prim", 70);
	add(p, "main;eval;apply;prim", 10);
	add(p, "main;eval;apply;eval", 20);
	run(p, &a, false);
	/* eval;apply;prim once, the loops erased: eval and apply each recursed 3 deep. */
	assert_int_equal(a.hot_path_nr, 4);
	assert_string_equal(analysis_fn_name(&a, a.hot_path[1].fn), "eval");
	assert_int_equal(a.hot_path[1].depth, 3);
	assert_int_equal(a.hot_path[1].total, 100);
	assert_int_equal(a.hot_path[1].self, 20);
	assert_string_equal(analysis_fn_name(&a, a.hot_path[2].fn), "apply");
	assert_int_equal(a.hot_path[2].depth, 3);
	assert_string_equal(analysis_fn_name(&a, a.hot_path[3].fn), "prim");
	assert_int_equal(a.hot_path[3].total, 80);
	analysis_release(&a);
	profile_free(p);

	/* The stopping rule: continue while the heaviest callee outweighs the function's own self cost. */
	p = new_profile();
	add(p, "main;work", 50);
	add(p, "main;work;irq;tick", 50); /* equal to work's self: the path ends at work */
	run(p, &a, false);
	assert_int_equal(a.hot_path_nr, 2);
	analysis_release(&a);
	add(p, "main;work;irq;tick", 1); /* one more: the callee now weighs more than work's own code */
	run(p, &a, false);
	assert_int_equal(a.hot_path_nr, 4);
	assert_string_equal(analysis_fn_name(&a, a.hot_path[3].fn), "tick");
	analysis_release(&a);
	profile_free(p);
}

static void test_same_key_ancestor(void **state)
{
	(void)state;
	for (int round = 0; round < 20; round++) {
		struct stacks s;
		struct profile *p = random_profile(&s);
		uint32_t *order = stack_preorder(p), *key = malloc(p->nodes_nr * sizeof(*key));
		uint32_t *up = malloc(p->nodes_nr * sizeof(*up));
		bool *seen = calloc(p->nodes_nr, 1);

		/* A preorder: each node once, every parent before its children. */
		assert_int_equal(order[0], 0);
		for (size_t i = 0; i < p->nodes_nr; i++) {
			assert_false(seen[order[i]]);
			seen[order[i]] = true;
			assert_true(!order[i] || seen[p->nodes[order[i]].parent]);
		}
		key[0] = STACK_NO_KEY;
		for (size_t n = 1; n < p->nodes_nr; n++)
			key[n] = n % 7 == 3 ? STACK_NO_KEY
					    : (uint32_t)(profile_str(p, p->frames[p->nodes[n].frame].function)[0] - 'a');
		stack_same_key_ancestor(p, order, key, NFN, up);
		for (size_t n = 1; n < p->nodes_nr; n++) {
			uint32_t want = 0;

			if (key[n] != STACK_NO_KEY)
				for (uint32_t x = p->nodes[n].parent; x && !want; x = p->nodes[x].parent)
					if (key[x] == key[n])
						want = x;
			assert_int_equal(up[n], want);
		}
		free(order);
		free(key);
		free(up);
		free(seen);
		profile_free(p);
	}
}

/* One stack of 100,000 frames cycling through 50 functions, and one of 100,000 distinct functions. */
static void test_deep_stack(void **state)
{
	struct profile *p = new_profile();
	struct analysis a;
	uint32_t node = 0;
	char name[32];

	(void)state;
	for (int i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "f%d", i % 50);
		node = profile_node(p, node, profile_frame_named(p, name, strlen(name), FRAME_NATIVE));
	}
	profile_add_sample1(p, node, 0, 10);
	node = 0;
	for (int i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "g%d", i);
		node = profile_node(p, node, profile_frame_named(p, name, strlen(name), FRAME_NATIVE));
	}
	profile_add_sample1(p, node, 0, 5);
	run(p, &a, true);
	assert_int_equal(a.max_depth, 100000);
	assert_int_equal(a.fns.v[fn_index(&a, "f0")].total, 10);
	assert_int_equal(a.fns.v[fn_index(&a, "g99999")].total, 5);
	/* The cycle folds: f0..f49 once each, f0 2,000 frames deep. */
	assert_int_equal(a.hot_path_nr, 50);
	assert_int_equal(a.hot_path[0].depth, 2000);
	assert_int_equal(a.hot_path[49].total, 10);
	assert_non_null(find_rec(&a, "recursion"));
	analysis_release(&a);
	profile_free(p);
}

static void test_idle(void **state)
{
	struct profile *p = new_profile();
	struct analysis a;
	struct label l[2] = { { 0 } };
	struct buf out = BUF_INIT, js = BUF_INIT;
	struct jw j;
	uint32_t pid0;

	(void)state;
	assert_true(idle_function("do_idle", 7));
	assert_true(idle_function("intel_idle_irq", 14));
	assert_true(idle_function("acpi_idle_do_entry_[k]", 22));
	assert_false(idle_function("idle_worker", 11));
	assert_false(idle_function("do_idle_work", 12));
	add(p, "swapper;secondary_startup_64;start_secondary;cpu_startup_entry;do_idle;cpuidle_enter;"
	       "cpuidle_enter_state;intel_idle", 600);
	add(p, "swapper;start_kernel;rest_init;cpu_startup_entry;do_idle;default_idle_call;default_idle;"
	       "pv_native_safe_halt;asm_sysvec_apic_timer_interrupt;tick", 100);
	add(p, "swapper/1;poll_idle", 50);
	l[0].key = profile_intern_str(p, "pid");
	l[0].num = 0;
	pid0 = profile_labelset(p, l, 1);
	add_ls(p, "[unknown];something", 50, pid0); /* the idle task, whatever its stack */
	add(p, "app;main;compute", 150);
	add(p, "app;main;parse", 50);
	run(p, &a, false);
	assert_int_equal(a.idle_total, 800);
	assert_true(fabs(a.idle_pct - 80) < 1e-9);
	assert_int_equal(a.grand_total, 200);
	assert_string_equal(analysis_fn_name(&a, 0), "compute");
	assert_true(fabs(a.fns.v[0].self_pct - 75) < 1e-9);
	assert_int_equal(a.fns.v[fn_index(&a, "intel_idle")].self, 0);
	assert_string_equal(analysis_fn_name(&a, a.hot_path[0].fn), "app");
	for (size_t i = 0; i < a.recs_nr; i++)
		for (size_t k = 0; k < a.recs[i].evidence.functions.nr; k++)
			assert_false(idle_function(profile_str(p, a.recs[i].evidence.functions.v[k].name),
						   strlen(profile_str(p, a.recs[i].evidence.functions.v[k].name))));
	analysis_format_text(&a, &out, false, false);
	assert_non_null(strstr(out.buf, "\nidle: 80.00% of CPU samples (800, left out of hotspots"));
	jw_init(&j, &js, false);
	jw_object_begin(&j);
	analysis_format_json(&a, &j);
	jw_object_end(&j);
	assert_non_null(strstr(js.buf, "\"idle\":{\"value\":800,\"pct\":80}"));
	buf_release(&out);
	buf_release(&js);
	analysis_release(&a);
	profile_free(p);
}

static void test_saturating_totals(void **state)
{
	struct profile *p = new_profile();
	struct analysis a;
	struct buf out = BUF_INIT, js = BUF_INIT;
	struct jw j;

	(void)state;
	add(p, "main;a", 4000000000000000000LL);
	add(p, "main;b", 4000000000000000000LL);
	add(p, "main;b;c", 4000000000000000000LL);
	add(p, "main;b;c", 4000000000000000000LL); /* this row saturates on its own */
	add(p, "main;neg", -5);                     /* negative values count 0 */
	assert_true(profile_sums_saturate(p, 0));
	run(p, &a, true);
	assert_true(a.saturated);
	assert_int_equal(a.grand_total, INT64_MAX);
	for (size_t i = 0; i < a.fns.nr; i++) {
		assert_true(a.fns.v[i].self >= 0 && a.fns.v[i].total >= 0);
		assert_true(a.fns.v[i].self_pct <= 100 && a.fns.v[i].total_pct <= 100);
	}
	for (size_t i = 0; i < a.hot_path_nr; i++)
		assert_true(a.hot_path[i].total_pct <= 100 && a.hot_path[i].total >= 0);
	analysis_format_text(&a, &out, false, false);
	/* no negative count or share anywhere */
	for (const char *m = out.buf; (m = strchr(m, '-')); m++)
		assert_false(m > out.buf && (m[-1] == ' ' || m[-1] == '(') && m[1] >= '0' && m[1] <= '9');
	assert_null(strstr(out.buf, "saturated")); /* the command warns on stderr, never in the report */
	jw_init(&j, &js, false);
	jw_object_begin(&j);
	analysis_format_json(&a, &j);
	jw_object_end(&j);
	assert_non_null(strstr(js.buf, "\"total\":9223372036854775807"));
	assert_non_null(strstr(js.buf, "\"saturated\":true"));
	buf_release(&out);
	buf_release(&js);
	analysis_release(&a);
	profile_free(p);

	p = new_profile();
	add(p, "main;a", 3);
	assert_false(profile_sums_saturate(p, 0));
	assert_false(profile_sums_saturate(p, 5));
	profile_free(p);
	assert_int_equal(sat_add64(INT64_MAX, 1), INT64_MAX);
	assert_int_equal(sat_add64(INT64_MIN, -1), INT64_MIN);
	assert_int_equal(sat_add64(40, 2), 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cum_and_pairs_brute_force),
		cmocka_unit_test(test_hot_path_brute_force),
		cmocka_unit_test(test_hot_path_through_recursion),
		cmocka_unit_test(test_mutual_recursion_and_stop),
		cmocka_unit_test(test_same_key_ancestor),
		cmocka_unit_test(test_deep_stack),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_saturating_totals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
