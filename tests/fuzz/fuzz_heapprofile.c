/* Fuzz target: the V8 .heapprofile reader, then every writer on whatever it read. */
#include "fuzz_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_format("heapprofile", data, size);
}
