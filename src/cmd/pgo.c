/*
 * kiln pgo: profile-guided builds. instrument / train / optimize drive GCC or Clang's instrumented PGO
 * (src/pgo/driver.h); sample writes an AutoFDO profile for Clang from a kiln CPU profile; go writes Go's
 * default.pgo. Each sub-command has its own option table and help page.
 */
#include <stdio.h>
#include <string.h>

#include "../core/err.h"
#include "../core/options.h"
#include "../core/util.h"
#include "../pgo/driver.h"
#include "cmds.h"

static const struct cmd_help pgo_help = {
	.name = "pgo",
	.usage = "kiln pgo instrument [--cc gcc|clang] [--dir DIR] -- BUILD_CMD...\n"
		 "kiln pgo train [--dir DIR] -- CMD...\n"
		 "kiln pgo optimize [--dir DIR] [--fail-on-stale] -- BUILD_CMD...\n"
		 "kiln pgo sample PROFILE|- --binary PROG -o OUT.prof\n"
		 "kiln pgo go PROFILE|- [-o default.pgo]",
	.description = "Profile-guided optimisation in three commands. 'instrument' runs your build with the "
		       "profiling flags of GCC or Clang injected (through compiler wrappers first on PATH and in "
		       "CC/CXX), so that profiles land in one directory (.kiln-pgo) under stable names; 'train' runs "
		       "the instrumented program (as often as you like: the runs are merged, and a failed run is "
		       "discarded); 'optimize' rebuilds with the merged profile and reports how much of the program "
		       "the training covered and which functions' profiles no longer match their source. 'sample' "
		       "turns a kiln CPU profile of an ordinary -O2 -g build into an LLVM sample profile for clang "
		       "-fprofile-sample-use (AutoFDO); 'go' writes the default.pgo that 'go build -pgo' reads. "
		       "Run 'kiln pgo SUBCOMMAND --help' for each one's options; docs/pgo.md has the complete flows.",
	.examples = "kiln pgo instrument -- make -B              # build instrumented (clean build: -B)\n"
		    "kiln pgo train -- ./app < workload.txt       # run it; repeat with other workloads\n"
		    "kiln pgo optimize -- make -B                 # rebuild with the merged profile\n"
		    "kiln profile -o cpu.pb.gz ./app && kiln pgo sample cpu.pb.gz --binary ./app -o app.prof\n"
		    "kiln profile -o cpu.pb.gz ./goapp && kiln pgo go cpu.pb.gz -o default.pgo",
};

static const struct cmd_help instrument_help = {
	.name = "pgo instrument",
	.usage = "kiln pgo instrument [--cc gcc|clang|COMPILER] [--dir DIR] [-q] -- BUILD_CMD...",
	.description = "Runs BUILD_CMD with profile generation added to every compilation: GCC gets "
		       "-fprofile-generate=DIR/gen -fprofile-update=atomic (and an empty -dumpdir when a command compiles "
		       "and links, so the profile's name does not depend on -o), Clang gets "
		       "-fprofile-instr-generate=DIR/gen/%m-%p.profraw. The compiler is --cc, else $CC, else cc. The "
		       "build must compile something: use a clean build (make -B). A new instrumented build "
		       "discards the old profile. One line and exit 2 when no compiler is found, the build fails or "
		       "compiles nothing; DIR is then as it was.",
	.examples = "kiln pgo instrument -- make -B\n"
		    "kiln pgo instrument --cc clang -- sh -c 'clang -O2 -o app *.c'",
};

static const struct cmd_help train_help = {
	.name = "pgo train",
	.usage = "kiln pgo train [--dir DIR] [-q] -- CMD...",
	.description = "Runs CMD (the instrumented program, or a script that runs it: every process counts) and "
		       "merges the profile it wrote into DIR/profile. A run that fails (non-zero exit) or writes no "
		       "profile is discarded and reported with exit 2; the profile so far is kept as it was.",
	.examples = "kiln pgo train -- ./app --bench small\n"
		    "kiln pgo train -- './app < queries.sql'",
};

static const struct cmd_help optimize_help = {
	.name = "pgo optimize",
	.usage = "kiln pgo optimize [--dir DIR] [-q] [--fail-on-stale] -- BUILD_CMD...",
	.description = "Rebuilds with the merged profile (GCC -fprofile-use with coverage mismatches as "
		       "warnings, Clang -fprofile-instr-use) and reports the profile's coverage (functions that ran "
		       "in training, of the functions it records) and the compiler's findings: functions whose "
		       "profile no longer matches their source (GCC names them; Clang 14 counts them per file), and "
		       "sources the profile does not know. --fail-on-stale makes stale functions exit 1.",
	.examples = "kiln pgo optimize -- make -B\n"
		    "kiln pgo optimize --fail-on-stale -- make -B   # in CI: refresh the profile when this fails",
};

static int finding_line(const struct pgo_finding *f)
{
	const char *what = f->kind == PGO_STALE ? "stale" : f->kind == PGO_MISSING ? "missing" : "unprofiled";

	printf("  %-10s ", what);
	if (f->file)
		printf("%s%s", f->file, f->line ? "" : ": ");
	if (f->file && f->line)
		printf(":%u: ", f->line);
	if (f->function)
		printf("%s\n", f->function);
	else if (f->kind == PGO_UNPROFILED)
		printf("no profile data for this file\n");
	else if (f->of)
		printf("%u of %u functions\n", f->count, f->of);
	else
		printf("%s\n", f->kind == PGO_MISSING ? "no profile data" : "profile out of date");
	return 0;
}

static void print_optimize(const struct pgo_result *r)
{
	const struct pgo_coverage *c = &r->cov;
	size_t stale = pgo_diag_count(&r->diag, PGO_STALE);

	printf("profile: %s (%s, %zu training run%s)\n", r->profile, pgo_toolchain_name(r->tc), r->runs,
	       r->runs == 1 ? "" : "s");
	printf("build: %zu compilation%s with the profile\n", r->compiles, r->compiles == 1 ? "" : "s");
	printf("coverage: %zu of %zu functions ran in training (%.1f %%)", c->covered, c->functions,
	       c->functions ? 100.0 * (double)c->covered / (double)c->functions : 0.0);
	if (c->objects)
		printf(", %zu object%s", c->objects, c->objects == 1 ? "" : "s");
	printf("\n");
	printf("stale: %zu function%s whose profile no longer matches the source%s\n", stale, stale == 1 ? "" : "s",
	       stale ? " (ignored by the compiler: train again)" : "");
	for (size_t i = 0; i < r->diag.nr; i++)
		finding_line(&r->diag.v[i]);
}

static int run_step(int argc, char **argv, const struct cmd_help *help, int step)
{
	struct pgo_opts o = { 0 };
	struct pgo_result r = { 0 };
	struct err e = ERR_INIT;
	bool fail_on_stale = false;
	int ret = EXIT_USAGE, rc;
	const struct option opts[] = {
		OPT_STRING(0, "dir", &o.dir, "DIR", "the working directory (default .kiln-pgo)"),
		OPT_STRING(0, "cc", &o.cc, "COMPILER", "instrument: gcc, clang or a compiler (default $CC, else cc)"),
		OPT_BOOL('q', "quiet", &o.quiet, "do not copy the build's or run's standard error"),
		OPT_BOOL(0, "fail-on-stale", &fail_on_stale, "optimize: exit 1 when functions' profiles are stale"),
		OPT_END(),
	};

	argc = parse_options(argc, argv, opts, help, PARSE_STOP_AT_NON_OPTION);
	if (argc == PARSE_HELP)
		return EXIT_OK;
	if (argc < 0)
		return EXIT_USAGE;
	if (!argc)
		return usage_error(help, "no command given: kiln %s -- CMD...", help->name);
	if (o.cc && step != 0)
		return usage_error(help, "--cc is for 'kiln pgo instrument' (train and optimize use its compiler)");
	if (fail_on_stale && step != 2)
		return usage_error(help, "--fail-on-stale is for 'kiln pgo optimize'");
	if (step == 0)
		rc = pgo_instrument(&o, argv, &r, &e);
	else if (step == 1)
		rc = pgo_train(&o, argv, &r, &e);
	else
		rc = pgo_optimize(&o, argv, &r, &e);
	if (rc) {
		error_msg("%s", e.msg);
		goto out;
	}
	if (step == 0)
		printf("instrumented with %s: %zu compilation%s; now run 'kiln pgo train -- CMD'\n",
		       pgo_toolchain_name(r.tc), r.compiles, r.compiles == 1 ? "" : "s");
	else if (step == 1)
		printf("training run merged: %zu profile file%s written, %zu run%s in %s\n", r.files,
		       r.files == 1 ? "" : "s", r.runs, r.runs == 1 ? "" : "s", r.profile);
	else
		print_optimize(&r);
	ret = step == 2 && fail_on_stale && pgo_diag_count(&r.diag, PGO_STALE) ? EXIT_VERDICT : EXIT_OK;
out:
	pgo_result_release(&r);
	return ret;
}

int cmd_pgo(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		static const struct option none[] = { OPT_END() };

		if (argc < 2)
			return usage_error(&pgo_help, "no sub-command: instrument, train, optimize, sample or go");
		usage_print(none, &pgo_help);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "instrument"))
		return run_step(argc - 1, argv + 1, &instrument_help, 0);
	if (!strcmp(argv[1], "train"))
		return run_step(argc - 1, argv + 1, &train_help, 1);
	if (!strcmp(argv[1], "optimize"))
		return run_step(argc - 1, argv + 1, &optimize_help, 2);
	return usage_error(&pgo_help, "unknown sub-command '%s': instrument, train, optimize, sample or go", argv[1]);
}
