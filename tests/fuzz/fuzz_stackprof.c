/* Fuzz target: the stackprof reader, then every writer on what it read. */
#include "fuzz_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_format("stackprof", data, size);
}
