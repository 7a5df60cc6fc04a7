/*
 * The differential flame graph (kiln diff -o, kiln profile --diff): AFTER's stacks with their widths, each frame
 * coloured by the change of the cost ending in it (flamegraph.pl's colouring of difffolded.pl output: red grew,
 * blue shrank, the intensity relative to the largest change), and tooltips with both sides and the change of the
 * frame's whole subtree. Which columns and how BEFORE is scaled are the caller's choice (analyze/diff.h decides).
 */
#ifndef KILN_DIFF_GRAPH_H
#define KILN_DIFF_GRAPH_H

#include <stdbool.h>

struct err;
struct profile;

struct fg_diff_opts {
	int after_column, before_column; /* value columns drawn */
	double scale;      /* BEFORE's values times this are in AFTER's units (shares: total ratio; absolute: cost) */
	double unit_value; /* cost of one unit of AFTER's column in `unit`, for tooltips; 0: no cost shown */
	const char *unit;  /* "nanoseconds" or "bytes" with unit_value; else NULL */
	const char *countname; /* what AFTER's column counts ("samples") */
	bool absolute;     /* tooltips give BEFORE and the changes as cost (else as shares of AFTER's total) */
	const char *title; /* NULL: "Differential Flame Graph" */
	const char *subtitle;
};

/*
 * Draws the graph to `path` ("-" = stdout), atomically; `.folded`/`.txt` paths get difffolded.pl's text
 * ("stack BEFORE AFTER" per line, BEFORE scaled) instead. Returns 0, or -1 with `e` set.
 */
int fg_write_diff(const struct profile *before, const struct profile *after, const struct fg_diff_opts *o,
		  const char *path, struct err *e);

#endif
