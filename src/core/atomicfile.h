/*
 * Atomic output files: data goes to a temporary file beside the target, which is renamed over the target only
 * when everything was written and closed without error. A failed or interrupted write (SIGINT, SIGTERM, a
 * crash of the writer) never leaves a partial target: open temporaries are unlinked by a signal handler.
 * The path "-" means stdout (written directly).
 */
#ifndef KILN_ATOMICFILE_H
#define KILN_ATOMICFILE_H

#include <stdio.h>

struct err;

struct afile {
	char *path;  /* target, owned */
	char *tmp;   /* temporary path, owned; NULL for stdout */
	FILE *fp;    /* write through this */
};

/* Opens a temporary file for `path`. Returns 0, or -1 with `e` set. */
int afile_open(struct afile *f, const char *path, struct err *e);
/* Flushes, fsyncs and closes the temporary file, then renames it to the target. Frees `f`'s fields. */
int afile_commit(struct afile *f, struct err *e);
/* Discards the temporary file. Safe after a failed commit and on a zeroed struct. */
void afile_abort(struct afile *f);
/* Writes `len` bytes to `path` atomically in one call. */
int afile_write_all(const char *path, const void *data, size_t len, struct err *e);
/* Installs SIGINT/SIGTERM/SIGHUP handlers that unlink open temporaries and re-raise. Called by main(). */
void afile_install_signal_cleanup(void);

#endif
