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
int cmd_bench(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_push_bench(int argc, char **argv);
int cmd_trend(int argc, char **argv);

int cmd_analyze(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_pgo(int argc, char **argv);

struct profile;
/* Prints the warnings of the reader of `path` ("-" = stdin) on stderr, one line each (read_warnings.c). */
void print_read_warnings(const struct profile *p, const char *path);

#endif
