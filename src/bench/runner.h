/*
 * The benchmark runner behind `kiln bench`: runs commands (directly, or through a shell when asked) with
 * warmup, prepare/conclude before/after each run, setup/cleanup around all runs of a command, and records per
 * run the wall, user and system time, the maximum RSS (wait4) and the exit status. With several commands the
 * runs are interleaved (round-robin, or a seeded shuffle each round) so that drift on a noisy machine hits all
 * commands alike. Then summaries, hyperfine-like warnings, and exports (hyperfine's JSON schema, Markdown, CSV).
 */
#ifndef KILN_BENCH_RUNNER_H
#define KILN_BENCH_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct err;

struct bench_param {
	char *name, *value; /* owned */
};

struct bench_cmd {
	char *display;               /* the command line (run through the shell when there is one), owned */
	char *name;                  /* --command-name, or NULL for `display`; owned */
	char **argv;                 /* NULL-terminated words to exec (no shell), owned; NULL with a shell */
	char *prepare, *conclude;    /* shell snippets run before/after each run, or NULL; owned */
	struct bench_param *params;  /* the parameter values of this command, owned */
	size_t nparams;
	/* Per run, filled by bench_run(). */
	double *wall, *user, *sys;   /* seconds */
	double *rss;                 /* maximum resident set size, bytes */
	int *exit_codes;             /* exit status, or 128 + signal */
	size_t n, alloc;
	size_t target;               /* runs planned */
};

struct bench_run_opts {
	size_t warmup;
	size_t runs;          /* exact number of runs; 0 = automatic */
	size_t min_runs;      /* automatic: at least this many (default 10) */
	size_t max_runs;      /* automatic: at most this many; 0 = no limit */
	double min_time;      /* automatic: at least this many seconds per command (default 3) */
	const char *shell;    /* run the commands through `SHELL -c`; NULL = exec directly */
	const char *setup, *cleanup; /* shell snippets run once before/after a command's runs (after substitution) */
	bool shuffle;         /* shuffle the order within each round */
	uint64_t seed;
	bool ignore_failure;  /* a non-zero exit status of a command is not an error */
	bool show_output;     /* let the commands write to the terminal (default: /dev/null) */
	/* The mean cost of `SHELL -c ''`, subtracted from every run through the shell (hyperfine's correction). */
	double shell_wall, shell_user, shell_sys;
	/* Set (by the caller's SIGINT handler) to stop after the current run; may be NULL. */
	const volatile sig_atomic_t *stop;
};

/* bench_run()'s return value when `stop` was set: the runs finished before it are kept. */
#define BENCH_STOPPED 1

/* Splits a command line into words with sh-like quoting ('...', "...", \x); NULL with `e` set on bad quoting. */
char **bench_split_words(const char *s, struct err *e);
void bench_free_words(char **w);
/*
 * Finds a shell by name in PATH, or takes a path (containing '/') as is if it is executable. Returns a new
 * string, or NULL with `e` set.
 */
char *bench_find_shell(const char *name, struct err *e);
/*
 * Measures `SHELL -c ''` `count` times (hyperfine's calibration: 50) and stores the mean wall, user and system
 * times in `o`; -1 with `e` set when the shell cannot be run or fails.
 */
int bench_calibrate_shell(struct bench_run_opts *o, size_t count, struct err *e);
/* Replaces every "{NAME}" of the parameters in `s`; returns a new string. */
char *bench_substitute(const char *s, const struct bench_param *p, size_t np);

void bench_cmd_release(struct bench_cmd *c);
/* The name shown and exported: --command-name, else the command line. */
static inline const char *bench_cmd_name(const struct bench_cmd *c) { return c->name ? c->name : c->display; }

/*
 * Runs everything: setups, warmup rounds, measured rounds, cleanups. `on_run` (may be NULL) is called after
 * each measured run with the number done and the total planned. Returns 0, BENCH_STOPPED when `o->stop` was set
 * (the run under way is dropped, cleanups still run), or -1 with `e` set (a command that cannot be run, a
 * failing command without ignore_failure, a failing prepare/setup/cleanup).
 */
int bench_run(struct bench_cmd *cmds, size_t n, const struct bench_run_opts *o,
	      void (*on_run)(void *ctx, size_t done, size_t total), void *ctx, struct err *e);

/* Summary of one command's runs. */
struct bench_summary {
	size_t n;
	double mean, stddev, median, min, max;
	double user_mean, sys_mean;
	double rss_max;               /* bytes */
	double ci_lo, ci_hi, confidence;
};

void bench_summarize(const struct bench_cmd *c, double confidence, struct bench_summary *s);
/* The index of the summary with the lowest mean (the first of equals); 0 when n is 0. */
size_t bench_fastest(const struct bench_summary *s, size_t n);
/*
 * How many times faster `fast` ran than `slow` (the ratio of means) and the ratio's standard deviation by
 * propagation of the two relative errors, as hyperfine's summary; a missing stddev (one run) counts as 0.
 */
void bench_ratio(const struct bench_summary *fast, const struct bench_summary *slow, double *ratio, double *sd);
/* Appends warnings, one per line without a prefix ("statistical outliers were detected ..."). */
void bench_warnings(const struct bench_cmd *c, const struct bench_summary *s, struct buf *out);

/* What the JSON export records about the run besides the results. */
struct bench_export_info {
	double confidence;
	bool shuffled;
	uint64_t seed;         /* written only when shuffled */
	const char *shell;     /* the shell the commands ran through, or NULL */
	double shell_wall;     /* its calibrated start-up time, subtracted from the runs */
	bool interrupted;      /* stopped by Ctrl-C: the runs done so far */
};

/* Exports in hyperfine's formats. */
void bench_export_json(struct buf *out, const struct bench_cmd *cmds, size_t n, const struct bench_export_info *info);
void bench_export_markdown(struct buf *out, const struct bench_cmd *cmds, size_t n);
void bench_export_csv(struct buf *out, const struct bench_cmd *cmds, size_t n);

#endif
