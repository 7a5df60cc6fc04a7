/* Fuzz target: stored packed vectors (store_unpack in src/server/store_pack.c, both forms): no crash, no overflow,
 * and whatever decodes packs again into a vector that decodes to the same pairs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "server/store_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct pairs {
	int64_t *ids, *v;
	size_t n, alloc;
};

static int add(void *arg, int64_t id, int64_t value)
{
	struct pairs *p = arg;

	if (p->n == p->alloc) {
		p->alloc = p->alloc ? 2 * p->alloc : 64;
		p->ids = realloc(p->ids, p->alloc * sizeof(*p->ids));
		p->v = realloc(p->v, p->alloc * sizeof(*p->v));
	}
	p->ids[p->n] = id;
	p->v[p->n++] = value;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pairs a = { 0 }, b = { 0 };
	struct buf again = BUF_INIT;
	int ascending = 1;

	if (store_unpack(data, size, add, &a) == 0) {
		for (size_t i = 1; i < a.n; i++)
			ascending &= a.ids[i] > a.ids[i - 1];
		/* Re-packing needs ascending ids and values whose divisor divides them (true of decoded ones). */
		if (ascending) {
			store_pack(&again, a.ids, a.v, a.n);
			if (store_unpack((const unsigned char *)again.buf, again.len, add, &b) || b.n != a.n ||
			    (a.n && (memcmp(a.ids, b.ids, a.n * sizeof(*a.ids)) || memcmp(a.v, b.v, a.n * sizeof(*a.v)))))
				abort();
		}
	}
	buf_release(&again);
	free(a.ids);
	free(a.v);
	free(b.ids);
	free(b.v);
	return 0;
}
