/*
 * Fuzz target: the /ingest name grammar (src/server/ingest_parse.c). What parses has a non-empty service of
 * allowed characters and unique, non-empty label names; an error is one line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "server/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct ingest_name n;
	struct err e = ERR_INIT;

	memcpy(text, data, size);
	text[size] = 0;
	if (ingest_parse_name(text, &n, &e) == 0) {
		if (!n.service[0] || strpbrk(n.service, "{} ,="))
			abort();
		for (size_t i = 0; i < n.n; i++) {
			if (!n.labels[i].name[0] || strchr(n.labels[i].value, ',') || strchr(n.labels[i].value, '}'))
				abort();
			for (size_t k = 0; k < i; k++)
				if (!strcmp(n.labels[i].name, n.labels[k].name))
					abort();
		}
	} else if (!e.msg[0] || strchr(e.msg, '\n')) {
		abort();
	}
	ingest_name_release(&n);
	free(text);
	return 0;
}
