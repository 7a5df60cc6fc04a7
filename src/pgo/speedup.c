/* kiln pgo compare's figure: the median of per-round ratios with its interval (speedup.h). */
#include "pgo/speedup.h"

#include <math.h>
#include <stdlib.h>

#include "bench/stats.h"
#include "bench/trend.h"
#include "core/xalloc.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The p-quantile of sorted `x` by linear interpolation between order statistics (type 7, R's default). */
static double quantile(const double *x, size_t n, double p)
{
	double h = p * (double)(n - 1);
	size_t i = (size_t)h;

	return i + 1 < n ? x[i] + (h - (double)i) * (x[i + 1] - x[i]) : x[n - 1];
}

int pgo_speedup(const double *base, const double *opt, size_t n, double level, struct pgo_speedup *s)
{
	double *r = xcalloc(n ? n : 1, sizeof(*r)), *b = xcalloc(n ? n : 1, sizeof(*b));
	double *o = xcalloc(n ? n : 1, sizeof(*o));
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (!(base[i] > 0) || !(opt[i] > 0))
			continue;
		b[m] = base[i];
		o[m] = opt[i];
		r[m++] = base[i] / opt[i] - 1;
	}
	s->n = m;
	s->base = s->opt = s->gain = s->lo = s->hi = s->q1 = s->q3 = NAN;
	if (m) {
		qsort(r, m, sizeof(*r), cmp_double);
		s->base = stats_median(b, m);
		s->opt = stats_median(o, m);
		s->gain = stats_median(r, m);
		s->q1 = quantile(r, m, 0.25);
		s->q3 = quantile(r, m, 0.75);
		if (m >= 2)
			trend_median_ci(r, m, level, &s->lo, &s->hi);
	}
	free(r);
	free(b);
	free(o);
	return m ? 0 : -1;
}

const char *pgo_speedup_verdict(const struct pgo_speedup *s)
{
	if (s->lo > 0)
		return "faster";
	if (s->hi < 0)
		return "slower";
	return "no difference";
}
