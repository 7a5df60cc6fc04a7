/*
 * A server's cache of folded stacks: the text of a folded line's stack (per tenant) -> the content id that
 * store_encode gives that stack. A fleet sends the same few thousand stacks per service every few seconds;
 * with the cache, an ingest whose lines are all known hashes each line once instead of parsing every frame
 * into a profile and hashing every stack node again (most of the CPU a folded ingest took).
 *
 * An entry is learned from a body that the full path parsed and the store acknowledged: its text, walked
 * frame by frame through the profile that the folded reader built from that same body, leads to the node
 * whose id it records, so a later line of the same text stands for the same stack, and that stack is stored.
 * Only plain "STACK COUNT" lines are looked up or learned (one space before a decimal count, no tab, CR or
 * NUL, no second count); a body with any other line takes the full path, which reads it as before. Of a body
 * of plain lines, only the lines not found are parsed: each plain line is read alone, whatever its neighbours.
 *
 * Thread-safe: lookups (without a lock) and learning from any number of request threads.
 */
#ifndef KILN_SERVER_STACK_CACHE_H
#define KILN_SERVER_STACK_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct profile;
struct store_pair;

struct stack_cache;

/* A cache of at most `max_entries` stacks (32 bytes each, taken as entries are learned); when full, it keeps
 * what it has and learns no more. */
struct stack_cache *stack_cache_new(size_t max_entries);
void stack_cache_free(struct stack_cache *c); /* NULL is a no-op */

/*
 * Looks up the lines of a folded body. -1 when a line is not plain (the body takes the full path); otherwise
 * the number of lines found: `*pairs` (malloc'd, the caller frees it; NULL when none) holds one (stack id,
 * count) per stack found, sorted by id, the counts of its lines summed, and each line not found is appended to
 * `missed` with its newline, for the full path to read.
 */
int stack_cache_lookup(struct stack_cache *c, int64_t tenant_id, const char *body, size_t len,
		       struct store_pair **pairs, size_t *npairs, struct buf *missed);

/* Learns the plain lines of a folded body from `p`, the profile that the folded reader made of it, once the
 * store has acknowledged it. */
void stack_cache_learn(struct stack_cache *c, int64_t tenant_id, const char *body, size_t len,
		       const struct profile *p);

/* Entries held, for /metrics. */
size_t stack_cache_size(struct stack_cache *c);

#endif
