/* Fuzz target: the Firefox profiler (Gecko and processed JSON) reader, then every writer on whatever it read. */
#include "fuzz_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_format("firefox", data, size);
}
