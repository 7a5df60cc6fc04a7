/* Pairing benchmark series, testing each pair, and deciding regressions with significance and magnitude. */
#include "bench/compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/stats.h"
#include "core/array.h"
#include "core/err.h"
#include "core/xalloc.h"

const char *cmp_verdict_name(enum cmp_verdict v)
{
	switch (v) {
	case CMP_SAME:
		return "same";
	case CMP_SMALL:
		return "within-threshold";
	case CMP_IMPROVEMENT:
		return "improvement";
	case CMP_REGRESSION:
		return "regression";
	case CMP_UNTESTED:
		break;
	}
	return "untested";
}

const char *cmp_test_name(enum cmp_test t)
{
	return t == CMP_MANNWHITNEY ? "mannwhitney" : "welch";
}

static bool metric_wanted(const struct cmp_opts *o, const struct bench_series *b)
{
	const char *const *m;

	if (!o->metrics)
		return !b->secondary;
	for (m = o->metrics; *m; m++)
		if (!strcmp(*m, b->metric))
			return true;
	return false;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Distribution-free confidence interval of the median from order statistics: the largest j with
 * P(Binomial(n, 1/2) < j) <= (1 - level) / 2 gives [x_(j), x_(n+1-j)].
 */
static void median_ci(const double *x, size_t n, double level, double *lo, double *hi)
{
	double *v, cum = 0, tail = (1 - level) / 2;
	size_t j = 0;

	*lo = *hi = NAN;
	if (n < 2)
		return;
	while (j < n / 2) {
		double pmf = exp(lgamma(n + 1.0) - lgamma(j + 1.0) - lgamma((double)(n - j) + 1) - n * M_LN2);

		if (cum + pmf > tail)
			break;
		cum += pmf;
		j++;
	}
	if (j == 0)
		return; /* too few values for this level */
	v = xmalloc(n * sizeof(*v));
	memcpy(v, x, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_double);
	*lo = v[j - 1];
	*hi = v[n - j];
	free(v);
}

/* Student t quantiles by degrees of freedom: most rows share a sample size, and each quantile is a bisection. */
#define QCACHE 16
struct qcache {
	double df[QCACHE], q[QCACHE];
	size_t nr, next;
};

static double t_quantile(struct qcache *c, double p, double df)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		if (c->df[i] == df)
			return c->q[i];
	i = c->nr < QCACHE ? c->nr++ : c->next++ % QCACHE;
	c->df[i] = df;
	c->q[i] = stats_t_isf(p, df);
	return c->q[i];
}

static void fill_side(struct cmp_side *s, const struct bench_series *b, const struct cmp_opts *o, struct qcache *qc)
{
	double hw;

	memset(s, 0, sizeof(*s));
	s->n = b->count;
	s->mean = b->mean;
	s->stddev = b->stddev;
	s->median = b->median;
	s->min = b->min;
	s->max = b->max;
	s->samples = b->samples;
	s->nsamples = b->n;
	s->ci_lo = s->ci_hi = NAN;
	if (o->test == CMP_MANNWHITNEY && b->n) {
		struct stats_summary sum;

		stats_summarize(b->samples, b->n, &sum);
		s->centre = b->median;
		s->spread = sum.mad;
		median_ci(b->samples, b->n, o->confidence, &s->ci_lo, &s->ci_hi);
		return;
	}
	s->centre = b->mean;
	s->spread = b->stddev;
	if (b->count >= 2 && isfinite(b->stddev))
		hw = t_quantile(qc, (1 - o->confidence) / 2, (double)(b->count - 1)) * b->stddev / sqrt((double)b->count);
	else if (isfinite(b->sem))
		hw = t_quantile(qc, (1 - o->confidence) / 2, INFINITY) * b->sem;
	else
		hw = NAN;
	if (isfinite(hw)) {
		s->ci_lo = b->mean - hw;
		s->ci_hi = b->mean + hw;
	}
}

/* Notes live as long as the result: a few texts per sample-size pair, each kept once. */
static const char *note_for(struct cmp_result *r, const char *text)
{
	size_t i;

	for (i = 0; i < r->nnotes; i++)
		if (!strcmp(r->notes[i], text))
			return r->notes[i];
	ALLOC_GROW(r->notes, r->nnotes + 1, r->anotes);
	r->notes[r->nnotes] = xstrdup(text);
	return r->notes[r->nnotes++];
}

static void test_pair(struct cmp_result *r, struct cmp_row *row, const struct bench_series *a,
		      const struct bench_series *b, const struct cmp_opts *o)
{
	struct stats_test t;
	bool mw = o->test == CMP_MANNWHITNEY && a->n && b->n;
	size_t na = mw ? a->n : a->count, nb = mw ? b->n : b->count;
	char note[160];

	/* benchstat's "?": a test needs at least two values a side; say so rather than print a p of nothing */
	if ((a->count || mw) && (b->count || mw) && (na < 2 || nb < 2)) {
		row->test = mw ? "mannwhitney" : "welch";
		row->statistic = row->df = row->p = NAN;
		snprintf(note, sizeof(note), "need >= 2 samples a side to test, have %zu+%zu", na, nb);
		row->note = note_for(r, note);
		return;
	}
	if (mw) {
		row->test = "mannwhitney";
		stats_mannwhitney(b->samples, b->n, a->samples, a->n, &t);
	} else if ((a->count == 0 && isfinite(a->sem)) || (b->count == 0 && isfinite(b->sem))) {
		/* A side with only a standard error (Criterion's estimates.json): a z test on standard errors. */
		double sea = a->count ? a->stddev / sqrt((double)a->count) : a->sem;
		double seb = b->count ? b->stddev / sqrt((double)b->count) : b->sem;

		row->test = "z";
		row->note = "sample size unknown: z test on the standard errors";
		stats_welch(b->mean, seb, 0, a->mean, sea, 0, &t);
	} else {
		row->test = "welch";
		if (o->test == CMP_MANNWHITNEY)
			row->note = "no raw samples: Welch's t-test on the summary";
		stats_welch(b->mean, b->stddev, (double)b->count, a->mean, a->stddev, (double)a->count, &t);
	}
	row->statistic = t.statistic;
	row->df = t.df;
	row->p = t.p;
	row->exact = t.exact;
	if (isnan(t.p) && !row->note)
		row->note = "too few samples or no spread information";
	/* the U test cannot reach alpha with so few values (benchstat: "need >= 4 samples to detect a difference") */
	if (mw && !row->note && stats_mw_min_p(a->n, b->n) >= o->alpha) {
		snprintf(note, sizeof(note), "need >= %zu samples a side to detect a difference at alpha %g",
			 stats_mw_min_samples(o->alpha), o->alpha);
		row->note = note_for(r, note);
	}
}

static void decide(struct cmp_row *row, const struct cmp_opts *o)
{
	double worse;

	if (row->base.centre != 0 && isfinite(row->base.centre) && isfinite(row->cur.centre))
		row->change = row->cur.centre / row->base.centre - 1;
	else
		row->change = NAN;
	if (isnan(row->p)) {
		row->verdict = CMP_UNTESTED;
		return;
	}
	if (row->p >= o->alpha) {
		row->verdict = CMP_SAME;
		return;
	}
	/* The change in the worse direction; with a negative base centre, ratios lose their meaning. */
	worse = row->higher_is_better ? -row->change : row->change;
	if (row->base.centre < 0)
		worse = -worse;
	if (isnan(worse))
		row->verdict = CMP_SMALL;
	else if (worse > o->threshold)
		row->verdict = CMP_REGRESSION;
	else if (worse < -o->threshold)
		row->verdict = CMP_IMPROVEMENT;
	else
		row->verdict = CMP_SMALL;
}

static struct cmp_geomean *geo_for(struct cmp_result *r, const char *metric, const char *unit)
{
	size_t i;

	for (i = 0; i < r->ngeo; i++)
		if (!strcmp(r->geo[i].metric, metric) && !strcmp(r->geo[i].unit, unit))
			return &r->geo[i];
	ALLOC_GROW(r->geo, r->ngeo + 1, r->ageo);
	memset(&r->geo[r->ngeo], 0, sizeof(r->geo[0]));
	r->geo[r->ngeo].metric = metric;
	r->geo[r->ngeo].unit = unit;
	return &r->geo[r->ngeo++];
}

static void add_lone(struct cmp_lone **v, size_t *nr, size_t *alloc, const struct bench_series *b,
		     const char *other_unit)
{
	ALLOC_GROW(*v, *nr + 1, *alloc);
	(*v)[*nr].name = b->name;
	(*v)[*nr].metric = b->metric;
	(*v)[*nr].unit = b->unit;
	(*v)[*nr].other_unit = other_unit;
	(*nr)++;
}

/* A throughput row ("MB/s", "bytes/s") restates the benchmark's time: is there a time row with this verdict? */
static bool restates_time(const struct cmp_result *r, const struct cmp_row *row)
{
	size_t i, ul = strlen(row->unit);

	if (!row->higher_is_better || ul < 2 || strcmp(row->unit + ul - 2, "/s"))
		return false;
	for (i = 0; i < r->nr; i++)
		if (&r->rows[i] != row && !strcmp(r->rows[i].name, row->name) && !strcmp(r->rows[i].metric, "time") &&
		    r->rows[i].verdict == row->verdict)
			return true;
	return false;
}

/*
 * Regressions and improvements are counted once per benchmark and metric, except that a throughput that moves
 * with the benchmark's time (go test's MB/s from b.SetBytes, Google Benchmark's bytes_per_second) is the same
 * finding: it is not counted again.
 */
static void count_verdicts(struct cmp_result *r)
{
	size_t i;

	for (i = 0; i < r->nr; i++) {
		const struct cmp_row *row = &r->rows[i];

		if (row->verdict != CMP_REGRESSION && row->verdict != CMP_IMPROVEMENT)
			continue;
		if (restates_time(r, row))
			continue;
		if (row->verdict == CMP_REGRESSION)
			r->regressions++;
		else
			r->improvements++;
	}
}

int cmp_run(const struct bench_set *base, const struct bench_set *cur, const struct cmp_opts *o,
	    struct cmp_result *r, struct err *e)
{
	struct qcache qc = { { 0 }, { 0 }, 0, 0 };
	size_t i;

	memset(r, 0, sizeof(*r));
	r->alpha = o->alpha;
	r->threshold = o->threshold;
	r->confidence = o->confidence;
	r->test = o->test;
	if (!(o->alpha > 0 && o->alpha < 1))
		return err_set(e, "alpha must be between 0 and 1");
	for (i = 0; i < base->nr; i++) {
		const struct bench_series *a = &base->v[i], *b;
		struct cmp_row *row;

		if (!metric_wanted(o, a))
			continue;
		b = bench_set_find(cur, a->name, a->metric);
		if (!b) {
			add_lone(&r->removed, &r->nremoved, &r->aremoved, a, NULL);
			continue;
		}
		if (strcmp(a->unit, b->unit) || a->higher_is_better != b->higher_is_better) {
			add_lone(&r->mismatched, &r->nmismatched, &r->amismatched, a, b->unit);
			continue;
		}
		ALLOC_GROW(r->rows, r->nr + 1, r->alloc);
		row = &r->rows[r->nr++];
		memset(row, 0, sizeof(*row));
		row->name = a->name;
		row->metric = a->metric;
		row->unit = a->unit;
		row->higher_is_better = a->higher_is_better;
		fill_side(&row->base, a, o, &qc);
		fill_side(&row->cur, b, o, &qc);
		test_pair(r, row, a, b, o);
		decide(row, o);
	}
	count_verdicts(r);
	for (i = 0; i < cur->nr; i++)
		if (metric_wanted(o, &cur->v[i]) && !bench_set_find(base, cur->v[i].name, cur->v[i].metric))
			add_lone(&r->added, &r->nadded, &r->aadded, &cur->v[i], NULL);
	/* Geometric means of the centres, per metric: sums of logs over rows positive on both sides. */
	for (i = 0; i < r->nr; i++) {
		const struct cmp_row *row = &r->rows[i];
		struct cmp_geomean *g = geo_for(r, row->metric, row->unit);

		if (row->base.centre > 0 && row->cur.centre > 0 && isfinite(row->base.centre) &&
		    isfinite(row->cur.centre)) {
			g->base += log(row->base.centre);
			g->cur += log(row->cur.centre);
			g->n++;
		}
	}
	for (i = 0; i < r->ngeo; i++) {
		struct cmp_geomean *g = &r->geo[i];

		if (g->n) {
			g->change = exp((g->cur - g->base) / g->n) - 1;
			g->base = exp(g->base / g->n);
			g->cur = exp(g->cur / g->n);
		} else {
			g->base = g->cur = g->change = NAN;
		}
	}
	return 0;
}

void cmp_result_release(struct cmp_result *r)
{
	size_t i;

	for (i = 0; i < r->nnotes; i++)
		free(r->notes[i]);
	free(r->notes);
	free(r->rows);
	free(r->geo);
	free(r->added);
	free(r->removed);
	free(r->mismatched);
	memset(r, 0, sizeof(*r));
}
