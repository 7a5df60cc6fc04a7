/*
 * Wait sites: where a waiting thread left the CPU, in the program's own terms. An off-CPU stack ends in the same
 * few scheduler functions for every wait (__schedule under schedule under the system call), so a table of self
 * time would name __schedule for all of them; the wait site is the innermost frame of the program itself:
 *
 *   in a stack that holds interpreted frames (Python), the innermost of them: the function that blocked, not
 *   the interpreter's C functions that carried the call down to the C library;
 *   else the innermost user frame outside the C library, the threading library, the dynamic loader and the C++
 *   runtime (their frames say how the thread waited: read, nanosleep, pthread_cond_wait);
 *   else the innermost user frame; a stack without one (a kernel thread) is its own wait site.
 *
 * `kiln analyze` credits a wait's self time to its wait site (docs/analyze.md, "Off-CPU and wall-clock
 * profiles"); the inclusive totals, the hot path and the rules keep the stacks as they are.
 */
#ifndef KILN_WAITSITE_H
#define KILN_WAITSITE_H

#include <stdbool.h>
#include <stdint.h>

struct frame;
struct profile;

/* Whether a frame is in the C library, the threading library, the dynamic loader or the C++ runtime. */
bool wait_runtime_module(const struct profile *p, const struct frame *f);

/* Whether a frame is the kernel's scheduler, where every thread leaves the CPU (__schedule, schedule, ...). */
bool wait_scheduler_frame(const struct profile *p, const struct frame *f);

/*
 * Per row of `p`, the stack node of its wait site, or the row's own node when the row is not a wait: with
 * `all_waits` every row is one (off-CPU columns); else only rows whose leaf is the scheduler (wall-clock
 * profiles, whose other rows are CPU samples). malloc'd (p->rows_nr entries, the caller frees it); NULL when
 * no row's node changes. Linear in the number of stack nodes and rows.
 */
uint32_t *wait_site_rows(const struct profile *p, bool all_waits);

#endif
