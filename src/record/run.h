/*
 * The recording driver: a request (what to record, how, with which symbol options) goes in, a struct profile
 * comes out. `kiln profile` is a thin front to it, and an agent (`kiln profile --push`) or a server calls the
 * same functions. Each mode is a row of one table (run_modes.c): { name, bit, start, poll, stop, finish }:
 *
 *   cpu     cpu-clock samples with kernel + user stacks (perf_event; recorder.h)
 *   mem     every heap allocation and free of a launched command (libkiln-heap.so; heap_run.h)
 *   offcpu  time blocked, per stack (eBPF; offcpu.h)
 *   wall    on-CPU samples plus off-CPU time: a thread's time adds up to its life (eBPF + perf_event)
 *   io      system calls: counts, latency, files, block devices (eBPF, perf_event counting fallback; iotrace.h)
 *
 * One-shot:
 *
 *   struct record_request rq = RECORD_REQUEST_INIT;
 *   rq.argv = argv;                              (or rq.pids / rq.npids, or rq.all_cpus + rq.duration)
 *   struct profile *p = profile_new(0);
 *   struct record_result res;
 *   if (record_run(&rq, p, &res, &e) < 0) ...   kiln's own failure (exit 125)
 *   if (res.launch_failed) ...                   the command could not be run (res.exit_status 126/127, e says why)
 *   ... write p, print res.notes[] as warnings; record_result_release(&res); exit with res.exit_status
 *
 * Continuous (cpu, mem and offcpu modes): record_run_continuous() hands over a profile every `window_ns`; the
 * windows abut (window k's `until` is window k+1's `from`, no gap, no overlap: every sample is in exactly one
 * window) and per-window state is reset after each hand-over, so memory stays flat over days for a steady set
 * of processes (the symbolizer keeps the address spaces of processes that exited: see docs/design.md).
 *   cpu     the samples of the window
 *   mem     Go's heap profile columns: alloc_objects/alloc_space are the (sampled) allocations received in the
 *           window, inuse_objects/inuse_space what is in use at its end (a snapshot, as Go reports in-use
 *           memory as of its last collection); the heap trace keeps one entry per allocation site
 *   offcpu  the time blocked in the window (one column off_cpu/nanoseconds, plus samples/count): a block that
 *           spans windows is cut at the drain of the kernel's sums; Python stacks of waits are not read
 *
 * Signals: with `handle_signals`, SIGINT/SIGTERM/SIGHUP end the recording while it runs (the output is still
 * produced) and a signal sent to kiln alone is passed on to a launched command; a signal the caller ignores
 * stays ignored in the command. A launched command still running 2 s after a stop request is sent SIGTERM,
 * and SIGKILL 2 s later (res->escalated, and a note). record_stop() does the same from anywhere
 * (async-signal-safe).
 *
 * Library code: nothing is printed; messages for the user are collected in res->notes.
 */
#ifndef KILN_RECORD_RUN_H
#define KILN_RECORD_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heap_trace.h"
#include "iotrace.h"
#include "offcpu.h"
#include "runtime.h"
#include "session.h"

struct err;
struct profile;

/* Mode bits: a request's mode, and the tags of the options that apply to it (kiln profile's table). */
#define RECORD_CPU    (1u << 0)
#define RECORD_MEM    (1u << 1)
#define RECORD_OFFCPU (1u << 2)
#define RECORD_WALL   (1u << 3)
#define RECORD_IO     (1u << 4)
#define RECORD_ALL    (RECORD_CPU | RECORD_MEM | RECORD_OFFCPU | RECORD_WALL | RECORD_IO)

#define RECORD_FREQ_LAUNCH 999 /* development runs: detail in a short run */
#define RECORD_FREQ_ATTACH 99  /* production processes and whole systems: low overhead, off the 100 Hz tick */

struct record_request {
	unsigned mode; /* one RECORD_* bit; 0 is RECORD_CPU */

	/* Target: a command, or PIDs, or every CPU (optionally while a command runs). */
	char *const *argv;       /* NULL-terminated, or NULL */
	const uint32_t *pids;
	size_t npids;
	bool all_cpus;
	double duration;         /* seconds; 0: until the targets exit or record_stop(). With a command: the recording
				  * ends then and the command runs on (res->left_running) */

	/* Sampling (cpu, wall) */
	unsigned freq;           /* per second per CPU; 0: RECORD_FREQ_LAUNCH launched, RECORD_FREQ_ATTACH else */
	bool dwarf;              /* unwind user stacks with DWARF CFI from copied stacks (cpu) */
	uint32_t stack_size;     /* bytes of user stack copied per sample with dwarf (0: 8192) */
	size_t mmap_pages;       /* ring buffer data pages per CPU, a power of two (0: default) */
	bool user_only;          /* no kernel frames */
	enum rt_lang lang;       /* language runtime (cpu, offcpu, wall); RT_AUTO detects it */

	/* Symbols (every mode) */
	const char *debuginfo_dirs; /* colon-separated, searched before /usr/lib/debug; NULL: only the default */
	bool no_inline;

	/* mem */
	uint64_t sample_bytes;   /* 0: trace every allocation */
	unsigned depth;          /* 0: the library's default */
	bool no_children;
	/* offcpu, wall */
	uint64_t min_block_ns;
	/* io */
	bool no_stacks, no_files;

	bool handle_signals;     /* see above */
	/* Called about four times a second while recording with the time recorded so far: for a progress line.
	 * NULL: none. */
	void (*on_progress)(uint64_t elapsed_ns, void *arg);
	void *progress_arg;
};
#define RECORD_REQUEST_INIT { 0 }

struct record_result {
	/*
	 * kiln profile's exit status, like time(1): the command's (128+N when signal N killed it, or when a second
	 * signal stopped the recording with the command still running), 0 without a command, 126 when the command
	 * cannot be run, 127 when it is not found.
	 */
	int exit_status;
	bool launch_failed;      /* the command did not run (`e` says why) */
	bool launched, reaped;   /* a command ran / was waited for: `status` is its wait status */
	int status;
	int stop_signal;         /* a signal that ended the recording, 0 if none */
	bool left_running;       /* `duration` ended the recording of a launched command, which runs on as `pid` */
	uint32_t pid;            /* the launched command's process id */
	int escalated;           /* SIGTERM or SIGKILL sent after a stop request's grace period (spawn.h), or 0 */
	uint64_t start_epoch_ns, duration_ns;
	unsigned freq;           /* the sampling frequency used (cpu, wall) */
	const char *title;       /* "CPU", "Off-CPU Time", ...: for a flame graph's title (static) */

	struct rec_stats cpu;          /* cpu, offcpu, wall: the session's statistics */
	struct offcpu_stats offcpu;    /* offcpu, wall */
	struct heap_trace_stats heap;  /* mem */
	struct io_result io;           /* io: owned, freed by record_result_release() */
	bool have_io;

	char **notes;            /* messages for the user (warnings), one line each, owned */
	size_t notes_nr, notes_alloc;
};
void record_result_release(struct record_result *res);

/* The mode bit of a name ("cpu", "mem", "offcpu", "wall", "io"), or 0; and the name of a bit. */
unsigned record_mode_parse(const char *name);
const char *record_mode_name(unsigned mode);

/*
 * Records as `rq` says and fills `p` (empty, from profile_new()). Returns 0 with `res` filled (also when the
 * command could not be run: res->launch_failed, `e` set), or -1 with `e` set when recording failed.
 */
int record_run(const struct record_request *rq, struct profile *p, struct record_result *res, struct err *e);

/*
 * Called once per window with that window's profile (borrowed: valid during the call; the driver frees it),
 * its start and end in nanoseconds since the epoch (also in p->time_nanos and p->duration_nanos). A non-zero
 * return ends the recording after this window.
 */
typedef int (*record_window_fn)(struct profile *p, uint64_t from_ns, uint64_t until_ns, void *arg);

/*
 * Records continuously (cpu, mem or offcpu), handing a profile to `on_window` every `window_ns` until the
 * targets exit, rq->duration passes, record_stop() is called or `on_window` returns non-zero; the last window
 * ends there (it may be shorter). Returns 0 with `res` filled (res->cpu counts the whole run), or -1 with `e` set.
 */
int record_run_continuous(const struct record_request *rq, uint64_t window_ns, record_window_fn on_window,
			  void *arg, struct record_result *res, struct err *e);

/* Ends a running recording (async-signal-safe); `sig` is passed on to a launched command when `forward`. */
void record_stop(int sig, bool forward);

#endif
