/* Entry points of the subcommands, one per file in src/cmd/. */
#ifndef KILN_CMDS_H
#define KILN_CMDS_H

int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
/* Subcommands: one line each, in the order of the table in main.c. */
int cmd_convert(int argc, char **argv);
int cmd_profile(int argc, char **argv);

#endif
