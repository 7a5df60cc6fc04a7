/*
 * Decoder of the heap profiler's event stream (preload/heap_wire.h): bytes from one libkiln-heap.so connection
 * go in with heap_stream_feed(), records come out one at a time with heap_stream_next(). The decoder checks
 * every length and type, so a truncated or corrupt stream ends in an error, never in a bad read.
 */
#ifndef KILN_RECORD_HEAP_STREAM_H
#define KILN_RECORD_HEAP_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../preload/heap_wire.h"

struct err;

struct heap_event {
	unsigned type;  /* enum kh_type */
	unsigned kind;  /* ALLOC/REALLOC: enum kh_kind; MAPS: 1 on the last part */
	uint32_t stack; /* ALLOC/REALLOC/STACK: the stack id */
	uint64_t a, b, c; /* CHUNK: tid, time; ALLOC: ptr, size; FREE: ptr; REALLOC: old, ptr, size; STATS: calls,
			    bytes */
	uint64_t stamp;   /* ALLOC, FREE, REALLOC: the event's time stamp */
	const uint64_t *addrs; /* STACK: the return addresses, valid until the next call */
	size_t naddrs;
	const char *text;      /* MAPS: text of this part (not NUL-terminated), valid until the next call */
	size_t text_len;
};

struct heap_stream {
	unsigned char *data;
	size_t len, off, alloc;
	bool have_header;
	struct kh_header header; /* valid once have_header */
	bool failed;
};

void heap_stream_init(struct heap_stream *s);
void heap_stream_release(struct heap_stream *s);
/* Appends bytes received. */
void heap_stream_feed(struct heap_stream *s, const void *data, size_t len);
/*
 * Decodes the next record: returns 1 with `ev` filled, 0 when more bytes are needed, -1 with `e` set when the
 * stream is malformed (it then stays failed). The header is consumed first (heap_stream_header()).
 */
int heap_stream_next(struct heap_stream *s, struct heap_event *ev, struct err *e);
/* The stream's header, or NULL before it arrived. */
const struct kh_header *heap_stream_header(const struct heap_stream *s);
/* Bytes received but not decoded yet (a stream that ends with some is truncated). */
size_t heap_stream_pending(const struct heap_stream *s);

#endif
