/* Fuzz target: the kallsyms and perf-PID.map parsers of src/symbols, with lookups over what they read. */
#include <stdint.h>
#include <string.h>

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
	ksyms_hidden(k);
	ksyms_free(k);
	perfmap_free(m);
	return 0;
}
