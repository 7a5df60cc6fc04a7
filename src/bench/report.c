/* Text, JSON and Markdown comparison reports. */
#include "bench/report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/xalloc.h"

const char *bench_fmt_value(char *out, size_t size, double v, const char *unit)
{
	double a = fabs(v);

	if (isnan(v)) {
		snprintf(out, size, "?");
	} else if (!strcmp(unit, "s")) {
		if (a >= 1 || a == 0)
			snprintf(out, size, "%.4g s", v);
		else if (a >= 1e-3)
			snprintf(out, size, "%.4g ms", v * 1e3);
		else if (a >= 1e-6)
			snprintf(out, size, "%.4g µs", v * 1e6);
		else
			snprintf(out, size, "%.4g ns", v * 1e9);
	} else if (!strcmp(unit, "B")) {
		if (a >= 1024.0 * 1024 * 1024)
			snprintf(out, size, "%.4g GiB", v / (1024.0 * 1024 * 1024));
		else if (a >= 1024.0 * 1024)
			snprintf(out, size, "%.4g MiB", v / (1024.0 * 1024));
		else if (a >= 1024)
			snprintf(out, size, "%.4g KiB", v / 1024);
		else
			snprintf(out, size, "%.4g B", v);
	} else if (!unit[0] || !strcmp(unit, "1/s") || !strcmp(unit, "B/s")) {
		/* Plain counts and rates get SI prefixes: "1.5 G/s", "820 MB/s", "12.5 k". */
		const char *u = !strcmp(unit, "1/s") ? "/s" : unit;
		const char *sep = u[0] == '/' ? "" : " ";

		if (a >= 1e9)
			snprintf(out, size, "%.4g G%s", v / 1e9, u);
		else if (a >= 1e6)
			snprintf(out, size, "%.4g M%s", v / 1e6, u);
		else if (a >= 1e4)
			snprintf(out, size, "%.4g k%s", v / 1e3, u);
		else
			snprintf(out, size, "%.4g%s%s", v, u[0] ? sep : "", u);
	} else if (a >= 1e4 && a < 1e15) {
		snprintf(out, size, "%.0f %s", v, unit);
	} else {
		snprintf(out, size, "%.4g %s", v, unit);
	}
	return out;
}

const char *bench_fmt_pct(char *out, size_t size, double change)
{
	if (isnan(change))
		snprintf(out, size, "?");
	else
		snprintf(out, size, "%+.2f%%", change * 100);
	return out;
}

const char *cmp_verdict_mark(enum cmp_verdict v)
{
	switch (v) {
	case CMP_SAME:
		return "~";
	case CMP_SMALL:
		return "ok";
	case CMP_IMPROVEMENT:
		return "improved";
	case CMP_REGRESSION:
		return "REGRESSION";
	case CMP_UNTESTED:
		break;
	}
	return "?";
}

/* "12.3 ms ± 1%": the centre and the larger half of its confidence interval, relative. */
static void fmt_side(char *out, size_t size, const struct cmp_side *s, const char *unit)
{
	char v[48];
	double hw = fmax(s->ci_hi - s->centre, s->centre - s->ci_lo);

	bench_fmt_value(v, sizeof(v), s->centre, unit);
	if (isfinite(hw) && s->centre != 0) {
		double pct = fabs(hw / s->centre) * 100;

		if (pct == 0)
			snprintf(out, size, "%s ± 0%%", v);
		else if (pct < 0.95)
			snprintf(out, size, "%s ± %.1f%%", v, pct);
		else
			snprintf(out, size, "%s ± %.0f%%", v, pct);
	} else {
		snprintf(out, size, "%s", v);
	}
}

static void fmt_p(char *out, size_t size, double p)
{
	if (isnan(p))
		snprintf(out, size, "-");
	else if (p < 0.001)
		snprintf(out, size, "<0.001");
	else
		snprintf(out, size, "%.3f", p);
}

static void fmt_n(char *out, size_t size, const struct cmp_row *row)
{
	char a[24], b[24];

	if (row->base.n)
		snprintf(a, sizeof(a), "%zu", row->base.n);
	else
		snprintf(a, sizeof(a), "?");
	if (row->cur.n)
		snprintf(b, sizeof(b), "%zu", row->cur.n);
	else
		snprintf(b, sizeof(b), "?");
	snprintf(out, size, "%s+%s", a, b);
}

/* Display width of UTF-8 text (code points; the table holds no wide characters). */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* Pads `s` to `w` columns (left- or right-aligned) and adds the two-space column gap. */
static void pad(struct buf *out, const char *s, size_t w, bool right)
{
	size_t sw = width(s);

	if (right)
		for (; sw < w; sw++)
			buf_addch(out, ' ');
	buf_adds(out, s);
	if (!right)
		for (; sw < w; sw++)
			buf_addch(out, ' ');
	buf_adds(out, "  ");
}

/* The metrics in order of first appearance. */
static size_t metric_list(const struct cmp_result *r, const char **m, size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; i < r->nr; i++) {
		for (j = 0; j < n && strcmp(m[j], r->rows[i].metric); j++)
			;
		if (j == n && n < max)
			m[n++] = r->rows[i].metric;
	}
	return n;
}

static const struct cmp_geomean *geo_of(const struct cmp_result *r, const char *metric)
{
	size_t i;

	for (i = 0; i < r->ngeo; i++)
		if (!strcmp(r->geo[i].metric, metric))
			return &r->geo[i];
	return NULL;
}

static size_t rows_of(const struct cmp_result *r, const char *metric)
{
	size_t i, n = 0;

	for (i = 0; i < r->nr; i++)
		n += !strcmp(r->rows[i].metric, metric);
	return n;
}

#define MAX_METRICS 256
#define COLS 6

static void summary_line(struct buf *out, const struct cmp_result *r)
{
	size_t i, untested = 0;

	for (i = 0; i < r->nr; i++)
		untested += r->rows[i].verdict == CMP_UNTESTED;
	if (untested)
		buf_addf(out, "%zu comparison%s untested (?): a test needs at least 2 samples a side (go test -count, "
			      "--benchmark_repetitions, kiln bench --runs)\n",
			 untested, untested == 1 ? "" : "s");
	buf_addf(out, "%zu regression%s, %zu improvement%s (%s test, alpha %g, threshold %g%%)\n", r->regressions,
		 r->regressions == 1 ? "" : "s", r->improvements, r->improvements == 1 ? "" : "s",
		 cmp_test_name(r->test), r->alpha, r->threshold * 100);
}

void cmp_report_text(struct buf *out, const struct cmp_result *r, const struct cmp_labels *l, bool color)
{
	const char *metrics[MAX_METRICS];
	size_t nm = metric_list(r, metrics, MAX_METRICS), mi, i;

	buf_addf(out, "baseline: %s (%s)\ncurrent:  %s (%s)\n", l->base_path, l->base_format, l->cur_path,
		 l->cur_format);
	for (mi = 0; mi < nm; mi++) {
		const struct cmp_geomean *g = geo_of(r, metrics[mi]);
		size_t w[COLS] = { 0 }, k;
		char cell[COLS][128];
		char head[128];
		bool show_geo = g && g->n >= 2 && rows_of(r, metrics[mi]) >= 2;
		int pass;

		snprintf(head, sizeof(head), "%s (%s is better)", metrics[mi], "lower");
		for (i = 0; i < r->nr; i++)
			if (!strcmp(r->rows[i].metric, metrics[mi])) {
				snprintf(head, sizeof(head), "%s (%s is better)", metrics[mi],
					 r->rows[i].higher_is_better ? "higher" : "lower");
				break;
			}
		/* Pass 0 measures the columns, pass 1 prints. */
		for (pass = 0; pass < 2; pass++) {
			const char *hdr[COLS] = { head, "baseline", "current", "change", "p", "n" };

			for (k = 0; k < COLS; k++) {
				if (pass == 0)
					w[k] = width(hdr[k]);
				else
					pad(out, hdr[k], w[k], k >= 3 && k <= 4);
			}
			if (pass == 1)
				buf_adds(out, "verdict\n");
			for (i = 0; i < r->nr; i++) {
				const struct cmp_row *row = &r->rows[i];
				const char *mark = cmp_verdict_mark(row->verdict);

				if (strcmp(row->metric, metrics[mi]))
					continue;
				snprintf(cell[0], sizeof(cell[0]), "%s", row->name);
				fmt_side(cell[1], sizeof(cell[1]), &row->base, row->unit);
				fmt_side(cell[2], sizeof(cell[2]), &row->cur, row->unit);
				/* untested rows still show how much the centre moved: only the test is missing */
				if (row->verdict == CMP_SAME)
					snprintf(cell[3], sizeof(cell[3]), "~");
				else
					bench_fmt_pct(cell[3], sizeof(cell[3]), row->change);
				fmt_p(cell[4], sizeof(cell[4]), row->p);
				fmt_n(cell[5], sizeof(cell[5]), row);
				for (k = 0; k < COLS; k++) {
					if (pass == 0) {
						if (width(cell[k]) > w[k])
							w[k] = width(cell[k]);
						continue;
					}
					pad(out, cell[k], w[k], k >= 3 && k <= 4);
				}
				if (pass == 1) {
					bool c = color && (row->verdict == CMP_REGRESSION ||
							   row->verdict == CMP_IMPROVEMENT);

					if (c)
						buf_adds(out, row->verdict == CMP_REGRESSION ? "\033[1;31m" : "\033[32m");
					buf_adds(out, row->verdict == CMP_SAME ? "" : mark);
					if (c)
						buf_adds(out, "\033[0m");
					if (row->note)
						buf_addf(out, "%s(%s)", row->verdict == CMP_SAME ? "" : " ", row->note);
					while (out->len && out->buf[out->len - 1] == ' ')
						buf_setlen(out, out->len - 1);
					buf_addch(out, '\n');
				}
			}
			if (show_geo) {
				snprintf(cell[0], sizeof(cell[0]), "geomean");
				bench_fmt_value(cell[1], sizeof(cell[1]), g->base, g->unit);
				bench_fmt_value(cell[2], sizeof(cell[2]), g->cur, g->unit);
				bench_fmt_pct(cell[3], sizeof(cell[3]), g->change);
				for (k = 0; k < 4; k++) {
					if (pass == 0) {
						if (width(cell[k]) > w[k])
							w[k] = width(cell[k]);
						continue;
					}
					pad(out, cell[k], w[k], k >= 3);
				}
				if (pass == 1) {
					while (out->len && out->buf[out->len - 1] == ' ')
						buf_setlen(out, out->len - 1);
					buf_addch(out, '\n');
				}
			}
		}
		buf_addch(out, '\n');
	}
	for (i = 0; i < r->nremoved; i++)
		buf_addf(out, "removed: %s (%s)\n", r->removed[i].name, r->removed[i].metric);
	for (i = 0; i < r->nadded; i++)
		buf_addf(out, "added: %s (%s)\n", r->added[i].name, r->added[i].metric);
	for (i = 0; i < r->nmismatched; i++)
		buf_addf(out, "not compared: %s (%s): units differ ('%s' vs '%s')\n", r->mismatched[i].name,
			 r->mismatched[i].metric, r->mismatched[i].unit, r->mismatched[i].other_unit);
	if (r->nremoved || r->nadded || r->nmismatched)
		buf_addch(out, '\n');
	summary_line(out, r);
}

static void put_side(struct jw *j, const char *key, const struct cmp_side *s)
{
	jw_key(j, key);
	jw_object_begin(j);
	if (s->n)
		jw_kv_u64(j, "n", s->n);
	else
		jw_kv_null(j, "n");
	jw_kv_double(j, "centre", s->centre);
	jw_kv_double(j, "spread", s->spread);
	jw_kv_double(j, "mean", s->mean);
	jw_kv_double(j, "stddev", s->stddev);
	jw_kv_double(j, "median", s->median);
	jw_kv_double(j, "min", s->min);
	jw_kv_double(j, "max", s->max);
	jw_kv_double(j, "ci_lower", s->ci_lo);
	jw_kv_double(j, "ci_upper", s->ci_hi);
	jw_object_end(j);
}

static void put_lones(struct jw *j, const char *key, const struct cmp_lone *v, size_t n, bool units)
{
	size_t i;

	jw_key(j, key);
	jw_array_begin(j);
	for (i = 0; i < n; i++) {
		jw_object_begin(j);
		jw_kv_str(j, "name", v[i].name);
		jw_kv_str(j, "metric", v[i].metric);
		if (units) {
			jw_kv_str(j, "baseline_unit", v[i].unit);
			jw_kv_str(j, "current_unit", v[i].other_unit);
		} else {
			jw_kv_str(j, "unit", v[i].unit);
		}
		jw_object_end(j);
	}
	jw_array_end(j);
}

void cmp_report_json(struct buf *out, const struct cmp_result *r, const struct cmp_labels *l)
{
	struct jw j;
	size_t i;

	jw_init(&j, out, true);
	jw_object_begin(&j);
	jw_key(&j, "baseline");
	jw_object_begin(&j);
	jw_kv_str(&j, "path", l->base_path);
	jw_kv_str(&j, "format", l->base_format);
	jw_object_end(&j);
	jw_key(&j, "current");
	jw_object_begin(&j);
	jw_kv_str(&j, "path", l->cur_path);
	jw_kv_str(&j, "format", l->cur_format);
	jw_object_end(&j);
	jw_kv_str(&j, "test", cmp_test_name(r->test));
	jw_kv_str(&j, "centre", r->test == CMP_MANNWHITNEY ? "median" : "mean");
	jw_kv_str(&j, "spread", r->test == CMP_MANNWHITNEY ? "mad" : "stddev");
	jw_kv_double(&j, "alpha", r->alpha);
	jw_kv_double(&j, "threshold", r->threshold);
	jw_kv_double(&j, "confidence", r->confidence);
	jw_key(&j, "benchmarks");
	jw_array_begin(&j);
	for (i = 0; i < r->nr; i++) {
		const struct cmp_row *row = &r->rows[i];

		jw_object_begin(&j);
		jw_kv_str(&j, "name", row->name);
		jw_kv_str(&j, "metric", row->metric);
		jw_kv_str(&j, "unit", row->unit);
		jw_kv_str(&j, "better", row->higher_is_better ? "higher" : "lower");
		put_side(&j, "baseline", &row->base);
		put_side(&j, "current", &row->cur);
		jw_kv_double(&j, "change", row->change);
		jw_kv_str(&j, "test", row->test);
		jw_kv_double(&j, "statistic", row->statistic);
		jw_kv_double(&j, "df", row->df);
		jw_kv_double(&j, "p", row->p);
		jw_kv_bool(&j, "exact", row->exact);
		jw_kv_double(&j, "alpha", r->alpha);
		jw_kv_double(&j, "threshold", r->threshold);
		jw_kv_bool(&j, "significant", !isnan(row->p) && row->p < r->alpha);
		jw_kv_str(&j, "verdict", cmp_verdict_name(row->verdict));
		jw_kv_str(&j, "note", row->note);
		jw_object_end(&j);
	}
	jw_array_end(&j);
	jw_key(&j, "geomean");
	jw_array_begin(&j);
	for (i = 0; i < r->ngeo; i++) {
		jw_object_begin(&j);
		jw_kv_str(&j, "metric", r->geo[i].metric);
		jw_kv_str(&j, "unit", r->geo[i].unit);
		jw_kv_u64(&j, "n", r->geo[i].n);
		jw_kv_double(&j, "baseline", r->geo[i].base);
		jw_kv_double(&j, "current", r->geo[i].cur);
		jw_kv_double(&j, "change", r->geo[i].change);
		jw_object_end(&j);
	}
	jw_array_end(&j);
	put_lones(&j, "added", r->added, r->nadded, false);
	put_lones(&j, "removed", r->removed, r->nremoved, false);
	put_lones(&j, "mismatched_units", r->mismatched, r->nmismatched, true);
	jw_kv_u64(&j, "regressions", r->regressions);
	jw_kv_u64(&j, "improvements", r->improvements);
	jw_kv_str(&j, "verdict", r->regressions ? "regression" : "ok");
	jw_object_end(&j);
	buf_addch(out, '\n');
}

/* Markdown table cell: pipes escaped, newlines flattened. */
static void md_cell(struct buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|' || *s == '\\' || *s == '`' || *s == '*' || *s == '_' || *s == '<' || *s == '>')
			buf_addch(out, '\\');
		buf_addch(out, *s == '\n' || *s == '\r' ? ' ' : *s);
	}
}

void cmp_report_markdown(struct buf *out, const struct cmp_result *r, const struct cmp_labels *l)
{
	const char *metrics[MAX_METRICS];
	size_t nm = metric_list(r, metrics, MAX_METRICS), mi, i;

	if (r->regressions)
		buf_addf(out, "### Benchmark comparison: %zu regression%s\n\n", r->regressions,
			 r->regressions == 1 ? "" : "s");
	else
		buf_adds(out, "### Benchmark comparison: no regression\n\n");
	for (mi = 0; mi < nm; mi++) {
		const struct cmp_geomean *g = geo_of(r, metrics[mi]);
		bool higher = false;

		for (i = 0; i < r->nr; i++)
			if (!strcmp(r->rows[i].metric, metrics[mi]))
				higher = r->rows[i].higher_is_better;
		buf_adds(out, "| ");
		md_cell(out, metrics[mi]);
		buf_addf(out, " (%s is better) | baseline | current | change | p | verdict |\n", higher ? "higher" : "lower");
		buf_adds(out, "|:--|--:|--:|--:|--:|:--|\n");
		for (i = 0; i < r->nr; i++) {
			const struct cmp_row *row = &r->rows[i];
			char a[128], b[128], c[32], p[32];

			if (strcmp(row->metric, metrics[mi]))
				continue;
			fmt_side(a, sizeof(a), &row->base, row->unit);
			fmt_side(b, sizeof(b), &row->cur, row->unit);
			if (row->verdict == CMP_SAME)
				snprintf(c, sizeof(c), "~");
			else
				bench_fmt_pct(c, sizeof(c), row->change);
			fmt_p(p, sizeof(p), row->p);
			buf_adds(out, "| ");
			md_cell(out, row->name);
			buf_addf(out, " | %s | %s | %s | %s | ", a, b, c, p);
			if (row->verdict == CMP_REGRESSION)
				buf_adds(out, ":x: **regression**");
			else if (row->verdict == CMP_IMPROVEMENT)
				buf_adds(out, ":white_check_mark: improvement");
			else if (row->verdict == CMP_SAME)
				buf_adds(out, "~");
			else
				buf_adds(out, cmp_verdict_mark(row->verdict));
			if (row->verdict == CMP_UNTESTED && row->note) {
				buf_adds(out, " (");
				md_cell(out, row->note);
				buf_addch(out, ')');
			}
			buf_adds(out, " |\n");
		}
		if (g && g->n >= 2 && rows_of(r, metrics[mi]) >= 2) {
			char a[64], b[64], c[32];

			buf_addf(out, "| *geomean* | %s | %s | %s | | |\n", bench_fmt_value(a, sizeof(a), g->base, g->unit),
				 bench_fmt_value(b, sizeof(b), g->cur, g->unit), bench_fmt_pct(c, sizeof(c), g->change));
		}
		buf_addch(out, '\n');
	}
	if (r->nremoved || r->nadded || r->nmismatched) {
		for (i = 0; i < r->nremoved; i++) {
			buf_adds(out, "- removed: ");
			md_cell(out, r->removed[i].name);
			buf_addf(out, " (%s)\n", r->removed[i].metric);
		}
		for (i = 0; i < r->nadded; i++) {
			buf_adds(out, "- added: ");
			md_cell(out, r->added[i].name);
			buf_addf(out, " (%s)\n", r->added[i].metric);
		}
		for (i = 0; i < r->nmismatched; i++) {
			buf_adds(out, "- not compared (units differ): ");
			md_cell(out, r->mismatched[i].name);
			buf_addf(out, " (%s)\n", r->mismatched[i].metric);
		}
		buf_addch(out, '\n');
	}
	buf_addf(out, "<sub>baseline `%s`, current `%s`; ", l->base_format, l->cur_format);
	buf_addf(out, "%s test, alpha %g, threshold %g%%; `~` means no significant change. Generated by kiln compare.</sub>\n",
		 cmp_test_name(r->test), r->alpha, r->threshold * 100);
}
