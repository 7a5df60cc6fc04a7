/* Fuzz target: the Java Flight Recorder reader (chunks, metadata, constant pools, events), then every writer. */
#include "fuzz_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_format("jfr", data, size);
}
