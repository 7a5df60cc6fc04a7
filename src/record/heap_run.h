/*
 * Runs a command under the heap profiler: the command (and, unless no_children, every process it forks or
 * execs) runs with libkiln-heap.so preloaded, each process image streams its events over a private Unix socket
 * (in a fresh 0700 directory), and kiln feeds them to a heap_trace as they arrive, so the target never waits
 * for a file and memory grows with live blocks and unique stacks, not with the number of events.
 *
 * Signals: heap_run_stop() is async-signal-safe and forwards the signal to the command when asked to. The run
 * waits for the command; a command still running SPAWN_GRACE_NS after the request is sent SIGTERM, then
 * SIGKILL (spawn_escalate()); a second request ends the run at once and leaves the command running.
 */
#ifndef KILN_RECORD_HEAP_RUN_H
#define KILN_RECORD_HEAP_RUN_H

#include <stdbool.h>
#include <stdint.h>

struct err;
struct heap_trace;
struct symbolizer;

struct heap_run_opts {
	char *const *argv;    /* NULL-terminated command */
	const char *preload;  /* path of libkiln-heap.so */
	uint64_t sample_bytes; /* 0: every allocation */
	unsigned depth;       /* 0: the library's default */
	bool no_children;
	uint64_t ignored_signals; /* bit N: signal N stays ignored in the command (kiln's caller ignored it) */
	double linger;        /* seconds to wait for other processes' streams after the command exits (1) */
	struct symbolizer *warm; /* given to heap_trace_warm() while the command runs (NULL: none) */
};

enum heap_launch_error {
	HEAP_LAUNCH_OK = 0,
	HEAP_LAUNCH_NOT_FOUND,  /* exit 127 */
	HEAP_LAUNCH_CANNOT_RUN, /* exit 126 */
};

struct heap_run_result {
	int status;           /* wait status of the command (when `reaped`) */
	bool launched, reaped;
	int stop_signal;      /* a second stop request's signal: the run ended with the command running */
	int stop_asked;       /* the first stop request's signal, 0 if none */
	int escalated;        /* SIGTERM or SIGKILL sent after the grace period, 0 if none */
	enum heap_launch_error launch_error; /* `e` says why */
	uint64_t start_mono_ns;
	int64_t start_epoch_ns;
	int64_t duration_ns;
};

/*
 * Runs the command to its end, feeding `t`. Returns 0 with `res` filled (also when the command could not be
 * executed: see launch_error, with `e` set), or -1 with `e` set when profiling could not start.
 */
int heap_run(const struct heap_run_opts *o, struct heap_trace *t, struct heap_run_result *res, struct err *e);

/*
 * heap_run() in steps, for windows (record_run_continuous()): heap_run_start() launches the command (0 with
 * `*h` set; 0 with `*h` NULL and res->launch_error when it could not run; -1 with `e` set), heap_run_poll()
 * feeds `t` until `until_ns` (now_ns() time; 0: no limit) and returns 0 then, or 1 at the end of the run (-1
 * with `e` set on failure), heap_run_end() closes the streams still open and frees `h` (NULL is a no-op).
 * `o`, `t` and `res` must outlive `h`.
 */
struct heap_run;
int heap_run_start(const struct heap_run_opts *o, struct heap_trace *t, struct heap_run_result *res,
		   struct heap_run **h, struct err *e);
int heap_run_poll(struct heap_run *h, uint64_t until_ns, struct err *e);
void heap_run_end(struct heap_run *h);
void heap_run_stop(int sig, bool forward);

/* Finds libkiln-heap.so: $KILN_HEAP_LIB, beside the kiln binary, then ../lib/ from it. Returns a malloc'd path
 * or NULL with `e` set. */
char *heap_find_preload(struct err *e);

#endif
