/*
 * Comparing two profiles (kiln diff, kiln profile --diff): which functions' shares changed, with a
 * two-proportion significance test per function and a multiple-comparison correction, and a differential flame
 * graph of AFTER coloured by each frame's change (difffolded.pl + flamegraph.pl semantics).
 *
 *   struct diff_result d;
 *   diff_compute(before, after, &opts, &d, &err);
 *   diff_format_text(&d, &buf, 20, color);
 *   diff_write_svg(before, after, &opts, "diff.svg", NULL, &err);
 *   diff_release(&d);
 *
 * Statistics (docs/diff.md): a function's share is its sample count over the profile's total. For each
 * function, H0 "the share is the same in both profiles" is tested with the pooled two-proportion z-test, or
 * Fisher's exact test when an expected cell count is below 5. The p-values of all tested functions are then
 * adjusted for multiple comparisons (Holm by default: the chance that anything at all is falsely labelled
 * significant stays below alpha; or Benjamini-Hochberg: the expected share of false discoveries stays below
 * alpha). A change is significant when its adjusted p-value is below alpha and its share moved by at least
 * `min_delta` percentage points.
 */
#ifndef KILN_DIFF_H
#define KILN_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../core/hash.h"

struct buf;
struct err;
struct jw;
struct profile;

enum diff_correction { DIFF_HOLM = 0, DIFF_BH, DIFF_NONE };

struct diff_opts {
	bool normalize;       /* flame graph: scale BEFORE to AFTER's total (difffolded.pl -n); default true */
	const char *value;    /* value column type; NULL = "samples" when present, else the default column */
	double alpha;         /* significance level; default 0.05 */
	enum diff_correction correction;
	bool inclusive;       /* test total (inclusive) shares instead of self shares */
	double min_delta;     /* percentage points a share must move to count as significant; default 0 */
	const char *title;    /* flame graph title; NULL = "Differential Flame Graph" */
};

#define DIFF_OPTS_INIT { true, NULL, 0.05, DIFF_HOLM, false, 0.0, NULL }

struct diff_fn {
	uint32_t name;         /* id in `diff_result.names` */
	int64_t before, after; /* counts (self, or total with `inclusive`) */
	double before_pct, after_pct, delta_pct;       /* shares tested, in percent */
	double before_total_pct, after_total_pct;      /* inclusive shares, for context */
	double before_self_pct, after_self_pct;        /* self shares, for context */
	double p_value, p_adjusted;
	const char *test;      /* "z" or "fisher" (static) */
	bool significant;
};

struct diff_result {
	struct strtab names;
	struct diff_fn *v; /* sorted by |delta_pct| descending, then by p-value */
	size_t nr, alloc;
	int64_t before_total, after_total; /* the counts' totals (n1, n2) */
	const char *before_type, *after_type; /* value column types used (point into the profiles) */
	const char *unit;
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

/* Text (or Markdown) table of the `top` largest changes. */
void diff_format_text(const struct diff_result *d, struct buf *out, size_t top, bool color, bool markdown);
/* Writes "before", "after", "functions", ... as members of the object `j` is inside. */
void diff_format_json(const struct diff_result *d, struct jw *j, size_t top);

/*
 * The differential flame graph: AFTER's stacks, each frame coloured red when its self value grew and blue
 * when it shrank (BEFORE scaled to AFTER's total unless !normalize); tooltips give before/after shares and
 * the whole-subtree change. Written atomically to `path` ("-" = stdout). `.folded`/`.txt` paths get
 * difffolded.pl's two-column text ("stack BEFORE AFTER") instead.
 */
int diff_write_graph(const struct profile *before, const struct profile *after, const struct diff_opts *o,
		     const char *path, struct err *e);

/*
 * For `kiln profile --diff`: compares, writes the graph to `svg_path` when non-NULL, and appends the text
 * report (top 20 changes) to `report`. Returns 0, or -1 with `e` set.
 */
int diff_profiles(struct profile *before, struct profile *after, const struct diff_opts *o, const char *svg_path,
		  struct buf *report, struct err *e);

/* Statistics, exposed for tests. Two-sided p-values. */
double diff_ztest(int64_t x1, int64_t n1, int64_t x2, int64_t n2);
double diff_fisher(int64_t x1, int64_t n1, int64_t x2, int64_t n2);
/* Adjusts `n` p-values in place. */
void diff_adjust(double *p, size_t n, enum diff_correction c);

#endif
