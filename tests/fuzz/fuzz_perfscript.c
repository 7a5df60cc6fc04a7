/* Fuzz target: the perf script reader (every stackcollapse-perf.pl option set) and the folded writer. */
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "formats/format.h"
#include "profile/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct format *f = format_by_name("perf-script"), *folded = format_by_name("folded");
	struct format_write_opts w = { -1 };
	struct format_read_opts o = { 0 };
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	struct input in;

	/* The first byte picks the options, so one corpus exercises them all. */
	if (size) {
		o.pid = data[0] & 1;
		o.tid = data[0] & 2;
		o.kernel = data[0] & 4;
		o.jit = data[0] & 8;
		o.addrs = data[0] & 16;
		o.labels = data[0] & 32;
		o.event = (data[0] & 64) ? "cycles" : NULL;
	}
	f->probe(data, size);
	input_from_memory(&in, data, size, "fuzz");
	if (f->read(p, &in, &o, &e) == 0) {
		FILE *null = fopen("/dev/null", "w");

		folded->write(p, null, &w, &e);
		fclose(null);
	}
	input_close(&in);
	profile_free(p);
	return 0;
}
