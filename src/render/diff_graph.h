/*
 * The differential flame graph (kiln diff -o, kiln profile --diff): AFTER's stacks with their widths, each frame
 * coloured by the change of the cost ending in it (flamegraph.pl's colouring of difffolded.pl output: red grew,
 * blue shrank, the intensity relative to the largest change), and tooltips with both sides and the change of the
 * frame's whole subtree. Which columns and how BEFORE is scaled is the plan's (profile/diff_plan.h), which
 * analyze/diff.h decides.
 */
#ifndef KILN_DIFF_GRAPH_H
#define KILN_DIFF_GRAPH_H

#include <stdbool.h>

#include "../profile/diff_plan.h"

struct err;
struct profile;


/*
 * Draws the graph to `path` ("-" = stdout), atomically; `.folded`/`.txt` paths get difffolded.pl's text
 * ("stack BEFORE AFTER" per line, BEFORE scaled) instead. Returns 0, or -1 with `e` set.
 */
int fg_write_diff(const struct profile *before, const struct profile *after, const struct diff_plan *o,
		  const char *path, struct err *e);

#endif
