/* A live progress line on stderr, shown only when stderr is a terminal; throttled to a few updates a second. */
#ifndef KILN_PROGRESS_H
#define KILN_PROGRESS_H

#include <stdint.h>

struct progress;

/* Returns NULL (a valid no-op handle) when stderr is not a terminal. `total` 0 means unknown. */
struct progress *progress_new(const char *title, uint64_t total);
/*
 * A progress line of counted steps that each take a while (benchmark runs): "TITLE: 40% (12 / 30 UNIT, 3.1 s,
 * about 4.6 s left)", refreshed on any update at most a few times a second. NULL when stderr is not a terminal.
 */
struct progress *progress_new_count(const char *title, uint64_t total, const char *unit);
/* A progress line of time passing (a recording of a set length): "TITLE: 40% (24.0 / 60.0 s)"; `done` and
 * `total_ns` in nanoseconds, `total_ns` 0 when the end is not known ("TITLE: 24.0 s"). */
struct progress *progress_new_time(const char *title, uint64_t total_ns);
/* Sets the total once it is known (after a first benchmark round sized the runs). */
void progress_set_total(struct progress *p, uint64_t total);
/* `done` is in the unit of `total` (bytes are shown as MB, unless made by progress_new_count()). */
void progress_update(struct progress *p, uint64_t done);
/* Clears the line and frees; NULL is a no-op. */
void progress_free(struct progress *p);

#endif
