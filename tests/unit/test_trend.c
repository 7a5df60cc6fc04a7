/*
 * Unit tests for src/bench/changepoint.c, trend.c's median interval and history.c's run files: change points
 * of constructed series (a clean step, a step under the threshold, two steps, pure noise, a step at the edge),
 * the split p-value against the exact Mann-Whitney minimum 2 / C(16, 8), the order-statistic interval of the
 * median against its binomial definition, and a run file written and parsed back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/changepoint.h"
#include "bench/history.h"
#include "bench/trend.h"
#include "core/buf.h"
#include "core/err.h"

/* A deterministic noise source (xorshift) mapped to roughly normal values (sum of uniforms). */
static uint64_t rng = 88172645463325252ULL;

static double noise(void)
{
	double s = 0;
	int i;

	for (i = 0; i < 12; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		s += (double)(rng >> 11) / 9007199254740992.0;
	}
	return s - 6;
}

static void fill(double *x, size_t n, double level, double sd)
{
	size_t i;

	for (i = 0; i < n; i++)
		x[i] = level * (1 + sd * noise());
}

static void test_clean_step(void **state)
{
	struct cp_opts o = CP_OPTS_INIT;
	struct cp_point *cp;
	double x[60];
	size_t n;

	(void)state;
	fill(x, 30, 1.0, 0.01);
	fill(x + 30, 30, 1.1, 0.01);
	n = cp_detect(x, 60, &o, &cp);
	assert_int_equal(n, 1);
	assert_int_equal(cp[0].index, 30);
	/* Perfect separation of 8 runs against 8: the exact two-sided minimum 2 / C(16, 8) = 2 / 12870. */
	assert_true(fabs(cp[0].p - 2.0 / 12870) < 1e-12);
	assert_true(fabs(cp[0].change - 0.1) < 0.01);
	free(cp);
}

/*
 * A run just before the step that is above every earlier one (but at the old level): the splits at the step and
 * one before both separate 8 runs from 8 perfectly (the same smallest p), and the earlier one even has the larger
 * effect. The change belongs where the two levels fit best: at the step.
 */
static void test_place_among_ties(void **state)
{
	struct cp_opts o = CP_OPTS_INIT;
	struct cp_point *cp;
	double x[60];

	(void)state;
	fill(x, 30, 1.0, 0.005);
	x[29] = 1.03;
	fill(x + 30, 30, 1.12, 0.005);
	assert_int_equal(cp_detect(x, 60, &o, &cp), 1);
	assert_int_equal(cp[0].index, 30);
	assert_true(fabs(cp[0].p - 2.0 / 12870) < 1e-12);
	free(cp);
}

static void test_under_threshold(void **state)
{
	struct cp_opts o = CP_OPTS_INIT;
	struct cp_point *cp;
	double x[60];

	(void)state;
	fill(x, 30, 1.0, 0.002);
	fill(x + 30, 30, 1.03, 0.002); /* significant, but 3 % < the 5 % threshold */
	assert_int_equal(cp_detect(x, 60, &o, &cp), 0);
	assert_null(cp);
	o.min_effect = 0.02;
	assert_int_equal(cp_detect(x, 60, &o, &cp), 1);
	assert_int_equal(cp[0].index, 30);
	free(cp);
}

static void test_two_steps_and_direction(void **state)
{
	struct cp_opts o = CP_OPTS_INIT;
	struct cp_point *cp;
	double x[90];

	(void)state;
	fill(x, 40, 2.0, 0.01);
	fill(x + 40, 25, 2.4, 0.01);
	fill(x + 65, 25, 2.0, 0.01);
	assert_int_equal(cp_detect(x, 90, &o, &cp), 2);
	assert_int_equal(cp[0].index, 40);
	assert_int_equal(cp[1].index, 65);
	assert_true(cp[0].change > 0.15 && cp[0].change < 0.25);
	assert_true(cp[1].change < -0.12 && cp[1].change > -0.2);
	free(cp);
}

static void test_noise_only(void **state)
{
	struct cp_opts o = CP_OPTS_INIT;
	struct cp_point *cp;
	double x[500];
	size_t found = 0, rep;

	(void)state;
	for (rep = 0; rep < 10; rep++) {
		fill(x, 500, 1.0, 0.02);
		found += cp_detect(x, 500, &o, &cp);
		free(cp);
	}
	assert_true(found <= 1);
}

static void test_edges(void **state)
{
	struct cp_opts o = CP_OPTS_INIT;
	struct cp_point *cp;
	double x[40];

	(void)state;
	/* 3 runs before the step: the smallest p, 2 / C(11, 3) = 0.012, cannot reach alpha 0.001. */
	fill(x, 3, 1.0, 0.01);
	fill(x + 3, 37, 1.5, 0.01);
	assert_int_equal(cp_detect(x, 40, &o, &cp), 0);
	/* 6 before: 2 / C(14, 6) = 6.7e-4 < 0.001, found. */
	fill(x, 6, 1.0, 0.01);
	fill(x + 6, 34, 1.5, 0.01);
	assert_int_equal(cp_detect(x, 40, &o, &cp), 1);
	assert_int_equal(cp[0].index, 6);
	free(cp);
	assert_int_equal(cp_detect(x, 1, &o, &cp), 0);
	assert_int_equal(cp_detect(x, 0, &o, &cp), 0);
}

static void test_median_ci(void **state)
{
	double x[100], lo, hi;
	size_t i;

	(void)state;
	for (i = 0; i < 100; i++)
		x[i] = (double)(i + 1);
	/* n = 10: P(B <= 1) = 11/1024 <= 0.025 < P(B <= 2) = 56/1024, so [x(2), x(9)] (textbook table). */
	trend_median_ci(x, 10, 0.95, &lo, &hi);
	assert_true(lo == 2 && hi == 9);
	/* n = 100: the normal approximation gives ranks 40 and 61; the exact binomial gives the same. */
	trend_median_ci(x, 100, 0.95, &lo, &hi);
	assert_true(lo == 40 && hi == 61);
	/* n = 5: even [x(1), x(5)] covers with 1 - 2/32 = 0.9375 < 0.95: the whole range. */
	trend_median_ci(x, 5, 0.95, &lo, &hi);
	assert_true(lo == 1 && hi == 5);
}

static void test_run_roundtrip(void **state)
{
	struct bench_set s = BENCH_SET_INIT;
	struct bench_series *b;
	const char *keys[] = { "os" }, *values[] = { "linux" };
	struct hist_meta m = { .commit = "abc123", .branch = "main", .machine = "m1", .time = 1700000000,
			       .label_keys = keys, .label_values = values, .nlabels = 1 };
	struct hist_run r;
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;

	(void)state;
	s.format = "go";
	b = bench_set_get(&s, "BenchmarkX", "time", "s", false);
	bench_series_add(b, 1.5e-9);
	bench_series_add(b, 0.1);
	b = bench_set_get(&s, "crit", "time", "s", false);
	b->mean = 2.5;
	b->sem = 0.01;
	b->count = 100;
	bench_set_finish(&s);
	hist_format_run(&out, &m, &s, "profiles/x.folded");
	assert_int_equal(hist_parse_run(&r, out.buf, out.len, "t", &e), 0);
	assert_string_equal(r.commit, "abc123");
	assert_string_equal(r.branch, "main");
	assert_string_equal(r.machine, "m1");
	assert_string_equal(r.profile, "profiles/x.folded");
	assert_string_equal(r.set.format, "go");
	assert_true(r.time == 1700000000);
	b = bench_set_find(&r.set, "BenchmarkX", "time");
	assert_non_null(b);
	assert_int_equal(b->n, 2);
	assert_true(b->samples[0] == 1.5e-9 && b->samples[1] == 0.1);
	b = bench_set_find(&r.set, "crit", "time");
	assert_non_null(b);
	assert_true(b->n == 0 && b->mean == 2.5 && b->sem == 0.01 && b->count == 100);
	hist_run_release(&r);
	/* A profile path leaving the store is refused. */
	buf_reset(&out);
	hist_format_run(&out, &m, &s, "../../etc/passwd");
	assert_int_equal(hist_parse_run(&r, out.buf, out.len, "t", &e), -1);
	assert_non_null(strstr(e.msg, "leaves the store"));
	assert_int_equal(hist_parse_run(&r, "{}", 2, "t", &e), -1);
	buf_release(&out);
	bench_set_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_step),   cmocka_unit_test(test_place_among_ties),
		cmocka_unit_test(test_under_threshold),
		cmocka_unit_test(test_two_steps_and_direction), cmocka_unit_test(test_noise_only),
		cmocka_unit_test(test_edges),        cmocka_unit_test(test_median_ci),
		cmocka_unit_test(test_run_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
