/* Fuzz target: the speedscope reader, then the speedscope and pprof writers on whatever it read. */
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "formats/format.h"
#include "profile/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct format *f = format_by_name("speedscope");
	struct format_read_opts o = { 0 };
	struct format_write_opts w = { -1 };
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	struct input in;

	f->probe(data, size);
	input_from_memory(&in, data, size, "fuzz");
	if (f->read(p, &in, &o, &e) == 0) {
		FILE *null = fopen("/dev/null", "w");

		format_by_name("speedscope")->write(p, null, &w, &e);
		format_by_name("pprof-raw")->write(p, null, &w, &e);
		fclose(null);
	}
	input_close(&in);
	profile_free(p);
	return 0;
}
