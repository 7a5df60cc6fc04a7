/* Two-profile comparison: per-function share changes with significance tests, and the differential graph. */
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
#include "../render/flamegraph.h"
#include "analysis.h"
#include "hotspots.h"
#include "report.h"

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

static int64_t to_count(int64_t v, double divisor)
{
	return divisor == 1 ? v : (int64_t)llround((double)v / divisor);
}

struct side {
	int64_t *self, *total;
	size_t alloc;
};

static void side_add(struct diff_result *d, struct side *s, struct side *other, struct u64map *idx,
		     const char *name, size_t len, int64_t self, int64_t total)
{
	uint32_t id = strtab_intern(&d->names, name, len);
	int ins;
	uint64_t *slot = u64map_insert(idx, id, &ins);

	if (ins) {
		ALLOC_GROW(d->v, d->nr + 1, d->alloc);
		memset(&d->v[d->nr], 0, sizeof(d->v[0]));
		d->v[d->nr].name = id;
		if (d->nr + 1 > s->alloc) {
			size_t na = (d->nr + 1) * 2;

			s->self = xrealloc(s->self, na * sizeof(*s->self));
			s->total = xrealloc(s->total, na * sizeof(*s->total));
			other->self = xrealloc(other->self, na * sizeof(*other->self));
			other->total = xrealloc(other->total, na * sizeof(*other->total));
			s->alloc = other->alloc = na;
		}
		s->self[d->nr] = s->total[d->nr] = other->self[d->nr] = other->total[d->nr] = 0;
		*slot = d->nr++;
	}
	s->self[*slot] = sat_add64(s->self[*slot], self);
	s->total[*slot] = sat_add64(s->total[*slot], total);
}

static int fn_cmp(const void *x, const void *y)
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

static double pct(int64_t x, int64_t n)
{
	return n > 0 ? 100.0 * (double)x / (double)n : 0.0;
}

int diff_compute(struct profile *before, struct profile *after, const struct diff_opts *o, struct diff_result *out,
		 struct err *e)
{
	static const struct diff_opts defaults = DIFF_OPTS_INIT;
	struct profile *ps[2] = { before, after };
	struct side sides[2] = { { 0 }, { 0 } };
	struct u64map idx = U64MAP_INIT;
	struct buf name = BUF_INIT;
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
	for (int s = 0; s < 2; s++) {
		struct hotspots h;
		double divisor;
		int col = pick_column(ps[s], o->value, &divisor, &out->counts_estimated, e);

		if (col < 0) {
			err_wrap(e, "%s profile", s ? "the AFTER" : "the BEFORE");
			goto out;
		}
		if (hotspots_compute(ps[s], col, &h)) {
			err_set(e, "the %s profile has no value column %d", s ? "AFTER" : "BEFORE", col);
			goto out;
		}
		if (s == 0)
			out->before_type = profile_str(ps[s], ps[s]->columns[col].type);
		else
			out->after_type = profile_str(ps[s], ps[s]->columns[col].type);
		out->unit = profile_str(ps[s], ps[s]->columns[col].unit);
		out->saturated = out->saturated || profile_sums_saturate(ps[s], col);
		if (s == 0)
			out->before_total = to_count(h.grand_total, divisor);
		else
			out->after_total = to_count(h.grand_total, divisor);
		for (size_t i = 0; i < h.nr; i++)
			side_add(out, &sides[s], &sides[1 - s], &idx, profile_str(ps[s], h.v[i].name),
				 profile_strlen(ps[s], h.v[i].name), to_count(h.v[i].self, divisor),
				 to_count(h.v[i].total, divisor));
		hotspots_release(&h);
	}
	if (out->before_total <= 0 || out->after_total <= 0) {
		err_set(e, "the %s profile has no samples", out->before_total <= 0 ? "BEFORE" : "AFTER");
		goto out;
	}

	pv = xmalloc((out->nr ? out->nr : 1) * sizeof(*pv));
	for (size_t i = 0; i < out->nr; i++) {
		struct diff_fn *f = &out->v[i];
		int64_t n1 = out->before_total, n2 = out->after_total;
		double e1, e2, e3, e4, lo;

		f->before_self_pct = pct(sides[0].self[i], n1);
		f->after_self_pct = pct(sides[1].self[i], n2);
		f->before_total_pct = pct(sides[0].total[i], n1);
		f->after_total_pct = pct(sides[1].total[i], n2);
		f->before = o->inclusive ? sides[0].total[i] : sides[0].self[i];
		f->after = o->inclusive ? sides[1].total[i] : sides[1].self[i];
		if (f->before > n1)
			f->before = n1;
		if (f->after > n2)
			f->after = n2;
		f->before_pct = pct(f->before, n1);
		f->after_pct = pct(f->after, n2);
		f->delta_pct = f->after_pct - f->before_pct;
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
		if (f->before > 0 || f->after > 0)
			pv[ntested++] = f->p_value;
	}
	/* Functions without samples of the tested kind in either profile are not tested (p = 1, not counted). */
	diff_adjust(pv, ntested, o->correction);
	ntested = 0;
	for (size_t i = 0; i < out->nr; i++) {
		struct diff_fn *f = &out->v[i];

		f->p_adjusted = f->before > 0 || f->after > 0 ? pv[ntested++] : 1.0;
		f->significant = f->p_adjusted < out->alpha && fabs(f->delta_pct) >= o->min_delta &&
				 f->before_pct != f->after_pct;
		out->significant += f->significant;
	}
	out->tested = ntested;
	if (out->nr > 1)
		qsort(out->v, out->nr, sizeof(*out->v), fn_cmp);
	ret = 0;
out:
	if (ret)
		diff_release(out);
	free(pv);
	for (int s = 0; s < 2; s++) {
		free(sides[s].self);
		free(sides[s].total);
	}
	u64map_release(&idx);
	buf_release(&name);
	return ret;
}

void diff_release(struct diff_result *d)
{
	free(d->v);
	strtab_release(&d->names);
	memset(d, 0, sizeof(*d));
}

/* ---- reports ------------------------------------------------------------------------------------------- */

/* Six significant digits: enough for any decision, and stable across libm implementations. */
static double sig6(double v)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%.6g", v);
	return strtod(tmp, NULL);
}

static const char *fmt_p(char *out, size_t n, double p)
{
	if (p < 0.0001)
		snprintf(out, n, "<0.0001");
	else
		snprintf(out, n, "%.4f", p);
	return out;
}

static const char *correction_text(enum diff_correction c)
{
	return c == DIFF_HOLM ? "Holm-adjusted" : c == DIFF_BH ? "Benjamini-Hochberg-adjusted" : "unadjusted";
}

void diff_format_text(const struct diff_result *d, struct buf *out, size_t top, bool color, bool markdown)
{
	char n1[32], n2[32], pa[32];
	size_t shown = 0;

	fmt_count(n1, (uint64_t)d->before_total);
	fmt_count(n2, (uint64_t)d->after_total);
	if (markdown) {
		buf_addf(out, "**Before:** %s %s, **after:** %s %s. Changes in %s share: **%zu significant** of %zu "
			 "functions (two-proportion test, %s p < %g).\n\n", n1, d->before_type, n2, d->after_type,
			 d->inclusive ? "total" : "self", d->significant, d->tested, correction_text(d->correction), d->alpha);
		buf_adds(out, "| Before % | After % | Delta | p (adj.) | Significant | Function |\n"
			      "|---:|---:|---:|---:|---|---|\n");
	} else {
		buf_addf(out, "Before: %s %s   After: %s %s\n", n1, d->before_type, n2, d->after_type);
		buf_addf(out, "Changes in %s share: %zu significant of %zu functions (two-proportion test, %s p < %g%s)\n",
			 d->inclusive ? "total (inclusive)" : "self", d->significant, d->tested, correction_text(d->correction),
			 d->alpha, d->min_delta > 0 ? ", |delta| >= min-delta" : "");
		if (d->counts_estimated)
			buf_adds(out, "note: the values are weighted (periods, time or bytes); the tests count value / "
				      "sampling period (or the values' common divisor) as samples\n");
		buf_addf(out, "\n  %8s %8s %8s %9s  %-5s  %s\n", "BEFORE%", "AFTER%", "DELTA", "P-ADJ", "SIG", "FUNCTION");
	}
	for (size_t i = 0; i < d->nr && shown < top; i++) {
		const struct diff_fn *f = &d->v[i];
		const char *name = strtab_str(&d->names, f->name);

		if (f->before == 0 && f->after == 0)
			continue;
		shown++;
		fmt_p(pa, sizeof(pa), f->p_adjusted);
		if (markdown) {
			buf_addf(out, "| %.2f | %.2f | %+.2f | %s | %s | `", f->before_pct, f->after_pct, f->delta_pct, pa,
				 f->significant ? (f->delta_pct > 0 ? "**yes, grew**" : "**yes, shrank**") : "no (noise)");
			for (const char *s = name; *s; s++) {
				if (*s == '|')
					buf_adds(out, "\\|");
				else
					buf_addch(out, *s == '`' ? '\'' : *s);
			}
			buf_adds(out, "` |\n");
		} else {
			const char *c = !color || !f->significant ? "" : f->delta_pct > 0 ? "\033[31m" : "\033[34m";

			buf_addf(out, "  %s%8.2f %8.2f %+8.2f %9s  %-5s%s  %s\n", c, f->before_pct, f->after_pct,
				 f->delta_pct, pa, f->significant ? "yes" : "noise", *c ? "\033[0m" : "", name);
		}
	}
	if (!shown)
		buf_adds(out, markdown ? "\nNo function has samples.\n" : "  (no functions)\n");
}

void diff_format_json(const struct diff_result *d, struct jw *j, size_t top)
{
	size_t shown = 0;

	jw_key(j, "before");
	jw_object_begin(j);
	jw_key(j, "total");
	jw_int(j, d->before_total);
	jw_key(j, "value_type");
	jw_string(j, d->before_type);
	jw_object_end(j);
	jw_key(j, "after");
	jw_object_begin(j);
	jw_key(j, "total");
	jw_int(j, d->after_total);
	jw_key(j, "value_type");
	jw_string(j, d->after_type);
	jw_object_end(j);
	jw_key(j, "measure");
	jw_string(j, d->inclusive ? "total" : "self");
	jw_key(j, "test");
	jw_string(j, "two-proportion z-test (Fisher's exact test when an expected count is below 5)");
	jw_key(j, "correction");
	jw_string(j, diff_correction_name(d->correction));
	jw_key(j, "alpha");
	jw_double(j, d->alpha);
	jw_key(j, "min_delta_pct");
	jw_double(j, d->min_delta);
	jw_key(j, "counts_estimated");
	jw_bool(j, d->counts_estimated);
	jw_key(j, "tested");
	jw_uint(j, d->tested);
	jw_key(j, "significant");
	jw_uint(j, d->significant);
	jw_key(j, "functions");
	jw_array_begin(j);
	for (size_t i = 0; i < d->nr && shown < top; i++) {
		const struct diff_fn *f = &d->v[i];

		if (f->before == 0 && f->after == 0)
			continue;
		shown++;
		jw_object_begin(j);
		jw_key(j, "function");
		jw_string(j, strtab_str(&d->names, f->name));
		jw_key(j, "before");
		jw_int(j, f->before);
		jw_key(j, "after");
		jw_int(j, f->after);
		jw_key(j, "before_pct");
		jw_double(j, report_round_pct(f->before_pct));
		jw_key(j, "after_pct");
		jw_double(j, report_round_pct(f->after_pct));
		jw_key(j, "delta_pct");
		jw_double(j, report_round_pct(f->delta_pct));
		jw_key(j, "before_total_pct");
		jw_double(j, report_round_pct(f->before_total_pct));
		jw_key(j, "after_total_pct");
		jw_double(j, report_round_pct(f->after_total_pct));
		jw_key(j, "p_value");
		jw_double(j, sig6(f->p_value));
		jw_key(j, "p_adjusted");
		jw_double(j, sig6(f->p_adjusted));
		jw_key(j, "test");
		jw_string(j, f->test);
		jw_key(j, "significant");
		jw_bool(j, f->significant);
		jw_object_end(j);
	}
	jw_array_end(j);
}

/* ---- the differential flame graph ---------------------------------------------------------------------- */

struct graph_ctx {
	struct flamegraph *a, *b;
	uint32_t *map_b; /* node of `a` -> node of `b` or FG_NONE */
	uint32_t *map_a; /* node of `b` -> node of `a` or FG_NONE */
	double scale;    /* BEFORE values are multiplied by this */
	double total_a, total_b;
};

/* Maps each node of `g` to the node of `h` at the same path of names, by a depth-first walk. */
static uint32_t *map_nodes(const struct flamegraph *g, const struct flamegraph *h)
{
	uint32_t *map = xmalloc((g->nodes_nr ? g->nodes_nr : 1) * sizeof(*map));
	uint32_t *stack = NULL;
	size_t sp = 0, alloc = 0;

	for (size_t i = 0; i < g->nodes_nr; i++)
		map[i] = FG_NONE;
	map[0] = 0;
	ALLOC_GROW(stack, 1, alloc);
	stack[sp++] = 0;
	while (sp) {
		uint32_t n = stack[--sp];

		for (uint32_t c = g->nodes[n].first_child; c != FG_NONE; c = g->nodes[c].next_sibling) {
			size_t len;
			const char *name = fg_name(g, c, &len);

			map[c] = map[n] == FG_NONE ? FG_NONE : fg_find_child(h, map[n], name, len);
			ALLOC_GROW(stack, sp + 1, alloc);
			stack[sp++] = c;
		}
	}
	free(stack);
	return map;
}

static bool diff_tooltip(const struct flamegraph *g, uint32_t node, struct buf *tip, void *vctx)
{
	const struct graph_ctx *c = vctx;
	const struct fg_node *n = &g->nodes[node];
	uint32_t bn = c->map_b[node];
	double bval = bn == FG_NONE ? 0 : c->b->nodes[bn].value, bself = bn == FG_NONE ? 0 : c->b->nodes[bn].self;
	double dself = n->self - c->scale * bself, dtot = n->value - c->scale * bval;
	size_t len;
	const char *name = fg_name(g, node, &len);
	char cnt[32];

	buf_add(tip, name, len);
	buf_addf(tip, " (%s samples, %.2f%%; before %.2f%%; change: self %+.2f%%, with callees %+.2f%%)",
		 fmt_count(cnt, (uint64_t)llround(n->value)), c->total_a > 0 ? 100 * n->value / c->total_a : 0,
		 c->total_b > 0 ? 100 * bval / c->total_b : 0, c->total_a > 0 ? 100 * dself / c->total_a : 0,
		 c->total_a > 0 ? 100 * dtot / c->total_a : 0);
	return true;
}

static void folded_path(struct buf *b, const struct flamegraph *g, uint32_t node, uint32_t **path, size_t *alloc)
{
	size_t n = 0;

	for (uint32_t x = node; x != 0; x = g->nodes[x].parent) {
		ALLOC_GROW(*path, n + 1, *alloc);
		(*path)[n++] = x;
	}
	while (n--) {
		size_t len;
		const char *name = fg_name(g, (*path)[n], &len);

		buf_add(b, name, len);
		if (n)
			buf_addch(b, ';');
	}
}

static void write_folded(struct buf *out, const struct graph_ctx *c)
{
	uint32_t *path = NULL;
	size_t alloc = 0;

	/* Stacks of AFTER with their BEFORE counts, then stacks only in BEFORE (difffolded.pl's output). */
	for (uint32_t n = 1; n < c->a->nodes_nr; n++) {
		uint32_t bn = c->map_b[n];
		double bs = bn == FG_NONE ? 0 : c->b->nodes[bn].self * c->scale;

		if (c->a->nodes[n].self == 0 && bs == 0)
			continue;
		folded_path(out, c->a, n, &path, &alloc);
		buf_addf(out, " %lld %lld\n", (long long)llround(bs), (long long)llround(c->a->nodes[n].self));
	}
	for (uint32_t n = 1; n < c->b->nodes_nr; n++) {
		if (c->map_a[n] != FG_NONE || c->b->nodes[n].self == 0)
			continue;
		folded_path(out, c->b, n, &path, &alloc);
		buf_addf(out, " %lld 0\n", (long long)llround(c->b->nodes[n].self * c->scale));
	}
	free(path);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

int diff_write_graph(const struct profile *before, const struct profile *after, const struct diff_opts *o,
		     const char *path, struct err *e)
{
	static const struct diff_opts defaults = DIFF_OPTS_INIT;
	struct graph_ctx c = { 0 };
	struct fg_build_opts bo = { .column = -1, .base_column = -1 };
	struct fg_svg_opts so;
	struct afile af = { 0 };
	struct buf text = BUF_INIT;
	double div;
	bool est = false;
	int ret = -1;

	if (!o)
		o = &defaults;
	c.a = fg_new(false);
	c.b = fg_new(false);
	bo.column = pick_column(after, o->value, &div, &est, e);
	if (bo.column < 0 || fg_add_profile(c.a, after, &bo, e))
		goto out;
	bo.column = pick_column(before, o->value, &div, &est, e);
	if (bo.column < 0 || fg_add_profile(c.b, before, &bo, e))
		goto out;
	fg_finish(c.a);
	fg_finish(c.b);
	c.total_a = c.a->nodes[0].value;
	c.total_b = c.b->nodes[0].value;
	if (!(c.total_a > 0)) {
		err_set(e, "the AFTER profile has no samples to draw");
		goto out;
	}
	c.scale = o->normalize && c.total_b > 0 ? c.total_a / c.total_b : 1.0;
	c.map_b = map_nodes(c.a, c.b);
	c.map_a = map_nodes(c.b, c.a);
	/* flamegraph.pl colours a frame by the change of the samples ending in it. */
	for (uint32_t n = 0; n < c.a->nodes_nr; n++) {
		uint32_t bn = c.map_b[n];

		c.a->nodes[n].delta = c.a->nodes[n].self - (bn == FG_NONE ? 0 : c.scale * c.b->nodes[bn].self);
	}
	c.a->has_delta = true;

	if (ends_with(path, ".folded") || ends_with(path, ".txt")) {
		write_folded(&text, &c);
		ret = afile_write_all(path, text.buf, text.len, e);
		goto out;
	}
	fg_svg_opts_init(&so);
	so.title = o->title ? o->title : "Differential Flame Graph";
	so.subtitle = o->normalize ? "AFTER's stacks; red grew, blue shrank (BEFORE scaled to AFTER's total)"
				   : "AFTER's stacks; red grew, blue shrank (raw counts)";
	so.frame_tooltip = diff_tooltip;
	so.frame_tooltip_ctx = &c;
	if (afile_open(&af, path, e))
		goto out;
	if (fg_write_svg(c.a, af.fp, &so, e)) {
		afile_abort(&af);
		goto out;
	}
	ret = afile_commit(&af, e);
out:
	free(c.map_a);
	free(c.map_b);
	fg_free(c.a);
	fg_free(c.b);
	buf_release(&text);
	return ret;
}

int diff_profiles(struct profile *before, struct profile *after, const struct diff_opts *o, const char *svg_path,
		  struct buf *report, struct err *e)
{
	struct diff_result d;

	if (diff_compute(before, after, o, &d, e))
		return -1;
	if (report)
		diff_format_text(&d, report, 20, false, false);
	diff_release(&d);
	if (svg_path && diff_write_graph(before, after, o, svg_path, e))
		return -1;
	return 0;
}
