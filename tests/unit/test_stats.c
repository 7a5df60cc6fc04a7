/*
 * Unit tests for src/bench/stats.c against reference values computed independently with mpmath at 50 digits
 * (incomplete beta, erfc, Student t tail and quantile, Welch) and by brute-force enumeration (exact
 * Mann-Whitney distribution): tests/fixtures/bench/stats_reference.py prints the tables below. Tolerance: 1e-9
 * relative.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <stdio.h>

#include "bench/stats.h"

#define REL 1e-9

static void check_rel(double got, double want, const char *what, double a, double b)
{
	double err = want == 0 ? fabs(got) : fabs(got - want) / fabs(want);

	if (!(err <= REL)) {
		print_error("%s(%.17g, %.17g): got %.17g, want %.17g (relative error %.3g)\n", what, a, b, got, want,
			    err);
		fail();
	}
}

static void test_ibeta(void **state)
{
	static const double ref[][4] = {
		{ 0.5, 0.5, 0.3, 3.6901011956554538e-1 },
		{ 2, 3, 0.4, 5.2480000000000004e-1 },
		{ 10, 0.5, 0.9, 1.5164090963470997e-1 },
		{ 0.5, 10, 0.01, 3.4207182484321553e-1 },
		{ 50, 60, 0.45, 4.6423529143060363e-1 },
		{ 3.7, 0.5, 0.999, 9.3369646317702945e-1 },
		{ 100, 0.5, 0.5, 6.2556629943074125e-32 },
		{ 1, 1, 0.25, 2.5e-1 },
		{ 7.25, 0.5, 0.2, 1.9423231153544187e-6 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ref) / sizeof(ref[0]); i++)
		check_rel(stats_ibeta(ref[i][0], ref[i][1], ref[i][2], 1 - ref[i][2]), ref[i][3], "ibeta", ref[i][0],
			  ref[i][2]);
	assert_true(stats_ibeta(2, 3, 0, 1) == 0);
	assert_true(stats_ibeta(2, 3, 1, 0) == 1);
	assert_true(isnan(stats_ibeta(-1, 3, 0.5, 0.5)));
}

static void test_erfc(void **state)
{
	static const double ref[][2] = {
		{ -3, 1.9999779095030014 },
		{ -0.5, 1.5204998778130465 },
		{ 0, 1.0 },
		{ 1e-10, 9.9999999988716208e-1 },
		{ 0.1, 8.875370839817151e-1 },
		{ 0.5, 4.7950012218695346e-1 },
		{ 1, 1.5729920705028513e-1 },
		{ 1.5, 3.3894853524689273e-2 },
		{ 2, 4.6777349810472658e-3 },
		{ 3, 2.2090496998585441e-5 },
		{ 5, 1.5374597944280349e-12 },
		{ 8, 1.1224297172982927e-29 },
		{ 12, 1.3562611692059042e-64 },
		{ 20, 5.3958656116079009e-176 },
		{ 26, 5.6631924088561428e-296 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ref) / sizeof(ref[0]); i++)
		check_rel(stats_erfc(ref[i][0]), ref[i][1], "erfc", ref[i][0], 0);
	/* Against libm too, where it is accurate (an independent implementation). */
	for (i = 0; i < 200; i++) {
		double x = -2 + i * 0.05;

		check_rel(stats_erfc(x), erfc(x), "erfc-libm", x, 0);
	}
	assert_true(stats_erfc(40) == 0);
	/* The normal tail is computed in the tail: 1 - cdf would give 0 here. */
	check_rel(stats_normal_sf(10), 7.6198530241605261e-24, "normal_sf", 10, 0);
}

static void test_t_sf(void **state)
{
	static const double ref[][3] = {
		{ 0.5, 1, 3.5241638234956673e-1 },
		{ 2, 1, 1.4758361765043327e-1 },
		{ 1, 2, 2.1132486540518712e-1 },
		{ 2.5, 3, 4.3853323504032774e-2 },
		{ -1.3, 5, 8.7484968291466139e-1 },
		{ 2.228, 10, 2.5005885908555683e-2 },
		{ 3.1, 7.3, 8.215059065808583e-3 },
		{ 10, 4.5, 1.5264028784169788e-4 },
		{ 40, 12.7, 4.8210184789702757e-15 },
		{ 6, 30, 6.9713843836023714e-7 },
		{ 1.96, 1000, 2.5136592477874359e-2 },
		{ 0.01, 9, 4.9611972276816263e-1 },
		{ 25, 2.2, 4.8048686854944488e-4 },
		{ 100, 25, 2.2845233512170938e-34 },
		{ 5, 100000.0, 2.8713508393208364e-7 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ref) / sizeof(ref[0]); i++) {
		check_rel(stats_t_sf(ref[i][0], ref[i][1]), ref[i][2], "t_sf", ref[i][0], ref[i][1]);
		check_rel(stats_t_cdf(-ref[i][0], ref[i][1]), ref[i][2], "t_cdf", -ref[i][0], ref[i][1]);
	}
	/* Closed forms: Cauchy (df 1) and df 2. */
	for (i = 1; i < 50; i++) {
		double t = i * 0.37;

		check_rel(stats_t_sf(t, 1), atan(1 / t) / M_PI, "t_sf-cauchy", t, 1);
		check_rel(stats_t_sf(t, 2), 0.5 - t / (2 * sqrt(t * t + 2)) + 0, "t_sf-df2", t, 2);
	}
	assert_true(stats_t_sf(0, 3) == 0.5);
	assert_true(stats_t_sf(INFINITY, 3) == 0);
	assert_true(isnan(stats_t_sf(1, 0)));
	/* Far tails, where t^2 overflows or nearly does (mpmath references). */
	check_rel(stats_t_sf(1e100, 3), 1.1026577908435841e-300, "t_sf-far", 1e100, 3);
	check_rel(stats_t_sf(1e160, 1.5), 3.7708524320162464e-241, "t_sf-far", 1e160, 1.5);
}

static void test_t_isf(void **state)
{
	static const double ref[][3] = {
		{ 0.025, 1, 1.2706204736174704e+1 },
		{ 0.025, 4, 2.7764451051977943 },
		{ 0.025, 9, 2.2621571627982055 },
		{ 0.005, 2.5, 7.1637281389487855 },
		{ 0.05, 30, 1.6972608865939578 },
		{ 1e-08, 7, 2.7802283188119889e+1 },
		{ 0.4, 3, 2.7667066233268985e-1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ref) / sizeof(ref[0]); i++) {
		check_rel(stats_t_isf(ref[i][0], ref[i][1]), ref[i][2], "t_isf", ref[i][0], ref[i][1]);
		check_rel(stats_t_isf(1 - ref[i][0], ref[i][1]), -ref[i][2], "t_isf-lower", ref[i][0], ref[i][1]);
	}
	/* The normal quantile: 1.959963984540054 (from mpmath, erfcinv). */
	check_rel(stats_t_isf(0.025, INFINITY), 1.959963984540054, "z_isf", 0.025, 0);
	assert_true(isnan(stats_t_isf(0, 3)));
	assert_true(isnan(stats_t_isf(1, 3)));
}

static void test_welch(void **state)
{
	static const double ref[][9] = {
		{ 1.0e+1, 1.0, 1.0e+1, 1.1e+1, 1.5, 1.2e+1, -1.8650096164806275, 1.9190545987541224e+1,
		  7.7546438682058669e-2 },
		{ 1.0e+2, 5.0, 5.0, 1.2e+2, 3.0e+1, 2.0e+1, -2.8284271247461901, 2.2157434402332362e+1,
		  9.7401548143156561e-3 },
		{ 1.0, 1.0e-2, 3.0e+1, 1.0009999999999999, 2.0e-2, 3.0e+1, -2.4494897427829083e-1,
		  4.2647058823529412e+1, 8.0767077146733148e-1 },
		{ 5.0, 2.0, 3.0, 1.5e+1, 2.0, 3.0, -6.1237243569579452, 4.0, 3.6022326091040035e-3 },
	};
	struct stats_test t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ref) / sizeof(ref[0]); i++) {
		const double *r = ref[i];

		stats_welch(r[0], r[1], r[2], r[3], r[4], r[5], &t);
		/* The statistic of nearly equal means carries the rounding of their difference: 1e-9 is still met. */
		check_rel(t.statistic, r[6], "welch-t", r[0], r[3]);
		check_rel(t.df, r[7], "welch-df", r[0], r[3]);
		check_rel(t.p, r[8], "welch-p", r[0], r[3]);
	}
	stats_welch(1, 0, 5, 1, 0, 5, &t);
	assert_true(t.p == 1);
	stats_welch(1, 0, 5, 2, 0, 5, &t);
	assert_true(t.p == 0);
	stats_welch(1, 1, 1, 2, 1, 5, &t);
	assert_true(isnan(t.p));
}

static void test_mw_exact(void **state)
{
	static const double ref[][4] = {
		{ 0, 3, 4, 2.8571428571428571e-2 },
		{ 3, 3, 4, 2.0e-1 },
		{ 6, 3, 4, 5.7142857142857143e-1 },
		{ 10, 5, 5, 3.4523809523809524e-1 },
		{ 12, 5, 6, 3.3116883116883117e-1 },
		{ 20, 6, 8, 3.31002331002331e-1 },
		{ 2, 1, 9, 3.0e-1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ref) / sizeof(ref[0]); i++) {
		check_rel(stats_mw_exact_cdf(ref[i][0], (size_t)ref[i][1], (size_t)ref[i][2]), ref[i][3], "mw_cdf",
			  ref[i][1], ref[i][2]);
		/* Symmetric in the sample sizes. */
		check_rel(stats_mw_exact_cdf(ref[i][0], (size_t)ref[i][2], (size_t)ref[i][1]), ref[i][3], "mw_cdf",
			  ref[i][2], ref[i][1]);
	}
	assert_true(stats_mw_exact_cdf(1000, 5, 5) == 1);
}

static void test_mannwhitney(void **state)
{
	/* Disjoint samples of 5 and 5: U = 0, exact two-sided p = 2 / C(10, 5) = 2 / 252. */
	static const double a[] = { 1, 2, 3, 4, 5 }, b[] = { 6, 7, 8, 9, 10 };
	/*
	 * With ties and over 25 values a side: the normal approximation with tie and continuity correction
	 * (reference in the script).
	 */
#define MW_X 1, 2, 2, 3, 4, 4, 4, 7, 8, 9, 10, 12
#define MW_Y 2, 3, 5, 5, 6, 8, 11, 13, 14, 14, 15, 16, 17
	static const double x[] = { MW_X, MW_X, MW_X };
	static const double y[] = { MW_Y, MW_Y };
	static const double same[] = { 3, 3, 3 };
	struct stats_test t;

	(void)state;
	stats_mannwhitney(a, 5, b, 5, &t);
	assert_true(t.exact);
	assert_true(t.statistic == 0);
	check_rel(t.p, 2.0 / 252, "mw-p", 5, 5);
	stats_mannwhitney(b, 5, a, 5, &t);
	assert_true(t.statistic == 25);
	check_rel(t.p, 2.0 / 252, "mw-p", 5, 5);
	stats_mannwhitney(x, 36, y, 26, &t);
	assert_false(t.exact);
	assert_true(t.statistic == 228);
	check_rel(t.p, 6.0559719551918056e-4, "mw-normal-p", 36, 26);
	stats_mannwhitney(same, 3, same, 3, &t);
	assert_true(t.p == 1);
}

/*
 * Small samples with ties: exact given the ties, as benchstat computes them. References: brute force over all
 * assignments in stats_reference.py, and benchstat's own test values (golang.org/x/perf internal/stats
 * utest_test.go: s1 = {2, 1, 3, 5} against s4 = {2, 2, 2, 2} is U = 10, p = 0.7142857142857143; s1 against
 * itself U = 8, p = 1; s1 against s2 = {12, 11, 13, 15} U = 0, p = 0.028571428571428577). For s1 against
 * s5 = {1, 1, 1, 1, 1} benchstat's two-sided p is 0, although its one-sided p is 0.0476: twice that is the
 * two-sided value the brute force gives.
 */
static void test_mannwhitney_ties(void **state)
{
	static const double s1[] = { 2, 1, 3, 5 }, s2[] = { 12, 11, 13, 15 }, s4[] = { 2, 2, 2, 2 };
	static const double s5[] = { 1, 1, 1, 1, 1 };
	static const double a[] = { 1, 2, 2, 3, 4, 4, 7 }, b[] = { 2, 3, 5, 5, 6, 8, 11, 4 };
	struct stats_test t;

	(void)state;
	stats_mannwhitney(s1, 4, s4, 4, &t);
	assert_true(t.exact);
	assert_true(t.statistic == 10);
	check_rel(t.p, 0.7142857142857143, "mw-ties-benchstat", 4, 4);
	stats_mannwhitney(s1, 4, s1, 4, &t);
	assert_true(t.statistic == 8);
	assert_true(t.p == 1);
	stats_mannwhitney(s1, 4, s2, 4, &t);
	assert_true(t.statistic == 0);
	check_rel(t.p, 0.028571428571428577, "mw-benchstat", 4, 4);
	stats_mannwhitney(s1, 4, s5, 5, &t);
	assert_true(t.statistic == 17.5);
	check_rel(t.p, 9.5238095238095238e-2, "mw-ties-s5", 4, 5);
	stats_mannwhitney(a, 7, b, 8, &t);
	assert_true(t.exact);
	assert_true(t.statistic == 13.5);
	check_rel(t.p, 1.0598290598290598e-1, "mw-ties-7-8", 7, 8);
	/* the same p either way round */
	stats_mannwhitney(b, 8, a, 7, &t);
	check_rel(t.p, 1.0598290598290598e-1, "mw-ties-8-7", 8, 7);
	/* benchstat's large samples (normal approximation; its values agree with R's wilcox.test) */
	{
		double *l1 = malloc(500 * sizeof(double)), *l2 = malloc(600 * sizeof(double));
		double *l3 = malloc(600 * sizeof(double));
		int i;

		for (i = 0; i < 500; i++)
			l1[i] = i * 2;
		for (i = 0; i < 600; i++)
			l2[i] = l3[i] = i * 2 - 41;
		for (i = 0; i < 30; i++)
			l3[i] = l1[i];
		stats_mannwhitney(l1, 500, l2, 600, &t);
		assert_true(t.statistic == 135250);
		check_rel(t.p, 0.0049335360814172224, "mw-benchstat-large", 500, 600);
		stats_mannwhitney(l1, 500, l3, 600, &t);
		assert_true(t.statistic == 134845);
		check_rel(t.p, 0.0038703814239617884, "mw-benchstat-large-ties", 500, 600);
		stats_mannwhitney(l1, 500, l1, 500, &t);
		assert_true(t.p == 1);
		free(l1);
		free(l2);
		free(l3);
	}
	/* benchstat's "need >= 4 samples to detect a difference" at alpha 0.05 */
	assert_int_equal(stats_mw_min_samples(0.05), 4);
	assert_int_equal(stats_mw_min_samples(0.2), 3);
	check_rel(stats_mw_min_p(3, 3), 0.1, "mw-min-p", 3, 3);
	check_rel(stats_mw_min_p(4, 4), 2.0 / 70, "mw-min-p", 4, 4);
}

static void test_summary(void **state)
{
	static const double v[] = { 4, 1, 3, 2, 100 };
	struct stats_summary s;
	double z[5];

	(void)state;
	stats_summarize(v, 5, &s);
	assert_true(s.n == 5);
	check_rel(s.mean, 22, "mean", 0, 0);
	check_rel(s.median, 3, "median", 0, 0);
	check_rel(s.stddev, sqrt((18 * 18 + 21 * 21 + 19 * 19 + 20 * 20 + 78 * 78) / 4.0), "stddev", 0, 0);
	assert_true(s.min == 1 && s.max == 100);
	check_rel(s.mad, 1, "mad", 0, 0);
	stats_modified_zscores(v, 5, z);
	check_rel(z[4], 0.6745 * 97, "zscore", 0, 0);
	check_rel(stats_median(v, 4), 2.5, "median-even", 0, 0);
	/* Half-width: t_{0.975, 4} * sd / sqrt(5), t from the table above. */
	check_rel(stats_mean_ci_halfwidth(2, 5, 0.95), 2.7764451051977943 * 2 / sqrt(5), "ci", 0, 0);
	assert_true(isnan(stats_mean_ci_halfwidth(2, 1, 0.95)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ibeta),   cmocka_unit_test(test_erfc),        cmocka_unit_test(test_t_sf),
		cmocka_unit_test(test_t_isf),   cmocka_unit_test(test_welch),       cmocka_unit_test(test_mw_exact),
		cmocka_unit_test(test_mannwhitney), cmocka_unit_test(test_mannwhitney_ties), cmocka_unit_test(test_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
