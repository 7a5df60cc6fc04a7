/*
 * The I/O mode's fallback where eBPF is not allowed: one perf_event counting event per system call
 * (the tracefs tracepoints syscalls:sys_enter_NAME; tracefs is mounted when it is not), inherited by the
 * command's threads and children and enabled at its exec. It counts calls per system call and nothing else:
 * no latency, errors, stacks or files. Only for a launched command (an inherited counter reaches the parent's
 * count when the child exits).
 */
#ifndef KILN_RECORD_IOTRACE_COUNT_H
#define KILN_RECORD_IOTRACE_COUNT_H

#include <stdint.h>

struct err;
struct io_result;
struct profile;

/* Finds the system call tracepoints. Returns NULL with `e` set when there are none (no tracefs). */
struct iocount *iocount_new(struct err *e);
void iocount_free(struct iocount *c); /* NULL is a no-op */

/* Opens the counters on the gated child `pid` (before its exec). Returns 0, or -1 with `e` set. */
int iocount_attach(struct iocount *c, uint32_t pid, struct err *e);

/* Fills res->sys (counts only) and res->calls and sets res->counts_only; the rest of `res` stays empty. */
void iocount_read(struct iocount *c, struct io_result *res);

/* Adds the counts to `p`: column syscalls/count, one stack per system call (a frame named after it). */
void iocount_profile(const struct io_result *res, struct profile *p);

#endif
