/*
 * Decoder of the heap profiler's event stream (core/heap_wire.h): bytes from one libkiln-heap.so connection
 * go in with heap_stream_feed(), records come out one at a time with heap_stream_next(). The decoder checks
 * every length and type, so a truncated or corrupt stream ends in an error, never in a bad read.
 */
#ifndef KILN_RECORD_HEAP_STREAM_H
#define KILN_RECORD_HEAP_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/heap_wire.h"

struct err;

struct heap_event {
	unsigned type;  /* enum kh_type */
	unsigned kind;  /* STACK, ALLOC: enum kh_kind; FREE: KH_FREE_TEMPORARY or 0; MAPS: 1 on the last part */
	uint32_t stack; /* STACK, ALLOC, FREE, SITE: the site id; WINDOW: the number of SITE records after it */
	uint64_t a, b;  /* CHUNK: tid, time; ALLOC, FREE: size; STATS: calls, bytes */
	const uint64_t *addrs; /* STACK: the return addresses; WINDOW, SITE, HIST: the record's words (valid
				  until the next call) */
	size_t naddrs;
	const char *text;      /* MAPS: text of this part (not NUL-terminated), valid until the next call */
	size_t text_len;
};

struct heap_stream {
	unsigned char *data;
	size_t len, off, alloc;
	uint64_t pos;            /* bytes of the stream decoded so far */
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
 * stream is malformed (it then stays failed). The header is consumed first (heap_stream_header()). `ev`'s
 * pointers stay valid until the next call.
 */
int heap_stream_next(struct heap_stream *s, struct heap_event *ev, struct err *e);
/* The stream's header, or NULL before it arrived. */
const struct kh_header *heap_stream_header(const struct heap_stream *s);
/* Bytes received but not decoded yet (a stream that ends with some is truncated). */
size_t heap_stream_pending(const struct heap_stream *s);

#endif
