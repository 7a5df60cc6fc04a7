/* kiln collapse: folds `perf script` call chains into "frame;frame;... count" lines, as stackcollapse-perf.pl. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../core/err.h"
#include "../core/options.h"
#include "../core/util.h"
#include "../formats/format.h"
#include "../formats/input.h"
#include "../profile/profile.h"
#include "cmds.h"

struct collapse_opts {
	bool pid, tid, kernel, jit, all, addrs, inline_, quiet;
	const char *event;
	const char *type;
	const char *output;
	const char *format;
};

static const struct cmd_help collapse_help = {
	.name = "collapse",
	.usage = "kiln collapse [OPTIONS] [FILE|-]",
	.description = "Reads the text of `perf script` (samples recorded with call chains: perf record -g) from FILE "
		       "or stdin and prints one line per unique stack, 'process;outermost;...;leaf COUNT', sorted "
		       "bytewise. The output is byte-identical to FlameGraph's stackcollapse-perf.pl with the same "
		       "options: samples count their period when perf script shows one, only the first event seen "
		       "is kept unless --event names one, function names are tidied the same way. Feed the result "
		       "to 'kiln flamegraph' or flamegraph.pl. A perf.data file (perf record -g) is read directly, "
		       "without perf installed, and symbolized by kiln; --type reads any other profile format.",
	.examples = "perf record -F 99 -g -- ./prog && perf script | kiln collapse > out.folded\n"
		    "kiln collapse --pid --kernel perf.txt\n"
		    "kiln collapse --event-filter=instructions perf.txt -o instr.folded\n"
		    "kiln collapse perf.txt -o cpu.pb.gz              # pprof, from the extension\n"
		    "kiln collapse perf.data                          # perf.data read directly",
};

/* The checks parse_options() cannot make, and the output's format; a usage error's status, or 0. */
static int check_options(const struct collapse_opts *o, int argc, const struct format **writer)
{
	struct err e = ERR_INIT;

	if (argc > 1)
		return usage_error(&collapse_help, "collapse takes one input FILE, got %d", argc);
	if (!*writer)
		BUG("the folded format is not registered");
	if (o->type && !format_type_known(o->type)) {
		format_type_unknown(o->type, &e);
		return usage_error(&collapse_help, "%s", e.msg);
	}
	if (o->format) {
		*writer = format_by_name(o->format);
		if (!*writer || !(*writer)->write)
			return usage_error(&collapse_help,
					   "unknown output format '%s' for --format; 'kiln convert --list' shows the formats",
					   o->format);
	} else if (o->output && strcmp(o->output, "-") && format_for_path(o->output)) {
		*writer = format_for_path(o->output);
	}
	if (o->event && !*o->event)
		return usage_error(&collapse_help, "--event-filter needs an event name");
	if (!argc && isatty(0))
		return usage_error(&collapse_help,
				   "no input: give a FILE or pipe 'perf script' output to kiln collapse");
	return 0;
}

/*
 * Reads `path` into `p`. "perf" picks a perf.data file (read directly and symbolized by kiln, without perf
 * installed) or perf script text by their content; a profile of a format kiln recognises but does not read is
 * refused by name. Prints the error and returns -1 when the input cannot be opened, told apart or read.
 */
static int read_input(struct profile *p, const char *path, const char *type, const struct format_read_opts *ro)
{
	const struct format *reader;
	struct err e = ERR_INIT;
	struct input in;
	int ret = 0;

	if (input_open(&in, path, &e)) {
		error_msg("%s", e.msg);
		return -1;
	}
	reader = format_pick(&in, type ? type : "perf", &e);
	if (!reader) {
		error_msg("%s", e.msg);
		input_close(&in);
		return -1;
	}
	input_show_progress(&in, "collapsing");
	if (reader->read(p, &in, ro, &e)) {
		/* Input errors (read failures, over-long lines) already name the file. */
		if (!strncmp(e.msg, "cannot ", 7))
			error_msg("%s", e.msg);
		else
			error_msg("cannot read '%s': %s", in.name, e.msg);
		ret = -1;
	}
	input_close(&in);
	return ret;
}

int cmd_collapse(int argc, char **argv)
{
	struct collapse_opts o = { 0 };
	struct format_read_opts ro = { 0 };
	struct format_write_opts wo = { .column = -1 };
	const struct format *writer = format_by_name("folded");
	struct err e = ERR_INIT;
	struct profile *p = NULL;
	const char *path;
	int ret = EXIT_USAGE;

	const struct option opts[] = {
		OPT_BOOL(0, "pid", &o.pid, "name the process frame 'comm-PID' (perf script must show PIDs)"),
		OPT_BOOL(0, "tid", &o.tid, "name the process frame 'comm-PID/TID'"),
		OPT_BOOL(0, "kernel", &o.kernel, "annotate kernel functions with _[k]"),
		OPT_BOOL(0, "jit", &o.jit, "annotate JIT functions (from /tmp/perf-PID.map) with _[j]"),
		OPT_BOOL(0, "all", &o.all, "all annotations (--kernel --jit)"),
		OPT_BOOL(0, "addrs", &o.addrs, "show the address of frames whose symbol is unknown"),
		OPT_BOOL(0, "inline", &o.inline_,
			 "accepted for compatibility: inlined frames come from 'perf script --inline' output "
			 "(kiln does not run addr2line)"),
		OPT_STRING(0, "event-filter", &o.event, "EVENT",
			   "keep only samples of EVENT (default: the first seen)"),
		OPT_STRING(0, "event", &o.event, "EVENT", "the same as --event-filter"),
		OPT_STRING(0, "type", &o.type, "TYPE",
			   "input format (default perf: perf script text, or a perf.data file by its content)"),
		OPT_STRING('o', "output", &o.output, "FILE",
			   "write to FILE (atomically) instead of stdout, in the format its extension names "
			   "(.pb.gz pprof, .json speedscope, else folded)"),
		OPT_STRING(0, "format", &o.format, "FORMAT",
			   "output format: folded (the default), pprof, speedscope, ..."),
		OPT_BOOL('q', "quiet", &o.quiet, "do not warn about skipped events and lines"),
		OPT_END(),
	};

	argc = parse_options(argc, argv, opts, &collapse_help, 0);
	if (argc == PARSE_HELP)
		return EXIT_OK;
	if (argc < 0)
		return EXIT_USAGE;
	if (check_options(&o, argc, &writer))
		return EXIT_USAGE;
	path = argc ? argv[0] : "-";
	ro.pid = o.pid;
	ro.tid = o.tid;
	ro.kernel = o.kernel;
	ro.jit = o.jit;
	ro.all = o.all;
	ro.addrs = o.addrs;
	ro.event = o.event;

	p = profile_new(0);
	if (read_input(p, path, o.type, &ro))
		goto out;
	/* Unlike stackcollapse-perf.pl, which prints nothing and succeeds: an empty result is an error in kiln. */
	if (profile_is_empty(p, -1)) {
		error_msg("no samples in '%s'", argc ? argv[0] : "<stdin>");
		goto out;
	}
	if (!o.quiet)
		print_read_warnings(p, path);
	if (profile_write_path(p, o.output ? o.output : "-", writer, &wo, &e)) {
		error_msg("%s", e.msg);
		goto out;
	}
	ret = EXIT_OK;
out:
	profile_free(p);
	return ret;
}
