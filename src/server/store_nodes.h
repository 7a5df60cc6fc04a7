/*
 * Stack nodes by dense number, for merges (both backends). A stored stack is a chain of nodes, each naming its
 * parent and its frame; numbering a tenant's nodes densely, each after its parent, turns the walks of a large
 * merge into passes over arrays: SQLite numbers them in meta.db, the PostgreSQL reader numbers what it has read
 * of the content-addressed stacks in its own memory (store_pg_nodes.c).
 */
#ifndef KILN_SERVER_STORE_NODES_H
#define KILN_SERVER_STORE_NODES_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hash.h"
#include "server/store_impl.h"

/*
 * A node table by number, shared by the queries that read it and grown by the nodes read since (a node never
 * changes). 8 bytes a node (a fleet's 2.9 M nodes are 23 MB; its frames are a few ten thousand, numbered here):
 * rebuilding a merge walks every stack up to its root, and a B-tree lookup per node was most of a large merge's
 * time.
 */
struct store_nodes {
	pthread_rwlock_t lock; /* read: a rebuild using the arrays; write: adding nodes (the owner's to take) */
	uint32_t *parent;      /* by node number: the parent's number (0: a top-level frame) */
	uint32_t *frame;       /* by node number: 1 + the frame's index in frame_ids, 0 where there is no node */
	size_t n, alloc;       /* numbers below n were read */
	int64_t *frame_ids;    /* the stored frame ids */
	size_t nframes, frames_alloc;
	struct u64map frame_at; /* stored frame id -> its index in frame_ids */
};
/* The stored frame id of node `seq` (< c->n), 0 where there is no such node. */
static inline int64_t store_node_frame(const struct store_nodes *c, size_t seq)
{
	return c->frame[seq] ? c->frame_ids[c->frame[seq] - 1] : 0;
}
/* Adds node `seq` (0 < parent < seq, checked by the caller; seq past every number in the table). */
void store_nodes_put(struct store_nodes *c, int64_t seq, int64_t parent, int64_t frame);
/* Frees the arrays (not the lock: the owner initializes and destroys it). */
void store_nodes_release(struct store_nodes *c);

/*
 * Rebuilds the stacks that `*sums` sums (by node number, `*nsums` of them, from store_big_zalloc) and `late`
 * (numbers past those, and 0 for the empty stack) as a flame graph of at most about `max_nodes` nodes will show
 * them (Pyroscope's maxNodes, shared/protocols/pyroscope.md 7.2): totals are summed up the node table by number,
 * the nodes under the max_nodes-th largest total are not built, and their totals go to one "other" child of their
 * parent, so the graph's totals stay exact. Only kept nodes get frames and names (rb->frame, once each into
 * rb->frames; rb->node is not used). `*sums` is grown to the node table and overwritten (subtree totals); the
 * caller still frees it. The caller holds the table's read lock.
 */
int store_nodes_truncated(struct store_rebuild *rb, const struct store_nodes *c, int64_t **sums, size_t *nsums,
			  const struct store_sums *late, int64_t max_nodes, struct err *e);

/*
 * Arrays over a node table for one query (a merge's sums), mapped and unmapped whole: freed to malloc, glibc
 * keeps a block of tens of MB in the arena of the thread that used it (its mmap threshold rises to the largest
 * block freed), so every connection thread that ran a large merge kept one. New bytes are zero; sizes in bytes.
 */
void *store_big_zalloc(size_t size);
void *store_big_grow(void *p, size_t old, size_t size);
void store_big_free(void *p, size_t size);

/*
 * A set of 64-bit node keys (hashes of content) by their node numbers 1 .. INT32_MAX, about 14 bytes a node
 * where a map of 16-byte (key, value) slots at most half full takes 32 or more. Numbers are handed out in order,
 * so a failed batch can take its numbers back by lowering the next one: a key whose number is at or past
 * `limit` (the next number) is not in the set.
 */
struct store_keys {
	uint32_t *slots; /* open addressing on the key's hash: a node number, 0 for a free slot */
	size_t mask, nr;
	uint64_t *keys;  /* node number -> key */
	size_t keys_alloc;
};
int64_t store_keys_find(const struct store_keys *k, uint64_t key, int64_t limit); /* 0: absent */
void store_keys_add(struct store_keys *k, uint64_t key, int64_t seq);
/* Starts loading the slot where the search for `key` begins (a batch of finds issues these first). */
static inline void store_keys_prefetch(const struct store_keys *k, uint64_t key)
{
	if (k->slots)
		__builtin_prefetch(&k->slots[hash_u64(key) & k->mask]);
}
void store_keys_release(struct store_keys *k);

#endif
