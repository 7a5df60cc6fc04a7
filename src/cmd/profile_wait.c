/* kiln profile --mode offcpu|wall|io: where programs wait, and what their I/O costs (eBPF, see docs/offcpu.md). */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../analyze/hotspots.h"
#include "../analyze/waitsite.h"
#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/options.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../formats/format.h"
#include "../profile/profile.h"
#include "../record/iotrace.h"
#include "../record/iotrace_count.h"
#include "../record/offcpu.h"
#include "../record/perfperm.h"
#include "../record/recorder.h"
#include "../record/rt_hints.h"
#include "../record/runtime.h"
#include "../record/session.h"
#include "../render/flamegraph.h"
#include "../symbols/symbolizer.h"
#include "cmds.h"
#include "profile_common.h"
#include "profile_io.h"

#define DEFAULT_OUTPUT "profile.pb.gz"
#define FREQ_LAUNCH 999
#define FREQ_ATTACH 99

enum wait_mode { W_OFFCPU, W_WALL, W_IO };

struct wait_opts {
	const char *mode;
	struct opt_list pids;
	double duration;
	bool all_cpus;
	long long freq;
	double min_block_us;
	const char *output;
	const char *format;
	const char *flamegraph;
	const char *json;
	long long top;
	bool quiet;
	bool user_only;
	bool no_stacks;
	bool no_files;
	bool no_inline;
	const char *debuginfo;
	const char *language;
};

static const char *const modes[] = { "offcpu", "wall", "io", NULL };

static const struct cmd_help help = {
	.name = "profile --mode offcpu|wall|io",
	.usage = "kiln profile --mode offcpu|wall|io [OPTIONS] [--] COMMAND [ARGS...]\n"
		 "kiln profile --mode offcpu|wall|io [OPTIONS] -p PID[,PID...] [-d SECONDS]\n"
		 "kiln profile --mode offcpu|wall|io [OPTIONS] -a -d SECONDS",
	.description =
		"Where a program waits, and what its I/O costs, measured with eBPF programs that aggregate in the "
		"kernel (the cost does not grow with the event rate). A launched COMMAND is followed through its "
		"threads and the processes it forks; -p traces running processes; -a the whole system.\n\n"
		"--mode offcpu: the time each thread spends blocked (on I/O, locks, sleeps), in nanoseconds, "
		"attributed to the user + kernel stack at which it left the CPU (sched_switch); the time it then "
		"waits for a CPU is reported apart. --min-block drops shorter waits. Columns samples/count "
		"(switches) and off_cpu/nanoseconds.\n\n"
		"--mode wall: on-CPU samples (cpu-clock at -F Hz) and off-CPU time together, so a thread's time "
		"adds up to its lifetime: why a request is slow even when the CPU is idle. Column wall/nanoseconds.\n\n"
		"Python 3.11-3.13 (--language, default auto): the Python stack of a waiting thread is read from "
		"the interpreter while it waits, and its wait is counted under the Python function that blocked; "
		"waits shorter than a few milliseconds keep their native stack unless a read fell within them "
		"(docs/offcpu.md).\n\n"
		"--mode io: a system call summary like strace -c (calls, errors, total / mean / max latency, a "
		"latency histogram), the stacks of the slowest calls, bytes read and written per file with its "
		"path, and block device latency (system-wide) when the kernel has the block tracepoints. The "
		"profile has columns syscalls/count and latency/nanoseconds; each stack ends in a frame named after "
		"the system call (per-stack shares are estimated from sampled stacks and scaled to the exact "
		"totals). --json writes the summary as JSON.\n\n"
		"Output: pprof by default ('" DEFAULT_OUTPUT "'), or by -o's extension (.folded, .svg, .json "
		"speedscope); flame graphs use the io palette. A report goes to stderr at the end. Needs root (or "
		"CAP_BPF with CAP_PERFMON) and a kernel with BTF (/sys/kernel/btf/vmlinux).\n\n"
		"Exit status: that of the command (128+N for a signal), 0 for -p/-a, 125 when kiln fails (e.g. "
		"eBPF is not allowed), 126/127 when the command cannot run / is not found, 2 for usage errors.",
	.examples = "kiln profile --mode offcpu -o offcpu.svg -- sh -c 'sleep 0.2; ls -R /usr/include >/dev/null'\n"
		    "kiln profile --mode offcpu --min-block 1000 -p 1234 -d 10\n"
		    "kiln profile --mode wall --flamegraph wall.svg -- python3 -c 'import time; sum(range(10**7)); time.sleep(0.2)'\n"
		    "kiln profile --mode io --json io.json -- dd if=/dev/zero of=/tmp/x bs=4k count=1000\n"
		    "kiln profile --mode io -p 1234 -d 30 -o io.pb.gz",
};

static int write_svg(const struct profile *p, const char *path, const char *title, struct err *e)
{
	struct fg_build_opts bo = { .column = -1, .base_column = -1, .reverse = false };
	struct fg_svg_opts so;
	fg_svg_opts_init(&so);
	so.title = title;
	so.countname = "ns";
	so.palette = PALETTE_IO;
	return fg_render_profile(p, &bo, false, &so, path, e);
}

/* The tracer a recording feeds its targets to. */
struct tracer {
	struct offcpu *oc;
	struct iotrace *it;
	struct iocount *ic; /* the counting-only fallback without eBPF */
};

static int tracer_add(struct tracer *t, uint32_t pid, struct err *e)
{
	if (t->ic)
		return iocount_attach(t->ic, pid, e);
	return t->oc ? offcpu_add_pid(t->oc, pid, e) : iotrace_add_pid(t->it, pid, e);
}

static int on_ready(uint32_t pid, void *arg, struct err *e)
{
	const struct tracer *t = arg;
	if (pid && t->it) /* the launched command: its system calls count from its exec (not execvp's PATH search) */
		return iotrace_add_launched(t->it, pid, e);
	return pid ? tracer_add(arg, pid, e) : 0;
}

/* --- the off-CPU / wall report --- */

struct site {
	char *name;
	int64_t value, count;
};

static int cmp_site(const void *a, const void *b)
{
	const struct site *x = a, *y = b;
	if (x->value != y->value)
		return x->value > y->value ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* A frame's name for the wait sites: Python frames with their file and line, as the runtime report does. */
static void site_name(struct buf *b, const struct profile *p, uint32_t id)
{
	const struct frame *f = &p->frames[id];
	frame_display_name(b, p, id);
	if (f->kind == FRAME_PYTHON && f->file) {
		buf_addf(b, " (%s", profile_str(p, f->file));
		if (f->line)
			buf_addf(b, ":%u", (unsigned)f->line);
		buf_addch(b, ')');
	}
}

/*
 * Wait sites: per sample the innermost function of the program itself (not of the C library) and its caller,
 * with the innermost user frame in brackets ("reader <- main [read]"): where the thread left the CPU in the
 * program's own terms (the kernel frames below are the same few scheduler functions everywhere). In a Python
 * stack the program's own functions are its Python frames: the innermost one and its Python caller
 * ("sleeper (app.py:4) <- main (app.py:9) [clock_nanosleep]"), not the interpreter's C functions.
 */
static void print_sites(const struct profile *p, int column, int c_count, long long top, const char *what,
			const char *count_name)
{
	struct site *v = NULL;
	size_t nr = 0, alloc = 0;
	uint32_t *ids = xmalloc(4096 * sizeof(*ids));
	for (size_t r = 0; r < p->rows_nr; r++) {
		size_t depth = profile_stack(p, p->rows[r].node, ids, 4096);
		struct buf b = BUF_INIT, leaf = BUF_INIT;
		int parts = 0;
		bool python = false;
		for (size_t i = 0; i < depth && !python; i++)
			python = p->frames[ids[i]].kind == FRAME_PYTHON;
		for (size_t i = depth; i-- > 0 && parts < 2;) {
			const struct frame *f = &p->frames[ids[i]];
			if (f->kind == FRAME_KERNEL || f->kind == FRAME_ROOT || f->kind == FRAME_UNKNOWN)
				continue;
			if (!leaf.len)
				frame_display_name(&leaf, p, ids[i]);
			if ((python && f->kind != FRAME_PYTHON) || (!parts && wait_runtime_module(p, f)))
				continue;
			if (parts)
				buf_adds(&b, " <- ");
			site_name(&b, p, ids[i]);
			parts++;
		}
		if (!parts && leaf.len)
			buf_adds(&b, leaf.buf);
		else if (!parts) {
			/* No user frames: a kernel thread (system-wide traces), named by its command. */
			uint32_t comm = profile_label_str(p, p->rows[r].labelset, "comm");
			buf_adds(&b, "[kernel]");
			if (comm)
				buf_addf(&b, " %s", profile_str(p, comm));
		}
		else if (leaf.len)
			buf_addf(&b, " [%s]", leaf.buf);
		buf_release(&leaf);
		const int64_t *vals = profile_row_values(p, r);
		size_t i;
		for (i = 0; i < nr; i++)
			if (!strcmp(v[i].name, b.buf))
				break;
		if (i == nr) {
			ALLOC_GROW(v, nr + 1, alloc);
			v[nr++] = (struct site){ buf_detach(&b, NULL), 0, 0 };
		} else {
			buf_release(&b);
		}
		v[i].value += vals[column];
		v[i].count += c_count >= 0 ? vals[c_count] : 0;
	}
	if (nr)
		qsort(v, nr, sizeof(*v), cmp_site);
	int64_t total = profile_total(p, column);
	if (nr && top > 0) {
		fprintf(stderr, "%-12s %6s %10s  %s\n", what, "%", count_name,
			"where: function <- caller [innermost user frame]");
		for (size_t i = 0; i < nr && (long long)i < top; i++) {
			char a[32], c[32];
			fprintf(stderr, "%-12s %5.1f%% %10s  %s\n", fmt_ns(a, (double)v[i].value),
				total ? 100.0 * (double)v[i].value / (double)total : 0.0, fmt_count(c, (uint64_t)v[i].count),
				v[i].name);
		}
	}
	for (size_t i = 0; i < nr; i++)
		free(v[i].name);
	free(v);
	free(ids);
}

int cmd_profile_wait(int argc, char **argv)
{
	struct wait_opts o = { .top = 10 };
	const struct option opts[] = {
		OPT_CHOICE(0, "mode", &o.mode, "offcpu|wall|io", "what to measure", modes),
		OPT_GROUP("What to trace"),
		OPT_LIST('p', "pid", &o.pids, "PID[,PID]", "trace running processes (all their threads)"),
		OPT_BOOL('a', "all-cpus", &o.all_cpus, "trace the whole system"),
		OPT_DOUBLE('d', "duration", &o.duration, "SECONDS", "stop after SECONDS (with -p or -a)", 0.001, 1e7),
		OPT_DOUBLE(0, "min-block", &o.min_block_us, "USEC", "offcpu/wall: drop waits shorter than USEC", 0, 1e10),
		OPT_INT('F', "frequency", &o.freq, "HZ", "wall: on-CPU samples per second (999 launched, 99 -p/-a)", 1,
			100000),
		OPT_BOOL(0, "user-only", &o.user_only, "leave kernel frames out"),
		OPT_STRING(0, "language", &o.language, "LANG",
			   "offcpu/wall: auto (default), native, python, node, java or go: name the runtime's functions"),
		OPT_BOOL(0, "no-stacks", &o.no_stacks, "io: no user stacks (cheaper; the summary stays exact)"),
		OPT_BOOL(0, "no-files", &o.no_files, "io: no per-file bytes (cheaper)"),
		OPT_GROUP("Output"),
		OPT_STRING('o', "output", &o.output, "FILE",
			   "write the profile to FILE, format from the extension (default " DEFAULT_OUTPUT ")"),
		OPT_STRING(0, "format", &o.format, "FORMAT", "output format of -o (pprof, folded, speedscope, svg)"),
		OPT_STRING(0, "flamegraph", &o.flamegraph, "FILE.svg", "also write a flame graph"),
		OPT_STRING(0, "json", &o.json, "FILE", "io: also write the summary as JSON ('-' for stdout)"),
		OPT_INT(0, "top", &o.top, "N", "rows per table in the report (10; 0 for totals only)", 0, 1000),
		OPT_BOOL('q', "quiet", &o.quiet, "no report, only warnings and errors"),
		OPT_GROUP("Symbols"),
		OPT_BOOL(0, "no-inline", &o.no_inline, "do not show inlined functions as frames"),
		OPT_STRING(0, "debuginfo-dir", &o.debuginfo, "DIRS",
			   "colon-separated debug info directories searched before /usr/lib/debug"),
		OPT_END(),
	};
	struct err e = ERR_INIT;
	struct profile_output outs[2];
	size_t nouts = 0;
	uint32_t *pids = NULL;
	size_t npids = 0;
	struct symbolizer *sym = NULL;
	struct rec_session *s = NULL;
	struct profile *p = NULL;
	struct tracer tr = { 0 };
	struct runtime *rt = NULL;
	enum rt_lang lang = RT_AUTO;
	struct io_result io;
	bool have_io = false;
	struct recorder_result res;
	int status = EXIT_INTERNAL;

	memset(&io, 0, sizeof(io));
	argc = parse_options(argc, argv, opts, &help, PARSE_STOP_AT_NON_OPTION);
	if (argc == PARSE_HELP)
		return 0;
	if (argc < 0)
		return EXIT_USAGE;
	enum wait_mode mode = !o.mode ? W_OFFCPU : !strcmp(o.mode, "wall") ? W_WALL : !strcmp(o.mode, "io") ? W_IO
														 : W_OFFCPU;
	if (profile_parse_pids(&o.pids, &pids, &npids, &e) < 0) {
		status = usage_error(&help, "%s", e.msg);
		goto out;
	}
	for (size_t i = 0; i < npids; i++) {
		if (kill((pid_t)pids[i], 0) < 0 && errno == ESRCH) {
			status = usage_error(&help, "no process with id %" PRIu32, pids[i]);
			goto out;
		}
	}
	int bad_target = profile_check_target(&help, npids, o.all_cpus, argc);
	if (bad_target) {
		status = bad_target;
		goto out;
	}
	if (o.all_cpus && !argc && o.duration <= 0) {
		status = usage_error(&help, "--all-cpus without a command needs --duration");
		goto out;
	}
	if (o.duration > 0 && argc) {
		status = usage_error(&help, "--duration applies to --pid and --all-cpus; a command's run bounds its "
					    "recording");
		goto out;
	}
	if (o.json && mode != W_IO) {
		status = usage_error(&help, "--json applies to --mode io");
		goto out;
	}
	if ((o.no_stacks || o.no_files) && mode != W_IO) {
		status = usage_error(&help, "--no-stacks and --no-files apply to --mode io");
		goto out;
	}
	if (o.min_block_us > 0 && mode == W_IO) {
		status = usage_error(&help, "--min-block applies to --mode offcpu and wall");
		goto out;
	}
	if (o.language && (mode == W_IO || rt_lang_parse(o.language, &lang) < 0)) {
		status = mode == W_IO ? usage_error(&help, "--language applies to --mode offcpu and wall")
				      : usage_error(&help, "unknown --language '%s' (auto, native, python, node, java or go)",
						    o.language);
		goto out;
	}
	if (rt_check_language(lang, argc ? argv[0] : NULL, pids, npids, &e) < 0) { /* rt_hints.h */
		status = usage_error(&help, "%s", e.msg);
		goto out;
	}
	if (o.freq && mode != W_WALL) {
		status = usage_error(&help, "--frequency applies to --mode wall");
		goto out;
	}
	if (profile_pick_output(o.output ? o.output : DEFAULT_OUTPUT, o.format, &outs[nouts], &help) != 0) {
		status = EXIT_USAGE;
		goto out;
	}
	nouts++;
	if (o.flamegraph)
		outs[nouts++] = (struct profile_output){ o.flamegraph, NULL, "flame graph" };
	for (size_t i = 0; i < nouts; i++) {
		if (profile_check_writable(outs[i].path) < 0) {
			status = EXIT_USAGE;
			goto out;
		}
	}
	if (o.json && profile_check_writable(o.json) < 0) {
		status = EXIT_USAGE;
		goto out;
	}

	/* Root or CAP_BPF + CAP_PERFMON, said before anything runs (io without them may count through perf) */
	if (perfperm_check_bpf(perfperm_get(), mode == W_IO ? "--mode io" : mode == W_WALL ? "--mode wall"
			       : "--mode offcpu", mode == W_IO && argc > 0 && !o.all_cpus, &e) < 0) {
		error_msg("%s", e.msg);
		goto out;
	}
	bool launch = argc > 0;
	enum rec_mode rmode = o.all_cpus ? REC_SYSTEM : npids ? REC_ATTACH : REC_LAUNCH;
	unsigned freq = (unsigned)(o.freq ? o.freq : rmode == REC_LAUNCH ? FREQ_LAUNCH : FREQ_ATTACH);
	bool denied = false;
	if (mode == W_IO) {
		struct iotrace_opts io_o = { .all = o.all_cpus, .no_stacks = o.no_stacks, .no_files = o.no_files };
		/* KILN_NO_BPF=1 takes the fallback path as if the kernel had refused eBPF (for tests). */
		if (getenv("KILN_NO_BPF") && *getenv("KILN_NO_BPF") && strcmp(getenv("KILN_NO_BPF"), "0")) {
			denied = true;
			err_set(&e, "eBPF disabled by KILN_NO_BPF");
		} else {
			tr.it = iotrace_open(&io_o, &denied, &e);
		}
		if (!tr.it && denied && launch && !o.all_cpus) {
			struct err e2 = ERR_INIT;
			tr.ic = iocount_new(&e2);
			if (tr.ic)
				warning_msg("%s; counting system calls through perf_event tracepoints instead (no latency, "
					    "errors, stacks or files)",
					    e.msg);
			else
				err_wrap(&e, "%s; and the fallback failed", e2.msg);
		}
	} else {
		struct offcpu_opts oc_o = { .min_block_ns = (uint64_t)(o.min_block_us * 1000.0), .all = o.all_cpus,
					    .with_runq = mode == W_WALL, .user_only = o.user_only,
					    .py_waits = lang != RT_NATIVE };
		tr.oc = offcpu_open(&oc_o, &denied, &e);
	}
	if (!tr.it && !tr.oc && !tr.ic) {
		/* One line; when BPF itself was refused it says what is needed (kbpf_error()). */
		error_msg("%s", e.msg);
		(void)denied;
		status = EXIT_INTERNAL;
		goto out;
	}
	for (size_t i = 0; i < npids; i++) {
		if (tracer_add(&tr, pids[i], &e) < 0) {
			error_msg("%s", e.msg);
			goto out;
		}
	}

	sym = profile_symbolizer_new(o.debuginfo, o.no_inline);
	struct rec_session_opts so = {
		.user_only = o.user_only,
		.value_type = mode == W_WALL ? "wall" : "off_cpu",
		.value_unit = "nanoseconds",
	};
	s = rec_session_new(sym, &so);
	if (tr.oc) {
		/* Language runtimes (docs/runtimes.md): Python stacks of samples and of waits, JIT names. */
		struct rec_runtime_hooks h;
		rt = runtime_new(lang, launch);
		if (launch)
			runtime_prepare_launch(rt, argv, NULL);
		else
			runtime_prepare_attach(rt, pids, npids);
		runtime_attach(rt, s);
		runtime_get_hooks(rt, &h);
		if (offcpu_read_stacks(tr.oc, &h, s, &e) < 0) {
			error_msg("%s", e.msg);
			goto out;
		}
	}
	struct recorder_opts ro = {
		.mode = rmode,
		.argv = launch ? (rt ? runtime_launch_argv(rt, argv) : argv) : NULL,
		.pids = pids,
		.npids = npids,
		.freq = freq,
		.duration = o.duration,
		.user_only = o.user_only,
		.sideband_only = mode != W_WALL,
		.wakeup_events = rt && mode == W_WALL ? runtime_wakeup_events(rt) : 0,
		.on_ready = on_ready,
		.on_ready_arg = &tr,
	};

	int rr = profile_record(&ro, s, &res, &e);
	if (tr.oc)
		offcpu_stop(tr.oc);
	if (tr.it)
		iotrace_stop(tr.it);
	if (rr < 0) {
		error_msg("%s", e.msg);
		status = EXIT_INTERNAL;
		goto out;
	}
	if (res.launch_error) {
		error_msg("%s", e.msg);
		status = res.launch_error == REC_LAUNCH_NOT_FOUND ? 127 : 126;
		goto out;
	}
	status = profile_exit_status(&res);
	if (rt)
		runtime_end_recording(rt);

	p = profile_new(0);
	p->time_nanos = (int64_t)res.start_epoch_ns;
	p->duration_nanos = (int64_t)res.duration_ns;
	struct offcpu_stats ost;
	memset(&ost, 0, sizeof(ost));
	if (tr.oc) {
		p->period = mode == W_WALL ? (int64_t)(1000000000ULL / freq) : 1;
		p->period_type.type = profile_intern_str(p, so.value_type);
		p->period_type.unit = profile_intern_str(p, "nanoseconds");
		if (offcpu_collect(tr.oc, s, sym, &ost, &e) < 0 || rec_session_finish(s, p, &e) < 0) {
			error_msg("%s", e.msg);
			status = EXIT_INTERNAL;
			goto out;
		}
		p->default_column = profile_find_column(p, so.value_type);
	} else if (tr.ic) {
		iocount_read(tr.ic, &io);
		iocount_profile(&io, p);
		have_io = true;
	} else {
		if (iotrace_collect(tr.it, s, sym, p, &io, &e) < 0) {
			error_msg("%s", e.msg);
			status = EXIT_INTERNAL;
			goto out;
		}
		have_io = true;
	}

	const char *title = mode == W_IO ? "System Call Latency" : mode == W_WALL ? "Wall-Clock Time" : "Off-CPU Time";
	bool write_failed = false;
	for (size_t i = 0; i < nouts; i++) {
		int w;
		if (outs[i].f) {
			struct format_write_opts wo = { .column = -1 };
			w = profile_write_path(p, outs[i].path, outs[i].f, &wo, &e);
		} else if (!p->rows_nr) {
			warning_msg("nothing was recorded: flame graph '%s' not written", outs[i].path);
			outs[i].path = NULL;
			continue;
		} else {
			char *t = launch ? xasprintf("%s: %s", title, argv[0]) : xstrdup(title);
			w = write_svg(p, outs[i].path, t, &e);
			free(t);
		}
		if (w < 0) {
			error_msg("%s", e.msg);
			write_failed = true;
			outs[i].path = NULL;
		}
	}
	if (o.json && profile_io_write_json(&io, o.json, res.duration_ns, &e) < 0) {
		error_msg("%s", e.msg);
		write_failed = true;
		o.json = NULL;
	}

	if (rt) {
		runtime_cleanup(rt);
		for (const char *const *note = runtime_notes(rt); *note; note++)
			warning_msg("%s", *note);
	}
	if (ost.dropped || io.dropped)
		warning_msg("%" PRIu64 " events were not counted: an eBPF map was full", ost.dropped + io.dropped);
	if (!o.quiet) {
		char a[32], b[32];
		const struct rec_stats *st = rec_session_stats(s);
		if (tr.oc) {
			int col = profile_find_column(p, so.value_type);
			int64_t total = profile_total(p, col);
			fprintf(stderr, "kiln: %s time %s in %s of recording, %s switches off CPU, %" PRIu64 " thread%s",
				mode == W_WALL ? "wall-clock" : "off-CPU", fmt_ns(a, (double)total),
				fmt_ns(b, (double)res.duration_ns), fmt_count((char[32]){ 0 }, ost.switches), st->threads,
				st->threads == 1 ? "" : "s");
		} else {
			fprintf(stderr, "kiln: %s system calls in %s of recording", fmt_count(a, io.calls),
				fmt_ns(b, (double)res.duration_ns));
			if (!io.counts_only)
				fprintf(stderr, ", %s in them", fmt_ns((char[32]){ 0 }, (double)io.total_ns));
		}
		if (res.launched && !res.reaped)
			fprintf(stderr, "; stopped by a second signal, the command still runs");
		else if (res.launched && WIFSIGNALED(res.status))
			fprintf(stderr, "; command killed by signal %d", WTERMSIG(res.status));
		else if (res.launched)
			fprintf(stderr, "; command exit status %d", status);
		fputc('\n', stderr);
		if (tr.oc && mode == W_OFFCPU && ost.runq_ns)
			fprintf(stderr, "kiln: and %s runnable, waiting for a CPU (%s times; not in the profile: see "
					"--mode wall)\n",
				fmt_ns(a, (double)ost.runq_ns), fmt_count(b, ost.runq_waits));
		if (tr.oc && ost.unended)
			fprintf(stderr, "kiln: %s waits ended where the kernel skipped the tracer; counted up to their "
					"wakeup\n", fmt_count(a, ost.unended));
		if (tr.oc && ost.py_reads)
			fprintf(stderr, "kiln: %s of the waits under the Python stacks read while they lasted (%s reads; "
					"waits under 4 ms are read only when a read falls within them)\n",
				fmt_ns(a, (double)ost.py_ns), fmt_count(b, ost.py_reads));
		if (tr.oc)
			print_sites(p, profile_find_column(p, so.value_type), profile_find_column(p, "samples"), o.top,
				    mode == W_WALL ? "wall" : "off-CPU", mode == W_WALL ? "samples" : "switches");
		else
			profile_io_print(&io, o.top);
		for (size_t i = 0; i < nouts; i++)
			if (outs[i].path)
				fprintf(stderr, "kiln: wrote '%s' (%s)\n", outs[i].path, outs[i].what);
		if (o.json && strcmp(o.json, "-"))
			fprintf(stderr, "kiln: wrote '%s' (json)\n", o.json);
	}
	if (write_failed)
		status = EXIT_INTERNAL;
out:
	if (have_io)
		io_result_release(&io);
	profile_free(p);
	rec_session_free(s);
	symbolizer_free(sym);
	offcpu_free(tr.oc);
	runtime_free(rt);
	iotrace_free(tr.it);
	iocount_free(tr.ic);
	free(pids);
	free(o.pids.v);
	return status;
}
