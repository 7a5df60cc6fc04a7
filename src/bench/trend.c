/* Trends over a benchmark history: series per (branch, machine, benchmark, metric), change points, diffs. */
#include "bench/trend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/stats.h"
#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/xalloc.h"

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * P(B <= k) for B ~ Binomial(n, 1/2), summed in log space (n is a run's sample count: small, but a Go run
 * may have thousands).
 */
static double binom_half_cdf(size_t k, size_t n)
{
	double s = 0, lc = 0; /* log C(n, i) */
	size_t i;

	for (i = 0; i <= k; i++) {
		if (i)
			lc += log((double)(n - i + 1)) - log((double)i);
		s += exp(lc - (double)n * log(2.0));
	}
	return s;
}

void trend_median_ci(const double *sorted, size_t n, double level, double *lo, double *hi)
{
	double tail = (1 - level) / 2;
	size_t k = 0;

	*lo = *hi = NAN;
	if (!n)
		return;
	/* The largest k with P(B < k) <= tail: [x_(k), x_(n-k+1)] (1-based) covers the median with >= level. */
	while (k + 1 <= n / 2 && binom_half_cdf(k, n) <= tail)
		k++;
	if (k == 0) {
		/* Too few samples for the level: the range is the widest honest band. */
		*lo = sorted[0];
		*hi = sorted[n - 1];
		return;
	}
	*lo = sorted[k - 1];
	*hi = sorted[n - k];
}

static struct trend_series *series_for(struct trend *t, const struct hist_run *r, const struct bench_series *b)
{
	size_t i;

	for (i = t->nr; i-- > 0;) {
		struct trend_series *s = &t->v[i];

		if (!strcmp(s->name, b->name) && !strcmp(s->metric, b->metric) && !strcmp(s->branch, r->branch) &&
		    !strcmp(s->machine, r->machine) && !strcmp(s->unit, b->unit))
			return s;
	}
	ALLOC_GROW(t->v, t->nr + 1, t->alloc);
	memset(&t->v[t->nr], 0, sizeof(t->v[0]));
	t->v[t->nr] = (struct trend_series){ .name = b->name, .metric = b->metric, .unit = b->unit,
					     .branch = r->branch, .machine = r->machine,
					     .higher_is_better = b->higher_is_better };
	return &t->v[t->nr++];
}

static void add_point(struct trend_series *s, size_t run, const struct bench_series *b, double level)
{
	struct trend_point *p;

	ALLOC_GROW(s->pts, s->npts + 1, s->apts);
	p = &s->pts[s->npts++];
	p->run = run;
	p->n = b->n;
	if (b->n) {
		double *x = xmalloc(b->n * sizeof(*x));

		memcpy(x, b->samples, b->n * sizeof(*x));
		qsort(x, b->n, sizeof(*x), dbl_cmp);
		p->centre = b->median;
		trend_median_ci(x, b->n, level, &p->lo, &p->hi);
		free(x);
	} else {
		double se = isfinite(b->sem) ? b->sem : (b->count > 1 ? b->stddev / sqrt((double)b->count) : NAN);

		p->centre = isfinite(b->median) ? b->median : b->mean;
		p->lo = isfinite(se) ? p->centre - 1.959964 * se : NAN;
		p->hi = isfinite(se) ? p->centre + 1.959964 * se : NAN;
	}
}

static int series_cmp(const void *a, const void *b)
{
	const struct trend_series *x = a, *y = b;
	int c;

	if ((c = strcmp(x->name, y->name)) || (c = strcmp(x->metric, y->metric)) || (c = strcmp(x->branch, y->branch)))
		return c;
	return strcmp(x->machine, y->machine);
}

static int attach_diff(const struct hist *h, const struct trend_opts *o, struct trend_change *c)
{
	const struct hist_run *good = &h->v[c->good], *bad = &h->v[c->bad];
	char *before, *after;
	struct err e = ERR_INIT;
	int r;

	if (!good->profile || !bad->profile) {
		c->diff_note = xasprintf("no profile stored with %s %.12s", good->profile ? "the first bad run" :
					 "the last good run", good->profile ? bad->commit : good->commit);
		return 0;
	}
	before = hist_profile_path(h, good);
	after = hist_profile_path(h, bad);
	r = o->diff(before, after, o->graphs, o->top_functions, c, &e);
	if (r)
		c->diff_note = xasprintf("%s", e.msg);
	free(before);
	free(after);
	return 0;
}

int trend_compute(const struct hist *h, const struct trend_opts *o, struct trend *t, struct err *e)
{
	size_t i, k;

	memset(t, 0, sizeof(*t));
	t->cp = o->cp;
	t->confidence = o->confidence;
	for (i = 0; i < h->nr; i++) {
		const struct hist_run *r = &h->v[i];

		if ((o->branch && strcmp(o->branch, r->branch)) || (o->machine && strcmp(o->machine, r->machine)))
			continue;
		for (k = 0; k < r->set.nr; k++) {
			const struct bench_series *b = &r->set.v[k];

			if ((b->secondary && !o->all_metrics) || !(isfinite(b->median) || isfinite(b->mean)))
				continue;
			add_point(series_for(t, r, b), i, b, o->confidence);
		}
	}
	if (t->nr) /* qsort of a NULL array is undefined, even of none */
		qsort(t->v, t->nr, sizeof(*t->v), series_cmp);
	for (i = 0; i < t->nr; i++) {
		struct trend_series *s = &t->v[i];
		double *x = xmalloc((s->npts ? s->npts : 1) * sizeof(*x));
		struct cp_point *cp = NULL;
		size_t n;

		for (k = 0; k < s->npts; k++)
			x[k] = s->pts[k].centre;
		n = cp_detect(x, s->npts, &o->cp, &cp);
		free(x);
		s->ch = n ? xcalloc(n, sizeof(*s->ch)) : NULL;
		s->nch = n;
		for (k = 0; k < n; k++) {
			struct trend_change *c = &s->ch[k];
			bool worse = s->higher_is_better ? cp[k].change < 0 : cp[k].change > 0;

			c->cp = cp[k];
			c->good = s->pts[cp[k].index - 1].run;
			c->bad = s->pts[cp[k].index].run;
			/* The alert threshold: a change point counts only beyond it (cp_detect already required that). */
			c->regression = worse && fabs(cp[k].change) >= o->cp.min_effect;
			c->improvement = !worse && fabs(cp[k].change) >= o->cp.min_effect;
			t->regressions += c->regression;
			t->improvements += c->improvement;
			if (o->diff && (c->regression || c->improvement) && attach_diff(h, o, c))
				return err_set(e, "cannot diff the profiles of '%s'", s->name);
		}
		free(cp);
	}
	return 0;
}

void trend_change_release(struct trend_change *c)
{
	size_t f;

	for (f = 0; f < c->nfns; f++)
		free(c->fns[f].name);
	free(c->fns);
	free(c->graph);
	free(c->diff_note);
	c->fns = NULL;
	c->graph = c->diff_note = NULL;
	c->nfns = 0;
}

void trend_release(struct trend *t)
{
	size_t i, k;

	for (i = 0; i < t->nr; i++) {
		for (k = 0; k < t->v[i].nch; k++)
			trend_change_release(&t->v[i].ch[k]);
		free(t->v[i].ch);
		free(t->v[i].pts);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* "functions" (and "graph") of a change's profile diff, as members of the object being written. */
static void format_diff_members(struct jw *j, const struct trend_change *c, bool graphs)
{
	size_t f;

	if (c->nfns || c->graph) {
		jw_key(j, "functions");
		jw_array_begin(j);
		for (f = 0; f < c->nfns; f++) {
			jw_object_begin(j);
			jw_kv_str(j, "name", c->fns[f].name);
			jw_kv_double(j, "before_pct", c->fns[f].before_pct);
			jw_kv_double(j, "after_pct", c->fns[f].after_pct);
			jw_kv_double(j, "delta_pct", c->fns[f].delta_pct);
			jw_kv_double(j, "p_adjusted", c->fns[f].p_adjusted);
			jw_kv_bool(j, "significant", c->fns[f].significant);
			jw_object_end(j);
		}
		jw_array_end(j);
	}
	if (graphs && c->graph)
		jw_kv_str(j, "graph", c->graph);
}

void trend_format_diff(const struct trend_change *c, bool graphs, struct buf *out)
{
	struct jw j;

	jw_init(&j, out, false);
	jw_object_begin(&j);
	format_diff_members(&j, c, graphs);
	jw_object_end(&j);
}

static void format_change(struct jw *j, const struct hist *h, const struct trend_change *c, bool graphs)
{
	jw_object_begin(j);
	jw_kv_u64(j, "index", c->cp.index);
	/* the runs by their index in "runs": a server's page asks for their profile diff by the runs' ids */
	jw_kv_u64(j, "good_run", c->good);
	jw_kv_u64(j, "bad_run", c->bad);
	jw_kv_str(j, "good_commit", h->v[c->good].commit);
	jw_kv_str(j, "bad_commit", h->v[c->bad].commit);
	jw_kv_double(j, "p", c->cp.p);
	jw_kv_double(j, "before", c->cp.before);
	jw_kv_double(j, "after", c->cp.after);
	jw_kv_double(j, "change", c->cp.change);
	jw_kv_str(j, "verdict", c->regression ? "regression" : c->improvement ? "improvement" : "change");
	if (c->diff_note)
		jw_kv_str(j, "diff_note", c->diff_note);
	format_diff_members(j, c, graphs);
	jw_object_end(j);
}

void trend_format_json(const struct hist *h, const struct trend *t, const char *commit_url, bool graphs,
		       struct buf *out)
{
	struct jw j;
	size_t i, k;

	jw_init(&j, out, false);
	jw_object_begin(&j);
	jw_kv_str(&j, "schema", "kiln-trend/1");
	jw_key(&j, "method");
	jw_object_begin(&j);
	jw_kv_str(&j, "name", "sliding-window Mann-Whitney U on run medians, minimum effect size");
	jw_kv_u64(&j, "window", t->cp.window);
	jw_kv_double(&j, "alpha", t->cp.alpha);
	jw_kv_double(&j, "threshold", t->cp.min_effect);
	jw_kv_double(&j, "confidence", t->confidence);
	jw_object_end(&j);
	if (commit_url)
		jw_kv_str(&j, "commit_url", commit_url);
	jw_kv_u64(&j, "regressions", t->regressions);
	jw_kv_u64(&j, "improvements", t->improvements);
	jw_key(&j, "runs");
	jw_array_begin(&j);
	for (i = 0; i < h->nr; i++) {
		jw_object_begin(&j);
		if (h->v[i].stem)
			jw_kv_str(&j, "id", h->v[i].stem);
		jw_kv_bool(&j, "profile", h->v[i].profile != NULL);
		jw_kv_str(&j, "commit", h->v[i].commit);
		jw_kv_str(&j, "branch", h->v[i].branch);
		jw_kv_str(&j, "machine", h->v[i].machine);
		jw_kv_i64(&j, "time", h->v[i].time);
		jw_object_end(&j);
	}
	jw_array_end(&j);
	jw_key(&j, "series");
	jw_array_begin(&j);
	for (i = 0; i < t->nr; i++) {
		const struct trend_series *s = &t->v[i];

		jw_object_begin(&j);
		jw_kv_str(&j, "name", s->name);
		jw_kv_str(&j, "metric", s->metric);
		jw_kv_str(&j, "unit", s->unit);
		jw_kv_bool(&j, "higher_is_better", s->higher_is_better);
		jw_kv_str(&j, "branch", s->branch);
		jw_kv_str(&j, "machine", s->machine);
		/* Columns, not objects: a long history stays small in the page. */
		jw_key(&j, "run");
		jw_array_begin(&j);
		for (k = 0; k < s->npts; k++)
			jw_uint(&j, s->pts[k].run);
		jw_array_end(&j);
		jw_key(&j, "centre");
		jw_array_begin(&j);
		for (k = 0; k < s->npts; k++)
			jw_double(&j, s->pts[k].centre);
		jw_array_end(&j);
		jw_key(&j, "lo");
		jw_array_begin(&j);
		for (k = 0; k < s->npts; k++)
			jw_double(&j, s->pts[k].lo);
		jw_array_end(&j);
		jw_key(&j, "hi");
		jw_array_begin(&j);
		for (k = 0; k < s->npts; k++)
			jw_double(&j, s->pts[k].hi);
		jw_array_end(&j);
		jw_key(&j, "changes");
		jw_array_begin(&j);
		for (k = 0; k < s->nch; k++)
			format_change(&j, h, &s->ch[k], graphs);
		jw_array_end(&j);
		jw_object_end(&j);
	}
	jw_array_end(&j);
	jw_object_end(&j);
}
