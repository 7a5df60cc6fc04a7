/* Statistics from their formulas: summaries, incomplete beta, Student t, erfc, Welch and Mann-Whitney tests. */
#include "bench/stats.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

#define CF_MAX_ITER 10000
#define CF_EPS 1e-16
#define CF_TINY 1e-300

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median_sorted(const double *v, size_t n)
{
	if (!n)
		return NAN;
	if (n % 2)
		return v[n / 2];
	return v[n / 2 - 1] / 2 + v[n / 2] / 2;
}

double stats_median(const double *x, size_t n)
{
	double *v, m;

	if (!n)
		return NAN;
	v = xmalloc(n * sizeof(*v));
	memcpy(v, x, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_double);
	m = median_sorted(v, n);
	free(v);
	return m;
}

void stats_summarize(const double *x, size_t n, struct stats_summary *s)
{
	double *v, sum = 0, ss = 0;
	size_t i;

	s->n = n;
	s->mean = s->stddev = s->median = s->min = s->max = s->mad = NAN;
	if (!n)
		return;
	v = xmalloc(n * sizeof(*v));
	memcpy(v, x, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_double);
	for (i = 0; i < n; i++)
		sum += v[i];
	s->mean = sum / n;
	/* Two-pass variance: no catastrophic cancellation for data with a large mean. */
	for (i = 0; i < n; i++)
		ss += (v[i] - s->mean) * (v[i] - s->mean);
	if (n >= 2)
		s->stddev = sqrt(ss / (n - 1));
	s->min = v[0];
	s->max = v[n - 1];
	s->median = median_sorted(v, n);
	for (i = 0; i < n; i++)
		v[i] = fabs(v[i] - s->median);
	qsort(v, n, sizeof(*v), cmp_double);
	s->mad = median_sorted(v, n);
	free(v);
}

void stats_modified_zscores(const double *x, size_t n, double *z)
{
	double *d, med, mad;
	size_t i;

	if (!n)
		return;
	med = stats_median(x, n);
	d = xmalloc(n * sizeof(*d));
	for (i = 0; i < n; i++)
		d[i] = fabs(x[i] - med);
	mad = stats_median(d, n);
	free(d);
	for (i = 0; i < n; i++) {
		double dev = x[i] - med;

		if (mad > 0)
			z[i] = 0.6745 * dev / mad;
		else
			z[i] = dev == 0 ? 0 : copysign(INFINITY, dev);
	}
}

/* The continued fraction of I_x(a, b) (modified Lentz), valid for x < (a + 1) / (a + b + 2). */
static double ibeta_cf(double a, double b, double x)
{
	double c = 1, d, h;
	int m;

	d = 1 - (a + b) * x / (a + 1);
	if (fabs(d) < CF_TINY)
		d = CF_TINY;
	d = 1 / d;
	h = d;
	for (m = 1; m <= CF_MAX_ITER; m++) {
		double m2 = 2.0 * m, num, del;

		/* Even step: d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)). */
		num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
		d = 1 + num * d;
		if (fabs(d) < CF_TINY)
			d = CF_TINY;
		c = 1 + num / c;
		if (fabs(c) < CF_TINY)
			c = CF_TINY;
		d = 1 / d;
		h *= d * c;
		/* Odd step: d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)). */
		num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
		d = 1 + num * d;
		if (fabs(d) < CF_TINY)
			d = CF_TINY;
		c = 1 + num / c;
		if (fabs(c) < CF_TINY)
			c = CF_TINY;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < CF_EPS)
			break;
	}
	return h;
}

double stats_ibeta(double a, double b, double x, double y)
{
	double lfront;

	if (isnan(a) || isnan(b) || isnan(x) || isnan(y) || a <= 0 || b <= 0 || x < 0 || y < 0)
		return NAN;
	if (x == 0)
		return 0;
	if (y == 0)
		return 1;
	lfront = a * log(x) + b * log(y) - (lgamma(a) + lgamma(b) - lgamma(a + b));
	if (x < (a + 1) / (a + b + 2))
		return exp(lfront) * ibeta_cf(a, b, x) / a;
	return 1 - exp(lfront) * ibeta_cf(b, a, y) / b;
}

/* Regularized upper incomplete gamma Q(a, z) for z > 0 (series for P below a + 1, Lentz fraction above). */
static double gamma_q(double a, double z)
{
	double lfront = a * log(z) - z - lgamma(a);
	int n;

	if (z < a + 1) {
		double term = 1 / a, sum = term, ap = a;

		for (n = 0; n < CF_MAX_ITER; n++) {
			ap += 1;
			term *= z / ap;
			sum += term;
			if (fabs(term) < fabs(sum) * CF_EPS)
				break;
		}
		return 1 - sum * exp(lfront);
	} else {
		double b = z + 1 - a, c = 1 / CF_TINY, d = 1 / b, h = d;

		for (n = 1; n <= CF_MAX_ITER; n++) {
			double an = -n * (n - a), del;

			b += 2;
			d = an * d + b;
			if (fabs(d) < CF_TINY)
				d = CF_TINY;
			c = b + an / c;
			if (fabs(c) < CF_TINY)
				c = CF_TINY;
			d = 1 / d;
			del = d * c;
			h *= del;
			if (fabs(del - 1) < CF_EPS)
				break;
		}
		return exp(lfront) * h;
	}
}

double stats_erfc(double x)
{
	if (isnan(x))
		return NAN;
	if (x < 0)
		return 2 - stats_erfc(-x);
	if (x == 0)
		return 1;
	if (x > 27.3)
		return 0; /* below the smallest subnormal */
	return gamma_q(0.5, x * x);
}

double stats_normal_sf(double z)
{
	if (isnan(z))
		return NAN;
	/* z / sqrt(2) rounds once; the relative error it causes in the tail is about z^2 * DBL_EPSILON. */
	return 0.5 * stats_erfc(z * M_SQRT1_2);
}

double stats_t_sf(double t, double df)
{
	double t2, x, y;

	if (isnan(t) || isnan(df) || df <= 0)
		return NAN;
	if (isinf(df))
		return stats_normal_sf(t);
	if (t == 0)
		return 0.5;
	if (t < 0)
		return 1 - stats_t_sf(-t, df);
	if (isinf(t))
		return 0;
	t2 = t * t;
	if (isinf(t2)) {
		/*
		 * t^2 overflows, so x = df / t^2 < 1e-290 would be subnormal: use logs. The continued fraction is
		 * 1 + O(x) and y^b = 1 to double precision, leaving x^a / (a B(a, 1/2)).
		 */
		double a = df / 2;

		return 0.5 * exp(a * (log(df) - 2 * log(t)) - (lgamma(a) + lgamma(0.5) - lgamma(a + 0.5))) / a;
	}
	/* x = df / (df + t^2) and y = t^2 / (df + t^2), each computed directly. */
	x = df / (df + t2);
	y = t2 / (df + t2);
	return 0.5 * stats_ibeta(df / 2, 0.5, x, y);
}

double stats_t_cdf(double t, double df)
{
	return stats_t_sf(-t, df);
}

double stats_t_isf(double p, double df)
{
	double lo = 0, hi = 1;
	int i;

	if (isnan(p) || isnan(df) || p <= 0 || p >= 1 || df <= 0)
		return NAN;
	if (p == 0.5)
		return 0;
	if (p > 0.5)
		return -stats_t_isf(1 - p, df);
	for (i = 0; i < 2000 && stats_t_sf(hi, df) > p; i++) {
		lo = hi;
		hi *= 2;
	}
	for (i = 0; i < 2000; i++) {
		double mid = lo / 2 + hi / 2;

		if (mid <= lo || mid >= hi)
			break;
		if (stats_t_sf(mid, df) > p)
			lo = mid;
		else
			hi = mid;
	}
	return lo / 2 + hi / 2;
}

void stats_welch(double mean1, double sd1, double n1, double mean2, double sd2, double n2, struct stats_test *r)
{
	double v1, v2, se2, diff = mean1 - mean2;

	r->statistic = r->df = r->p = NAN;
	r->exact = false;
	if (isnan(mean1) || isnan(mean2) || isnan(sd1) || isnan(sd2))
		return;
	if (n1 == 0 || n2 == 0) {
		/* Unknown sizes: sd is the standard error; a z test. */
		if (n1 != n2)
			return;
		v1 = sd1 * sd1;
		v2 = sd2 * sd2;
		se2 = v1 + v2;
		r->df = INFINITY;
	} else {
		if (n1 < 2 || n2 < 2)
			return;
		v1 = sd1 * sd1 / n1;
		v2 = sd2 * sd2 / n2;
		se2 = v1 + v2;
		r->df = se2 * se2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1));
	}
	if (!(se2 > 0)) {
		/* Both samples constant: the difference is certain, or there is none. */
		r->statistic = diff == 0 ? 0 : copysign(INFINITY, diff);
		r->p = diff == 0 ? 1 : 0;
		return;
	}
	r->statistic = diff / sqrt(se2);
	r->p = 2 * stats_t_sf(fabs(r->statistic), r->df);
	if (r->p > 1)
		r->p = 1;
}

double stats_mw_exact_cdf(double u, size_t m, size_t n)
{
	double **f, total = 0, acc = 0;
	size_t i, j, k, mn;

	if (m > n) {
		size_t t = m;

		m = n;
		n = t;
	}
	if (isnan(u) || u < 0)
		return 0;
	mn = m * n;
	if (u >= mn)
		return 1;
	/*
	 * f[i][k] = number of orderings of i values of one sample and j of the other with U = k, built up over j
	 * with f(i, j, k) = f(i - 1, j, k - j) + f(i, j - 1, k) (the largest value belongs to one sample or the
	 * other). Counts stay exact in double up to 2^53 and within rounding beyond.
	 */
	f = xcalloc(m + 1, sizeof(*f));
	for (i = 0; i <= m; i++) {
		f[i] = xcalloc(mn + 1, sizeof(**f));
		f[i][0] = 1;
	}
	for (j = 1; j <= n; j++)
		for (i = 1; i <= m; i++)
			for (k = i * j; k >= j; k--) {
				f[i][k] += f[i - 1][k - j];
				if (k == j)
					break;
			}
	for (k = 0; k <= mn; k++) {
		total += f[m][k];
		if (k <= (size_t)floor(u))
			acc += f[m][k];
	}
	for (i = 0; i <= m; i++)
		free(f[i]);
	free(f);
	return acc / total;
}

struct ranked {
	double v;
	int from_x;
};

static int cmp_ranked(const void *a, const void *b)
{
	return cmp_double(&((const struct ranked *)a)->v, &((const struct ranked *)b)->v);
}

/*
 * The exact null distribution of U given the ties (every assignment of the pooled values to the samples equally
 * likely): tie groups are taken in ascending order; putting j of a group of t into the first sample, after k of
 * its values and `before` values in all, adds j * (before - k) + j * (t - j) / 2 to U. Counts in units of U / 2
 * are built up per k, weighted by C(t, j). Sets P(U <= u) and P(U >= u).
 */
static void mw_exact_ties(const size_t *groups, size_t ng, size_t n1, size_t n2, double u, double *le, double *ge)
{
	size_t max2 = 2 * n1 * n2, k, j, g, s, before = 0, target = (size_t)llround(2 * u);
	double *cur = xcalloc((n1 + 1) * (max2 + 1), sizeof(*cur));
	double *next = xcalloc((n1 + 1) * (max2 + 1), sizeof(*next));
	double total = 0, lo = 0, hi = 0;

	cur[0] = 1;
	for (g = 0; g < ng; g++) {
		size_t t = groups[g];

		memset(next, 0, (n1 + 1) * (max2 + 1) * sizeof(*next));
		for (k = 0; k <= n1 && k <= before; k++) {
			for (s = 0; s <= max2; s++) {
				double c = cur[k * (max2 + 1) + s], binom = 1;

				if (c == 0)
					continue;
				for (j = 0; j <= t && k + j <= n1; j++) {
					size_t add = 2 * j * (before - k) + j * (t - j);

					if (j)
						binom = binom * (double)(t - j + 1) / (double)j;
					if (s + add <= max2)
						next[(k + j) * (max2 + 1) + s + add] += c * binom;
				}
			}
		}
		before += t;
		{
			double *tmp = cur;

			cur = next;
			next = tmp;
		}
	}
	for (s = 0; s <= max2; s++) {
		double c = cur[n1 * (max2 + 1) + s];

		total += c;
		if (s <= target)
			lo += c;
		if (s >= target)
			hi += c;
	}
	free(cur);
	free(next);
	*le = total > 0 ? lo / total : NAN;
	*ge = total > 0 ? hi / total : NAN;
}

void stats_mannwhitney(const double *x, size_t nx, const double *y, size_t ny, struct stats_test *r)
{
	size_t n = nx + ny, i, j, ng = 0;
	struct ranked *all;
	size_t *groups;
	double rx = 0, ties = 0, u, mu, var;
	bool has_ties = false;

	r->statistic = r->df = r->p = NAN;
	r->exact = false;
	if (!nx || !ny)
		return;
	all = xmalloc(n * sizeof(*all));
	groups = xmalloc(n * sizeof(*groups));
	for (i = 0; i < nx; i++)
		all[i] = (struct ranked){ x[i], 1 };
	for (i = 0; i < ny; i++)
		all[nx + i] = (struct ranked){ y[i], 0 };
	qsort(all, n, sizeof(*all), cmp_ranked);
	for (i = 0; i < n; i = j) {
		double t, rank;

		for (j = i + 1; j < n && all[j].v == all[i].v; j++)
			;
		t = (double)(j - i);
		groups[ng++] = j - i;
		rank = (i + 1 + j) / 2.0; /* mid-rank of positions i+1 .. j */
		if (t > 1) {
			has_ties = true;
			ties += t * t * t - t;
		}
		for (size_t k = i; k < j; k++)
			if (all[k].from_x)
				rx += rank;
	}
	free(all);
	u = rx - nx * (nx + 1) / 2.0;
	r->statistic = u;
	if (ng == 1) {
		free(groups);
		r->p = 1; /* every value tied: no evidence of a difference */
		return;
	}
	if (has_ties ? nx <= STATS_MW_TIES_EXACT_MAX && ny <= STATS_MW_TIES_EXACT_MAX
		     : nx <= STATS_MW_EXACT_MAX && ny <= STATS_MW_EXACT_MAX) {
		double lo, hi;

		if (has_ties) {
			mw_exact_ties(groups, ng, nx, ny, u, &lo, &hi);
		} else { /* by symmetry P(U >= u) = P(U <= mn - u) */
			lo = stats_mw_exact_cdf(u, nx, ny);
			hi = stats_mw_exact_cdf((double)nx * ny - u, nx, ny);
		}
		free(groups);
		r->p = 2 * (lo < hi ? lo : hi);
		if (r->p > 1)
			r->p = 1;
		r->exact = true;
		return;
	}
	free(groups);
	mu = nx * (double)ny / 2;
	var = nx * (double)ny / 12 * ((n + 1) - ties / ((double)n * (n - 1)));
	if (!(var > 0)) {
		r->p = 1; /* every value tied */
		return;
	}
	{
		double z = (fabs(u - mu) - 0.5) / sqrt(var);

		if (z < 0)
			z = 0;
		r->p = 2 * stats_normal_sf(z);
		if (r->p > 1)
			r->p = 1;
	}
}

size_t stats_mw_min_samples(double alpha)
{
	size_t k;
	double c = 2; /* C(2k, k) for k = 1 */

	/* the smallest two-sided exact p of k + k samples is 2 / C(2k, k) */
	for (k = 1; k < 64; k++) {
		if (2 / c < alpha)
			return k;
		c = c * (double)(2 * k + 1) * (double)(2 * k + 2) / ((double)(k + 1) * (double)(k + 1));
	}
	return k;
}

double stats_mw_min_p(size_t m, size_t n)
{
	double c = 1;
	size_t i;

	/* 2 / C(m + n, m) */
	for (i = 1; i <= m; i++)
		c = c * (double)(n + i) / (double)i;
	return 2 / c > 1 ? 1 : 2 / c;
}

double stats_mean_ci_halfwidth(double sd, size_t n, double level)
{
	if (n < 2 || isnan(sd) || !(level > 0 && level < 1))
		return NAN;
	return stats_t_isf((1 - level) / 2, (double)(n - 1)) * sd / sqrt((double)n);
}
