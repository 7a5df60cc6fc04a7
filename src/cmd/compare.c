/* kiln compare: compares two benchmark result files and fails (exit 1) on a significant regression. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/compare.h"
#include "bench/report.h"
#include "bench/result.h"
#include "cmds.h"
#include "compare_baseline.h"
#include "core/atomicfile.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/options.h"
#include "core/util.h"
#include "core/xalloc.h"

struct compare_opts {
	double alpha, threshold, confidence;
	const char *test, *format, *output, *html, *markdown, *json;
	const char *baseline_from, *branch, *machine, *profile;
	bool fail, no_fail;
	struct opt_list metrics;
};

static const char *const test_choices[] = { "welch", "mannwhitney", "mann-whitney", "utest", NULL };
static const char *const format_choices[] = { "text", "json", "markdown", NULL };

static const struct cmd_help compare_help = {
	.name = "compare",
	.usage = "kiln compare BASELINE CURRENT [OPTIONS]",
	.description =
		"Compares benchmark results of a baseline and a current version and exits 1 when a benchmark "
		"regressed: its change is statistically significant (p < --alpha) and beyond the threshold in the "
		"worse direction (slower, or less throughput). Inputs are detected from their content: kiln and "
		"hyperfine JSON, Google Benchmark JSON, pytest-benchmark JSON, 'go test -bench' text output, and "
		"Criterion.rs estimates.json, sample.json or a target/criterion directory. Benchmarks are paired "
		"by name and metric. Welch's t-test is the default (from summary statistics when the raw samples "
		"are absent); --test mannwhitney uses the Mann-Whitney U test on medians. '~' means no significant "
		"change. Exit status: 0 no regression, 1 regression, 2 usage or input error.",
	.examples = "kiln compare baseline.json current.json\n"
		    "kiln compare baseline.json current.json --html report.html\n"
		    "kiln compare baseline.json current.json --fail-on-regression\n"
		    "kiln compare baseline.json current.json --regression-threshold 0.10\n"
		    "kiln compare old.txt new.txt --threshold 2% --test mannwhitney   # go test -bench -count 10\n"
		    "kiln compare base.json head.json --format markdown > comment.md\n"
		    "kiln compare base.json head.json --format json --no-fail | jq '.benchmarks[].p'",
};

/* "10%" is a percentage, "0.10" a fraction. */
static int parse_threshold(const struct option *opt, const char *arg, struct err *e)
{
	size_t len = strlen(arg);
	double v;

	if (len && arg[len - 1] == '%') {
		char *num = xstrndup(arg, len - 1);
		int r = parse_double(num, 0, 1e6, opt->long_name[0] == 't' ? "--threshold" : "--regression-threshold",
				     &v, e);

		free(num);
		if (r)
			return -1;
		v /= 100;
	} else {
		if (parse_double(arg, 0, 1e6, opt->long_name[0] == 't' ? "--threshold" : "--regression-threshold", &v,
				 e))
			return -1;
		if (v >= 1)
			return err_set(e, "--%s '%s' is not a fraction: write 0.10 or 10%%", opt->long_name, arg);
	}
	*(double *)opt->value = v;
	return 0;
}

static int write_report(const char *path, const struct buf *b, struct err *e)
{
	return afile_write_all(path, b->buf, b->len, e);
}

static int compare_with_history(struct compare_opts *o, int argc, char **argv);

/* Reads BASELINE and CURRENT, their importers' warnings on stderr. Prints the error and returns -1. */
static int import_sets(struct bench_set *base, struct bench_set *cur, char **argv)
{
	struct err e = ERR_INIT;

	if (bench_import_path(base, argv[0], &e) || bench_import_path(cur, argv[1], &e)) {
		error_msg("%s", e.msg);
		return -1;
	}
	for (size_t i = 0; i < base->nwarnings; i++)
		warning_msg("'%s': %s", argv[0], base->warnings[i]);
	for (size_t i = 0; i < cur->nwarnings; i++)
		warning_msg("'%s': %s", argv[1], cur->warnings[i]);
	return 0;
}

/* The reports: --html, --markdown and --json files, then the main one on stdout or -o FILE. -1 with `e` set
 * when one cannot be written. */
static int write_reports(struct compare_opts *o, const struct cmp_result *res, const struct cmp_labels *labels,
			 struct err *e)
{
	struct buf out = BUF_INIT;
	int ret = -1;

	if (o->html) {
		cmp_report_html(&out, res, labels);
		if (write_report(o->html, &out, e))
			goto out;
		buf_reset(&out);
	}
	if (o->markdown) {
		cmp_report_markdown(&out, res, labels);
		if (write_report(o->markdown, &out, e))
			goto out;
		buf_reset(&out);
	}
	if (o->json) {
		cmp_report_json(&out, res, labels);
		if (write_report(o->json, &out, e))
			goto out;
		buf_reset(&out);
	}
	/* -o FILE without --format: the extension picks it (.json, .md, .html), as everywhere in kiln */
	if (!o->format)
		o->format = o->output && report_format_for_path(o->output) ? report_format_for_path(o->output) : "text";
	if (!strcmp(o->format, "json"))
		cmp_report_json(&out, res, labels);
	else if (!strcmp(o->format, "markdown"))
		cmp_report_markdown(&out, res, labels);
	else if (!strcmp(o->format, "html"))
		cmp_report_html(&out, res, labels);
	else
		cmp_report_text(&out, res, labels, !o->output && use_color(1));
	if (o->output) {
		if (write_report(o->output, &out, e))
			goto out;
	} else {
		fwrite(out.buf, 1, out.len, stdout);
	}
	ret = 0;
out:
	buf_release(&out);
	return ret;
}

int cmd_compare(int argc, char **argv)
{
	struct compare_opts o = { .alpha = 0.05, .threshold = 0.05, .confidence = 0.95, .test = "welch",
				  .format = NULL, .fail = true };
	struct bench_set base = BENCH_SET_INIT, cur = BENCH_SET_INIT;
	struct cmp_opts co = CMP_OPTS_INIT;
	struct cmp_result res;
	struct cmp_labels labels;
	struct err e = ERR_INIT;
	const char **metrics = NULL;
	int ret = EXIT_USAGE;
	bool have_res = false;

	const struct option opts[] = {
		OPT_GROUP("Decision"),
		OPT_DOUBLE(0, "alpha", &o.alpha, "P", "significance level (default 0.05)", 1e-300, 0.5),
		OPT_CALLBACK(0, "threshold", &o.threshold, "T",
			     "smallest relative change that counts: 0.10 or 10% (default 5%)", 0, parse_threshold),
		OPT_CALLBACK(0, "regression-threshold", &o.threshold, "T", "the same as --threshold", 0,
			     parse_threshold),
		OPT_CHOICE(0, "test", &o.test, "TEST", "welch (default) or mannwhitney", test_choices),
		OPT_DOUBLE(0, "confidence", &o.confidence, "LEVEL",
			   "level of the confidence intervals shown (default 0.95)", 0.5, 0.9999),
		OPT_LIST(0, "metric", &o.metrics, "NAME",
			 "compare only this metric (time, cpu, B/op, ...); repeatable"),
		OPT_BOOL(0, "fail-on-regression", &o.fail, "exit 1 when a regression is found (the default)"),
		OPT_BOOL(0, "no-fail", &o.no_fail, "exit 0 even when a regression is found", OPT_NONEG),
		OPT_GROUP("Baseline from a benchmark history (kiln push-bench, kiln bench --history)"),
		OPT_STRING(0, "baseline-from", &o.baseline_from, "DIR|URL",
			   "the baseline is the latest run of --branch in the history DIR or on kiln serve at URL; give "
			   "only CURRENT"),
		OPT_STRING(0, "branch", &o.branch, "NAME", "the baseline's branch (default main)"),
		OPT_STRING(0, "machine", &o.machine, "NAME", "only runs of this machine"),
		OPT_STRING(0, "profile", &o.profile, "FILE",
			   "CURRENT's CPU profile: the comment lists the top changed functions against the baseline's"),
		OPT_GROUP("Output"),
		OPT_CHOICE(0, "format", &o.format, "FMT", "stdout report: text (default), json or markdown",
			   format_choices),
		OPT_STRING('o', "output", &o.output, "FILE", "write the stdout report to FILE instead (.json, .md, .html: that format unless --format)"),
		OPT_STRING(0, "html", &o.html, "FILE", "also write a self-contained HTML report with charts"),
		OPT_STRING(0, "markdown", &o.markdown, "FILE", "also write the Markdown table to FILE"),
		OPT_STRING(0, "json", &o.json, "FILE", "also write the JSON report to FILE"),
		OPT_END(),
	};

	argc = parse_options(argc, argv, opts, &compare_help, 0);
	if (argc == PARSE_HELP) {
		ret = EXIT_OK;
		goto out;
	}
	if (argc < 0)
		goto out;
	if (o.baseline_from) {
		ret = compare_with_history(&o, argc, argv);
		goto out;
	}
	if (argc != 2) {
		ret = usage_error(&compare_help, argc < 2 ? "compare needs a BASELINE and a CURRENT file"
							  : "compare takes two files, BASELINE and CURRENT");
		goto out;
	}
	if (!strcmp(argv[0], "-") && !strcmp(argv[1], "-")) {
		ret = usage_error(&compare_help, "only one of BASELINE and CURRENT can be '-' (stdin)");
		goto out;
	}
	if (import_sets(&base, &cur, argv))
		goto out;
	co.test = strcmp(o.test, "welch") ? CMP_MANNWHITNEY : CMP_WELCH;
	co.alpha = o.alpha;
	co.threshold = o.threshold;
	co.confidence = o.confidence;
	if (o.metrics.nr) {
		metrics = calloc(o.metrics.nr + 1, sizeof(*metrics));
		if (!metrics)
			goto out;
		memcpy(metrics, o.metrics.v, o.metrics.nr * sizeof(*metrics));
		co.metrics = metrics;
	}
	if (cmp_run(&base, &cur, &co, &res, &e)) {
		error_msg("%s", e.msg);
		goto out;
	}
	have_res = true;
	if (!res.nr) {
		error_msg("no benchmark of '%s' is in '%s' (nothing to compare)", argv[0], argv[1]);
		goto out;
	}
	labels = (struct cmp_labels){ argv[0], base.format, argv[1], cur.format, &base, &cur };
	if (write_reports(&o, &res, &labels, &e)) {
		error_msg("%s", e.msg);
		goto out;
	}
	ret = res.regressions && o.fail && !o.no_fail ? EXIT_VERDICT : EXIT_OK;
out:
	if (have_res)
		cmp_result_release(&res);
	bench_set_release(&base);
	bench_set_release(&cur);
	free(metrics);
	free(o.metrics.v);
	return ret;
}

/* --baseline-from DIR|URL: CURRENT against the latest stored run of a branch; Markdown is a pull-request comment. */
static int compare_with_history(struct compare_opts *o, int argc, char **argv)
{
	struct baseline base;
	struct bench_set cur = BENCH_SET_INIT;
	struct cmp_opts co = CMP_OPTS_INIT;
	struct cmp_result res;
	struct cmp_labels labels;
	struct buf out = BUF_INIT, fns = BUF_INIT;
	struct err e = ERR_INIT;
	const char *fmt;
	bool loaded = false, have_res = false;
	int ret = EXIT_USAGE;

	if (argc != 1)
		return usage_error(&compare_help, "with --baseline-from, give only the CURRENT file (got %d)", argc);
	if (o->metrics.nr)
		return usage_error(&compare_help, "--metric is not supported with --baseline-from");
	if (baseline_load(&base, o->baseline_from, o->branch ? o->branch : "main", o->machine, &e))
		goto fail;
	loaded = true;
	if (bench_import_path(&cur, argv[0], &e))
		goto fail;
	co.test = strcmp(o->test, "welch") ? CMP_MANNWHITNEY : CMP_WELCH;
	co.alpha = o->alpha;
	co.threshold = o->threshold;
	co.confidence = o->confidence;
	if (cmp_run(&base.set, &cur, &co, &res, &e))
		goto fail;
	have_res = true;
	if (!res.nr) {
		error_msg("no benchmark of the baseline %s is in '%s' (nothing to compare)", base.desc, argv[0]);
		goto out;
	}
	labels = (struct cmp_labels){ base.desc, base.set.format, argv[0], cur.format, &base.set, &cur };
	fmt = o->format ? o->format : o->output && report_format_for_path(o->output) ?
			  report_format_for_path(o->output) : "text";
	if (o->profile && !base.profile)
		warning_msg("the baseline %s has no stored profile: no function table", base.desc);
	else if (o->profile && baseline_functions_md(base.profile, o->profile, 10, &fns, &e))
		goto fail;
	if (!strcmp(fmt, "markdown"))
		cmp_report_pr(&out, &res, &labels, base.desc, fns.buf);
	else if (!strcmp(fmt, "json"))
		cmp_report_json(&out, &res, &labels);
	else if (!strcmp(fmt, "html"))
		cmp_report_html(&out, &res, &labels);
	else
		cmp_report_text(&out, &res, &labels, !o->output && use_color(1));
	if (o->markdown) {
		struct buf md = BUF_INIT;
		int w;

		cmp_report_pr(&md, &res, &labels, base.desc, fns.buf);
		w = write_report(o->markdown, &md, &e);
		buf_release(&md);
		if (w)
			goto fail;
	}
	if (write_report(o->output ? o->output : "-", &out, &e))
		goto fail;
	ret = res.regressions && o->fail && !o->no_fail ? EXIT_VERDICT : EXIT_OK;
	goto out;
fail:
	error_msg("%s", e.msg);
out:
	if (have_res)
		cmp_result_release(&res);
	if (loaded)
		baseline_release(&base);
	bench_set_release(&cur);
	buf_release(&out);
	buf_release(&fns);
	return ret;
}
