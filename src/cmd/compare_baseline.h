/* `kiln compare --baseline-from DIR|URL`: the baseline run of a branch from a benchmark history (compare_baseline.c). */
#ifndef KILN_CMD_COMPARE_BASELINE_H
#define KILN_CMD_COMPARE_BASELINE_H

#include "bench/history.h"
#include "bench/result.h"

struct buf;
struct err;

struct baseline {
	struct bench_set set;   /* the latest run of the branch (and machine, when given) */
	char *desc;             /* "main@abc123def456 (ci-1)", owned */
	char *profile;          /* its stored profile's path, or NULL; owned */
	struct hist h;          /* the history read: a server's lives in a temporary directory until released */
};

/* Loads the baseline from a directory or a kiln serve URL; -1 with `e` set when the store or the branch has no run. */
int baseline_load(struct baseline *b, const char *dir, const char *branch, const char *machine, struct err *e);
void baseline_release(struct baseline *b);
/* Appends the Markdown table of the top `top` functions whose share changed from `before` to `after`. */
int baseline_functions_md(const char *before, const char *after, size_t top, struct buf *out, struct err *e);

#endif
