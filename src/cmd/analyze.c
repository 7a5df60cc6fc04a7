/* kiln analyze: hotspots, hot path and evidence-based recommendations for profiles in any readable format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../analyze/document.h"
#include "../core/atomicfile.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/json.h"
#include "../core/options.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../formats/format.h"
#include "../profile/profile.h"
#include "cmds.h"

struct analyze_cmd_opts {
	const char *format;
	bool json;
	double threshold;
	long long top;
	bool detailed;
	const char *type;
	const char *value;
	const char *output;
};

static const char *const format_choices[] = { "text", "json", "markdown", NULL };

static const struct cmd_help analyze_help = {
	.name = "analyze",
	.usage = "kiln analyze FILE... [--format text|json|markdown] [--json] [--threshold PCT] [--top N] "
		 "[--detailed]",
	.description = "Reads one or more profiles (perf script text, perf.data, pprof, speedscope, Chrome/Node "
		       ".cpuprofile, folded stacks: the format is detected from the content unless --type names it) "
		       "and reports what a performance engineer looks at first: the total, the hotspots by self time "
		       "with a severity (critical >= 20%, high >= 10%, medium >= the threshold), the functions by "
		       "inclusive time (each sample once per function, as pprof's cum), the hot path (the heaviest "
		       "call path with recursion folded into one step, ending where self time dominates) and "
		       "recommendations from the rule catalogue (docs/rules.md), each citing the frames and shares "
		       "that triggered it. Idle CPU samples of system-wide profiles are reported apart and left out. With several files the profiles are merged for the analysis and each "
		       "function's share per run is shown with its mean and standard deviation. --format json "
		       "writes the schema of docs/analyze-json.md; markdown suits pull-request comments.",
	.examples = "kiln analyze profile.data\n"
		    "kiln analyze cpu.prof --type pprof --detailed\n"
		    "kiln analyze profile.data --json > analysis.json\n"
		    "kiln analyze run1.folded run2.folded run3.folded --threshold 2\n"
		    "kiln analyze perf.txt --format markdown -o analysis.md",
};

/* Reads each FILE; a file without samples is an error, its reader's warnings go to stderr. */
static int load_all(struct profile **ps, const char **fmts, char **files, size_t n, const char *type)
{
	struct err e = ERR_INIT;

	for (size_t i = 0; i < n; i++) {
		ps[i] = profile_new(0);
		if (profile_load(ps[i], files[i], type, NULL, &fmts[i], &e)) {
			error_msg("%s", e.msg);
			return -1;
		}
		if (profile_is_empty(ps[i], -1)) {
			error_msg("no samples in '%s'", strcmp(files[i], "-") ? files[i] : "<stdin>");
			return -1;
		}
		print_read_warnings(ps[i], files[i]);
	}
	return 0;
}

/* The document's format: --format, --json, else the extension of -o FILE (.json, .md), else text. */
static int check_format(struct analyze_cmd_opts *o)
{
	if (o->json && o->format && strcmp(o->format, "json"))
		return usage_error(&analyze_help, "--json contradicts --format %s", o->format);
	if (!o->format && !o->json && o->output) {
		const char *f = report_format_for_path(o->output);

		if (f && strcmp(f, "html"))
			o->format = f;
	}
	if (o->json)
		o->format = "json";
	return 0;
}

/* Stdin ('-') needs a pipe, and can be read once. */
static int check_stdin(char **files, size_t n)
{
	for (size_t i = 0, nstdin = 0; i < n; i++) {
		if (strcmp(files[i], "-"))
			continue;
		if (isatty(0))
			return usage_error(&analyze_help, "no input: give a FILE or pipe a profile to kiln analyze -");
		if (++nstdin > 1)
			return usage_error(&analyze_help, "stdin ('-') can be given only once");
	}
	return 0;
}

int cmd_analyze(int argc, char **argv)
{
	struct analyze_cmd_opts o = { .format = NULL, .threshold = 5.0, .top = 20 };
	struct analyze_doc_opts d = { 0 };
	struct profile **ps = NULL;
	const char **fmts = NULL;
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	bool saturated = false;
	size_t n;
	int ret = EXIT_USAGE;

	const struct option opts[] = {
		OPT_CHOICE('f', "format", &o.format, "FORMAT", "output format: text (default), json or markdown",
			   format_choices),
		OPT_BOOL(0, "json", &o.json, "the same as --format json"),
		OPT_DOUBLE('t', "threshold", &o.threshold, "PCT",
			   "hotspots need this share of the total, in percent (default 5)", 0, 100),
		OPT_INT('n', "top", &o.top, "N", "show at most N functions per table (default 20)", 1, 1000000),
		OPT_BOOL('d', "detailed", &o.detailed, "callers, callees and source lines of each hotspot"),
		OPT_STRING(0, "type", &o.type, "TYPE",
			   "input format: perf, pprof, folded, py-spy, speedscope, cpuprofile, ... (default: detect)"),
		OPT_STRING(0, "value", &o.value, "TYPE",
			   "value column to analyse, e.g. cpu, samples, alloc_space (default: the profile's default)"),
		OPT_STRING('o', "output", &o.output, "FILE", "write the report to FILE (atomically) instead of stdout (.json, .md: that format unless --format)"),
		OPT_END(),
	};

	argc = parse_options(argc, argv, opts, &analyze_help, 0);
	if (argc == PARSE_HELP)
		return EXIT_OK;
	if (argc < 0)
		return EXIT_USAGE;
	if (argc < 1)
		return usage_error(&analyze_help, "analyze needs a profile FILE");
	if (check_format(&o))
		return EXIT_USAGE;
	if (o.type && !format_type_known(o.type)) {
		format_type_unknown(o.type, &e);
		error_msg("%s", e.msg);
		return EXIT_USAGE;
	}
	n = (size_t)argc;
	if (check_stdin(argv, n))
		return EXIT_USAGE;

	ps = xcalloc(n, sizeof(*ps));
	fmts = xcalloc(n, sizeof(*fmts));
	if (load_all(ps, fmts, argv, n, o.type))
		goto out;
	d.format = o.format ? (enum analyze_doc_format)analyze_doc_format_named(o.format) : ANALYZE_DOC_TEXT;
	d.color = !o.output && use_color(1);
	d.threshold = o.threshold;
	d.top = (size_t)o.top;
	d.detailed = o.detailed;
	d.value = o.value;
	d.files = (const char *const *)argv;
	d.formats = fmts;
	if (analyze_document(ps, n, &d, &out, &saturated, &e)) {
		error_msg("%s", e.msg);
		goto out;
	}
	if (saturated)
		warning_msg("totals saturated at 2^63-1; shares are approximate");
	/* "-" (the default) is stdout; a file is written atomically. */
	if (afile_write_all(o.output ? o.output : "-", out.buf, out.len, &e)) {
		error_msg("%s", e.msg);
		goto out;
	}
	ret = EXIT_OK;
out:
	for (size_t i = 0; ps && i < n; i++)
		profile_free(ps[i]);
	free(ps);
	free(fmts);
	buf_release(&out);
	return ret;
}
