/* kiln profile --mode mem: run a command under the heap profiler, write the heap profile and print the report. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../analyze/heap_report.h"
#include "../core/atomicfile.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/json.h"
#include "../core/options.h"
#include "../core/util.h"
#include "../formats/format.h"
#include "../profile/profile.h"
#include "../core/heap_wire.h"
#include "../record/heap_run.h"
#include "../record/heap_trace.h"
#include "../render/flamegraph.h"
#include "../symbols/symbolizer.h"
#include "cmds.h"

#define DEFAULT_OUTPUT "heap.pb.gz"
#define DEFAULT_SAMPLE (512 * 1024) /* jemalloc's default lg_prof_sample = 19 */

struct mem_opts {
	const char *mode;
	const char *output;
	const char *format;
	const char *flamegraph;
	const char *fg_column;
	const char *sample_bytes;
	bool sample;
	long long depth;
	bool no_children;
	const char *suppressions;
	long long top;
	bool quiet;
	bool json;
	const char *json_file;
	bool no_inline;
	const char *debuginfo;
};

static const char *const fg_columns[] = { "alloc_space", "alloc_objects", "peak_inuse_space", "inuse_space",
					  "temporary_objects", NULL };

static const struct cmd_help help = {
	.name = "profile --mode mem",
	.usage = "kiln profile --mode mem [OPTIONS] [--] COMMAND [ARGS...]",
	.description =
		"Profiles the heap of COMMAND: every malloc, calloc, realloc, reallocarray, posix_memalign, "
		"aligned_alloc, memalign, valloc, pvalloc, C++ operator new and free (also C23 free_sized) of the "
		"command and of the processes it forks and execs (unless --no-children) is recorded with its call "
		"stack by libkiln-heap.so, preloaded into them. Stacks follow frame pointers (bounds-checked, "
		"--depth frames at most); code without frame pointers gives shorter stacks.\n\n"
		"Full trace (default): every allocation, exact totals. --sample-bytes SIZE samples allocations "
		"with probability proportional to their size (on average one per SIZE bytes allocated, like "
		"jemalloc's prof_sample; --sample uses 512 KiB) for production use; the values are then "
		"unbiased estimates, and the call and byte totals stay exact.\n\n"
		"Output: a pprof heap profile (default '" DEFAULT_OUTPUT "') with columns alloc_objects, alloc_space, "
		"inuse_objects and inuse_space (live at exit: leaks), peak_inuse_objects and peak_inuse_space (live "
		"when the heap peaked) and temporary_objects (freed right after being allocated, with no allocation "
		"in between), readable by 'kiln flamegraph', 'kiln analyze' and 'go tool pprof'. The report on "
		"stderr gives the peak heap and when it happened, totals, temporary allocations, leaks with their "
		"allocation stacks, the top sites by peak, leaks and calls, a size histogram and LSan-format "
		"suppressions for the leaks; 'kiln analyze HEAP.pb.gz' prints the same report from the file. "
		"Buffers the C runtime keeps until exit (stdio buffers, the dynamic loader's) are suppressed by "
		"default; --suppressions FILE adds LSan 'leak:PATTERN' lines.\n\n"
		"Exit status: that of the command (128+N when signal N killed it), 125 when kiln fails, 126 when "
		"the command cannot run, 127 when it is not found, 2 for usage errors.",
	.examples = "kiln profile --mode mem ./myprog --input data.txt\n"
		    "kiln profile --mode mem -o heap.pb.gz --flamegraph heap.svg ./myprog\n"
		    "kiln profile --mode mem --sample-bytes 512K ./server\n"
		    "kiln profile --mode mem -q --report-json heap.json ./myprog\n"
		    "kiln analyze heap.pb.gz --json",
};

/* "524288", "512K", "1M", "1G" -> bytes, at most 2^40. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || errno || *s == '-')
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if ((*end == 'i' || *end == 'I') && shift)
		end++;
	if ((*end == 'b' || *end == 'B') && shift)
		end++;
	if (*end || v > (1ULL << 40) >> shift)
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	/* A terminal's signal already reached the command's process group; one sent to kiln alone is passed on. */
	if (si && (si->si_code == SI_USER || si->si_code == SI_QUEUE))
		heap_run_stop(sig);
}

static int write_flamegraph(const struct profile *p, const char *path, const char *column, const char *title,
			    struct err *e)
{
	struct fg_build_opts bo = { .column = profile_find_column(p, column), .base_column = -1 };
	struct fg_svg_opts so;
	fg_svg_opts_init(&so);
	so.title = title;
	so.countname = strstr(column, "objects") ? "allocations" : "bytes";
	so.palette = PALETTE_MEM;
	return fg_render_profile(p, &bo, false, &so, path, e);
}

int cmd_profile_mem(int argc, char **argv)
{
	struct mem_opts o = { .top = 10, .fg_column = "alloc_space" };
	const struct option opts[] = {
		OPT_STRING(0, "mode", &o.mode, "mem", "heap profiling (this page); see 'kiln help profile' for cpu"),
		OPT_GROUP("Recording"),
		OPT_STRING(0, "sample-bytes", &o.sample_bytes, "SIZE",
			   "sample on average one allocation per SIZE bytes allocated (K/M/G suffixes; 0: trace "
			   "every allocation)"),
		OPT_BOOL(0, "sample", &o.sample, "sample with the default mean of 512 KiB (production)"),
		OPT_INT(0, "depth", &o.depth, "N", "maximum stack depth (64)", 1, KH_MAX_DEPTH),
		OPT_BOOL(0, "no-children", &o.no_children, "do not profile the processes the command starts"),
		OPT_GROUP("Output"),
		OPT_STRING('o', "output", &o.output, "FILE",
			   "write the profile to FILE, format from the extension (default " DEFAULT_OUTPUT ")"),
		OPT_STRING(0, "format", &o.format, "FORMAT", "output format of -o (pprof, folded, speedscope)"),
		OPT_STRING(0, "flamegraph", &o.flamegraph, "FILE.svg", "also write an allocation flame graph"),
		OPT_CHOICE(0, "flamegraph-column", &o.fg_column, "COLUMN",
			   "what the flame graph shows (alloc_space, alloc_objects, peak_inuse_space, inuse_space, "
			   "temporary_objects)",
			   fg_columns),
		OPT_STRING(0, "suppressions", &o.suppressions, "FILE", "leak suppressions in LSan's format"),
		OPT_INT(0, "top", &o.top, "N", "sites per list in the report (10)", 1, 10000),
		OPT_BOOL(0, "json", &o.json, "print the report as JSON on stdout (after the command's own output)"),
		OPT_STRING(0, "report-json", &o.json_file, "FILE", "write the report as JSON to FILE"),
		OPT_BOOL('q', "quiet", &o.quiet, "no report on stderr, only warnings and errors"),
		OPT_GROUP("Symbols"),
		OPT_BOOL(0, "no-inline", &o.no_inline, "do not show inlined functions as frames"),
		OPT_STRING(0, "debuginfo-dir", &o.debuginfo, "DIRS",
			   "colon-separated debug info directories (default /usr/lib/debug)"),
		OPT_END(),
	};
	struct err e = ERR_INIT;
	struct heap_trace *t = NULL;
	struct symbolizer *sym = NULL;
	struct profile *p = NULL;
	struct heap_report r;
	bool have_report = false;
	char *preload = NULL;
	int status = EXIT_INTERNAL;

	memset(&r, 0, sizeof(r));
	argc = parse_options(argc, argv, opts, &help, PARSE_STOP_AT_NON_OPTION);
	if (argc == PARSE_HELP)
		return 0;
	if (argc < 0)
		return EXIT_USAGE;
	if (o.mode && strcmp(o.mode, "mem"))
		return usage_error(&help, "--mode %s cannot be combined with heap profiling options", o.mode);
	if (!argc)
		return usage_error(&help, "nothing to profile: give a command");
	uint64_t sample = o.sample ? DEFAULT_SAMPLE : 0;
	if (o.sample_bytes && parse_size(o.sample_bytes, &sample) < 0)
		return usage_error(&help, "--sample-bytes expects a size such as 524288 or 512K, got '%s'",
				   o.sample_bytes);

	const char *out_path = o.output ? o.output : DEFAULT_OUTPUT;
	const struct format *f;
	if (o.format) {
		f = format_by_name(o.format);
		if (!f || !f->write)
			return usage_error(&help, "unknown output format '%s'", o.format);
	} else {
		f = format_for_path(out_path);
		if (!f)
			return usage_error(&help, "cannot tell the output format of '%s' from its extension (use --format)",
					   out_path);
	}
	/* A bad suppressions file is a usage error, found before the command runs. */
	if (o.suppressions) {
		struct profile *probe = profile_new(0);
		profile_add_column(probe, "alloc_space", "bytes");
		struct heap_report_opts ro = { .suppressions = o.suppressions };
		int rc = heap_report_compute(probe, &ro, &r, &e);
		heap_report_release(&r);
		profile_free(probe);
		if (rc < 0) {
			error_msg("%s", e.msg);
			return EXIT_USAGE;
		}
	}

	/* CPython serves objects up to 512 bytes from arenas it maps itself (pymalloc), which no malloc hook sees:
	 * PYTHONMALLOC=malloc sends them to malloc, so a Python program's own allocations are profiled. Every
	 * process of the run inherits it; a user's own PYTHONMALLOC is kept. */
	if (!getenv("PYTHONMALLOC"))
		setenv("PYTHONMALLOC", "malloc", 1);
	preload = heap_find_preload(&e);
	if (!preload) {
		error_msg("%s", e.msg);
		return EXIT_INTERNAL;
	}

	t = heap_trace_new();
	sym = symbolizer_new();
	if (o.debuginfo)
		symbolizer_set_debuginfo_dirs(sym, o.debuginfo);
	if (o.no_inline)
		symbolizer_set_flags(sym, SYMBOLIZER_NO_INLINE);
	struct heap_run_opts ho = {
		.argv = argv,
		.preload = preload,
		.sample_bytes = sample,
		.depth = (unsigned)o.depth,
		.no_children = o.no_children,
		.warm = sym,
	};
	struct heap_run_result res;
	struct sigaction sa, old[3];
	const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	int rr = heap_run(&ho, t, &res, &e);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	if (rr < 0) {
		error_msg("%s", e.msg);
		goto out;
	}
	if (res.launch_error) {
		error_msg("%s", e.msg);
		status = res.launch_error == HEAP_LAUNCH_NOT_FOUND ? 127 : 126;
		goto out;
	}
	if (WIFEXITED(res.status))
		status = WEXITSTATUS(res.status);
	else if (WIFSIGNALED(res.status))
		status = 128 + WTERMSIG(res.status);

	p = profile_new(0);
	if (heap_trace_finish(t, sym, p, &e) < 0) {
		error_msg("%s", e.msg);
		status = EXIT_INTERNAL;
		goto out;
	}
	const struct heap_trace_stats *st = heap_trace_stats(t);
	if (!st->streams)
		warning_msg("no process reported to the heap profiler: '%s' may be statically linked or clear "
			    "LD_PRELOAD",
			    argv[0]);
	if (st->corrupt_streams)
		warning_msg("%llu heap event stream%s ended in corrupt data", (unsigned long long)st->corrupt_streams,
			    st->corrupt_streams == 1 ? "" : "s");

	struct format_write_opts wo = { .column = -1 };
	bool wrote = true, wrote_fg = false;
	if (profile_write_path(p, out_path, f, &wo, &e) < 0) {
		error_msg("%s", e.msg);
		status = EXIT_INTERNAL;
		wrote = false;
	}
	if (o.flamegraph) {
		if (write_flamegraph(p, o.flamegraph, o.fg_column, "Heap allocations", &e) < 0) {
			error_msg("%s", e.msg);
			status = EXIT_INTERNAL;
		} else {
			wrote_fg = true;
		}
	}

	struct heap_report_opts ro = { .top = (size_t)o.top, .suppressions = o.suppressions };
	if (heap_report_compute(p, &ro, &r, &e) < 0) {
		error_msg("%s", e.msg);
		status = EXIT_INTERNAL;
		goto out;
	}
	have_report = true;
	if (!o.quiet) {
		fputc('\n', stderr);
		heap_report_print(stderr, p, &r, (size_t)o.top);
		if (WIFSIGNALED(res.status))
			fprintf(stderr, "kiln: command killed by signal %d\n", WTERMSIG(res.status));
		if (wrote)
			fprintf(stderr, "kiln: wrote '%s' (%s)\n", out_path, f->name);
		if (wrote_fg)
			fprintf(stderr, "kiln: wrote '%s' (flame graph of %s)\n", o.flamegraph, o.fg_column);
	}
	if (o.json || o.json_file) {
		struct buf b = BUF_INIT;
		struct jw j;
		jw_init(&j, &b, true);
		heap_report_json(&j, p, &r, (size_t)o.top);
		buf_addch(&b, '\n');
		if (o.json)
			fwrite(b.buf, 1, b.len, stdout);
		if (o.json_file && afile_write_all(o.json_file, b.buf, b.len, &e) < 0) {
			error_msg("%s", e.msg);
			status = EXIT_INTERNAL;
		}
		buf_release(&b);
	}
out:
	if (have_report)
		heap_report_release(&r);
	profile_free(p);
	heap_trace_free(t); /* first: it waits for the warm-up thread, which uses sym */
	symbolizer_free(sym);
	free(preload);
	return status;
}

