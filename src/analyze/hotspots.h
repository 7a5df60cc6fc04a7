/*
 * Hotspots: per-function self and total (inclusive) cost of one value column of a profile. A function is named
 * by its frame's display name and module; recursion is counted once per sample in the total.
 */
#ifndef KILN_HOTSPOTS_H
#define KILN_HOTSPOTS_H

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
	int64_t self;
	int64_t total;
	double self_pct;  /* of the column's total */
	double total_pct;
};

struct hotspots {
	struct hotspot *v; /* owned; sorted by self, descending (ties: total, then name) */
	size_t nr;
	int64_t grand_total;
	int column;
};

/* Computes hotspots of `column` (-1 = the profile's default). Returns 0, or -1 when there is no such column. */
int hotspots_compute(struct profile *p, int column, struct hotspots *out);
/* Re-sorts by total (inclusive) cost, descending. */
void hotspots_sort_total(struct hotspots *h);
void hotspots_release(struct hotspots *h);

/* Appends a frame's display name: its function, else "[module+0xaddr]", else "[unknown]". */
void frame_display_name(struct buf *b, const struct profile *p, uint32_t frame);

/* Prints a table of the top `top` hotspots by self and by total to `out` (a report, not an error path). */
void hotspots_print(FILE *out, const struct profile *p, const struct hotspots *h, size_t top);

#endif
