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

/* One parameter axis: a name and its values (from -P or -L). */
struct axis {
	const char *name;
	const char *scan_min, *scan_max; /* -P: expanded after parsing, once the step (-D) is known */
	char **values;
	size_t nr, alloc;
};

/* The axes in the order given: it orders the commands' parameter combinations. */
struct axes {
	struct axis *v;
	size_t nr, alloc;
};

struct bench_opts {
	long long warmup, runs, min_runs, max_runs, seed;
	double min_time, step, confidence;
	const char *shell, *setup, *cleanup, *order, *format;
	const char *export_json, *export_markdown, *export_csv;
	struct opt_list prepare, conclude, names;
	bool no_shell, ignore_failure, show_output, profile;
	const char *profile_out;
	struct hist_cli hist;
	struct axes axes;
	/* The positional arguments: command lines, then the one command after "--" (tail, NULL without "--"). */
	char **lines, **tail;
	size_t nlines, ntail, nbase, combos;
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

static int scan_axis(struct axis *a, double step)
{
	struct err e = ERR_INIT;
	double lo, hi, v;
	size_t i;
	bool ints;

	if (parse_double(a->scan_min, -1e15, 1e15, "-P MIN", &lo, &e) ||
	    parse_double(a->scan_max, -1e15, 1e15, "-P MAX", &hi, &e))
		return usage_error(&bench_help, "%s", e.msg);
	if (hi < lo)
		return usage_error(&bench_help, "-P %s: MAX '%s' is below MIN '%s'", a->name, a->scan_max, a->scan_min);
	if ((hi - lo) / step >= MAX_PARAM_VALUES)
		return usage_error(&bench_help, "-P %s: more than %d values", a->name, MAX_PARAM_VALUES);
	ints = lo == floor(lo) && step == floor(step);
	for (i = 0; (v = lo + (double)i * step) <= hi + step * 1e-9; i++) {
		if (ints)
			axis_add(a, xasprintf("%.0f", v));
		else
			axis_add(a, xasprintf("%.10g", v));
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

static struct axis *axis_new(struct axes *ax, const char *flag, const char *name, struct err *e)
{
	struct axis *a;
	size_t k;

	if (!valid_param_name(name)) {
		err_set(e, "%s: bad parameter name '%s'", flag, name);
		return NULL;
	}
	for (k = 0; k < ax->nr; k++) {
		if (!strcmp(ax->v[k].name, name)) {
			err_set(e, "parameter '%s' given twice", name);
			return NULL;
		}
	}
	ALLOC_GROW(ax->v, ax->nr + 1, ax->alloc);
	a = &ax->v[ax->nr++];
	memset(a, 0, sizeof(*a));
	a->name = name;
	return a;
}

/* -P NAME MIN MAX: the step may come later on the line, so the values are made after parsing. */
static int opt_scan(const struct option *opt, const char *flag, const char *const *args, struct err *e)
{
	struct axis *a = axis_new(opt->value, flag, args[0], e);

	if (!a)
		return -1;
	a->scan_min = args[1];
	a->scan_max = args[2];
	return 0;
}

/* -L NAME a,b,c */
static int opt_list(const struct option *opt, const char *flag, const char *const *args, struct err *e)
{
	struct axis *a = axis_new(opt->value, flag, args[0], e);
	const char *p = args[1];

	if (!a)
		return -1;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		axis_add(a, xstrndup(p, len));
		if (a->nr > MAX_PARAM_VALUES)
			return err_set(e, "-L %s: more than %d values", a->name, MAX_PARAM_VALUES);
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
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
static void check_tail(char **tail, size_t ntail)
{
	size_t i;

	if (ntail < 2)
		return;
	for (i = 0; i < ntail; i++)
		if (!is_program_path(tail[i]))
			return;
	warning_msg("'--' starts one command: '%s' is benchmarked with the argument%s '%s'%s; to compare several "
		    "commands give them without '--': kiln bench '%s' '%s'", tail[0], ntail > 2 ? "s" : "", tail[1],
		    ntail > 2 ? " ..." : "", tail[0], tail[1]);
}

/* Writes `b` (and releases it) to `path` in one piece; prints the error. */
static int write_file(const char *path, struct buf *b)
{
	struct err e = ERR_INIT;
	int r;

	r = afile_write_all(path, b->buf, b->len, &e);
	buf_release(b);
	if (r)
		error_msg("%s", e.msg);
	return r;
}

static int export(const char *path, void (*fn)(struct buf *, const struct bench_cmd *, size_t),
		  const struct bench_cmd *cmds, size_t n)
{
	struct buf b = BUF_INIT;

	fn(&b, cmds, n);
	return write_file(path, &b);
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

/* Returns the number of positional arguments, or PARSE_HELP / PARSE_ERROR. */
static int parse_bench(int argc, char **argv, struct bench_opts *o)
{
	const struct option opts[] = {
		OPT_GROUP("Runs"),
		OPT_INT('w', "warmup", &o->warmup, "N", "unmeasured runs of each command first (default 0)", 0,
			1000000),
		OPT_INT('r', "runs", &o->runs, "N", "exactly N measured runs of each command", 1, 100000000),
		OPT_INT('m', "min-runs", &o->min_runs, "N", "at least N runs (default 10)", 1, 100000000),
		OPT_INT('M', "max-runs", &o->max_runs, "N", "at most N runs (default no limit)", 1, 100000000),
		OPT_DOUBLE(0, "min-time", &o->min_time, "SECONDS", "run each command at least this long (default 3)",
			   0, 1e6),
		OPT_LIST('p', "prepare", &o->prepare, "CMD",
			 "run CMD before each run (once for all commands, or once per command)"),
		OPT_LIST(0, "conclude", &o->conclude, "CMD", "run CMD after each run (like --prepare)"),
		OPT_STRING('s', "setup", &o->setup, "CMD", "run CMD once before the runs of each command"),
		OPT_STRING('c', "cleanup", &o->cleanup, "CMD", "run CMD once after the runs of each command"),
		OPT_STRING('S', "shell", &o->shell, "SHELL", "run the commands through 'SHELL -c': a name or path, "
			   "'default' (sh, the default) or 'none'"),
		OPT_BOOL('N', "no-shell", &o->no_shell,
			 "an alias for --shell=none: split into words, execute directly"),
		OPT_BOOL('i', "ignore-failure", &o->ignore_failure, "do not stop when a command exits non-zero"),
		OPT_BOOL(0, "show-output", &o->show_output, "let the commands write to the terminal"),
		OPT_CHOICE(0, "order", &o->order, "ORDER", "interleaving of several commands: round-robin or shuffle",
			   order_choices),
		OPT_INT(0, "seed", &o->seed, "N", "seed of --order shuffle (default: random, printed)", 0,
			9007199254740991.0),
		OPT_GROUP("Parameters"),
		OPT_ARGS('P', "parameter-scan", &o->axes, "NAME MIN MAX",
			 "run the commands for each {NAME} from MIN to MAX", 3, opt_scan),
		OPT_ARGS('L', "parameter-list", &o->axes, "NAME VALUES",
			 "run the commands for each {NAME} in the comma-separated VALUES", 2, opt_list),
		OPT_DOUBLE('D', "parameter-step-size", &o->step, "STEP", "step of -P scans (default 1)", 1e-12, 1e15),
		OPT_LIST('n', "command-name", &o->names, "NAME", "name the commands in order, in output and exports"),
		OPT_GROUP("Output"),
		OPT_DOUBLE(0, "confidence", &o->confidence, "LEVEL", "level of the interval of the mean (default 0.95)",
			   0.5, 0.9999),
		OPT_CHOICE(0, "format", &o->format, "FMT", "stdout: text (default) or json (the export JSON)",
			   format_choices),
		OPT_STRING(0, "export-json", &o->export_json, "FILE", "write the results as JSON (hyperfine's schema)"),
		OPT_STRING(0, "export-markdown", &o->export_markdown, "FILE", "write a Markdown table"),
		OPT_STRING(0, "export-csv", &o->export_csv, "FILE", "write a CSV table"),
		OPT_GROUP("History (kiln trend, kiln compare --baseline-from; --push: see kiln push-bench)"),
		HIST_CLI_OPTIONS(&o->hist),
		OPT_BOOL(0, "profile", &o->profile,
			 "after the timed runs, profile one more run of each command (CPU) and store it with the run"),
		OPT_STRING(0, "profile-output", &o->profile_out, "FILE",
			   "also write that profile to FILE (implies --profile)"),
		OPT_END(),
	};

	/* "--" starts one command with its arguments: it is kept to tell that command from the command lines. */
	return parse_options(argc, argv, opts, &bench_help, PARSE_KEEP_DASHDASH);
}

/* Splits the arguments at "--" and makes the values of the -P scans; returns 0 or the usage status. */
static int expand_args(struct bench_opts *o, char **args, size_t nargs)
{
	size_t k;
	int r;

	o->lines = args;
	for (o->nlines = 0; o->nlines < nargs && strcmp(args[o->nlines], "--"); o->nlines++)
		;
	if (o->nlines < nargs) {
		o->tail = args + o->nlines + 1;
		o->ntail = nargs - o->nlines - 1;
	}
	o->combos = 1;
	for (k = 0; k < o->axes.nr; k++) {
		if (o->axes.v[k].scan_min && (r = scan_axis(&o->axes.v[k], o->step)))
			return r;
		o->combos *= o->axes.v[k].nr;
		if (o->combos > MAX_PARAM_VALUES)
			return usage_error(&bench_help, "too many parameter combinations (more than %d)",
					   MAX_PARAM_VALUES);
	}
	o->nbase = o->nlines + (o->tail ? 1 : 0);
	return 0;
}

/* The checks that involve several options; chooses the shell. Returns 0 or the usage status. */
static int check_opts(struct bench_opts *o, char **shell)
{
	int r;

	if (o->tail && !o->ntail)
		return usage_error(&bench_help, "no command after '--'");
	if (!o->nbase)
		return usage_error(&bench_help, "no command to benchmark");
	if ((o->hist.dir || o->hist.push) && (r = hist_cli_check(&o->hist, &bench_help)))
		return r;
	if (o->profile && !o->hist.dir && !o->hist.push && !o->profile_out)
		return usage_error(&bench_help, "--profile stores the profile with the run: give --history DIR, --push "
				   "URL or --profile-output FILE");
	if ((r = choose_shell(o->shell, o->no_shell, shell)))
		return r;
	if (o->tail)
		check_tail(o->tail, o->ntail);
	if (o->prepare.nr > 1 && o->prepare.nr != o->nbase)
		return usage_error(&bench_help, "give --prepare once or once per command (%zu commands, %zu --prepare)",
				   o->nbase, o->prepare.nr);
	if (o->conclude.nr > 1 && o->conclude.nr != o->nbase)
		return usage_error(&bench_help,
				   "give --conclude once or once per command (%zu commands, %zu --conclude)", o->nbase,
				   o->conclude.nr);
	if (o->names.nr && o->names.nr != o->nbase * o->combos && o->names.nr != o->nbase)
		return usage_error(&bench_help, "%zu --command-name for %zu commands", o->names.nr,
				   o->nbase * o->combos);
	if (o->runs && (o->min_runs != 10 || o->max_runs))
		return usage_error(&bench_help, "--runs excludes --min-runs and --max-runs");
	if (o->max_runs && o->max_runs < o->min_runs)
		return usage_error(&bench_help, "--max-runs %lld is below --min-runs %lld", o->max_runs, o->min_runs);
	return 0;
}

/* The "--" command with parameters substituted in each word, shown as one line of quoted words. */
static void make_tail_cmd(const struct bench_opts *o, const char *shell, struct bench_cmd *bc)
{
	struct buf line = BUF_INIT;
	size_t i;

	bc->argv = xcalloc(o->ntail + 1, sizeof(char *));
	for (i = 0; i < o->ntail; i++) {
		bc->argv[i] = bench_substitute(o->tail[i], bc->params, bc->nparams);
		if (i)
			buf_addch(&line, ' ');
		add_quoted(&line, bc->argv[i]);
	}
	bc->display = buf_detach(&line, NULL);
	/* Executed as given, unless --shell asked for a shell by name. */
	if (shell && o->shell && strcmp(o->shell, "default")) {
		bench_free_words(bc->argv);
		bc->argv = NULL;
	}
}

/* Base command `k` with parameter combination `c` (the last axis varies fastest); the usage status on error. */
static int make_cmd(const struct bench_opts *o, const char *shell, size_t k, size_t c, struct bench_cmd *bc)
{
	const struct axes *ax = &o->axes;
	size_t rest = c, a, np = ax->nr;
	struct err e = ERR_INIT;

	memset(bc, 0, sizeof(*bc));
	bc->nparams = np;
	bc->params = np ? xcalloc(np, sizeof(*bc->params)) : NULL;
	for (a = np; a-- > 0;) {
		bc->params[a].name = xstrdup(ax->v[a].name);
		bc->params[a].value = xstrdup(ax->v[a].values[rest % ax->v[a].nr]);
		rest /= ax->v[a].nr;
	}
	if (k >= o->nlines) {
		make_tail_cmd(o, shell, bc);
	} else {
		bc->display = bench_substitute(o->lines[k], bc->params, np);
		bc->argv = shell ? NULL : bench_split_words(bc->display, &e);
		if (!shell && !bc->argv)
			return usage_error(&bench_help, "cannot split command '%s': %s", o->lines[k], e.msg);
	}
	if (o->prepare.nr)
		bc->prepare = bench_substitute(o->prepare.v[o->prepare.nr == 1 ? 0 : k], bc->params, np);
	if (o->conclude.nr)
		bc->conclude = bench_substitute(o->conclude.v[o->conclude.nr == 1 ? 0 : k], bc->params, np);
	if (o->names.nr == o->nbase * o->combos)
		bc->name = bench_substitute(o->names.v[k * o->combos + c], bc->params, np);
	else if (o->names.nr)
		bc->name = bench_substitute(o->names.v[k], bc->params, np);
	return 0;
}

/* Ctrl-C stops the runs (the commands get it too); an inherited "ignore" is kept (nohup). */
static int run_interruptible(struct bench_cmd *cmds, size_t n, struct bench_run_opts *ro, struct err *e)
{
	struct sigaction sa, old_sa;
	struct progress *prog;
	int r;

	ro->stop = &interrupted;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C kills at once */
	if (sigaction(SIGINT, NULL, &old_sa) || old_sa.sa_handler == SIG_IGN || sigaction(SIGINT, &sa, NULL))
		ro->stop = NULL;
	prog = progress_new_count("Benchmarking", 0, "runs");
	r = bench_run(cmds, n, ro, on_progress, prog, e);
	progress_free(prog);
	if (ro->stop)
		sigaction(SIGINT, &old_sa, NULL);
	return r;
}

/*
 * Runs the benchmark and fills `info` for the exports. Returns 0, BENCH_STOPPED after a Ctrl-C (the commands
 * without a finished run are dropped from `cmds`), or -1 (the error printed).
 */
static int run_bench(const struct bench_opts *o, const char *shell, struct bench_cmd *cmds, size_t *ncmds,
		     struct bench_export_info *info)
{
	struct bench_run_opts ro = { .warmup = (size_t)o->warmup, .runs = (size_t)o->runs,
				     .min_runs = (size_t)o->min_runs, .max_runs = (size_t)o->max_runs,
				     .min_time = o->min_time, .shell = shell, .setup = o->setup, .cleanup = o->cleanup,
				     .shuffle = !strcmp(o->order, "shuffle"), .ignore_failure = o->ignore_failure,
				     .show_output = o->show_output };
	struct err e = ERR_INIT;
	size_t k, kept = 0, runs = 0;
	bool via_shell;
	int r;

	if (ro.shuffle) {
		ro.seed = o->seed >= 0 ? (uint64_t)o->seed
				       : (now_ns() ^ ((uint64_t)getpid() << 32)) & ((1ULL << 53) - 1);
		fprintf(stderr, "kiln: shuffled run order, seed %llu (repeat with --seed %llu)\n",
			(unsigned long long)ro.seed, (unsigned long long)ro.seed);
	}
	for (k = 0; k < *ncmds && cmds[k].argv; k++)
		;
	via_shell = k < *ncmds;
	if (via_shell && bench_calibrate_shell(&ro, SHELL_CALIBRATION_RUNS, &e)) {
		error_msg("%s", e.msg);
		return -1;
	}
	r = run_interruptible(cmds, *ncmds, &ro, &e);
	if (r < 0) {
		error_msg("%s", e.msg);
		return -1;
	}
	*info = (struct bench_export_info){ .confidence = o->confidence, .shuffled = ro.shuffle, .seed = ro.seed,
					    .shell = via_shell ? shell : NULL, .shell_wall = ro.shell_wall,
					    .interrupted = r == BENCH_STOPPED };
	if (r != BENCH_STOPPED)
		return 0;
	/* Commands without a finished run have nothing to report. */
	for (k = 0; k < *ncmds; k++) {
		runs += cmds[k].n;
		if (cmds[k].n)
			cmds[kept++] = cmds[k];
		else
			bench_cmd_release(&cmds[k]);
	}
	*ncmds = kept;
	warning_msg("interrupted: reporting the %zu run%s done so far", runs, runs == 1 ? "" : "s");
	return BENCH_STOPPED;
}

/* Exports first: when one cannot be written, that is the one line on stderr. */
static int write_exports(const struct bench_opts *o, const struct bench_cmd *cmds, size_t n,
			 const struct bench_export_info *info)
{
	struct buf b = BUF_INIT;
	char *profile = NULL;
	int r = -1;

	if (o->export_json) {
		bench_export_json(&b, cmds, n, info);
		if (write_file(o->export_json, &b))
			return -1;
	}
	/* The profiled runs come after the timed ones, and not after a Ctrl-C. */
	if ((o->profile || o->profile_out) && !info->interrupted &&
	    !(profile = bench_profile_record(cmds, n, info->shell, o->profile_out)))
		goto out;
	if ((o->hist.dir || o->hist.push) && push_history(&o->hist, cmds, n, info, profile))
		goto out;
	if (o->export_markdown && export(o->export_markdown, bench_export_markdown, cmds, n))
		goto out;
	if (o->export_csv && export(o->export_csv, bench_export_csv, cmds, n))
		goto out;
	r = 0;
out:
	if (profile)
		unlink(profile);
	free(profile);
	return r;
}

/* The results on stdout (text or the export JSON), then each command's warnings on stderr. */
static void print_results(const struct bench_opts *o, const struct bench_cmd *cmds, size_t n,
			  const struct bench_export_info *info)
{
	struct bench_summary *sums = xcalloc(n, sizeof(*sums));
	size_t k;

	for (k = 0; k < n; k++)
		bench_summarize(&cmds[k], o->confidence, &sums[k]);
	if (!strcmp(o->format, "json")) {
		struct buf b = BUF_INIT;

		bench_export_json(&b, cmds, n, info);
		fwrite(b.buf, 1, b.len, stdout);
		buf_release(&b);
	} else {
		bool color = use_color(1);

		for (k = 0; k < n; k++)
			print_result(k, &cmds[k], &sums[k], color);
		if (n > 1)
			print_summary(cmds, sums, n, color);
	}
	for (k = 0; k < n; k++) {
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
	free(sums);
}

static void bench_opts_release(struct bench_opts *o)
{
	size_t k;

	for (k = 0; k < o->axes.nr; k++)
		axis_release(&o->axes.v[k]);
	free(o->axes.v);
	free(o->prepare.v);
	free(o->conclude.v);
	free(o->names.v);
	hist_cli_release(&o->hist);
}

int cmd_bench(int argc, char **argv)
{
	struct bench_opts o = { .min_runs = 10, .min_time = 3, .step = 1, .confidence = 0.95, .order = "round-robin",
				.format = "text", .seed = -1, .hist = HIST_CLI_INIT };
	struct bench_export_info info = { 0 };
	struct bench_cmd *cmds = NULL;
	size_t ncmds = 0, k, c;
	char *shell = NULL;
	int nargs, r, ret = EXIT_USAGE;

	nargs = parse_bench(argc, argv, &o);
	if (nargs == PARSE_HELP)
		ret = EXIT_OK;
	if (nargs < 0)
		goto out;
	if ((ret = expand_args(&o, argv, (size_t)nargs)) || (ret = check_opts(&o, &shell)))
		goto out;
	/* The commands: each base command for each parameter combination. */
	cmds = xcalloc(o.nbase * o.combos, sizeof(*cmds));
	for (k = 0; k < o.nbase; k++) {
		for (c = 0; c < o.combos; c++) {
			if ((ret = make_cmd(&o, shell, k, c, &cmds[ncmds++])))
				goto out;
		}
	}
	ret = EXIT_USAGE;
	r = run_bench(&o, shell, cmds, &ncmds, &info);
	if (r < 0)
		goto out;
	if (r == BENCH_STOPPED && !ncmds) {
		ret = 128 + SIGINT;
		goto out;
	}
	if (write_exports(&o, cmds, ncmds, &info))
		goto out;
	print_results(&o, cmds, ncmds, &info);
	ret = r == BENCH_STOPPED ? 128 + SIGINT : EXIT_OK;
out:
	free(shell);
	for (k = 0; k < ncmds; k++)
		bench_cmd_release(&cmds[k]);
	free(cmds);
	bench_opts_release(&o);
	return ret;
}
