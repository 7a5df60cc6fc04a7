/*
 * Typed metadata of a profile: what readers and recorders know that samples cannot carry. It lives in struct
 * profile's `meta` member, is freed and merged with the profile, and only the pprof writer stores it (as Mapping
 * fields and comments of reserved forms, src/formats/pprof_meta.c, which its reader turns back into these
 * fields); every other format drops it. Nothing else parses comments for meaning.
 *
 * A new kind of metadata (an I/O summary, ...) is a member of struct profile_meta with its accessors here, its
 * release and merge in meta.c, and its pprof form in formats/pprof_meta.c.
 */
#ifndef KILN_PROFILE_META_H
#define KILN_PROFILE_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct profile;

/* A module's build id (string ids). */
struct meta_build_id {
	uint32_t module, id;
};

/* Addresses [start, limit) of a process mapped from `module` (string id) at file offset `offset`. */
struct meta_mapping {
	uint64_t start, limit, offset;
	uint32_t module;
};

/* The heap profiler's scalars (kiln profile --mode mem, docs/heap.md), each known or not. */
enum heap_meta_key {
	HEAP_PEAK_BYTES,
	HEAP_PEAK_BLOCKS,
	HEAP_PEAK_TIME_NS,          /* since the start of the recording */
	HEAP_TOTAL_ALLOCATED_BYTES,
	HEAP_ALLOCATION_CALLS,
	HEAP_TEMPORARY_ALLOCATIONS,
	HEAP_LIVE_AT_EXIT_BYTES,
	HEAP_LIVE_AT_EXIT_BLOCKS,
	HEAP_SAMPLE_BYTES,          /* mean sampling interval, 0 for a full trace */
	HEAP_PROCESSES,
	HEAP_META_NR
};

#define HEAP_HIST_BUCKETS 48 /* bucket i counts sizes in [2^(i-1), 2^i), bucket 0 the size 0 */

struct heap_meta {
	uint32_t known;                  /* bit 1 << key for each scalar that is set */
	int64_t v[HEAP_META_NR];
	bool has_hist;                   /* the allocation size histogram is known */
	int64_t hist[HEAP_HIST_BUCKETS];
};

/* The scalars' names ("peak_bytes", ...), as the pprof form and the JSON report spell them. */
extern const char *const heap_meta_names[HEAP_META_NR];

struct profile_meta {
	uint32_t event;  /* string id of the sampled event ("cycles", "cpu-clock"), 0 when unknown */
	int64_t samples; /* samples behind the values when the reader counted them (weighted counts), 0 if unknown */
	struct meta_build_id *build_ids; /* one per module */
	size_t build_ids_nr, build_ids_alloc;
	struct meta_mapping *mappings;
	size_t mappings_nr, mappings_alloc;
	struct heap_meta heap;
};

void profile_meta_release(struct profile_meta *m);

/* Sets the build id (hex text) of `module`, replacing a previous one. */
void profile_set_build_id(struct profile *p, const char *module, const char *id);
/* The build id's string id of a module's string id, 0 when unknown. */
uint32_t profile_build_id(const struct profile *p, uint32_t module);
/* Notes a mapped range of `module`; an exact duplicate is noted once. */
void profile_add_mapping(struct profile *p, uint64_t start, uint64_t limit, uint64_t offset, const char *module);

void profile_heap_set(struct profile *p, enum heap_meta_key key, int64_t v);
/* True, with `*v` set, when the scalar is known. */
bool profile_heap_get(const struct profile *p, enum heap_meta_key key, int64_t *v);

/*
 * Adds `src`'s metadata to `dst` (profile_merge()). Build ids and mappings are united; the event and sample count stay known only where
 * both sides agree (counts add up); heap scalars of `src` replace those of `dst`, as a later recording's would.
 * `dst_empty`: dst had no samples before, so it takes src's metadata as it is.
 */
void profile_meta_merge(struct profile *dst, const struct profile *src, bool dst_empty);

#endif
