/* Entry points of the subcommands, one per file in src/cmd/. */
#ifndef KILN_CMDS_H
#define KILN_CMDS_H

int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
/* Subcommands: one line each, in the order of the table in main.c. */
int cmd_convert(int argc, char **argv);
int cmd_flamegraph(int argc, char **argv);
int cmd_collapse(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_profile_mem(int argc, char **argv); /* kiln profile --mode mem (profile_mem.c) */
int cmd_profile_wait(int argc, char **argv); /* kiln profile --mode offcpu|wall|io (profile_wait.c) */
/* kiln profile --diff: profile two shell command lines, then compare them (profile_diff.c). */
int profile_diff_run(const char *cmd_a, const char *cmd_b, char *const *pass, size_t npass, const char *svg,
		     _Bool quiet);
int cmd_bench(int argc, char **argv);
int cmd_compare(int argc, char **argv);

int cmd_analyze(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_pgo(int argc, char **argv);

struct profile;
/* Prints the warnings of the reader of `path` ("-" = stdin) on stderr, one line each (read_warnings.c). */
void print_read_warnings(const struct profile *p, const char *path);

#endif
