/* Fuzz target: the kallsyms, perf-PID.map and dpkg-query -S parsers of src/symbols, with lookups over what they
 * read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/dbghint.h"
#include "symbols/ksyms.h"
#include "symbols/perfmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ksyms *k = ksyms_parse((const char *)data, size);
	struct perfmap *m = perfmap_parse((const char *)data, size);
	uint64_t probe = 0, start;

	memcpy(&probe, data, size < 8 ? size : 8);
	for (int i = 0; i < 64; i++) {
		uint64_t a = probe + (uint64_t)i * 0x1111;
		const struct ksym *ks = ksyms_find(k, a);
		if (ks && (ks->addr > a || !ks->name || !ks->module))
			__builtin_trap();
		const char *name = perfmap_find(m, a, &start);
		if (name && start > a)
			__builtin_trap();
	}
	char *owner = dbghint_parse_owner((const char *)data, size);
	if (owner && (!*owner || strpbrk(owner, ",: \t\n")))
		__builtin_trap();
	free(owner);
	ksyms_hidden(k);
	ksyms_free(k);
	perfmap_free(m);
	return 0;
}
