/*
 * kiln pgo's instrumented workflow: instrument (build with profiling), train (run, any number of times, merged)
 * and optimize (rebuild with the merged profile, report its coverage and stale functions). Everything lives in
 * one directory, `.kiln-pgo/` by default:
 *
 *   toolchain     the compiler chosen at instrument time ("gcc PATH" or "clang PATH") and the runs merged
 *   bin/          the compiler wrappers of the current phase
 *   gen/          where an instrumented program writes when run outside `kiln pgo train`
 *   profile/      the merged profile: GCC's .gcda files, or Clang's merged.profdata
 *   compiles.log  one line per compilation seen by the wrappers during the last build
 *
 * A training run writes into a staging directory (GCOV_PREFIX / LLVM_PROFILE_FILE) that replaces profile/
 * only when the run succeeded and wrote a profile, so a failed run never half-merges.
 */
#ifndef KILN_PGO_DRIVER_H
#define KILN_PGO_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "pgo/coverage.h"
#include "pgo/diag.h"
#include "pgo/toolchain.h"

struct err;

struct pgo_opts {
	const char *dir; /* the working directory, default ".kiln-pgo" */
	const char *cc;  /* instrument: "gcc", "clang" or a compiler; NULL = $CC or cc */
	bool quiet;      /* do not copy the build's standard error through */
};

struct pgo_result {
	enum pgo_toolchain tc;
	size_t compiles;   /* compilations of sources the wrappers saw */
	size_t files;      /* train: profile files the run wrote */
	size_t runs;       /* train: training runs merged so far */
	struct pgo_coverage cov; /* optimize: of the merged profile */
	struct pgo_diag diag;    /* optimize: what the compiler said about the profile */
	char *profile;     /* the merged profile's path, owned */
};

void pgo_result_release(struct pgo_result *r);

/*
 * Parses the `toolchain` file ("toolchain gcc\ncc /usr/bin/gcc-12\nruns 2\n", any bytes): returns the compiler's
 * path (the caller frees it) or NULL when there is none, and sets `*runs`.
 */
char *pgo_state_parse(const char *text, size_t len, size_t *runs);

/*
 * Each returns 0, or -1 with `e` set to one line naming the cause (no compiler, the build or run failing with
 * its status, nothing compiled, no profile written). On failure the directory is as it was before the call.
 */
int pgo_instrument(const struct pgo_opts *o, char *const *build, struct pgo_result *r, struct err *e);
int pgo_train(const struct pgo_opts *o, char *const *cmd, struct pgo_result *r, struct err *e);
int pgo_optimize(const struct pgo_opts *o, char *const *build, struct pgo_result *r, struct err *e);

#endif
