/*
 * Fuzz target: the heap profiler's event stream decoder and live accounting (src/record/heap_stream.c,
 * heap_trace.c). The input is split into two streams at its first byte's position, fed in uneven pieces.
 */
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "record/heap_stream.h"
#include "record/heap_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct heap_trace *t = heap_trace_new();
	struct err e = ERR_INIT;
	size_t split = size ? (size_t)data[0] * size / 256 : 0;
	const uint8_t *parts[2] = { data, data + split };
	size_t lens[2] = { split, size - split };

	for (int s = 0; s < 2; s++) {
		uint32_t h = heap_trace_open(t);
		size_t off = 0, step = 1;
		while (off < lens[s]) {
			size_t n = lens[s] - off < step ? lens[s] - off : step;
			if (heap_trace_data(t, h, parts[s] + off, n, &e) < 0)
				break;
			off += n;
			step = step * 3 + 1;
		}
		heap_trace_close(t, h);
	}
	heap_trace_free(t);
	return 0;
}
