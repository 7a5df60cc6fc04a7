/* Change points by a sliding-window Mann-Whitney U test with a minimum effect size (changepoint.h). */
#include "bench/changepoint.h"

#include <math.h>
#include <stdlib.h>

#include "bench/stats.h"
#include "core/xalloc.h"

static int by_strength(const void *a, const void *b)
{
	const struct cp_point *x = a, *y = b;

	if (x->p != y->p)
		return x->p < y->p ? -1 : 1;
	if (fabs(x->change) != fabs(y->change))
		return fabs(x->change) > fabs(y->change) ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int by_index(const void *a, const void *b)
{
	const struct cp_point *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static double rel_change(double before, double after)
{
	return before != 0 ? after / before - 1 : NAN;
}

/* The sum of absolute deviations of x[0..n-1] from their median: how badly one level describes them. */
static double l1_cost(const double *x, size_t n)
{
	double m = stats_median(x, n), c = 0;
	size_t i;

	for (i = 0; i < n; i++)
		c += fabs(x[i] - m);
	return c;
}

/*
 * Where in x[lo..hi) the level found near `c` changes: the split whose two sides are best described each by its
 * own median (least absolute deviations, robust to an outlier as the test is), within half a window of `c`.
 * The test alone cannot place it: splits next to a step test nearly as well as the step itself, and with few
 * runs per side several reach the same smallest possible p-value, so the order of p is a coin toss among them.
 */
static size_t place(const double *x, size_t lo, size_t hi, size_t c, size_t w)
{
	size_t from = c > lo + w / 2 ? c - w / 2 : lo + 1, to = c + w / 2 < hi ? c + w / 2 : hi - 1, s, best = c;
	double cost, least = l1_cost(x + lo, c - lo) + l1_cost(x + c, hi - c);

	for (s = from; s <= to; s++) {
		cost = l1_cost(x + lo, s - lo) + l1_cost(x + s, hi - s);
		if (cost < least * (1 - 1e-12)) {
			least = cost;
			best = s;
		}
	}
	return best;
}

size_t cp_detect(const double *x, size_t n, const struct cp_opts *o, struct cp_point **out)
{
	struct cp_point *cand = NULL;
	size_t ncand = 0, nacc = 0, i, k, w = o->window ? o->window : 1;
	bool *taken;

	*out = NULL;
	if (n < 2)
		return 0;
	cand = xcalloc(n, sizeof(*cand));
	for (i = 1; i < n; i++) {
		size_t lo = i > w ? i - w : 0, hi = i + w < n ? i + w : n;
		size_t m = i - lo, r = hi - i;
		struct stats_test t;
		double before, after, ch;

		/* A split whose smallest possible p-value is not below alpha can never be significant. */
		if (stats_mw_min_p(m, r) >= o->alpha)
			continue;
		before = stats_median(x + lo, m);
		after = stats_median(x + i, r);
		ch = rel_change(before, after);
		if (!(fabs(ch) >= o->min_effect))
			continue;
		stats_mannwhitney(x + lo, m, x + i, r, &t);
		if (!(t.p < o->alpha))
			continue;
		cand[ncand++] = (struct cp_point){ .index = i, .p = t.p, .before = before, .after = after, .change = ch };
	}
	qsort(cand, ncand, sizeof(*cand), by_strength);
	taken = xcalloc(n, sizeof(*taken));
	for (k = 0; k < ncand; k++) {
		size_t c = cand[k].index, lo = c > w ? c - w : 0, hi = c + w < n ? c + w : n - 1;
		bool near = false;

		for (i = lo; i <= hi && !near; i++)
			near = taken[i] && i != c;
		if (near)
			continue;
		taken[c] = true;
		cand[nacc++] = cand[k];
	}
	free(taken);
	qsort(cand, nacc, sizeof(*cand), by_index);
	/* The place of each change between its neighbours, then the level on each side (at most w runs). */
	for (k = 0; k < nacc; k++) {
		size_t c = cand[k].index;
		size_t lo = k ? cand[k - 1].index : 0, hi = k + 1 < nacc ? cand[k + 1].index : n;
		size_t at;

		if (c - lo > w)
			lo = c - w;
		if (hi - c > w)
			hi = c + w;
		at = place(x, lo, hi, c, w);
		if (at != c) {
			/* moved only where the test still holds, with that split's p-value */
			size_t tlo = at > w ? at - w : 0, thi = at + w < n ? at + w : n;
			struct stats_test t;

			stats_mannwhitney(x + tlo, at - tlo, x + at, thi - at, &t);
			if (t.p < o->alpha) {
				cand[k].index = c = at;
				cand[k].p = t.p;
				lo = lo > tlo ? lo : tlo;
				hi = hi < thi ? hi : thi;
			}
		}
		cand[k].before = stats_median(x + lo, c - lo);
		cand[k].after = stats_median(x + c, hi - c);
		cand[k].change = rel_change(cand[k].before, cand[k].after);
	}
	if (!nacc) {
		free(cand);
		return 0;
	}
	*out = cand;
	return nacc;
}
