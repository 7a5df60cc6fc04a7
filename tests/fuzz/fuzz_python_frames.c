/*
 * Fuzz target: reading Python 3.11 frames from an untrusted target's memory. The input is the memory image
 * (at a fixed address, the runtime state at its start) the reader walks: thread states, frame chains, code
 * objects, strings and location tables. Also fuzzes the location table decoder and the runtime name parsers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record/lang_go.h"
#include "record/python.h"
#include "record/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASE 0x100000

struct image {
	const uint8_t *data;
	size_t size;
};

static int image_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct image *im = ctx;
	if (addr < BASE || addr - BASE > im->size || len > im->size - (addr - BASE))
		return -1;
	memcpy(buf, im->data + (addr - BASE), len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image im = { data, size };
	struct py_target t = { py_offsets_for(3, 11), BASE, 0, image_read, &im };
	struct py_frame f[64];
	uint64_t hint = 0;
	uint32_t tid = size >= 4 ? (uint32_t)(data[0] | data[1] << 8) : 0;

	size_t n = py_walk(&t, tid, &hint, f, 64);
	for (size_t i = 0; i < n; i++) {
		struct py_code c;
		if (py_code_read(&t, f[i].code, &c) == 0) {
			py311_line(c.linetable, c.linetable_len, c.firstlineno, f[i].unit);
			py_code_same(&t, f[i].code, &c);
			py_code_release(&c);
		}
	}
	py311_line(data, size, 1, size ? data[0] : 0);

	/* The same bytes as a perf map name and as a Go function table. */
	char *name = malloc(size + 1);
	memcpy(name, data, size);
	name[size] = 0;
	struct rt_name nm;
	rt_parse_v8_name(name, &nm);
	rt_parse_java_name(name, &nm);
	rt_parse_pyperf_name(name, &nm);
	free(name);
	struct go_pcln *g = go_pcln_parse(data, size, 0x400000);
	if (g) {
		for (uint64_t a = 0x400000; a < 0x400000 + 64 * 16; a += 16)
			go_pcln_lookup(g, a);
		go_pcln_free(g);
	}
	return 0;
}
