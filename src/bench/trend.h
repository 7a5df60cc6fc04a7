/*
 * Trends over a benchmark history (history.h): per (branch, machine, benchmark, metric) the runs in order with
 * their centre (the median of the run's samples) and a distribution-free confidence interval of that median,
 * the change points (changepoint.h) with their verdict against the alert threshold, and for each change whose
 * last good and first bad runs both carry a profile, the per-function diff between them (analyze/diff.h) and
 * its differential flame graph. The JSON document (trend_format_json) is what the HTML page draws from.
 */
#ifndef KILN_BENCH_TREND_H
#define KILN_BENCH_TREND_H

#include <stdbool.h>
#include <stddef.h>

#include "bench/changepoint.h"
#include "bench/history.h"

struct buf;
struct err;

struct trend_change;

/*
 * Fills `c->fns` (and `c->graph` when asked) from the profiles of the last good and first bad runs: the profile
 * diff lives in analyze/, above bench/ in the layers, so the command hands it in. Returns 0, or -1 with `e` set.
 */
typedef int (*trend_diff_fn)(const char *before, const char *after, bool graph, size_t top, struct trend_change *c,
			     struct err *e);

struct trend_opts {
	struct cp_opts cp;
	trend_diff_fn diff;      /* NULL: no profile diffs */
	double confidence;       /* level of the band, default 0.95 */
	const char *branch;      /* only this branch, or NULL */
	const char *machine;     /* only this machine, or NULL */
	size_t top_functions;    /* per-function rows kept per change, default 10 */
	bool graphs;             /* render the differential flame graphs (SVG text) */
	bool all_metrics;        /* also the secondary metrics (user, system, max-rss) */
};

#define TREND_OPTS_INIT { CP_OPTS_INIT, NULL, 0.95, NULL, NULL, 10, true, false }

struct trend_point {
	size_t run;              /* index into the history */
	size_t n;                /* samples (0: summary only) */
	double centre, lo, hi;   /* lo/hi NAN when unknown */
};

struct trend_fn {
	char *name;              /* owned */
	double before_pct, after_pct, delta_pct, p_adjusted;
	bool significant;
};

struct trend_change {
	struct cp_point cp;      /* cp.index indexes the series' points */
	size_t good, bad;        /* history runs: the last before and the first after the change */
	bool regression, improvement;
	struct trend_fn *fns;    /* the diff of good -> bad, largest change first; owned */
	size_t nfns;
	char *graph;             /* the differential flame graph (SVG), or NULL; owned */
	char *diff_note;         /* why there is no diff (no profiles, unreadable), or NULL; owned */
};

struct trend_series {
	const char *name, *metric, *unit, *branch, *machine; /* point into the history */
	bool higher_is_better;
	struct trend_point *pts;
	size_t npts, apts;
	struct trend_change *ch;
	size_t nch;
};

struct trend {
	struct trend_series *v;
	size_t nr, alloc;
	size_t regressions, improvements;
	struct cp_opts cp;
	double confidence;
};

/* Computes the trends of `h` (which must outlive `t`). Returns 0, or -1 with `e` set. */
int trend_compute(const struct hist *h, const struct trend_opts *o, struct trend *t, struct err *e);
void trend_release(struct trend *t);
/* Frees what a change owns (its diff), leaving it without one. */
void trend_change_release(struct trend_change *c);
/* The trends as JSON (schema "kiln-trend/1"); `commit_url` is a template with {commit}, or NULL. */
void trend_format_json(const struct hist *h, const struct trend *t, const char *commit_url, bool graphs,
		       struct buf *out);
/* A change's profile diff alone, {"functions":[...], "graph":SVG}: what kiln serve answers for one change. */
void trend_format_diff(const struct trend_change *c, bool graphs, struct buf *out);
/*
 * A self-contained HTML page (no request to any host) drawing the trends (trend_html.c) with `script`, the
 * charts' code (web/js/trendchart.js, which must not contain a script end tag).
 */
void trend_format_html(const struct hist *h, const struct trend *t, const char *commit_url, const char *script,
		       struct buf *out);
/* The distribution-free interval of the median of sorted `x[0..n-1]` at `level` (order statistics, binomial). */
void trend_median_ci(const double *sorted, size_t n, double level, double *lo, double *hi);

#endif
