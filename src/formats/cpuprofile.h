/*
 * V8 CPU profiles as JSON, shared by the readers that carry them: a `.cpuprofile` file (cpuprofile.c) and the
 * Profile/ProfileChunk/CpuProfile events of a Chrome trace (traceevent.c). One reading of the same data, so a
 * profile gives the same totals whichever file it travels in.
 */
#ifndef KILN_CPUPROFILE_H
#define KILN_CPUPROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct err;
struct profile;

struct v8_cpu {
	json_t *nodes;      /* {id, callFrame, children: [ids] | parent: id, hitCount}; borrowed */
	json_t *samples;    /* node ids, one per tick, or NULL: then the hit counts are the samples */
	json_t *deltas;     /* timeDeltas (µs, one per tick, the first from `start`), or NULL */
	int64_t start, end; /* µs; `end` bounds the last tick */
	bool has_start, has_end;
	uint32_t labelset;  /* for every sample */
	bool lenient;       /* ticks naming no node are counted in `skipped`, nodes whose parent is missing in
			       `rootless` (and start at the root), instead of failing */
	size_t skipped, rootless; /* out */
};

/*
 * Adds a V8 profile's ticks to `p` in time order: a "samples"/"count" column and, with deltas, a
 * "cpu"/"microseconds" column where each tick lasts until the next one in time (the last until `end`).
 * Ticks recorded out of order (negative deltas) are sorted by their time stamps first.
 */
int v8_cpu_add(struct profile *p, struct v8_cpu *c, struct err *e);

/* The model frame of a V8 callFrame {functionName, url, lineNumber (0-based)}; `*is_root` for "(root)". */
uint32_t v8_callframe(struct profile *p, json_t *cf, bool *is_root);

#endif
