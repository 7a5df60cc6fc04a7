/*
 * speedscope: the JSON file format of https://www.speedscope.app (file-format-schema.json). Written as "sampled"
 * profiles, one per thread when the samples carry tid labels; read from both "sampled" and "evented" profiles
 * (open/close events become stacks weighted by the time between events).
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/json.h"
#include "../core/xalloc.h"
#include "../profile/frame_name.h"
#include "../profile/profile.h"
#include "format.h"
#include "srcfile.h"
#include "json_input.h"

#define SCHEMA_URL "https://www.speedscope.app/file-format-schema.json"
#define FLUSH_AT (1u << 20)

/* ---- writing ------------------------------------------------------------------------------------------- */

/* speedscope's units are a closed set; anything else is written as "none". */
static const char *speedscope_unit(const char *unit)
{
	static const char *const units[] = { "nanoseconds", "microseconds", "milliseconds", "seconds", "bytes" };

	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (!strcmp(unit, units[i]))
			return units[i];
	return "none";
}


struct group {
	bool has_tid;
	int64_t tid;
	uint32_t comm; /* string id, 0 when none */
};

struct row_ref {
	size_t row;
	struct group g;
};

static int cmp_rows(const void *a, const void *b)
{
	const struct row_ref *x = a, *y = b;

	if (x->g.has_tid != y->g.has_tid)
		return x->g.has_tid ? 1 : -1;
	if (x->g.tid != y->g.tid)
		return x->g.tid < y->g.tid ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

static int flush(struct buf *b, FILE *out, struct err *e)
{
	if (b->len && fwrite(b->buf, 1, b->len, out) != b->len)
		return err_errno(e, "cannot write speedscope data");
	buf_reset(b);
	return 0;
}

static int speedscope_write(const struct profile *p, FILE *out, const struct format_write_opts *o, struct err *e)
{
	int col = o && o->column >= 0 ? o->column : profile_default_column(p);
	struct row_ref *refs = NULL;
	size_t nrefs = 0;
	uint32_t *frame_index = xmalloc((p->frames_nr + 1) * sizeof(*frame_index));
	uint32_t *used = NULL, *stack = NULL;
	size_t nused = 0, stack_alloc = 0;
	struct buf b = BUF_INIT, name = BUF_INIT;
	struct jw j;
	int ret = -1;

	if (col >= (int)p->ncolumns)
		col = -1;
	memset(frame_index, 0xff, (p->frames_nr + 1) * sizeof(*frame_index));
	used = xmalloc((p->frames_nr + 1) * sizeof(*used));

	/* Rows with a weight, grouped by thread; and the frames they use, in order of first use. */
	refs = xmalloc((p->rows_nr + 1) * sizeof(*refs));
	bool any_tid = false;
	for (size_t r = 0; col >= 0 && r < p->rows_nr; r++) {
		if (profile_row_values(p, r)[col] == 0)
			continue;
		struct row_ref *ref = &refs[nrefs++];
		ref->row = r;
		ref->g.has_tid = profile_label_num(p, p->rows[r].labelset, "tid", &ref->g.tid);
		if (!ref->g.has_tid)
			ref->g.tid = 0;
		ref->g.comm = profile_label_str(p, p->rows[r].labelset, "comm");
		any_tid |= ref->g.has_tid;
		uint32_t depth = p->nodes[p->rows[r].node].depth;
		ALLOC_GROW(stack, depth + 1, stack_alloc);
		size_t n = profile_stack(p, p->rows[r].node, stack, depth + 1);
		for (size_t i = 0; i < n; i++) {
			if (frame_index[stack[i]] == UINT32_MAX) {
				frame_index[stack[i]] = (uint32_t)nused;
				used[nused++] = stack[i];
			}
		}
	}
	if (any_tid)
		qsort(refs, nrefs, sizeof(*refs), cmp_rows);

	jw_init(&j, &b, false);
	jw_object_begin(&j);
	jw_kv_str(&j, "$schema", SCHEMA_URL);
	jw_key(&j, "shared");
	jw_object_begin(&j);
	jw_key(&j, "frames");
	jw_array_begin(&j);
	for (size_t i = 0; i < nused; i++) {
		const struct frame *f = &p->frames[used[i]];
		buf_reset(&name);
		profile_frame_name(&name, p, used[i]);
		jw_object_begin(&j);
		jw_key(&j, "name");
		jw_string_len(&j, name.buf, name.len);
		if (f->file) {
			jw_key(&j, "file");
			jw_string_len(&j, profile_str(p, f->file), profile_strlen(p, f->file));
		} else if (f->module) {
			jw_key(&j, "file");
			jw_string_len(&j, profile_str(p, f->module), profile_strlen(p, f->module));
		}
		if (f->line) {
			jw_kv_u64(&j, "line", f->line);
		}
		jw_object_end(&j);
		if (b.len > FLUSH_AT && flush(&b, out, e))
			goto out;
	}
	jw_array_end(&j);
	jw_object_end(&j);

	const char *unit = col >= 0 ? speedscope_unit(profile_str(p, p->columns[col].unit)) : "none";
	const char *type = col >= 0 ? profile_str(p, p->columns[col].type) : "samples";
	jw_key(&j, "profiles");
	jw_array_begin(&j);
	size_t nprofiles = 0;
	for (size_t start = 0; start < nrefs || (start == 0 && nprofiles == 0);) {
		size_t end = start;
		int64_t total = 0;
		while (end < nrefs && (end == start || !any_tid ||
				       (refs[end].g.has_tid == refs[start].g.has_tid &&
					refs[end].g.tid == refs[start].g.tid))) {
			if (__builtin_add_overflow(total, profile_row_values(p, refs[end].row)[col], &total))
				total = INT64_MAX;
			end++;
		}
		jw_object_begin(&j);
		jw_kv_str(&j, "type", "sampled");
		jw_key(&j, "name");
		buf_reset(&name);
		if (start < nrefs && refs[start].g.has_tid) {
			if (refs[start].g.comm)
				buf_addf(&name, "%s ", profile_str(p, refs[start].g.comm));
			buf_addf(&name, "tid=%" PRId64, refs[start].g.tid);
		} else {
			buf_adds(&name, type);
		}
		jw_string_len(&j, name.buf, name.len);
		jw_kv_str(&j, "unit", unit);
		jw_kv_i64(&j, "startValue", 0);
		jw_kv_i64(&j, "endValue", total);
		jw_key(&j, "samples");
		jw_array_begin(&j);
		for (size_t i = start; i < end; i++) {
			uint32_t node = p->rows[refs[i].row].node, depth = p->nodes[node].depth;
			ALLOC_GROW(stack, depth + 1, stack_alloc);
			size_t n = profile_stack(p, node, stack, depth + 1);
			jw_array_begin(&j);
			for (size_t k = 0; k < n; k++)
				jw_uint(&j, frame_index[stack[k]]);
			jw_array_end(&j);
			if (b.len > FLUSH_AT && flush(&b, out, e))
				goto out;
		}
		jw_array_end(&j);
		jw_key(&j, "weights");
		jw_array_begin(&j);
		for (size_t i = start; i < end; i++) {
			jw_int(&j, profile_row_values(p, refs[i].row)[col]);
			if (b.len > FLUSH_AT && flush(&b, out, e))
				goto out;
		}
		jw_array_end(&j);
		jw_object_end(&j);
		nprofiles++;
		start = end;
		if (end == nrefs)
			break;
	}
	jw_array_end(&j);
	jw_kv_str(&j, "name", type);
	jw_kv_i64(&j, "activeProfileIndex", 0);
	jw_kv_str(&j, "exporter", "kiln");
	jw_object_end(&j);
	buf_addch(&b, '\n');
	if (flush(&b, out, e))
		goto out;
	ret = 0;
out:
	free(refs);
	free(frame_index);
	free(used);
	free(stack);
	buf_release(&b);
	buf_release(&name);
	return ret;
}

/* ---- reading ------------------------------------------------------------------------------------------- */

static int speedscope_probe(const unsigned char *head, size_t len)
{
	size_t i = 0;

	while (i < len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r'))
		i++;
	if (i == len || head[i] != '{')
		return 0;
	if (memmem(head, len, "speedscope.app/file-format-schema", 33))
		return 100;
	if (memmem(head, len, "\"shared\"", 8) && memmem(head, len, "\"profiles\"", 10))
		return 70;
	return 0;
}

/* Converts a speedscope unit into a column (type, unit) and a factor to that column's unit. */
static void unit_column(const char *unit, const char **type, const char **cunit, double *factor)
{
	static const struct {
		const char *name;
		double ns;
	} times[] = { { "nanoseconds", 1 }, { "microseconds", 1e3 }, { "milliseconds", 1e6 }, { "seconds", 1e9 } };

	for (size_t i = 0; i < ARRAY_SIZE(times); i++) {
		if (unit && !strcmp(unit, times[i].name)) {
			*type = "time";
			*cunit = "nanoseconds";
			*factor = times[i].ns;
			return;
		}
	}
	*factor = 1;
	if (unit && !strcmp(unit, "bytes")) {
		*type = "space";
		*cunit = "bytes";
	} else {
		*type = "samples";
		*cunit = "count";
	}
}

static int64_t to_value(double v, double factor)
{
	double x = v * factor;
	if (!(x > -9.2e18 && x < 9.2e18))
		return 0;
	return llround(x);
}

struct sreader {
	struct profile *p;
	uint32_t *frames; /* speedscope frame index -> model frame id */
	size_t nframes;
	int64_t *vals;
	struct err *e;
};

static int read_frames(struct sreader *r, json_t *shared)
{
	json_t *frames = shared ? json_object_get(shared, "frames") : NULL;

	if (!json_is_array(frames))
		return err_set(r->e, "missing \"shared.frames\" array");
	r->nframes = json_array_size(frames);
	r->frames = xcalloc(r->nframes + 1, sizeof(*r->frames));
	for (size_t i = 0; i < r->nframes; i++) {
		json_t *jf = json_array_get(frames, i), *name = json_object_get(jf, "name");
		json_t *file = json_object_get(jf, "file"), *line = json_object_get(jf, "line");
		struct frame f = { 0 };
		if (!json_is_string(name))
			return err_set(r->e, "frame %zu has no \"name\" string", i);
		f.function = profile_intern(r->p, json_string_value(name), json_string_length(name));
		if (json_is_string(file))
			f.file = profile_intern(r->p, json_string_value(file), json_string_length(file));
		if (json_is_integer(line) && json_integer_value(line) > 0 && json_integer_value(line) <= UINT32_MAX)
			f.line = (uint32_t)json_integer_value(line);
		f.kind = srcfile_kind(profile_str(r->p, f.file), profile_strlen(r->p, f.file));
		r->frames[i] = profile_frame(r->p, &f);
	}
	return 0;
}

static int frame_ref(struct sreader *r, json_t *v, uint32_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) >= r->nframes)
		return err_set(r->e, "a frame index is not one of the %zu shared frames", r->nframes);
	*out = r->frames[json_integer_value(v)];
	return 0;
}

static void add_value(struct sreader *r, uint32_t node, uint32_t ls, int col, int64_t v)
{
	memset(r->vals, 0, r->p->ncolumns * sizeof(*r->vals));
	r->vals[col] = v;
	profile_add_sample(r->p, node, ls, r->vals);
}

static int read_sampled(struct sreader *r, json_t *prof, uint32_t ls, int col, double factor)
{
	json_t *samples = json_object_get(prof, "samples"), *weights = json_object_get(prof, "weights");

	if (!json_is_array(samples))
		return err_set(r->e, "a sampled profile has no \"samples\" array");
	if (weights && !json_is_array(weights))
		return err_set(r->e, "a sampled profile's \"weights\" is not an array");
	if (weights && json_array_size(weights) != json_array_size(samples))
		return err_set(r->e, "a sampled profile has %zu samples but %zu weights", json_array_size(samples),
			       json_array_size(weights));
	for (size_t i = 0; i < json_array_size(samples); i++) {
		json_t *stack = json_array_get(samples, i), *w = weights ? json_array_get(weights, i) : NULL;
		uint32_t node = 0;
		if (!json_is_array(stack))
			return err_set(r->e, "sample %zu is not an array of frame indices", i);
		if (w && !json_is_number(w))
			return err_set(r->e, "weight %zu is not a number", i);
		for (size_t k = 0; k < json_array_size(stack); k++) {
			uint32_t f;
			if (frame_ref(r, json_array_get(stack, k), &f))
				return -1;
			node = profile_node(r->p, node, f);
		}
		add_value(r, node, ls, col, w ? to_value(json_number_value(w), factor) : 1);
	}
	return 0;
}

static int read_evented(struct sreader *r, json_t *prof, uint32_t ls, int col, double factor)
{
	json_t *events = json_object_get(prof, "events"), *endv = json_object_get(prof, "endValue");
	uint32_t *nodes = NULL, *frames = NULL;
	size_t depth = 0, alloc = 0, falloc = 0;
	double last = 0;
	int ret = -1;

	if (!json_is_array(events))
		return err_set(r->e, "an evented profile has no \"events\" array");
	ALLOC_GROW(nodes, 1, alloc);
	nodes[0] = 0;
	for (size_t i = 0; i < json_array_size(events); i++) {
		json_t *ev = json_array_get(events, i), *type = json_object_get(ev, "type");
		json_t *at = json_object_get(ev, "at");
		uint32_t f;
		if (!json_is_string(type) || !json_is_number(at)) {
			err_set(r->e, "event %zu needs a \"type\" string and an \"at\" number", i);
			goto out;
		}
		if (frame_ref(r, json_object_get(ev, "frame"), &f))
			goto out;
		double t = json_number_value(at);
		if (i > 0 && t < last) {
			err_set(r->e, "event %zu at %g is earlier than the one before it", i, t);
			goto out;
		}
		if (depth > 0 && i > 0 && t > last)
			add_value(r, nodes[depth], ls, col, to_value(t - last, factor));
		last = t;
		const char *ty = json_string_value(type);
		if (!strcmp(ty, "O")) {
			ALLOC_GROW(nodes, depth + 2, alloc);
			ALLOC_GROW(frames, depth + 1, falloc);
			frames[depth] = f;
			nodes[depth + 1] = profile_node(r->p, nodes[depth], f);
			depth++;
		} else if (!strcmp(ty, "C")) {
			if (depth == 0 || frames[depth - 1] != f) {
				err_set(r->e, "event %zu closes a frame that is not the innermost open one", i);
				goto out;
			}
			depth--;
		} else {
			err_set(r->e, "event %zu has the unknown type '%s'", i, ty);
			goto out;
		}
	}
	if (depth > 0 && json_is_number(endv) && json_number_value(endv) > last)
		add_value(r, nodes[depth], ls, col, to_value(json_number_value(endv) - last, factor));
	ret = 0;
out:
	free(nodes);
	free(frames);
	return ret;
}

/* A profile's name as labels: our own "comm tid=N" names give back tid (and comm); others a "thread" label. */
static uint32_t name_labels(struct profile *p, const char *name, bool several)
{
	struct label l[2];
	size_t n = 0;
	const char *t = strstr(name, "tid=");

	memset(l, 0, sizeof(l));
	if (t && (t == name || t[-1] == ' ') && t[4]) {
		char *end;
		long long tid = strtoll(t + 4, &end, 10);
		if (*end == '\0' && end != t + 4) {
			l[n].key = profile_intern_str(p, "tid");
			l[n++].num = tid;
			if (t > name + 1) {
				l[n].key = profile_intern_str(p, "comm");
				l[n++].str = profile_intern(p, name, (size_t)(t - 1 - name));
			}
			return profile_labelset(p, l, n);
		}
	}
	if (!several)
		return 0;
	l[0].key = profile_intern_str(p, "thread");
	l[0].str = profile_intern_str(p, name);
	return profile_labelset(p, l, 1);
}

static int speedscope_read(struct profile *p, struct input *in, const struct format_read_opts *o, struct err *e)
{
	json_t *root = NULL, *profiles;
	struct sreader r = { .p = p, .e = e };
	int ret = -1;

	if (!(root = json_input_read(in, e)))
		return -1;
	if (!json_is_object(root)) {
		err_set(e, "top level is not an object");
		goto out;
	}
	profiles = json_object_get(root, "profiles");
	if (!json_is_array(profiles)) {
		err_set(e, "missing \"profiles\" array");
		goto out;
	}
	if (read_frames(&r, json_object_get(root, "shared")))
		goto out;

	/* Columns first (one per distinct unit), so every sample has them all. */
	size_t np = json_array_size(profiles);
	for (size_t i = 0; i < np; i++) {
		const char *type, *cunit;
		double factor;
		unit_column(json_string_value(json_object_get(json_array_get(profiles, i), "unit")), &type, &cunit,
			    &factor);
		if (p->ncolumns == PROFILE_MAX_COLUMNS && profile_find_column(p, type) < 0) {
			err_set(e, "too many different units");
			goto out;
		}
		profile_add_column(p, type, cunit);
	}
	r.vals = xcalloc(PROFILE_MAX_COLUMNS, sizeof(*r.vals));
	for (size_t i = 0; i < np; i++) {
		json_t *prof = json_array_get(profiles, i), *type = json_object_get(prof, "type");
		json_t *name = json_object_get(prof, "name");
		const char *ctype, *cunit;
		double factor;
		if (!json_is_object(prof) || !json_is_string(type)) {
			err_set(e, "profile %zu has no \"type\"", i);
			goto out;
		}
		unit_column(json_string_value(json_object_get(prof, "unit")), &ctype, &cunit, &factor);
		int col = profile_add_column(p, ctype, cunit);
		uint32_t ls = json_is_string(name) ? name_labels(p, json_string_value(name), np > 1) : 0;
		if (!strcmp(json_string_value(type), "sampled")) {
			if (read_sampled(&r, prof, ls, col, factor))
				goto out;
		} else if (!strcmp(json_string_value(type), "evented")) {
			if (read_evented(&r, prof, ls, col, factor))
				goto out;
		} else {
			err_set(e, "profile %zu has the unknown type '%s'", i, json_string_value(type));
			goto out;
		}
	}
	ret = 0;
out:
	json_decref(root);
	free(r.frames);
	free(r.vals);
	return ret;
}

static const char *const speedscope_extensions[] = { ".speedscope.json", ".json", NULL };

const struct format format_speedscope = {
	.name = "speedscope",
	.description = "speedscope JSON (https://www.speedscope.app file format)",
	.extensions = speedscope_extensions,
	.probe = speedscope_probe,
	.read = speedscope_read,
	.write = speedscope_write,
};
