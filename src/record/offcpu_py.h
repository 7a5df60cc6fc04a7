/*
 * Python stacks of off-CPU time (part of offcpu.c; docs/offcpu.md, "Python"). The eBPF side sums waits in the
 * kernel by native stack, where every Python function that blocks looks the same (the evaluator calling
 * time.sleep or os.read). So while the recording runs, a thread of kiln's looks every OCPY_POLL_MS at the
 * threads that are off CPU (the kernel's `starts` map) and reads the Python stack of each block it has not read
 * yet, through the runtime's user_stack hook (runtime.h: the same read and splice as CPU samples). A blocked
 * thread's frame chain cannot change, so the read is the block's stack; the block is then marked in `pyread`,
 * and when it ends the kernel hands its time over as an event instead of summing it (offcpu.bpf.c). Waits
 * shorter than the poll interval are read only when a poll falls within them: the reads cost at most one per
 * blocked thread per poll, never one per wait.
 */
#ifndef KILN_RECORD_OFFCPU_PY_H
#define KILN_RECORD_OFFCPU_PY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;
struct rec_runtime_hooks;
struct rec_session;
struct symbolizer;

#define OCPY_POLL_MS 4

struct ocpy_opts {
	int starts_fd, stacks_fd, pyread_fd, ring_fd; /* the maps of offcpu.bpf.c */
	bool with_runq;        /* wall: preempted threads' time counts too, so their stacks are read as well */
	uint64_t min_block_ns; /* blocks are read once they are this old (shorter ones are dropped anyway) */
};

/*
 * Starts the reader thread. `h` are the runtime's hooks (copied); the session gets locked wrappers of them, as
 * the session calls them too (samples of --mode wall, exec records). Returns NULL with `e` set.
 */
struct ocpy *ocpy_start(const struct ocpy_opts *o, const struct rec_runtime_hooks *h, struct rec_session *s,
			struct err *e);

/*
 * Stops the thread and takes in the last events; the session's hooks stay but no longer read stacks (the waits
 * fed to it afterwards carry their stacks already). Idempotent.
 */
void ocpy_stop(struct ocpy *py);
void ocpy_free(struct ocpy *py); /* NULL is a no-op; stops first */

/* One aggregated wait with a Python stack; `chain` (owned by `py`) is the user stack the runtime spliced. */
struct ocpy_wait {
	uint32_t tgid, tid;
	int32_t ustack, kstack;
	uint64_t ns, count;
	const uint64_t *chain;
	size_t nchain;
};

/* The i-th aggregated wait; false past the last. */
bool ocpy_wait_at(const struct ocpy *py, size_t i, struct ocpy_wait *w);

/* The Python stack read for the block of `tid` that started at `ts` (still blocked at the end), or 0. */
size_t ocpy_block_chain(const struct ocpy *py, uint32_t tid, uint64_t ts, const uint64_t **chain);

/*
 * The user stack of a wait in `out` (capacity `max`): the native chain `u` (leaf fixed, `nu` addresses) with its
 * evaluator frames replaced by the Python frames of `chain`. Returns the length.
 */
size_t ocpy_merge(struct ocpy *py, struct symbolizer *sym, struct rec_session *s, uint32_t tgid, const uint64_t *u,
		  size_t nu, const uint64_t *chain, size_t nchain, uint64_t *out, size_t max);

struct ocpy_stats {
	uint64_t reads;  /* Python stacks read */
	uint64_t waits;  /* blocks counted with a Python stack */
	uint64_t ns;     /* ... and their time */
};
void ocpy_get_stats(const struct ocpy *py, struct ocpy_stats *st);

#endif
