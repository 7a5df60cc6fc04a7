/* The recording driver's modes: cpu, mem, offcpu, wall and io as rows of one table (see run_mode.h). */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../core/err.h"
#include "../core/spawn.h"
#include "../core/util.h"
#include "../profile/profile.h"
#include "../symbols/symbolizer.h"
#include "iotrace_count.h"
#include "run_mode.h"

/* --- the perf_event recorder, shared by cpu, offcpu, wall and io --- */

/* What kiln did to a command that outlived the grace period after a stop request (spawn_escalate()). */
static void stop_notes(struct record_result *res, int asked, int escalated, const char *cmd)
{
	char sig[16] = "a stop request";
	double grace = (double)SPAWN_GRACE_NS * 1e-9;

	res->escalated = escalated;
	if (!escalated)
		return;
	if (asked)
		snprintf(sig, sizeof(sig), "SIG%s", sigabbrev_np(asked));
	if (escalated == SIGKILL)
		record_note(res, "'%s' did not stop within %.0f s of %s: sent it SIGTERM, then SIGKILL %.0f s later",
			    cmd, grace, sig, grace);
	else
		record_note(res, "'%s' did not stop within %.0f s of %s: sent it SIGTERM", cmd, grace, sig);
}

static int exit_status_of(const struct recorder_result *rr)
{
	if (!rr->launched)
		return 0;
	if (!rr->reaped) /* recording stopped at a second signal, or at -d: the command still runs */
		return rr->stop_signal ? 128 + rr->stop_signal : 0;
	if (WIFEXITED(rr->status))
		return WEXITSTATUS(rr->status);
	if (WIFSIGNALED(rr->status))
		return 128 + WTERMSIG(rr->status);
	return EXIT_INTERNAL;
}

static void recorder_setup(struct record_run *r)
{
	const struct record_request *rq = r->rq;

	r->ro.mode = rq->all_cpus ? REC_SYSTEM : rq->npids ? REC_ATTACH : REC_LAUNCH;
	r->ro.argv = r->launch ? (r->rt ? runtime_launch_argv(r->rt, rq->argv) : rq->argv) : NULL;
	r->ro.pids = rq->pids;
	r->ro.npids = rq->npids;
	r->ro.freq = r->freq;
	r->ro.duration = rq->duration;
	r->ro.user_only = rq->user_only;
	r->ro.mmap_pages = rq->mmap_pages;
	r->ro.child_ignored_signals = r->child_ignored_signals;
}

static int perf_start(struct record_run *r, struct err *e)
{
	if (recorder_start(&r->ro, r->s, &r->rres, &r->rc, e) < 0)
		return -1;
	r->start_mono_ns = r->rres.start_mono_ns;
	r->res->start_epoch_ns = r->rres.start_epoch_ns;
	if (!r->rc) {
		r->res->launch_failed = true;
		r->res->exit_status = r->rres.launch_error == REC_LAUNCH_NOT_FOUND ? 127 : 126;
	}
	return 0;
}

static int perf_poll(struct record_run *r, uint64_t until_ns, struct err *e)
{
	(void)e;
	return recorder_poll(r->rc, until_ns);
}

static void perf_stop(struct record_run *r)
{
	struct record_result *res = r->res;

	recorder_end(r->rc);
	r->rc = NULL;
	res->launched = r->rres.launched;
	res->reaped = r->rres.reaped;
	res->status = r->rres.status;
	res->stop_signal = r->rres.stop_signal;
	res->duration_ns = r->rres.duration_ns;
	res->exit_status = exit_status_of(&r->rres);
	res->pid = (uint32_t)r->rres.child;
	res->left_running = res->launched && !res->reaped && !res->stop_signal;
	if (res->left_running)
		record_note(res, "recorded the first %.3g s of '%s', which runs on as process %" PRIu32,
			    r->rq->duration, r->rq->argv[0], res->pid);
	stop_notes(res, r->rres.stop_asked, r->rres.escalated, r->launch ? r->rq->argv[0] : "");
}

static void perf_signal(int sig, bool forward)
{
	recorder_stop(sig, forward);
}

/* The language runtime layer (runtime.h) for a launch or an attach. */
static void runtime_setup(struct record_run *r)
{
	r->rt = runtime_new(r->rq->lang, r->launch);
	if (r->launch)
		runtime_prepare_launch(r->rt, r->rq->argv, NULL);
	else
		runtime_prepare_attach(r->rt, r->rq->pids, r->rq->npids);
	runtime_attach(r->rt, r->s);
}

/* After the profile is built: the runtime's temporary perf maps go, its notes are passed on. */
static void runtime_done(struct record_run *r)
{
	if (!r->rt)
		return;
	runtime_cleanup(r->rt);
	for (const char *const *note = runtime_notes(r->rt); *note; note++)
		record_note(r->res, "%s", *note);
}

static void profile_meta(const struct record_run *r, struct profile *p, const char *type, int64_t period)
{
	p->time_nanos = (int64_t)r->res->start_epoch_ns;
	p->duration_nanos = (int64_t)r->res->duration_ns;
	p->period = period;
	p->period_type.type = profile_intern_str(p, type);
	p->period_type.unit = profile_intern_str(p, "nanoseconds");
}

/* --- cpu --- */

static int cpu_start(struct record_run *r, struct err *e)
{
	const struct record_request *rq = r->rq;
	FILE *mf = fopen("/proc/sys/kernel/perf_event_max_sample_rate", "r");

	if (mf) {
		unsigned long max = 0;
		if (fscanf(mf, "%lu", &max) == 1 && max && r->freq > max)
			record_note(r->res, "-F %u is above the kernel's limit of %lu samples per second "
				    "(/proc/sys/kernel/perf_event_max_sample_rate): the kernel will throttle",
				    r->freq, max);
		fclose(mf);
	}
	struct rec_session_opts so = {
		.user_only = rq->user_only,
		.dwarf = rq->dwarf,
		.regs_mask = rq->dwarf ? recorder_dwarf_regs_mask() : 0,
	};
	r->s = rec_session_new(r->sym, &so);
	/* Language runtimes (docs/runtimes.md): their functions' names, Python frames spliced into stacks. */
	runtime_setup(r);
	recorder_setup(r);
	r->ro.dwarf = rq->dwarf;
	r->ro.stack_size = rq->stack_size;
	r->ro.wakeup_events = runtime_wakeup_events(r->rt);
	r->res->title = "CPU";
	return perf_start(r, e);
}

static void cpu_stop(struct record_run *r)
{
	perf_stop(r);
	runtime_end_recording(r->rt);
}

/* What the statistics of a CPU recording say the user should know. */
static void cpu_notes(struct record_run *r, const struct rec_stats *st)
{
	struct record_result *res = r->res;
	bool dwarf = r->rq->dwarf;
	char a[32];

	if (!st->samples)
		record_note(res, "no samples: the target used less CPU than one sampling period (%s); raise -F",
			    fmt_ns(a, 1e9 / r->freq));
	if (st->throttled)
		record_note(res, "the kernel throttled sampling %" PRIu64 " times: lower -F or raise "
			    "/proc/sys/kernel/perf_event_max_sample_rate", st->throttled);
	if (st->lost)
		record_note(res, "the kernel dropped %" PRIu64 " records (ring buffer full): lower -F or raise "
			    "--mmap-pages", st->lost);
	if (!dwarf && st->user_samples >= 20 && st->broken_user * 5 > st->user_samples)
		record_note(res, "%.0f%% of user stacks do not reach main or a thread start: code without frame "
			    "pointers breaks them; try --call-graph dwarf",
			    100.0 * (double)st->broken_user / (double)st->user_samples);
	if (!dwarf && st->user_samples >= 20 && st->leaf_beyond_stack * 20 > st->user_samples)
		record_note(res, "%" PRIu64 " samples in code without a frame of its own whose return address lies "
			    "beyond the %d bytes of stack copied: their direct caller may be missing; try --call-graph "
			    "dwarf", st->leaf_beyond_stack, RECORDER_LEAF_STACK);
	if (dwarf && st->samples >= 20 && st->unwind_failed * 5 > st->samples)
		record_note(res, "DWARF unwinding failed for %" PRIu64 " of %" PRIu64 " samples", st->unwind_failed,
			    st->samples);
}

static int cpu_finish(struct record_run *r, struct profile *p, bool window, struct err *e)
{
	/* kallsyms is read (50-150 ms of kernel time) while user addresses are symbolized, not while the target
	 * runs: on a virtual machine whose CPUs share cores, any work kiln does slows the target it measures. */
	if (!r->rq->user_only)
		symbolizer_prefetch_kernel(r->sym);
	if (window)
		recorder_flush(r->rc);
	profile_meta(r, p, "cpu", (int64_t)(1000000000ULL / r->freq));
	if (rec_session_finish(r->s, p, e) < 0)
		return -1;
	r->res->cpu = *rec_session_stats(r->s);
	if (window) {
		rec_session_reset_samples(r->s);
		return 0;
	}
	runtime_done(r);
	cpu_notes(r, &r->res->cpu);
	return 0;
}

/* --- offcpu and wall: eBPF off-CPU sums with a sideband (or sampling, wall) recorder --- */

/* A running process to trace (-p). */
static int trace_pid(struct record_run *r, uint32_t pid, struct err *e)
{
	if (r->ic)
		return iocount_attach(r->ic, pid, e);
	return r->oc ? offcpu_add_pid(r->oc, pid, e) : iotrace_add_pid(r->it, pid, e);
}

/* The launched command, forked and not yet exec'd. */
static int on_ready(uint32_t pid, void *arg, struct err *e)
{
	struct record_run *r = arg;

	if (!pid)
		return 0;
	if (r->it) /* its system calls count from its exec, not from execvp's PATH search */
		return iotrace_add_launched(r->it, pid, e);
	return trace_pid(r, pid, e);
}

static int add_pids(struct record_run *r, struct err *e)
{
	for (size_t i = 0; i < r->rq->npids; i++)
		if (trace_pid(r, r->rq->pids[i], e) < 0)
			return -1;
	return 0;
}

static int wait_start(struct record_run *r, struct err *e)
{
	const struct record_request *rq = r->rq;
	bool wall = rq->mode == RECORD_WALL, denied = false;
	/* Python stacks of waits are read over the whole run, not per window (offcpu_drain). */
	struct offcpu_opts oo = { .min_block_ns = rq->min_block_ns, .all = rq->all_cpus, .with_runq = wall,
				  .user_only = rq->user_only, .py_waits = rq->lang != RT_NATIVE && !r->windows };
	struct rec_runtime_hooks h;

	r->oc = offcpu_open(&oo, &denied, e);
	if (!r->oc || add_pids(r, e) < 0)
		return -1;
	struct rec_session_opts so = { .user_only = rq->user_only, .value_type = wall ? "wall" : "off_cpu",
				       .value_unit = "nanoseconds" };
	r->s = rec_session_new(r->sym, &so);
	/* Language runtimes (docs/runtimes.md): Python stacks of samples and of waits, JIT names. */
	runtime_setup(r);
	runtime_get_hooks(r->rt, &h);
	if (!r->windows && offcpu_read_stacks(r->oc, &h, r->s, e) < 0)
		return -1;
	recorder_setup(r);
	r->ro.sideband_only = !wall;
	r->ro.wakeup_events = wall ? runtime_wakeup_events(r->rt) : 0;
	r->ro.on_ready = on_ready;
	r->ro.on_ready_arg = r;
	r->res->title = wall ? "Wall-Clock Time" : "Off-CPU Time";
	return perf_start(r, e);
}

static void wait_stop(struct record_run *r)
{
	perf_stop(r);
	offcpu_stop(r->oc);
	runtime_end_recording(r->rt);
}

static int wait_finish(struct record_run *r, struct profile *p, bool window, struct err *e)
{
	const char *type = r->rq->mode == RECORD_WALL ? "wall" : "off_cpu";
	struct offcpu_stats *ost = &r->res->offcpu;

	profile_meta(r, p, type, r->rq->mode == RECORD_WALL ? (int64_t)(1000000000ULL / r->freq) : 1);
	if (r->windows && r->rc)
		recorder_flush(r->rc); /* the processes' comm, exec and mmap records before their stacks are named */
	if ((r->windows ? offcpu_drain(r->oc, r->s, r->sym, ost, e) : offcpu_collect(r->oc, r->s, r->sym, ost, e)) < 0 ||
	    rec_session_finish(r->s, p, e) < 0)
		return -1;
	p->default_column = profile_find_column(p, type);
	r->res->cpu = *rec_session_stats(r->s);
	if (window) {
		rec_session_reset_samples(r->s);
		return 0;
	}
	runtime_done(r);
	if (ost->dropped)
		record_note(r->res, "%" PRIu64 " events were not counted: an eBPF map was full", ost->dropped);
	return 0;
}

/* --- io --- */

static bool bpf_disabled(void)
{
	const char *v = getenv("KILN_NO_BPF");

	/* KILN_NO_BPF=1 takes the fallback path as if the kernel had refused eBPF (for tests). */
	return v && *v && strcmp(v, "0");
}

static int io_start(struct record_run *r, struct err *e)
{
	const struct record_request *rq = r->rq;
	struct iotrace_opts io = { .all = rq->all_cpus, .no_stacks = rq->no_stacks, .no_files = rq->no_files };
	bool denied = false;

	if (bpf_disabled()) {
		denied = true;
		err_set(e, "eBPF disabled by KILN_NO_BPF");
	} else {
		r->it = iotrace_open(&io, &denied, e);
	}
	if (!r->it && denied && r->launch && !rq->all_cpus) {
		struct err e2 = ERR_INIT;

		r->ic = iocount_new(&e2);
		if (r->ic)
			record_note(r->res, "%s; counting system calls through perf_event tracepoints instead (no latency, "
				    "errors, stacks or files)", e->msg);
		else
			err_wrap(e, "%s; and the fallback failed", e2.msg);
	}
	if ((!r->it && !r->ic) || add_pids(r, e) < 0)
		return -1;
	struct rec_session_opts so = { .user_only = rq->user_only, .value_type = "off_cpu",
				       .value_unit = "nanoseconds" };
	r->s = rec_session_new(r->sym, &so);
	recorder_setup(r);
	r->ro.sideband_only = true;
	r->ro.on_ready = on_ready;
	r->ro.on_ready_arg = r;
	r->res->title = "System Call Latency";
	return perf_start(r, e);
}

static void io_stop(struct record_run *r)
{
	perf_stop(r);
	if (r->it)
		iotrace_stop(r->it);
}

static int io_finish(struct record_run *r, struct profile *p, bool window, struct err *e)
{
	struct record_result *res = r->res;

	(void)window;
	p->time_nanos = (int64_t)res->start_epoch_ns;
	p->duration_nanos = (int64_t)res->duration_ns;
	if (r->ic) {
		iocount_read(r->ic, &res->io);
		iocount_profile(&res->io, p);
	} else if (iotrace_collect(r->it, r->s, r->sym, p, &res->io, e) < 0) {
		return -1;
	}
	res->have_io = true;
	io_result_store(&res->io, res->duration_ns, p);
	if (res->io.dropped)
		record_note(res, "%" PRIu64 " events were not counted: an eBPF map was full", res->io.dropped);
	return 0;
}

/* --- mem: the heap profiler's preload library and its event streams --- */

static int mem_start(struct record_run *r, struct err *e)
{
	if (!r->launch || r->rq->npids || r->rq->all_cpus)
		return err_set(e, "heap profiling needs a command to run");
	/* CPython serves objects up to 512 bytes from arenas it maps itself (pymalloc), which no malloc hook sees:
	 * PYTHONMALLOC=malloc sends them to malloc, so a Python program's own allocations are profiled. Every
	 * process of the run inherits it; a user's own PYTHONMALLOC is kept. */
	if (!getenv("PYTHONMALLOC")) {
		setenv("PYTHONMALLOC", "malloc", 1);
		r->pymalloc_set = true;
	}
	r->preload = heap_find_preload(e);
	if (!r->preload)
		return -1;
	r->ht = heap_trace_new();
	r->res->title = "Heap allocations";
	r->ho = (struct heap_run_opts){
		.argv = r->rq->argv,
		.preload = r->preload,
		.sample_bytes = r->rq->sample_bytes,
		.depth = r->rq->depth,
		.no_children = r->rq->no_children,
		.ignored_signals = r->child_ignored_signals,
		.warm = r->sym,
	};
	if (heap_run_start(&r->ho, r->ht, &r->hres, &r->hr, e) < 0)
		return -1;
	r->start_mono_ns = r->hres.start_mono_ns;
	r->res->start_epoch_ns = (uint64_t)r->hres.start_epoch_ns;
	if (r->hres.launch_error) {
		r->res->launch_failed = true;
		r->res->exit_status = r->hres.launch_error == HEAP_LAUNCH_NOT_FOUND ? 127 : 126;
	}
	return 0;
}

static int mem_poll(struct record_run *r, uint64_t until_ns, struct err *e)
{
	return heap_run_poll(r->hr, until_ns, e);
}

static void mem_stop(struct record_run *r)
{
	struct record_result *res = r->res;
	int st;

	heap_run_end(r->hr);
	r->hr = NULL;
	st = r->hres.status;
	res->launched = r->hres.launched;
	res->reaped = r->hres.reaped;
	res->status = st;
	res->stop_signal = r->hres.stop_signal;
	res->start_epoch_ns = (uint64_t)r->hres.start_epoch_ns;
	res->duration_ns = (uint64_t)r->hres.duration_ns;
	if (res->launched && !res->reaped) /* a second signal ended the run: the command still runs */
		res->exit_status = 128 + res->stop_signal;
	else
		res->exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st)
											: EXIT_INTERNAL;
	stop_notes(res, r->hres.stop_asked, r->hres.escalated, r->rq->argv[0]);
}

/* True when a CPython interpreter allocated in the profile (a python3.X executable or libpython). */
static bool ran_python(const struct profile *p)
{
	for (size_t i = 0; i < p->frames_nr; i++) {
		const char *m = p->frames[i].module ? profile_str(p, p->frames[i].module) : "";
		const char *base = strrchr(m, '/');

		base = base ? base + 1 : m;
		if (!strncmp(base, "python", 6) || !strncmp(base, "libpython", 9))
			return true;
	}
	return false;
}

static int mem_finish(struct record_run *r, struct profile *p, bool window, struct err *e)
{
	struct record_result *res = r->res;

	if (r->windows ? heap_trace_window(r->ht, r->sym, p, e) < 0 : heap_trace_finish(r->ht, r->sym, p, e) < 0)
		return -1;
	res->heap = *heap_trace_stats(r->ht);
	if (window)
		return 0;
	if (!res->heap.streams)
		record_note(res, "no process reported to the heap profiler: '%s' may be statically linked or clear "
			    "LD_PRELOAD", r->rq->argv[0]);
	if (r->pymalloc_set && ran_python(p))
		record_note(res, "PYTHONMALLOC=malloc was set for the command: CPython serves objects up to 512 bytes "
			    "from its own arenas (pymalloc), which no malloc hook sees, so Python's allocations would be "
			    "missing; set PYTHONMALLOC yourself to keep another allocator");
	if (res->heap.corrupt_streams)
		record_note(res, "%" PRIu64 " heap event stream%s ended in corrupt data", res->heap.corrupt_streams,
			    res->heap.corrupt_streams == 1 ? "" : "s");
	return 0;
}

static void mem_signal(int sig, bool forward)
{
	/* The command ends the run; a terminal's signal already reached its process group. */
	heap_run_stop(sig, forward);
}

static const struct record_mode modes[] = {
	{ "cpu", RECORD_CPU, true, cpu_start, perf_poll, cpu_stop, cpu_finish, perf_signal },
	{ "mem", RECORD_MEM, true, mem_start, mem_poll, mem_stop, mem_finish, mem_signal },
	{ "offcpu", RECORD_OFFCPU, true, wait_start, perf_poll, wait_stop, wait_finish, perf_signal },
	{ "wall", RECORD_WALL, false, wait_start, perf_poll, wait_stop, wait_finish, perf_signal },
	{ "io", RECORD_IO, false, io_start, perf_poll, io_stop, io_finish, perf_signal },
};

const struct record_mode *record_mode_find(unsigned bit)
{
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (modes[i].bit == bit)
			return &modes[i];
	return NULL;
}
