/*
 * Fuzz target: label selectors and profile type IDs (src/server/selector.c). Whatever parses must match against
 * a label set without crashing, and free cleanly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "server/series.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct label_pair labels[] = {
		{ "__name__", "process_cpu" }, { "env", "prod" }, { "service_name", "api" },
	};
	char *text = malloc(size + 1);
	struct selector s;
	struct profile_type t;
	struct err e = ERR_INIT;
	char *mem;

	memcpy(text, data, size);
	text[size] = 0;
	if (selector_parse(text, &s, &e) == 0) {
		selector_match(&s, labels, 3);
		selector_match(&s, NULL, 0);
		selector_free(&s);
	} else if (!e.msg[0] || strchr(e.msg, '\n')) {
		abort(); /* an error names the problem in one line */
	}
	if (profile_type_parse(text, &t, &mem, &e) == 0 && (!t.name || !t.period_unit))
		abort();
	free(mem);
	free(text);
	return 0;
}
