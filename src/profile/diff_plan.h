/*
 * How a differential flame graph compares two profiles: which value columns, how BEFORE is scaled into AFTER's
 * units, what a unit costs. analyze/diff.c decides it (diff_graph_plan()), render/diff_graph.c draws it
 * (fg_write_diff()); the two are peers, so the plain data they pass lives below both, beside the model.
 */
#ifndef KILN_DIFF_PLAN_H
#define KILN_DIFF_PLAN_H

#include <stdbool.h>

struct diff_plan {
	int after_column, before_column; /* value columns drawn */
	double scale;      /* BEFORE's values times this are in AFTER's units (shares: total ratio; absolute: cost) */
	double unit_value; /* cost of one unit of AFTER's column in `unit`, for tooltips; 0: no cost shown */
	const char *unit;  /* "nanoseconds" or "bytes" with unit_value; else NULL */
	const char *countname; /* what AFTER's column counts ("samples"); NULL: the column's own name */
	bool absolute;     /* tooltips give BEFORE and the changes as cost (else as shares of AFTER's total) */
	const char *title; /* NULL: "Differential Flame Graph" */
	char subtitle[160];
};

#endif
