/*
 * heapprofile: V8's sampling heap profile JSON (`node --heap-prof`, Chrome DevTools' "Allocation sampling",
 * HeapProfiler.getSamplingProfile in the inspector protocol), read only. A tree under "head" of nodes {callFrame,
 * selfSize, id, children: [nodes]}; selfSize is the bytes of the sampled allocations still alive that were made
 * at that node. Newer writers add "samples" [{size, nodeId, ordinal}], one per sampled allocation.
 * Read as pprof-nodejs names heap profiles: "space"/"bytes" from selfSize (speedscope's weight too) and, when
 * the samples are there, "objects"/"count" from the samples of each node.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../core/hash.h"
#include "../profile/profile.h"
#include "cpuprofile.h"
#include "format.h"
#include "json_input.h"

static int heapprofile_probe(const unsigned char *head, size_t len)
{
	size_t i = 0;

	while (i < len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r'))
		i++;
	if (i == len || head[i] != '{')
		return 0;
	if (memmem(head, len, "\"head\"", 6) && memmem(head, len, "\"selfSize\"", 10) &&
	    memmem(head, len, "\"callFrame\"", 11))
		return 95;
	return 0;
}

struct hreader {
	struct profile *p;
	struct u64map counts; /* node id -> samples at it, when the file has samples */
	bool has_samples;
	int cspace, cobjects;
	size_t nodes;
	struct err *e;
};

/* Adds `n` and its subtree under model node `parent`; jansson bounds the nesting depth. */
static int walk(struct hreader *r, json_t *n, uint32_t parent)
{
	json_t *cf = json_object_get(n, "callFrame"), *self = json_object_get(n, "selfSize");
	json_t *children = json_object_get(n, "children"), *id = json_object_get(n, "id");
	int64_t vals[PROFILE_MAX_COLUMNS] = { 0 };
	uint32_t node = parent;
	bool is_root;

	if (!json_is_object(n) || !json_is_object(cf))
		return err_set(r->e, "node %zu has no \"callFrame\"", r->nodes);
	if (self && (!json_is_integer(self) || json_integer_value(self) < 0))
		return err_set(r->e, "node %zu has a \"selfSize\" that is not a byte count", r->nodes);
	if (children && !json_is_array(children))
		return err_set(r->e, "node %zu has \"children\" that are not an array", r->nodes);
	r->nodes++;
	uint32_t frame = v8_callframe(r->p, cf, &is_root);
	if (!is_root)
		node = profile_node(r->p, parent, frame);
	vals[r->cspace] = self ? json_integer_value(self) : 0;
	if (r->has_samples && json_is_integer(id)) {
		uint64_t *c = u64map_find(&r->counts, (uint64_t)json_integer_value(id));
		if (c) {
			vals[r->cobjects] = (int64_t)*c;
			*c = 0; /* counted once if an id repeats */
		}
	}
	if (node && (vals[r->cspace] || (r->has_samples && vals[r->cobjects])))
		profile_add_sample(r->p, node, 0, vals);
	for (size_t k = 0; k < json_array_size(children); k++)
		if (walk(r, json_array_get(children, k), node))
			return -1;
	return 0;
}

static int heapprofile_read(struct profile *p, struct input *in, const struct format_read_opts *o, struct err *e)
{
	json_t *root, *head, *samples;
	struct hreader r = { .p = p, .counts = U64MAP_INIT, .e = e };
	int ret = -1;

	if (!(root = json_input_read(in, e)))
		return -1;
	head = json_object_get(root, "head");
	if (!json_is_object(head)) {
		err_set(e, "missing \"head\" node");
		goto out;
	}
	samples = json_object_get(root, "samples");
	if (samples && !json_is_array(samples)) {
		err_set(e, "\"samples\" is not an array");
		goto out;
	}
	r.has_samples = json_is_array(samples);
	for (size_t i = 0; r.has_samples && i < json_array_size(samples); i++) {
		json_t *id = json_object_get(json_array_get(samples, i), "nodeId");
		int inserted;
		if (!json_is_integer(id) || json_integer_value(id) < 0) {
			err_set(e, "sample %zu has no \"nodeId\"", i);
			goto out;
		}
		(*u64map_insert(&r.counts, (uint64_t)json_integer_value(id), &inserted))++;
	}
	/* objects first, space last: pprof's default is the last column */
	if (r.has_samples)
		r.cobjects = profile_add_column(p, "objects", "count");
	r.cspace = profile_add_column(p, "space", "bytes");
	p->default_column = -1;
	if (walk(&r, head, 0))
		goto out;
	/* Samples whose node is not in the tree (V8 drops some): said, not silently lost. */
	size_t pos = 0, orphans = 0;
	uint64_t key, val;
	while (u64map_next(&r.counts, &pos, &key, &val))
		orphans += val;
	if (orphans)
		profile_add_warning(p, "skipped %zu samples whose node is not in the tree", orphans);
	ret = 0;
out:
	u64map_release(&r.counts);
	json_decref(root);
	return ret;
}

static const char *const heapprofile_extensions[] = { NULL };

const struct format format_heapprofile = {
	.name = "heapprofile",
	.description = "V8 sampling heap profile JSON (node --heap-prof, Chrome DevTools) (read only)",
	.extensions = heapprofile_extensions,
	.probe = heapprofile_probe,
	.read = heapprofile_read,
	.write = NULL,
};
