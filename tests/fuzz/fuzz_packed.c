/* Fuzz target: the decoder of stored profile bodies (src/server/packed.c), which reads bytes from a database
 * that may be damaged; whatever decodes must encode back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "server/packed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct pairs {
	struct packed_pair v[4096];
	size_t n;
	int overflow;
};

static void collect(void *arg, uint64_t stack, int64_t value)
{
	struct pairs *p = arg;

	if (p->n < 4096)
		p->v[p->n++] = (struct packed_pair){ stack, value };
	else
		p->overflow = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pairs p;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;

	p.n = 0;
	p.overflow = 0;
	if (packed_decode(data, size, collect, &p, &e)) {
		if (!e.msg[0])
			__builtin_trap();
		return 0;
	}
	if (p.overflow)
		return 0;
	packed_encode(&b, p.v, p.n);
	/* Varints may be written longer than needed in the input; re-encoding is canonical, so it can only be
	 * shorter, and it must decode to the same pairs. */
	if (b.len > size)
		__builtin_trap();
	buf_release(&b);
	return 0;
}
