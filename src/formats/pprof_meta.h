/*
 * The pprof form of a profile's typed metadata (profile/meta.h). Build ids and mapping ranges are Mapping fields
 * (with the ranges, an unsymbolized frame, a module and a module-relative address, is written back as the
 * absolute address in its mapping, so `go tool pprof BINARY` symbolizes a converted profile as it did the
 * original). The rest travels as comments of reserved forms, the same ones earlier kiln versions wrote:
 *
 *   event: NAME                     the sampled event (perf script)
 *   samples: N                      samples behind weighted values
 *   kiln-heap: KEY=VALUE            a heap scalar (heap_meta_names), VALUE a decimal integer
 *   kiln-heap: histogram=B:N,B:N    the allocation size histogram's non-zero buckets
 *   kiln-io: KEY=N                  an I/O summary scalar: duration_ns, calls, errors, total_ns, dropped,
 *                                   counts_only, files_traced, block (the last three 0 or 1)
 *   kiln-io: syscall=NR NAME CALLS ERRORS TOTAL_NS MAX_NS HIST          one row per system call, in order
 *   kiln-io: slow=LAT_NS NR NAME PID TID ARG0 RET WHERE                 one of the slowest calls
 *   kiln-io: file=PID READS WRITES READ_BYTES WRITE_BYTES READ_NS WRITE_NS PATH
 *   kiln-io: block_DIR=REQUESTS BYTES TOTAL_NS MAX_NS HIST             DIR: read, write, other
 *
 * NAME is "-" when unknown; HIST is "B:N,B:N" (non-zero buckets) or "-"; WHERE and PATH are the rest of the
 * comment (they may hold spaces; WHERE may be empty).
 *
 * The writer emits them after the profile's own comments; the reader turns them back into typed fields and
 * keeps every other comment as it is.
 */
#ifndef KILN_PPROF_META_H
#define KILN_PPROF_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct err;
struct profile;

/* Writes `p` as profile.proto, gzip-compressed or not (pprof_write.c). */
int pprof_encode(const struct profile *p, bool gzip, FILE *out, struct err *e);

/* A comment read from a file: into `p->meta` when it has a reserved form, else a comment of `p`. */
void pprof_meta_read_comment(struct profile *p, const char *c);

/* The comments that carry `p->meta`, malloc'd (array and strings; free them); returns their number. */
size_t pprof_meta_comments(const struct profile *p, char ***out);

#endif
