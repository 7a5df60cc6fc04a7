/* kiln trend: draws a benchmark history with its change points and the profile diff behind each regression. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/history.h"
#include "bench/trend.h"
#include "cmds.h"
#include "core/atomicfile.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/options.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "formats/format.h"
#include "server/bench_diff.h"
#include "server/ui.h"

struct trend_cmd_opts {
	const char *output, *format, *branch, *machine, *commit_url;
	long long window, top;
	double alpha, threshold;
	bool no_graphs, fail, all_metrics;
};

static const char *const format_choices[] = { "html", "json", "text", NULL };

static const struct cmd_help trend_help = {
	.name = "trend",
	.usage = "kiln trend DIR|URL [-o report.html] [OPTIONS]",
	.description =
		"Reads a benchmark history, a directory (kiln bench --history, kiln push-bench) or the runs stored in "
		"kiln serve at URL (--push), and finds the change "
		"points of every benchmark per branch and machine: a sliding-window Mann-Whitney U test on the runs' "
		"medians (--window runs per side, p < --alpha) with a minimum effect size (--threshold, the alert "
		"threshold). A change in the worse direction is a regression. When the last good and the first bad "
		"run both stored a profile, the regression links to their differential flame graph and per-function "
		"table (kiln diff). -o FILE.html writes a self-contained page (no request to any host): one chart per "
		"benchmark over commits with the confidence band of each run's median, the change points, the "
		"threshold, links to the commits (--commit-url) and filters by branch and machine. Without -o a text "
		"summary of the change points is printed. Exit status: 0, or 1 with --fail-on-regression when the "
		"latest change of a series is a regression.",
	.examples = "kiln trend http://kiln.example:4040 --branch main -o trend.html\n"
		    "kiln trend perf-history -o trend.html --commit-url 'https://github.com/o/r/commit/{commit}'\n"
		    "kiln trend perf-history --branch main --format json | jq '.series[].changes'\n"
		    "kiln trend perf-history --threshold 3% --window 10",
};

/* "5%" is a percentage, "0.05" a fraction. */
static int parse_fraction(const struct option *opt, const char *arg, struct err *e)
{
	size_t len = strlen(arg);
	char *num = xstrndup(arg, len && arg[len - 1] == '%' ? len - 1 : len);
	double v;
	int r = parse_double(num, 0, len && arg[len - 1] == '%' ? 1e4 : 100, "--threshold", &v, e);

	free(num);
	if (r)
		return -1;
	*(double *)opt->value = len && arg[len - 1] == '%' ? v / 100 : v;
	return 0;
}

static void format_text(const struct hist *h, const struct trend *t, struct buf *out)
{
	size_t i, k;

	buf_addf(out, "%zu runs, %zu series, %zu regression%s, %zu improvement%s (window %zu, alpha %g, threshold %g%%)\n",
		 h->nr, t->nr, t->regressions, t->regressions == 1 ? "" : "s", t->improvements,
		 t->improvements == 1 ? "" : "s", t->cp.window, t->cp.alpha, t->cp.min_effect * 100);
	for (i = 0; i < t->nr; i++) {
		const struct trend_series *s = &t->v[i];

		for (k = 0; k < s->nch; k++) {
			const struct trend_change *c = &s->ch[k];

			buf_addf(out, "%s  %s [%s] %s@%s  %.12s..%.12s  %+.1f%%  p=%.2g",
				 c->regression ? "REGRESSION " : c->improvement ? "improvement" : "change     ", s->name,
				 s->metric, s->branch, s->machine, h->v[c->good].commit, h->v[c->bad].commit,
				 c->cp.change * 100, c->cp.p);
			if (c->nfns)
				buf_addf(out, "  top: %s %+.2f pp", c->fns[0].name, c->fns[0].delta_pct);
			buf_addch(out, '\n');
		}
	}
}

/* The latest change of some series is a regression: what --fail-on-regression gates on. */
static bool latest_regressed(const struct trend *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		if (t->v[i].nch && t->v[i].ch[t->v[i].nch - 1].regression)
			return true;
	return false;
}

int cmd_trend(int argc, char **argv)
{
	struct trend_cmd_opts o = { .window = 8, .top = 10, .alpha = 0.001, .threshold = 0.05 };
	struct trend_opts to = TREND_OPTS_INIT;
	struct hist h = HIST_INIT;
	struct trend t;
	bool computed = false;
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	const char *fmt;
	int ret = EXIT_USAGE;

	const struct option opts[] = {
		OPT_STRING('o', "output", &o.output, "FILE", "write the report to FILE (.html page, .json)"),
		OPT_CHOICE(0, "format", &o.format, "FMT", "html, json or text (default: from -o, else text)",
			   format_choices),
		OPT_STRING(0, "branch", &o.branch, "NAME", "only the runs of this branch"),
		OPT_STRING(0, "machine", &o.machine, "NAME", "only the runs of this machine"),
		OPT_STRING(0, "commit-url", &o.commit_url, "TEMPLATE",
			   "link commits: {commit} is replaced by the hash (e.g. https://github.com/o/r/commit/{commit})"),
		OPT_INT(0, "window", &o.window, "N", "runs on each side of a split (default 8)", 2, 1000),
		OPT_DOUBLE(0, "alpha", &o.alpha, "P", "significance level of a split (default 0.001)", 1e-12, 0.5),
		OPT_CALLBACK(0, "threshold", &o.threshold, "FRACTION",
			     "alert threshold: the smallest change reported (default 5%)", 0, parse_fraction),
		OPT_INT(0, "top", &o.top, "N", "functions listed per regression (default 10)", 1, 10000),
		OPT_BOOL(0, "no-graphs", &o.no_graphs, "leave the differential flame graphs out of the page"),
		OPT_BOOL(0, "all-metrics", &o.all_metrics, "also the secondary metrics (user, system, max-rss)"),
		OPT_BOOL(0, "fail-on-regression", &o.fail, "exit 1 when the latest change of a series is a regression"),
		OPT_END(),
	};

	argc = parse_options(argc, argv, opts, &trend_help, 0);
	if (argc == PARSE_HELP)
		return EXIT_OK;
	if (argc < 0)
		return EXIT_USAGE;
	if (argc != 1)
		return usage_error(&trend_help, "trend needs one history DIR or URL (got %d)", argc);
	if (o.commit_url && !strstr(o.commit_url, "{commit}"))
		return usage_error(&trend_help, "--commit-url '%s' has no {commit}", o.commit_url);
	fmt = o.format ? o.format : o.output ? report_format_for_path(o.output) : "text";
	if (!fmt || !strcmp(fmt, "markdown"))
		fmt = o.output ? "html" : "text";
	to.cp.window = (size_t)o.window;
	to.cp.alpha = o.alpha;
	to.cp.min_effect = o.threshold;
	to.branch = o.branch;
	to.machine = o.machine;
	to.top_functions = (size_t)o.top;
	to.graphs = !o.no_graphs && strcmp(fmt, "text");
	to.all_metrics = o.all_metrics;
	to.diff = bench_diff_files;
	if (hist_open(&h, argv[0], o.branch, &e) || trend_compute(&h, &to, &t, &e)) {
		error_msg("%s", e.msg);
		goto out;
	}
	computed = true;
	if (!strcmp(fmt, "html"))
		trend_format_html(&h, &t, o.commit_url, (const char *)ui_asset_find("/js/trendchart.js")->data, &out);
	else if (!strcmp(fmt, "json")) {
		trend_format_json(&h, &t, o.commit_url, to.graphs, &out);
		buf_addch(&out, '\n');
	} else
		format_text(&h, &t, &out);
	if (afile_write_all(o.output ? o.output : "-", out.buf, out.len, &e)) {
		error_msg("%s", e.msg);
		goto out;
	}
	ret = o.fail && latest_regressed(&t) ? 1 : EXIT_OK;
out:
	if (computed)
		trend_release(&t);
	hist_release(&h);
	buf_release(&out);
	return ret;
}
