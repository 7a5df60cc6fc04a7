/*
 * gperftools' legacy binary CPU profile (CPUPROFILE=..., "Google CPU Profiler Binary Data File Format"), read into
 * the model as pprof does: native-word slots in native byte order; a header 0, 3, 0, period (us), 0; records
 * (count, depth, PCs leaf first); the trailer 0, 1, 0; then the text of /proc/self/maps. Addresses stay
 * unsymbolized: a frame is a module (from the maps text) and an address in it, or a bare address; the executable
 * mappings' ranges are kept in the profile's metadata (profile/meta.h), so that pprof output can be symbolized like the original.
 */
#ifndef KILN_PPROF_LEGACY_H
#define KILN_PPROF_LEGACY_H

#include <stdbool.h>
#include <stddef.h>

struct err;
struct profile;

/* True when `d` starts with a legacy CPU profile header (any slot size and byte order). */
bool pprof_legacy_detect(const unsigned char *d, size_t len);
/* Reads a whole legacy CPU profile into `p`: columns samples/count and cpu/nanoseconds. */
int pprof_legacy_read(struct profile *p, const unsigned char *d, size_t len, struct err *e);

#endif
