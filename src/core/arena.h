/* A bump allocator: many small allocations, freed all at once. Used by a profile for strings and frames. */
#ifndef KILN_ARENA_H
#define KILN_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
	size_t used_total; /* bytes handed out, for memory accounting */
};

#define ARENA_INIT { NULL, 0 }

/* Returns `size` bytes aligned to 16; owned by the arena. */
void *arena_alloc(struct arena *a, size_t size);
/* Copies `len` bytes of `s` and a NUL into the arena. */
char *arena_strndup(struct arena *a, const char *s, size_t len);
void arena_release(struct arena *a);

#endif
