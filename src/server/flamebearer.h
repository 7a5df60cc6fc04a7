/*
 * Pyroscope's flame graph encodings (shared/protocols/pyroscope.md 7 and 8): a profile's stacks merged by
 * function name under a root "total", laid out as levels of [x_delta, total, self, name_index] tuples
 * (7-tuples [lx, ltotal, lself, rx, rtotal, rself, name] for a diff of two profiles), truncated to `max_nodes`
 * with one synthetic "other" child per parent; and the render API's timeline.
 *
 *   struct flamebearer fb;
 *   flamebearer_build(&fb, profile, column, max_nodes, &e);
 *   flamebearer_write_json(&fb, &jw);       (the render API's "flamebearer" members, numbers)
 *   ... or read fb.names / fb.levels for Connect's FlameGraph (int64 as strings)
 *   flamebearer_release(&fb);
 *
 * Integers throughout: Σ self == total exactly, whatever the values (sums saturate at 2^63-1).
 */
#ifndef KILN_SERVER_FLAMEBEARER_H
#define KILN_SERVER_FLAMEBEARER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hash.h"

struct err;
struct jw;
struct profile;
struct store_point;

#define FLAMEBEARER_DEFAULT_NODES 8192  /* maxNodes 0 or absent */
#define FLAMEBEARER_MAX_NODES 1048576   /* more is invalid_argument */
#define FLAMEBEARER_OTHER "other"

struct fb_level {
	int64_t *v; /* 4 (or 7) values per node */
	size_t nr, alloc;
};

struct flamebearer {
	struct strtab names;      /* names[0] == "total"; ids in a depth-first walk, children in descending order */
	struct fb_level *levels;  /* levels[0] is the root alone */
	size_t nlevels;
	int64_t total;            /* numTicks: Σ self; for a diff leftTicks + rightTicks */
	int64_t max_self;         /* over both sides for a diff */
	int64_t left_ticks, right_ticks;
	bool diff;                /* 7-tuples */
	size_t nodes;             /* nodes in the levels, the root included */
};

/*
 * Builds the graph of column `column` of `p` (-1: the default column). `max_nodes` <= 0 keeps every node.
 * Returns 0, or -1 with `e` set (a negative value, which no flame graph can lay out).
 */
int flamebearer_build(struct flamebearer *fb, const struct profile *p, int column, int64_t max_nodes,
		      struct err *e);
/* The diff graph of `left` and `right` aligned by name path (7.4). */
int flamebearer_build_diff(struct flamebearer *fb, const struct profile *left, int lcol, const struct profile *right,
			   int rcol, int64_t max_nodes, struct err *e);
void flamebearer_release(struct flamebearer *fb);

/* Writes "names", "levels", "numTicks" and "maxSelf" as members of the object `j` is inside. */
void flamebearer_write_json(const struct flamebearer *fb, struct jw *j);

/*
 * The render API's timeline (8.4): the step for a range in seconds, and the "timeline" object of `points` (the
 * store's totals per step) over [from_ms, until_ms) snapped down to the step.
 */
int64_t timeline_step(int64_t from_ms, int64_t until_ms);
void timeline_write_json(struct jw *j, int64_t from_ms, int64_t until_ms, int64_t step_s,
			 const struct store_point *points, size_t npoints);

#endif
