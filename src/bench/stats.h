/*
 * Statistics for benchmark results, implemented from their formulas (no GPL library): descriptive summaries,
 * the regularized incomplete beta function (continued fraction, modified Lentz), Student's t distribution and
 * its quantile, the normal tail through erfc, Welch's t-test (Welch-Satterthwaite degrees of freedom) and the
 * Mann-Whitney U test (exact distribution for small samples, with or without ties, normal approximation with
 * tie and continuity correction otherwise). Tail probabilities are computed in the tail, never as 1 - cdf.
 * Nothing here allocates except stats_mannwhitney() (temporary, freed before it returns).
 */
#ifndef KILN_BENCH_STATS_H
#define KILN_BENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* Descriptive statistics of a sample. Fields are NAN when undefined (stddev needs n >= 2). */
struct stats_summary {
	size_t n;
	double mean, stddev, median, min, max;
	double mad; /* median absolute deviation (unscaled) */
};

/* Summarizes `x[0..n-1]` (not modified). NaN values must not be present. */
void stats_summarize(const double *x, size_t n, struct stats_summary *s);
/* Median of `x` (sorts a copy). NAN for n = 0. */
double stats_median(const double *x, size_t n);
/*
 * Modified z-scores (Iglewicz and Hoaglin): 0.6745 * (x - median) / MAD, into `z[0..n-1]`. When the MAD is 0,
 * the scores are 0 for values equal to the median and +-INFINITY for the others.
 */
void stats_modified_zscores(const double *x, size_t n, double *z);

/* Regularized incomplete beta I_x(a, b) with y = 1 - x given separately (no cancellation near x = 1). */
double stats_ibeta(double a, double b, double x, double y);
/* Complementary error function erfc(x), through the regularized incomplete gamma Q(1/2, x^2). */
double stats_erfc(double x);
/* Upper tail of the standard normal distribution, P(Z > z). */
double stats_normal_sf(double z);
/* Upper tail of Student's t with `df` > 0 degrees of freedom, P(T > t); df = INFINITY gives the normal. */
double stats_t_sf(double t, double df);
/* Lower tail P(T <= t). */
double stats_t_cdf(double t, double df);
/* The t with P(T > t) = p, for 0 < p < 1 (bisection on stats_t_sf to full double precision). */
double stats_t_isf(double p, double df);

/* The result of a two-sample test. */
struct stats_test {
	double statistic; /* t, or U of the first sample */
	double df;        /* Welch-Satterthwaite degrees of freedom (Welch only; NAN otherwise) */
	double p;         /* two-sided p-value; NAN when the test is undefined (too few samples) */
	bool exact;       /* Mann-Whitney: exact distribution used */
};

/*
 * Welch's unequal-variance t-test from summary statistics (means, sample standard deviations, sizes). Needs
 * n >= 2 on both sides; a zero variance on both sides gives p = 1 for equal means and p = 0 otherwise.
 * `n` = 0 means unknown size with `sd` holding the standard error of the mean: the normal distribution is used.
 */
void stats_welch(double mean1, double sd1, double n1, double mean2, double sd2, double n2, struct stats_test *r);

/*
 * Mann-Whitney U test, two-sided: p = 2 min(P(U <= u), P(U >= u)), at most 1. As benchstat: exact without ties
 * when both samples have at most STATS_MW_EXACT_MAX values, exact given the ties (the distribution of U over
 * all assignments of the pooled values) when both have at most STATS_MW_TIES_EXACT_MAX; otherwise the normal
 * approximation with tie and continuity correction. All values tied: p = 1.
 */
#define STATS_MW_EXACT_MAX 50
#define STATS_MW_TIES_EXACT_MAX 25
void stats_mannwhitney(const double *x, size_t nx, const double *y, size_t ny, struct stats_test *r);
/* P(U <= u) under H0 for sizes m and n without ties (exact; m, n <= STATS_MW_EXACT_MAX). */
double stats_mw_exact_cdf(double u, size_t m, size_t n);
/* The smallest two-sided p-value m + n samples can give: 2 / C(m + n, m). */
double stats_mw_min_p(size_t m, size_t n);
/* The fewest samples per side whose smallest p-value is below `alpha` (4 at 0.05, benchstat's "need >= 4"). */
size_t stats_mw_min_samples(double alpha);

/* Half-width of the two-sided confidence interval of a mean: t_{(1+level)/2, n-1} * sd / sqrt(n). */
double stats_mean_ci_halfwidth(double sd, size_t n, double level);

#endif
