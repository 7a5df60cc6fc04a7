/*
 * The `kiln diff` report (text, Markdown, JSON "kiln-diff/1"; docs/diff.md): each side's total and cost, the
 * overall ratio, the verdict's basis and why, and per function the change of its share and of its cost.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/buf.h"
#include "../core/json.h"
#include "../core/util.h"
#include "diff.h"
#include "report.h"

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

static bool absolute(const struct diff_result *d)
{
	return d->basis == DIFF_BASIS_ABSOLUTE;
}

/* What the cost is, in words: "CPU time", "off-CPU time", "allocated bytes", "samples". */
static const char *cost_name(const struct diff_result *d)
{
	const char *t = d->value_type ? d->value_type : "";

	if (!d->value_unit || !strcmp(d->value_unit, "count"))
		return "samples";
	if (!strcmp(d->value_unit, "bytes"))
		return strstr(t, "alloc") ? "allocated bytes" : strstr(t, "inuse") ? "in-use bytes" : "bytes";
	if (strstr(t, "off"))
		return "off-CPU time";
	if (strstr(t, "wall"))
		return "wall time";
	if (strstr(t, "cpu") || strstr(t, "clock"))
		return "CPU time";
	return "time";
}

/* A cost as text: "12.3 ms", "1.5 MiB" or "1,234"; signed with `sign`. */
static const char *fmt_cost(char *out, const struct diff_result *d, double v, bool sign)
{
	char tmp[40];
	double a = sign ? fabs(v) : v;

	if (d->value_unit && !strcmp(d->value_unit, "nanoseconds"))
		fmt_ns(tmp, a);
	else if (d->value_unit && !strcmp(d->value_unit, "bytes"))
		fmt_bytes(tmp, a);
	else
		fmt_count(tmp, fabs(a) < 1.8e19 ? (uint64_t)(fabs(a) + 0.5) : UINT64_MAX); /* saturated sums */
	snprintf(out, 48, "%s%s", !sign ? "" : v > 0 ? "+" : v < 0 ? "-" : "", tmp);
	return out;
}

/* "8.02x less CPU time", "1.30x more samples", "the same CPU time". */
static void add_ratio(struct buf *out, const struct diff_result *d)
{
	const char *what = cost_name(d);
	bool counts = !strcmp(what, "samples");

	if (!isfinite(d->ratio) || d->ratio <= 0)
		buf_addf(out, "%s %s", d->ratio > 0 ? "no" : "only", what);
	else if (fabs(d->ratio - 1) < 0.005)
		buf_addf(out, "the same %s", what);
	else if (d->ratio > 1)
		buf_addf(out, "%.2f\xc3\x97 %s %s", d->ratio, counts ? "fewer" : "less", what);
	else
		buf_addf(out, "%.2f\xc3\x97 more %s", 1 / d->ratio, what);
}

static void add_summary(struct buf *out, const struct diff_result *d, bool md)
{
	char n1[32], n2[32], c1[48], c2[48];
	bool costs = d->value_unit && strcmp(d->value_unit, "count");
	const char *b = md ? "**" : "";

	fmt_count(n1, (uint64_t)d->before_total);
	fmt_count(n2, (uint64_t)d->after_total);
	buf_addf(out, "%sBefore:%s %s %s", b, b, n1, d->before_type);
	if (costs)
		buf_addf(out, " (%s %s)", fmt_cost(c1, d, d->before_value_total, false), cost_name(d));
	buf_addf(out, "%s%sAfter:%s %s %s", md ? ", " : "   ", b, b, n2, d->after_type);
	if (costs)
		buf_addf(out, " (%s %s)", fmt_cost(c2, d, d->after_value_total, false), cost_name(d));
	buf_addf(out, "%s%sOverall:%s ", md ? ", " : "\n", b, b);
	add_ratio(out, d);
	buf_adds(out, md ? ".\n\n" : "\n");
	if (absolute(d))
		buf_addf(out, "Verdict by absolute %s (%s; --normalize compares shares)%s", cost_name(d), d->basis_reason,
			 md ? ".\n\n" : "\n");
	else
		buf_addf(out, "Verdict by share of the total (%s; --absolute compares %s)%s", d->basis_reason,
			 cost_name(d), md ? ".\n\n" : "\n");
}

void diff_format_text(const struct diff_result *d, struct buf *out, size_t top, bool color, bool markdown)
{
	char pa[32], c1[48], c2[48], c3[48];
	const char *measure = d->inclusive ? "total" : "self", *test = absolute(d) ? "Poisson rate test" :
											"two-proportion test";
	size_t shown = 0;

	add_summary(out, d, markdown);
	if (markdown) {
		buf_addf(out, "Changes in %s %s: **%zu significant** of %zu functions (%s, %s p < %g).\n\n", measure,
			 absolute(d) ? cost_name(d) : "share", d->significant, d->tested, test,
			 correction_text(d->correction), d->alpha);
		buf_adds(out, "| Before % | After % | Delta | Before | After | Change | p (adj.) | Significant | Function |\n"
			      "|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
	} else {
		buf_addf(out, "Changes in %s %s: %zu significant of %zu functions (%s, %s p < %g%s)\n",
			 d->inclusive ? "total (inclusive)" : "self", absolute(d) ? cost_name(d) : "share",
			 d->significant, d->tested, test, correction_text(d->correction), d->alpha,
			 d->min_delta > 0 ? ", |delta| >= min-delta" : "");
		if (d->counts_estimated)
			buf_adds(out, "note: the values are weighted (periods, time or bytes); the tests count value / "
				      "sampling period (or the values' common divisor) as samples\n");
		buf_addf(out, "\n  %8s %8s %8s %10s %10s %10s %9s  %-5s  %s\n", "BEFORE%", "AFTER%", "DELTA", "BEFORE",
			 "AFTER", "CHANGE", "P-ADJ", "SIG", "FUNCTION");
	}
	for (size_t i = 0; i < d->nr && shown < top; i++) {
		const struct diff_fn *f = &d->v[i];
		const char *name = strtab_str(&d->names, f->name);

		if (f->before == 0 && f->after == 0)
			continue;
		shown++;
		fmt_p(pa, sizeof(pa), f->p_adjusted);
		fmt_cost(c1, d, f->before_value, false);
		fmt_cost(c2, d, f->after_value, false);
		fmt_cost(c3, d, f->delta_value, true);
		if (markdown) {
			buf_addf(out, "| %.2f | %.2f | %+.2f | %s | %s | %s | %s | %s | `", f->before_pct, f->after_pct,
				 f->delta_pct, c1, c2, c3, pa,
				 f->significant ? (f->direction > 0 ? "**yes, grew**" : "**yes, shrank**") : "no (noise)");
			for (const char *s = name; *s; s++) {
				if (*s == '|')
					buf_adds(out, "\\|");
				else
					buf_addch(out, *s == '`' ? '\'' : *s);
			}
			buf_adds(out, "` |\n");
		} else {
			const char *c = !color || !f->significant ? "" : f->direction > 0 ? "\033[31m" : "\033[34m";

			buf_addf(out, "  %s%8.2f %8.2f %+8.2f %10s %10s %10s %9s  %-5s%s  %s\n", c, f->before_pct,
				 f->after_pct, f->delta_pct, c1, c2, c3, pa, f->significant ? "yes" : "noise",
				 *c ? "\033[0m" : "", name);
		}
	}
	if (!shown)
		buf_adds(out, markdown ? "\nNo function has samples.\n" : "  (no functions)\n");
}

static void side_json(struct jw *j, const char *key, int64_t total, const char *type, double cost,
		      const struct diff_result *d)
{
	jw_key(j, key);
	jw_object_begin(j);
	jw_kv_i64(j, "total", total);
	jw_kv_str(j, "value_type", type);
	jw_kv_double(j, "cost", sig6(cost));
	jw_kv_str(j, "cost_unit", d->value_unit ? d->value_unit : "count");
	jw_object_end(j);
}

void diff_format_json(const struct diff_result *d, struct jw *j, size_t top)
{
	size_t shown = 0;

	side_json(j, "before", d->before_total, d->before_type, d->before_value_total, d);
	side_json(j, "after", d->after_total, d->after_type, d->after_value_total, d);
	jw_kv_str(j, "cost_type", d->value_type ? d->value_type : "samples");
	jw_kv_double(j, "ratio", sig6(d->ratio));
	jw_kv_str(j, "basis", absolute(d) ? "absolute" : "shares");
	jw_kv_str(j, "basis_reason", d->basis_reason ? d->basis_reason : "");
	jw_kv_str(j, "measure", d->inclusive ? "total" : "self");
	jw_kv_str(j, "test",
		  absolute(d) ? "Poisson rate test (exact conditional binomial test, normal approximation for "
				"counts above 100000)" :
				"two-proportion z-test (Fisher's exact test when an expected count is below 5)");
	jw_kv_str(j, "correction", diff_correction_name(d->correction));
	jw_kv_double(j, "alpha", d->alpha);
	jw_kv_double(j, "min_delta_pct", d->min_delta);
	jw_kv_bool(j, "counts_estimated", d->counts_estimated);
	jw_kv_u64(j, "tested", d->tested);
	jw_kv_u64(j, "significant", d->significant);
	jw_key(j, "functions");
	jw_array_begin(j);
	for (size_t i = 0; i < d->nr && shown < top; i++) {
		const struct diff_fn *f = &d->v[i];

		if (f->before == 0 && f->after == 0)
			continue;
		shown++;
		jw_object_begin(j);
		jw_kv_str(j, "function", strtab_str(&d->names, f->name));
		jw_kv_i64(j, "before", f->before);
		jw_kv_i64(j, "after", f->after);
		jw_kv_double(j, "before_pct", report_round_pct(f->before_pct));
		jw_kv_double(j, "after_pct", report_round_pct(f->after_pct));
		jw_kv_double(j, "delta_pct", report_round_pct(f->delta_pct));
		jw_kv_double(j, "before_total_pct", report_round_pct(f->before_total_pct));
		jw_kv_double(j, "after_total_pct", report_round_pct(f->after_total_pct));
		jw_kv_double(j, "before_cost", sig6(f->before_value));
		jw_kv_double(j, "after_cost", sig6(f->after_value));
		jw_kv_double(j, "delta_cost", sig6(f->delta_value));
		jw_kv_double(j, "delta_cost_pct", report_round_pct(f->delta_abs_pct));
		jw_kv_str(j, "change", f->direction > 0 ? "grew" : f->direction < 0 ? "shrank" : "unchanged");
		jw_kv_double(j, "p_value", sig6(f->p_value));
		jw_kv_double(j, "p_adjusted", sig6(f->p_adjusted));
		jw_kv_str(j, "test", f->test);
		jw_kv_bool(j, "significant", f->significant);
		jw_object_end(j);
	}
	jw_array_end(j);
}

void diff_report_text(const struct diff_result *d, const struct diff_report_opts *o, bool markdown, struct buf *out)
{
	if (markdown)
		buf_addf(out, "## kiln diff: %s -> %s\n\n", o->files[0], o->files[1]);
	else
		buf_addf(out, "%s -> %s\n", o->files[0], o->files[1]);
	diff_format_text(d, out, o->top, o->color && !markdown, markdown);
}

void diff_report_json(const struct diff_result *d, const struct diff_report_opts *o, struct buf *out)
{
	struct jw j;

	jw_init(&j, out, true);
	jw_object_begin(&j);
	jw_kv_str(&j, "schema", "kiln-diff/1");
	jw_key(&j, "files");
	jw_array_begin(&j);
	jw_string(&j, o->files[0]);
	jw_string(&j, o->files[1]);
	jw_array_end(&j);
	if (o->graph)
		jw_kv_str(&j, "graph", o->graph);
	diff_format_json(d, &j, o->top);
	jw_object_end(&j);
	buf_addch(out, '\n');
}
