/* Fuzz target: /ingest and render time values (src/server/ingest_parse.c): no overflow, no crash, one-line errors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "server/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct err e = ERR_INIT;
	int64_t t;

	memcpy(text, data, size);
	text[size] = 0;
	if (ingest_parse_time(text, 1765000005LL * 1000000000LL, &t, &e) && (!e.msg[0] || strchr(e.msg, '\n')))
		abort();
	free(text);
	return 0;
}
