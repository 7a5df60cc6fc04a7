/*
 * The body of a format reader's fuzz target: probe and read the input with one format, then write whatever was
 * read with every writable format, so writers see the odd profiles that odd inputs make.
 */
#ifndef KILN_FUZZ_FORMAT_H
#define KILN_FUZZ_FORMAT_H

#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "formats/format.h"
#include "profile/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_format(const char *name, const uint8_t *data, size_t size)
{
	const struct format *f = format_by_name(name);
	struct format_read_opts o = { 0 };
	struct format_write_opts w = { -1 };
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	struct input in;

	f->probe(data, size);
	input_from_memory(&in, data, size, "fuzz");
	if (f->read(p, &in, &o, &e) == 0) {
		FILE *null = fopen("/dev/null", "w");

		for (size_t i = 0; formats[i]; i++)
			if (formats[i]->write)
				formats[i]->write(p, null, &w, &e);
		fclose(null);
	}
	input_close(&in);
	profile_free(p);
	return 0;
}

#endif
