/*
 * Running the user's build and training commands for kiln pgo: with extra environment variables, its standard
 * error copied through (so the user sees the build) and kept (so the compiler's profile warnings can be read).
 */
#ifndef KILN_PGO_RUN_H
#define KILN_PGO_RUN_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct err;

struct pgo_cmd {
	char *const *argv;   /* the command; one word with shell syntax in it runs through /bin/sh -c */
	const char *const *env; /* "NAME=VALUE" overrides (NULL-terminated, may be NULL) */
	bool quiet;          /* do not copy the command's standard error to ours */
	bool with_stdout;    /* its standard output goes the same way as its standard error (tool queries) */
	struct buf *stderr_copy; /* when non-NULL, receives everything the command wrote on standard error */
};

/*
 * Runs the command and waits for it. Returns 0 with `*status` set to its exit status (128+N for a signal N),
 * or -1 with `e` set when it could not be started (127 in `*status` when it was not found).
 */
int pgo_cmd_run(const struct pgo_cmd *c, int *status, struct err *e);

/* A display form of argv for messages ("make -B"); the caller frees it. */
char *pgo_cmd_display(char *const *argv);

#endif
