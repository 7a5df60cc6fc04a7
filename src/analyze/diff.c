/* Two-profile comparison: per-function changes of cost and share with significance tests; the graph's set-up. */
#include "diff.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/atomicfile.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/json.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "analysis.h"
#include "hotspots.h"

/* ---- statistics ---------------------------------------------------------------------------------------- */

double diff_ztest(int64_t x1, int64_t n1, int64_t x2, int64_t n2)
{
	double p1, p2, p, se, z;

	if (n1 <= 0 || n2 <= 0)
		return 1.0;
	p1 = (double)x1 / (double)n1;
	p2 = (double)x2 / (double)n2;
	p = ((double)x1 + (double)x2) / ((double)n1 + (double)n2); /* int64 sums of saturated counts overflow */
	se = sqrt(p * (1 - p) * (1.0 / (double)n1 + 1.0 / (double)n2));
	if (!(se > 0))
		return p1 == p2 ? 1.0 : 0.0;
	z = fabs(p1 - p2) / se;
	return erfc(z / M_SQRT2);
}

static double lchoose(int64_t n, int64_t k)
{
	return lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1);
}

#define FISHER_MAX_TERMS 2000000

double diff_fisher(int64_t x1, int64_t n1, int64_t x2, int64_t n2)
{
	int64_t k, lo, hi;
	double lden, lobs, p = 0;

	if (n1 <= 0 || n2 <= 0 || x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2)
		return 1.0;
	if (n1 > INT64_MAX - n2) /* counts near 2^63: far beyond where the exact test is needed */
		return diff_ztest(x1, n1, x2, n2);
	k = x1 + x2;
	lo = k - n2 > 0 ? k - n2 : 0;
	hi = k < n1 ? k : n1;
	if (hi - lo > FISHER_MAX_TERMS)
		return diff_ztest(x1, n1, x2, n2);
	lden = lchoose(n1 + n2, k);
	lobs = lchoose(n1, x1) + lchoose(n2, x2) - lden;
	/* Two-sided: the probability of every table at most as likely as the observed one. */
	for (int64_t i = lo; i <= hi; i++) {
		double l = lchoose(n1, i) + lchoose(n2, k - i) - lden;

		if (l <= lobs + 1e-7)
			p += exp(l);
	}
	return p > 1 ? 1 : p;
}

static double ldbinom(int64_t k, int64_t n, double p)
{
	return lchoose(n, k) + (double)k * log(p) + (double)(n - k) * log1p(-p);
}

/* Above this many samples of one function the binomial's normal approximation is exact enough (and O(1)). */
#define POISSON_EXACT_MAX 100000

double diff_poisson(int64_t x1, double w1, int64_t x2, double w2)
{
	double p = w1 > 0 && w2 > 0 && isfinite(w1) && isfinite(w2) ? w2 / (w1 + w2) : 0.5, lobs, sum = 0;
	int64_t n;

	if (x1 < 0 || x2 < 0 || (x1 == 0 && x2 == 0))
		return 1.0;
	if (x1 > INT64_MAX - x2 || x1 + x2 > POISSON_EXACT_MAX) {
		double nn = (double)x1 + (double)x2, z = ((double)x1 - nn * p) / sqrt(nn * p * (1 - p));

		return erfc(fabs(z) / M_SQRT2);
	}
	n = x1 + x2;
	/* Two-sided as R's binom.test: every outcome at most as likely as the observed one. */
	lobs = ldbinom(x1, n, p);
	for (int64_t i = 0; i <= n; i++) {
		double l = ldbinom(i, n, p);

		if (l <= lobs + 1e-7)
			sum += exp(l);
	}
	return sum > 1 ? 1 : sum;
}

struct pidx {
	double p;
	size_t i;
};

static int pidx_cmp(const void *x, const void *y)
{
	const struct pidx *a = x, *b = y;

	if (a->p != b->p)
		return a->p < b->p ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

void diff_adjust(double *p, size_t n, enum diff_correction c)
{
	struct pidx *s;
	double run;

	if (c == DIFF_NONE || n == 0)
		return;
	s = xmalloc(n * sizeof(*s));
	for (size_t i = 0; i < n; i++) {
		s[i].p = p[i];
		s[i].i = i;
	}
	qsort(s, n, sizeof(*s), pidx_cmp);
	if (c == DIFF_HOLM) {
		/* Holm's step-down: p(j) * (n - j), made monotone from the smallest up. */
		run = 0;
		for (size_t j = 0; j < n; j++) {
			double v = s[j].p * (double)(n - j);

			if (v > 1)
				v = 1;
			if (v < run)
				v = run;
			run = v;
			p[s[j].i] = v;
		}
	} else {
		/* Benjamini-Hochberg step-up: p(j) * n / (j + 1), made monotone from the largest down. */
		run = 1;
		for (size_t j = n; j-- > 0;) {
			double v = s[j].p * (double)n / (double)(j + 1);

			if (v > 1)
				v = 1;
			if (v > run)
				v = run;
			run = v;
			p[s[j].i] = v;
		}
	}
	free(s);
}

const char *diff_correction_name(enum diff_correction c)
{
	return c == DIFF_HOLM ? "holm" : c == DIFF_BH ? "bh" : "none";
}

int diff_correction_by_name(const char *name)
{
	if (!strcmp(name, "holm"))
		return DIFF_HOLM;
	if (!strcmp(name, "bh") || !strcmp(name, "fdr") || !strcmp(name, "benjamini-hochberg"))
		return DIFF_BH;
	if (!strcmp(name, "none"))
		return DIFF_NONE;
	return -1;
}

enum diff_basis diff_basis_of(const struct diff_opts *o)
{
	if (o && o->basis != DIFF_BASIS_AUTO)
		return o->basis;
	return o && o->whole_runs ? DIFF_BASIS_ABSOLUTE : DIFF_BASIS_SHARES;
}

static const char *basis_reason(const struct diff_opts *o)
{
	if (o && o->basis == DIFF_BASIS_ABSOLUTE)
		return "--absolute";
	if (o && o->basis == DIFF_BASIS_SHARES)
		return "--normalize";
	if (o && o->whole_runs)
		return "both sides ran their command to completion";
	return "the profiles are not known to be whole runs of one command";
}

/* ---- per-function comparison --------------------------------------------------------------------------- */

/* The column compared: --value, else "samples" counts when present, else the default column. */
static int pick_column(const struct profile *p, const char *value, double *divisor, bool *estimated,
		       struct err *e)
{
	int col = -1;

	if (value) {
		col = profile_find_column(p, value);
		if (col < 0)
			return err_set(e, "the profile has no '%s' values", value);
	} else {
		for (size_t i = 0; i < p->ncolumns && col < 0; i++)
			if (!strcmp(profile_str(p, p->columns[i].type), "samples") &&
			    !strcmp(profile_str(p, p->columns[i].unit), "count"))
				col = (int)i;
		if (col < 0)
			col = profile_default_column(p);
		if (col < 0)
			return err_set(e, "the profile has no values");
	}
	*divisor = 1;
	if (strcmp(profile_str(p, p->columns[col].unit), "count") && p->period > 0 &&
	    p->period_type.unit == p->columns[col].unit) {
		/* Time or bytes: counts are value / sampling period when the period is in the same unit. */
		*divisor = (double)p->period;
		*estimated = true;
	} else {
		/*
		 * Weighted samples (folded stacks that sum sample periods): the tests need the number of samples.
		 * A "samples" column beside other value columns was counted by its reader (perf script, perf.data,
		 * pprof): those are samples. Alone, its common divisor is a weight only when that is unambiguous
		 * (sample_weight()'s strict rule) or as large as a sampling period; small counts that merely share a
		 * factor (10 and 5) stay samples.
		 */
		bool counted = p->ncolumns > 1 && !strcmp(profile_str(p, p->columns[col].type), "samples");
		double w = counted ? 0 : sample_weight(p, col, false);

		if (w > 1 && w < 1000 && sample_weight(p, col, true) <= 1)
			w = 0;
		if (w > 1) {
			*divisor = w;
			*estimated = true;
		} else if (strcmp(profile_str(p, p->columns[col].unit), "count")) {
			*estimated = true;
		}
	}
	return col;
}

/*
 * What a side's cost is measured in, beside the counted column `col`: the column itself when it holds time or
 * bytes; else the profile's cost column (the sampling period's type, as pprof pairs "samples" with "cpu", or
 * any nanoseconds column), or the counts times the sampling period; else the counts themselves.
 */
struct cost {
	int col;
	double mult; /* cost of one unit of `col` */
	const char *unit, *type;
};

static bool is_cost_unit(const char *unit)
{
	return !strcmp(unit, "nanoseconds") || !strcmp(unit, "bytes");
}

static void pick_cost(const struct profile *p, int col, struct cost *c)
{
	const char *unit = profile_str(p, p->columns[col].unit);

	*c = (struct cost){ col, 1.0, "count", profile_str(p, p->columns[col].type) };
	if (strcmp(unit, "count")) {
		c->unit = unit;
		return;
	}
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < p->ncolumns; i++) {
			const struct value_type *t = &p->columns[i];

			if ((int)i == col || !is_cost_unit(profile_str(p, t->unit)))
				continue;
			if (pass == 0 ? (t->type == p->period_type.type && t->unit == p->period_type.unit)
				      : !strcmp(profile_str(p, t->unit), "nanoseconds")) {
				*c = (struct cost){ (int)i, 1.0, profile_str(p, t->unit), profile_str(p, t->type) };
				return;
			}
		}
	if (p->period > 0 && is_cost_unit(profile_str(p, p->period_type.unit))) {
		c->mult = (double)p->period;
		c->unit = profile_str(p, p->period_type.unit);
		c->type = profile_str(p, p->period_type.type);
	}
}

static int64_t to_count(int64_t v, double divisor)
{
	return divisor == 1 ? v : (int64_t)llround((double)v / divisor);
}

/* Per side, by function index: the counted samples and the cost, self and total. */
struct side {
	int64_t *self, *total;
	double *vself, *vtotal;
};

struct sides {
	struct side s[2];
	size_t alloc;
	struct u64map idx; /* name id -> function index */
};

/* The index of function `name` in `d`, added (with zeroes on both sides) when new. */
static size_t fn_slot(struct diff_result *d, struct sides *ss, const char *name, size_t len)
{
	uint32_t id = strtab_intern(&d->names, name, len);
	int ins;
	uint64_t *slot = u64map_insert(&ss->idx, id, &ins);

	if (!ins)
		return (size_t)*slot;
	ALLOC_GROW(d->v, d->nr + 1, d->alloc);
	memset(&d->v[d->nr], 0, sizeof(d->v[0]));
	d->v[d->nr].name = id;
	if (d->nr + 1 > ss->alloc) {
		ss->alloc = (d->nr + 1) * 2;
		for (int s = 0; s < 2; s++) {
			ss->s[s].self = xrealloc(ss->s[s].self, ss->alloc * sizeof(*ss->s[s].self));
			ss->s[s].total = xrealloc(ss->s[s].total, ss->alloc * sizeof(*ss->s[s].total));
			ss->s[s].vself = xrealloc(ss->s[s].vself, ss->alloc * sizeof(*ss->s[s].vself));
			ss->s[s].vtotal = xrealloc(ss->s[s].vtotal, ss->alloc * sizeof(*ss->s[s].vtotal));
		}
	}
	for (int s = 0; s < 2; s++) {
		ss->s[s].self[d->nr] = ss->s[s].total[d->nr] = 0;
		ss->s[s].vself[d->nr] = ss->s[s].vtotal[d->nr] = 0;
	}
	*slot = d->nr;
	return d->nr++;
}

static void sides_release(struct sides *ss)
{
	for (int s = 0; s < 2; s++) {
		free(ss->s[s].self);
		free(ss->s[s].total);
		free(ss->s[s].vself);
		free(ss->s[s].vtotal);
	}
	u64map_release(&ss->idx);
}

static int fn_cmp_shares(const void *x, const void *y)
{
	const struct diff_fn *a = x, *b = y;
	double da = fabs(a->delta_pct), db = fabs(b->delta_pct);

	if (da != db)
		return da > db ? -1 : 1;
	if (a->after_pct != b->after_pct)
		return a->after_pct > b->after_pct ? -1 : 1;
	if (a->p_value != b->p_value)
		return a->p_value < b->p_value ? -1 : 1;
	return a->name < b->name ? -1 : a->name > b->name;
}

static int fn_cmp_absolute(const void *x, const void *y)
{
	const struct diff_fn *a = x, *b = y;
	double da = fabs(a->delta_value), db = fabs(b->delta_value);

	if (da != db)
		return da > db ? -1 : 1;
	return fn_cmp_shares(x, y);
}

static double pct(int64_t x, int64_t n)
{
	return n > 0 ? 100.0 * (double)x / (double)n : 0.0;
}

/* Reads one side: its counted samples and its cost, per function. */
static int read_side(struct diff_result *out, struct sides *ss, int s, struct profile *p, const struct diff_opts *o,
		     struct cost *cost, struct err *e)
{
	struct hotspots h, hv;
	double divisor;
	int col = pick_column(p, o->value, &divisor, &out->counts_estimated, e);
	const char *which = s ? "AFTER" : "BEFORE";
	bool counts;

	if (col < 0)
		return err_wrap(e, "the %s profile", which);
	if (hotspots_compute(p, col, &h))
		return err_set(e, "the %s profile has no value column %d", which, col);
	pick_cost(p, col, cost);
	/* Without a cost unit, the cost is the samples counted (weighted folded stacks divided as for the tests). */
	counts = !strcmp(cost->unit, "count");
	if (cost->col != col && hotspots_compute(p, cost->col, &hv)) {
		hotspots_release(&h);
		return err_set(e, "the %s profile has no value column %d", which, cost->col);
	}
	*(s ? &out->after_type : &out->before_type) = profile_str(p, p->columns[col].type);
	out->unit = profile_str(p, p->columns[col].unit);
	out->saturated = out->saturated || profile_sums_saturate(p, col) || profile_sums_saturate(p, cost->col);
	*(s ? &out->after_total : &out->before_total) = to_count(h.grand_total, divisor);
	for (size_t i = 0; i < h.nr; i++) {
		size_t f = fn_slot(out, ss, profile_str(p, h.v[i].name), profile_strlen(p, h.v[i].name));

		ss->s[s].self[f] = sat_add64(ss->s[s].self[f], to_count(h.v[i].self, divisor));
		ss->s[s].total[f] = sat_add64(ss->s[s].total[f], to_count(h.v[i].total, divisor));
		if (cost->col == col && counts) {
			ss->s[s].vself[f] += (double)to_count(h.v[i].self, divisor);
			ss->s[s].vtotal[f] += (double)to_count(h.v[i].total, divisor);
		} else if (cost->col == col) {
			ss->s[s].vself[f] += (double)h.v[i].self * cost->mult;
			ss->s[s].vtotal[f] += (double)h.v[i].total * cost->mult;
		}
	}
	*(s ? &out->after_value_total : &out->before_value_total) =
		counts ? (double)to_count(h.grand_total, divisor) : (double)h.grand_total * cost->mult;
	if (cost->col != col) {
		for (size_t i = 0; i < hv.nr; i++) {
			size_t f = fn_slot(out, ss, profile_str(p, hv.v[i].name), profile_strlen(p, hv.v[i].name));

			ss->s[s].vself[f] += (double)hv.v[i].self;
			ss->s[s].vtotal[f] += (double)hv.v[i].total;
		}
		*(s ? &out->after_value_total : &out->before_value_total) = (double)hv.grand_total;
		hotspots_release(&hv);
	}
	hotspots_release(&h);
	return 0;
}

/* Sides whose costs are in different units (time and bytes, or time and plain counts) compare their counts. */
static void costs_as_counts(struct diff_result *out, struct sides *ss)
{
	for (int s = 0; s < 2; s++)
		for (size_t f = 0; f < out->nr; f++) {
			ss->s[s].vself[f] = (double)ss->s[s].self[f];
			ss->s[s].vtotal[f] = (double)ss->s[s].total[f];
		}
	out->before_value_total = (double)out->before_total;
	out->after_value_total = (double)out->after_total;
	out->value_unit = "count";
	out->value_type = "samples";
}

/* Sets the shares, costs and raw p-value of function `i`. */
static void compare_fn(struct diff_result *out, const struct sides *ss, size_t i, bool inclusive)
{
	struct diff_fn *f = &out->v[i];
	const struct side *b = &ss->s[0], *a = &ss->s[1];
	int64_t n1 = out->before_total, n2 = out->after_total;
	double e1, e2, e3, e4, lo;

	f->before_self_pct = pct(b->self[i], n1);
	f->after_self_pct = pct(a->self[i], n2);
	f->before_total_pct = pct(b->total[i], n1);
	f->after_total_pct = pct(a->total[i], n2);
	f->before = inclusive ? b->total[i] : b->self[i];
	f->after = inclusive ? a->total[i] : a->self[i];
	if (f->before > n1)
		f->before = n1;
	if (f->after > n2)
		f->after = n2;
	f->before_pct = pct(f->before, n1);
	f->after_pct = pct(f->after, n2);
	f->delta_pct = f->after_pct - f->before_pct;
	f->before_value = inclusive ? b->vtotal[i] : b->vself[i];
	f->after_value = inclusive ? a->vtotal[i] : a->vself[i];
	f->delta_value = f->after_value - f->before_value;
	f->delta_abs_pct = out->before_value_total > 0 ? 100 * f->delta_value / out->before_value_total : 0;
	if (out->basis == DIFF_BASIS_ABSOLUTE) {
		f->test = "poisson";
		f->p_value = diff_poisson(f->before, out->before_w, f->after, out->after_w);
		f->direction = f->delta_value > 0 ? 1 : f->delta_value < 0 ? -1 : 0;
		return;
	}
	f->direction = f->delta_pct > 0 ? 1 : f->delta_pct < 0 ? -1 : 0;
	/* Expected cell counts under H0 decide between the z-test and Fisher's exact test. */
	e1 = ((double)f->before + (double)f->after) * (double)n1 / ((double)n1 + (double)n2);
	e2 = ((double)f->before + (double)f->after) * (double)n2 / ((double)n1 + (double)n2);
	e3 = (double)n1 - e1;
	e4 = (double)n2 - e2;
	lo = fmin(fmin(e1, e2), fmin(e3, e4));
	if (lo < 5) {
		f->test = "fisher";
		f->p_value = diff_fisher(f->before, n1, f->after, n2);
	} else {
		f->test = "z";
		f->p_value = diff_ztest(f->before, n1, f->after, n2);
	}
}

int diff_compute(struct profile *before, struct profile *after, const struct diff_opts *o, struct diff_result *out,
		 struct err *e)
{
	static const struct diff_opts defaults = DIFF_OPTS_INIT;
	struct profile *ps[2] = { before, after };
	struct sides ss = { .idx = U64MAP_INIT };
	struct cost cost[2];
	double *pv = NULL;
	size_t ntested = 0;
	int ret = -1;

	if (!o)
		o = &defaults;
	memset(out, 0, sizeof(*out));
	strtab_intern(&out->names, "", 0);
	out->alpha = o->alpha > 0 ? o->alpha : 0.05;
	out->min_delta = o->min_delta;
	out->correction = o->correction;
	out->inclusive = o->inclusive;
	out->basis = diff_basis_of(o);
	out->basis_reason = basis_reason(o);
	for (int s = 0; s < 2; s++)
		if (read_side(out, &ss, s, ps[s], o, &cost[s], e))
			goto out;
	if (out->before_total <= 0 || out->after_total <= 0) {
		err_set(e, "the %s profile has no samples", out->before_total <= 0 ? "BEFORE" : "AFTER");
		goto out;
	}
	out->value_unit = cost[1].unit;
	out->value_type = cost[1].type;
	if (strcmp(cost[0].unit, cost[1].unit))
		costs_as_counts(out, &ss);
	out->ratio = out->after_value_total > 0 ? out->before_value_total / out->after_value_total : INFINITY;
	out->before_w = out->before_value_total / (double)out->before_total;
	out->after_w = out->after_value_total / (double)out->after_total;

	pv = xmalloc((out->nr ? out->nr : 1) * sizeof(*pv));
	for (size_t i = 0; i < out->nr; i++) {
		compare_fn(out, &ss, i, o->inclusive);
		if (out->v[i].before > 0 || out->v[i].after > 0)
			pv[ntested++] = out->v[i].p_value;
	}
	/* Functions without samples of the tested kind in either profile are not tested (p = 1, not counted). */
	diff_adjust(pv, ntested, o->correction);
	ntested = 0;
	for (size_t i = 0; i < out->nr; i++) {
		struct diff_fn *f = &out->v[i];
		bool moved = out->basis == DIFF_BASIS_ABSOLUTE ?
				     fabs(f->delta_abs_pct) >= o->min_delta && f->before_value != f->after_value :
				     fabs(f->delta_pct) >= o->min_delta && f->before_pct != f->after_pct;

		f->p_adjusted = f->before > 0 || f->after > 0 ? pv[ntested++] : 1.0;
		f->significant = f->p_adjusted < out->alpha && moved;
		out->significant += f->significant;
	}
	out->tested = ntested;
	if (out->nr > 1)
		qsort(out->v, out->nr, sizeof(*out->v),
		      out->basis == DIFF_BASIS_ABSOLUTE ? fn_cmp_absolute : fn_cmp_shares);
	ret = 0;
out:
	if (ret)
		diff_release(out);
	free(pv);
	sides_release(&ss);
	return ret;
}

void diff_release(struct diff_result *d)
{
	free(d->v);
	strtab_release(&d->names);
	memset(d, 0, sizeof(*d));
}

/* ---- the differential flame graph ---------------------------------------------------------------------- */

int diff_graph_plan(const struct profile *before, const struct profile *after, const struct diff_opts *o,
		    struct diff_plan *g, struct err *e)
{
	static const struct diff_opts defaults = DIFF_OPTS_INIT;
	const struct profile *ps[2] = { before, after };
	struct cost cost[2];
	double raw[2], costs[2], div;
	bool est = false;
	char r[64];

	if (!o)
		o = &defaults;
	memset(g, 0, sizeof(*g));
	for (int s = 0; s < 2; s++) {
		int col = pick_column(ps[s], o->value, &div, &est, e);

		if (col < 0)
			return err_wrap(e, "the %s profile", s ? "AFTER" : "BEFORE");
		pick_cost(ps[s], col, &cost[s]);
		*(s ? &g->after_column : &g->before_column) = col;
		raw[s] = (double)profile_total(ps[s], col);
		costs[s] = cost[s].col == col ? raw[s] * cost[s].mult : (double)profile_total(ps[s], cost[s].col);
	}
	g->absolute = diff_basis_of(o) == DIFF_BASIS_ABSOLUTE;
	if (!strcmp(cost[0].unit, cost[1].unit) && is_cost_unit(cost[1].unit) && raw[0] > 0 && raw[1] > 0) {
		g->unit = cost[1].unit;
		g->unit_value = costs[1] / raw[1];
	}
	/* Absolute: BEFORE's units converted to AFTER's by their costs; shares: BEFORE scaled to AFTER's total. */
	if (raw[0] > 0 && raw[1] > 0)
		g->scale = g->absolute && g->unit_value > 0 ? (costs[0] / raw[0]) / g->unit_value :
			   g->absolute ? 1.0 : raw[1] / raw[0];
	else
		g->scale = 1.0;
	if (g->absolute) {
		snprintf(r, sizeof(r), costs[1] > 0 ? "%.2f\xc3\x97" : "-", costs[0] / costs[1]);
		snprintf(g->subtitle, sizeof(g->subtitle),
			 "AFTER's stacks; red grew, blue shrank (absolute %s; BEFORE/AFTER %s)",
			 g->unit_value > 0 && !strcmp(g->unit, "nanoseconds") ? "time" : "cost", r);
	} else {
		snprintf(g->subtitle, sizeof(g->subtitle),
			 "AFTER's stacks; red grew, blue shrank (BEFORE scaled to AFTER's total)");
	}
	g->title = o->title;
	return 0;
}

int diff_profiles(struct profile *before, struct profile *after, const struct diff_opts *o, struct buf *report,
		  struct err *e)
{
	struct diff_opts runs = o ? *o : (struct diff_opts)DIFF_OPTS_INIT;
	struct diff_result d;

	if (diff_compute(before, after, &runs, &d, e))
		return -1;
	if (report)
		diff_format_text(&d, report, 20, false, false);
	diff_release(&d);
	return 0;
}
