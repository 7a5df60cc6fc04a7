/*
 * The I/O report of `kiln profile --mode io` (docs/io.md), built from the I/O summary a profile carries
 * (profile/meta.h, struct io_meta): the system call table (calls, errors, total / mean / max latency), latency
 * histograms of the three heaviest calls, the slowest calls with their stacks, bytes per file and block device
 * requests, as text or as JSON. `kiln profile` prints it live and `kiln analyze io.pb.gz` reprints it from
 * the file; nothing here prints.
 */
#ifndef KILN_ANALYZE_IO_REPORT_H
#define KILN_ANALYZE_IO_REPORT_H

#include <stdbool.h>

struct buf;
struct jw;
struct profile;

/* True when `p` carries an I/O summary. */
bool io_report_applies(const struct profile *p);

/* "N system calls in D of recording[, T in them]" (no newline): the report's first line. */
void io_report_format_summary(struct buf *out, const struct profile *p);

/* The tables, `top` rows per table (0: the system call table and the totals only). */
void io_report_format_text(struct buf *out, const struct profile *p, long long top);

/* The summary as one JSON object value (docs/io.md): duration_ns, counts_only, calls, errors, total_ns,
 * syscalls, slowest, files (null when not traced) and block (null when not traced). */
void io_report_format_json(struct jw *j, const struct profile *p);

#endif
