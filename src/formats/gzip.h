/* gzip through zlib: detection, inflating (gzip or zlib, concatenated members) and deflating to gzip. */
#ifndef KILN_GZIP_H
#define KILN_GZIP_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct err;

/* True when `d` starts with the gzip magic bytes. */
bool gzip_is(const unsigned char *d, size_t len);
/*
 * Appends the inflated `in` (gzip or zlib; concatenated gzip members are followed) to `out`. More than `max`
 * bytes of output is an error. With `partial` (for probing a file's first bytes), truncated or corrupt input and
 * reaching `max` end quietly with what was inflated so far. Returns 0, or -1 with `e` set.
 */
int gzip_inflate(const unsigned char *in, size_t in_len, size_t max, bool partial, struct buf *out,
		 struct err *e);
/* Appends `in` compressed as one gzip member to `out`. Returns 0, or -1 with `e` set. */
int gzip_deflate(const unsigned char *in, size_t len, struct buf *out, struct err *e);

#endif
