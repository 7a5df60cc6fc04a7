/*
 * cpuprofile: Chrome DevTools / Node.js `.cpuprofile` JSON (node --cpu-prof, Profiler.stop in the inspector
 * protocol), read only. A tree of nodes {id, callFrame{functionName, url, lineNumber (0-based), columnNumber},
 * children}; `samples` names the node hit by each tick and `timeDeltas` the microseconds before each tick.
 * A tick lasts until the next one (the last until endTime), as DevTools counts it.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../core/array.h"
#include "../core/err.h"
#include "../core/hash.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "format.h"

static int cpuprofile_probe(const unsigned char *head, size_t len)
{
	size_t i = 0;

	while (i < len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r'))
		i++;
	if (i == len || head[i] != '{')
		return 0;
	if (!memmem(head, len, "\"nodes\"", 7))
		return 0;
	if (memmem(head, len, "\"callFrame\"", 11))
		return 90;
	if (memmem(head, len, "\"samples\"", 9) || memmem(head, len, "\"timeDeltas\"", 12))
		return 60;
	return 20;
}

struct cnode {
	uint32_t parent;   /* index + 1, 0 = none */
	uint32_t frame;    /* model frame id, UINT32_MAX for the "(root)" pseudo node */
	uint32_t node;     /* model stack node, UINT32_MAX = not computed */
	int64_t hit_count;
};

static uint32_t callframe_frame(struct profile *p, json_t *cf, bool *is_root)
{
	json_t *fn = json_object_get(cf, "functionName"), *url = json_object_get(cf, "url");
	json_t *line = json_object_get(cf, "lineNumber");
	const char *name = json_is_string(fn) ? json_string_value(fn) : "";
	size_t name_len = json_is_string(fn) ? json_string_length(fn) : 0;
	struct frame f = { 0 };

	*is_root = !strcmp(name, "(root)");
	if (name_len == 0) {
		name = "(anonymous)";
		name_len = strlen(name);
	}
	f.function = profile_intern(p, name, name_len);
	if (json_is_string(url) && json_string_length(url))
		f.file = profile_intern(p, json_string_value(url), json_string_length(url));
	if (json_is_integer(line) && json_integer_value(line) >= 0 && json_integer_value(line) < UINT32_MAX)
		f.line = (uint32_t)json_integer_value(line) + 1;
	/* V8's pseudo frames: "(program)", "(idle)", "(garbage collector)" are the VM itself, not JS. */
	f.kind = name[0] == '(' && !f.file ? FRAME_NATIVE : FRAME_JS;
	return profile_frame(p, &f);
}

/* The model stack node of cpuprofile node `i`, built root first; a cycle in the tree is an error. */
static int stack_of(struct profile *p, struct cnode *nodes, size_t n, size_t i, uint32_t **path,
		    size_t *path_alloc, uint32_t *out, struct err *e)
{
	size_t depth = 0, cur = i;

	while (nodes[cur].node == UINT32_MAX) {
		if (depth > n)
			return err_set(e, "the node tree has a cycle");
		ALLOC_GROW(*path, depth + 1, *path_alloc);
		(*path)[depth++] = (uint32_t)cur;
		if (!nodes[cur].parent) {
			cur = SIZE_MAX;
			break;
		}
		cur = nodes[cur].parent - 1;
	}
	uint32_t node = cur == SIZE_MAX ? 0 : nodes[cur].node;
	while (depth-- > 0) {
		struct cnode *c = &nodes[(*path)[depth]];
		if (c->frame != UINT32_MAX)
			node = profile_node(p, node, c->frame);
		c->node = node;
	}
	*out = nodes[i].node;
	return 0;
}

static int cpuprofile_read(struct profile *p, struct input *in, const struct format_read_opts *o, struct err *e)
{
	const unsigned char *data;
	size_t len, n = 0;
	json_error_t jerr;
	json_t *root = NULL, *jnodes, *samples, *deltas;
	struct cnode *nodes = NULL;
	struct u64map ids = U64MAP_INIT;
	uint32_t *path = NULL;
	size_t path_alloc = 0;
	int ret = -1;

	if (input_read_all(in, &data, &len, e))
		return -1;
	root = json_loadb((const char *)data, len, 0, &jerr);
	if (!root) {
		for (char *c = jerr.text; *c; c++) /* keep the message on one line */
			if ((unsigned char)*c < 0x20)
				*c = '?';
		return err_set(e, "invalid JSON at line %d: %s", jerr.line, jerr.text);
	}
	jnodes = json_object_get(root, "nodes");
	if (!json_is_array(jnodes)) {
		err_set(e, "missing \"nodes\" array");
		goto out;
	}
	n = json_array_size(jnodes);
	if (n >= UINT32_MAX) {
		err_set(e, "too many nodes");
		goto out;
	}
	nodes = xcalloc(n + 1, sizeof(*nodes));
	for (size_t i = 0; i < n; i++) {
		json_t *jn = json_array_get(jnodes, i), *id = json_object_get(jn, "id");
		json_t *cf = json_object_get(jn, "callFrame"), *hit = json_object_get(jn, "hitCount");
		int inserted;
		bool is_root;
		if (!json_is_integer(id) || json_integer_value(id) < 0 || !json_is_object(cf)) {
			err_set(e, "node %zu needs an \"id\" and a \"callFrame\"", i);
			goto out;
		}
		uint64_t *v = u64map_insert(&ids, (uint64_t)json_integer_value(id), &inserted);
		if (!inserted) {
			err_set(e, "node id %" JSON_INTEGER_FORMAT " is used twice", json_integer_value(id));
			goto out;
		}
		*v = i;
		nodes[i].frame = callframe_frame(p, cf, &is_root);
		if (is_root)
			nodes[i].frame = UINT32_MAX;
		nodes[i].node = UINT32_MAX;
		nodes[i].hit_count = json_is_integer(hit) ? json_integer_value(hit) : 0;
	}
	/* Parents from "children" (the current format) or "parent" (some older writers). */
	for (size_t i = 0; i < n; i++) {
		json_t *jn = json_array_get(jnodes, i), *children = json_object_get(jn, "children");
		json_t *parent = json_object_get(jn, "parent");
		for (size_t k = 0; json_is_array(children) && k < json_array_size(children); k++) {
			json_t *c = json_array_get(children, k);
			uint64_t *ci = json_is_integer(c) && json_integer_value(c) >= 0
					       ? u64map_find(&ids, (uint64_t)json_integer_value(c))
					       : NULL;
			if (!ci) {
				err_set(e, "node %zu has a child that is not a node", i);
				goto out;
			}
			if (nodes[*ci].parent && nodes[*ci].parent != i + 1) {
				err_set(e, "node %zu has two parents", (size_t)*ci);
				goto out;
			}
			nodes[*ci].parent = (uint32_t)(i + 1);
		}
		if (json_is_integer(parent) && json_integer_value(parent) >= 0) {
			uint64_t *pi = u64map_find(&ids, (uint64_t)json_integer_value(parent));
			if (!pi) {
				err_set(e, "node %zu has a parent that is not a node", i);
				goto out;
			}
			nodes[i].parent = (uint32_t)(*pi + 1);
		}
	}

	samples = json_object_get(root, "samples");
	deltas = json_object_get(root, "timeDeltas");
	if (json_is_array(samples)) {
		size_t ns = json_array_size(samples);
		bool timed = json_is_array(deltas);
		if (timed && json_array_size(deltas) != ns) {
			err_set(e, "%zu samples but %zu timeDeltas", ns, json_array_size(deltas));
			goto out;
		}
		profile_add_column(p, "samples", "count");
		if (timed) {
			profile_add_column(p, "cpu", "microseconds");
			p->period_type.type = profile_intern_str(p, "cpu");
			p->period_type.unit = profile_intern_str(p, "microseconds");
		}
		p->default_column = -1;
		/* Tick i lasts from its timestamp to tick i+1's; the last one until endTime. */
		json_t *start = json_object_get(root, "startTime"), *end = json_object_get(root, "endTime");
		int64_t t = json_is_integer(start) ? json_integer_value(start) : 0;
		for (size_t i = 0; i < ns; i++) {
			json_t *s = json_array_get(samples, i);
			uint64_t *ni = json_is_integer(s) && json_integer_value(s) >= 0
					       ? u64map_find(&ids, (uint64_t)json_integer_value(s))
					       : NULL;
			uint32_t node;
			int64_t vals[2] = { 1, 0 };
			if (!ni) {
				err_set(e, "sample %zu is not a node id", i);
				goto out;
			}
			if (stack_of(p, nodes, n, *ni, &path, &path_alloc, &node, e))
				goto out;
			if (timed) {
				json_t *d = json_array_get(deltas, i), *next = json_array_get(deltas, i + 1);
				if (!json_is_integer(d) || (next && !json_is_integer(next))) {
					err_set(e, "timeDeltas %zu is not an integer", i);
					goto out;
				}
				if (__builtin_add_overflow(t, json_integer_value(d), &t)) {
					err_set(e, "timeDeltas %zu overflows the clock", i);
					goto out;
				}
				if (next)
					vals[1] = json_integer_value(next);
				else if (json_is_integer(end) &&
					 __builtin_sub_overflow(json_integer_value(end), t, &vals[1]))
					vals[1] = 0;
				if (vals[1] < 0)
					vals[1] = 0;
			}
			profile_add_sample(p, node, 0, vals);
		}
		int64_t dur;
		if (json_is_integer(start) && json_is_integer(end) &&
		    !__builtin_sub_overflow(json_integer_value(end), json_integer_value(start), &dur) && dur > 0 &&
		    dur < INT64_MAX / 1000)
			p->duration_nanos = dur * 1000;
	} else {
		/* No ticks: the hit counts are all there is. */
		profile_add_column(p, "samples", "count");
		for (size_t i = 0; i < n; i++) {
			uint32_t node;
			if (nodes[i].hit_count <= 0)
				continue;
			if (stack_of(p, nodes, n, i, &path, &path_alloc, &node, e))
				goto out;
			profile_add_sample1(p, node, 0, nodes[i].hit_count);
		}
	}
	ret = 0;
out:
	json_decref(root);
	free(nodes);
	free(path);
	u64map_release(&ids);
	return ret;
}

static const char *const cpuprofile_extensions[] = { NULL };

const struct format format_cpuprofile = {
	.name = "cpuprofile",
	.description = "Chrome DevTools / Node.js .cpuprofile JSON (read only)",
	.extensions = cpuprofile_extensions,
	.probe = cpuprofile_probe,
	.read = cpuprofile_read,
	.write = NULL,
};
