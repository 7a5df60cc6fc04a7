/*
 * pprof: the profile.proto format (gzip-compressed or plain protobuf), read and written through protobuf-c, and
 * gperftools' legacy binary CPU profile, read only.
 *
 * Inlining: in the model an inlined function is a FRAME_INLINED frame leafward of its physical caller; in pprof
 * it is one Location whose Lines run innermost-first and end with the physical function. The writer groups each
 * run of inlined frames with the next non-inlined frame into one Location; the reader expands it back.
 *
 * Build ids and mapping ranges have no place in struct frame; they are the profile's typed metadata (meta.h),
 * which the writer turns back into Mapping fields (pprof_meta.h). A location without lines is
 * an unsymbolized address and stays one: its mapping keeps its real start, limit, offset, file and build id.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gzip.h"
#include "pprof_legacy.h"
#include "pprof_meta.h"
#include "pprof_pb.h"
#include "srcfile.h"

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/hash.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "format.h"

#define MAX_INFLATED ((size_t)4 << 30) /* a larger decompressed profile is treated as hostile */

/* ---- probing ------------------------------------------------------------------------------------------- */

static bool get_varint(const unsigned char *d, size_t len, size_t *pos, uint64_t *v)
{
	uint64_t r = 0;
	for (int shift = 0; shift < 64 && *pos < len; shift += 7) {
		unsigned char c = d[(*pos)++];
		r |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = r;
			return true;
		}
	}
	return false;
}

/*
 * Checks that `d` starts like a serialized Profile: every field (up to the end of the data, which may cut the
 * last one short) has a Profile field number with its wire type. Returns the number of whole fields, or -1.
 */
static int looks_like_profile(const unsigned char *d, size_t len)
{
	size_t pos = 0;
	int fields = 0;

	while (pos < len) {
		uint64_t tag, v;
		if (!get_varint(d, len, &pos, &tag))
			return len - pos < 10 ? fields : -1;
		unsigned field = (unsigned)(tag >> 3), wire = tag & 7;
		if (tag >> 3 > 14 || field == 0)
			return -1;
		bool len_field = field <= 6 || field == 11 || field == 13;
		if (wire == 2 && len_field) {
			if (!get_varint(d, len, &pos, &v))
				return fields;
			if (field == 1 || field == 11) { /* ValueType: two small varint fields */
				if (v > 24)
					return -1;
				size_t end = pos + v, p = pos;
				while (p < end && p < len) {
					uint64_t t2, v2;
					if (!get_varint(d, len, &p, &t2))
						break;
					if (t2 != 0x08 && t2 != 0x10)
						return -1;
					if (!get_varint(d, len, &p, &v2))
						break;
				}
			}
			if (v > len - pos)
				return fields;
			pos += v;
		} else if (wire == 0 && field >= 7 && field != 11) {
			if (!get_varint(d, len, &pos, &v))
				return fields;
		} else {
			return -1;
		}
		fields++;
	}
	return fields;
}

static int pprof_probe(const unsigned char *head, size_t len)
{
	if (gzip_is(head, len)) {
		struct buf b = BUF_INIT;
		int n, conf = 0;
		gzip_inflate(head, len, 1 << 16, true, &b, NULL);
		n = looks_like_profile((const unsigned char *)b.buf, b.len);
		if (b.len == 0)
			conf = len > 2 && head[2] == 8 ? 40 : 0; /* too little to inflate: only the gzip header says */
		else if (n >= 0)
			conf = 95;
		buf_release(&b);
		return conf;
	}
	if (pprof_legacy_detect(head, len))
		return 90;
	int n = looks_like_profile(head, len);
	if (n >= 2 || (n == 1 && len < 64))
		return 60;
	return 0;
}

static int pprof_raw_probe(const unsigned char *head, size_t len)
{
	return 0; /* reading goes through "pprof", which takes plain and compressed data alike */
}

/* ---- reading profile.proto ----------------------------------------------------------------------------- */

struct reader {
	struct profile *p;
	const PbProfile *pb;
	uint32_t *sid;             /* pprof string index -> model string id, UINT32_MAX = not interned yet */
	struct u64map fn_index;    /* function id -> index */
	struct u64map map_index;   /* mapping id -> index */
	struct u64map loc_index;   /* location id -> index */
	uint32_t *loc_first;       /* location index -> offset in loc_frames, UINT32_MAX = not built */
	uint32_t *loc_nr;
	uint32_t *loc_frames;      /* frames of each location, innermost (leafward) first */
	size_t loc_frames_nr, loc_frames_alloc;
	uint32_t *map_module;      /* mapping index -> module string id */
	struct err *e;
};

static int str_id(struct reader *r, int64_t idx, uint32_t *out, const char *what)
{
	if (idx < 0 || (uint64_t)idx >= r->pb->n_string_table)
		return err_set(r->e, "%s refers to string %" PRId64 " of %zu", what, idx, r->pb->n_string_table);
	if (r->sid[idx] == UINT32_MAX) {
		const char *s = r->pb->string_table[idx];
		r->sid[idx] = profile_intern(r->p, s, strlen(s));
	}
	*out = r->sid[idx];
	return 0;
}

static int build_index(struct u64map *m, const char *what, size_t n, uint64_t (*id_of)(const void *, size_t),
		       const void *arr, struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t id = id_of(arr, i);
		int inserted;
		if (id == 0 || id == U64MAP_EMPTY)
			return err_set(e, "%s %zu has the invalid id %" PRIu64, what, i + 1, id);
		uint64_t *v = u64map_insert(m, id, &inserted);
		if (!inserted)
			return err_set(e, "%s id %" PRIu64 " is used twice", what, id);
		*v = i;
	}
	return 0;
}

static uint64_t fn_id(const void *a, size_t i) { return ((PbFunction *const *)a)[i]->id; }
static uint64_t map_id(const void *a, size_t i) { return ((PbMapping *const *)a)[i]->id; }
static uint64_t loc_id(const void *a, size_t i) { return ((PbLocation *const *)a)[i]->id; }

static bool module_is_kernel(const char *m)
{
	return !strncmp(m, "[kernel", 7) || !strcmp(m, "[vmlinux]") || !strncmp(m, "vmlinux", 7);
}

/* Turns location `li` into model frames (innermost first) once. */
static int location_frames(struct reader *r, size_t li)
{
	const PbLocation *loc = r->pb->location[li];
	uint32_t module = 0;
	uint64_t addr = loc->address;
	enum frame_kind phys_kind = FRAME_NATIVE;
	size_t nlines = loc->n_line ? loc->n_line : 1;

	if (r->loc_first[li] != UINT32_MAX)
		return 0;
	if (loc->mapping_id) {
		uint64_t *mi = u64map_find(&r->map_index, loc->mapping_id);
		if (!mi)
			return err_set(r->e, "location %" PRIu64 " refers to the missing mapping %" PRIu64, loc->id,
				       loc->mapping_id);
		const PbMapping *m = r->pb->mapping[*mi];
		module = r->map_module[*mi];
		if (m->memory_limit > m->memory_start && addr >= m->memory_start && addr < m->memory_limit)
			addr = addr - m->memory_start + m->file_offset;
		if (module_is_kernel(profile_str(r->p, module)))
			phys_kind = FRAME_KERNEL;
	}
	if (r->loc_frames_nr + nlines > UINT32_MAX)
		return err_set(r->e, "too many location lines");
	ALLOC_GROW(r->loc_frames, r->loc_frames_nr + nlines, r->loc_frames_alloc);
	r->loc_first[li] = (uint32_t)r->loc_frames_nr;
	r->loc_nr[li] = (uint32_t)nlines;
	for (size_t i = 0; i < nlines; i++) {
		struct frame f = { 0 };
		f.module = module;
		f.addr = addr;
		f.kind = i + 1 < nlines ? FRAME_INLINED : phys_kind;
		if (loc->n_line) {
			const PbLine *ln = loc->line[i];
			if (ln->function_id) {
				uint64_t *fi = u64map_find(&r->fn_index, ln->function_id);
				if (!fi)
					return err_set(r->e, "location %" PRIu64 " refers to the missing function %" PRIu64,
						       loc->id, ln->function_id);
				const PbFunction *fn = r->pb->function[*fi];
				if (str_id(r, fn->name ? fn->name : fn->system_name, &f.function, "a function name") ||
				    str_id(r, fn->filename, &f.file, "a function file name"))
					return -1;
			}
			f.line = ln->line > 0 && ln->line <= UINT32_MAX ? (uint32_t)ln->line : 0;
			if (f.kind == FRAME_NATIVE)
				f.kind = srcfile_kind(profile_str(r->p, f.file), profile_strlen(r->p, f.file));
			/* An interpreted function is its name, file and first line (docs/runtimes.md): two functions of
			 * one name in one file stay two, and one function is one frame whatever line it ran. */
			if (ln->function_id && (f.kind == FRAME_PYTHON || f.kind == FRAME_JS)) {
				const PbFunction *fn = r->pb->function[*u64map_find(&r->fn_index, ln->function_id)];
				if (fn->start_line > 0 && fn->start_line <= UINT32_MAX)
					f.line = (uint32_t)fn->start_line;
			}
		}
		r->loc_frames[r->loc_frames_nr++] = profile_frame(r->p, &f);
	}
	return 0;
}

static int read_value_type(struct reader *r, const PbValueType *vt, struct value_type *out, const char *what)
{
	if (!vt)
		return 0;
	return str_id(r, vt->type, &out->type, what) || str_id(r, vt->unit, &out->unit, what) ? -1 : 0;
}

static int read_samples(struct reader *r)
{
	const PbProfile *pb = r->pb;
	struct profile *p = r->p;
	uint32_t *frames = NULL;
	size_t frames_alloc = 0;
	struct label *labels = NULL;
	size_t labels_alloc = 0;
	int64_t *vals = xcalloc(pb->n_sample_type ? pb->n_sample_type : 1, sizeof(*vals));
	int ret = -1;

	for (size_t s = 0; s < pb->n_sample; s++) {
		const PbSample *smp = pb->sample[s];
		size_t nframes = 0;

		if (smp->n_value != pb->n_sample_type) {
			err_set(r->e, "sample %zu has %zu values for %zu sample types", s + 1, smp->n_value,
				pb->n_sample_type);
			goto out;
		}
		/* location_id is leaf first; the model's stacks are root first. */
		for (size_t i = smp->n_location_id; i-- > 0;) {
			uint64_t *li = u64map_find(&r->loc_index, smp->location_id[i]);
			if (!li || smp->location_id[i] == U64MAP_EMPTY) {
				err_set(r->e, "sample %zu refers to the missing location %" PRIu64, s + 1,
					smp->location_id[i]);
				goto out;
			}
			if (location_frames(r, *li))
				goto out;
			uint32_t first = r->loc_first[*li], n = r->loc_nr[*li];
			ALLOC_GROW(frames, nframes + n, frames_alloc);
			for (uint32_t k = n; k-- > 0;)
				frames[nframes++] = r->loc_frames[first + k];
		}
		uint32_t node = 0;
		for (size_t i = 0; i < nframes; i++)
			node = profile_node(p, node, frames[i]);

		ALLOC_GROW(labels, smp->n_label, labels_alloc);
		size_t nl = 0;
		for (size_t i = 0; i < smp->n_label; i++) {
			const PbLabel *l = smp->label[i];
			struct label *out = &labels[nl];
			memset(out, 0, sizeof(*out));
			if (str_id(r, l->key, &out->key, "a label key") || str_id(r, l->str, &out->str, "a label value") ||
			    str_id(r, l->num_unit, &out->num_unit, "a label unit"))
				goto out;
			out->num = out->str ? 0 : l->num;
			nl++;
		}
		uint32_t ls = profile_labelset(p, labels, nl);
		for (size_t i = 0; i < pb->n_sample_type; i++)
			vals[i] = smp->value[i];
		if (pb->n_sample_type)
			profile_add_sample(p, node, ls, vals);
	}
	ret = 0;
out:
	free(frames);
	free(labels);
	free(vals);
	return ret;
}

static int read_proto(struct profile *p, const PbProfile *pb, struct err *e)
{
	struct reader r = { .p = p, .pb = pb, .e = e };
	int ret = -1;

	if (pb->n_string_table == 0 || pb->string_table[0][0] != '\0')
		return err_set(e, "the string table does not start with an empty string");
	if (pb->n_sample_type > PROFILE_MAX_COLUMNS)
		return err_set(e, "%zu sample types are more than the %d supported", pb->n_sample_type,
			       PROFILE_MAX_COLUMNS);
	r.sid = xmalloc(pb->n_string_table * sizeof(*r.sid));
	memset(r.sid, 0xff, pb->n_string_table * sizeof(*r.sid));
	r.sid[0] = 0;
	r.loc_first = xmalloc((pb->n_location + 1) * sizeof(*r.loc_first));
	memset(r.loc_first, 0xff, (pb->n_location + 1) * sizeof(*r.loc_first));
	r.loc_nr = xcalloc(pb->n_location + 1, sizeof(*r.loc_nr));
	r.map_module = xcalloc(pb->n_mapping + 1, sizeof(*r.map_module));

	if (build_index(&r.fn_index, "function", pb->n_function, fn_id, pb->function, e) ||
	    build_index(&r.map_index, "mapping", pb->n_mapping, map_id, pb->mapping, e) ||
	    build_index(&r.loc_index, "location", pb->n_location, loc_id, pb->location, e))
		goto out;

	for (size_t i = 0; i < pb->n_sample_type; i++) {
		struct value_type vt;
		if (read_value_type(&r, pb->sample_type[i], &vt, "a sample type"))
			goto out;
		int before = (int)p->ncolumns;
		int col = profile_add_column(p, profile_str(p, vt.type), profile_str(p, vt.unit));
		if (col != before) {
			err_set(e, "sample type %s/%s appears twice", profile_str(p, vt.type), profile_str(p, vt.unit));
			goto out;
		}
	}
	if (pb->default_sample_type) {
		uint32_t dt;
		if (str_id(&r, pb->default_sample_type, &dt, "the default sample type"))
			goto out;
		p->default_column = -1;
		for (size_t i = 0; i < p->ncolumns; i++)
			if (p->columns[i].type == dt)
				p->default_column = (int)i;
	} else if (p->ncolumns) {
		p->default_column = -1;
	}
	if (read_value_type(&r, pb->period_type, &p->period_type, "the period type"))
		goto out;
	p->period = pb->period;
	p->time_nanos = pb->time_nanos;
	p->duration_nanos = pb->duration_nanos;
	for (size_t i = 0; i < pb->n_comment; i++) {
		uint32_t c;
		if (str_id(&r, pb->comment[i], &c, "a comment"))
			goto out;
		pprof_meta_read_comment(p, profile_str(p, c));
	}
	for (size_t i = 0; i < pb->n_mapping; i++) {
		const PbMapping *m = pb->mapping[i];
		uint32_t bid;
		if (str_id(&r, m->filename, &r.map_module[i], "a mapping file name") ||
		    str_id(&r, m->build_id, &bid, "a mapping build id"))
			goto out;
		if (bid && r.map_module[i])
			profile_set_build_id(p, profile_str(p, r.map_module[i]), profile_str(p, bid));
		if (r.map_module[i] && m->memory_limit > m->memory_start)
			profile_add_mapping(p, m->memory_start, m->memory_limit, m->file_offset,
					    profile_str(p, r.map_module[i]));
	}
	ret = read_samples(&r);
out:
	free(r.sid);
	free(r.loc_first);
	free(r.loc_nr);
	free(r.loc_frames);
	free(r.map_module);
	u64map_release(&r.fn_index);
	u64map_release(&r.map_index);
	u64map_release(&r.loc_index);
	return ret;
}

static int pprof_read(struct profile *p, struct input *in, const struct format_read_opts *o, struct err *e)
{
	const unsigned char *data;
	size_t len;
	struct buf raw = BUF_INIT;
	PbProfile *pb = NULL;
	int ret = -1;

	if (input_read_all(in, &data, &len, e))
		return -1;
	if (gzip_is(data, len)) {
		if (gzip_inflate(data, len, MAX_INFLATED, false, &raw, e))
			goto out;
		data = (const unsigned char *)raw.buf;
		len = raw.len;
	}
	if (pprof_legacy_detect(data, len)) {
		ret = pprof_legacy_read(p, data, len, e);
		goto out;
	}
	if (len == 0) {
		err_set(e, "the file is empty");
		goto out;
	}
	pb = perftools__profiles__profile__unpack(NULL, len, data);
	if (!pb) {
		err_set(e, "not a valid profile.proto message");
		goto out;
	}
	ret = read_proto(p, pb, e);
out:
	if (pb)
		perftools__profiles__profile__free_unpacked(pb, NULL);
	buf_release(&raw);
	return ret;
}

/* ---- writing: pprof_write.c ------------------------------------------------------------------------------ */

static int pprof_write(const struct profile *p, FILE *out, const struct format_write_opts *o, struct err *e)
{
	return pprof_encode(p, true, out, e);
}

static int pprof_raw_write(const struct profile *p, FILE *out, const struct format_write_opts *o, struct err *e)
{
	return pprof_encode(p, false, out, e);
}

static const char *const pprof_extensions[] = { ".pb.gz", ".pprof", ".prof", NULL };
static const char *const pprof_raw_extensions[] = { ".pb", NULL };

const struct format format_pprof = {
	.name = "pprof",
	.description = "pprof profile.proto, gzip-compressed (reads plain and gperftools' legacy CPU profiles too)",
	.extensions = pprof_extensions,
	.probe = pprof_probe,
	.read = pprof_read,
	.write = pprof_write,
};

const struct format format_pprof_raw = {
	.name = "pprof-raw",
	.description = "pprof profile.proto, uncompressed",
	.extensions = pprof_raw_extensions,
	.probe = pprof_raw_probe,
	.read = pprof_read,
	.write = pprof_raw_write,
};
