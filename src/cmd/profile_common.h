/*
 * kiln profile's command line, shared by its files: profile.c (the one option table, parsing, the run),
 * profile_report.c (the end-of-run report of cpu, offcpu and wall), profile_mem.c (mem), profile_io.c (io),
 * profile_diff.c (--diff). The recording itself is the library's (src/record/run.h).
 */
#ifndef KILN_CMD_PROFILE_COMMON_H
#define KILN_CMD_PROFILE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/options.h"

struct cmd_help;
struct err;
struct format;
struct profile;
struct record_request;
struct record_result;

struct profile_opts {
	const char *mode;
	unsigned mode_bit; /* RECORD_* */
	struct opt_list pids;
	double duration;
	bool all_cpus;
	long long freq;
	const char *call_graph;
	long long stack_size;
	long long mmap_pages;
	bool user_only;
	const char *language;
	double min_block_us;
	bool no_stacks, no_files;
	const char *sample_bytes;
	bool sample;
	long long depth;
	bool no_children;
	const char *output;
	const char *format;
	const char *flamegraph;
	const char *fg_column;
	const char *suppressions;
	const char *json;
	long long top;
	bool quiet;
	bool diff;
	bool no_inline;
	const char *debuginfo;
	/* --push (profile_push.c) */
	const char *push, *every, *service, *service_from;
	struct opt_list tags;
};

/* An output file: a profile format, or a flame graph when `f` is NULL. */
struct profile_output {
	const char *path;
	const struct format *f;
	const char *what; /* for the report: the format's name or "flame graph" */
};

/* The value of --mode as kiln profile's option table reads `argv` ("mem", "offcpu", ...), or NULL when none is
 * given before the command (CPU sampling). */
const char *profile_mode_arg(int argc, char **argv);

/* Parses repeated, comma-separated --pid values into `*out` (caller frees). Returns 0 or -1 with `e` set. */
int profile_parse_pids(const struct opt_list *l, uint32_t **out, size_t *n, struct err *e);
/* Picks the format of `path` from --format or its extension (.svg/.svgz: a flame graph). Prints a usage error
 * and returns 2 when it cannot tell. */
int profile_pick_output(const char *path, const char *format, struct profile_output *out,
			const struct cmd_help *help);
/* Checks that `path`'s directory can be written before a long recording; prints the error and returns -1. */
int profile_check_writable(const char *path);

/* The options of the request that --diff records both commands with (profile.c). */
int profile_request(struct profile_opts *o, const struct cmd_help *help, struct record_request *rq,
		    uint32_t **pids);

/* The end-of-run reports on stderr (and --json), after the outputs were written. Return kiln's exit status
 * adjustments: 0, or EXIT_INTERNAL when a report could not be written. */
void profile_report_cpu(const struct profile_opts *o, struct profile *p, const struct record_result *res);
void profile_report_wait(const struct profile_opts *o, struct profile *p, const struct record_result *res);
int profile_report_io(const struct profile_opts *o, struct profile *p, const struct record_result *res);
int profile_report_mem(const struct profile_opts *o, struct profile *p, const struct record_result *res);
/* mem: checks --sample-bytes and --suppressions before the command runs. Prints the error, returns 2. */
int profile_mem_check(const struct profile_opts *o, const struct cmd_help *help, uint64_t *sample_bytes);
/* Prints "; command exit status N" or how the command ended, for the report's first line. */
void profile_print_ending(const struct record_result *res);

/*
 * -p/-a on a terminal (profile_live.c): says what is recorded, for how long and how to stop ("kiln: recording
 * 1234 (name) for 60 s, Ctrl-C to stop") and hooks a progress line into `rq`. NULL (a no-op for
 * profile_live_end) when quiet, for a launched command, or when stderr is not a terminal.
 */
struct profile_live;
struct profile_live *profile_live_start(const struct profile_opts *o, struct record_request *rq);
void profile_live_end(struct profile_live *l);
/*
 * After the run: kiln's output options (-o, --flamegraph, --json: the entries of `opts` that store into `o`'s
 * outputs) that followed the command went to it, as with perf and env. When their file was not written since
 * `since_ns` (epoch; the command did not write it either), says so in one line with the command line that was meant.
 * `kiln_args` are the `before` arguments given before the command (a final "--" included).
 */
void profile_hint_misplaced(const struct option *opts, const struct profile_opts *o, int before, char **kiln_args,
			    char *const *cmd, uint64_t since_ns);

/* kiln profile --diff: records both commands in-process with `rq`'s options and compares them. */
int profile_diff_run(const char *cmd_a, const char *cmd_b, const struct record_request *rq, const char *svg,
		     bool quiet);

/* --push: the mode check before the others (2 with the error printed, else 0), the options' check after the
 * request was made (sets the rate), and the run; profile_push.c. */
int profile_push_check_mode(const struct profile_opts *o, const struct cmd_help *help);
int profile_push_check(const struct profile_opts *o, const struct cmd_help *help, struct record_request *rq);
int profile_push_run(const struct profile_opts *o, struct record_request *rq, char **argv);

extern const struct cmd_help profile_mem_help, profile_wait_help;

#endif
