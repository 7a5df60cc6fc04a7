/*
 * Comparing two profiles (kiln diff, kiln profile --diff): each side's total and the overall ratio, and per
 * function the change of its absolute cost (time, bytes or samples) and of its share, with a significance test
 * per function and a multiple-comparison correction; and a differential flame graph of AFTER coloured by each
 * frame's change (difffolded.pl + flamegraph.pl semantics; render/diff_graph.h draws it).
 *
 *   struct diff_result d;
 *   diff_compute(before, after, &opts, &d, &err);
 *   diff_report_text(&d, &report_opts, &buf);      (or diff_report_json(); diff_report.c)
 *   diff_graph_plan(before, after, &opts, &plan, &err);
 *   fg_write_diff(before, after, &plan, "diff.svg", &err);   (render/diff_graph.h)
 *   diff_release(&d);
 *
 * The verdict (which changes are significant, and the colours) has one basis (docs/diff.md):
 *   - absolute: H0 "the function costs the same in both runs". Sampling counts are Poisson, so given the
 *     function's x1 + x2 samples, x1 is binomial with p = w2 / (w1 + w2) under H0 (w: cost per sample of each
 *     side); the two-sided exact binomial test (R's poisson.test) or, for huge counts, its normal approximation.
 *     The default when both profiles are whole runs of a command (kiln profile --diff), or with --absolute.
 *   - shares: H0 "the function's share of the total is the same". The pooled two-proportion z-test, or Fisher's
 *     exact test when an expected cell count is below 5. The default otherwise, or with --normalize.
 * The p-values of all tested functions are adjusted for multiple comparisons (Holm by default: the chance that
 * anything at all is falsely labelled significant stays below alpha; or Benjamini-Hochberg: the expected share
 * of false discoveries stays below alpha). A change is significant when its adjusted p-value is below alpha and
 * it moved by at least `min_delta` percentage points (of the share, or of BEFORE's total cost).
 */
#ifndef KILN_DIFF_H
#define KILN_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../core/hash.h"
#include "../profile/diff_plan.h"

struct buf;
struct err;
struct jw;
struct profile;

enum diff_correction { DIFF_HOLM = 0, DIFF_BH, DIFF_NONE };

/* What the verdict compares: absolute cost, or shares of each side's total (difffolded.pl -n, pprof -normalize). */
enum diff_basis { DIFF_BASIS_AUTO = 0, DIFF_BASIS_ABSOLUTE, DIFF_BASIS_SHARES };

struct diff_opts {
	enum diff_basis basis; /* AUTO: absolute when `whole_runs`, else shares */
	bool whole_runs;      /* both profiles cover a launched command from its start to its exit */
	const char *value;    /* value column type; NULL = "samples" when present, else the default column */
	double alpha;         /* significance level; default 0.05 */
	enum diff_correction correction;
	bool inclusive;       /* test total (inclusive) shares instead of self shares */
	double min_delta;     /* percentage points a share must move to count as significant; default 0 */
	const char *title;    /* flame graph title; NULL = "Differential Flame Graph" */
};

#define DIFF_OPTS_INIT { DIFF_BASIS_AUTO, false, NULL, 0.05, DIFF_HOLM, false, 0.0, NULL }

struct diff_fn {
	uint32_t name;         /* id in `diff_result.names` */
	int64_t before, after; /* counts (self, or total with `inclusive`) */
	double before_pct, after_pct, delta_pct;       /* shares tested, in percent */
	double before_total_pct, after_total_pct;      /* inclusive shares, for context */
	double before_self_pct, after_self_pct;        /* self shares, for context */
	double before_value, after_value; /* absolute cost (self, or total with `inclusive`) in `value_unit` */
	double delta_value;    /* after_value - before_value */
	double delta_abs_pct;  /* delta_value in percent of BEFORE's total cost */
	double p_value, p_adjusted;
	const char *test;      /* "z", "fisher" (shares) or "poisson" (absolute) (static) */
	int direction;         /* +1 grew, -1 shrank, 0 unchanged, by the verdict's basis */
	bool significant;
};

struct diff_result {
	struct strtab names;
	struct diff_fn *v; /* sorted by |delta_pct| descending, then by p-value */
	size_t nr, alloc;
	int64_t before_total, after_total; /* the counts' totals (n1, n2) */
	const char *before_type, *after_type; /* value column types used (point into the profiles) */
	const char *unit;
	/* Absolute cost: each side's total in `value_unit` ("nanoseconds", "bytes", or "count" for samples). */
	double before_value_total, after_value_total;
	const char *value_unit;
	const char *value_type; /* the type the cost is of ("cpu", "off_cpu", "samples", ...) */
	double ratio;           /* before_value_total / after_value_total: 8 = AFTER costs 8x less */
	double before_w, after_w; /* cost per counted sample of each side */
	enum diff_basis basis;  /* the verdict's basis, resolved (ABSOLUTE or SHARES) */
	const char *basis_reason; /* why, one clause (static) */
	size_t significant;
	size_t tested; /* functions with samples of the tested kind in either profile (the family corrected for) */
	double alpha, min_delta;
	enum diff_correction correction;
	bool inclusive;
	bool counts_estimated; /* values were not counts: divided by the sampling period or used as is */
	bool saturated;        /* a profile's totals saturated at 2^63-1 (sat_add64()): shares are approximate */
};

/* Compares `before` and `after`. Returns 0, or -1 with `e` set (missing column, empty profile). */
int diff_compute(struct profile *before, struct profile *after, const struct diff_opts *o, struct diff_result *out,
		 struct err *e);
void diff_release(struct diff_result *d);

/* "holm", "bh" or "none"; diff_correction_by_name() returns -1 for an unknown name. */
const char *diff_correction_name(enum diff_correction c);
int diff_correction_by_name(const char *name);

/* The basis a verdict with options `o` uses (NULL: the defaults), resolved to ABSOLUTE or SHARES. */
enum diff_basis diff_basis_of(const struct diff_opts *o);

/* diff_report.c: the report documents. */

/* Text (or Markdown) summary and table of the `top` largest changes. */
void diff_format_text(const struct diff_result *d, struct buf *out, size_t top, bool color, bool markdown);
/* Writes "before", "after", "functions", ... as members of the object `j` is inside. */
void diff_format_json(const struct diff_result *d, struct jw *j, size_t top);

struct diff_report_opts {
	const char *files[2]; /* the names of BEFORE and AFTER as shown */
	const char *graph;    /* the graph written, or NULL */
	size_t top;           /* changes listed */
	bool color;           /* ANSI colours (text only) */
};

/* The whole `kiln diff` document: text or Markdown, and the JSON document "kiln-diff/1" (docs/diff.md). */
void diff_report_text(const struct diff_result *d, const struct diff_report_opts *o, bool markdown, struct buf *out);
void diff_report_json(const struct diff_result *d, const struct diff_report_opts *o, struct buf *out);

/*
 * The plan of the differential flame graph that render/diff_graph.h draws (fg_write_diff()): AFTER's stacks,
 * each frame coloured red when its self cost grew and blue when it shrank, by the verdict's basis (absolute:
 * BEFORE converted to AFTER's units of cost; shares: BEFORE scaled to AFTER's total). Fills `g` (its subtitle
 * says the basis). Returns 0, or -1 with `e` set when a side has no such values.
 */
int diff_graph_plan(const struct profile *before, const struct profile *after, const struct diff_opts *o,
		    struct diff_plan *g, struct err *e);

/*
 * For `kiln profile --diff`: compares and appends the text report (top 20 changes) to `report`. The basis
 * follows `o` (with `o->whole_runs` when both commands ran to their end, AUTO compares absolute cost); the
 * caller draws the graph with diff_graph_plan() and the same `o`. Returns 0, or -1 with `e` set.
 */
int diff_profiles(struct profile *before, struct profile *after, const struct diff_opts *o, struct buf *report,
		  struct err *e);

/* Statistics, exposed for tests. Two-sided p-values. */
double diff_ztest(int64_t x1, int64_t n1, int64_t x2, int64_t n2);
double diff_fisher(int64_t x1, int64_t n1, int64_t x2, int64_t n2);
/* Poisson counts x1, x2 with a cost per sample of w1, w2: H0 equal cost (R's poisson.test(c(x1, x2), c(1/w1, 1/w2))). */
double diff_poisson(int64_t x1, double w1, int64_t x2, double w2);
/* Adjusts `n` p-values in place. */
void diff_adjust(double *p, size_t n, enum diff_correction c);

#endif
