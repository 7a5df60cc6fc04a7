/*
 * Hotspots: per-function self and total (inclusive) cost of one value column of a profile. A function is named
 * by its frame's display name and module. The total counts each sample once per function even when the
 * function is several times on its stack (recursion), as pprof's cum does. Negative values (only difference
 * profiles have them) count 0, as in the flame graph; sums saturate at 2^63-1 (sat_add64()).
 */
#ifndef KILN_HOTSPOTS_H
#define KILN_HOTSPOTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct buf;
struct profile;

struct hotspot {
	uint32_t name;   /* string id of the display name */
	uint32_t module; /* string id, 0 when unknown */
	uint32_t file;   /* string id of the source file of the costliest frame, 0 when unknown */
	uint32_t line;   /* its line, 0 when unknown */
	uint32_t kind;   /* enum frame_kind of the first frame seen */
	bool placed;     /* an interpreted function: its name already says "name (file:line)" */
	int64_t self;
	int64_t total;
	double self_pct;  /* of the column's total */
	double total_pct;
	uint32_t id;      /* internal: the entry's index before sorting */
};

struct hotspots {
	struct hotspot *v; /* owned; sorted by self, descending (ties: total, then name) */
	size_t nr;
	uint32_t *frame_fn; /* owned; frame id -> index in `v` as hotspots_compute() sorted it */
	int64_t grand_total;
	int column;
};

/* Computes hotspots of `column` (-1 = the profile's default). Returns 0, or -1 when there is no such column. */
int hotspots_compute(struct profile *p, int column, struct hotspots *out);
/* The same, leaving out the rows whose `skip[row]` is true (idle samples); NULL leaves out none. */
int hotspots_compute_skip(struct profile *p, int column, const bool *skip, struct hotspots *out);

/* Per profile node working data, handed over to a caller that goes on from the hotspots (the analysis). */
struct hotspot_nodes {
	int64_t *self, *total; /* each node's self and inclusive cost (saturating) */
	uint32_t *order;       /* the nodes in depth-first preorder (stack_preorder()) */
	uint32_t *up;          /* each node's nearest ancestor of the same function, 0 when none */
};

/*
 * hotspots_compute_skip() that also fills `nodes` (arrays owned by the caller, free() each). `self_node`, when
 * not NULL, names per row the stack node (the row's leaf or one of its ancestors) whose function the row's self
 * cost is credited to: the wait site of an off-CPU stack (waitsite.h). `nodes->self` stays the leaves' own.
 */
int hotspots_compute_nodes(struct profile *p, int column, const bool *skip, const uint32_t *self_node,
			   struct hotspots *out, struct hotspot_nodes *nodes);
/* Re-sorts by total (inclusive) cost, descending (frame_fn then no longer applies: it is freed). */
void hotspots_sort_total(struct hotspots *h);
void hotspots_release(struct hotspots *h);

/* Appends a frame's display name: its function, else "[module+0xaddr]", else "[unknown]". */
void frame_display_name(struct buf *b, const struct profile *p, uint32_t frame);

/* Prints a table of the top `top` hotspots by self and by total to `out` (a report, not an error path). */
void hotspots_print(FILE *out, const struct profile *p, const struct hotspots *h, size_t top);

#endif
