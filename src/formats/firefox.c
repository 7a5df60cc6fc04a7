/*
 * firefox: the Firefox profiler's JSON, read only, in its two shapes:
 *   - the Gecko profile Firefox itself writes ({meta, libs, threads, processes}; DevTools' old performance panel
 *     exported it wrapped as {"profile": ..., "duration", ...}). Each thread has `samples`, `stackTable` and
 *     `frameTable` as {"schema": {column: index}, "data": [rows]} and a `stringTable`; a stack row is [prefix,
 *     frame], a frame's `location` is a string such as "func (url:line:col)". Sub-process profiles sit in
 *     `processes`, as objects or as JSON strings.
 *   - the processed profile profiler.firefox.com saves (meta.preprocessedProfileVersion): the same tables as
 *     columns ({"stack": [...], "time": [...] or "timeDeltas": [...]}), frames through a `funcTable`, strings in
 *     the thread's `stringArray`/`stringTable` or in `shared.stringArray`.
 * Columns "samples"/"count" and "time"/"nanoseconds": a sample lasts until the thread's next one, the last one
 * meta.interval. Threads are read one after another, each in time order (flame charts), labelled pid/tid/comm.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../core/array.h"
#include "../core/err.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "cpuprofile.h"
#include "format.h"
#include "json_input.h"

static int firefox_probe(const unsigned char *head, size_t len)
{
	size_t i = 0;

	while (i < len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r'))
		i++;
	if (i == len || head[i] != '{')
		return 0;
	if (memmem(head, len, "\"preprocessedProfileVersion\"", 28))
		return 90;
	if (memmem(head, len, "\"meta\"", 6) && memmem(head, len, "\"threads\"", 9) &&
	    memmem(head, len, "\"stackTable\"", 12))
		return 85;
	/* Gecko's library list comes first and can fill the probe window: its breakpad ids are Firefox's own. */
	if (memmem(head, len, "\"libs\"", 6) && memmem(head, len, "\"breakpadId\"", 12))
		return 80;
	return 0;
}

#define MAX_DEPTH 64 /* nested sub-process profiles */

struct freader {
	struct profile *p;
	int cs, ct;
	double interval_ms;
	size_t threads;
	struct err *e;
};

/* A table column: by the schema's index into row arrays (Gecko), or the column array itself (processed). */
struct col {
	json_t *rows; /* Gecko: data rows; processed: NULL */
	json_t *arr;  /* processed: the column */
	int64_t index;
};

static bool col_of(json_t *table, const char *name, struct col *c)
{
	json_t *schema = json_object_get(table, "schema");

	memset(c, 0, sizeof(*c));
	if (json_is_object(schema)) {
		json_t *ix = json_object_get(schema, name);
		c->rows = json_object_get(table, "data");
		if (!json_is_integer(ix) || json_integer_value(ix) < 0 || !json_is_array(c->rows))
			return false;
		c->index = json_integer_value(ix);
		return true;
	}
	c->arr = json_object_get(table, name);
	return json_is_array(c->arr);
}

static json_t *cell(const struct col *c, size_t row)
{
	if (c->rows)
		return json_array_get(json_array_get(c->rows, row), (size_t)c->index);
	return json_array_get(c->arr, row);
}

static size_t rows_of(json_t *table, const struct col *c)
{
	json_t *len = json_object_get(table, "length");

	if (c->rows)
		return json_array_size(c->rows);
	if (json_is_integer(len) && json_integer_value(len) >= 0 &&
	    (size_t)json_integer_value(len) <= json_array_size(c->arr))
		return (size_t)json_integer_value(len);
	return json_array_size(c->arr);
}

static const char *str_at(json_t *strings, json_t *ix, size_t *len)
{
	json_t *s = json_is_integer(ix) && json_integer_value(ix) >= 0
			    ? json_array_get(strings, (size_t)json_integer_value(ix))
			    : NULL;

	if (!json_is_string(s))
		return NULL;
	*len = json_string_length(s);
	return json_string_value(s);
}

/* "func (url:line:col)": the function, file and line apart; other locations (C++, addresses) as they are. */
static uint32_t location_frame(struct profile *p, const char *s, size_t len, int64_t line)
{
	struct frame f = { 0 };
	const char *open;

	/* a url or file in the parentheses has a colon; "Foo (in libxul.so)" and the like stay whole */
	if (len > 3 && s[len - 1] == ')' && (open = memmem(s, len, " (", 2)) &&
	    memchr(open, ':', (size_t)(s + len - open))) {
		const char *c = open + 2, *end = s + len - 1, *p1 = end, *p2 = end;
		/* the last one or two ":N" are line and column; the url may hold colons itself */
		for (int k = 0; k < 2; k++) {
			const char *q = p2;
			while (q > c && q[-1] >= '0' && q[-1] <= '9')
				q--;
			if (q == p2 || q == c || q[-1] != ':')
				break;
			p1 = q;
			p2 = q - 1;
		}
		while (open > s && memmem(open + 2, (size_t)(end - open - 2), " (", 2)) /* "a (b) (url)" */
			open = memmem(open + 2, (size_t)(end - open - 2), " (", 2);
		f.function = profile_intern(p, s, (size_t)(open - s));
		f.file = profile_intern(p, open + 2, (size_t)(p2 - open - 2));
		if (p1 < end && line <= 0)
			line = strtoll(p1, NULL, 10);
		f.kind = FRAME_JS;
	} else {
		f.function = profile_intern(p, s, len);
	}
	if (line > 0 && line < UINT32_MAX)
		f.line = (uint32_t)line;
	return profile_frame(p, &f);
}

struct thread_tables {
	json_t *samples, *stacks, *frames, *funcs, *strings;
	struct col s_stack, s_time, s_delta, s_weight, st_prefix, st_frame, f_loc, f_func, f_line, fn_name, fn_file;
	bool processed, has_time, has_weight;
	uint32_t *frame_ids, *nodes; /* per frame row, per stack row; UINT32_MAX = not yet */
	size_t nframes, nstacks;
};

static int frame_id(struct freader *r, struct thread_tables *t, int64_t fi, uint32_t *out)
{
	size_t len = 0;
	const char *name;
	int64_t line = 0;

	if (fi < 0 || (size_t)fi >= t->nframes)
		return err_set(r->e, "a stack names frame %" PRId64 ", not one of the %zu frames", fi, t->nframes);
	if (t->frame_ids[fi] != UINT32_MAX) {
		*out = t->frame_ids[fi];
		return 0;
	}
	json_t *jl = cell(&t->f_line, (size_t)fi);
	if (json_is_integer(jl))
		line = json_integer_value(jl);
	if (t->processed) {
		json_t *fn = cell(&t->f_func, (size_t)fi);
		if (!json_is_integer(fn) || json_integer_value(fn) < 0 ||
		    !(name = str_at(t->strings, cell(&t->fn_name, (size_t)json_integer_value(fn)), &len)))
			return err_set(r->e, "frame %" PRId64 " has no function name", fi);
		size_t flen = 0;
		const char *file = str_at(t->strings, cell(&t->fn_file, (size_t)json_integer_value(fn)), &flen);
		struct frame f = { 0 };
		f.function = profile_intern(r->p, name, len);
		if (file) {
			f.file = profile_intern(r->p, file, flen);
			f.kind = FRAME_JS;
		}
		if (line > 0 && line < UINT32_MAX)
			f.line = (uint32_t)line;
		t->frame_ids[fi] = profile_frame(r->p, &f);
	} else {
		if (!(name = str_at(t->strings, cell(&t->f_loc, (size_t)fi), &len)))
			return err_set(r->e, "frame %" PRId64 " has no location string", fi);
		t->frame_ids[fi] = location_frame(r->p, name, len, line);
	}
	*out = t->frame_ids[fi];
	return 0;
}

/* Every stack row's model node, in row order: Firefox writes a prefix before the stacks that extend it. */
static int build_stacks(struct freader *r, struct thread_tables *t)
{
	for (size_t si = 0; si < t->nstacks; si++) {
		json_t *jp = cell(&t->st_prefix, si), *jf = cell(&t->st_frame, si);
		uint32_t frame = 0;
		if (jp && !json_is_null(jp) &&
		    (!json_is_integer(jp) || json_integer_value(jp) < 0 || (size_t)json_integer_value(jp) >= si))
			return err_set(r->e, "stack %zu has a prefix that is not an earlier stack", si);
		if (!json_is_integer(jf))
			return err_set(r->e, "stack %zu has no frame", si);
		if (frame_id(r, t, json_integer_value(jf), &frame))
			return -1;
		t->nodes[si] = profile_node(r->p, json_is_integer(jp) ? t->nodes[json_integer_value(jp)] : 0, frame);
	}
	return 0;
}

struct tick {
	double ms;
	size_t i;
};

static int cmp_tick(const void *a, const void *b)
{
	const struct tick *x = a, *y = b;

	if (x->ms != y->ms)
		return x->ms < y->ms ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int64_t ms_to_ns(double ms)
{
	double ns = ms * 1e6;

	return ns > 0 && ns < 9.2e18 ? llround(ns) : 0;
}

static int read_thread(struct freader *r, json_t *th, json_t *shared_strings)
{
	struct thread_tables t;
	struct tick *ticks = NULL;
	struct label l[3];
	size_t nl = 0, ns, skipped = 0;
	int64_t pid = 0, tid = 0;
	int ret = -1;

	memset(&t, 0, sizeof(t));
	t.samples = json_object_get(th, "samples");
	t.stacks = json_object_get(th, "stackTable");
	t.frames = json_object_get(th, "frameTable");
	t.funcs = json_object_get(th, "funcTable");
	t.processed = json_is_object(t.funcs);
	t.strings = json_object_get(th, "stringTable");
	if (!json_is_array(t.strings))
		t.strings = json_object_get(th, "stringArray");
	if (!json_is_array(t.strings))
		t.strings = shared_strings;
	if (!json_is_object(t.samples) || !json_is_object(t.stacks) || !json_is_object(t.frames) ||
	    !json_is_array(t.strings))
		return err_set(r->e, "thread %zu lacks samples, stackTable, frameTable or its strings", r->threads);
	if (!col_of(t.samples, "stack", &t.s_stack) || !col_of(t.stacks, "prefix", &t.st_prefix) ||
	    !col_of(t.stacks, "frame", &t.st_frame) ||
	    (t.processed ? !col_of(t.frames, "func", &t.f_func) || !col_of(t.funcs, "name", &t.fn_name)
			 : !col_of(t.frames, "location", &t.f_loc)))
		return err_set(r->e, "thread %zu has a table without its columns", r->threads);
	t.has_time = col_of(t.samples, "time", &t.s_time);
	if (!t.has_time && !col_of(t.samples, "timeDeltas", &t.s_delta))
		return err_set(r->e, "thread %zu has samples without time", r->threads);
	t.has_weight = col_of(t.samples, "weight", &t.s_weight) &&
		       json_is_string(json_object_get(t.samples, "weightType")) &&
		       !strcmp(json_string_value(json_object_get(t.samples, "weightType")), "samples");
	col_of(t.frames, "line", &t.f_line);
	if (t.processed)
		col_of(t.funcs, "fileName", &t.fn_file);
	t.nframes = rows_of(t.frames, t.processed ? &t.f_func : &t.f_loc);
	t.nstacks = rows_of(t.stacks, &t.st_frame);
	t.frame_ids = xmalloc((t.nframes + 1) * sizeof(*t.frame_ids));
	memset(t.frame_ids, 0xff, (t.nframes + 1) * sizeof(*t.frame_ids));
	t.nodes = xcalloc(t.nstacks + 1, sizeof(*t.nodes));
	if (build_stacks(r, &t))
		goto out;

	ns = rows_of(t.samples, &t.s_stack);
	ticks = xmalloc((ns + 1) * sizeof(*ticks));
	double now = 0;
	for (size_t i = 0; i < ns; i++) {
		json_t *v = t.has_time ? cell(&t.s_time, i) : cell(&t.s_delta, i);
		if (!json_is_number(v)) {
			err_set(r->e, "thread %zu: sample %zu has no time", r->threads, i);
			goto out;
		}
		now = t.has_time ? json_number_value(v) : now + json_number_value(v);
		ticks[i].ms = now;
		ticks[i].i = i;
	}
	qsort(ticks, ns, sizeof(*ticks), cmp_tick);

	memset(l, 0, sizeof(l));
	json_t *jpid = json_object_get(th, "pid"), *jtid = json_object_get(th, "tid"), *name = json_object_get(th, "name");
	if (json_is_integer(jpid) || (json_is_string(jpid) && (pid = strtoll(json_string_value(jpid), NULL, 10)))) {
		l[nl].key = profile_intern_str(r->p, "pid");
		l[nl++].num = json_is_integer(jpid) ? json_integer_value(jpid) : pid;
	}
	if (json_is_integer(jtid) || (json_is_string(jtid) && (tid = strtoll(json_string_value(jtid), NULL, 10)))) {
		l[nl].key = profile_intern_str(r->p, "tid");
		l[nl++].num = json_is_integer(jtid) ? json_integer_value(jtid) : tid;
	}
	if (json_is_string(name)) {
		l[nl].key = profile_intern_str(r->p, "comm");
		l[nl++].str = profile_intern_str(r->p, json_string_value(name));
	}
	uint32_t ls = profile_labelset(r->p, l, nl);
	for (size_t k = 0; k < ns; k++) {
		size_t i = ticks[k].i;
		json_t *js = cell(&t.s_stack, i), *w = t.has_weight ? cell(&t.s_weight, i) : NULL;
		int64_t vals[PROFILE_MAX_COLUMNS] = { 0 };
		if (!json_is_integer(js) || json_integer_value(js) < 0 ||
		    (size_t)json_integer_value(js) >= t.nstacks) {
			if (json_is_null(js) || !js) { /* a sample taken with no stack */
				skipped++;
				continue;
			}
			err_set(r->e, "thread %zu: sample %zu names no stack", r->threads, i);
			goto out;
		}
		vals[r->cs] = json_is_integer(w) && json_integer_value(w) > 0 ? json_integer_value(w) : 1;
		vals[r->ct] = k + 1 < ns ? ms_to_ns(ticks[k + 1].ms - ticks[k].ms) : ms_to_ns(r->interval_ms);
		profile_add_sample(r->p, t.nodes[json_integer_value(js)], ls, vals);
	}
	if (skipped)
		profile_add_warning(r->p, "skipped %zu samples without a stack in thread %zu", skipped, r->threads);
	ret = 0;
out:
	r->threads++;
	free(t.frame_ids);
	free(t.nodes);
	free(ticks);
	return ret;
}

static int read_gecko(struct freader *r, json_t *prof, int depth)
{
	json_t *threads = json_object_get(prof, "threads"), *procs = json_object_get(prof, "processes");
	json_t *meta = json_object_get(prof, "meta"), *shared = json_object_get(prof, "shared");
	json_t *interval = json_object_get(meta, "interval");

	if (depth > MAX_DEPTH)
		return err_set(r->e, "sub-process profiles nest too deep");
	if (!json_is_object(meta) || !json_is_array(threads))
		return err_set(r->e, "a profile without \"meta\" and \"threads\"");
	if (json_is_number(interval) && json_number_value(interval) > 0 && json_number_value(interval) < 1e6)
		r->interval_ms = json_number_value(interval);
	for (size_t i = 0; i < json_array_size(threads); i++) {
		json_t *th = json_array_get(threads, i);
		/* Gecko may also store a thread as a JSON string */
		json_t *parsed = json_is_string(th) ? json_loads(json_string_value(th), 0, NULL) : NULL;
		int rc = read_thread(r, parsed ? parsed : th, json_object_get(shared, "stringArray"));
		json_decref(parsed);
		if (rc)
			return -1;
	}
	for (size_t i = 0; json_is_array(procs) && i < json_array_size(procs); i++) {
		json_t *sub = json_array_get(procs, i);
		json_t *parsed = json_is_string(sub) ? json_loads(json_string_value(sub), 0, NULL) : NULL;
		int rc = read_gecko(r, parsed ? parsed : sub, depth + 1);
		json_decref(parsed);
		if (rc)
			return -1;
	}
	return 0;
}

static int firefox_read(struct profile *p, struct input *in, const struct format_read_opts *o, struct err *e)
{
	json_t *root, *prof;
	struct freader r = { .p = p, .interval_ms = 1, .e = e };
	int ret = -1;

	if (!(root = json_input_read(in, e)))
		return -1;
	/* DevTools' export wraps the Gecko profile */
	prof = json_is_object(json_object_get(root, "profile")) ? json_object_get(root, "profile") : root;
	r.cs = profile_add_column(p, "samples", "count");
	r.ct = profile_add_column(p, "time", "nanoseconds");
	p->default_column = -1;
	if (read_gecko(&r, prof, 0))
		goto out;
	if (!p->rows_nr) {
		err_set(e, "no samples in its %zu threads", r.threads);
		goto out;
	}
	ret = 0;
out:
	json_decref(root);
	return ret;
}

static const char *const firefox_extensions[] = { NULL };

const struct format format_firefox = {
	.name = "firefox",
	.description = "Firefox profiler JSON, Gecko and processed (read only)",
	.extensions = firefox_extensions,
	.probe = firefox_probe,
	.read = firefox_read,
	.write = NULL,
};
