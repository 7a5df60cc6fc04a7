/* kiln profile: record a command, running processes or the whole system (cpu, mem, offcpu, wall, io modes) with
 * the library's recording driver (src/record/run.h), write the profile and print the report. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/err.h"
#include "../core/heap_wire.h"
#include "../core/options.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../formats/format.h"
#include "../profile/profile.h"
#include "../record/rt_hints.h"
#include "../record/run.h"
#include "../render/flamegraph.h"
#include "cmds.h"
#include "profile_common.h"

#define DEFAULT_OUTPUT "profile.pb.gz"
#define DEFAULT_HEAP_OUTPUT "heap.pb.gz"

#define M_PERF (RECORD_CPU | RECORD_OFFCPU | RECORD_WALL | RECORD_IO) /* modes that attach or trace the system */
#define M_PUSH (RECORD_CPU | RECORD_MEM | RECORD_OFFCPU) /* the modes --push cuts into windows */
#define M_RT (RECORD_CPU | RECORD_OFFCPU | RECORD_WALL)                /* modes that name runtimes' functions */

static const char *const profile_modes[] = { "cpu", "mem", "offcpu", "wall", "io", NULL };
static const char *const service_rules[] = { "comm", "exe", "cgroup", NULL };
static const char *const fg_columns[] = { "alloc_space", "alloc_objects", "peak_inuse_space", "inuse_space",
					  "temporary_objects", NULL };

static const struct cmd_help help = {
	.name = "profile",
	.usage = "kiln profile [OPTIONS] [--] COMMAND [ARGS...]\n"
		 "kiln profile [OPTIONS] -p PID[,PID...] [-d SECONDS]\n"
		 "kiln profile [OPTIONS] -a [-d SECONDS] [COMMAND [ARGS...]]\n"
		 "kiln profile --push URL [--every 10s] [--service NAME] [--tag K=V]... (-- COMMAND | -p PID | -a)\n"
		 "kiln profile --diff [OPTIONS] 'COMMAND_A' 'COMMAND_B'",
	.description =
		"Samples where CPU time goes with the kernel's cpu-clock event (works in virtual machines without "
		"hardware counters), with kernel and user call stacks. A launched COMMAND is followed through "
		"every thread, fork and exec; -p attaches to running processes (their existing and future threads) "
		"until they exit, -d SECONDS pass or Ctrl-C; -a samples every CPU. With a command, -d SECONDS "
		"records its first SECONDS and leaves it running. Options after the command are the command's "
		"(kiln says so when one of kiln's output options went there).\n\n"
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
		"sent to kiln is passed on to the command; a command still running 2 s later is sent SIGTERM, and "
		"SIGKILL 2 s after that; a second signal stops at once and leaves the command running.\n\n"
		"--diff profiles two shell command lines one after the other and compares them as 'kiln diff' does: "
		"the functions whose share of samples changed, each with a significance test, and a differential "
		"flame graph of the second (-o, default diff.svg; red grew, blue shrank).\n\n"
		"--push URL profiles continuously (default 97 Hz) and uploads a profile per --every window to kiln "
		"serve or any Pyroscope-compatible server, labelled service_name (--service, else the command's "
		"name), host and each --tag; with -a or several PIDs one series per process, named by "
		"--service-from. --mode mem --push uploads Go's four heap profile types of a sampled heap (every "
		"512 KiB unless --sample-bytes), --mode offcpu --push the time blocked (off_cpu, nanoseconds). "
		"Uploads never wait on the target: a bounded queue, retries with backoff, the oldest windows dropped "
		"first; at the end the counters are printed (docs/push.md).",
	.examples = "kiln profile ./myprog --input data.txt\n"
		    "kiln profile -o cpu.svg -- make -j2\n"
		    "kiln profile --flamegraph flame.svg -o prof.pb.gz python3 script.py\n"
		    "kiln profile -g dwarf ./built-without-frame-pointers\n"
		    "kiln profile --language go go test -bench .\n"
		    "kiln profile -p 12345 -d 60\n"
		    "kiln profile -a -d 10 -o system.folded\n"
		    "kiln profile --diff ./baseline ./optimized\n"
		    "kiln profile --push http://localhost:4040 --service api --tag env=prod -- ./server\n"
		    "kiln profile --push http://pyroscope:4040 --every 15s -a --service-from cgroup",
};


static const struct cmd_help *help_of(unsigned mode)
{
	if (mode == RECORD_MEM)
		return &profile_mem_help;
	if (mode & (RECORD_OFFCPU | RECORD_WALL | RECORD_IO))
		return &profile_wait_help;
	return &help;
}

/* The name of an option as the user wrote it, for messages. */
static void opt_display(char *out, size_t n, const struct option *opt)
{
	if (opt->long_name)
		snprintf(out, n, "--%s", opt->long_name);
	else
		snprintf(out, n, "-%c", opt->short_name);
}

/* Every option given must apply to the mode (an option's tags are the modes it applies to). */
static int check_modes(const struct profile_opts *o, const struct option **given, size_t ngiven)
{
	for (size_t i = 0; i < ngiven; i++) {
		unsigned tags = OPT_TAGS_OF(given[i]);
		char name[64];

		if (!tags || (tags & o->mode_bit))
			continue;
		opt_display(name, sizeof(name), given[i]);
		return usage_error(help_of(o->mode_bit), "%s does not apply to --mode %s", name,
				   record_mode_name(o->mode_bit));
	}
	return 0;
}

/* perf's spelling: fp, dwarf, or dwarf,SIZE for the stack bytes copied per sample. */
static int parse_call_graph(struct profile_opts *o, const struct cmd_help *h, bool *dwarf)
{
	struct err e = ERR_INIT;
	long long v;

	*dwarf = false;
	if (!o->call_graph || !strcmp(o->call_graph, "fp"))
		return 0;
	*dwarf = true;
	if (!strncmp(o->call_graph, "dwarf,", 6)) {
		if (parse_ll(o->call_graph + 6, 64, 65528, "--call-graph dwarf,SIZE", &v, &e) < 0)
			return usage_error(h, "%s", e.msg);
		o->stack_size = v;
	} else if (strcmp(o->call_graph, "dwarf")) {
		return usage_error(h, "--call-graph expects fp, dwarf or dwarf,SIZE, got '%s'", o->call_graph);
	}
	if (o->stack_size && o->stack_size % 8)
		return usage_error(h, "--stack-size must be a multiple of 8, got %lld", o->stack_size);
	return 0;
}

/* What to record: exactly one of a command, --pid or --all-cpus (a command may come with --all-cpus). */
static int check_target(const struct profile_opts *o, const struct cmd_help *h, size_t npids, int argc)
{
	if (npids && o->all_cpus)
		return usage_error(h, "--pid and --all-cpus cannot be combined");
	if (npids && argc)
		return usage_error(h, "--pid and a command cannot be combined");
	if (!npids && !o->all_cpus && !argc)
		return usage_error(h, o->mode_bit == RECORD_MEM ? "nothing to profile: give a command"
							 : "nothing to profile: give a command, --pid or --all-cpus");
	if (o->all_cpus && !argc && o->duration <= 0 && (o->mode_bit & (RECORD_OFFCPU | RECORD_WALL | RECORD_IO)))
		return usage_error(h, "--all-cpus without a command needs --duration");
	return 0;
}

/* --language that names a runtime the target certainly is not is a usage error naming the one it is. */
static int check_language(const struct record_request *rq, const struct cmd_help *h, int argc, char **argv)
{
	struct err e = ERR_INIT;

	if (rt_check_language(rq->lang, argc ? argv[0] : NULL, rq->pids, rq->npids, &e) < 0)
		return usage_error(h, "%s", e.msg);
	return 0;
}

int profile_request(struct profile_opts *o, const struct cmd_help *h, struct record_request *rq, uint32_t **pids)
{
	struct err e = ERR_INIT;
	size_t npids = 0;
	bool dwarf;
	int st;

	*pids = NULL;
	if (profile_parse_pids(&o->pids, pids, &npids, &e) < 0)
		return usage_error(h, "%s", e.msg);
	for (size_t i = 0; i < npids; i++)
		if (kill((pid_t)(*pids)[i], 0) < 0 && errno == ESRCH)
			return usage_error(h, "no process with id %" PRIu32, (*pids)[i]);
	if (o->language && rt_lang_parse(o->language, &rq->lang) < 0)
		return usage_error(h, "unknown --language '%s' (auto, native, python, node, java or go)", o->language);
	if ((st = parse_call_graph(o, h, &dwarf)))
		return st;
	if (o->mmap_pages && (o->mmap_pages & (o->mmap_pages - 1)))
		return usage_error(h, "--mmap-pages must be a power of two, got %lld", o->mmap_pages);
	if (o->mode_bit == RECORD_MEM && (st = profile_mem_check(o, h, &rq->sample_bytes)))
		return st;
	rq->mode = o->mode_bit;
	rq->pids = *pids;
	rq->npids = npids;
	rq->all_cpus = o->all_cpus;
	rq->duration = o->duration;
	rq->freq = (unsigned)o->freq;
	rq->dwarf = dwarf;
	rq->stack_size = (uint32_t)o->stack_size;
	rq->mmap_pages = (size_t)o->mmap_pages;
	rq->user_only = o->user_only;
	rq->debuginfo_dirs = o->debuginfo;
	rq->no_inline = o->no_inline;
	rq->depth = (unsigned)o->depth;
	rq->no_children = o->no_children;
	rq->min_block_ns = (uint64_t)(o->min_block_us * 1000.0);
	rq->no_stacks = o->no_stacks;
	rq->no_files = o->no_files;
	rq->handle_signals = true;
	return 0;
}

/* The outputs: -o (or the mode's default) and --flamegraph, each checked writable before a long recording. */
static int pick_outputs(const struct profile_opts *o, const struct cmd_help *h, struct profile_output *outs,
			size_t *nouts)
{
	const char *def = o->mode_bit == RECORD_MEM ? DEFAULT_HEAP_OUTPUT : DEFAULT_OUTPUT;

	*nouts = 0;
	if (profile_pick_output(o->output ? o->output : def, o->format, &outs[0], h) != 0)
		return EXIT_USAGE;
	*nouts = 1;
	if (o->flamegraph)
		outs[(*nouts)++] = (struct profile_output){ o->flamegraph, NULL, "flame graph" };
	/* Checked before the command runs, in every mode: a failure at the end would waste the whole run. */
	for (size_t i = 0; i < *nouts; i++)
		if (profile_check_writable(outs[i].path) < 0)
			return EXIT_USAGE;
	if (o->json && strcmp(o->json, "-") && profile_check_writable(o->json) < 0)
		return EXIT_USAGE;
	return 0;
}

static int write_svg(const struct profile_opts *o, const struct profile *p, const char *path,
		     const struct record_result *res, char *const *argv, struct err *e)
{
	struct fg_build_opts bo = { .column = -1, .base_column = -1, .reverse = false };
	struct fg_svg_opts so;
	char *title;
	int ret;

	fg_svg_opts_init(&so);
	if (o->mode_bit == RECORD_CPU) {
		bo.column = profile_find_column(p, "samples");
		so.countname = "samples";
		title = xstrdup(argv[0] ? argv[0] : res->title);
	} else if (o->mode_bit == RECORD_MEM) {
		const char *col = o->fg_column ? o->fg_column : "alloc_space";
		bo.column = profile_find_column(p, col);
		so.countname = strstr(col, "objects") ? "allocations" : "bytes";
		so.palette = PALETTE_MEM;
		title = xstrdup(res->title);
	} else {
		so.countname = "ns";
		so.palette = PALETTE_IO;
		title = argv[0] ? xasprintf("%s: %s", res->title, argv[0]) : xstrdup(res->title);
	}
	so.title = title;
	ret = fg_render_profile(p, &bo, false, &so, path, e);
	free(title);
	return ret;
}

/* Writes every output; a failed one is reported and dropped from the report's list. */
static bool write_outputs(const struct profile_opts *o, struct profile *p, struct profile_output *outs,
			  size_t nouts, const struct record_result *res, char *const *argv)
{
	struct err e = ERR_INIT;
	bool failed = false;

	for (size_t i = 0; i < nouts; i++) {
		int w;

		if (outs[i].f) {
			/* Single-value formats carry the column kiln convert would pick (format.h); pprof keeps all. */
			struct format_write_opts wo = { .column = format_value_column(p) };
			w = profile_write_path(p, outs[i].path, outs[i].f, &wo, &e);
		} else if (!p->rows_nr && o->mode_bit != RECORD_MEM) {
			warning_msg("%s: flame graph '%s' not written",
				    o->mode_bit == RECORD_CPU ? "no samples" : "nothing was recorded", outs[i].path);
			outs[i].path = NULL;
			continue;
		} else {
			w = write_svg(o, p, outs[i].path, res, argv, &e);
		}
		if (w < 0) {
			error_msg("%s", e.msg);
			failed = true;
			outs[i].path = NULL;
		}
	}
	return failed;
}

/* What was given before the command, for profile_hint_misplaced(). */
struct given_args {
	const struct option *opts;
	int before;
	char **args;
};

/* Records, writes and reports: the part of kiln profile after its options were checked. */
static int profile_run(const struct profile_opts *o, struct record_request *rq, char **argv,
		       struct profile_output *outs, size_t nouts, const struct given_args *ga)
{
	struct record_result res;
	struct err e = ERR_INIT;
	struct profile *p = profile_new(0);
	struct profile_live *live;
	/* The kernel stamps file times from its coarse clock, which may be a tick behind CLOCK_REALTIME: compare
	 * with that clock, or a file the command wrote at once would look older than the run. */
	struct timespec coarse;
	uint64_t since;

	clock_gettime(CLOCK_REALTIME_COARSE, &coarse);
	since = (uint64_t)coarse.tv_sec * 1000000000ULL + (uint64_t)coarse.tv_nsec;
	int status, rs;

	rq->argv = argv[0] ? argv : NULL;
	live = profile_live_start(o, rq);
	rs = record_run(rq, p, &res, &e);
	profile_live_end(live);
	if (rs < 0) {
		error_msg("%s", e.msg);
		status = EXIT_INTERNAL;
		goto out;
	}
	status = res.exit_status;
	if (res.launch_failed) {
		error_msg("%s", e.msg);
		goto out;
	}
	bool failed = write_outputs(o, p, outs, nouts, &res, argv);
	for (size_t i = 0; i < res.notes_nr; i++)
		warning_msg("%s", res.notes[i]);
	if (o->mode_bit == RECORD_CPU) {
		/* --language named a runtime the recording never met (rt_hints.h). */
		char *missing = rt_language_missing(rq->lang, p, argv[0], rq->pids, rq->npids);

		if (missing)
			warning_msg("%s", missing);
		free(missing);
	}
	if (o->mode_bit == RECORD_MEM)
		failed |= profile_report_mem(o, p, &res) != 0;
	else if (o->mode_bit == RECORD_IO)
		failed |= profile_report_io(o, p, &res) != 0;
	if (!o->quiet && o->mode_bit == RECORD_CPU)
		profile_report_cpu(o, p, &res);
	else if (!o->quiet && o->mode_bit & (RECORD_OFFCPU | RECORD_WALL))
		profile_report_wait(o, p, &res);
	if (!o->quiet)
		for (size_t i = 0; i < nouts; i++)
			if (outs[i].path)
				fprintf(stderr, "kiln: wrote '%s' (%s)\n", outs[i].path,
					o->mode_bit == RECORD_MEM && !outs[i].f ? "flame graph" : outs[i].what);
	if (!o->quiet && o->json && strcmp(o->json, "-") && o->mode_bit == RECORD_IO)
		fprintf(stderr, "kiln: wrote '%s' (json)\n", o->json);
	profile_hint_misplaced(ga->opts, o, ga->before, ga->args, rq->argv, since);
	if (failed)
		status = EXIT_INTERNAL;
out:
	record_result_release(&res);
	profile_free(p);
	return status;
}

/* --diff: both commands are single arguments, so options may also follow them. */
static int profile_diff(struct profile_opts *o, const struct option *opts, int argc, char **argv)
{
	struct record_request rq = RECORD_REQUEST_INIT;
	uint32_t *pids = NULL;
	char **rest = xcalloc((size_t)argc + 2, sizeof(*rest));
	int st;

	rest[0] = (char *)"profile";
	memcpy(rest + 1, argv, (size_t)argc * sizeof(*rest));
	argc = parse_options(argc + 1, rest, opts, &help, 0);
	if (argc < 0) {
		free(rest);
		return argc == PARSE_HELP ? 0 : EXIT_USAGE;
	}
	if (argc != 2 || o->pids.nr || o->all_cpus) {
		free(rest);
		return usage_error(&help, "--diff takes two commands, each one argument: "
					  "kiln profile --diff './old ARGS' './new ARGS'");
	}
	st = profile_request(o, &help, &rq, &pids);
	if (!st)
		st = profile_diff_run(rest[0], rest[1], &rq, o->output ? o->output : "diff.svg", o->quiet);
	free(pids);
	free(rest);
	return st;
}

#define PROFILE_NOPTS 48

/* kiln profile's one option table, for every mode: each option's tags are the modes it applies to. */
static void profile_options(struct profile_opts *o, struct option *out)
{
	const struct option opts[] = {
		OPT_GROUP("What to record"),
		OPT_CHOICE(0, "mode", &o->mode, NULL,
			   "cpu (default); mem: the heap; offcpu, wall, io: waits and system calls "
			   "(each mode: kiln profile --mode MODE --help)",
			   profile_modes),
		OPT_LIST('p', "pid", &o->pids, "PID[,PID]", "attach to running processes (all their threads)",
			 OPT_TAGS(M_PERF)),
		OPT_BOOL('a', "all-cpus", &o->all_cpus, "record the whole system", OPT_TAGS(M_PERF)),
		OPT_DOUBLE('d', "duration", &o->duration, "SECONDS",
			   "stop after SECONDS (a launched command runs on)", 0.001, 1e7,
			   OPT_TAGS(M_PERF)),
		OPT_INT('F', "frequency", &o->freq, "HZ",
			"samples per second per CPU (default 999 launched, 99 with -p/-a)", 1, 100000,
			OPT_TAGS(RECORD_CPU | RECORD_WALL)),
		OPT_STRING('g', "call-graph", &o->call_graph, "fp|dwarf[,SIZE]",
			   "unwind user stacks with frame pointers (default) or DWARF CFI", OPT_TAGS(RECORD_CPU)),
		OPT_INT(0, "stack-size", &o->stack_size, "BYTES", "user stack copied per sample with -g dwarf (8192)",
			64, 65528, OPT_TAGS(RECORD_CPU)),
		OPT_BOOL(0, "user-only", &o->user_only, "leave kernel frames out", OPT_TAGS(M_PERF)),
		OPT_STRING(0, "language", &o->language, "LANG",
			   "auto (default), native, python, node, java or go: name the runtime's functions",
			   OPT_TAGS(M_RT)),
		OPT_DOUBLE(0, "min-block", &o->min_block_us, "USEC", "offcpu/wall: drop waits shorter than USEC", 0, 1e10,
			   OPT_TAGS(RECORD_OFFCPU | RECORD_WALL)),
		OPT_BOOL(0, "no-stacks", &o->no_stacks, "io: no user stacks (cheaper; the summary stays exact)",
			 OPT_TAGS(RECORD_IO)),
		OPT_BOOL(0, "no-files", &o->no_files, "io: no per-file bytes (cheaper)", OPT_TAGS(RECORD_IO)),
		OPT_STRING(0, "sample-bytes", &o->sample_bytes, "SIZE",
			   "mem: sample on average one allocation per SIZE bytes allocated (K/M/G suffixes; 0: trace "
			   "every allocation)", OPT_TAGS(RECORD_MEM)),
		OPT_BOOL(0, "sample", &o->sample, "mem: sample with the default mean of 512 KiB (production)",
			 OPT_TAGS(RECORD_MEM)),
		OPT_INT(0, "depth", &o->depth, "N", "mem: maximum stack depth (64)", 1, KH_MAX_DEPTH, OPT_TAGS(RECORD_MEM)),
		OPT_BOOL(0, "no-children", &o->no_children, "mem: do not profile the processes the command starts",
			 OPT_TAGS(RECORD_MEM)),
		OPT_GROUP("Output"),
		OPT_STRING('o', "output", &o->output, "FILE",
			   "write the profile to FILE, format from the extension (default " DEFAULT_OUTPUT ", mem: "
			   DEFAULT_HEAP_OUTPUT ")"),
		OPT_STRING(0, "format", &o->format, "FORMAT", "output format of -o (pprof, folded, speedscope, svg)"),
		OPT_STRING(0, "flamegraph", &o->flamegraph, "FILE.svg", "also write a flame graph"),
		OPT_CHOICE(0, "flamegraph-column", &o->fg_column, "COLUMN",
			   "mem: what the flame graph shows (alloc_space, alloc_objects, peak_inuse_space, "
			   "inuse_space, temporary_objects)", fg_columns, OPT_TAGS(RECORD_MEM)),
		OPT_STRING(0, "suppressions", &o->suppressions, "FILE", "mem: leak suppressions in LSan's format",
			   OPT_TAGS(RECORD_MEM)),
		OPT_STRING(0, "json", &o->json, "FILE", "io, mem: also write the report as JSON ('-' for stdout)",
			   OPT_TAGS(RECORD_IO | RECORD_MEM)),
		OPT_STRING(0, "report-json", &o->json, "FILE", NULL, OPT_HIDDEN | OPT_TAGS(RECORD_MEM)),
		OPT_INT(0, "top", &o->top, "N", "rows per table in the report (10; 0 for totals only)", 0, 10000),
		OPT_BOOL('q', "quiet", &o->quiet, "no report, only warnings and errors"),
		OPT_BOOL(0, "diff", &o->diff, "profile two commands (each one argument) and compare them",
			 OPT_TAGS(RECORD_CPU)),
		OPT_GROUP("Continuous profiling (docs/push.md)"),
		OPT_STRING(0, "push", &o->push, "URL",
			   "upload a profile per window to kiln serve or a Pyroscope-compatible server",
			   OPT_TAGS(M_PUSH)),
		OPT_STRING(0, "every", &o->every, "DURATION", "--push: the window length (10s; ms, s, m, h)",
			   OPT_TAGS(M_PUSH)),
		OPT_STRING(0, "service", &o->service, "NAME", "--push: the service name (default: the command's)",
			   OPT_TAGS(M_PUSH)),
		OPT_LIST(0, "tag", &o->tags, "K=V", "--push: a label of every series (repeatable)",
			 OPT_TAGS(M_PUSH)),
		OPT_CHOICE(0, "service-from", &o->service_from, "RULE",
			   "--push with -a or -p: name each process's series by its comm (default), exe or cgroup",
			   service_rules, OPT_TAGS(M_PUSH)),
		OPT_GROUP("Symbols"),
		OPT_BOOL(0, "no-inline", &o->no_inline, "do not show inlined functions as frames"),
		OPT_STRING(0, "debuginfo-dir", &o->debuginfo, "DIRS",
			   "colon-separated debug info directories searched before /usr/lib/debug"),
		OPT_INT(0, "mmap-pages", &o->mmap_pages, "N", "ring buffer pages per CPU (a power of two)", 1, 1 << 20,
			OPT_HIDDEN | OPT_TAGS(M_PERF)),
		OPT_END(),
	};
	_Static_assert(sizeof(opts) <= PROFILE_NOPTS * sizeof(opts[0]), "PROFILE_NOPTS is too small");
	memcpy(out, opts, sizeof(opts));
}

const char *profile_mode_arg(int argc, char **argv)
{
	struct profile_opts o = { .top = 10 };
	struct option opts[PROFILE_NOPTS];
	char **copy = xcalloc((size_t)argc + 1, sizeof(*copy));
	int n;

	profile_options(&o, opts);
	memcpy(copy, argv, (size_t)argc * sizeof(*copy));
	n = parse_options(argc, copy, opts, &help, PARSE_STOP_AT_NON_OPTION | PARSE_HELP_LAST);
	free(copy);
	free(o.pids.v);
	free(o.tags.v);
	return n == PARSE_ERROR ? NULL : o.mode;
}

int cmd_profile(int argc, char **argv)
{
	struct profile_opts o = { .top = 10 };
	struct option opts[PROFILE_NOPTS];
	const struct option **given = xcalloc((size_t)argc + 1, sizeof(*given));
	struct record_request rq = RECORD_REQUEST_INIT;
	struct profile_output outs[2];
	size_t ngiven = 0, nouts = 0;
	uint32_t *pids = NULL;
	char **orig = xcalloc((size_t)argc + 1, sizeof(*orig));
	int st, orig_argc = argc;

	memcpy(orig, argv, (size_t)argc * sizeof(*orig));
	profile_options(&o, opts);
	argc = parse_options_given(argc, argv, opts, &help, PARSE_STOP_AT_NON_OPTION | PARSE_HELP_LAST, given,
				   &ngiven);
	o.mode_bit = record_mode_parse(o.mode ? o.mode : "cpu");
	if (argc == PARSE_ERROR) {
		st = EXIT_USAGE;
	} else if (argc == PARSE_DOC) {
		st = 0;
	} else if ((st = profile_push_check_mode(&o, help_of(o.mode_bit))) || (st = check_modes(&o, given, ngiven))) {
		;
	} else if (argc == PARSE_HELP) {
		usage_print_tagged(opts, help_of(o.mode_bit), o.mode_bit);
	} else if (o.diff) {
		st = profile_diff(&o, opts, argc, argv);
	} else if (!(st = profile_request(&o, help_of(o.mode_bit), &rq, &pids)) &&
		   !(st = check_target(&o, help_of(o.mode_bit), rq.npids, argc)) &&
		   !(st = check_language(&rq, help_of(o.mode_bit), argc, argv)) &&
		   !(st = o.push ? profile_push_check(&o, help_of(o.mode_bit), &rq)
				 : pick_outputs(&o, help_of(o.mode_bit), outs, &nouts))) {
		struct given_args ga = { opts, orig_argc - 1 - argc, orig + 1 };

		st = o.push ? profile_push_run(&o, &rq, argv) : profile_run(&o, &rq, argv, outs, nouts, &ga);
	}
	free(orig);
	free(pids);
	free(o.pids.v);
	free(o.tags.v);
	free(given);
	return st;
}
