/*
 * A stored profile's body: its (stack id, value) pairs packed as varints. The stack ids are whatever the
 * backend interns stacks as; values are zigzag-encoded so negative diffs survive. Layout: count, then count
 * pairs, each (id varint, zigzag(value) varint).
 */
#ifndef KILN_SERVER_PACKED_H
#define KILN_SERVER_PACKED_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct err;

struct packed_pair {
	uint64_t stack;
	int64_t value;
};

void packed_encode(struct buf *out, const struct packed_pair *pairs, size_t n);
/* Calls `fn` per pair; 0, or -1 with `e` set when the bytes are not a packed vector. */
int packed_decode(const unsigned char *data, size_t len, void (*fn)(void *arg, uint64_t stack, int64_t value),
		  void *arg, struct err *e);

#endif
