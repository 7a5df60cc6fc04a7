#include "server/packed.h"

#include "core/buf.h"
#include "core/err.h"

static void put_varint(struct buf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;

	while (v >= 0x80) {
		tmp[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (unsigned char)v;
	buf_add(b, tmp, n);
}

static int get_varint(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*p >= end)
			return -1;
		unsigned char c = *(*p)++;

		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

void packed_encode(struct buf *out, const struct packed_pair *pairs, size_t n)
{
	put_varint(out, n);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = (uint64_t)pairs[i].value;

		put_varint(out, pairs[i].stack);
		put_varint(out, (v << 1) ^ (uint64_t)(pairs[i].value >> 63));
	}
}

int packed_decode(const unsigned char *data, size_t len, void (*fn)(void *arg, uint64_t stack, int64_t value),
		  void *arg, struct err *e)
{
	const unsigned char *p = data, *end = data + len;
	uint64_t n;

	if (get_varint(&p, end, &n) || n > len / 2)
		return err_set(e, "stored profile is damaged: bad pair count");
	for (uint64_t i = 0; i < n; i++) {
		uint64_t id, z;

		if (get_varint(&p, end, &id) || get_varint(&p, end, &z))
			return err_set(e, "stored profile is damaged: truncated at pair %llu", (unsigned long long)i);
		fn(arg, id, (int64_t)(z >> 1) ^ -(int64_t)(z & 1));
	}
	if (p != end)
		return err_set(e, "stored profile is damaged: %zu bytes after the last pair", (size_t)(end - p));
	return 0;
}
