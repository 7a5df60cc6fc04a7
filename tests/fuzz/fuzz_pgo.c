/*
 * Fuzz target: kiln pgo's readers of compiler diagnostics, gcov-dump and llvm-profdata output, and of its own
 * working directory's toolchain file (src/pgo).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgo/coverage.h"
#include "pgo/diag.h"
#include "pgo/driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pgo_diag d = PGO_DIAG_INIT;
	struct pgo_coverage c = { 0 };

	pgo_diag_parse(&d, (const char *)data, size);
	for (size_t i = 0; i < d.nr; i++)
		if (d.v[i].function && !d.v[i].function[0])
			__builtin_trap(); /* an empty name is never a finding */
	pgo_diag_release(&d);
	pgo_coverage_parse_gcov_dump(&c, (const char *)data, size);
	if (c.covered > c.functions)
		__builtin_trap();
	memset(&c, 0, sizeof(c));
	pgo_coverage_parse_llvm_show(&c, (const char *)data, size);
	if (c.covered > c.functions)
		__builtin_trap();
	size_t runs;
	char *cc = pgo_state_parse((const char *)data, size, &runs);
	if (cc && !*cc)
		__builtin_trap();
	free(cc);
	return 0;
}
