/*
 * cpuprofile: Chrome DevTools / Node.js `.cpuprofile` JSON (node --cpu-prof, Profiler.stop in the inspector
 * protocol), read only. A tree of nodes {id, callFrame{functionName, url, lineNumber (0-based), columnNumber},
 * children}; `samples` names the node hit by each tick and `timeDeltas` the microseconds before each tick.
 * A tick lasts until the next one (the last until endTime), as DevTools counts it. The older layout (Node <= 10
 * with the v8-profiler module, DevTools before 2016) nests the tree under "head" with the frame's fields on the
 * node itself, 1-based line numbers, `timestamps` (µs) instead of deltas and start/end times in seconds; it is
 * rewritten into the current layout and read by the same code.
 */
#include "cpuprofile.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/err.h"
#include "../core/hash.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "format.h"
#include "json_input.h"

static int cpuprofile_probe(const unsigned char *head, size_t len)
{
	size_t i = 0;

	while (i < len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r'))
		i++;
	if (i == len || head[i] != '{')
		return 0;
	/* A heap profile's tree has the same callFrames; its nodes have a selfSize. */
	if (memmem(head, len, "\"selfSize\"", 10))
		return 0;
	if (memmem(head, len, "\"head\"", 6) && memmem(head, len, "\"hitCount\"", 10) &&
	    memmem(head, len, "\"functionName\"", 14) && !memmem(head, len, "\"callFrame\"", 11))
		return 85;
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

uint32_t v8_callframe(struct profile *p, json_t *cf, bool *is_root)
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


/* The tree: frames and parents of every node; `ids` maps a node id to its index. */
static int read_nodes(struct profile *p, struct v8_cpu *c, struct cnode **out, size_t *out_n, struct u64map *ids,
		      struct err *e)
{
	json_t *jnodes = c->nodes;
	size_t n;
	struct cnode *nodes;

	if (!json_is_array(jnodes))
		return err_set(e, "missing \"nodes\" array");
	n = json_array_size(jnodes);
	if (n >= UINT32_MAX)
		return err_set(e, "too many nodes");
	nodes = *out = xcalloc(n + 1, sizeof(*nodes));
	*out_n = n;
	for (size_t i = 0; i < n; i++) {
		json_t *jn = json_array_get(jnodes, i), *id = json_object_get(jn, "id");
		json_t *cf = json_object_get(jn, "callFrame"), *hit = json_object_get(jn, "hitCount");
		int inserted;
		bool is_root;
		if (!json_is_integer(id) || json_integer_value(id) < 0 || !json_is_object(cf))
			return err_set(e, "node %zu needs an \"id\" and a \"callFrame\"", i);
		uint64_t *v = u64map_insert(ids, (uint64_t)json_integer_value(id), &inserted);
		if (!inserted)
			return err_set(e, "node id %" JSON_INTEGER_FORMAT " is used twice", json_integer_value(id));
		*v = i;
		nodes[i].frame = v8_callframe(p, cf, &is_root);
		if (is_root)
			nodes[i].frame = UINT32_MAX;
		nodes[i].node = UINT32_MAX;
		nodes[i].hit_count = json_is_integer(hit) ? json_integer_value(hit) : 0;
	}
	/* Parents from "children" (the current format) or "parent" (trace chunks, some older writers). */
	for (size_t i = 0; i < n; i++) {
		json_t *jn = json_array_get(jnodes, i), *children = json_object_get(jn, "children");
		json_t *parent = json_object_get(jn, "parent");
		for (size_t k = 0; json_is_array(children) && k < json_array_size(children); k++) {
			json_t *kid = json_array_get(children, k);
			uint64_t *ci = json_is_integer(kid) && json_integer_value(kid) >= 0
					       ? u64map_find(ids, (uint64_t)json_integer_value(kid))
					       : NULL;
			if (!ci)
				return err_set(e, "node %zu has a child that is not a node", i);
			if (nodes[*ci].parent && nodes[*ci].parent != i + 1)
				return err_set(e, "node %zu has two parents", (size_t)*ci);
			nodes[*ci].parent = (uint32_t)(i + 1);
		}
		if (json_is_integer(parent) && json_integer_value(parent) >= 0) {
			uint64_t *pi = u64map_find(ids, (uint64_t)json_integer_value(parent));
			if (pi) {
				nodes[i].parent = (uint32_t)(*pi + 1);
			} else if (c->lenient) {
				c->rootless++; /* its callers were sent before the trace began: a stack cut short */
			} else {
				return err_set(e, "node %zu has a parent that is not a node", i);
			}
		}
	}
	return 0;
}

struct tick {
	int64_t t;
	size_t i; /* position in the file: ties keep it */
};

static int cmp_tick(const void *a, const void *b)
{
	const struct tick *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Each tick's time stamp; sorted when V8 recorded some out of order (a negative delta). */
static int tick_times(struct v8_cpu *c, size_t ns, struct tick **out, struct err *e)
{
	struct tick *t = *out = xmalloc((ns + 1) * sizeof(*t));
	int64_t now = c->has_start ? c->start : 0;
	bool sorted = true;

	for (size_t i = 0; i < ns; i++) {
		json_t *d = json_array_get(c->deltas, i);
		if (!json_is_integer(d))
			return err_set(e, "timeDeltas %zu is not an integer", i);
		if (__builtin_add_overflow(now, json_integer_value(d), &now))
			return err_set(e, "timeDeltas %zu overflows the clock", i);
		t[i].t = now;
		t[i].i = i;
		if (i && now < t[i - 1].t)
			sorted = false;
	}
	if (!sorted)
		qsort(t, ns, sizeof(*t), cmp_tick);
	return 0;
}

int v8_cpu_add(struct profile *p, struct v8_cpu *c, struct err *e)
{
	struct cnode *nodes = NULL;
	size_t n = 0;
	struct u64map ids = U64MAP_INIT;
	struct tick *ticks = NULL;
	uint32_t *path = NULL;
	size_t path_alloc = 0;
	int64_t vals[PROFILE_MAX_COLUMNS] = { 0 };
	int ret = -1;

	if (read_nodes(p, c, &nodes, &n, &ids, e))
		goto out;
	int cs = profile_add_column(p, "samples", "count");
	if (!json_is_array(c->samples)) {
		/* No ticks: the hit counts are all there is. */
		for (size_t i = 0; i < n; i++) {
			uint32_t node;
			if (nodes[i].hit_count <= 0)
				continue;
			if (stack_of(p, nodes, n, i, &path, &path_alloc, &node, e))
				goto out;
			memset(vals, 0, sizeof(vals));
			vals[cs] = nodes[i].hit_count;
			profile_add_sample(p, node, c->labelset, vals);
		}
		ret = 0;
		goto out;
	}
	size_t ns = json_array_size(c->samples);
	bool timed = json_is_array(c->deltas);
	if (timed && json_array_size(c->deltas) != ns) {
		err_set(e, "%zu samples but %zu timeDeltas", ns, json_array_size(c->deltas));
		goto out;
	}
	int ct = timed ? profile_add_column(p, "cpu", "microseconds") : -1;
	if (timed) {
		if (tick_times(c, ns, &ticks, e))
			goto out;
	}
	for (size_t k = 0; k < ns; k++) {
		size_t i = timed ? ticks[k].i : k;
		json_t *s = json_array_get(c->samples, i);
		uint64_t *ni = json_is_integer(s) && json_integer_value(s) >= 0
				       ? u64map_find(&ids, (uint64_t)json_integer_value(s))
				       : NULL;
		uint32_t node;
		if (!ni) {
			if (c->lenient) {
				c->skipped++;
				continue;
			}
			err_set(e, "sample %zu is not a node id", i);
			goto out;
		}
		if (stack_of(p, nodes, n, *ni, &path, &path_alloc, &node, e))
			goto out;
		memset(vals, 0, sizeof(vals));
		vals[cs] = 1;
		if (timed) {
			/* A tick lasts until the next one; the last one until the profile's end. */
			int64_t d = 0;
			if (k + 1 < ns) {
				if (__builtin_sub_overflow(ticks[k + 1].t, ticks[k].t, &d))
					d = 0;
			} else if (c->has_end && __builtin_sub_overflow(c->end, ticks[k].t, &d))
				d = 0;
			vals[ct] = d > 0 ? d : 0;
		}
		profile_add_sample(p, node, c->labelset, vals);
	}
	ret = 0;
out:
	free(nodes);
	free(ticks);
	free(path);
	u64map_release(&ids);
	return ret;
}

/* ---- the older "head" layout ---------------------------------------------------------------------------- */

/* Seconds (the old layout's start and end) or microseconds as whole microseconds; false when out of range. */
static bool to_us(json_t *v, double scale, int64_t *out)
{
	double x;

	if (!json_is_number(v))
		return false;
	x = json_number_value(v) * scale;
	if (!(x > -9.2e18 && x < 9.2e18))
		return false;
	*out = llround(x);
	return true;
}

/* Appends `old` and its subtree to `nodes` in the current layout. jansson bounds the nesting depth. */
static int old_node(json_t *old, json_t *nodes, json_int_t *next_id, struct err *e)
{
	json_t *id = json_object_get(old, "id"), *children = json_object_get(old, "children");
	json_t *line = json_object_get(old, "lineNumber"), *n, *cf, *kids;
	json_int_t my_id;

	if (!json_is_object(old))
		return err_set(e, "a node of \"head\" is not an object");
	my_id = json_is_integer(id) && json_integer_value(id) >= 0 ? json_integer_value(id) : (*next_id)++;
	n = json_object();
	cf = json_object();
	kids = json_array();
	json_array_append_new(nodes, n);
	json_object_set_new(n, "id", json_integer(my_id));
	json_object_set_new(n, "callFrame", cf);
	json_object_set_new(n, "children", kids);
	json_object_set(n, "hitCount", json_object_get(old, "hitCount"));
	if (json_object_get(old, "functionName"))
		json_object_set(cf, "functionName", json_object_get(old, "functionName"));
	if (json_object_get(old, "url"))
		json_object_set(cf, "url", json_object_get(old, "url"));
	/* The old layout counts lines from 1, callFrame from 0. */
	if (json_is_integer(line) && json_integer_value(line) > 0)
		json_object_set_new(cf, "lineNumber", json_integer(json_integer_value(line) - 1));
	for (size_t k = 0; json_is_array(children) && k < json_array_size(children); k++) {
		size_t at = json_array_size(nodes);
		if (old_node(json_array_get(children, k), nodes, next_id, e))
			return -1;
		json_array_append(kids, json_object_get(json_array_get(nodes, at), "id"));
	}
	return 0;
}

/* Rewrites the old layout into `*owned` (the nodes and deltas `c` points to). */
static int read_old(json_t *root, struct v8_cpu *c, json_t **owned, struct err *e)
{
	json_t *stamps = json_object_get(root, "timestamps"), *samples = json_object_get(root, "samples");
	json_t *nodes = json_array(), *deltas = json_array();
	json_int_t next_id = (json_int_t)1 << 40; /* for nodes without an id: past any real one */
	int64_t prev;

	*owned = json_object();
	json_object_set_new(*owned, "nodes", nodes);
	json_object_set_new(*owned, "timeDeltas", deltas);
	if (old_node(json_object_get(root, "head"), nodes, &next_id, e))
		return -1;
	c->nodes = nodes;
	c->has_start = to_us(json_object_get(root, "startTime"), 1e6, &c->start);
	c->has_end = to_us(json_object_get(root, "endTime"), 1e6, &c->end);
	if (!json_is_array(samples))
		return 0;
	c->samples = samples;
	if (!json_is_array(stamps))
		return 0;
	if (json_array_size(stamps) != json_array_size(samples))
		return err_set(e, "%zu samples but %zu timestamps", json_array_size(samples), json_array_size(stamps));
	/* Deltas from the time stamps, so the ticks are read as in the current layout. */
	prev = c->has_start ? c->start : 0;
	for (size_t i = 0; i < json_array_size(stamps); i++) {
		int64_t t, d;
		if (!to_us(json_array_get(stamps, i), 1, &t) || __builtin_sub_overflow(t, prev, &d))
			return err_set(e, "timestamps %zu is not a time", i);
		json_array_append_new(deltas, json_integer(d));
		prev = t;
	}
	c->deltas = deltas;
	return 0;
}

static int cpuprofile_read(struct profile *p, struct input *in, const struct format_read_opts *o, struct err *e)
{
	json_t *root = NULL, *old = NULL;
	struct v8_cpu c = { 0 };
	int ret = -1;

	if (!(root = json_input_read(in, e)))
		return -1;
	if (!json_is_object(root)) {
		err_set(e, "top level is not an object");
		goto out;
	}
	if (!json_object_get(root, "nodes") && json_is_object(json_object_get(root, "head"))) {
		if (read_old(root, &c, &old, e))
			goto out;
	} else {
		c.nodes = json_object_get(root, "nodes");
		c.samples = json_object_get(root, "samples");
		c.deltas = json_object_get(root, "timeDeltas");
		c.has_start = json_is_integer(json_object_get(root, "startTime"));
		c.start = json_integer_value(json_object_get(root, "startTime"));
		c.has_end = json_is_integer(json_object_get(root, "endTime"));
		c.end = json_integer_value(json_object_get(root, "endTime"));
	}
	if (v8_cpu_add(p, &c, e))
		goto out;
	if (json_is_array(c.samples) && json_is_array(c.deltas)) {
		p->period_type.type = profile_intern_str(p, "cpu");
		p->period_type.unit = profile_intern_str(p, "microseconds");
	}
	p->default_column = -1;
	int64_t dur;
	if (c.has_start && c.has_end && !__builtin_sub_overflow(c.end, c.start, &dur) && dur > 0 &&
	    dur < INT64_MAX / 1000)
		p->duration_nanos = dur * 1000;
	ret = 0;
out:
	json_decref(old);
	json_decref(root);
	return ret;
}

static const char *const cpuprofile_extensions[] = { NULL };

const struct format format_cpuprofile = {
	.name = "cpuprofile",
	.description = "Chrome DevTools / Node.js .cpuprofile JSON, current and pre-2016 \"head\" layouts (read only)",
	.extensions = cpuprofile_extensions,
	.probe = cpuprofile_probe,
	.read = cpuprofile_read,
	.write = NULL,
};
