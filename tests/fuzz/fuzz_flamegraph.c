/*
 * Fuzz target: the flame graph renderer (tree, layout, SVG writer) on any input a reader accepts, the
 * consistent palette file parser (inputs starting with 'P'), the name attribute file parser ('N') and
 * flamegraph.pl's folded reading ('F': lines, drawn with a raw --encoding). The last byte picks the options.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "formats/format.h"
#include "profile/profile.h"
#include "render/flamegraph.h"
#include "render/palette.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned flags = size ? data[size - 1] : 0;
	struct format_read_opts ro = { 0 };
	struct fg_build_opts bo = { .column = -1, .base_column = -1, .reverse = (flags & 1) != 0 };
	struct palette_map cp;
	struct err e = ERR_INIT;
	const struct format *f;
	struct profile *p;
	struct input in;

	palette_map_init(&cp);
	if (size && data[0] == 'P') {
		palette_map_parse(&cp, (const char *)data + 1, size - 1, "fuzz", &e);
		palette_map_release(&cp);
		return 0;
	}
	if (size && data[0] == 'N') {
		struct fg_nameattr m;

		fg_nameattr_init(&m);
		fg_nameattr_parse(&m, (const char *)data + 1, size - 1, "fuzz", &e);
		fg_nameattr_release(&m);
		return 0;
	}
	if (size && data[0] == 'F') {
		static const char *const base[] = { "main" };
		struct flamegraph *g = fg_new((flags & 2) != 0);
		struct fg_folded fo;
		const char *s = (const char *)data + 1, *end = (const char *)data + size;
		FILE *null = fopen("/dev/null", "w");

		fg_folded_init(&fo);
		bo.base = base;
		bo.nbase = flags & 64 ? 1 : 0;
		while (s < end) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);

			if (fg_add_folded_line(g, &fo, s, len, &bo, (flags & 8) != 0, &e) < 0)
				break;
			s += len + 1;
		}
		fg_finish(g);
		{
			struct fg_svg_opts so;

			fg_svg_opts_init(&so);
			so.encoding = flags & 4 ? "ISO-8859-1" : NULL;
			so.negate = (flags & 16) != 0;
			fg_write_svg(g, null, &so, &e);
		}
		fg_folded_release(&fo);
		fg_free(g);
		fclose(null);
		return 0;
	}
	f = format_detect(data, size);
	if (!f || !f->read)
		return 0;
	ro.keep_order = (flags & 2) != 0;
	p = profile_new(ro.keep_order ? PROFILE_KEEP_ORDER : 0);
	input_from_memory(&in, data, size, "fuzz");
	if (f->read(p, &in, &ro, &e) == 0) {
		struct flamegraph *g = fg_new(ro.keep_order);
		struct fg_svg_opts so;
		FILE *null = fopen("/dev/null", "w");

		bo.base_column = profile_find_column(p, "before");
		if (fg_add_profile(g, p, &bo, &e) == 0) {
			fg_finish(g);
			fg_svg_opts_init(&so);
			so.inverted = (flags & 4) != 0;
			so.mode = flags & 8 ? PALETTE_BY_HASH : PALETTE_BY_NAME;
			so.minwidth = flags & 16 ? 0 : 0.1;
			so.palette = (enum palette)((flags >> 5) % PALETTE_NR);
			so.cp = flags & 0x80 ? &cp : NULL;
			fg_write_svg(g, null, &so, &e);
		}
		fg_free(g);
		fclose(null);
	}
	input_close(&in);
	profile_free(p);
	palette_map_release(&cp);
	return 0;
}
