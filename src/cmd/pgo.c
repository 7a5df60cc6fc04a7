/*
 * kiln pgo: profile-guided builds. instrument / train / optimize drive GCC or Clang's instrumented PGO
 * (src/pgo/driver.h); sample writes an AutoFDO profile for Clang from a kiln CPU profile; go writes Go's
 * default.pgo. Each sub-command has its own option table and help page.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>
#include <unistd.h>

#include "../core/atomicfile.h"
#include "../core/err.h"
#include "../core/options.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../formats/format.h"
#include "../pgo/debuginfo.h"
#include "../core/array.h"
#include "../core/buf.h"
#include "../pgo/driver.h"
#include "../pgo/gopgo.h"
#include "../pgo/sample.h"
#include "../profile/profile.h"
#include "cmds.h"
#include "pgo_compare.h"

static const struct cmd_help pgo_help = {
	.name = "pgo",
	.usage = "kiln pgo instrument [--cc gcc|clang] [--dir DIR] -- BUILD_CMD...\n"
		 "kiln pgo train [--dir DIR] -- CMD...\n"
		 "kiln pgo optimize [--dir DIR] [--fail-on-stale] -- BUILD_CMD...\n"
		 "kiln pgo sample PROFILE|- --binary PROG -o OUT.prof\n"
		 "kiln pgo go PROFILE|- [-o default.pgo]\n"
		 "kiln pgo compare [--runs N] [-n NAME]... [--wall] [--export-markdown FILE] BASELINE OPTIMIZED...",
	.description = "Profile-guided optimisation in three commands. 'instrument' runs your build with the "
		       "profiling flags of GCC or Clang injected (through compiler wrappers first on PATH and in "
		       "CC/CXX), so that profiles land in one directory (.kiln-pgo) under stable names; 'train' runs "
		       "the instrumented program (as often as you like: the runs are merged, and a failed run is "
		       "discarded); 'optimize' rebuilds with the merged profile and reports how much of the program "
		       "the training covered and which functions' profiles no longer match their source. 'sample' "
		       "turns a kiln CPU profile of an ordinary -O2 -g build into an LLVM sample profile for clang "
		       "-fprofile-sample-use (AutoFDO); 'go' writes the default.pgo that 'go build -pgo' reads; "
		       "'compare' benchmarks the baseline against the optimized builds, interleaved, and gives each one's speed-up in CPU time with its interval. "
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

static const struct cmd_help sample_help = {
	.name = "pgo sample",
	.usage = "kiln pgo sample PROFILE|- [--binary PROG] -o OUT [--format text|extbinary|gcc] [--no-call-targets]\n"
		 "                [--fail-on-stale]",
	.description = "Sampling-based PGO (AutoFDO): turns a kiln CPU profile (pprof from 'kiln profile') of an "
		       "ordinary optimised build with debug information (-O2 -g) into an LLVM sample profile for "
		       "clang -fprofile-sample-use=OUT. Line offsets count from each function's start line in PROG's "
		       "DWARF; inlined frames become inline call sites; caller frames add call targets (weighted by "
		       "samples: without branch records there are no call counts); --no-call-targets writes body "
		       "samples only, as AutoFDO from perf IP samples does. PROG defaults to the module with the most "
		       "samples. Samples whose address PROG's DWARF puts on another line (a profile of another "
		       "build) are reported as stale and left out; --fail-on-stale makes them exit 1. The result is "
		       "checked with llvm-profdata when it is installed. --format extbinary "
		       "converts with llvm-profdata; gcc asks it for GCC's AutoFDO format (-fauto-profile), which "
		       "llvm-profdata 14 cannot write: see docs/pgo.md.",
	.examples = "kiln profile -o cpu.pb.gz ./app --workload\n"
		    "kiln pgo sample cpu.pb.gz --binary ./app -o app.prof\n"
		    "clang -O2 -g -fprofile-sample-use=app.prof -o app app.c",
};

/*
 * The profile the sample and go sub-commands read: a file, or '-' for stdin. Hook for the fleet's profiles:
 * a `kiln serve` query (a service's merged CPU profile over a time range) becomes a source here once
 * src/server has a query client; until then a URL is refused with what to do instead.
 */
static struct profile *load_profile(const char *source)
{
	struct err e = ERR_INIT;
	struct profile *p;

	if (!strncmp(source, "http://", 7) || !strncmp(source, "https://", 8)) {
		error_msg("cannot read '%s': profiles from a kiln serve query are not supported yet; save the "
			  "query's pprof to a file and pass that", source);
		return NULL;
	}
	p = profile_new(0);
	if (profile_read_path(p, source, NULL, NULL, &e)) {
		error_msg("%s", e.msg);
		profile_free(p);
		return NULL;
	}
	if (profile_is_empty(p, -1)) {
		error_msg("no samples in '%s'", strcmp(source, "-") ? source : "<stdin>");
		profile_free(p);
		return NULL;
	}
	print_read_warnings(p, source);
	return p;
}

/* The profile and the debug information of its program (`*binary`, defaulted to its busiest module). */
static struct profile *load_with_binary(const char *source, const char **binary, struct pgo_dbg **dbg)
{
	struct profile *p = load_profile(source);
	struct err e = ERR_INIT;

	if (!p)
		return NULL;
	if (!*binary)
		*binary = pgo_sample_main_module(p);
	if (!*binary) {
		error_msg("no native code in '%s': name the program with --binary", source);
	} else if (!(*dbg = pgo_dbg_open(*binary, &e))) {
		error_msg("%s", e.msg);
	} else {
		return p;
	}
	profile_free(p);
	return NULL;
}

/* Writes the text profile to `path`, directly or through a temporary text file that llvm-profdata converts. */
static int write_sample(const struct profile *p, struct pgo_dbg *dbg, const struct pgo_sample_opts *so,
			const char *path, const char *format, struct pgo_sample_stats *st, int *validated)
{
	bool convert = strcmp(format, "text") != 0;
	char *text_path = convert ? xasprintf("%s.kiln-text.%ld", path, (long)getpid()) : xstrdup(path);
	struct afile f = { 0 };
	struct err e = ERR_INIT;
	int ret = -1;

	if (afile_open(&f, text_path, &e))
		goto fail;
	if (pgo_sample_write(p, dbg, so, f.fp, st, &e)) {
		afile_abort(&f);
		goto fail;
	}
	if (afile_commit(&f, &e))
		goto fail;
	if (!strcmp(path, "-")) {
		*validated = 0;
	} else if (convert) {
		/* llvm-profdata writes into a temporary renamed over OUT only when it succeeded */
		char *tmp = xasprintf("%s.kiln-conv.%ld", path, (long)getpid());

		*validated = pgo_llvm_sample_tool(text_path, tmp, !strcmp(format, "gcc") ? "--gcc" : "--extbinary", &e);
		unlink(text_path);
		if (*validated > 0 && rename(tmp, path)) {
			err_errno(&e, "cannot rename '%s' to '%s'", tmp, path);
			*validated = -2;
		}
		unlink(tmp);
		free(tmp);
		if (*validated == -1 && !strcmp(format, "gcc")) {
			char cause[sizeof(e.msg)];

			snprintf(cause, sizeof(cause), "%s", e.msg);
			err_set(&e, "cannot write '%s' for GCC's -fauto-profile: %s (llvm-profdata only reads GCC's "
				    "AutoFDO format, and kiln does not write it yet; see docs/pgo.md)", path, cause);
		} else if (*validated == -1) {
			err_wrap(&e, "cannot write '%s' in the %s format", path, format);
		}
		else if (!*validated)
			err_set(&e, "cannot write '%s' in the %s format: llvm-profdata is not installed", path, format);
		if (*validated <= 0)
			goto fail;
	} else {
		*validated = pgo_llvm_sample_tool(path, NULL, NULL, &e);
		if (*validated < 0) {
			unlink(path);
			err_wrap(&e, "'%s' was written wrong (a kiln bug), and removed", path);
			goto fail;
		}
	}
	ret = 0;
	goto out;
fail:
	error_msg("%s", e.msg);
out:
	free(text_path);
	return ret;
}

static int run_sample(int argc, char **argv)
{
	static const char *const formats_allowed[] = { "text", "extbinary", "gcc", NULL };
	struct pgo_sample_opts so = { .column = -1 };
	struct pgo_sample_stats st;
	const char *output = NULL, *format = "text", *value = NULL;
	bool fail_on_stale = false;
	struct profile *p = NULL;
	struct pgo_dbg *dbg = NULL;
	int ret = EXIT_USAGE, validated = 0;
	const struct option opts[] = {
		OPT_STRING(0, "binary", &so.binary, "PROG", "the profiled program (default: the module with most samples)"),
		OPT_STRING('o', "output", &output, "OUT", "write the sample profile to OUT ('-' = stdout)"),
		OPT_CHOICE(0, "format", &format, "FORMAT", "text (default), extbinary or gcc", formats_allowed),
		OPT_STRING(0, "value", &value, "TYPE", "value column (default: samples)"),
		OPT_BOOL(0, "no-call-targets", &so.no_call_targets, "body samples only (as AutoFDO from IP samples)"),
		OPT_BOOL(0, "fail-on-stale", &fail_on_stale, "exit 1 when samples no longer match PROG"),
		OPT_END(),
	};

	argc = parse_options(argc, argv, opts, &sample_help, 0);
	if (argc == PARSE_HELP)
		return EXIT_OK;
	if (argc < 0)
		return EXIT_USAGE;
	if (argc != 1)
		return usage_error(&sample_help, argc ? "sample takes one PROFILE" : "no PROFILE given");
	if (!output)
		return usage_error(&sample_help, "no output given: use -o OUT");
	if (strcmp(format, "text") && !strcmp(output, "-"))
		return usage_error(&sample_help, "--format %s needs a file for -o", format);
	p = load_with_binary(argv[0], &so.binary, &dbg);
	if (!p)
		goto out;
	if (value && (so.column = profile_find_column(p, value)) < 0) {
		error_msg("'%s' has no '%s' values", argv[0], value);
		goto out;
	}
	if (write_sample(p, dbg, &so, output, format, &st, &validated))
		goto out;
	fprintf(strcmp(output, "-") ? stdout : stderr,
		"wrote %s: %zu functions; %.1f %% of the samples placed (%" PRIu64 " of %" PRIu64 " in '%s', "
		"%" PRIu64 " unplaced)%s\n",
		strcmp(output, "-") ? output : "<stdout>", st.functions,
		st.in_binary ? 100.0 * (double)st.written / (double)st.in_binary : 0.0, st.written, st.in_binary,
		so.binary, st.unplaced, validated ? "; checked by llvm-profdata" : "");
	if (st.stale) {
		FILE *out = strcmp(output, "-") ? stdout : stderr;

		fprintf(out, "stale: %" PRIu64 " samples in %zu function%s sit elsewhere in '%s' than in the profile "
			     "(rebuilt since?) and were left out:", st.stale, st.stale_functions,
			st.stale_functions == 1 ? "" : "s", so.binary);
		for (size_t i = 0; i < st.stale_functions && i < ARRAY_SIZE(st.stale_names); i++)
			fprintf(out, " %s", st.stale_names[i]);
		fprintf(out, "%s\n", st.stale_functions > ARRAY_SIZE(st.stale_names) ? " ..." : "");
	}
	ret = fail_on_stale && st.stale ? EXIT_VERDICT : EXIT_OK;
out:
	pgo_dbg_free(dbg);
	profile_free(p);
	return ret;
}

static const struct cmd_help go_help = {
	.name = "pgo go",
	.usage = "kiln pgo go PROFILE|- [--binary PROG] [-o default.pgo]",
	.description = "Writes Go's PGO profile from a kiln CPU profile of a Go program: pprof with the Go "
		       "function names, lines and start lines (from PROG's DWARF) that 'go build -pgo' (Go 1.21+) "
		       "keys its hot call sites by, the program's own frames only. PROG defaults to the module with "
		       "the most samples; OUT to default.pgo, which go build picks up from the main package's "
		       "directory with -pgo=auto.",
	.examples = "kiln profile -o cpu.pb.gz ./server --bench\n"
		    "kiln pgo go cpu.pb.gz -o cmd/server/default.pgo && go build ./cmd/server",
};

static int run_go(int argc, char **argv)
{
	const char *output = "default.pgo", *binary = NULL;
	struct pgo_go_stats st;
	struct profile *p = NULL;
	struct pgo_dbg *dbg = NULL;
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	int ret = EXIT_USAGE;
	const struct option opts[] = {
		OPT_STRING(0, "binary", &binary, "PROG", "the profiled Go program (default: the module with most samples)"),
		OPT_STRING('o', "output", &output, "OUT", "write to OUT (default default.pgo; '-' = stdout)"),
		OPT_END(),
	};

	argc = parse_options(argc, argv, opts, &go_help, 0);
	if (argc == PARSE_HELP)
		return EXIT_OK;
	if (argc < 0)
		return EXIT_USAGE;
	if (argc != 1)
		return usage_error(&go_help, argc ? "go takes one PROFILE" : "no PROFILE given");
	p = load_with_binary(argv[0], &binary, &dbg);
	if (!p)
		goto out;
	if (pgo_go_write(p, dbg, binary, &out, &st, &e) || afile_write_all(output, out.buf, out.len, &e)) {
		error_msg("%s", e.msg);
		goto out;
	}
	fprintf(strcmp(output, "-") ? stdout : stderr,
		"wrote %s: %" PRIu64 " samples of '%s', %zu functions (%zu with a start line)\n",
		strcmp(output, "-") ? output : "<stdout>", st.samples, binary, st.functions, st.with_start_line);
	ret = EXIT_OK;
out:
	buf_release(&out);
	pgo_dbg_free(dbg);
	profile_free(p);
	return ret;
}

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
	if (argc < 2)
		return usage_error(&pgo_help, "no sub-command: instrument, train, optimize, sample, go or compare");
	if (argv[1][0] == '-') {
		/* --help, and the generated pages (--help-man, --help-completion=SHELL) of the command itself. */
		static const struct option none[] = { OPT_END() };
		int n = parse_options(argc, argv, none, &pgo_help, PARSE_STOP_AT_NON_OPTION);

		if (n < 0)
			return n == PARSE_HELP ? EXIT_OK : EXIT_USAGE;
		return usage_error(&pgo_help, "no sub-command: instrument, train, optimize, sample, go or compare");
	}
	if (!strcmp(argv[1], "instrument"))
		return run_step(argc - 1, argv + 1, &instrument_help, 0);
	if (!strcmp(argv[1], "train"))
		return run_step(argc - 1, argv + 1, &train_help, 1);
	if (!strcmp(argv[1], "optimize"))
		return run_step(argc - 1, argv + 1, &optimize_help, 2);
	if (!strcmp(argv[1], "sample"))
		return run_sample(argc - 1, argv + 1);
	if (!strcmp(argv[1], "go"))
		return run_go(argc - 1, argv + 1);
	if (!strcmp(argv[1], "compare"))
		return pgo_compare_main(argc - 1, argv + 1);
	return usage_error(&pgo_help, "unknown sub-command '%s': instrument, train, optimize, sample, go or compare",
			   argv[1]);
}
