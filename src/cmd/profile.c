/* kiln profile: sample a command, running processes or the whole system on CPU, and write a profile + report. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../analyze/hotspots.h"
#include "../core/array.h"
#include "../core/atomicfile.h"
#include "../core/err.h"
#include "../core/options.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../formats/format.h"
#include "../profile/profile.h"
#include "../record/perfperm.h"
#include "../record/recorder.h"
#include "../record/rt_hints.h"
#include "../record/runtime.h"
#include "../record/session.h"
#include "../render/flamegraph.h"
#include "../symbols/symbolizer.h"
#include "cmds.h"
#include "profile_common.h"

#define DEFAULT_OUTPUT "profile.pb.gz"
#define FREQ_LAUNCH 999 /* development runs: detail in a short run */
#define FREQ_ATTACH 99  /* production processes and whole systems: low overhead, off the 100 Hz timer tick */

struct profile_opts {
	long long freq;
	struct opt_list pids;
	double duration;
	bool all_cpus;
	const char *call_graph;
	long long stack_size;
	const char *output;
	const char *format;
	const char *flamegraph;
	bool user_only;
	bool no_inline;
	const char *debuginfo;
	const char *language;
	long long top;
	bool quiet;
	long long mmap_pages;
	bool diff;
	const char *mode;
};

static const char *const profile_modes[] = { "cpu", "mem", "offcpu", "wall", "io", NULL };


static const struct cmd_help help = {
	.name = "profile",
	.usage = "kiln profile [OPTIONS] [--] COMMAND [ARGS...]\n"
		 "kiln profile [OPTIONS] -p PID[,PID...] [-d SECONDS]\n"
		 "kiln profile [OPTIONS] -a [-d SECONDS] [COMMAND [ARGS...]]\n"
		 "kiln profile --diff [OPTIONS] 'COMMAND_A' 'COMMAND_B'",
	.description =
		"Samples where CPU time goes with the kernel's cpu-clock event (works in virtual machines without "
		"hardware counters), with kernel and user call stacks. A launched COMMAND is followed through "
		"every thread, fork and exec; -p attaches to running processes (their existing and future threads) "
		"until they exit, -d SECONDS pass or Ctrl-C; -a samples every CPU.\n\n"
		"Sampling rate: -F defaults to 999 Hz for a launched command (a development run wants detail) and "
		"99 Hz with -p or -a (production: a tenth of the overhead, and off the timer tick's 100 Hz so "
		"periodic work is not aliased). The kernel's limit is /proc/sys/kernel/perf_event_max_sample_rate; "
		"kiln warns when it throttles.\n\n"
		"Stacks: -g fp (default) follows frame pointers, which is cheap; code built with "
		"-fomit-frame-pointer gives broken stacks (kiln warns) and wants -g dwarf, which copies "
		"--stack-size bytes of the user stack per sample and unwinds them with DWARF CFI.\n\n"
		"Output: a pprof profile (default '" DEFAULT_OUTPUT "' in the current directory, overwritten) with "
		"columns samples/count and cpu/nanoseconds and labels pid, tid and comm; -o picks the format from "
		"the extension (.pb.gz pprof, .folded, .svg flame graph, .json speedscope) unless --format says. "
		"At the end a report on stderr gives samples, duration, the top functions by self and total time, "
		"and the files written. Symbols are resolved once per address after the recording, including "
		"inlined functions with file:line and separate debug info under /usr/lib/debug/.build-id.\n\n"
		"Modes: --mode cpu (this page) samples CPU; --mode mem traces the heap (leaks, peak, allocation "
		"sites: docs/heap.md); --mode offcpu|wall|io record where threads wait and what their system calls "
		"cost (docs/offcpu.md, docs/io.md). 'kiln profile --mode MODE --help' shows each mode's options.\n\n"
		"Languages (--language, default auto: detected from the executable or script): Python 3.11-3.13 "
		"frames are read from the interpreter's memory and spliced into the native stacks; Node.js and Java "
		"get perf maps enabled at launch (NODE_OPTIONS, java options), newer Pythons PYTHONPERFSUPPORT; Go "
		"is named from its symbols or function table. Temporary maps are removed (docs/runtimes.md).\n\n"
		"Exit status: that of the command (128+N when a signal N killed it), 0 for -p/-a recordings, 125 "
		"when kiln itself fails, 126 when the command cannot run, 127 when it is not found, 2 for usage "
		"errors. SIGINT/SIGTERM stop the recording and the profile collected so far is written; a signal "
		"sent to kiln is passed on to the command.\n\n"
		"--diff profiles two shell command lines one after the other and compares them as 'kiln diff' does: "
		"the functions whose share of samples changed, each with a significance test, and a differential "
		"flame graph of the second (-o, default diff.svg; red grew, blue shrank).",
	.examples = "kiln profile ./myprog --input data.txt\n"
		    "kiln profile -o cpu.svg -- make -j2\n"
		    "kiln profile --flamegraph flame.svg -o prof.pb.gz python3 script.py\n"
		    "kiln profile -g dwarf ./built-without-frame-pointers\n"
		    "kiln profile --language go go test -bench .\n"
		    "kiln profile -p 12345 -d 60\n"
		    "kiln profile -a -d 10 -o system.folded\n"
		    "kiln profile --diff ./baseline ./optimized",
};

static int write_svg(const struct profile *p, const char *path, const char *title, struct err *e)
{
	struct fg_build_opts bo = { .column = profile_find_column(p, "samples"), .base_column = -1, .reverse = false };
	struct fg_svg_opts so;

	fg_svg_opts_init(&so);
	so.title = title;
	so.countname = "samples";
	return fg_render_profile(p, &bo, false, &so, path, e);
}

/* The end-of-run report's hotspot tables, counted in samples. */
static void print_hotspots(struct profile *p, long long top)
{
	struct hotspots h;
	if (top <= 0 || hotspots_compute(p, profile_find_column(p, "samples"), &h) < 0)
		return;
	if (h.grand_total > 0)
		hotspots_print(stderr, p, &h, (size_t)top);
	hotspots_release(&h);
}

int cmd_profile(int argc, char **argv)
{
	struct profile_opts o = { .freq = 0, .call_graph = "fp", .top = 10 };
	const struct option opts[] = {
		OPT_GROUP("What to sample"),
		OPT_CHOICE(0, "mode", &o.mode, NULL,
			   "cpu (default); mem: the heap; offcpu, wall, io: waits and system calls "
			   "(each mode: kiln profile --mode MODE --help)",
			   profile_modes),
		OPT_LIST('p', "pid", &o.pids, "PID[,PID]", "attach to running processes (all their threads)"),
		OPT_BOOL('a', "all-cpus", &o.all_cpus, "sample the whole system"),
		OPT_DOUBLE('d', "duration", &o.duration, "SECONDS", "stop after SECONDS (with -p or -a)", 0.001, 1e7),
		OPT_INT('F', "frequency", &o.freq, "HZ",
			"samples per second per CPU (default 999 launched, 99 with -p/-a)", 1, 100000),
		OPT_STRING('g', "call-graph", &o.call_graph, "fp|dwarf[,SIZE]",
			   "unwind user stacks with frame pointers (default) or DWARF CFI"),
		OPT_INT(0, "stack-size", &o.stack_size, "BYTES", "user stack copied per sample with -g dwarf (8192)",
			64, 65528),
		OPT_BOOL(0, "user-only", &o.user_only, "leave kernel frames out"),
		OPT_STRING(0, "language", &o.language, "LANG",
			   "auto (default), native, python, node, java or go: name the runtime's functions"),
		OPT_GROUP("Output"),
		OPT_STRING('o', "output", &o.output, "FILE",
			   "write the profile to FILE, format from the extension (default " DEFAULT_OUTPUT ")"),
		OPT_STRING(0, "format", &o.format, "FORMAT", "output format of -o (pprof, folded, speedscope, svg)"),
		OPT_STRING(0, "flamegraph", &o.flamegraph, "FILE.svg", "also write a flame graph"),
		OPT_INT(0, "top", &o.top, "N", "functions listed in the report (10; 0 for none)", 0, 1000),
		OPT_BOOL('q', "quiet", &o.quiet, "no report, only warnings and errors"),
		OPT_BOOL(0, "diff", &o.diff, "profile two commands (each one argument) and compare them"),
		OPT_GROUP("Symbols"),
		OPT_BOOL(0, "no-inline", &o.no_inline, "do not show inlined functions as frames"),
		OPT_STRING(0, "debuginfo-dir", &o.debuginfo, "DIRS",
			   "colon-separated debug info directories searched before /usr/lib/debug"),
		{ OPTION_INT, 0, "mmap-pages", &o.mmap_pages, "N", "ring buffer pages per CPU (a power of two)",
		  OPT_HIDDEN, 1, 1 << 20, NULL, NULL },
		OPT_END(),
	};
	struct err e = ERR_INIT;
	struct profile_output outs[2];
	size_t nouts = 0;
	uint32_t *pids = NULL;
	size_t npids = 0;
	struct symbolizer *sym = NULL;
	struct rec_session *s = NULL;
	struct runtime *rt = NULL;
	enum rt_lang lang = RT_AUTO;
	struct profile *p = NULL;
	struct recorder_result res;
	int status = EXIT_INTERNAL;

	/* The heap, off-CPU, wall and I/O modes are their own commands with their own options. */
	const char *mode_arg = profile_mode_arg(argc, argv);
	if (mode_arg && !strcmp(mode_arg, "mem"))
		return cmd_profile_mem(argc, argv);
	if (mode_arg && (!strcmp(mode_arg, "offcpu") || !strcmp(mode_arg, "wall") || !strcmp(mode_arg, "io")))
		return cmd_profile_wait(argc, argv);
	argc = parse_options(argc, argv, opts, &help, PARSE_STOP_AT_NON_OPTION);
	if (argc == PARSE_HELP)
		return 0;
	if (argc < 0)
		return EXIT_USAGE;

	if (o.diff) {
		char *pass[8];
		size_t npass = 0;
		char freq[32];

		/* Both commands are single arguments, so options may also follow them. */
		{
			char **rest = xcalloc((size_t)argc + 2, sizeof(*rest));

			rest[0] = (char *)"profile";
			memcpy(rest + 1, argv, (size_t)argc * sizeof(*rest));
			argc = parse_options(argc + 1, rest, opts, &help, 0);
			memcpy(argv, rest, (size_t)(argc > 0 ? argc : 0) * sizeof(*rest));
			free(rest);
			if (argc < 0)
				return argc == PARSE_HELP ? 0 : EXIT_USAGE;
		}
		if (argc != 2 || o.pids.nr || o.all_cpus)
			return usage_error(&help, "--diff takes two commands, each one argument: "
						  "kiln profile --diff './old ARGS' './new ARGS'");
		if (o.freq) {
			snprintf(freq, sizeof(freq), "%lld", o.freq);
			pass[npass++] = (char *)"-F";
			pass[npass++] = freq;
		}
		pass[npass++] = (char *)"-g";
		pass[npass++] = (char *)o.call_graph;
		if (o.user_only)
			pass[npass++] = (char *)"--user-only";
		if (o.language) {
			pass[npass++] = (char *)"--language";
			pass[npass++] = (char *)o.language;
		}
		return profile_diff_run(argv[0], argv[1], pass, npass, o.output ? o.output : "diff.svg", o.quiet);
	}
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
	if (o.language && rt_lang_parse(o.language, &lang) < 0) {
		status = usage_error(&help, "unknown --language '%s' (auto, native, python, node, java or go)",
				     o.language);
		goto out;
	}
	int bad_target = profile_check_target(&help, npids, o.all_cpus, argc);
	if (bad_target) {
		status = bad_target;
		goto out;
	}
	if (rt_check_language(lang, argc ? argv[0] : NULL, pids, npids, &e) < 0) { /* rt_hints.h */
		status = usage_error(&help, "%s", e.msg);
		goto out;
	}
	if (o.duration > 0 && argc) {
		status = usage_error(&help, "--duration applies to --pid and --all-cpus; a command's run bounds its "
					    "recording");
		goto out;
	}
	/* perf's spelling: fp, dwarf, or dwarf,SIZE for the stack bytes copied per sample. */
	if (!strncmp(o.call_graph, "dwarf,", 6)) {
		long long v;
		if (parse_ll(o.call_graph + 6, 64, 65528, "--call-graph dwarf,SIZE", &v, &e) < 0) {
			status = usage_error(&help, "%s", e.msg);
			goto out;
		}
		o.stack_size = v;
		o.call_graph = "dwarf";
	} else if (strcmp(o.call_graph, "fp") && strcmp(o.call_graph, "dwarf")) {
		status = usage_error(&help, "--call-graph expects fp, dwarf or dwarf,SIZE, got '%s'", o.call_graph);
		goto out;
	}
	if (o.stack_size && o.stack_size % 8) {
		status = usage_error(&help, "--stack-size must be a multiple of 8, got %lld", o.stack_size);
		goto out;
	}
	if (o.mmap_pages && (o.mmap_pages & (o.mmap_pages - 1))) {
		status = usage_error(&help, "--mmap-pages must be a power of two, got %lld", o.mmap_pages);
		goto out;
	}
	if (profile_pick_output(o.output ? o.output : DEFAULT_OUTPUT, o.format, &outs[nouts], &help) != 0) {
		status = EXIT_USAGE;
		goto out;
	}
	nouts++;
	if (o.flamegraph) {
		outs[nouts] = (struct profile_output){ o.flamegraph, NULL, "flame graph" };
		nouts++;
	}

	/* An output that cannot be written is found now, not after a long recording. */
	for (size_t i = 0; i < nouts; i++) {
		if (profile_check_writable(outs[i].path) < 0) {
			status = EXIT_USAGE;
			goto out;
		}
	}

	if (!o.user_only && !o.all_cpus && perfperm_user_space_only(perfperm_get())) { /* the recorder excludes the kernel */
		warning_msg("%s", perfperm_user_space_note(perfperm_get()));
		o.user_only = true;
	}
	bool dwarf = !strcmp(o.call_graph, "dwarf");
	bool launch = argc > 0;
	enum rec_mode mode = o.all_cpus ? REC_SYSTEM : npids ? REC_ATTACH : REC_LAUNCH;
	unsigned freq = (unsigned)(o.freq ? o.freq : mode == REC_LAUNCH ? FREQ_LAUNCH : FREQ_ATTACH);

	FILE *mf = fopen("/proc/sys/kernel/perf_event_max_sample_rate", "r");
	if (mf) {
		unsigned long max = 0;
		if (fscanf(mf, "%lu", &max) == 1 && max && freq > max)
			warning_msg("-F %u is above the kernel's limit of %lu samples per second "
				    "(/proc/sys/kernel/perf_event_max_sample_rate): the kernel will throttle",
				    freq, max);
		fclose(mf);
	}

	sym = profile_symbolizer_new(o.debuginfo, o.no_inline);
	struct rec_session_opts so = {
		.user_only = o.user_only,
		.dwarf = dwarf,
		.regs_mask = dwarf ? recorder_dwarf_regs_mask() : 0,
	};
	s = rec_session_new(sym, &so);
	/* Language runtimes (docs/runtimes.md): their functions' names, Python frames spliced into stacks. */
	rt = runtime_new(lang, launch);
	if (launch)
		runtime_prepare_launch(rt, argv, NULL);
	else
		runtime_prepare_attach(rt, pids, npids);
	runtime_attach(rt, s);

	struct recorder_opts ro = {
		.mode = mode,
		.argv = launch ? runtime_launch_argv(rt, argv) : NULL,
		.pids = pids,
		.npids = npids,
		.freq = freq,
		.duration = o.duration,
		.dwarf = dwarf,
		.stack_size = (uint32_t)o.stack_size,
		.user_only = o.user_only,
		.mmap_pages = (size_t)o.mmap_pages,
		.wakeup_events = runtime_wakeup_events(rt),
	};

	int rr = profile_record(&ro, s, &res, &e);
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
	runtime_end_recording(rt);
	/* kallsyms is read (50-150 ms of kernel time) while user addresses are symbolized, not while the target
	 * runs: on a virtual machine whose CPUs share cores, any work kiln does slows the target it measures. */
	if (!o.user_only)
		symbolizer_prefetch_kernel(sym);

	uint64_t t0 = now_ns();
	p = profile_new(0);
	p->time_nanos = (int64_t)res.start_epoch_ns;
	p->duration_nanos = (int64_t)res.duration_ns;
	p->period = (int64_t)(1000000000ULL / freq);
	p->period_type.type = profile_intern_str(p, "cpu");
	p->period_type.unit = profile_intern_str(p, "nanoseconds");
	if (rec_session_finish(s, p, &e) < 0) {
		error_msg("%s", e.msg);
		status = EXIT_INTERNAL;
		goto out;
	}
	const struct rec_stats *st = rec_session_stats(s);

	bool write_failed = false;
	for (size_t i = 0; i < nouts; i++) {
		int w;
		if (outs[i].f) {
			/* Single-value formats count samples, as perf/stackcollapse users expect; pprof keeps both. */
			struct format_write_opts wo = { .column = -1 };
			if (strcmp(outs[i].f->name, "pprof"))
				wo.column = profile_find_column(p, "samples");
			w = profile_write_path(p, outs[i].path, outs[i].f, &wo, &e);
		} else if (!st->samples) {
			warning_msg("no samples: flame graph '%s' not written", outs[i].path);
			outs[i].path = NULL;
			continue;
		} else {
			w = write_svg(p, outs[i].path, launch ? argv[0] : "CPU", &e);
		}
		if (w < 0) {
			error_msg("%s", e.msg);
			write_failed = true;
			outs[i].path = NULL;
		}
	}
	uint64_t t_out = now_ns() - t0;
	runtime_cleanup(rt);
	for (const char *const *note = runtime_notes(rt); *note; note++)
		warning_msg("%s", *note);
	char *missing = rt_language_missing(lang, p, argc ? argv[0] : NULL, pids, npids);
	if (missing)
		warning_msg("%s", missing);
	free(missing);

	if (!st->samples)
		warning_msg("no samples: the target used less CPU than one sampling period (%s); raise -F",
			    fmt_ns((char[32]){ 0 }, 1e9 / freq));
	if (st->throttled)
		warning_msg("the kernel throttled sampling %" PRIu64 " times: lower -F or raise "
			    "/proc/sys/kernel/perf_event_max_sample_rate",
			    st->throttled);
	if (st->lost)
		warning_msg("the kernel dropped %" PRIu64 " records (ring buffer full): lower -F or raise "
			    "--mmap-pages", st->lost);
	if (!dwarf && st->user_samples >= 20 && st->broken_user * 5 > st->user_samples)
		warning_msg("%.0f%% of user stacks do not reach main or a thread start: code without frame "
			    "pointers breaks them; try --call-graph dwarf",
			    100.0 * (double)st->broken_user / (double)st->user_samples);
	if (!dwarf && st->user_samples >= 20 && st->leaf_beyond_stack * 20 > st->user_samples)
		warning_msg("%" PRIu64 " samples in code without a frame of its own whose return address lies beyond "
			    "the %d bytes of stack copied: their direct caller may be missing; try --call-graph dwarf",
			    st->leaf_beyond_stack, RECORDER_LEAF_STACK);
	if (dwarf && st->samples >= 20 && st->unwind_failed * 5 > st->samples)
		warning_msg("DWARF unwinding failed for %" PRIu64 " of %" PRIu64 " samples", st->unwind_failed,
			    st->samples);

	if (!o.quiet) {
		char a[32], b[32];
		fprintf(stderr, "kiln: %s samples at %u Hz in %s (cpu time %s), %" PRIu64 " process%s, %" PRIu64
				" thread%s",
			fmt_count(a, st->samples), freq, fmt_ns(b, (double)res.duration_ns),
			fmt_ns((char[32]){ 0 }, (double)st->period), st->processes, st->processes == 1 ? "" : "es",
			st->threads, st->threads == 1 ? "" : "s");
		if (res.launched && !res.reaped) {
			fprintf(stderr, "; stopped by a second signal, the command still runs");
		} else if (res.launched) {
			if (WIFSIGNALED(res.status))
				fprintf(stderr, "; command killed by signal %d", WTERMSIG(res.status));
			else
				fprintf(stderr, "; command exit status %d", status);
		}
		fputc('\n', stderr);
		print_hotspots(p, o.top);
		for (size_t i = 0; i < nouts; i++)
			if (outs[i].path)
				fprintf(stderr, "kiln: wrote '%s' (%s)\n", outs[i].path, outs[i].what);
		if (getenv("KILN_PROFILE_TIMING"))
			fprintf(stderr, "kiln: symbolized and wrote in %s\n", fmt_ns(a, (double)t_out));
	}
	if (write_failed)
		status = EXIT_INTERNAL;
out:
	profile_free(p);
	rec_session_free(s);
	runtime_free(rt);
	symbolizer_free(sym);
	free(pids);
	free(o.pids.v);
	return status;
}
