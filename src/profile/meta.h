/*
 * Typed metadata of a profile: what readers and recorders know that samples cannot carry. It lives in struct
 * profile's `meta` member, is freed and merged with the profile, and only the pprof writer stores it (as Mapping
 * fields and comments of reserved forms, src/formats/pprof_meta.c, which its reader turns back into these
 * fields); every other format drops it. Nothing else parses comments for meaning.
 *
 * A new kind of metadata is a member of struct profile_meta with its accessors here, its
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

/*
 * The I/O summary of kiln profile --mode io (record/iotrace.h's struct io_result, docs/io.md): what the I/O report
 * prints, so that a profile read back from a file reprints it. Names and paths are string ids of the profile.
 */
#define IO_META_HIST 40 /* log2 latency buckets: bucket b holds [2^b, 2^(b+1)) ns, bucket 0 also 0 */

struct io_meta_syscall {
	uint32_t nr, name; /* name: 0 when the number has no name */
	uint64_t count, errors, total_ns, max_ns;
	uint64_t hist[IO_META_HIST];
};

struct io_meta_slowcall {
	uint64_t lat_ns, arg0;
	int64_t ret;
	uint32_t tgid, tid, nr;
	uint32_t name, where; /* the system call's name, "f <- g <- h"; 0 when unknown */
};

struct io_meta_file {
	uint32_t tgid, path;
	uint64_t reads, writes, rbytes, wbytes, read_ns, write_ns;
};

struct io_meta_blockdir {
	uint64_t count, bytes, total_ns, max_ns;
	uint64_t hist[IO_META_HIST];
};

enum { IO_BLOCK_READ, IO_BLOCK_WRITE, IO_BLOCK_OTHER, IO_BLOCK_NR };

struct io_meta {
	bool known;        /* the profile holds an I/O summary */
	bool counts_only;  /* calls per system call only (the perf_event fallback) */
	bool files_traced; /* per-file bytes were traced (files may still be empty) */
	bool block;        /* block device requests were traced (blk) */
	uint64_t duration_ns, calls, errors, total_ns, dropped;
	struct io_meta_syscall *sys; /* by total time, descending */
	size_t sys_nr, sys_alloc;
	struct io_meta_slowcall *slow; /* slowest first */
	size_t slow_nr, slow_alloc;
	struct io_meta_file *files; /* by bytes, descending */
	size_t files_nr, files_alloc;
	struct io_meta_blockdir blk[IO_BLOCK_NR];
};

/* The names of the block directions ("read", "write", "other"), as the report and the pprof form spell them. */
extern const char *const io_block_names[IO_BLOCK_NR];

struct profile_meta {
	uint32_t event;  /* string id of the sampled event ("cycles", "cpu-clock"), 0 when unknown */
	int64_t samples; /* samples behind the values when the reader counted them (weighted counts), 0 if unknown */
	struct meta_build_id *build_ids; /* one per module */
	size_t build_ids_nr, build_ids_alloc;
	struct meta_mapping *mappings;
	size_t mappings_nr, mappings_alloc;
	struct heap_meta heap;
	struct io_meta io;
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

/* Rows appended to the I/O summary (which becomes known), zeroed; valid until the next append. */
struct io_meta_syscall *profile_io_add_syscall(struct profile *p);
struct io_meta_slowcall *profile_io_add_slowcall(struct profile *p);
struct io_meta_file *profile_io_add_file(struct profile *p);
/* Drops the I/O summary. */
void profile_io_clear(struct profile *p);

/*
 * Adds `src`'s metadata to `dst` (profile_merge()). Build ids and mappings are united; the event and sample count stay known only where
 * both sides agree (counts add up); heap scalars and the I/O summary of `src` replace those of `dst`, as a later recording's would.
 * `dst_empty`: dst had no samples before, so it takes src's metadata as it is.
 */
void profile_meta_merge(struct profile *dst, const struct profile *src, bool dst_empty);

#endif
