/*
 * Comparing two benchmark result sets: series are paired by (name, metric); each pair gets a two-sample test
 * (Welch's t-test on means, or Mann-Whitney U on medians), a relative change of the centre, and a verdict that
 * needs both significance (p < alpha) and a change beyond the threshold in the worse direction. Benchmarks
 * only in one set are listed as added or removed; pairs whose units differ are listed and never compared.
 */
#ifndef KILN_BENCH_COMPARE_H
#define KILN_BENCH_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "bench/result.h"

struct err;

enum cmp_test { CMP_WELCH, CMP_MANNWHITNEY };

struct cmp_opts {
	enum cmp_test test;
	double alpha;      /* significance level, default 0.05 */
	double threshold;  /* relative change that counts, default 0.05 */
	double confidence; /* level of the intervals shown, default 0.95 */
	const char *const *metrics; /* NULL-terminated list of metrics to compare, or NULL for all primary ones */
};

#define CMP_OPTS_INIT { CMP_WELCH, 0.05, 0.05, 0.95, NULL }

enum cmp_verdict {
	CMP_SAME,        /* no significant change ("~") */
	CMP_SMALL,       /* significant, but within the threshold */
	CMP_IMPROVEMENT, /* significant and beyond the threshold, better */
	CMP_REGRESSION,  /* significant and beyond the threshold, worse */
	CMP_UNTESTED,    /* the test is undefined (too few samples, no spread information) */
};

/* One side of a comparison. `samples` points into the result set. */
struct cmp_side {
	size_t n;              /* sample size; 0 when unknown */
	double centre;         /* the mean (Welch) or the median (Mann-Whitney) */
	double spread;         /* the sample standard deviation (Welch), or the median absolute deviation */
	double ci_lo, ci_hi;   /* confidence interval of the centre; NAN when unknown */
	double mean, stddev, median, min, max;
	const double *samples;
	size_t nsamples;
};

struct cmp_row {
	const char *name, *metric, *unit; /* point into the result sets */
	bool higher_is_better;
	struct cmp_side base, cur;
	double change;                    /* cur.centre / base.centre - 1; NAN when the base centre is 0 */
	const char *test;                 /* "welch", "z" (standard errors only), "mannwhitney" */
	double statistic, df, p;
	bool exact;
	enum cmp_verdict verdict;
	const char *note;                 /* why untested or why another test was used; NULL otherwise */
};

struct cmp_geomean {
	const char *metric, *unit;
	size_t n;                         /* rows included (positive centres on both sides) */
	double base, cur, change;
};

/* A benchmark present on one side only, or a pair with different units. */
struct cmp_lone {
	const char *name, *metric, *unit, *other_unit;
};

struct cmp_result {
	struct cmp_row *rows;
	size_t nr, alloc;
	struct cmp_geomean *geo;
	size_t ngeo, ageo;
	struct cmp_lone *added, *removed, *mismatched;
	size_t nadded, aadded, nremoved, aremoved, nmismatched, amismatched;
	size_t regressions, improvements; /* by benchmark: a throughput moving with its time counts once */
	char **notes;                     /* the rows' formatted notes, owned */
	size_t nnotes, anotes;
	double alpha, threshold, confidence;
	enum cmp_test test;
};

/* Compares; the result points into `base` and `cur`, which must outlive it. Returns 0, or -1 with `e` set. */
int cmp_run(const struct bench_set *base, const struct bench_set *cur, const struct cmp_opts *o,
	    struct cmp_result *r, struct err *e);
void cmp_result_release(struct cmp_result *r);

const char *cmp_verdict_name(enum cmp_verdict v);
const char *cmp_test_name(enum cmp_test t);

#endif
