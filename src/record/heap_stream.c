/* Decoder of the heap profiler's event stream (see heap_stream.h and core/heap_wire.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "../core/err.h"
#include "../core/xalloc.h"
#include "heap_stream.h"

void heap_stream_init(struct heap_stream *s)
{
	memset(s, 0, sizeof(*s));
}

void heap_stream_release(struct heap_stream *s)
{
	free(s->data);
	memset(s, 0, sizeof(*s));
}

void heap_stream_feed(struct heap_stream *s, const void *data, size_t len)
{
	if (!len)
		return;
	if (s->off && (s->off >= s->len || s->off > s->alloc / 2)) {
		memmove(s->data, s->data + s->off, s->len - s->off);
		s->len -= s->off;
		s->off = 0;
	}
	if (s->len + len > s->alloc) {
		size_t n = s->alloc ? s->alloc : 65536;
		while (n < s->len + len)
			n *= 2;
		s->data = xrealloc(s->data, n);
		s->alloc = n;
	}
	memcpy(s->data + s->len, data, len);
	s->len += len;
}

const struct kh_header *heap_stream_header(const struct heap_stream *s)
{
	return s->have_header ? &s->header : NULL;
}

size_t heap_stream_pending(const struct heap_stream *s)
{
	return s->len - s->off;
}

static int fail(struct heap_stream *s, struct err *e, const char *what)
{
	s->failed = true;
	return err_set(e, "corrupt heap event stream: %s at byte %" PRIu64, what, s->pos);
}

static inline uint64_t word(const unsigned char *p, size_t i)
{
	uint64_t w;
	memcpy(&w, p + i * 8, 8);
	return w;
}

/* Decodes one item at p (avail bytes): its size, 0 when incomplete, -1 on corruption. */
static ssize_t decode(struct heap_stream *s, const unsigned char *p, size_t avail, struct heap_event *ev,
		      struct err *e)
{
	if (__builtin_expect(!s->have_header, 0)) {
		if (avail < sizeof(s->header))
			return 0;
		memcpy(&s->header, p, sizeof(s->header));
		if (memcmp(s->header.magic, KH_MAGIC, 8))
			return fail(s, e, "bad magic");
		if (s->header.version != KH_VERSION)
			return fail(s, e, "unsupported version");
		s->have_header = true;
		ev->type = 0;
		return (ssize_t)sizeof(s->header);
	}
	if (avail < 8)
		return 0;
	uint64_t head = word(p, 0);
	unsigned type = KH_HEAD_TYPE(head), n = KH_HEAD_N(head);
	if ((size_t)n + 1 > avail / 8)
		return 0;
	ev->type = type;
	ev->kind = KH_HEAD_KIND(head);
	ev->stack = KH_HEAD_STACK(head);
	switch (type) {
	case KH_ALLOC:
	case KH_FREE:
		if (n != 1)
			return fail(s, e, "bad record length");
		ev->a = word(p, 1);
		if (type == KH_ALLOC ? ev->kind >= KH_KIND_NR : ev->kind > KH_FREE_TEMPORARY)
			return fail(s, e, type == KH_ALLOC ? "unknown allocator" : "unknown free flag");
		break;
	case KH_CHUNK:
	case KH_STATS:
		if (n != 2)
			return fail(s, e, "bad record length");
		ev->a = word(p, 1);
		ev->b = word(p, 2);
		break;
	case KH_STACK:
		if (n > KH_MAX_DEPTH)
			return fail(s, e, "stack too deep");
		if (ev->kind >= KH_KIND_NR)
			return fail(s, e, "unknown allocator");
		ev->addrs = (const uint64_t *)(const void *)(p + 8);
		ev->naddrs = n;
		break;
	case KH_WINDOW:
	case KH_SITE:
		if (n != (type == KH_WINDOW ? 5 : 7))
			return fail(s, e, "bad record length");
		ev->addrs = (const uint64_t *)(const void *)(p + 8);
		ev->naddrs = n;
		break;
	case KH_HIST:
		if (n % 2 || n > 2 * 65)
			return fail(s, e, "bad record length");
		ev->addrs = (const uint64_t *)(const void *)(p + 8);
		ev->naddrs = n;
		break;
	case KH_MAPS: {
		if (n < 1)
			return fail(s, e, "bad record length");
		uint64_t len = word(p, 1);
		if (len > (uint64_t)(n - 1) * 8 || (len + 7) / 8 != n - 1)
			return fail(s, e, "bad maps length");
		ev->text = (const char *)(p + 16);
		ev->text_len = (size_t)len;
		break;
	}
	case KH_EXEC:
		if (n != 0)
			return fail(s, e, "bad record length");
		break;
	default:
		return fail(s, e, "unknown record type");
	}
	return (ssize_t)(((size_t)n + 1) * 8);
}

int heap_stream_next(struct heap_stream *s, struct heap_event *ev, struct err *e)
{
	if (s->failed)
		return err_set(e, "corrupt heap event stream");
	for (;;) {
		ssize_t r = decode(s, s->data + s->off, s->len - s->off, ev, e);
		if (r <= 0)
			return (int)r;
		s->off += (size_t)r;
		s->pos += (uint64_t)r;
		if (ev->type)
			return 1;
		/* the header: on to the first record */
	}
}
