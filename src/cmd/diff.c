/* kiln diff: parses the options, reads both profiles, and sends the report (analyze/diff.h) and graph to their files. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../analyze/diff.h"
#include "../core/atomicfile.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/options.h"
#include "../core/util.h"
#include "../formats/format.h"
#include "../profile/profile.h"
#include "../render/diff_graph.h"
#include "cmds.h"

struct diff_cmd_opts {
	const char *output;
	const char *format;
	bool json;
	int basis;
	const char *type;
	const char *value;
	double alpha;
	const char *correction;
	bool inclusive;
	double min_delta;
	long long top;
	const char *title;
	const char *report;
};

static const char *const format_choices[] = { "text", "json", "markdown", NULL };
static const char *const correction_choices[] = { "holm", "bh", "none", NULL };

static const struct cmd_help diff_help = {
	.name = "diff",
	.usage = "kiln diff BEFORE AFTER [-o diff.svg] [--format text|json|markdown] [--absolute|--normalize]",
	.description = "Compares two profiles of the same program (any readable formats, detected from content). "
		       "Prints each side's total and cost (CPU time, bytes, samples) and the overall ratio ('8.00x "
		       "less CPU time'), then the functions that changed most, with the change of their cost and of "
		       "their share. Which changes are significant is decided on one basis, printed with the report: "
		       "--absolute compares each function's cost (a Poisson rate test), --normalize its share of the "
		       "total (a two-proportion test, Fisher's exact test for small counts); files are compared by "
		       "share unless --absolute is given (kiln profile --diff, which runs both commands to their end, "
		       "compares absolute cost). The p-values are adjusted for testing many functions at once (Holm by "
		       "default, or Benjamini-Hochberg), so that run-to-run noise is labelled as noise; comparing a "
		       "profile with itself marks nothing significant. With -o, also writes a differential flame graph "
		       "of AFTER: frames whose own cost grew are red, frames that shrank blue, on the same basis "
		       "(shares: BEFORE scaled to AFTER's total, difffolded.pl -n); tooltips give both sides and the "
		       "change of the whole subtree. An -o path ending in .folded or .txt gets difffolded.pl's "
		       "two-column text instead.",
	.examples = "kiln diff before.folded after.folded\n"
		    "kiln diff base.pb.gz new.pb.gz -o diff.svg\n"
		    "kiln diff --absolute slow.pb.gz fast.pb.gz\n"
		    "kiln diff base.perf new.perf --format json > diff.json\n"
		    "kiln diff base.pb.gz new.pb.gz --correction bh --alpha 0.01 --inclusive\n"
		    "kiln diff a.folded b.folded -o diff.folded && flamegraph.pl diff.folded > diff.svg",
};

static int load(struct profile *p, const char *path, const char *type, struct err *e)
{
	if (profile_load(p, path, type, NULL, NULL, e))
		return -1;
	if (profile_is_empty(p, -1))
		return err_set(e, "no samples in '%s'", strcmp(path, "-") ? path : "<stdin>");
	print_read_warnings(p, path);
	return 0;
}

static int set_absolute(const struct option *opt, const char *arg, struct err *e)
{
	*(int *)opt->value = DIFF_BASIS_ABSOLUTE;
	return 0;
}

static int set_shares(const struct option *opt, const char *arg, struct err *e)
{
	*(int *)opt->value = DIFF_BASIS_SHARES;
	return 0;
}

/* The checks parse_options() cannot make; -o FILE.json or FILE.md asks for the table. A usage error's status or 0. */
static int check_options(struct diff_cmd_opts *o, int argc, char **argv)
{
	struct err e = ERR_INIT;

	if (argc != 2)
		return usage_error(&diff_help, "diff needs two profiles, BEFORE and AFTER (got %d)", argc);
	if (o->json && o->format && strcmp(o->format, "json"))
		return usage_error(&diff_help, "--json contradicts --format %s", o->format);
	if (!strcmp(argv[0], "-") && !strcmp(argv[1], "-"))
		return usage_error(&diff_help, "only one of BEFORE and AFTER can be stdin");
	if (o->type && !format_type_known(o->type)) {
		format_type_unknown(o->type, &e);
		error_msg("%s", e.msg);
		return EXIT_USAGE;
	}
	/* the extension picks the format */
	if (o->output && !o->report) {
		const char *f = report_format_for_path(o->output);

		if (f && strcmp(f, "html")) {
			o->report = o->output;
			o->output = NULL;
			if (!o->format && !o->json)
				o->format = f;
		}
	}
	return 0;
}

int cmd_diff(int argc, char **argv)
{
	struct diff_cmd_opts o = { .basis = DIFF_BASIS_AUTO, .alpha = 0.05, .top = 20 };
	struct diff_opts dopts = DIFF_OPTS_INIT;
	struct diff_plan plan;
	struct diff_report_opts ro = { { NULL, NULL }, NULL, 20, false };
	struct profile *before = NULL, *after = NULL;
	struct diff_result d;
	bool computed = false, json, md;
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	int ret = EXIT_USAGE;

	const struct option opts[] = {
		OPT_STRING('o', "output", &o.output, "FILE",
			   "write the differential flame graph to FILE (.svg; .folded/.txt: two-column folded text; "
			   ".json/.md: the table instead, as --report)"),
		OPT_CHOICE('f', "format", &o.format, "FORMAT", "table format: text (default), json or markdown",
			   format_choices),
		OPT_BOOL(0, "json", &o.json, "the same as --format json"),
		OPT_CALLBACK(0, "absolute", &o.basis, NULL,
			     "judge changes by absolute cost (time, bytes, samples): for whole runs of one command",
			     OPT_NOARG, set_absolute),
		OPT_CALLBACK(0, "normalize", &o.basis, NULL,
			     "judge changes by share of each side's total (the default for files; difffolded.pl -n)",
			     OPT_NOARG, set_shares),
		OPT_CALLBACK(0, "no-normalize", &o.basis, NULL, NULL, OPT_NOARG | OPT_HIDDEN, set_absolute),
		OPT_STRING(0, "type", &o.type, "TYPE", "input format of both files (default: detect from content)"),
		OPT_STRING(0, "value", &o.value, "TYPE", "value column to compare (default: samples, else the default)"),
		OPT_DOUBLE(0, "alpha", &o.alpha, "P", "significance level after correction (default 0.05)", 1e-12, 0.5),
		OPT_CHOICE(0, "correction", &o.correction, "METHOD",
			   "multiple-comparison correction: holm (default), bh (Benjamini-Hochberg) or none",
			   correction_choices),
		OPT_BOOL(0, "inclusive", &o.inclusive, "test total (inclusive) shares instead of self shares"),
		OPT_DOUBLE(0, "min-delta", &o.min_delta, "PCT",
			   "a significant change must also move the share by PCT points (default 0)", 0, 100),
		OPT_INT('n', "top", &o.top, "N", "list the N largest changes (default 20)", 1, 1000000),
		OPT_STRING(0, "title", &o.title, "TEXT", "title of the flame graph"),
		OPT_STRING(0, "report", &o.report, "FILE", "write the table to FILE (atomically) instead of stdout"),
		OPT_END(),
	};

	argc = parse_options(argc, argv, opts, &diff_help, 0);
	if (argc == PARSE_HELP)
		return EXIT_OK;
	if (argc < 0)
		return EXIT_USAGE;
	if ((ret = check_options(&o, argc, argv)))
		return ret;
	ret = EXIT_USAGE;
	json = o.json || (o.format && !strcmp(o.format, "json"));
	md = o.format && !strcmp(o.format, "markdown");

	before = profile_new(0);
	after = profile_new(0);
	if (load(before, argv[0], o.type, &e) || load(after, argv[1], o.type, &e)) {
		error_msg("%s", e.msg);
		goto out;
	}
	dopts.basis = (enum diff_basis)o.basis;
	dopts.value = o.value;
	dopts.alpha = o.alpha;
	dopts.correction = o.correction ? (enum diff_correction)diff_correction_by_name(o.correction) : DIFF_HOLM;
	dopts.inclusive = o.inclusive;
	dopts.min_delta = o.min_delta;
	dopts.title = o.title;
	if (diff_compute(before, after, &dopts, &d, &e)) {
		error_msg("cannot compare '%s' and '%s': %s", argv[0], argv[1], e.msg);
		goto out;
	}
	computed = true;
	if (d.saturated)
		warning_msg("totals saturated at 2^63-1; shares are approximate");
	if (o.output && (diff_graph_plan(before, after, &dopts, &plan, &e) ||
			 fg_write_diff(before, after, &plan, o.output, &e))) {
		error_msg("%s", e.msg);
		goto out;
	}

	ro = (struct diff_report_opts){ { argv[0], argv[1] }, o.output, (size_t)o.top, !o.report && use_color(1) };
	if (json)
		diff_report_json(&d, &ro, &out);
	else
		diff_report_text(&d, &ro, md, &out);
	/* "-" (the default) is stdout; a file is written atomically. */
	if (afile_write_all(o.report ? o.report : "-", out.buf, out.len, &e)) {
		error_msg("%s", e.msg);
		goto out;
	}
	ret = EXIT_OK;
out:
	if (computed)
		diff_release(&d);
	profile_free(before);
	profile_free(after);
	buf_release(&out);
	return ret;
}
