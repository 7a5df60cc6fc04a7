/*
 * Change points in a benchmark's history: where, along the commits, the level of a series moved.
 *
 * Method: a sliding-window Mann-Whitney U test with a minimum effect size. The unit is one run (its median
 * sample): runs on CI machines drift between jobs, so the samples inside one run are not independent evidence
 * about the level, and a per-run centre makes the test count jobs, not samples. At every split point i the
 * up-to-`window` runs before i are tested against the up-to-`window` runs from i on (two-sided, exact
 * distribution: stats_mannwhitney()). A split is a candidate when p < alpha and the relative change of the
 * windows' medians is at least `min_effect` (the alert threshold). The runs next to a true step all see a
 * shifted window, but the split at the step separates the two levels best, so its p-value is the smallest
 * (ties broken by the larger effect): candidates are taken in that order and a candidate within `window` runs
 * of an accepted one is dropped. Each accepted change is then re-measured between its neighbours (the median
 * of the runs since the previous change point against the runs up to the next one, at most `window` each).
 *
 * Why this method: rank-based, so the outliers and skew of timing data neither hide nor fake a step (a mean-
 * shift cost such as PELT with a Gaussian likelihood is pulled by one slow run); exact p-values from a few runs
 * per side; linear in the history for a fixed window, and the change it reports is local (a step is judged by
 * the runs around it, not by the whole history, so old steps do not mask new ones). Limits: a change in the
 * first or last few runs is found only when 2 / C(m + n, m) < alpha for the runs m, n on its sides, and two
 * steps closer than `window` runs are reported as one.
 */
#ifndef KILN_BENCH_CHANGEPOINT_H
#define KILN_BENCH_CHANGEPOINT_H

#include <stdbool.h>
#include <stddef.h>

struct cp_opts {
	size_t window;     /* runs per side, default 8 */
	double alpha;      /* significance level of each split, default 0.001 */
	double min_effect; /* relative change of the centre that counts (the alert threshold), default 0.05 */
};

#define CP_OPTS_INIT { 8, 0.001, 0.05 }

struct cp_point {
	size_t index;         /* the first run of the new level (the first bad commit of a regression) */
	double p;             /* the split's two-sided p-value */
	double before, after; /* the medians of the runs before and after, between the neighbouring change points */
	double change;        /* after / before - 1 */
};

/*
 * Finds the change points of `x[0..n-1]` (one centre per run, in history order, all finite). Fills `*out`
 * (newly allocated, caller frees; NULL when none) with the points in index order and returns their number.
 */
size_t cp_detect(const double *x, size_t n, const struct cp_opts *o, struct cp_point **out);

#endif
