/*
 * What pprof's Mapping holds and struct frame has no place for (build ids, address ranges) travels with the
 * profile as comments of a reserved form, which readers add and the pprof writer turns back into Mapping
 * fields instead of emitting them:
 *
 *   kiln:build-id FILE ID
 *   kiln:mapping START LIMIT OFFSET FILE     (hex; START..LIMIT mapped from file offset OFFSET)
 *
 * With the ranges, an unsymbolized frame (a module and a module-relative address, no function) is written back
 * as the absolute address in its mapping, so `go tool pprof BINARY` symbolizes a converted profile as it did
 * the original.
 */
#ifndef KILN_PPROF_META_H
#define KILN_PPROF_META_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/xalloc.h"
#include "../profile/profile.h"

struct err;

/* Writes `p` as profile.proto, gzip-compressed or not (pprof_write.c). */
int pprof_encode(const struct profile *p, bool gzip, FILE *out, struct err *e);

#define PPROF_BUILD_ID_PREFIX "kiln:build-id "
#define PPROF_MAPPING_PREFIX "kiln:mapping "

static inline void pprof_note_mapping(struct profile *p, uint64_t start, uint64_t limit, uint64_t offset,
				      const char *file)
{
	char *c = xasprintf(PPROF_MAPPING_PREFIX "%" PRIx64 " %" PRIx64 " %" PRIx64 " %s", start, limit, offset,
			    file);

	profile_add_comment(p, c);
	free(c);
}

/* True when `c` is a mapping note; `*file` points into `c`. */
static inline bool pprof_parse_mapping(const char *c, uint64_t *start, uint64_t *limit, uint64_t *offset,
				       const char **file)
{
	int at = -1;

	if (strncmp(c, PPROF_MAPPING_PREFIX, strlen(PPROF_MAPPING_PREFIX)))
		return false;
	c += strlen(PPROF_MAPPING_PREFIX);
	if (sscanf(c, "%" SCNx64 " %" SCNx64 " %" SCNx64 " %n", start, limit, offset, &at) != 3 || at <= 0 ||
	    !c[at] || *limit <= *start)
		return false;
	*file = c + at;
	return true;
}

#endif
