/*
 * kiln pgo compare: kiln bench's runner runs the baseline and the optimized builds round-robin, and each
 * optimized build's speed-up is the median of its per-round ratios to the baseline (src/pgo/speedup.h). CPU time
 * (user + system) is the cost by default: on a loaded machine the wall time mostly measures the other load.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/runner.h"
#include "../core/atomicfile.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/options.h"
#include "../core/progress.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../pgo/speedup.h"
#include "cmds.h"
#include "pgo_compare.h"

#define LEVEL 0.95

static const struct cmd_help compare_help = {
	.name = "pgo compare",
	.usage = "kiln pgo compare [--runs N] [-n NAME]... [--wall] [--export-markdown FILE] [--export-json FILE] "
		 "BASELINE OPTIMIZED...",
	.description = "Benchmarks the baseline against one or more profile-guided builds: the shell command lines "
		       "(the same workload on each build) run interleaved, one run of each per round, after one "
		       "warm-up round. Each round gives the ratio of the baseline's CPU time (user + system; --wall: "
		       "elapsed time) to the build's; the speed-up is the median of those ratios, with its 95 % "
		       "distribution-free interval and the rounds' quartiles as the spread. The verdict is 'faster' "
		       "or 'slower' when the interval excludes no change. --export-markdown writes the table for a "
		       "CI comment; --export-json every run in hyperfine's schema (kiln compare reads it).",
	.examples = "kiln pgo compare --runs 30 './app.O2 < w.sql' './app < w.sql'\n"
		    "kiln pgo compare -n -O2 -n PGO -n AutoFDO './O2/app w' './pgo/app w' './afdo/app w'",
};

static double cost(const struct bench_cmd *c, size_t i, bool wall)
{
	return wall ? c->wall[i] : c->user[i] + c->sys[i];
}

static void gains(const struct bench_cmd *cmds, size_t n, bool wall, struct pgo_speedup *s)
{
	size_t rounds = cmds[0].n;
	double *b = xcalloc(rounds + 1, sizeof(*b)), *o = xcalloc(rounds + 1, sizeof(*o));

	for (size_t k = 1; k < n; k++) {
		size_t m = cmds[k].n < rounds ? cmds[k].n : rounds;

		for (size_t i = 0; i < m; i++) {
			b[i] = cost(&cmds[0], i, wall);
			o[i] = cost(&cmds[k], i, wall);
		}
		pgo_speedup(b, o, m, LEVEL, &s[k]);
	}
	free(b);
	free(o);
}

static void print_report(const struct bench_cmd *cmds, size_t n, const struct pgo_speedup *s, bool wall)
{
	double base = NAN;

	if (n > 1)
		base = s[1].base;
	printf("%zu interleaved rounds, %s per run; speed-up = median over rounds of baseline / build - 1\n",
	       cmds[0].n, wall ? "wall time" : "CPU time (user + system)");
	printf("  %-24s median %.4f s\n", bench_cmd_name(&cmds[0]), base);
	for (size_t k = 1; k < n; k++)
		printf("  %-24s median %.4f s  speed-up %+.2f %% (95 %% CI %+.2f %% .. %+.2f %%; rounds' IQR %+.2f %% .. "
		       "%+.2f %%): %s\n",
		       bench_cmd_name(&cmds[k]), s[k].opt, 100 * s[k].gain, 100 * s[k].lo, 100 * s[k].hi, 100 * s[k].q1,
		       100 * s[k].q3, pgo_speedup_verdict(&s[k]));
}

static void markdown(struct buf *b, const struct bench_cmd *cmds, size_t n, const struct pgo_speedup *s, bool wall)
{
	buf_addf(b, "| Build | Median %s (s) | Speed-up | 95 %% CI | Rounds' IQR | Verdict |\n",
		 wall ? "wall time" : "CPU time");
	buf_adds(b, "|:---|---:|---:|---:|---:|:---|\n");
	buf_addf(b, "| `%s` | %.4f | | | | baseline |\n", bench_cmd_name(&cmds[0]), n > 1 ? s[1].base : NAN);
	for (size_t k = 1; k < n; k++)
		buf_addf(b, "| `%s` | %.4f | %+.2f %% | %+.2f %% .. %+.2f %% | %+.2f %% .. %+.2f %% | %s |\n",
			 bench_cmd_name(&cmds[k]), s[k].opt, 100 * s[k].gain, 100 * s[k].lo, 100 * s[k].hi,
			 100 * s[k].q1, 100 * s[k].q3, pgo_speedup_verdict(&s[k]));
}

static int write_out(const char *path, struct buf *b)
{
	struct err e = ERR_INIT;
	int r = afile_write_all(path, b->buf, b->len, &e);

	buf_release(b);
	if (r)
		error_msg("%s", e.msg);
	return r;
}

static void on_progress(void *ctx, size_t done, size_t total)
{
	progress_set_total(ctx, total);
	progress_update(ctx, done);
}

static int measure(struct bench_cmd *cmds, size_t n, size_t runs, char *shell, struct err *e)
{
	struct bench_run_opts ro = { .warmup = 1, .runs = runs, .shell = shell };
	struct progress *prog;
	int r;

	if (bench_calibrate_shell(&ro, 50, e))
		return -1;
	prog = progress_new_count("Benchmarking", 0, "runs");
	r = bench_run(cmds, n, &ro, on_progress, prog, e);
	progress_free(prog);
	return r;
}

int pgo_compare_main(int argc, char **argv)
{
	const char *md = NULL, *json = NULL;
	struct opt_list names = { 0 };
	long long runs = 20;
	bool wall = false;
	struct bench_cmd *cmds = NULL;
	struct pgo_speedup *s = NULL;
	struct err e = ERR_INIT;
	char *shell = NULL;
	int ret = EXIT_USAGE;
	size_t n = 0;
	const struct option opts[] = {
		OPT_INT('r', "runs", &runs, "N", "measured runs of each build (default 20)", 2, 100000000),
		OPT_LIST('n', "name", &names, "NAME", "name the builds in order (default baseline, optimized, ...)"),
		OPT_BOOL(0, "wall", &wall, "compare elapsed times instead of CPU times"),
		OPT_STRING(0, "export-markdown", &md, "FILE", "write a Markdown table (a CI comment)"),
		OPT_STRING(0, "export-json", &json, "FILE", "write every run in hyperfine's JSON schema"),
		OPT_END(),
	};

	argc = parse_options(argc, argv, opts, &compare_help, 0);
	if (argc == PARSE_HELP)
		return EXIT_OK;
	if (argc < 0)
		return EXIT_USAGE;
	if (argc < 2) {
		free(names.v);
		return usage_error(&compare_help, "compare takes at least two command lines: BASELINE and OPTIMIZED");
	}
	if (names.nr > (size_t)argc) {
		free(names.v);
		return usage_error(&compare_help, "%zu names for %d command lines", names.nr, argc);
	}
	shell = bench_find_shell("sh", &e);
	if (!shell) {
		error_msg("%s", e.msg);
		goto out;
	}
	n = (size_t)argc;
	cmds = xcalloc(n, sizeof(*cmds));
	s = xcalloc(n, sizeof(*s));
	for (size_t k = 0; k < n; k++) {
		cmds[k].display = xstrdup(argv[k]);
		if (k < names.nr)
			cmds[k].name = xstrdup(names.v[k]);
		else if (k < 2)
			cmds[k].name = xstrdup(k ? "optimized" : "baseline");
		else {
			char name[32];

			snprintf(name, sizeof(name), "optimized %zu", k);
			cmds[k].name = xstrdup(name);
		}
	}
	if (measure(cmds, n, (size_t)runs, shell, &e)) {
		error_msg("%s", e.msg);
		goto out;
	}
	gains(cmds, n, wall, s);
	print_report(cmds, n, s, wall);
	ret = EXIT_OK;
	if (md) {
		struct buf b = BUF_INIT;

		markdown(&b, cmds, n, s, wall);
		if (write_out(md, &b))
			ret = EXIT_USAGE;
	}
	if (json) {
		struct buf b = BUF_INIT;
		struct bench_export_info info = { .confidence = LEVEL, .shell = shell, .shell_wall = 0 };

		bench_export_json(&b, cmds, n, &info);
		if (write_out(json, &b))
			ret = EXIT_USAGE;
	}
out:
	for (size_t k = 0; k < n; k++)
		bench_cmd_release(&cmds[k]);
	free(cmds);
	free(s);
	free(shell);
	free(names.v);
	return ret;
}
