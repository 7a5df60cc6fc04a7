/* Hashing and two hash tables: u64map (integer keys) and strtab (string interning with dense ids). */
#ifndef KILN_HASH_H
#define KILN_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* A fast non-cryptographic 64-bit hash of `len` bytes. */
uint64_t hash_bytes(const void *data, size_t len);

/* Memory for a large, randomly probed table (huge pages where the kernel allows); free() it. */
void *hash_table_alloc(size_t bytes);

static inline uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/*
 * Open-addressing map from uint64 keys to uint64 values. Key UINT64_MAX is reserved (the empty slot).
 */
struct u64map_slot {
	uint64_t key;
	uint64_t val;
};

struct u64map {
	struct u64map_slot *slots; /* key and value side by side: one cache line per probe */
	size_t nr;   /* entries */
	size_t mask; /* capacity - 1; capacity is a power of two */
};

#define U64MAP_INIT { NULL, 0, 0 }
#define U64MAP_EMPTY UINT64_MAX

void u64map_release(struct u64map *m);
/* Returns a pointer to the value for `key`, or NULL when absent (always for U64MAP_EMPTY). */
uint64_t *u64map_find(const struct u64map *m, uint64_t key);
/* Returns a pointer to the value for `key`, inserting it with `*inserted` = 1 and value 0 when absent. */
uint64_t *u64map_insert(struct u64map *m, uint64_t key, int *inserted);
/* Starts loading the slot where `key`'s probe begins: a batch of lookups or inserts into a table larger than the
 * caches issues these a few keys ahead, so that the misses overlap. */
static inline void u64map_prefetch(const struct u64map *m, uint64_t key)
{
	if (m->slots)
		__builtin_prefetch(&m->slots[hash_u64(key) & m->mask]);
}
/* Makes room for `n` entries without growing again (a caller that knows its size skips the rehashes). */
void u64map_reserve(struct u64map *m, size_t n);
/* Removes every entry, keeping the slots (a map filled again with about as many entries does not grow again). */
void u64map_clear(struct u64map *m);
/* Iterates: `*pos` starts at 0; returns 0 when done. */
int u64map_next(const struct u64map *m, size_t *pos, uint64_t *key, uint64_t *val);

/*
 * String interning: each distinct byte string gets a dense id (0, 1, 2, ...). Strings may contain any bytes;
 * the stored copy is NUL-terminated and lives in the table's arena until strtab_release().
 */
struct strtab {
	struct arena arena;
	const char **strs;   /* id -> string */
	uint32_t *lens;      /* id -> length */
	uint64_t *hashes;    /* id -> hash */
	size_t nr, alloc;
	uint32_t *slots;     /* open addressing: id + 1, 0 = empty */
	size_t mask;
};

#define STRTAB_INIT { ARENA_INIT, NULL, NULL, NULL, 0, 0, NULL, 0 }

void strtab_release(struct strtab *t);
uint32_t strtab_intern(struct strtab *t, const char *s, size_t len);
/* Returns the id, or -1 when `s` was never interned. */
int64_t strtab_find(const struct strtab *t, const char *s, size_t len);
static inline const char *strtab_str(const struct strtab *t, uint32_t id) { return t->strs[id]; }
static inline uint32_t strtab_len(const struct strtab *t, uint32_t id) { return t->lens[id]; }

#endif
