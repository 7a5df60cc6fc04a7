/* Unit tests for kiln analyze: severities, hotspots, hot path, details, the rule catalogue, runs statistics. */
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
#include "analyze/report.h"
#include "analyze/rules.h"
#include "analyze/runs.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "profile/profile.h"

/* Adds `count` samples of the stack "a;b;c" (root first). */
static void add(struct profile *p, const char *stack, int64_t count)
{
	char tmp[4096];
	uint32_t node = 0;
	char *save = NULL;

	snprintf(tmp, sizeof(tmp), "%s", stack);
	for (char *tok = strtok_r(tmp, ";", &save); tok; tok = strtok_r(NULL, ";", &save))
		node = profile_node(p, node, profile_frame_named(p, tok, strlen(tok), FRAME_NATIVE));
	profile_add_sample1(p, node, 0, count);
}

static struct profile *new_profile(void)
{
	struct profile *p = profile_new(0);

	profile_add_column(p, "samples", "count");
	return p;
}

static const struct recommendation *find_rec(const struct analysis *a, const char *rule)
{
	for (size_t i = 0; i < a->recs_nr; i++)
		if (!strcmp(a->recs[i].rule, rule))
			return &a->recs[i];
	return NULL;
}

static void run(struct profile *p, struct analysis *a, bool detailed)
{
	struct analyze_opts o = ANALYZE_OPTS_INIT;
	struct err e = ERR_INIT;

	o.detailed = detailed;
	assert_int_equal(analysis_run(p, &o, a, &e), 0);
}

static void test_severity(void **state)
{
	(void)state;
	assert_int_equal(severity_of(20.0, 5), SEV_CRITICAL);
	assert_int_equal(severity_of(19.99, 5), SEV_HIGH);
	assert_int_equal(severity_of(10.0, 5), SEV_HIGH);
	assert_int_equal(severity_of(9.9, 5), SEV_MEDIUM);
	assert_int_equal(severity_of(5.0, 5), SEV_MEDIUM);
	assert_int_equal(severity_of(4.99, 5), SEV_NONE);
	assert_int_equal(severity_of(0, 0), SEV_NONE);
	assert_string_equal(severity_name(SEV_CRITICAL), "critical");
	assert_string_equal(severity_name(SEV_MEDIUM), "medium");
}

static void test_hotspots_and_hot_path(void **state)
{
	struct profile *p = new_profile();
	struct analysis a;

	(void)state;
	add(p, "main;a;b", 60);
	add(p, "main;c", 30);
	add(p, "main", 7);
	add(p, "main;d", 3);
	run(p, &a, false);
	assert_int_equal(a.grand_total, 100);
	/* b 60 %, c 30 %, main 7 %: three hotspots at the 5 % threshold; d (3 %) is not one. */
	assert_int_equal(a.nhot, 3);
	assert_string_equal(analysis_fn_name(&a, 0), "b");
	assert_string_equal(analysis_fn_name(&a, 1), "c");
	assert_string_equal(analysis_fn_name(&a, 2), "main");
	assert_true(fabs(a.fns.v[0].self_pct - 60) < 1e-9);
	assert_int_equal(severity_of(a.fns.v[2].self_pct, a.threshold), SEV_MEDIUM);
	/* Inclusive: main 100, a 60, b 60, c 30 (d 3 % is below the threshold). */
	assert_int_equal(a.ninclusive, 4);
	assert_string_equal(analysis_fn_name(&a, a.by_total[0]), "main");
	/* Hot path: main (100 %) -> a (60 %) -> b (60 %). */
	assert_int_equal(a.hot_path_nr, 3);
	assert_string_equal(analysis_fn_name(&a, a.hot_path[0].fn), "main");
	assert_string_equal(analysis_fn_name(&a, a.hot_path[1].fn), "a");
	assert_string_equal(analysis_fn_name(&a, a.hot_path[2].fn), "b");
	assert_true(fabs(a.hot_path[1].total_pct - 60) < 1e-9);
	assert_true(fabs(a.hot_path[0].self_pct - 7) < 1e-9);
	analysis_release(&a);
	profile_free(p);
}

/* Frames that differ only by line are one function on the hot path and in the details. */
static void test_merged_by_function(void **state)
{
	struct profile *p = new_profile();
	struct frame f = { 0 };
	struct analysis a;
	uint32_t root, l1, l2;

	(void)state;
	root = profile_node(p, 0, profile_frame_named(p, "main", 4, FRAME_NATIVE));
	f.function = profile_intern_str(p, "work");
	f.file = profile_intern_str(p, "work.c");
	f.line = 10;
	l1 = profile_node(p, root, profile_frame(p, &f));
	f.line = 11;
	l2 = profile_node(p, root, profile_frame(p, &f));
	profile_add_sample1(p, l1, 0, 30);
	profile_add_sample1(p, l2, 0, 25);
	add(p, "main;other", 45);
	run(p, &a, true);
	/* work (55) beats other (45) although each of its lines alone is lighter. */
	assert_int_equal(a.hot_path_nr, 2);
	assert_string_equal(analysis_fn_name(&a, a.hot_path[1].fn), "work");
	assert_string_equal(analysis_fn_name(&a, 0), "work");
	/* Details: lines of work by self cost, and its caller. */
	assert_int_equal(a.details[0].lines.nr, 2);
	assert_int_equal(a.details[0].lines.v[0].line, 10);
	assert_int_equal(a.details[0].lines.v[0].value, 30);
	assert_int_equal(a.details[0].lines.v[1].line, 11);
	assert_int_equal(a.details[0].callers.nr, 1);
	assert_string_equal(profile_str(p, a.details[0].callers.v[0].name), "main");
	assert_int_equal(a.details[0].callers.v[0].value, 55);
	analysis_release(&a);
	profile_free(p);
}

static void test_details_recursion(void **state)
{
	struct profile *p = new_profile();
	struct analysis a;
	int64_t sum = 0;

	(void)state;
	add(p, "main;f;f;f;g", 40);
	add(p, "main;f", 20);
	add(p, "main;h", 40);
	run(p, &a, true);
	for (size_t i = 0; i < a.nhot; i++) {
		const struct hotspot_detail *d = &a.details[i];

		if (strcmp(analysis_fn_name(&a, d->fn), "f"))
			continue;
		/* Once per sample per (caller, callee) pair: main calls f in all 60, f calls f in the 40 of f;f;f;g
		 * (not 80: the pair is twice on those stacks), f calls g in the same 40. */
		assert_int_equal(d->callers.nr, 2);
		assert_string_equal(profile_str(p, d->callers.v[0].name), "main");
		assert_int_equal(d->callers.v[0].value, 60);
		assert_string_equal(profile_str(p, d->callers.v[1].name), "f");
		assert_int_equal(d->callers.v[1].value, 40);
		assert_int_equal(d->callees.nr, 2);
		assert_int_equal(d->callees.v[0].value, 40);
		assert_int_equal(d->callees.v[1].value, 40);
		assert_int_equal(a.fns.v[d->fn].total, 60);
		sum += d->callers.v[0].value;
	}
	assert_int_equal(sum, 60);
	analysis_release(&a);
	profile_free(p);
}

static void test_patterns(void **state)
{
	uint8_t var[32];
	size_t alloc = 0, lock = 0, io = 0, hashing = 0;

	(void)state;
	for (size_t i = 0; rule_catalogue[i].id; i++) {
		if (!strcmp(rule_catalogue[i].id, "alloc"))
			alloc = i;
		if (!strcmp(rule_catalogue[i].id, "lock"))
			lock = i;
		if (!strcmp(rule_catalogue[i].id, "io"))
			io = i;
		if (!strcmp(rule_catalogue[i].id, "hashing"))
			hashing = i;
	}
	assert_true(rule_count() <= 32);
	assert_true(rule_pattern_match("=malloc", "malloc", 6));
	assert_false(rule_pattern_match("=malloc", "malloc_usable_size", 18));
	assert_true(rule_pattern_match("^_int_", "_int_malloc", 11));
	assert_true(rule_pattern_match("~::sort", "std::sort<int*>", 15));
	assert_true(rule_pattern_match("%json", "encoding/JSON.Marshal", 21));
	assert_false(rule_pattern_match("~json", "encoding/JSON.Marshal", 21));
	assert_true(rules_match_name("malloc", 6, var) & (1u << alloc));
	assert_true(rules_match_name("cfree@GLIBC_2.2.5", 17, var) & (1u << alloc));
	assert_true(rules_match_name("free_[k]", 8, var) & (1u << alloc));
	assert_false(rules_match_name("freeze", 6, var) & (1u << alloc));
	assert_true(rules_match_name("runtime.mallocgc", 16, var) & (1u << alloc));
	assert_int_equal(var[alloc], 1); /* the Go advice */
	assert_true(rules_match_name("pthread_mutex_lock", 18, var) & (1u << lock));
	assert_true(rules_match_name("__x64_sys_write", 15, var) & (1u << io));
	assert_false(rules_match_name("readline", 8, var) & (1u << io));
	assert_true(rules_match_name("std::_Hashtable<int>::find", 26, var) & (1u << hashing));
	assert_int_equal(rules_match_name("compute_everything", 18, var), 0);
	/* A veto pattern is not a match: a thread join is not lock contention. */
	for (size_t i = 0; rule_catalogue[i].id; i++)
		if (!strcmp(rule_catalogue[i].id, "lock-wait")) {
			assert_false(rules_match_name("__pthread_clockjoin_ex", 22, var) & (1u << i));
			assert_true(rules_match_name("futex_wait", 10, var) & (1u << i));
		}
	/* Every rule has advice for each variant its patterns name. */
	for (size_t i = 0; rule_catalogue[i].id; i++) {
		size_t nadv = 0;

		while (rule_catalogue[i].advice[nadv])
			nadv++;
		assert_true(nadv >= 1);
		for (const struct rule_pattern *pt = rule_catalogue[i].patterns; pt->pat; pt++)
			assert_true(pt->variant < nadv || pt->variant == RULE_VETO);
	}
}

static void test_alloc_rule_with_evidence(void **state)
{
	struct profile *p = new_profile();
	const struct recommendation *r;
	struct analysis a;

	(void)state;
	add(p, "main;parse;malloc;_int_malloc", 20);
	add(p, "main;parse;free", 10);
	add(p, "main;parse", 40);
	add(p, "main;render", 30);
	run(p, &a, false);
	r = find_rec(&a, "alloc");
	assert_non_null(r);
	assert_true(fabs(r->evidence.pct - 30) < 1e-9); /* _int_malloc under malloc counts once */
	assert_int_equal(r->severity, SEV_CRITICAL);
	assert_string_equal(profile_str(p, r->evidence.callers.v[0].name), "parse");
	assert_int_equal(r->evidence.callers.v[0].value, 30);
	assert_non_null(strstr(r->message, "parse"));
	assert_non_null(strstr(r->message, "malloc"));
	/* No evidence, no rule. */
	assert_null(find_rec(&a, "lock"));
	assert_null(find_rec(&a, "sort"));
	assert_null(find_rec(&a, "recursion"));
	analysis_release(&a);
	profile_free(p);
}

static void test_rule_thresholds(void **state)
{
	struct profile *p = new_profile();
	struct analysis a;

	(void)state;
	/* 4 % in malloc: under the alloc rule's 5 % */
	add(p, "main;work;malloc", 4);
	add(p, "main;work", 48);
	add(p, "main;work2", 48);
	run(p, &a, false);
	assert_null(find_rec(&a, "alloc"));
	analysis_release(&a);
	profile_free(p);
}

static void test_recursion_rule(void **state)
{
	struct profile *p = new_profile();
	struct buf s = BUF_INIT;
	struct analysis a;
	const struct recommendation *r;

	(void)state;
	buf_adds(&s, "main");
	for (int i = 0; i < 20; i++)
		buf_adds(&s, ";fib");
	add(p, s.buf, 50);
	add(p, "main;fib;fib;fib", 10); /* shallow: not deep */
	add(p, "main;other", 40);
	run(p, &a, false);
	r = find_rec(&a, "recursion");
	assert_non_null(r);
	/* fib is deeply recursive (50 % of the samples are 16+ frames deep); the rule measures its inclusive share,
	 * each sample once, as the hot path does: 60 %. */
	assert_true(fabs(r->evidence.pct - 60) < 1e-9);
	assert_int_equal(r->evidence.value, 60);
	assert_non_null(strstr(r->evidence.detail, "fib recurses up to 20 frames deep; 50.0% of the profile"));
	assert_string_equal(analysis_fn_name(&a, a.hot_path[1].fn), "fib");
	assert_int_equal(a.hot_path[1].total, r->evidence.value);
	assert_int_equal(a.hot_path[1].depth, 20);
	analysis_release(&a);
	profile_free(p);
	buf_release(&s);

	p = new_profile();
	add(p, "main;fib;fib;fib;fib;fib", 100);
	run(p, &a, false);
	assert_null(find_rec(&a, "recursion"));
	analysis_release(&a);
	profile_free(p);
}

static void test_interpreter_and_tiny(void **state)
{
	struct profile *p = new_profile();
	struct analysis a;
	const struct recommendation *r;
	char name[64];

	(void)state;
	add(p, "python;_PyEval_EvalFrameDefault", 50);
	add(p, "python;_PyEval_EvalFrameDefault;_PyEval_EvalFrameDefault;list_append", 10);
	add(p, "python;_PyEval_EvalFrameDefault;other", 40);
	run(p, &a, false);
	r = find_rec(&a, "interpreter");
	assert_non_null(r);
	assert_true(fabs(r->evidence.pct - 50) < 1e-9); /* self time only */
	assert_non_null(strstr(r->message, "CPython"));
	analysis_release(&a);
	profile_free(p);

	p = new_profile();
	for (int i = 0; i < 120; i++) {
		snprintf(name, sizeof(name), "main;f%d", i);
		add(p, name, 1);
	}
	run(p, &a, false);
	assert_non_null(find_rec(&a, "tiny-functions"));
	assert_null(find_rec(&a, "hotspot"));
	assert_int_equal(a.nhot, 0);
	analysis_release(&a);
	profile_free(p);
}

static void test_hotspot_rule_explained(void **state)
{
	struct profile *p = new_profile();
	struct analysis a;

	(void)state;
	/* cmp runs inside qsort: the sort rule explains it, no separate hotspot recommendation. */
	add(p, "main;qsort;cmp", 60);
	add(p, "main;crunch", 40);
	run(p, &a, false);
	assert_non_null(find_rec(&a, "sort"));
	for (size_t i = 0; i < a.recs_nr; i++)
		if (!strcmp(a.recs[i].rule, "hotspot"))
			assert_string_equal(profile_str(p, a.recs[i].evidence.functions.v[0].name), "crunch");
	analysis_release(&a);
	profile_free(p);
}

static void test_json_and_text(void **state)
{
	struct profile *p = new_profile();
	struct analysis a;
	struct buf b = BUF_INIT;
	struct jw j;

	(void)state;
	add(p, "main;parse;malloc", 30);
	add(p, "main;parse", 70);
	run(p, &a, true);
	jw_init(&j, &b, false);
	jw_object_begin(&j);
	analysis_format_json(&a, &j);
	jw_object_end(&j);
	assert_non_null(strstr(b.buf, "\"total\":100"));
	assert_non_null(strstr(b.buf, "\"unit\":\"count\""));
	assert_non_null(strstr(b.buf, "\"hotspots\":[{\"function\":\"parse\""));
	assert_non_null(strstr(b.buf, "\"severity\":\"critical\""));
	assert_non_null(strstr(b.buf, "\"hot_path\":["));
	assert_non_null(strstr(b.buf, "\"rule\":\"alloc\""));
	assert_non_null(strstr(b.buf, "\"evidence\":{"));
	buf_reset(&b);
	analysis_format_text(&a, &b, false, false);
	assert_non_null(strstr(b.buf, "Hotspots"));
	assert_non_null(strstr(b.buf, "Hot path"));
	assert_null(strchr(b.buf, '\033'));
	buf_reset(&b);
	analysis_format_text(&a, &b, false, true);
	assert_non_null(strstr(b.buf, "| Severity |"));
	analysis_release(&a);
	profile_free(p);
	buf_release(&b);
}

static void test_value_column(void **state)
{
	struct profile *p = profile_new(0);
	struct analyze_opts o = ANALYZE_OPTS_INIT;
	struct analysis a;
	struct err e = ERR_INIT;

	(void)state;
	profile_add_column(p, "samples", "count");
	add(p, "main", 1);
	o.value = "cpu";
	assert_int_equal(analysis_run(p, &o, &a, &e), -1);
	assert_non_null(strstr(e.msg, "no 'cpu' values"));
	profile_free(p);
}

static void test_runs(void **state)
{
	struct profile *ps[3];
	struct runs r;
	struct err e = ERR_INIT;
	const int64_t a[3] = { 40, 50, 60 };

	(void)state;
	for (int i = 0; i < 3; i++) {
		ps[i] = new_profile();
		add(ps[i], "main;a", a[i]);
		add(ps[i], "main;b", 20);
		add(ps[i], "main;c", 80 - a[i]);
	}
	assert_int_equal(runs_compute(ps, 3, NULL, &r, &e), 0);
	assert_int_equal(r.nruns, 3);
	assert_string_equal(strtab_str(&r.names, r.v[0].name), "a");
	assert_true(fabs(r.v[0].self.mean - 50) < 1e-9);
	assert_true(fabs(r.v[0].self.sd - 10) < 1e-9);
	assert_true(fabs(r.v[0].self.min - 40) < 1e-9);
	assert_true(fabs(r.v[0].self.max - 60) < 1e-9);
	assert_true(fabs(r.v[0].self_pct[2] - 60) < 1e-9);
	runs_release(&r);
	for (int i = 0; i < 3; i++)
		profile_free(ps[i]);
}

static void test_sample_weight(void **state)
{
	struct profile *p = new_profile();
	char name[32];

	(void)state;
	/* One stack: the divisor is ambiguous; strict mode refuses it, the lenient one is a lower bound. */
	add(p, "main;spin", 150 * 1001);
	assert_true(sample_weight(p, 0, true) == 0);
	assert_true(sample_weight(p, 0, false) == 150 * 1001);
	for (int i = 0; i < 9; i++) {
		snprintf(name, sizeof(name), "main;f%d", i);
		add(p, name, (i + 1) * 1001);
	}
	assert_true(sample_weight(p, 0, true) == 1001);
	/* The reader's count is exact, whatever the values. */
	p->meta.samples = 300;
	assert_true(fabs(sample_weight(p, 0, true) - (150.0 + 45) * 1001 / 300) < 1e-9);
	profile_free(p);

	p = new_profile();
	add(p, "main;a", 3);
	add(p, "main;b", 1);
	assert_true(sample_weight(p, 0, false) == 0); /* plain counts */
	profile_free(p);
}

/* Adds a stack with several values (one per column); frames after a '|' are kernel frames. */
static void addv(struct profile *p, const char *stack, const int64_t *values)
{
	char tmp[4096];
	uint32_t node = 0;
	char *save = NULL;
	enum frame_kind kind = FRAME_NATIVE;

	snprintf(tmp, sizeof(tmp), "%s", stack);
	for (char *tok = strtok_r(tmp, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		if (*tok == '|') {
			kind = FRAME_KERNEL;
			tok++;
		}
		node = profile_node(p, node, profile_frame_named(p, tok, strlen(tok), kind));
	}
	profile_add_sample(p, node, 0, values);
}

/* Adds a stack of "function@module#kind" frames (module and kind optional; kinds: n native, k kernel, p python,
 * j js, J java). */
static void addm(struct profile *p, const char *stack, int64_t count)
{
	char tmp[4096];
	uint32_t node = 0;
	char *save = NULL;

	snprintf(tmp, sizeof(tmp), "%s", stack);
	for (char *tok = strtok_r(tmp, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		struct frame f = { 0 };
		char *k = strchr(tok, '#'), *m;

		f.kind = FRAME_NATIVE;
		if (k) {
			*k++ = 0;
			f.kind = *k == 'k' ? FRAME_KERNEL : *k == 'p' ? FRAME_PYTHON : *k == 'j' ? FRAME_JS :
				 *k == 'J' ? FRAME_JAVA : FRAME_NATIVE;
		}
		m = strchr(tok, '@');
		if (m) {
			*m++ = 0;
			f.module = profile_intern_str(p, m);
		}
		f.function = profile_intern_str(p, tok);
		node = profile_node(p, node, profile_frame(p, &f));
	}
	profile_add_sample1(p, node, 0, count);
}

/* Name rules keyed by library: a program's own `hashing` is not a hash library, libxxhash's XXH3 is. */
static void test_rules_keyed_by_module(void **state)
{
	struct profile *p = new_profile();
	struct analysis a;

	(void)state;
	addm(p, "main@/usr/bin/prog;hashing@/usr/bin/prog", 60);
	addm(p, "main@/usr/bin/prog;serialize_json_fields@/usr/bin/prog", 40);
	run(p, &a, false);
	assert_null(find_rec(&a, "hashing"));
	assert_null(find_rec(&a, "serialization"));
	assert_non_null(find_rec(&a, "hotspot")); /* the program's own code is still the hotspot */
	analysis_release(&a);
	profile_free(p);
	/* folded stacks have no modules: a name alone does not make a library */
	p = new_profile();
	add(p, "main;hashing", 60);
	add(p, "main;other", 40);
	run(p, &a, false);
	assert_null(find_rec(&a, "hashing"));
	analysis_release(&a);
	profile_free(p);
	/* the same loose names in libraries (and the kernel) count */
	p = new_profile();
	addm(p, "main@/usr/bin/prog;XXH3_hashLong_64b@/usr/lib/x86_64-linux-gnu/libxxhash.so.0", 60);
	addm(p, "main@/usr/bin/prog;crc32c_pcl_intel_update#k", 20);
	addm(p, "main@/usr/bin/prog;other@/usr/bin/prog", 20);
	run(p, &a, false);
	assert_non_null(find_rec(&a, "hashing"));
	assert_true(fabs(find_rec(&a, "hashing")->evidence.pct - 80) < 1e-9);
	analysis_release(&a);
	profile_free(p);
	/* exact library names match wherever they are: std::unordered_map is the C++ library's */
	p = new_profile();
	add(p, "main;std::_Hashtable<int>::find", 60);
	add(p, "main;other", 40);
	run(p, &a, false);
	assert_non_null(find_rec(&a, "hashing"));
	analysis_release(&a);
	profile_free(p);
}

/* The allocator advice only for the process's own malloc; a runtime's arena gets its own words. */
static void test_alloc_advice_by_allocator(void **state)
{
	struct profile *p = new_profile();
	struct analysis a;
	const struct recommendation *r;

	(void)state;
	addm(p, "main@/usr/bin/prog;malloc@/usr/lib/x86_64-linux-gnu/libc.so.6", 60);
	addm(p, "main@/usr/bin/prog;work@/usr/bin/prog", 40);
	run(p, &a, false);
	r = find_rec(&a, "alloc");
	assert_non_null(r);
	assert_non_null(strstr(r->message, "jemalloc"));
	analysis_release(&a);
	profile_free(p);
	/* CPython's object allocator (pymalloc) calling libc's malloc for its arenas: Python advice */
	p = new_profile();
	addm(p, "python3@/usr/bin/python3.11;_PyObject_Malloc@/usr/bin/python3.11;"
		"malloc@/usr/lib/x86_64-linux-gnu/libc.so.6", 60);
	addm(p, "python3@/usr/bin/python3.11;work#p", 40);
	run(p, &a, false);
	r = find_rec(&a, "alloc");
	assert_non_null(r);
	assert_null(strstr(r->message, "jemalloc"));
	assert_non_null(strstr(r->message, "Python"));
	analysis_release(&a);
	profile_free(p);
	/* a runtime's own allocator in its shared library (not libc, jemalloc, tcmalloc, mimalloc) */
	p = new_profile();
	addm(p, "main@/usr/bin/ruby;ruby_vm@/usr/lib/libruby.so.3.1;malloc@/usr/lib/libruby.so.3.1", 60);
	addm(p, "main@/usr/bin/ruby;work@/usr/bin/ruby", 40);
	run(p, &a, false);
	r = find_rec(&a, "alloc");
	assert_non_null(r);
	assert_null(strstr(r->message, "jemalloc"));
	assert_non_null(strstr(r->message, "runtime or library"));
	analysis_release(&a);
	profile_free(p);
	/* jemalloc linked by the process is the process's allocator */
	p = new_profile();
	addm(p, "main@/usr/bin/prog;je_malloc@/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", 60);
	addm(p, "main@/usr/bin/prog;work@/usr/bin/prog", 40);
	run(p, &a, false);
	assert_non_null(strstr(find_rec(&a, "alloc")->message, "jemalloc"));
	analysis_release(&a);
	profile_free(p);
}

/* No LTO/PGO/inlining advice for code no compiler of the program built: interpreted or kernel frames. */
static void test_compiler_advice_only_for_compiled_code(void **state)
{
	struct profile *p;
	struct analysis a;
	char name[96];
	const char *kinds[] = { "#p", "#j", "#J", "#k" };

	(void)state;
	for (size_t k = 0; k < 4; k++) {
		p = new_profile();
		for (int i = 0; i < 120; i++) {
			snprintf(name, sizeof(name), "main;f%d%s", i, kinds[k]);
			addm(p, name, 1);
		}
		run(p, &a, false);
		assert_null(find_rec(&a, "tiny-functions"));
		for (size_t i = 0; i < a.recs_nr; i++) {
			assert_null(strstr(a.recs[i].message, "LTO"));
			assert_null(strstr(a.recs[i].message, "inlin"));
		}
		analysis_release(&a);
		profile_free(p);
	}
	/* deep recursion in Python: advice without compiler terms */
	p = new_profile();
	{
		char stack[4096] = "main";

		for (int i = 0; i < 30; i++)
			strcat(stack, ";walk#p");
		addm(p, stack, 80);
		addm(p, "main;other#p", 20);
	}
	run(p, &a, false);
	assert_non_null(find_rec(&a, "recursion"));
	assert_null(strstr(find_rec(&a, "recursion")->message, "inlin"));
	analysis_release(&a);
	profile_free(p);
}

/* Recommendations are printed most severe first, whatever rule made them. */
static void test_severity_order(void **state)
{
	struct profile *p = new_profile();
	struct analysis a;
	char name[64];
	struct buf b = BUF_INIT;
	const char *crit, *med;

	(void)state;
	/* 60 % spread over 120 tiny functions (critical), 6 % in malloc (medium), a 12 % hotspot (high) */
	for (int i = 0; i < 120; i++) {
		snprintf(name, sizeof(name), "main;f%d", i);
		add(p, name, 5);
	}
	add(p, "main;malloc", 60);
	add(p, "main;hot", 120);
	add(p, "main;rest", 220);
	run(p, &a, false);
	assert_true(a.recs_nr >= 3);
	for (size_t i = 1; i < a.recs_nr; i++)
		assert_true(a.recs[i - 1].severity >= a.recs[i].severity);
	assert_int_equal(a.recs[0].severity, SEV_CRITICAL);
	{
		/* the critical tiny-functions observation before the medium allocation finding */
		size_t tiny = SIZE_MAX, alloc = SIZE_MAX;

		for (size_t i = 0; i < a.recs_nr; i++) {
			if (!strcmp(a.recs[i].rule, "tiny-functions"))
				tiny = i;
			if (!strcmp(a.recs[i].rule, "alloc"))
				alloc = i;
		}
		assert_true(tiny != SIZE_MAX && alloc != SIZE_MAX && tiny < alloc);
	}
	analysis_format_text(&a, &b, false, false);
	crit = strstr(b.buf, "[critical]");
	med = strstr(b.buf, "[medium]");
	assert_non_null(crit);
	assert_non_null(med);
	assert_true(crit < med);
	buf_release(&b);
	analysis_release(&a);
	profile_free(p);
}

static void test_kind_of(void **state)
{
	(void)state;
	assert_int_equal(rules_kind_of("off_cpu", false), RK_OFFCPU);
	assert_int_equal(rules_kind_of("wall", false), RK_WALL);
	assert_int_equal(rules_kind_of("latency", true), RK_SYSCALL);
	assert_int_equal(rules_kind_of("syscalls", true), RK_SYSCALL);
	assert_int_equal(rules_kind_of("latency", false), RK_CPU);
	assert_int_equal(rules_kind_of("cpu", false), RK_CPU);
	assert_int_equal(rules_kind_of("samples", false), RK_CPU);
	/* Every rule fits some kind, and each wait rule is documented with an advice. */
	for (size_t i = 0; rule_catalogue[i].id; i++) {
		assert_true(rule_catalogue[i].kinds != 0);
		assert_non_null(rule_catalogue[i].advice[0]);
	}
}

/* An off-CPU profile: each wait is classified by its kernel frames; joins and preemption are not lock waits. */
static void test_offcpu_rules(void **state)
{
	struct profile *p = profile_new(0);
	struct analysis a;
	const struct recommendation *r;
	static const char *const futex = ";|entry_SYSCALL_64;|do_syscall_64;|__x64_sys_futex;|do_futex;|futex_wait;"
					 "|schedule;|__schedule";
	char st[1024];
	int64_t v[2];

	(void)state;
	profile_add_column(p, "samples", "count");
	profile_add_column(p, "off_cpu", "nanoseconds");
	snprintf(st, sizeof(st), "main;pthread_join%s", futex); /* 400: waiting for a thread, not contention */
	v[0] = 1, v[1] = 400;
	addv(p, st, v);
	snprintf(st, sizeof(st), "start_thread;worker;pthread_mutex_lock;__lll_lock_wait%s", futex);
	v[0] = 10, v[1] = 300;
	addv(p, st, v);
	v[0] = 3, v[1] = 200;
	addv(p, "main;sleeper;nanosleep;|__x64_sys_clock_nanosleep;|hrtimer_nanosleep;|do_nanosleep;|schedule;"
		"|__schedule", v);
	v[0] = 5, v[1] = 60;
	addv(p, "main;reader;read;|ksys_read;|vfs_read;|anon_pipe_read;|schedule;|__schedule", v);
	v[0] = 2, v[1] = 40; /* preempted on the way out of the unlock's futex call: runqueue, not lock-wait */
	addv(p, "start_thread;worker;pthread_mutex_unlock;|entry_SYSCALL_64;|do_syscall_64;|exit_to_user_mode_loop;"
		"|schedule;|__schedule", v);
	run(p, &a, false);
	assert_int_equal(a.kind, RK_OFFCPU);
	assert_int_equal(a.grand_total, 1000);

	r = find_rec(&a, "lock-wait");
	assert_non_null(r);
	assert_true(fabs(r->evidence.pct - 30.0) < 1e-9); /* the join's 400 and the unlock's 40 are not in it */
	assert_int_equal(r->severity, SEV_CRITICAL);
	assert_string_equal(profile_str(p, r->evidence.callers.v[0].name), "worker");
	for (size_t i = 0; i < r->evidence.functions.nr; i++)
		assert_int_equal(r->evidence.functions.v[i].value, 300);
	r = find_rec(&a, "sleep");
	assert_non_null(r);
	assert_true(fabs(r->evidence.pct - 20.0) < 1e-9);
	assert_string_equal(profile_str(p, r->evidence.callers.v[0].name), "sleeper");
	r = find_rec(&a, "io-wait");
	assert_non_null(r);
	assert_true(fabs(r->evidence.pct - 6.0) < 1e-9);
	assert_int_equal(r->severity, SEV_MEDIUM);
	/* Without modules the C library's wrapper cannot be told from the program's code. */
	assert_string_equal(profile_str(p, r->evidence.callers.v[0].name), "read");
	r = find_rec(&a, "runqueue");
	assert_null(r); /* 4% is under the threshold */
	/* CPU-profile rules do not apply: no "System calls", no "Unbuffered I/O", no hotspot in __schedule. */
	assert_null(find_rec(&a, "syscall"));
	assert_null(find_rec(&a, "io"));
	assert_null(find_rec(&a, "lock"));
	assert_null(find_rec(&a, "hotspot"));
	assert_null(find_rec(&a, "disk-wait"));
	assert_int_equal(a.recs_nr, 3);
	analysis_release(&a);
	profile_free(p);
}

/* A wall-clock profile keeps the CPU rules for on-CPU stacks and adds the wait rules; the scheduler is no hotspot. */
static void test_wall_rules(void **state)
{
	struct profile *p = profile_new(0);
	struct analysis a;
	int64_t v[2];

	(void)state;
	profile_add_column(p, "samples", "count");
	profile_add_column(p, "wall", "nanoseconds");
	v[0] = 50, v[1] = 500;
	addv(p, "main;work;malloc;_int_malloc", v);
	v[0] = 1, v[1] = 300;
	addv(p, "main;work;|asm_sysvec_apic_timer_interrupt;|irqentry_exit_to_user_mode;|schedule;|__schedule", v);
	v[0] = 1, v[1] = 200;
	addv(p, "main;flush;fsync;|__x64_sys_fsync;|do_fsync;|ext4_sync_file;|jbd2_log_wait_commit;|schedule;"
		"|__schedule", v);
	v[0] = 1, v[1] = 200; /* blocked in a pipe read: io-wait, not unbuffered I/O */
	addv(p, "main;reader;read;|ksys_read;|vfs_read;|anon_pipe_read;|schedule;|__schedule", v);
	v[0] = 10, v[1] = 100; /* writing on CPU: the CPU rule sees it */
	addv(p, "main;writer;write;|ksys_write;|vfs_write", v);
	run(p, &a, false);
	assert_int_equal(a.kind, RK_WALL);
	assert_int_equal(a.grand_total, 1300);
	assert_non_null(find_rec(&a, "alloc"));
	assert_non_null(find_rec(&a, "runqueue"));
	assert_int_equal(find_rec(&a, "runqueue")->evidence.value, 300);
	assert_non_null(find_rec(&a, "io-wait"));
	assert_int_equal(find_rec(&a, "io-wait")->evidence.value, 200);
	/* The CPU rules count on-CPU time only: the blocked read is not in "io", nor the fsync wait in "syscall". */
	assert_non_null(find_rec(&a, "io"));
	assert_int_equal(find_rec(&a, "io")->evidence.value, 100);
	assert_int_equal(find_rec(&a, "io")->evidence.functions.v[0].value, 100);
	assert_non_null(find_rec(&a, "disk-wait"));
	assert_non_null(strstr(find_rec(&a, "disk-wait")->message, "fsync")); /* the fsync advice */
	assert_null(find_rec(&a, "syscall"));
	for (size_t i = 0; i < a.recs_nr; i++)
		if (!strcmp(a.recs[i].rule, "hotspot"))
			assert_string_not_equal(profile_str(p, a.recs[i].evidence.functions.v[0].name), "__schedule");
	analysis_release(&a);
	profile_free(p);
}

/* A system-call profile: many fast writes from one site are unbuffered I/O, many fast stats an N+1 pattern;
 * a few slow reads and a long sleep are no such thing; "System calls" never fires (every stack is one). */
static void test_syscall_rules(void **state)
{
	struct profile *p = profile_new(0);
	struct analysis a;
	const struct recommendation *r;
	int64_t v[2];

	(void)state;
	profile_add_column(p, "syscalls", "count");
	profile_add_column(p, "latency", "nanoseconds");
	v[0] = 20000, v[1] = 14000000; /* 700 ns each */
	addv(p, "main;writer;write;|write", v);
	v[0] = 5000, v[1] = 6000000; /* 1.2 us each */
	addv(p, "main;loop;test_file;fstatat64;|newfstatat", v);
	v[0] = 3, v[1] = 30000000; /* 10 ms each: blocking reads, not small ones */
	addv(p, "main;reader;read;|read", v);
	v[0] = 999, v[1] = 999000; /* under RULE_MANY_CALLS */
	addv(p, "main;other;getpid;|getpid", v);
	v[0] = 2, v[1] = 50000000;
	addv(p, "main;sleeper;nanosleep;|clock_nanosleep", v);
	run(p, &a, false);
	assert_int_equal(a.kind, RK_SYSCALL);
	assert_int_equal(a.grand_total, 100999000);

	r = find_rec(&a, "small-io");
	assert_non_null(r);
	assert_int_equal(r->evidence.value, 14000000);
	assert_string_equal(profile_str(p, r->evidence.functions.v[0].name), "write");
	assert_string_equal(profile_str(p, r->evidence.callers.v[0].name), "writer");
	assert_non_null(r->evidence.detail);
	assert_non_null(strstr(r->evidence.detail, "20,000 calls from one stack (writer <- main)"));
	assert_non_null(strstr(r->evidence.detail, "700 ns each on average"));
	r = find_rec(&a, "repeated-syscalls");
	assert_non_null(r);
	assert_int_equal(r->evidence.value, 6000000);
	assert_non_null(strstr(r->evidence.detail, "newfstatat: 5,000 calls"));
	r = find_rec(&a, "sleep");
	assert_non_null(r);
	assert_int_equal(r->severity, SEV_CRITICAL);
	assert_null(find_rec(&a, "syscall"));
	assert_null(find_rec(&a, "io"));
	assert_null(find_rec(&a, "hotspot"));
	assert_int_equal(a.recs_nr, 3);
	analysis_release(&a);
	profile_free(p);
}

static void test_empty_profile(void **state)
{
	struct profile *p = new_profile();
	struct analysis a;
	struct buf b = BUF_INIT;

	(void)state;
	run(p, &a, true);
	assert_int_equal(a.grand_total, 0);
	assert_int_equal(a.nhot, 0);
	assert_int_equal(a.recs_nr, 0);
	analysis_format_text(&a, &b, false, false);
	assert_non_null(strstr(b.buf, "no samples"));
	analysis_release(&a);
	profile_free(p);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_severity),
		cmocka_unit_test(test_hotspots_and_hot_path),
		cmocka_unit_test(test_merged_by_function),
		cmocka_unit_test(test_details_recursion),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_alloc_rule_with_evidence),
		cmocka_unit_test(test_rule_thresholds),
		cmocka_unit_test(test_recursion_rule),
		cmocka_unit_test(test_interpreter_and_tiny),
		cmocka_unit_test(test_hotspot_rule_explained),
		cmocka_unit_test(test_json_and_text),
		cmocka_unit_test(test_value_column),
		cmocka_unit_test(test_runs),
		cmocka_unit_test(test_sample_weight),
		cmocka_unit_test(test_empty_profile),
		cmocka_unit_test(test_kind_of),
		cmocka_unit_test(test_rules_keyed_by_module),
		cmocka_unit_test(test_alloc_advice_by_allocator),
		cmocka_unit_test(test_compiler_advice_only_for_compiled_code),
		cmocka_unit_test(test_severity_order),
		cmocka_unit_test(test_offcpu_rules),
		cmocka_unit_test(test_wall_rules),
		cmocka_unit_test(test_syscall_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
