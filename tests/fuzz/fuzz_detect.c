/*
 * Fuzz target: content detection over every probe (readers' and unread.c's), then the reader it picks, if any,
 * and every writer on what it read: the path every command takes from an unknown file to an output.
 */
#include "fuzz_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = ERR_INIT;
	const struct format *f = format_detect_input(data, size, "fuzz", &e);

	format_claim(data, size);
	return f ? fuzz_format(f->name, data, size) : 0;
}
