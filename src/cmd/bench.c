/* kiln bench: benchmarks commands like hyperfine (interleaved runs, wait4 resource use, hyperfine's exports). */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/report.h"
#include "bench/result.h"
#include "bench_history.h"
#include "bench/runner.h"
#include "cmds.h"
#include "core/array.h"
#include "core/atomicfile.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/options.h"
#include "core/progress.h"
#include "core/util.h"
#include "core/xalloc.h"

#define MAX_PARAM_VALUES 100000
/* hyperfine measures its shell's start-up this many times before the benchmark. */
#define SHELL_CALIBRATION_RUNS 50

struct bench_opts {
	long long warmup, runs, min_runs, max_runs, seed;
	double min_time, step, confidence;
	const char *shell, *setup, *cleanup, *order, *format;
	const char *export_json, *export_markdown, *export_csv;
	struct opt_list prepare, conclude, names;
	bool no_shell, ignore_failure, show_output, profile;
	const char *profile_out;
	struct hist_cli hist;
};

/* One parameter axis: a name and its values (from -P or -L). */
struct axis {
	const char *name;
	char **values;
	size_t nr, alloc;
};

static const char *const order_choices[] = { "round-robin", "shuffle", NULL };
static const char *const format_choices[] = { "text", "json", NULL };

static const struct cmd_help bench_help = {
	.name = "bench",
	.usage = "kiln bench [OPTIONS] 'COMMAND ARGS' ['COMMAND ARGS' ...]\n"
		 "kiln bench [OPTIONS] -- COMMAND [ARGS...]",
	.description =
		"Runs each command repeatedly and reports the wall time (mean ± sample standard deviation, "
		"median, min, max, a confidence interval of the mean), user and system time and the maximum RSS. "
		"By default each command runs at least 10 times and at least 3 seconds, after the first run "
		"sizes the count. Each argument is one command line, run as hyperfine does: through 'sh -c' by "
		"default, with the shell's own start-up time (measured 50 times first) subtracted; -N (--shell=none) "
		"splits it into words with sh-like quoting and executes it directly. After '--' the rest is one "
		"command and its arguments, executed directly. With several commands the runs are interleaved, "
		"round-robin or shuffled each round (--order shuffle, seed printed), so drift on a noisy machine "
		"hits every command alike. -P NAME MIN MAX and -L NAME a,b,c scan parameters: {NAME} in the "
		"commands is replaced by each value. Prepare, conclude, setup and cleanup commands run through "
		"/bin/sh. The summary says how many times faster the fastest command ran than each other one. "
		"Ctrl-C stops the benchmark: the runs done so far are reported and exported (exit 130). Exports use "
		"hyperfine's formats; `kiln compare` reads the JSON.",
	.examples = "kiln bench './old' './new'\n"
		    "kiln bench -- ./prog --input data.txt\n"
		    "kiln bench --warmup 3 'gzip -k -f -1 big.txt' 'gzip -k -f -9 big.txt'\n"
		    "kiln bench --runs 20 --export-json base.json -- ./build-base/prog\n"
		    "kiln bench -P n 1 4 'sleep 0.0{n}'\n"
		    "kiln bench -L level 1,6,9 --export-markdown gz.md 'gzip -k -f -{level} big.txt'\n"
		    "kiln bench --order shuffle --seed 42 --prepare 'sync' 'cmd-a' 'cmd-b'",
};

static void axis_release(struct axis *a)
{
	size_t i;

	for (i = 0; i < a->nr; i++)
		free(a->values[i]);
	free(a->values);
}

static void axis_add(struct axis *a, char *v)
{
	ALLOC_GROW(a->values, a->nr + 1, a->alloc);
	a->values[a->nr++] = v;
}

static int scan_axis(struct axis *a, const char *name, const char *smin, const char *smax, double step)
{
	struct err e = ERR_INIT;
	double lo, hi, v;
	size_t i;
	bool ints;

	if (parse_double(smin, -1e15, 1e15, "-P MIN", &lo, &e) || parse_double(smax, -1e15, 1e15, "-P MAX", &hi, &e))
		return usage_error(&bench_help, "%s", e.msg);
	if (hi < lo)
		return usage_error(&bench_help, "-P %s: MAX '%s' is below MIN '%s'", name, smax, smin);
	if ((hi - lo) / step >= MAX_PARAM_VALUES)
		return usage_error(&bench_help, "-P %s: more than %d values", name, MAX_PARAM_VALUES);
	ints = lo == floor(lo) && step == floor(step);
	a->name = name;
	for (i = 0; (v = lo + (double)i * step) <= hi + step * 1e-9; i++) {
		if (ints)
			axis_add(a, xasprintf("%.0f", v));
		else
			axis_add(a, xasprintf("%.10g", v));
	}
	return 0;
}

static int list_axis(struct axis *a, const char *name, const char *list)
{
	const char *p = list;

	a->name = name;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		axis_add(a, xstrndup(p, len));
		if (a->nr > MAX_PARAM_VALUES)
			return usage_error(&bench_help, "-L %s: more than %d values", name, MAX_PARAM_VALUES);
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

static bool valid_param_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s == '{' || *s == '}' || *s == ' ')
			return false;
	return true;
}

/* A word quoted for display when it needs it ("--" commands are shown as one line). */
static void add_quoted(struct buf *b, const char *w)
{
	if (*w && !strpbrk(w, " \t\n'\"\\$`*?;&|<>()[]{}")) {
		buf_adds(b, w);
		return;
	}
	buf_addch(b, '\'');
	for (; *w; w++) {
		if (*w == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addch(b, *w);
	}
	buf_addch(b, '\'');
}

static void on_progress(void *ctx, size_t done, size_t total)
{
	struct progress *p = ctx;

	progress_set_total(p, total);
	progress_update(p, done);
}

/* Ctrl-C: stop after the current run and report what was measured. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void print_result(size_t idx, const struct bench_cmd *c, const struct bench_summary *s, bool color)
{
	char a[48], b[48], u[48], sy[48], rss[48], lo[48], hi[48], med[48];

	printf("%sBenchmark %zu:%s %s\n", color ? "\033[1m" : "", idx + 1, color ? "\033[0m" : "", bench_cmd_name(c));
	printf("  Time (mean ± σ):     %10s ± %9s    [User: %s, System: %s]\n",
	       bench_fmt_value(a, sizeof(a), s->mean, "s"), bench_fmt_value(b, sizeof(b), s->stddev, "s"),
	       bench_fmt_value(u, sizeof(u), s->user_mean, "s"), bench_fmt_value(sy, sizeof(sy), s->sys_mean, "s"));
	printf("  Range (min … max):   %10s … %9s    %zu run%s\n", bench_fmt_value(a, sizeof(a), s->min, "s"),
	       bench_fmt_value(b, sizeof(b), s->max, "s"), s->n, s->n == 1 ? "" : "s");
	printf("  Median: %s    %g%% CI of the mean: [%s, %s]    Max RSS: %s\n",
	       bench_fmt_value(med, sizeof(med), s->median, "s"), s->confidence * 100,
	       bench_fmt_value(lo, sizeof(lo), s->ci_lo, "s"), bench_fmt_value(hi, sizeof(hi), s->ci_hi, "s"),
	       fmt_bytes(rss, s->rss_max));
	printf("\n");
}

/* hyperfine's summary: the fastest command, then how many times faster it ran than each other one. */
static void print_summary(const struct bench_cmd *cmds, const struct bench_summary *s, size_t n, bool color)
{
	size_t i, f = bench_fastest(s, n);

	printf("%sSummary%s\n  %s ran\n", color ? "\033[1m" : "", color ? "\033[0m" : "", bench_cmd_name(&cmds[f]));
	for (i = 0; i < n; i++) {
		double ratio, sd;

		if (i == f)
			continue;
		bench_ratio(&s[f], &s[i], &ratio, &sd);
		printf("%8.2f ± %.2f times faster than %s\n", ratio, sd, bench_cmd_name(&cmds[i]));
	}
}

/*
 * The shell of the positional commands: hyperfine's default `sh` (found in PATH), a name or path, or none.
 * Returns 0 with `*path` set (NULL for none), or the usage status.
 */
static int choose_shell(const char *opt, bool no_shell, char **path)
{
	struct err e = ERR_INIT;

	*path = NULL;
	if (no_shell && opt && strcmp(opt, "none"))
		return usage_error(&bench_help, "-N (--shell=none) and --shell %s exclude each other", opt);
	if (no_shell || (opt && !strcmp(opt, "none")))
		return 0;
	*path = bench_find_shell(!opt || !strcmp(opt, "default") ? "sh" : opt, &e);
	if (!*path)
		return usage_error(&bench_help, "%s", e.msg);
	return 0;
}

static bool is_program_path(const char *w)
{
	struct stat st;

	return strchr(w, '/') && !access(w, X_OK) && !stat(w, &st) && S_ISREG(st.st_mode);
}

/*
 * `kiln bench -- ./old ./new` benchmarks one command, ./old with the argument ./new (as `--` means for env or
 * perf). When every word is a program, the user most likely meant two commands: say how to write that.
 */
static void check_tail(char **tail, int ntail)
{
	int i;

	if (ntail < 2)
		return;
	for (i = 0; i < ntail; i++)
		if (!is_program_path(tail[i]))
			return;
	warning_msg("'--' starts one command: '%s' is benchmarked with the argument%s '%s'%s; to compare several "
		    "commands give them without '--': kiln bench '%s' '%s'", tail[0], ntail > 2 ? "s" : "", tail[1],
		    ntail > 2 ? " ..." : "", tail[0], tail[1]);
}

static int export(const char *path, void (*fn)(struct buf *, const struct bench_cmd *, size_t),
		  const struct bench_cmd *cmds, size_t n)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	int r;

	fn(&b, cmds, n);
	r = afile_write_all(path, b.buf, b.len, &e);
	buf_release(&b);
	if (r)
		error_msg("%s", e.msg);
	return r;
}

/* The runs, in the export's schema read back by the importer: the history holds what `kiln compare` reads. */
static int push_history(const struct hist_cli *h, const struct bench_cmd *cmds, size_t n,
			const struct bench_export_info *info, const char *profile)
{
	struct bench_set set = BENCH_SET_INIT;
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	int r = -1;

	bench_export_json(&b, cmds, n, info);
	if (bench_import_buf(&set, b.buf, b.len, NULL, &e)) {
		error_msg("%s", e.msg);
		goto out;
	}
	r = hist_cli_push(h, &set, profile) ? -1 : 0;
out:
	bench_set_release(&set);
	buf_release(&b);
	return r;
}

int cmd_bench(int argc, char **argv)
{
	struct bench_opts o = { .min_runs = 10, .min_time = 3, .step = 1, .confidence = 0.95, .order = "round-robin",
				.format = "text", .seed = -1, .hist = HIST_CLI_INIT };
	struct bench_run_opts ro = { 0 };
	char **pargv = NULL, **tail = NULL;
	int pargc = 0, ntail = 0, nargs, i, ret = EXIT_USAGE;
	struct axis *axes = NULL;
	size_t naxes = 0, aaxes = 0, ncmds = 0, acmds = 0, nbase, k, combos = 1;
	struct bench_cmd *cmds = NULL;
	struct bench_summary *sums = NULL;
	struct bench_export_info info = { 0 };
	struct progress *prog = NULL;
	struct sigaction sa, old_sa;
	char *shell = NULL, *profile = NULL;
	bool stopped = false, via_shell;
	struct err e = ERR_INIT;

	const struct option opts[] = {
		OPT_GROUP("Runs"),
		OPT_INT('w', "warmup", &o.warmup, "N", "unmeasured runs of each command first (default 0)", 0, 1000000),
		OPT_INT('r', "runs", &o.runs, "N", "exactly N measured runs of each command", 1, 100000000),
		OPT_INT('m', "min-runs", &o.min_runs, "N", "at least N runs (default 10)", 1, 100000000),
		OPT_INT('M', "max-runs", &o.max_runs, "N", "at most N runs (default no limit)", 1, 100000000),
		OPT_DOUBLE(0, "min-time", &o.min_time, "SECONDS", "run each command at least this long (default 3)", 0,
			   1e6),
		OPT_LIST('p', "prepare", &o.prepare, "CMD",
			 "run CMD before each run (once for all commands, or once per command)"),
		OPT_LIST(0, "conclude", &o.conclude, "CMD", "run CMD after each run (like --prepare)"),
		OPT_STRING('s', "setup", &o.setup, "CMD", "run CMD once before the runs of each command"),
		OPT_STRING('c', "cleanup", &o.cleanup, "CMD", "run CMD once after the runs of each command"),
		OPT_STRING('S', "shell", &o.shell, "SHELL",
			   "run the commands through 'SHELL -c': a name or path, 'default' (sh, the default) or 'none'"),
		OPT_BOOL('N', "no-shell", &o.no_shell, "an alias for --shell=none: split into words, execute directly"),
		OPT_BOOL('i', "ignore-failure", &o.ignore_failure, "do not stop when a command exits non-zero"),
		OPT_BOOL(0, "show-output", &o.show_output, "let the commands write to the terminal"),
		OPT_CHOICE(0, "order", &o.order, "ORDER", "interleaving of several commands: round-robin or shuffle",
			   order_choices),
		OPT_INT(0, "seed", &o.seed, "N", "seed of --order shuffle (default: random, printed)", 0,
			9007199254740991.0),
		OPT_GROUP("Parameters (also -P NAME MIN MAX and -L NAME a,b,c)"),
		OPT_DOUBLE('D', "parameter-step-size", &o.step, "STEP", "step of -P scans (default 1)", 1e-12, 1e15),
		OPT_LIST('n', "command-name", &o.names, "NAME", "name the commands in order, in output and exports"),
		OPT_GROUP("Output"),
		OPT_DOUBLE(0, "confidence", &o.confidence, "LEVEL", "level of the interval of the mean (default 0.95)",
			   0.5, 0.9999),
		OPT_CHOICE(0, "format", &o.format, "FMT", "stdout: text (default) or json (the export JSON)",
			   format_choices),
		OPT_STRING(0, "export-json", &o.export_json, "FILE", "write the results as JSON (hyperfine's schema)"),
		OPT_STRING(0, "export-markdown", &o.export_markdown, "FILE", "write a Markdown table"),
		OPT_STRING(0, "export-csv", &o.export_csv, "FILE", "write a CSV table"),
		OPT_GROUP("History (kiln trend, kiln compare --baseline-from; --push: see kiln push-bench)"),
		HIST_CLI_OPTIONS(&o.hist),
		OPT_BOOL(0, "profile", &o.profile,
			 "after the timed runs, profile one more run of each command (CPU) and store it with the run"),
		OPT_STRING(0, "profile-output", &o.profile_out, "FILE", "also write that profile to FILE (implies --profile)"),
		OPT_END(),
	};

	/* "--" starts one command with its arguments; -P and -L (several values each) are taken out first. */
	pargv = xcalloc((size_t)argc + 1, sizeof(*pargv));
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (i > 0 && !strcmp(a, "--")) {
			tail = argv + i + 1;
			ntail = argc - i - 1;
			break;
		}
		if (i > 0 && (!strcmp(a, "-P") || !strcmp(a, "--parameter-scan") || !strcmp(a, "-L") ||
			      !strcmp(a, "--parameter-list"))) {
			bool scan = a[1] == 'P' || !strcmp(a, "--parameter-scan");
			int need = scan ? 3 : 2;
			struct axis *ax;

			if (i + need >= argc || !strcmp(argv[i + 1], "--")) {
				ret = usage_error(&bench_help, "%s needs %s", a, scan ? "NAME MIN MAX" : "NAME VALUES");
				goto out;
			}
			if (!valid_param_name(argv[i + 1])) {
				ret = usage_error(&bench_help, "%s: bad parameter name '%s'", a, argv[i + 1]);
				goto out;
			}
			for (k = 0; k < naxes; k++)
				if (!strcmp(axes[k].name, argv[i + 1])) {
					ret = usage_error(&bench_help, "parameter '%s' given twice", argv[i + 1]);
					goto out;
				}
			ALLOC_GROW(axes, naxes + 1, aaxes);
			ax = &axes[naxes++];
			memset(ax, 0, sizeof(*ax));
			ax->name = argv[i + 1];
			/* The step may come later on the line: scans are expanded after parsing. */
			if (!scan && list_axis(ax, argv[i + 1], argv[i + 2])) {
				goto out;
			}
			if (scan) {
				ax->values = xcalloc(3, sizeof(char *));
				ax->values[0] = xstrdup(argv[i + 2]);
				ax->values[1] = xstrdup(argv[i + 3]);
				ax->nr = 0; /* marks a pending scan */
				ax->alloc = 3;
			}
			i += need;
			continue;
		}
		pargv[pargc++] = argv[i];
	}
	nargs = parse_options(pargc, pargv, opts, &bench_help, 0);
	if (nargs == PARSE_HELP) {
		ret = EXIT_OK;
		goto out;
	}
	if (nargs < 0)
		goto out;
	for (k = 0; k < naxes; k++) {
		if (axes[k].nr == 0 && axes[k].values) {
			char *mn = axes[k].values[0], *mx = axes[k].values[1];

			free(axes[k].values);
			axes[k].values = NULL;
			axes[k].alloc = 0;
			i = scan_axis(&axes[k], axes[k].name, mn, mx, o.step);
			free(mn);
			free(mx);
			if (i) {
				ret = i;
				goto out;
			}
		}
		combos *= axes[k].nr;
		if (combos > MAX_PARAM_VALUES) {
			ret = usage_error(&bench_help, "too many parameter combinations (more than %d)", MAX_PARAM_VALUES);
			goto out;
		}
	}
	nbase = (size_t)nargs + (tail ? 1 : 0);
	if (tail && !ntail) {
		ret = usage_error(&bench_help, "no command after '--'");
		goto out;
	}
	if (!nbase) {
		ret = usage_error(&bench_help, "no command to benchmark");
		goto out;
	}
	if ((o.hist.dir || o.hist.push) && (ret = hist_cli_check(&o.hist, &bench_help)))
		goto out;
	if (o.profile && !o.hist.dir && !o.hist.push && !o.profile_out) {
		ret = usage_error(&bench_help, "--profile stores the profile with the run: give --history DIR, --push "
				  "URL or --profile-output FILE");
		goto out;
	}
	if ((ret = choose_shell(o.shell, o.no_shell, &shell)))
		goto out;
	ret = EXIT_USAGE;
	if (tail)
		check_tail(tail, ntail);
	if (o.prepare.nr > 1 && o.prepare.nr != nbase) {
		ret = usage_error(&bench_help, "give --prepare once or once per command (%zu commands, %zu --prepare)",
				  nbase, o.prepare.nr);
		goto out;
	}
	if (o.conclude.nr > 1 && o.conclude.nr != nbase) {
		ret = usage_error(&bench_help, "give --conclude once or once per command (%zu commands, %zu --conclude)",
				  nbase, o.conclude.nr);
		goto out;
	}
	if (o.names.nr && o.names.nr != nbase * combos && o.names.nr != nbase) {
		ret = usage_error(&bench_help, "%zu --command-name for %zu commands", o.names.nr, nbase * combos);
		goto out;
	}
	if (o.runs && (o.min_runs != 10 || o.max_runs)) {
		ret = usage_error(&bench_help, "--runs excludes --min-runs and --max-runs");
		goto out;
	}
	if (o.max_runs && o.max_runs < o.min_runs) {
		ret = usage_error(&bench_help, "--max-runs %lld is below --min-runs %lld", o.max_runs, o.min_runs);
		goto out;
	}
	/* The commands: each base command for each parameter combination. */
	for (k = 0; k < nbase; k++) {
		const char *base = k < (size_t)nargs ? pargv[k] : NULL;
		size_t c;

		for (c = 0; c < combos; c++) {
			struct bench_cmd *bc;
			size_t rest = c, a;

			ALLOC_GROW(cmds, ncmds + 1, acmds);
			bc = &cmds[ncmds++];
			memset(bc, 0, sizeof(*bc));
			bc->nparams = naxes;
			bc->params = naxes ? xcalloc(naxes, sizeof(*bc->params)) : NULL;
			for (a = naxes; a-- > 0;) {
				bc->params[a].name = xstrdup(axes[a].name);
				bc->params[a].value = xstrdup(axes[a].values[rest % axes[a].nr]);
				rest /= axes[a].nr;
			}
			if (k >= (size_t)nargs) {
				/* A "--" command: substitute in each word, then show the words quoted. */
				struct buf line = BUF_INIT;

				bc->argv = xcalloc((size_t)ntail + 1, sizeof(char *));
				for (i = 0; i < ntail; i++) {
					bc->argv[i] = bench_substitute(tail[i], bc->params, naxes);
					if (i)
						buf_addch(&line, ' ');
					add_quoted(&line, bc->argv[i]);
				}
				bc->display = buf_detach(&line, NULL);
				/* Executed as given, unless --shell asked for a shell by name. */
				if (shell && o.shell && strcmp(o.shell, "default")) {
					bench_free_words(bc->argv);
					bc->argv = NULL;
				}
			} else {
				bc->display = bench_substitute(base, bc->params, naxes);
				bc->argv = shell ? NULL : bench_split_words(bc->display, &e);
				if (!shell && !bc->argv) {
					ret = usage_error(&bench_help, "cannot split command '%s': %s", base, e.msg);
					goto out;
				}
			}
			if (o.prepare.nr)
				bc->prepare = bench_substitute(o.prepare.v[o.prepare.nr == 1 ? 0 : k], bc->params, naxes);
			if (o.conclude.nr)
				bc->conclude =
					bench_substitute(o.conclude.v[o.conclude.nr == 1 ? 0 : k], bc->params, naxes);
			if (o.names.nr == nbase * combos)
				bc->name = bench_substitute(o.names.v[ncmds - 1], bc->params, naxes);
			else if (o.names.nr)
				bc->name = bench_substitute(o.names.v[k], bc->params, naxes);
		}
	}

	ro.warmup = (size_t)o.warmup;
	ro.runs = (size_t)o.runs;
	ro.min_runs = (size_t)o.min_runs;
	ro.max_runs = (size_t)o.max_runs;
	ro.min_time = o.min_time;
	ro.shell = shell;
	ro.setup = o.setup;
	ro.cleanup = o.cleanup;
	ro.shuffle = !strcmp(o.order, "shuffle");
	ro.ignore_failure = o.ignore_failure;
	ro.show_output = o.show_output;
	ro.stop = &interrupted;
	if (ro.shuffle) {
		ro.seed = o.seed >= 0 ? (uint64_t)o.seed : (now_ns() ^ ((uint64_t)getpid() << 32)) & ((1ULL << 53) - 1);
		fprintf(stderr, "kiln: shuffled run order, seed %llu (repeat with --seed %llu)\n",
			(unsigned long long)ro.seed, (unsigned long long)ro.seed);
	}
	for (k = 0; k < ncmds && cmds[k].argv; k++)
		;
	via_shell = k < ncmds;
	if (via_shell && bench_calibrate_shell(&ro, SHELL_CALIBRATION_RUNS, &e)) {
		error_msg("%s", e.msg);
		goto out;
	}
	/* A Ctrl-C (the commands get it too) ends the benchmark; an inherited "ignore" is kept (nohup). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C kills at once */
	if (sigaction(SIGINT, NULL, &old_sa) || old_sa.sa_handler == SIG_IGN || sigaction(SIGINT, &sa, NULL))
		ro.stop = NULL;
	prog = progress_new_count("Benchmarking", 0, "runs");
	i = bench_run(cmds, ncmds, &ro, on_progress, prog, &e);
	progress_free(prog);
	if (ro.stop)
		sigaction(SIGINT, &old_sa, NULL);
	if (i < 0) {
		error_msg("%s", e.msg);
		goto out;
	}
	if (i == BENCH_STOPPED) {
		size_t kept = 0, runs = 0;

		stopped = true;
		/* Commands without a finished run have nothing to report. */
		for (k = 0; k < ncmds; k++) {
			runs += cmds[k].n;
			if (cmds[k].n)
				cmds[kept++] = cmds[k];
			else
				bench_cmd_release(&cmds[k]);
		}
		ncmds = kept;
		warning_msg("interrupted: reporting the %zu run%s done so far", runs, runs == 1 ? "" : "s");
		if (!ncmds) {
			ret = 128 + SIGINT;
			goto out;
		}
	}

	/* Exports first: when one cannot be written, that is the one line on stderr. */
	info.confidence = o.confidence;
	info.shuffled = ro.shuffle;
	info.seed = ro.seed;
	info.shell = via_shell ? shell : NULL;
	info.shell_wall = ro.shell_wall;
	info.interrupted = stopped;
	if (o.export_json) {
		struct buf b = BUF_INIT;
		int r;

		bench_export_json(&b, cmds, ncmds, &info);
		r = afile_write_all(o.export_json, b.buf, b.len, &e);
		buf_release(&b);
		if (r) {
			error_msg("%s", e.msg);
			goto out;
		}
	}
	/* The profiled runs come after the timed ones, and not after a Ctrl-C. */
	if ((o.profile || o.profile_out) && !stopped &&
	    !(profile = bench_profile_record(cmds, ncmds, via_shell ? shell : NULL, o.profile_out)))
		goto out;
	if ((o.hist.dir || o.hist.push) && push_history(&o.hist, cmds, ncmds, &info, profile))
		goto out;
	if (o.export_markdown && export(o.export_markdown, bench_export_markdown, cmds, ncmds))
		goto out;
	if (o.export_csv && export(o.export_csv, bench_export_csv, cmds, ncmds))
		goto out;
	sums = xcalloc(ncmds, sizeof(*sums));
	for (k = 0; k < ncmds; k++)
		bench_summarize(&cmds[k], o.confidence, &sums[k]);
	if (!strcmp(o.format, "json")) {
		struct buf b = BUF_INIT;

		bench_export_json(&b, cmds, ncmds, &info);
		fwrite(b.buf, 1, b.len, stdout);
		buf_release(&b);
	} else {
		bool color = use_color(1);

		for (k = 0; k < ncmds; k++)
			print_result(k, &cmds[k], &sums[k], color);
		if (ncmds > 1)
			print_summary(cmds, sums, ncmds, color);
	}
	for (k = 0; k < ncmds; k++) {
		struct buf w = BUF_INIT;
		const char *p;

		bench_warnings(&cmds[k], &sums[k], &w);
		for (p = w.buf; *p;) {
			const char *nl = strchr(p, '\n');

			warning_msg("'%s': %.*s", bench_cmd_name(&cmds[k]), (int)(nl - p), p);
			p = nl + 1;
		}
		buf_release(&w);
	}
	ret = stopped ? 128 + SIGINT : EXIT_OK;
out:
	if (profile)
		unlink(profile);
	free(profile);
	free(shell);
	for (k = 0; k < ncmds; k++)
		bench_cmd_release(&cmds[k]);
	free(cmds);
	free(sums);
	for (k = 0; k < naxes; k++) {
		if (axes[k].nr == 0 && axes[k].values) {
			free(axes[k].values[0]);
			free(axes[k].values[1]);
			free(axes[k].values);
		} else {
			axis_release(&axes[k]);
		}
	}
	free(axes);
	free(pargv);
	free(o.prepare.v);
	free(o.conclude.v);
	free(o.names.v);
	hist_cli_release(&o.hist);
	return ret;
}
