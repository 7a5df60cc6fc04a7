/*
 * Fuzz target: multipart/form-data bodies (src/server/ingest_parse.c) and the gzip-limited inflation of ingest
 * bodies. The first line of the input is the Content-Type, the rest the body. Every part lies inside the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "server/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t ctlen = nl ? (size_t)(nl - data) : size;
	char *ct = strndup((const char *)data, ctlen);
	const unsigned char *body = nl ? nl + 1 : data + size, *out;
	size_t blen = size - (size_t)(body - data), olen, n;
	struct multipart_part parts[8];
	struct buf scratch = BUF_INIT;
	struct err e = ERR_INIT;

	if (multipart_parse(ct, body, blen, parts, 8, &n, &e) == 0) {
		for (size_t i = 0; i < n; i++)
			if (parts[i].data < body || parts[i].data + parts[i].len > body + blen)
				abort();
	} else if (!e.msg[0]) {
		abort();
	}
	if (ingest_inflate(body, blen, 1 << 16, &scratch, &out, &olen, &e) == 0 && olen > (1 << 16))
		abort();
	buf_release(&scratch);
	free(ct);
	return 0;
}
