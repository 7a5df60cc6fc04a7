/*
 * A recording session: the state machine that consumes decoded perf records (from the live ring buffer or a
 * perf.data file) in time order. It tracks processes, threads, their names and address spaces (comm, fork,
 * exec, exit, mmap), hands mappings to the symbolizer, and aggregates samples by raw stack so that memory grows
 * with unique stacks, not with the number of samples. Addresses are symbolized once each, at the end, by
 * rec_session_finish(), which fills the profile model.
 *
 * Address spaces: a process gets a new address space on exec and when a pid is reused, so samples taken before
 * an exec are named with the mappings of the old image. The symbolizer is keyed by this address space id
 * (`asid`), which equals the pid for a process's first image.
 */
#ifndef KILN_RECORD_SESSION_H
#define KILN_RECORD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;
struct perf_rec;
struct profile;
struct symbolizer;

struct rec_session_opts {
	bool user_only;        /* drop kernel frames */
	bool dwarf;            /* unwind user stacks from sampled registers + stack copies */
	uint64_t regs_mask;    /* sample_regs_user of the event, for --call-graph dwarf */
	const char *value_type; /* second column, e.g. "cpu" (default) or "cycles" */
	const char *value_unit; /* e.g. "nanoseconds" (default) or "count" */
	bool no_labels;        /* no pid/tid/comm labels */
	int root_frame;        /* a FRAME_ROOT frame per sample: 0 none, 1 "comm", 2 "comm-PID", 3 "comm-PID/TID" */
	bool annotate_kernel;  /* kernel function names get "_[k]" (stackcollapse-perf's --kernel) */
	bool default_samples;  /* the samples column is the profile's default (else the value column) */
};

struct rec_stats {
	uint64_t samples;        /* samples aggregated */
	uint64_t period;         /* sum of sample periods */
	uint64_t lost;           /* records the kernel dropped (PERF_RECORD_LOST + LOST_SAMPLES) */
	uint64_t throttled;      /* PERF_RECORD_THROTTLE records */
	uint64_t bad_records;    /* records that failed to decode */
	uint64_t first_time, last_time; /* perf clock of the first and last sample */
	uint64_t unique_stacks;
	uint64_t processes, threads;
	uint64_t user_samples;   /* samples with at least one user frame (set by finish) */
	uint64_t broken_user;    /* ... of which the user stack does not reach a thread/process entry point */
	uint64_t unwind_failed;  /* dwarf: samples whose unwinding produced no frames */
	uint64_t max_depth_hit;  /* samples truncated at the maximum stack depth */
	uint64_t leaf_repaired;  /* frame pointers: samples whose caller the CFI named (the code at the sampled
				  * user IP had no frame of its own, so the kernel's walk had skipped it) */
	uint64_t leaf_beyond_stack; /* ... and samples in such code whose return address lay beyond the copied
				     * stack: left as the kernel's walk gave them */
};

/* `sym` is borrowed and must outlive the session. */
struct rec_session *rec_session_new(struct symbolizer *sym, const struct rec_session_opts *o);
void rec_session_free(struct rec_session *s); /* NULL is a no-op */

/* Consumes one decoded record. Never fails: inconsistent records are counted and skipped. */
void rec_session_record(struct rec_session *s, const struct perf_rec *r);

/*
 * Like rec_session_record() for a PERF_RECORD_SAMPLE that stands for `n` samples aggregated elsewhere (e.g. by
 * eBPF in the kernel): the sample's period is the total of their values (off-CPU nanoseconds, ...).
 */
void rec_session_record_n(struct rec_session *s, const struct perf_rec *r, uint64_t n);

/* The symbolizer's address-space id of `pid` as of the records consumed so far (for symbolizer_unwind() or
 * symbolizer_resolve() calls on the session's symbolizer). */
uint32_t rec_session_asid(struct rec_session *s, uint32_t pid);

/* Remembers a build id for a binary path (perf.data's build-id table), used for its later mappings. */
void rec_session_set_build_id(struct rec_session *s, const char *path, const unsigned char *id, size_t len);

/*
 * Reads what already exists of process `pid` from /proc (its threads, their names and its executable
 * mappings), as the kernel reports only what happens after recording starts. Returns 0, or -1 with `e` set
 * (e.g. the process is gone).
 */
int rec_session_synthesize(struct rec_session *s, uint32_t pid, struct err *e);

/* Samples aggregated so far. */
uint64_t rec_session_samples(const struct rec_session *s);

/*
 * Symbolizes every distinct address once and adds the aggregated samples to `p` (columns samples/count and
 * the value column, labels pid/tid/comm). Returns 0, or -1 with `e` set.
 */
int rec_session_finish(struct rec_session *s, struct profile *p, struct err *e);

const struct rec_stats *rec_session_stats(const struct rec_session *s);

/*
 * Forgets the samples aggregated so far and the per-sample statistics (continuous recording: after each
 * window's rec_session_finish()); processes, threads and address spaces stay, as the targets run on.
 */
void rec_session_reset_samples(struct rec_session *s);

/*
 * Runtime hooks (src/record/runtime.h fills them for Python, Node.js, Java and Go); any may be NULL.
 *   user_stack  per sample, before aggregation: the `n` user addresses of (pid, tid), leaf first, in room for
 *               `max`; may rewrite them (e.g. splice interpreter frames in as addresses with REC_RUNTIME_TAG
 *               set, which only the hook resolves) and returns their new number.
 *   resolve     at finish, for a user address with REC_RUNTIME_TAG set: frames into `out` (innermost first, at
 *               most `max`), returns their number; 0 leaves the address to the symbolizer.
 *   frames      at finish, the `n` frames an ordinary user address resolved to: may replace them in place
 *               (e.g. JIT names into language frames); returns their new number (at most `max`).
 * A stack holding a FRAME_PYTHON frame counts as complete (the interpreter's frame chain was read whole).
 */
#define REC_RUNTIME_TAG (1ULL << 62)
struct rec_runtime_hooks {
	void *ctx;
	size_t (*user_stack)(void *ctx, uint32_t pid, uint32_t tid, uint64_t *addrs, size_t n, size_t max);
	size_t (*resolve)(void *ctx, struct profile *p, uint64_t addr, uint32_t *out, size_t max);
	size_t (*frames)(void *ctx, struct profile *p, uint32_t *ids, size_t n, size_t max);
	void (*exec)(void *ctx, uint32_t pid); /* process `pid` replaced its image */
};
void rec_session_set_runtime_hooks(struct rec_session *s, const struct rec_runtime_hooks *h);

#endif
