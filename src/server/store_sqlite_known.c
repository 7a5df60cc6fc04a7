/*
 * The SQLite writer's set of stored stack nodes (store_sqlite.h, struct sq_known): a fleet's millions of nodes
 * are held in 4-byte slots that name a node number, with each node's 8-byte key in an array indexed by that
 * number, about 14 bytes a node where a map of 16-byte (key, value) slots at most half full took 32 or more
 * (128 MB of a 256 MB budget for 2.9 M nodes).
 */
#include "server/store_sqlite.h"

#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/hash.h"
#include "core/xalloc.h"

static size_t slot_of(const struct sq_known *k, uint64_t key)
{
	return (size_t)(hash_u64(key) & k->mask);
}

/* Places number `seq` in the first free slot of its key's probe sequence. */
static void place(struct sq_known *k, uint32_t seq)
{
	size_t i = slot_of(k, k->keys[seq]);

	while (k->slots[i])
		i = (i + 1) & k->mask;
	k->slots[i] = seq;
}

static void grow(struct sq_known *k)
{
	uint32_t *old = k->slots;
	size_t ncap = k->slots ? (k->mask + 1) * 2 : 1024;

	k->slots = xcalloc(ncap, sizeof(*k->slots));
	k->mask = ncap - 1;
	for (size_t i = 0; old && i < ncap / 2; i++)
		if (old[i])
			place(k, old[i]);
	free(old);
}

int64_t sq_known_find(const struct sq_known *k, uint64_t key, int64_t limit)
{
	if (!k->slots)
		return 0;
	for (size_t i = slot_of(k, key); k->slots[i]; i = (i + 1) & k->mask) {
		uint32_t seq = k->slots[i];

		/* A number at or past `limit` was taken back with its batch and may since name another key. */
		if (seq < limit && k->keys[seq] == key)
			return seq;
	}
	return 0;
}

void sq_known_add(struct sq_known *k, uint64_t key, int64_t seq)
{
	if ((size_t)seq >= k->keys_alloc) {
		size_t had = k->keys_alloc;

		ALLOC_GROW(k->keys, (size_t)seq + 1, k->keys_alloc);
		memset(k->keys + had, 0, (k->keys_alloc - had) * sizeof(*k->keys));
	}
	k->keys[seq] = key;
	/* at most three quarters full: probes stay short, and a slot is 4 bytes */
	if ((k->nr + 1) * 4 > (k->slots ? k->mask + 1 : 0) * 3)
		grow(k);
	place(k, (uint32_t)seq);
	k->nr++;
}

void sq_known_release(struct sq_known *k)
{
	free(k->slots);
	free(k->keys);
	memset(k, 0, sizeof(*k));
}
