/*
 * Fuzz target: the pprof reader (gzip, plain protobuf, gperftools legacy) and writer. Whatever reads must write,
 * and what kiln writes must read back with the same totals.
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
	const struct format *f = format_by_name("pprof"), *raw = format_by_name("pprof-raw");
	struct format_read_opts o = { 0 };
	struct format_write_opts w = { -1 };
	struct profile *p = profile_new(0), *q = NULL;
	struct err e = ERR_INIT;
	struct input in;
	char *out = NULL;
	size_t out_len = 0;

	f->probe(data, size);
	input_from_memory(&in, data, size, "fuzz");
	if (f->read(p, &in, &o, &e) == 0) {
		FILE *mem = open_memstream(&out, &out_len);
		if (raw->write(p, mem, &w, &e))
			abort(); /* writing a profile that was read must not fail */
		fclose(mem);
		struct input in2;
		q = profile_new(0);
		input_from_memory(&in2, out, out_len, "fuzz-rt");
		if (f->read(q, &in2, &o, &e))
			abort(); /* kiln must read what it writes */
		input_close(&in2);
		if (q->ncolumns != p->ncolumns)
			abort();
		for (size_t c = 0; c < p->ncolumns; c++)
			if (profile_total(p, (int)c) != profile_total(q, (int)c))
				abort();
	}
	input_close(&in);
	free(out);
	profile_free(q);
	profile_free(p);
	return 0;
}
