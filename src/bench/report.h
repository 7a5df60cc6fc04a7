/*
 * Comparison reports: a benchstat-like text table, JSON with every number that drives a verdict, a Markdown
 * table for pull-request comments, and a self-contained HTML page with a chart of both sample distributions
 * per benchmark. Writers append to a struct buf; they never fail.
 */
#ifndef KILN_BENCH_REPORT_H
#define KILN_BENCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "bench/compare.h"
#include "core/buf.h"

struct cmp_labels {
	const char *base_path, *base_format;
	const char *cur_path, *cur_format;
	const struct bench_set *base, *cur; /* for their environment lines; may be NULL */
};

void cmp_report_text(struct buf *out, const struct cmp_result *r, const struct cmp_labels *l, bool color);
void cmp_report_json(struct buf *out, const struct cmp_result *r, const struct cmp_labels *l);
void cmp_report_markdown(struct buf *out, const struct cmp_result *r, const struct cmp_labels *l);
void cmp_report_html(struct buf *out, const struct cmp_result *r, const struct cmp_labels *l);
/*
 * A pull-request comment (report_pr.c): the summary line naming `baseline`, the Markdown table in a collapsible
 * <details> block, and `functions_md` (the top changed functions, may be NULL) after it.
 */
void cmp_report_pr(struct buf *out, const struct cmp_result *r, const struct cmp_labels *l, const char *baseline,
		   const char *functions_md);

/* Formats `v` in `unit` with a scaled prefix ("12.35 ms", "1.5 MiB", "3.2 M/s") into `out`; returns `out`. */
const char *bench_fmt_value(char *out, size_t size, double v, const char *unit);
/* "+12.34%", "-0.50%", or "?" for NAN. */
const char *bench_fmt_pct(char *out, size_t size, double change);
/* The one-word text of a verdict as printed in tables: "~", "REGRESSION", "improved", "ok", "?". */
const char *cmp_verdict_mark(enum cmp_verdict v);

#endif
