/* The history options shared by `kiln bench --history/--push` and `kiln push-bench` (bench_history.c). */
#ifndef KILN_CMD_BENCH_HISTORY_H
#define KILN_CMD_BENCH_HISTORY_H

#include "core/options.h"

struct bench_set;

struct hist_cli {
	const char *dir, *push, *commit, *branch, *machine;
	long long time;          /* -1: now */
	struct opt_list labels;  /* KEY=VALUE */
};

#define HIST_CLI_INIT { NULL, NULL, NULL, NULL, NULL, -1, { NULL, 0, 0 } }

/* The option rows, to splice into a command's table. */
#define HIST_CLI_OPTIONS(h)                                                                                         \
	OPT_STRING(0, "history", &(h)->dir, "DIR", "store the run in the benchmark history directory DIR"),          \
	OPT_STRING(0, "push", &(h)->push, "URL", "store the run in kiln serve at URL"),                              \
	OPT_STRING(0, "commit", &(h)->commit, "SHA", "the commit measured (default: $GITHUB_SHA, $CI_COMMIT_SHA)"), \
	OPT_STRING(0, "branch", &(h)->branch, "NAME",                                                              \
		   "its branch (default: $GITHUB_REF_NAME, $CI_COMMIT_REF_NAME)"),                                 \
	OPT_STRING(0, "machine", &(h)->machine, "NAME", "machine label (default: the host name)"),                 \
	OPT_INT(0, "time", &(h)->time, "EPOCH", "the run's time in seconds since 1970 (default: now)", 0,          \
		4102444800.0),                                                                                      \
	OPT_LIST(0, "label", &(h)->labels, "KEY=VALUE", "a free label stored with the run")

/* Checks the options (a usage error names the missing one); returns 0 or an exit status. Call it when --history
 * or --push is given. */
int hist_cli_check(struct hist_cli *h, const struct cmd_help *help);
/* Appends `set` (and the profile at `profile`, may be NULL) to the directory and/or the server; prints the error;
 * 0 or exit status. */
int hist_cli_push(const struct hist_cli *h, const struct bench_set *set, const char *profile);
void hist_cli_release(struct hist_cli *h);

struct bench_cmd;
/*
 * `kiln bench --profile` (bench_profile.c): runs each command once more under the CPU recorder and merges the
 * runs into one profile, also written to `keep` when set (format from its extension). Returns the path of a
 * temporary pprof file for the store (the caller unlinks and frees it), or NULL with the error printed.
 */
char *bench_profile_record(const struct bench_cmd *cmds, size_t n, const char *shell, const char *keep);

#endif
