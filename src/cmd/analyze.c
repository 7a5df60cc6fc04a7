/* kiln analyze: hotspots, hot path and evidence-based recommendations for profiles in any readable format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../analyze/analysis.h"
#include "../analyze/load.h"
#include "../analyze/report.h"
#include "../analyze/runs.h"
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

/*
 * Heap profiles (alloc_space/inuse_space columns) get the heap helper's report (src/analyze/heap_report.h)
 * before the generic analysis of their default column; the CPU rules do not run on memory profiles.
 */
#include "../analyze/heap_report.h"

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

/* The heap report's text, captured from its FILE * printer. */
static int heap_text(struct buf *out, const struct profile *p, const struct heap_report *r, size_t top,
		     struct err *e)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);

	if (!f)
		return err_errno(e, "cannot format the heap report");
	heap_report_print(f, p, r, top);
	if (fclose(f)) {
		free(mem);
		return err_errno(e, "cannot format the heap report");
	}
	buf_add(out, mem, len);
	free(mem);
	return 0;
}

static int print_runs(struct buf *out, struct profile **ps, size_t n, const struct analyze_cmd_opts *o,
		      const char *const *files, struct jw *j, bool md, struct err *e)
{
	struct runs r;

	if (runs_compute(ps, n, o->value, &r, e))
		return -1;
	if (j)
		runs_format_json(&r, j, files, o->threshold, (size_t)o->top);
	else
		runs_format_text(&r, out, files, o->threshold, (size_t)o->top, md);
	runs_release(&r);
	return 0;
}

static size_t hopts_top(const struct analyze_cmd_opts *o)
{
	return (size_t)o->top < 10 ? (size_t)o->top : 10;
}

int cmd_analyze(int argc, char **argv)
{
	struct analyze_cmd_opts o = { .format = NULL, .threshold = 5.0, .top = 20 };
	struct analyze_opts ao = ANALYZE_OPTS_INIT;
	struct profile **ps = NULL, *merged = NULL;
	const char **fmts = NULL;
	struct analysis a;
	bool analysed = false, have_heap = false, json, md;
	struct heap_report heap;
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	struct afile af = { 0 };
	struct jw j;
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
	if (o.json && o.format && strcmp(o.format, "json"))
		return usage_error(&analyze_help, "--json contradicts --format %s", o.format);
	if (o.type && !analyze_type_known(o.type)) {
		analyze_load(NULL, "-", o.type, NULL, &e);
		error_msg("%s", e.msg);
		return EXIT_USAGE;
	}
	/* -o FILE without --format: the extension picks it (.json, .md), as everywhere in kiln */
	if (!o.format && !o.json && o.output) {
		const char *f = report_format_for_path(o.output);

		if (f && strcmp(f, "html"))
			o.format = f;
	}
	json = o.json || (o.format && !strcmp(o.format, "json"));
	md = o.format && !strcmp(o.format, "markdown");
	n = (size_t)argc;
	for (size_t i = 0, nstdin = 0; i < n; i++) {
		if (strcmp(argv[i], "-"))
			continue;
		if (isatty(0))
			return usage_error(&analyze_help, "no input: give a FILE or pipe a profile to kiln analyze -");
		if (++nstdin > 1)
			return usage_error(&analyze_help, "stdin ('-') can be given only once");
	}

	ps = xcalloc(n, sizeof(*ps));
	fmts = xcalloc(n, sizeof(*fmts));
	for (size_t i = 0; i < n; i++) {
		ps[i] = profile_new(0);
		if (analyze_load(ps[i], argv[i], o.type, &fmts[i], &e)) {
			error_msg("%s", e.msg);
			goto out;
		}
		if (profile_is_empty(ps[i], -1)) {
			error_msg("no samples in '%s'", strcmp(argv[i], "-") ? argv[i] : "<stdin>");
			goto out;
		}
		print_read_warnings(ps[i], argv[i]);
	}
	if (n > 1) {
		merged = profile_new(0);
		for (size_t i = 0; i < n; i++)
			if (profile_merge(merged, ps[i], &e)) {
				error_msg("cannot merge '%s': %s", argv[i], e.msg);
				goto out;
			}
	}

	ao.threshold = o.threshold;
	ao.top = (size_t)o.top;
	ao.detailed = o.detailed;
	ao.value = o.value;
	if (analysis_run(merged ? merged : ps[0], &ao, &a, &e)) {
		error_msg("cannot analyse '%s': %s", argv[0], e.msg);
		goto out;
	}
	analysed = true;
	if (a.saturated)
		warning_msg("totals saturated at 2^63-1; shares are approximate");
	if (heap_report_applies(a.p)) {
		struct heap_report_opts hopts = { .top = hopts_top(&o) };

		if (heap_report_compute(a.p, &hopts, &heap, &e)) {
			heap_report_release(&heap);
			error_msg("cannot analyse '%s': %s", argv[0], e.msg);
			goto out;
		}
		have_heap = true;
	}

	if (json) {
		jw_init(&j, &out, true);
		jw_object_begin(&j);
		jw_kv_str(&j, "schema", "kiln-analyze/1");
		jw_key(&j, "files");
		jw_array_begin(&j);
		for (size_t i = 0; i < n; i++)
			jw_string(&j, argv[i]);
		jw_array_end(&j);
		jw_key(&j, "formats");
		jw_array_begin(&j);
		for (size_t i = 0; i < n; i++)
			jw_string(&j, fmts[i]);
		jw_array_end(&j);
		analysis_format_json(&a, &j);
		if (n > 1 && print_runs(&out, ps, n, &o, (const char *const *)argv, &j, false, &e)) {
			error_msg("%s", e.msg);
			goto out;
		}
		/* The heap report's members (peak_bytes, leaks, ...) sit beside the hotspots at the top level. */
		if (have_heap)
			heap_report_json_fields(&j, a.p, &heap, hopts_top(&o));
		jw_object_end(&j);
		buf_addch(&out, '\n');
	} else {
		bool color = !o.output && !md && use_color(1);

		if (md)
			buf_addf(&out, "## kiln analyze: %s\n\n", n == 1 ? argv[0] : "several runs");
		else if (n == 1)
			buf_addf(&out, "%s (%s)\n", argv[0], fmts[0]);
		else
			buf_addf(&out, "%zu profiles merged\n", n);
		if (have_heap) {
			if (heap_text(&out, a.p, &heap, hopts_top(&o), &e)) {
				error_msg("%s", e.msg);
				goto out;
			}
			buf_addf(&out, "\n%s analysis of the %s values:\n", md ? "###" : "Allocation-site",
				 profile_str(a.p, a.p->columns[a.column].type));
		}
		analysis_format_text(&a, &out, color, md);
		if (n > 1 && print_runs(&out, ps, n, &o, (const char *const *)argv, NULL, md, &e)) {
			error_msg("%s", e.msg);
			goto out;
		}
	}

	/* "-" (the default) is stdout; a file is written atomically. */
	if (afile_write_all(o.output ? o.output : "-", out.buf, out.len, &e)) {
		error_msg("%s", e.msg);
		goto out;
	}
	ret = EXIT_OK;
out:
	(void)af;
	if (have_heap)
		heap_report_release(&heap);
	if (analysed)
		analysis_release(&a);
	for (size_t i = 0; ps && i < n; i++)
		profile_free(ps[i]);
	free(ps);
	free(fmts);
	profile_free(merged);
	buf_release(&out);
	return ret;
}
