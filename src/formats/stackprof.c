/*
 * stackprof: Ruby stackprof results dumped as JSON (StackProf.run(mode: :cpu | :wall | :object, raw: true)),
 * read only. "frames" maps a frame address (a decimal string) to {name, file, line}; "raw" repeats
 * [n, n frame addresses from the root, count]. Columns: samples/count (the default, totalling the file's own
 * "samples"), and for cpu and wall mode the time, count x "interval" microseconds. A GC sample is the stack of
 * the "(garbage collection)" frame, as stackprof records it. Without "raw" (a profile not taken with
 * raw: true) the stacks are unknown, and the file is refused rather than guessed from per-frame edges.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../core/array.h"
#include "../core/err.h"
#include "../core/hash.h"
#include "../profile/profile.h"
#include "format.h"
#include "json_input.h"

static int sp_probe(const unsigned char *head, size_t len)
{
	size_t i = 0;

	while (i < len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r'))
		i++;
	if (i == len || head[i] != '{')
		return 0;
	if (memmem(head, len, "\"frames\"", 8) && memmem(head, len, "\"mode\"", 6) &&
	    (memmem(head, len, "\"raw\"", 5) || memmem(head, len, "\"gc_samples\"", 12) ||
	     memmem(head, len, "\"missed_samples\"", 16)))
		return 90;
	return 0;
}

static int sp_read(struct profile *p, struct input *in, const struct format_read_opts *o, struct err *e)
{
	json_t *root = NULL, *frames, *raw, *mode, *interval, *fv;
	const char *key;
	struct u64map index = U64MAP_INIT;
	uint32_t *stack = NULL;
	size_t stack_alloc = 0;
	int time_col = -1, ret = -1;
	int64_t ival = 0, total = 0;

	if (!(root = json_input_read(in, e)))
		return -1;
	frames = json_object_get(root, "frames");
	raw = json_object_get(root, "raw");
	mode = json_object_get(root, "mode");
	interval = json_object_get(root, "interval");
	if (!json_is_object(frames) || !json_is_string(mode)) {
		err_set(e, "not a stackprof profile: no \"frames\" object or \"mode\"");
		goto out;
	}
	if (!json_is_array(raw)) {
		err_set(e, "no \"raw\" stacks (record with StackProf.run(raw: true))");
		goto out;
	}
	/* Frame addresses -> model frames. */
	json_object_foreach(frames, key, fv) {
		json_t *name = json_object_get(fv, "name"), *file = json_object_get(fv, "file");
		json_t *line = json_object_get(fv, "line");
		struct frame f = { 0 };
		char *end;
		unsigned long long addr = strtoull(key, &end, 10);
		uint64_t *slot;
		int inserted;

		if (!*key || *end || addr == U64MAP_EMPTY || !json_is_object(fv)) {
			err_set(e, "frame key '%.40s' is not a frame address", key);
			goto out;
		}
		f.function = json_is_string(name) ? profile_intern(p, json_string_value(name), json_string_length(name))
						  : profile_intern_str(p, "[unknown]");
		if (json_is_string(file) && json_string_length(file))
			f.file = profile_intern(p, json_string_value(file), json_string_length(file));
		if (json_is_integer(line) && json_integer_value(line) > 0 && json_integer_value(line) < UINT32_MAX)
			f.line = (uint32_t)json_integer_value(line);
		f.kind = FRAME_NATIVE;
		slot = u64map_insert(&index, addr, &inserted);
		*slot = profile_frame(p, &f);
	}
	profile_add_column(p, "samples", "count");
	if (json_is_integer(interval) && json_integer_value(interval) > 0)
		ival = json_integer_value(interval);
	if (ival && (!strcmp(json_string_value(mode), "cpu") || !strcmp(json_string_value(mode), "wall"))) {
		time_col = profile_add_column(p, json_string_value(mode), "microseconds");
		p->period_type = p->columns[time_col];
		p->period = ival;
	}
	p->default_column = 0;
	for (size_t i = 0, n = json_array_size(raw); i < n;) {
		json_t *jn = json_array_get(raw, i);
		int64_t depth, count, vals[2];
		uint32_t node = 0;

		if (!json_is_integer(jn) || (depth = json_integer_value(jn)) < 0 || (uint64_t)depth >= n - i - 1) {
			err_set(e, "raw: bad stack length at index %zu", i);
			goto out;
		}
		ALLOC_GROW(stack, (size_t)depth + 1, stack_alloc);
		for (int64_t k = 0; k < depth; k++) {
			json_t *ja = json_array_get(raw, i + 1 + (size_t)k);
			const uint64_t *slot = json_is_integer(ja) && json_integer_value(ja) != -1 ? u64map_find(&index, (uint64_t)json_integer_value(ja))
								    : NULL;

			if (!slot) {
				err_set(e, "raw: index %zu names no frame", i + 1 + (size_t)k);
				goto out;
			}
			node = profile_node(p, node, (uint32_t)*slot);
		}
		jn = json_array_get(raw, i + 1 + (size_t)depth);
		if (!json_is_integer(jn) || (count = json_integer_value(jn)) < 0) {
			err_set(e, "raw: bad sample count at index %zu", i + 1 + (size_t)depth);
			goto out;
		}
		if (__builtin_add_overflow(total, count, &total)) {
			err_set(e, "raw: the sample counts overflow");
			goto out;
		}
		vals[0] = count;
		if (time_col >= 0 && __builtin_mul_overflow(count, ival, &vals[1]))
			vals[1] = INT64_MAX;
		if (depth && count)
			profile_add_sample(p, node, 0, vals);
		i += 2 + (size_t)depth;
	}
	if (!p->rows_nr) {
		err_set(e, "the profile has no samples");
		goto out;
	}
	ret = 0;
out:
	free(stack);
	u64map_release(&index);
	json_decref(root);
	return ret;
}

const struct format format_stackprof = {
	.name = "stackprof",
	.description = "Ruby stackprof JSON (raw: true), cpu, wall and object modes",
	.extensions = NULL,
	.probe = sp_probe,
	.read = sp_read,
	.write = NULL,
};
