/*
 * The kiln side of the heap profiler: consumes the event streams of libkiln-heap.so (one per process image,
 * see heap_stream.h) live, tracks per allocation site the allocations, the bytes live now, at the peak of the
 * total heap and at exit, temporary allocations and a size histogram, and at the end builds the heap profile
 * (heap_report.h describes its columns and comments), symbolizing each address once.
 *
 * Sampled streams (--sample-bytes) are scaled on the way in: a sampled block of size s stands for
 * 1 / (1 - exp(-s / N)) blocks of that size, which makes the estimates unbiased.
 */
#ifndef KILN_RECORD_HEAP_TRACE_H
#define KILN_RECORD_HEAP_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;
struct profile;
struct symbolizer;

struct heap_trace_stats {
	uint64_t streams;          /* process images seen */
	uint64_t corrupt_streams;  /* streams that ended in a decoding error (their data so far is kept) */
	uint64_t truncated_streams; /* streams that ended in the middle of a record */
	uint64_t events;
	uint64_t unmatched_frees;  /* frees of blocks this stream did not allocate (a forked child's inherited
				      ones) or of sites it never described (a stream cut short) */
	uint64_t no_maps;          /* streams without /proc/self/maps (killed before sending it) */
};

struct heap_trace *heap_trace_new(void);
void heap_trace_free(struct heap_trace *t); /* NULL is a no-op */

/* The run's start (CLOCK_MONOTONIC ns) and its length, for peak times and the profile's metadata. */
void heap_trace_set_time(struct heap_trace *t, uint64_t start_mono_ns, int64_t start_epoch_ns,
			 int64_t duration_ns);

/* Opens a stream and returns its handle. */
uint32_t heap_trace_open(struct heap_trace *t);
/*
 * Processes bytes of stream `h`. Returns 0, or -1 with `e` set when the stream is corrupt (the stream is then
 * ignored from there on; what it said before stays).
 */
int heap_trace_data(struct heap_trace *t, uint32_t h, const void *data, size_t len, struct err *e);
/* Ends stream `h` (the process image exited or exec'd): what it left live is leaked, unless it exec'd. */
void heap_trace_close(struct heap_trace *t, uint32_t h);

/*
 * Once the first stacks and maps have arrived, names their addresses with `sym` in a background thread (once
 * per trace): opening debug info (libdw inflates a compressed .debug file whole: 40 ms for libc's) then happens
 * while the command runs instead of after it exits. `sym` must be the symbolizer later given to
 * heap_trace_finish(), which waits for the thread; the caller does not touch `sym` until then.
 */
void heap_trace_warm(struct heap_trace *t, struct symbolizer *sym);

/* Builds the heap profile into `p` (empty) with `sym` naming the addresses. Returns 0, or -1 with `e` set. */
int heap_trace_finish(struct heap_trace *t, struct symbolizer *sym, struct profile *p, struct err *e);

/*
 * For windows (record_run_continuous()): the profile of what happened since the last call into `p` (empty),
 * with the columns of Go's heap profile: alloc_objects and alloc_space are the allocations since then,
 * inuse_objects and inuse_space what is in use now (a snapshot; for a process that exited since, what it
 * left allocated). Streams stay open. Returns 0, or -1 with `e` set.
 */
int heap_trace_window(struct heap_trace *t, struct symbolizer *sym, struct profile *p, struct err *e);

const struct heap_trace_stats *heap_trace_stats(const struct heap_trace *t);

#endif
