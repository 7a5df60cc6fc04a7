/* Decoder of the heap profiler's event stream (see heap_stream.h and preload/heap_wire.h). */
#include <stdlib.h>
#include <string.h>

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
	return err_set(e, "corrupt heap event stream: %s at byte %zu", what, s->off);
}

static uint64_t word(const struct heap_stream *s, size_t i)
{
	uint64_t w;
	memcpy(&w, s->data + s->off + i * 8, 8);
	return w;
}

int heap_stream_next(struct heap_stream *s, struct heap_event *ev, struct err *e)
{
	if (s->failed)
		return err_set(e, "corrupt heap event stream");
	size_t avail = s->len - s->off;
	if (!s->have_header) {
		if (avail < sizeof(s->header))
			return 0;
		memcpy(&s->header, s->data + s->off, sizeof(s->header));
		if (memcmp(s->header.magic, KH_MAGIC, 8))
			return fail(s, e, "bad magic");
		if (s->header.version != KH_VERSION)
			return fail(s, e, "unsupported version");
		s->have_header = true;
		s->off += sizeof(s->header);
		avail -= sizeof(s->header);
	}
	if (avail < 8)
		return 0;
	uint64_t head = word(s, 0);
	unsigned type = KH_HEAD_TYPE(head), n = KH_HEAD_N(head);
	if ((size_t)n + 1 > avail / 8)
		return 0;
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->kind = KH_HEAD_KIND(head);
	ev->stack = KH_HEAD_STACK(head);
	switch (type) {
	case KH_CHUNK:
	case KH_STATS:
		if (n != 2)
			return fail(s, e, "bad record length");
		ev->a = word(s, 1);
		ev->b = word(s, 2);
		break;
	case KH_ALLOC:
		if (n != 3)
			return fail(s, e, "bad record length");
		ev->a = word(s, 1);
		ev->b = word(s, 2);
		ev->stamp = word(s, 3);
		break;
	case KH_FREE:
		if (n != 2)
			return fail(s, e, "bad record length");
		ev->a = word(s, 1);
		ev->stamp = word(s, 2);
		break;
	case KH_REALLOC:
		if (n != 4)
			return fail(s, e, "bad record length");
		ev->a = word(s, 1);
		ev->b = word(s, 2);
		ev->c = word(s, 3);
		ev->stamp = word(s, 4);
		break;
	case KH_STACK:
		if (n > KH_MAX_DEPTH)
			return fail(s, e, "stack too deep");
		ev->addrs = (const uint64_t *)(const void *)(s->data + s->off + 8);
		ev->naddrs = n;
		break;
	case KH_MAPS: {
		if (n < 1)
			return fail(s, e, "bad record length");
		uint64_t len = word(s, 1);
		if (len > (uint64_t)(n - 1) * 8 || (len + 7) / 8 != n - 1)
			return fail(s, e, "bad maps length");
		ev->text = (const char *)(s->data + s->off + 16);
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
	if ((type == KH_ALLOC || type == KH_REALLOC) && ev->kind >= KH_KIND_NR)
		return fail(s, e, "unknown allocator");
	s->off += ((size_t)n + 1) * 8;
	return 1;
}
