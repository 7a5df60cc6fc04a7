/* Hashing, an integer-keyed open-addressing map, and string interning with dense ids. */
#include "hash.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "array.h"
#include "xalloc.h"

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* A multiply-mix hash over 8-byte words (in the spirit of wyhash): fast on short names, good distribution. */
uint64_t hash_bytes(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (len * 0xa0761d6478bd642fULL);
	size_t i = 0;

	for (; i + 16 <= len; i += 16)
		h = mix(load64(p + i) ^ 0xe7037ed1a0b428dbULL, load64(p + i + 8) ^ h);
	if (i + 8 <= len) {
		h = mix(load64(p + i) ^ 0x8ebc6af09c88c6e3ULL, h ^ 0x589965cc75374cc3ULL);
		i += 8;
	}
	if (i < len) {
		uint64_t t = 0;

		memcpy(&t, p + i, len - i);
		h = mix(t ^ 0x1d8e4e27c47d124fULL, h ^ 0xa0761d6478bd642fULL);
	}
	return mix(h, 0xe7037ed1a0b428dbULL ^ len);
}

void u64map_release(struct u64map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

uint64_t *u64map_find(const struct u64map *m, uint64_t key)
{
	size_t i;

	/* The reserved key is never stored: looking it up would otherwise "find" an empty slot's garbage value. */
	if (!m->slots || key == U64MAP_EMPTY)
		return NULL;
	for (i = hash_u64(key) & m->mask;; i = (i + 1) & m->mask) {
		if (m->slots[i].key == key)
			return &m->slots[i].val;
		if (m->slots[i].key == U64MAP_EMPTY)
			return NULL;
	}
}

/*
 * Large tables are probed at random, so with 4 KiB pages nearly every probe is a TLB miss as well as a cache
 * miss. Tables of several MiB get 2 MiB-aligned memory marked for transparent huge pages.
 */
#define HUGE_PAGE (2u << 20)

void *hash_table_alloc(size_t bytes)
{
	void *p;

	if (bytes < 2 * HUGE_PAGE)
		return xmalloc(bytes);
	if (posix_memalign(&p, HUGE_PAGE, bytes))
		return xmalloc(bytes);
	madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

static void u64map_resize(struct u64map *m, size_t cap)
{
	struct u64map_slot *old = m->slots;
	size_t ocap = m->slots ? m->mask + 1 : 0, i, j;

	m->slots = hash_table_alloc(cap * sizeof(*m->slots));
	for (i = 0; i < cap; i++)
		m->slots[i].key = U64MAP_EMPTY;
	m->mask = cap - 1;
	for (i = 0; i < ocap; i++) {
		if (old[i].key == U64MAP_EMPTY)
			continue;
		for (j = hash_u64(old[i].key) & m->mask; m->slots[j].key != U64MAP_EMPTY; j = (j + 1) & m->mask)
			;
		m->slots[j] = old[i];
	}
	free(old);
}

uint64_t *u64map_insert(struct u64map *m, uint64_t key, int *inserted)
{
	size_t i;

	/* Load factor at most 1/2: linear probing stays short. */
	if (!m->slots || (m->nr + 1) * 2 > m->mask + 1)
		u64map_resize(m, m->slots ? (m->mask + 1) * 2 : 64);
	for (i = hash_u64(key) & m->mask;; i = (i + 1) & m->mask) {
		if (m->slots[i].key == key) {
			if (inserted)
				*inserted = 0;
			return &m->slots[i].val;
		}
		if (m->slots[i].key == U64MAP_EMPTY)
			break;
	}
	m->slots[i].key = key;
	m->slots[i].val = 0;
	m->nr++;
	if (inserted)
		*inserted = 1;
	return &m->slots[i].val;
}

void u64map_reserve(struct u64map *m, size_t n)
{
	size_t cap = 64;

	while (cap < n * 2)
		cap *= 2;
	if (!m->slots || cap > m->mask + 1)
		u64map_resize(m, cap);
}

void u64map_clear(struct u64map *m)
{
	for (size_t i = 0; m->slots && i <= m->mask; i++)
		m->slots[i].key = U64MAP_EMPTY;
	m->nr = 0;
}

int u64map_next(const struct u64map *m, size_t *pos, uint64_t *key, uint64_t *val)
{
	if (!m->slots)
		return 0;
	while (*pos <= m->mask) {
		size_t i = (*pos)++;

		if (m->slots[i].key != U64MAP_EMPTY) {
			*key = m->slots[i].key;
			*val = m->slots[i].val;
			return 1;
		}
	}
	return 0;
}

void strtab_release(struct strtab *t)
{
	arena_release(&t->arena);
	free(t->strs);
	free(t->lens);
	free(t->hashes);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static void strtab_rehash(struct strtab *t, size_t cap)
{
	size_t i, j;

	free(t->slots);
	t->slots = hash_table_alloc(cap * sizeof(*t->slots));
	memset(t->slots, 0, cap * sizeof(*t->slots));
	t->mask = cap - 1;
	for (i = 0; i < t->nr; i++) {
		for (j = t->hashes[i] & t->mask; t->slots[j]; j = (j + 1) & t->mask)
			;
		t->slots[j] = (uint32_t)i + 1;
	}
}

static inline int64_t strtab_lookup(const struct strtab *t, const char *s, size_t len, uint64_t h, size_t *slot)
{
	size_t i;

	for (i = h & t->mask;; i = (i + 1) & t->mask) {
		uint32_t v = t->slots[i];

		if (!v) {
			*slot = i;
			return -1;
		}
		v--;
		if (t->hashes[v] == h && t->lens[v] == len && !memcmp(t->strs[v], s, len))
			return v;
	}
}

uint32_t strtab_intern(struct strtab *t, const char *s, size_t len)
{
	uint64_t h = hash_bytes(s, len);
	size_t slot;
	int64_t id;

	if (!t->slots)
		strtab_rehash(t, 1024);
	id = strtab_lookup(t, s, len, h, &slot);
	if (id >= 0)
		return (uint32_t)id;
	if (t->nr >= UINT32_MAX - 1)
		abort();
	if (t->nr + 1 > t->alloc) {
		size_t na = t->alloc;

		ALLOC_GROW(t->strs, t->nr + 1, na);
		t->lens = xrealloc(t->lens, na * sizeof(*t->lens));
		t->hashes = xrealloc(t->hashes, na * sizeof(*t->hashes));
		t->alloc = na;
	}
	t->strs[t->nr] = arena_strndup(&t->arena, s, len);
	t->lens[t->nr] = (uint32_t)len;
	t->hashes[t->nr] = h;
	t->slots[slot] = (uint32_t)t->nr + 1;
	t->nr++;
	if (t->nr * 2 > t->mask + 1)
		strtab_rehash(t, (t->mask + 1) * 2);
	return (uint32_t)t->nr - 1;
}

int64_t strtab_find(const struct strtab *t, const char *s, size_t len)
{
	size_t slot;

	if (!t->slots)
		return -1;
	return strtab_lookup(t, s, len, hash_bytes(s, len), &slot);
}
