/*
 * JIT symbol maps in the perf-PID.map format: one "START SIZE name" line per code region, START and SIZE in hex
 * with or without "0x", the name running to the end of the line (spaces included). When regions overlap the
 * later line wins. Lookups are binary searches over disjoint segments built once per load.
 */
#ifndef KILN_PERFMAP_H
#define KILN_PERFMAP_H

#include <stddef.h>
#include <stdint.h>

struct perfmap;

/* Parses perf map text (need not be NUL-terminated); malformed lines are skipped. Never fails. */
struct perfmap *perfmap_parse(const char *text, size_t len);
void perfmap_free(struct perfmap *m); /* NULL is a no-op */
size_t perfmap_count(const struct perfmap *m); /* disjoint segments */
/* Returns the name covering `addr` (owned by the map) and its region start in `*start`, or NULL. */
const char *perfmap_find(const struct perfmap *m, uint64_t addr, uint64_t *start);

#endif
