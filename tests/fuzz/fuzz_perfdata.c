/*
 * Fuzz target: the perf.data reader (file and pipe mode), which runs every record through the shared perf
 * record decoder and the recording session. Reading must fail cleanly or produce a consistent profile.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "formats/format.h"
#include "profile/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct format *f = format_by_name("perf.data");
	struct format_read_opts o = { 0 };
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	struct input in;

	f->probe(data, size);
	input_from_memory(&in, data, size, "fuzz");
	if (f->read(p, &in, &o, &e) == 0) {
		int col = profile_find_column(p, "samples");
		if (col < 0 || profile_total(p, col) < 0)
			abort(); /* a profile that was read has a samples column with a sane total */
	} else if (!e.msg[0]) {
		abort(); /* failures say why */
	}
	input_close(&in);
	profile_free(p);
	return 0;
}
