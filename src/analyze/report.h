/*
 * Writing an analysis: text for a terminal (optionally coloured), Markdown for pull-request comments, and the
 * members of the JSON document whose schema docs/analyze-json.md documents.
 */
#ifndef KILN_ANALYZE_REPORT_H
#define KILN_ANALYZE_REPORT_H

#include <stdbool.h>

struct analysis;
struct buf;
struct jw;

/* Appends the text report (Markdown when `markdown`; ANSI colours when `color`) to `out`. */
void analysis_format_text(const struct analysis *a, struct buf *out, bool color, bool markdown);

/* Writes the analysis as members of the JSON object that `j` is inside ("total", "unit", "hotspots", ...). */
void analysis_format_json(const struct analysis *a, struct jw *j);

/* A percentage rounded to 4 decimals, for stable JSON. */
double report_round_pct(double pct);

#endif
