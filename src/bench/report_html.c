/* The HTML comparison report: one self-contained page (inline CSS and SVG, no scripts) with a chart per pair. */
#include "bench/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/xalloc.h"

#define W 720.0
#define H 120.0
#define LEFT 90.0
#define RIGHT 20.0
#define TICK_PAD 4.0 /* the end ticks' labels are anchored inside the chart so they are never cut */

static void esc(struct buf *out, const char *s)
{
	buf_add_xml(out, s, strlen(s));
}

static void side_range(const struct cmp_side *s, double *lo, double *hi)
{
	size_t i;

	for (i = 0; i < s->nsamples; i++) {
		if (s->samples[i] < *lo)
			*lo = s->samples[i];
		if (s->samples[i] > *hi)
			*hi = s->samples[i];
	}
	if (isfinite(s->ci_lo) && s->ci_lo < *lo)
		*lo = s->ci_lo;
	if (isfinite(s->ci_hi) && s->ci_hi > *hi)
		*hi = s->ci_hi;
	if (isfinite(s->centre)) {
		if (s->centre < *lo)
			*lo = s->centre;
		if (s->centre > *hi)
			*hi = s->centre;
	}
}

static double xpos(double v, double lo, double hi)
{
	return LEFT + (v - lo) / (hi - lo) * (W - LEFT - RIGHT);
}

static void side_chart(struct buf *out, const struct cmp_side *s, double y, const char *cls, const char *label,
		       double lo, double hi)
{
	size_t i;

	buf_addf(out, "<text x=\"4\" y=\"%.1f\" class=\"lbl\">%s</text>\n", y + 4, label);
	for (i = 0; i < s->nsamples; i++) {
		/* Deterministic jitter, so the same input gives the same page. */
		double j = (double)(hash_u64(i + 1) % 1000) / 1000.0 * 20 - 10;

		buf_addf(out, "<circle class=\"%s\" cx=\"%.2f\" cy=\"%.2f\" r=\"3\"/>\n", cls,
			 xpos(s->samples[i], lo, hi), y + j);
	}
	if (isfinite(s->ci_lo) && isfinite(s->ci_hi))
		buf_addf(out, "<line class=\"ci\" x1=\"%.2f\" x2=\"%.2f\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
			 xpos(s->ci_lo, lo, hi), xpos(s->ci_hi, lo, hi), y + 14, y + 14);
	if (isfinite(s->centre))
		buf_addf(out, "<line class=\"centre\" x1=\"%.2f\" x2=\"%.2f\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
			 xpos(s->centre, lo, hi), xpos(s->centre, lo, hi), y - 14, y + 18);
}

static void chart(struct buf *out, const struct cmp_row *row)
{
	double lo = INFINITY, hi = -INFINITY, pad;
	int k;

	side_range(&row->base, &lo, &hi);
	side_range(&row->cur, &lo, &hi);
	if (!isfinite(lo) || !isfinite(hi))
		return;
	pad = (hi - lo) * 0.05;
	if (!(pad > 0))
		pad = lo != 0 ? fabs(lo) * 0.01 : 1;
	lo -= pad;
	hi += pad;
	buf_addf(out, "<svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\">\n", W, H, W, H);
	side_chart(out, &row->base, 30, "b", "baseline", lo, hi);
	side_chart(out, &row->cur, 70, "c", "current", lo, hi);
	buf_addf(out, "<line class=\"axis\" x1=\"%.0f\" x2=\"%.0f\" y1=\"96\" y2=\"96\"/>\n", LEFT, W - RIGHT);
	for (k = 0; k <= 4; k++) {
		double v = lo + (hi - lo) * k / 4;
		char t[48];

		buf_addf(out, "<line class=\"axis\" x1=\"%.2f\" x2=\"%.2f\" y1=\"96\" y2=\"100\"/>", xpos(v, lo, hi),
			 xpos(v, lo, hi));
		/* the last label ends at its tick, the others centre on theirs: none runs past the chart's edge */
		buf_addf(out, "<text class=\"tick\" x=\"%.2f\" y=\"112\" text-anchor=\"%s\">",
			 k == 4 ? xpos(v, lo, hi) + TICK_PAD : xpos(v, lo, hi), k == 4 ? "end" : "middle");
		esc(out, bench_fmt_value(t, sizeof(t), v, row->unit));
		buf_adds(out, "</text>\n");
	}
	buf_adds(out, "</svg>\n");
}

static void side_cell(struct buf *out, const struct cmp_side *s, const char *unit)
{
	char v[64];

	buf_adds(out, "<td class=\"num\">");
	esc(out, bench_fmt_value(v, sizeof(v), s->centre, unit));
	if (isfinite(s->ci_lo) && isfinite(s->ci_hi)) {
		buf_adds(out, "<br><small>[");
		esc(out, bench_fmt_value(v, sizeof(v), s->ci_lo, unit));
		buf_adds(out, ", ");
		esc(out, bench_fmt_value(v, sizeof(v), s->ci_hi, unit));
		buf_adds(out, "]</small>");
	}
	buf_adds(out, "</td>");
}

static const char *verdict_class(enum cmp_verdict v)
{
	return v == CMP_REGRESSION ? "reg" : v == CMP_IMPROVEMENT ? "imp" : "";
}

/* Display order: regressions first, then improvements, then the rest, each in input order. */
static size_t *row_order(const struct cmp_result *r)
{
	static const enum cmp_verdict rank[] = { CMP_REGRESSION, CMP_IMPROVEMENT };
	size_t *order = xmalloc((r->nr + 1) * sizeof(*order)), n = 0, i, k;

	for (k = 0; k <= 2; k++)
		for (i = 0; i < r->nr; i++)
			if (k < 2 ? r->rows[i].verdict == rank[k] :
				    r->rows[i].verdict != rank[0] && r->rows[i].verdict != rank[1])
				order[n++] = i;
	return order;
}

/* benchstat's header: goos, goarch, pkg, cpu, as the inputs give them ("a | b" when they differ). */
static void environment(struct buf *out, const struct cmp_labels *l)
{
	static const char *const keys[] = { "goos", "goarch", "pkg", "cpu" };
	bool any = false;
	size_t k;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const char *a = l->base ? bench_set_env_get(l->base, keys[k]) : NULL;
		const char *b = l->cur ? bench_set_env_get(l->cur, keys[k]) : NULL;

		if (!a && !b)
			continue;
		buf_adds(out, any ? "<br>" : "<p class=\"env\">");
		any = true;
		buf_addf(out, "%s: <code>", keys[k]);
		esc(out, a ? a : b);
		if (a && b && strcmp(a, b)) {
			buf_adds(out, "</code> | <code>");
			esc(out, b);
		}
		buf_adds(out, "</code>");
	}
	if (any)
		buf_adds(out, "</p>\n");
}

void cmp_report_html(struct buf *out, const struct cmp_result *r, const struct cmp_labels *l)
{
	size_t *order = row_order(r), i, j;
	char t[64];

	buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		      "<title>kiln compare</title>\n<style>\n"
		      "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}\n"
		      /* a fixed layout within the page: long names wrap in their column, the verdict stays in view */
		      "table{border-collapse:collapse;margin:1em 0;width:100%;table-layout:fixed;font-size:.875em}"
		      "th,td{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}"
		      "td:first-child{overflow-wrap:anywhere}td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
		      "col.name{width:auto}col.metric{width:5.5em}col.side{width:9em}col.change{width:6.5em}"
		      "col.p{width:5em}col.n{width:3.5em}col.verdict{width:8em}h2{overflow-wrap:anywhere}\n"
		      ".env{color:#444}\n"
		      ".reg{color:#b00020;font-weight:bold}.imp{color:#1b7f3b}small{color:#666}\n"
		      "circle.b{fill:#4477aa;fill-opacity:.55}circle.c{fill:#ee6677;fill-opacity:.55}\n"
		      "line.ci{stroke:#222;stroke-width:2}line.centre{stroke:#222;stroke-width:2}"
		      "line.axis{stroke:#888}\n"
		      "text.lbl{font-size:12px;fill:#333}text.tick{font-size:11px;fill:#555}\n"
		      "section{margin:1.5em 0;border-top:1px solid #eee;padding-top:.5em}h2{font-size:1.1em}\n"
		      "</style>\n</head>\n<body>\n<h1>Benchmark comparison</h1>\n<p>");
	buf_addf(out, "<b class=\"%s\">%zu regression%s</b>, %zu improvement%s. Baseline: <code>",
		 r->regressions ? "reg" : "", r->regressions, r->regressions == 1 ? "" : "s", r->improvements,
		 r->improvements == 1 ? "" : "s");
	esc(out, l->base_path);
	buf_addf(out, "</code> (%s), current: <code>", l->base_format);
	esc(out, l->cur_path);
	buf_addf(out, "</code> (%s).<br>%s test, alpha %g, threshold %g%%, %g%% confidence intervals. A regression "
		      "needs p &lt; alpha and a change beyond the threshold in the worse direction.</p>\n",
		 l->cur_format, r->test == CMP_MANNWHITNEY ? "Mann-Whitney U" : "Welch's t", r->alpha,
		 r->threshold * 100, r->confidence * 100);
	environment(out, l);
	buf_adds(out, "<table>\n<colgroup><col class=\"name\"><col class=\"metric\"><col class=\"side\">"
		      "<col class=\"side\"><col class=\"change\"><col class=\"p\"><col class=\"n\">"
		      "<col class=\"verdict\"></colgroup>\n"
		      "<tr><th>benchmark</th><th>metric</th><th>baseline</th><th>current</th>"
		      "<th>change</th><th>p</th><th>n</th><th>verdict</th></tr>\n");
	for (j = 0; j < r->nr; j++) {
		const struct cmp_row *row = &r->rows[order[j]];

		i = order[j];

		buf_addf(out, "<tr><td><a href=\"#b%zu\">", i);
		esc(out, row->name);
		buf_adds(out, "</a></td><td>");
		esc(out, row->metric);
		buf_adds(out, "</td>");
		side_cell(out, &row->base, row->unit);
		side_cell(out, &row->cur, row->unit);
		buf_addf(out, "<td class=\"num %s\">%s</td>", verdict_class(row->verdict),
			 bench_fmt_pct(t, sizeof(t), row->change));
		if (isnan(row->p))
			buf_adds(out, "<td class=\"num\">-</td>");
		else if (row->p < 0.001)
			buf_adds(out, "<td class=\"num\">&lt;0.001</td>");
		else
			buf_addf(out, "<td class=\"num\">%.3g</td>", row->p);
		buf_addf(out, "<td class=\"num\">%zu+%zu</td><td class=\"%s\">%s", row->base.n, row->cur.n,
			 verdict_class(row->verdict), cmp_verdict_mark(row->verdict));
		if (row->verdict == CMP_UNTESTED && row->note) {
			buf_adds(out, "<br><small>");
			esc(out, row->note);
			buf_adds(out, "</small>");
		}
		buf_adds(out, "</td></tr>\n");
	}
	for (i = 0; i < r->ngeo; i++) {
		char a[64], b[64];

		if (r->geo[i].n < 2)
			continue;
		buf_adds(out, "<tr><td><i>geomean</i></td><td>");
		esc(out, r->geo[i].metric);
		buf_adds(out, "</td><td class=\"num\">");
		esc(out, bench_fmt_value(a, sizeof(a), r->geo[i].base, r->geo[i].unit));
		buf_adds(out, "</td><td class=\"num\">");
		esc(out, bench_fmt_value(b, sizeof(b), r->geo[i].cur, r->geo[i].unit));
		buf_addf(out, "</td><td class=\"num\">%s</td><td></td><td></td><td></td></tr>\n",
			 bench_fmt_pct(t, sizeof(t), r->geo[i].change));
	}
	buf_adds(out, "</table>\n");
	if (r->nadded || r->nremoved || r->nmismatched) {
		buf_adds(out, "<ul>\n");
		for (i = 0; i < r->nremoved; i++) {
			buf_adds(out, "<li>removed: ");
			esc(out, r->removed[i].name);
			buf_adds(out, " (");
			esc(out, r->removed[i].metric);
			buf_adds(out, ")</li>\n");
		}
		for (i = 0; i < r->nadded; i++) {
			buf_adds(out, "<li>added: ");
			esc(out, r->added[i].name);
			buf_adds(out, " (");
			esc(out, r->added[i].metric);
			buf_adds(out, ")</li>\n");
		}
		for (i = 0; i < r->nmismatched; i++) {
			buf_adds(out, "<li>not compared, units differ: ");
			esc(out, r->mismatched[i].name);
			buf_adds(out, " (");
			esc(out, r->mismatched[i].metric);
			buf_adds(out, ")</li>\n");
		}
		buf_adds(out, "</ul>\n");
	}
	for (j = 0; j < r->nr; j++) {
		const struct cmp_row *row = &r->rows[order[j]];

		i = order[j];
		buf_addf(out, "<section id=\"b%zu\">\n<h2>", i);
		esc(out, row->name);
		buf_adds(out, " <small>");
		esc(out, row->metric);
		buf_addf(out, ", %s is better</small></h2>\n<p>", row->higher_is_better ? "higher" : "lower");
		buf_addf(out, "<span class=\"%s\">%s</span>: change %s, ", verdict_class(row->verdict),
			 cmp_verdict_name(row->verdict), bench_fmt_pct(t, sizeof(t), row->change));
		if (isnan(row->p))
			buf_addf(out, "no %s test", row->test);
		else
			buf_addf(out, "%s p = %.4g", row->test, row->p);
		if (isfinite(row->df))
			buf_addf(out, " (df %.1f)", row->df);
		if (row->note) {
			buf_adds(out, "; ");
			esc(out, row->note);
		}
		buf_adds(out, ". Dots are samples; the vertical bar is the centre and the horizontal bar its "
			      "confidence interval.</p>\n");
		chart(out, row);
		buf_adds(out, "</section>\n");
	}
	buf_adds(out, "<p><small>Generated by kiln compare.</small></p>\n</body>\n</html>\n");
	free(order);
}
