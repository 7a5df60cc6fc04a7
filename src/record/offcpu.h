/*
 * Off-CPU time with eBPF: where threads wait (blocking I/O, locks, sleeps), in nanoseconds, attributed to the
 * user + kernel stack at which they left the CPU. Blocked time ends when the thread is woken up; the time it
 * then waits for a CPU (run queue delay, or all of a preempted thread's time off CPU) is counted apart, and
 * added to the stacks only with `with_runq` (wall-clock profiles, where a thread's time adds up to its life). The kernel side (src/bpf/offcpu.bpf.c)
 * sums the time per (process, thread, stack) on sched_switch, for the target's process tree only; this module
 * loads it, adds targets, and at the end feeds the sums to a rec_session as weighted samples, whose process
 * tracking (a sideband recorder: comm, fork, exec, mmap) names the user addresses.
 *
 * Leaf frames: bpf_get_stackid() walks frame pointers, which misses the caller of a function without a frame
 * (a libc system call wrapper such as read() or nanosleep()). The first time a (process, user stack) is seen the
 * kernel side also copies the user registers and the top of the user stack; offcpu_collect() unwinds those
 * with DWARF CFI and splices the frames found into the frame-pointer chain.
 */
#ifndef KILN_RECORD_OFFCPU_H
#define KILN_RECORD_OFFCPU_H

#include <stdbool.h>
#include <stdint.h>

struct err;
struct rec_session;
struct symbolizer;

struct offcpu_opts {
	uint64_t min_block_ns; /* waits shorter than this are dropped in the kernel */
	bool all;              /* every process (system-wide) instead of targets added with offcpu_add_pid() */
	bool no_leaf_fix;      /* do not copy stack tops for DWARF unwinding of leaf frames */
	bool user_only;        /* no kernel stacks (cheaper) */
	bool with_runq;        /* also count the time runnable but waiting for a CPU (wall-clock profiles) */
	bool py_waits;         /* prepare for offcpu_read_stacks() */
};

struct offcpu_stats {
	uint64_t stacks;        /* distinct (thread, stack) sums */
	uint64_t switches;      /* switches out that were summed */
	uint64_t total_ns;      /* off-CPU time fed to the session */
	uint64_t still_blocked; /* threads still off CPU at the end, counted up to then */
	uint64_t dropped;       /* events lost for lack of map room */
	uint64_t leaf_fixed;    /* stacks whose innermost frames came from DWARF unwinding */
	uint64_t runq_ns;       /* time runnable but waiting for a CPU (after a wakeup or a preemption) */
	uint64_t runq_waits;
	uint64_t unended;       /* blocks whose switch back in ran no eBPF program: measured by the thread's clocks */
	uint64_t py_reads;      /* Python stacks read while threads waited */
	uint64_t py_ns;         /* off-CPU time counted with a Python stack */
};

/*
 * Loads and attaches the eBPF programs. Returns NULL with `e` set when that fails; `*denied` is set when the
 * kernel refused BPF itself (EPERM/EACCES: not root, no CAP_BPF+CAP_PERFMON, or a lockdown), so that the
 * caller can explain it.
 */
struct offcpu *offcpu_open(const struct offcpu_opts *o, bool *denied, struct err *e);
void offcpu_free(struct offcpu *oc); /* NULL is a no-op; detaches the programs */

/* Traces process `pid` (all its threads, and the processes it forks from now on). Returns 0 or -1. */
int offcpu_add_pid(struct offcpu *oc, uint32_t pid, struct err *e);

/*
 * Python (offcpu_py.h): while recording, reads the Python stack of each blocked thread through the runtime's
 * `user_stack` hook `h` and counts its wait under it. Installs locked wrappers of `h` in `s` (they are called
 * from two threads then). Needs `py_waits` at offcpu_open(). Returns 0, or -1 with `e` set.
 */
struct rec_runtime_hooks;
int offcpu_read_stacks(struct offcpu *oc, const struct rec_runtime_hooks *h, struct rec_session *s, struct err *e);

/* Stops counting (detaches the programs); what was summed stays readable. */
void offcpu_stop(struct offcpu *oc);

/*
 * Feeds the sums to `s` (whose symbolizer is `sym`): one weighted sample per (thread, stack) whose period is
 * the time off CPU and whose count is the number of switches. Threads still off CPU are counted up to now.
 * Call after the session has consumed all process-tracking records. Returns 0, or -1 with `e` set.
 */
int offcpu_collect(struct offcpu *oc, struct rec_session *s, struct symbolizer *sym, struct offcpu_stats *st,
		   struct err *e);

/*
 * For windows that abut (record_run_continuous()): feeds to `s` what was added since the last drain, as
 * offcpu_collect() does for a whole run, without stopping. A thread still blocked is counted up to now, and
 * the rest of its block in later windows (a block that ends while the maps are read, a few milliseconds, may
 * move between two neighbouring windows). Sums idle for a whole window leave the kernel's map, so that it
 * does not fill over days. Adds to `st`'s sums (its kernel counters are set to the totals). Python stacks of
 * waits (offcpu_read_stacks) are not drained. Returns 0, or -1 with `e` set.
 */
int offcpu_drain(struct offcpu *oc, struct rec_session *s, struct symbolizer *sym, struct offcpu_stats *st,
		 struct err *e);

#endif
