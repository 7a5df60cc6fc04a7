/*
 * Command-line pieces shared by the modes of `kiln profile` (profile.c: CPU, profile_mem.c: heap,
 * profile_wait.c: off-CPU, wall and I/O): which mode was asked for, --pid lists, output files, signals and the
 * exit status that mirrors the profiled command's.
 */
#ifndef KILN_CMD_PROFILE_COMMON_H
#define KILN_CMD_PROFILE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cmd_help;
struct err;
struct format;
struct opt_list;
struct rec_session;
struct recorder_opts;
struct recorder_result;
struct symbolizer;

/* The value of --mode given before the command ("mem", "offcpu", ...), or NULL (CPU sampling). */
const char *profile_mode_arg(int argc, char **argv);

/* Parses repeated, comma-separated --pid values into `*out` (caller frees). Returns 0 or -1 with `e` set. */
int profile_parse_pids(const struct opt_list *l, uint32_t **out, size_t *n, struct err *e);

/* An output file: a profile format, or a flame graph when `f` is NULL. */
struct profile_output {
	const char *path;
	const struct format *f;
	const char *what; /* for the report: the format's name or "flame graph" */
};

/* Picks the format of `path` from --format or its extension (.svg/.svgz: a flame graph). Prints a usage error
 * and returns 2 when it cannot tell. */
int profile_pick_output(const char *path, const char *format, struct profile_output *out,
			const struct cmd_help *help);
/* What to record: exactly one of a command, --pid or --all-cpus (a command may come with --all-cpus). Returns
 * 0, or prints the usage error and returns its exit status. */
int profile_check_target(const struct cmd_help *help, size_t npids, bool all_cpus, int argc);
/* Checks that `path`'s directory can be written before a long recording; prints the error and returns -1. */
int profile_check_writable(const char *path);

/* A symbolizer for --debuginfo-dir DIRS (searched before /usr/lib/debug) and --no-inline. */
struct symbolizer *profile_symbolizer_new(const char *debuginfo_dirs, bool no_inline);

/*
 * recorder_run() with SIGINT/SIGTERM/SIGHUP handled as kiln profile promises: they end the recording (and reach
 * the command) and the output is still written; a signal the caller ignores stays ignored in the command.
 */
int profile_record(struct recorder_opts *ro, struct rec_session *s, struct recorder_result *res, struct err *e);

/* kiln's exit status for a finished recording: the command's (128+N for signal N), 0 without a command. */
int profile_exit_status(const struct recorder_result *res);

#endif
