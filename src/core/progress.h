/* A live progress line on stderr, shown only when stderr is a terminal; throttled to a few updates a second. */
#ifndef KILN_PROGRESS_H
#define KILN_PROGRESS_H

#include <stdint.h>

struct progress;

/* Returns NULL (a valid no-op handle) when stderr is not a terminal. `total` 0 means unknown. */
struct progress *progress_new(const char *title, uint64_t total);
/* `done` is in the unit of `total` (bytes are shown as MB). */
void progress_update(struct progress *p, uint64_t done);
/* Clears the line and frees; NULL is a no-op. */
void progress_free(struct progress *p);

#endif
