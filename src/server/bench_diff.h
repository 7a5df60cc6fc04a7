/*
 * The profile diff behind a benchmark change: the functions whose share moved most between the last good and
 * the first bad run's profiles, and their differential flame graph. `kiln trend` attaches it to every change
 * of a history (trend_diff_fn) and kiln serve answers it for one change (GET /api/v1/bench/diff).
 */
#ifndef KILN_SERVER_BENCH_DIFF_H
#define KILN_SERVER_BENCH_DIFF_H

#include <stdbool.h>
#include <stddef.h>

struct err;
struct trend_change;

/*
 * Fills c->fns with the `top` functions of the diff of the profile files `before` -> `after` (largest change
 * first), and c->graph with the differential flame graph (SVG) when `graph`. Returns 0, or -1 with `e` set.
 */
int bench_diff_files(const char *before, const char *after, bool graph, size_t top, struct trend_change *c,
		     struct err *e);

#endif
