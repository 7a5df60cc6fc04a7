/* Fuzz target: the pprof-legacy reader, then every writer on what it read. */
#include "fuzz_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_format("pprof-legacy", data, size);
}
