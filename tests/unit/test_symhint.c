/* Unit tests for the "debuginfo" recommendation of kiln analyze (src/analyze/symhint.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analysis.h"
#include "analyze/symhint.h"
#include "core/err.h"
#include "profile/profile.h"

#define LIBFOO "/nonexistent/lib/libfoo.so.1"

/* Adds `count` samples of "a;b;c" (root first); "name@module" gives a frame a module, "@module" none. */
static void add(struct profile *p, const char *stack, int64_t count)
{
	char tmp[4096];
	uint32_t node = 0;
	char *save = NULL;

	snprintf(tmp, sizeof(tmp), "%s", stack);
	for (char *tok = strtok_r(tmp, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		struct frame f = { 0 };
		char *at = strchr(tok, '@');
		if (at) {
			*at = '\0';
			f.module = profile_intern_str(p, at + 1);
		}
		f.function = *tok ? profile_intern_str(p, tok) : 0;
		f.addr = *tok ? 0 : (uint64_t)(uintptr_t)tok; /* function-less frames differ by address */
		f.kind = FRAME_NATIVE;
		node = profile_node(p, node, profile_frame(p, &f));
	}
	profile_add_sample1(p, node, 0, count);
}

static const struct recommendation *find_rec(const struct analysis *a, const char *rule, size_t *at)
{
	for (size_t i = 0; i < a->recs_nr; i++)
		if (!strcmp(a->recs[i].rule, rule)) {
			if (at)
				*at = i;
			return &a->recs[i];
		}
	return NULL;
}

static void test_unnamed(void **state)
{
	struct profile *p = profile_new(0);
	static const struct {
		const char *fn, *module;
		enum frame_kind kind;
		bool want;
	} cases[] = {
		{ "[libfoo.so.1+0x15bc9]", LIBFOO, FRAME_NATIVE, true },
		{ "[unknown]", LIBFOO, FRAME_UNKNOWN, true },
		{ NULL, LIBFOO, FRAME_NATIVE, true },
		{ "foo_compress", LIBFOO, FRAME_NATIVE, false },
		{ "[libfoo.so.1+0x10]", LIBFOO, FRAME_JIT, false },
		{ "[unknown]", "[anon:v8]", FRAME_UNKNOWN, false },
		{ "[unknown]", "/memfd:jit (deleted)", FRAME_UNKNOWN, false },
		{ "[unknown]", "/tmp/perf-42.map", FRAME_JIT, false },
		{ "[unknown]", NULL, FRAME_UNKNOWN, false },
		{ "[heap+0x10]", "[heap]", FRAME_UNKNOWN, false },
		{ "do_syscall_64", "[kernel.kallsyms]", FRAME_KERNEL, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame f = { 0 };
		f.function = cases[i].fn ? profile_intern_str(p, cases[i].fn) : 0;
		f.module = cases[i].module ? profile_intern_str(p, cases[i].module) : 0;
		f.kind = cases[i].kind;
		if (symhint_unnamed(p, &f) != cases[i].want)
			fail_msg("case %zu (%s in %s): expected %d", i, cases[i].fn, cases[i].module, cases[i].want);
	}
	profile_free(p);
}

/*
 * 100 samples: 30 through libfoo's unnamed code (10 of them with two unnamed frames on the stack, which count
 * once), 70 in named code. The recommendation measures 30 %, names the noted build-id and cites the unnamed
 * functions by their inclusive share; a module with 3 % (below the 5 % threshold) gets none.
 */
static void test_recommendation(void **state)
{
	struct profile *p = profile_new(0);
	struct analysis a;
	struct analyze_opts o = ANALYZE_OPTS_INIT;
	struct err e = ERR_INIT;
	size_t at = 0;

	(void)state;
	profile_add_column(p, "samples", "count");
	profile_set_build_id(p, LIBFOO, "1a2b3c4d5e6f");
	add(p, "main@/bin/prog;foo_compress@" LIBFOO ";[libfoo.so.1+0x100]@" LIBFOO, 20);
	add(p, "main@/bin/prog;[libfoo.so.1+0x200]@" LIBFOO ";[libfoo.so.1+0x100]@" LIBFOO, 10);
	add(p, "main@/bin/prog;work@/bin/prog", 67);
	add(p, "main@/bin/prog;[libbar.so+0x10]@/nonexistent/libbar.so", 3);
	assert_int_equal(analysis_run(p, &o, &a, &e), 0);

	const struct recommendation *r = find_rec(&a, "debuginfo", &at);
	assert_non_null(r);
	assert_true(r->evidence.pct > 29.999 && r->evidence.pct < 30.001);
	assert_int_equal(r->evidence.value, 30);
	assert_int_equal(r->severity, SEV_CRITICAL);
	assert_non_null(strstr(r->message, "30.0% of the samples run through code of libfoo.so.1"));
	assert_non_null(strstr(r->message, "build-id 1a2b3c4d5e6f"));
	assert_int_equal(r->evidence.functions.nr, 2);
	assert_string_equal(profile_str(p, r->evidence.functions.v[0].name), "[libfoo.so.1+0x100]");
	assert_int_equal(r->evidence.functions.v[0].value, 30);
	assert_int_equal(r->evidence.functions.v[1].value, 10);
	/* placed by share: every recommendation before it has at least its share */
	for (size_t i = 0; i < at; i++)
		assert_true(a.recs[i].evidence.pct >= r->evidence.pct);
	for (size_t i = at + 1; i < a.recs_nr; i++)
		assert_true(a.recs[i].evidence.pct <= r->evidence.pct || !strcmp(a.recs[i].rule, "tiny-functions"));
	size_t n = 0;
	for (size_t i = 0; i < a.recs_nr; i++)
		n += !strcmp(a.recs[i].rule, "debuginfo");
	assert_int_equal(n, 1); /* libbar's 3 % is below the threshold */
	analysis_release(&a);

	/* A lower threshold lets libbar in, without a build-id to name. */
	o.threshold = 2.0;
	assert_int_equal(analysis_run(p, &o, &a, &e), 0);
	n = 0;
	for (size_t i = 0; i < a.recs_nr; i++)
		if (!strcmp(a.recs[i].rule, "debuginfo") && strstr(a.recs[i].message, "libbar.so")) {
			n++;
			assert_non_null(strstr(a.recs[i].message, "neither symbols nor a build-id"));
		}
	assert_int_equal(n, 1);
	analysis_release(&a);
	profile_free(p);
}

/* Fully named profiles get no such recommendation. */
static void test_named(void **state)
{
	struct profile *p = profile_new(0);
	struct analysis a;
	struct analyze_opts o = ANALYZE_OPTS_INIT;
	struct err e = ERR_INIT;

	(void)state;
	profile_add_column(p, "samples", "count");
	add(p, "main@/bin/prog;foo_compress@" LIBFOO, 50);
	add(p, "main@/bin/prog;work@/bin/prog", 50);
	assert_int_equal(analysis_run(p, &o, &a, &e), 0);
	assert_null(find_rec(&a, "debuginfo", NULL));
	analysis_release(&a);
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unnamed),
		cmocka_unit_test(test_recommendation),
		cmocka_unit_test(test_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
