/*
 * The live CPU sampler: opens the software cpu-clock event with perf_event_open (works in VMs without hardware
 * counters) and its process tracking records, reads the mmap ring buffers with poll(), orders each round of
 * records by time and feeds them to a rec_session.
 *
 *   launch   a child is forked and held on a pipe while one inherited event per CPU is opened on it with
 *            enable_on_exec, then released to exec the command: every thread, fork and exec is followed.
 *   attach   one inherited event per existing thread of each PID (so threads created later are covered);
 *            what already exists is read from /proc. Ends when every target exited, at the deadline or stop.
 *   system   one event per CPU for everything (-a), optionally while a launched command runs.
 *
 * Signals: recorder_stop() is async-signal-safe; a signal for the command is forwarded to a launched child and
 * the recording ends when the child is gone, or at a second stop request (the command is then left running).
 * A child still running SPAWN_GRACE_NS after a stop request gets SIGTERM, and SIGKILL after as long again.
 * A `duration` with a launched command ends the recording at that time and leaves the command running.
 */
#ifndef KILN_RECORDER_H
#define KILN_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;
struct rec_session;

enum rec_mode {
	REC_LAUNCH,
	REC_ATTACH,
	REC_SYSTEM,
};

struct recorder_opts {
	enum rec_mode mode;
	char *const *argv;    /* REC_LAUNCH, or REC_SYSTEM with a command; NULL-terminated */
	const uint32_t *pids; /* REC_ATTACH */
	size_t npids;
	unsigned freq;        /* samples per second per CPU */
	double duration;      /* seconds; 0 = until the command ends, the targets exit, or recorder_stop() */
	bool dwarf;           /* copy user registers and stack for DWARF unwinding */
	uint32_t stack_size;  /* bytes of user stack to copy in dwarf mode */
	bool user_only;       /* no kernel callchains */
	size_t mmap_pages;    /* data pages per ring buffer (a power of two); 0 = default */
	uint64_t child_ignored_signals; /* bit N: signal N stays ignored in the launched command */
	unsigned wakeup_events; /* wake the reader every N samples (runtimes read stacks when a sample is read:
				 * runtime_wakeup_events()); 0 = at half a ring buffer or every 100 ms */
	/* No samples: a dummy event that only tracks processes (comm, fork, exec, mmap), for samples taken by
	 * another tracer (eBPF) and fed to the same session. */
	bool sideband_only;
	/* Called once the events are open, before a launched command is released to exec (`pid` is the child,
	 * 0 when nothing is launched): e.g. to add the child to another tracer's filter. -1 (with `e` set)
	 * aborts the recording and the command never runs. */
	int (*on_ready)(uint32_t pid, void *arg, struct err *e);
	void *on_ready_arg;
};

/* Registers sampled in dwarf mode (x86_64 perf register numbers). */
uint64_t recorder_dwarf_regs_mask(void);

/*
 * Frame-pointer mode (not dwarf) also samples IP, SP and BP and the top RECORDER_LEAF_STACK bytes of the user
 * stack, so that the session can name the caller of code without a frame at the sampled instruction (leaf
 * functions, shrink-wrapped prologues, hand-written assembly, syscall wrappers: symbolizer_leaf_caller()).
 * 256 bytes hold the return address of a frameless function that pushed all six callee-saved registers and
 * keeps up to 200 bytes of locals below them; a frameless function with more is left as the kernel's walk
 * gave it (rec_stats.leaf_beyond_stack). bench/profile-overhead.sh measures what the copy costs.
 */
#define RECORDER_LEAF_STACK 256
uint64_t recorder_leaf_regs_mask(void);

/* Outcomes of a launch that failed before the command ran. */
enum rec_launch_error {
	REC_LAUNCH_OK = 0,
	REC_LAUNCH_NOT_FOUND,  /* exit 127 */
	REC_LAUNCH_CANNOT_RUN, /* exit 126 */
};

struct recorder_result {
	int status;             /* wait status of a launched command (valid when `launched`) */
	bool launched;          /* a command ran */
	bool reaped;            /* ... and was waited for: `status` is valid */
	enum rec_launch_error launch_error;
	uint64_t duration_ns;   /* wall time recorded */
	uint64_t start_epoch_ns;
	uint64_t start_mono_ns; /* now_ns() when the events were enabled */
	int stop_signal;        /* a signal that ended the recording, 0 if none */
	int stop_asked;         /* the signal of the first stop request, 0 if none */
	int escalated;          /* SIGTERM or SIGKILL: sent to a command that outlived a stop request's grace
				 * period (spawn_escalate()), 0 if none */
	int child;              /* the launched command's process id */
	uint64_t bytes_read;    /* ring buffer bytes consumed */
	unsigned nevents;
};

/*
 * Records until the end condition of the mode, feeding `s`. Returns 0 with `res` filled (also when a launched
 * command could not be executed: see res->launch_error), or -1 with `e` set when recording could not start.
 */
int recorder_run(const struct recorder_opts *o, struct rec_session *s, struct recorder_result *res, struct err *e);

/*
 * The same in steps, for a caller that hands over what was recorded so far (continuous recording, run.h):
 *   recorder_start()  opens the events and launches or attaches; returns 0 with `*rc` (NULL when a launched
 *                     command could not be run: res->launch_error, `e` set), or -1 with `e` set;
 *   recorder_poll()   records until `until_ns` (now_ns() time; 0: no limit) or the end condition, feeding the
 *                     session; returns 1 at the end, 0 at `until_ns`;
 *   recorder_flush()  feeds what the ring buffers hold now;
 *   recorder_end()    stops, feeds the rest, fills `res` (duration, ...) and frees `rc` (NULL: no-op).
 */
struct recorder;
int recorder_start(const struct recorder_opts *o, struct rec_session *s, struct recorder_result *res,
		   struct recorder **rc, struct err *e);
int recorder_poll(struct recorder *rc, uint64_t until_ns);
void recorder_flush(struct recorder *rc);
void recorder_end(struct recorder *rc);

/* Asks a running recorder to stop (async-signal-safe); `sig` is forwarded to a launched command when it was
 * sent by another process (a terminal's signal already reached the command's process group). */
void recorder_stop(int sig, bool forward);

#endif
