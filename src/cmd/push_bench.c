/* kiln push-bench: stores benchmark result files of any format kiln reads in a benchmark history. */
#include <stdio.h>
#include <stdlib.h>

#include "bench/result.h"
#include "bench_history.h"
#include "cmds.h"
#include "core/err.h"
#include "core/options.h"
#include "core/util.h"

static const struct cmd_help push_bench_help = {
	.name = "push-bench",
	.usage = "kiln push-bench FILE (--history DIR | --push URL) --commit SHA --branch NAME [OPTIONS]",
	.description =
		"Stores a benchmark result file in a benchmark history directory (one JSON file per run under "
		"DIR/runs/, never rewritten: commit the directory to a branch such as gh-pages), or in kiln serve "
		"with --push URL (both may be given). Every format "
		"'kiln compare' reads is accepted, detected from content: kiln and hyperfine JSON, Google Benchmark "
		"JSON, pytest-benchmark JSON, 'go test -bench' output and Criterion.rs files or directories. The raw "
		"samples are kept with their units, or the summary when the input has only that. --profile stores a "
		"CPU profile (any format kiln reads) with the run, for the differential flame graph of a regression. "
		"'kiln trend DIR|URL' draws the history; 'kiln compare --baseline-from DIR|URL' compares against it. "
		"With --push, $KILN_TOKEN is sent as a Bearer token and $KILN_TENANT as the tenant (X-Scope-OrgID).",
	.examples = "kiln push-bench bench.json --history perf-history --commit $(git rev-parse HEAD) --branch main\n"
		    "go test -bench . -count 10 > go.txt && kiln push-bench go.txt --history h --branch main --commit abc\n"
		    "kiln push-bench hf.json --history h --commit abc --branch main --profile cpu.pb.gz\n"
		    "kiln push-bench bench.json --push http://kiln:4040 --commit abc --branch main",
};

int cmd_push_bench(int argc, char **argv)
{
	struct hist_cli h = HIST_CLI_INIT;
	struct bench_set set = BENCH_SET_INIT;
	const char *profile = NULL;
	struct err e = ERR_INIT;
	size_t i;
	int ret = EXIT_USAGE;

	const struct option opts[] = {
		HIST_CLI_OPTIONS(&h),
		OPT_STRING(0, "profile", &profile, "FILE", "a CPU profile of the benchmarked program, stored with the run"),
		OPT_END(),
	};

	argc = parse_options(argc, argv, opts, &push_bench_help, 0);
	if (argc == PARSE_HELP) {
		ret = EXIT_OK;
		goto out;
	}
	if (argc < 0)
		goto out;
	if (argc != 1) {
		ret = usage_error(&push_bench_help, "push-bench needs one result FILE (got %d)", argc);
		goto out;
	}
	if (!h.dir && !h.push) {
		ret = usage_error(&push_bench_help, "push-bench needs --history DIR or --push URL");
		goto out;
	}
	if ((ret = hist_cli_check(&h, &push_bench_help)))
		goto out;
	ret = EXIT_USAGE;
	if (bench_import_path(&set, argv[0], &e)) {
		error_msg("%s", e.msg);
		goto out;
	}
	bench_set_finish(&set);
	for (i = 0; i < set.nwarnings; i++)
		warning_msg("%s", set.warnings[i]);
	if (!set.nr) {
		error_msg("no benchmark results in '%s'", argv[0]);
		goto out;
	}
	ret = hist_cli_push(&h, &set, profile);
out:
	bench_set_release(&set);
	hist_cli_release(&h);
	return ret;
}
