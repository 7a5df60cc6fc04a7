/*
 * jfr_chunk: one Java Flight Recorder chunk's header, metadata and constant pools, and typed reads of field values
 * (see jfr.h). The layout of values is never assumed: every event and pool entry is walked field by field as the
 * chunk's own metadata describes it, so the reader follows whatever JDK wrote the file.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/err.h"
#include "../core/xalloc.h"
#include "jfr.h"

#define MAX_DEPTH 32      /* nesting of values and metadata elements */
#define MAX_CHECKPOINTS (1u << 20)

static bool spend(struct jfr_chunk *c, struct jfr_cur *cur)
{
	if (!*c->steps) {
		cur->bad = true;
		return false;
	}
	(*c->steps)--;
	return true;
}

static uint64_t raw(struct jfr_cur *c, size_t n)
{
	uint64_t v = 0;

	if (c->bad || c->p > c->end || (size_t)(c->end - c->p) < n) {
		c->bad = true;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v = v << 8 | *c->p++;
	return v;
}

static uint64_t varint(struct jfr_cur *c)
{
	uint64_t v = 0;

	for (int i = 0; i < 9; i++) {
		if (c->bad || c->p >= c->end) {
			c->bad = true;
			return 0;
		}
		uint8_t b = *c->p++;
		if (i == 8)
			return v | (uint64_t)b << 56;
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			return v;
	}
	return v;
}

uint64_t jfr_long(const struct jfr_chunk *c, struct jfr_cur *cur)
{
	return c->compressed ? varint(cur) : raw(cur, 8);
}

uint32_t jfr_int(const struct jfr_chunk *c, struct jfr_cur *cur)
{
	return c->compressed ? (uint32_t)varint(cur) : (uint32_t)raw(cur, 4);
}

/* An element count: never more than the bytes left, so a count cannot make the reader loop past the data. */
size_t jfr_count(const struct jfr_chunk *c, struct jfr_cur *cur)
{
	uint32_t n = jfr_int(c, cur);

	if (cur->bad || cur->p > cur->end || n > (size_t)(cur->end - cur->p)) {
		cur->bad = true;
		return 0;
	}
	return n;
}

static void add_utf8(struct buf *b, uint32_t cp)
{
	if (cp < 0x80) {
		buf_addch(b, (int)cp);
	} else if (cp < 0x800) {
		buf_addch(b, (int)(0xc0 | cp >> 6));
		buf_addch(b, (int)(0x80 | (cp & 0x3f)));
	} else {
		buf_addch(b, (int)(0xe0 | cp >> 12));
		buf_addch(b, (int)(0x80 | (cp >> 6 & 0x3f)));
		buf_addch(b, (int)(0x80 | (cp & 0x3f)));
	}
}

/* Reads a string into `b` (or skips it when `b` is NULL); false for a null string or a damaged one. */
static bool read_string(struct jfr_chunk *c, struct jfr_cur *cur, struct buf *b, int depth)
{
	uint8_t enc = (uint8_t)raw(cur, 1);
	size_t n;

	switch (cur->bad ? 255 : enc) {
	case 0:
		return false;
	case 1:
		return true;
	case 2: { /* a key into the pool of java.lang.String */
		uint64_t key = jfr_long(c, cur), *off;
		int sc = c->string_cls;
		if (!b)
			return !cur->bad;
		if (cur->bad || depth > 0 || sc < 0 || !(off = u64map_find(&c->classes[sc].pool, key)))
			return false;
		struct jfr_cur at = { c->file + *off, c->end, false };
		return read_string(c, &at, b, depth + 1);
	}
	case 3:
	case 5:
		n = jfr_count(c, cur);
		if (cur->bad)
			return false;
		if (b && enc == 3) {
			buf_add(b, cur->p, n);
		} else if (b) {
			for (size_t i = 0; i < n; i++)
				add_utf8(b, cur->p[i]);
		}
		cur->p += n;
		return true;
	case 4:
		n = jfr_count(c, cur);
		for (size_t i = 0; i < n && !cur->bad; i++) {
			uint32_t ch = c->compressed ? (uint32_t)varint(cur) : (uint32_t)raw(cur, 2);
			if (b)
				add_utf8(b, ch & 0xffff);
		}
		return !cur->bad;
	default:
		cur->bad = true;
		return false;
	}
}

void jfr_skip(struct jfr_chunk *c, struct jfr_cur *cur, uint32_t cls, bool cp, bool array, int depth)
{
	const struct jfr_class *k = &c->classes[cls];

	if (cur->bad || !spend(c, cur))
		return;
	if (depth > MAX_DEPTH) {
		cur->bad = true;
		return;
	}
	if (array) {
		size_t n = jfr_count(c, cur);
		for (size_t i = 0; i < n && !cur->bad; i++)
			jfr_skip(c, cur, cls, cp, false, depth + 1);
		return;
	}
	if (cp) {
		jfr_long(c, cur);
		return;
	}
	switch (k->prim) {
	case JP_BOOLEAN:
	case JP_BYTE:
		raw(cur, 1);
		break;
	case JP_CHAR:
	case JP_SHORT:
		c->compressed ? varint(cur) : raw(cur, 2);
		break;
	case JP_INT:
		jfr_int(c, cur);
		break;
	case JP_LONG:
		jfr_long(c, cur);
		break;
	case JP_FLOAT:
		raw(cur, 4);
		break;
	case JP_DOUBLE:
		raw(cur, 8);
		break;
	case JP_STRING:
		read_string(c, cur, NULL, 0);
		break;
	case JP_STRUCT:
		for (size_t i = 0; i < k->fields_nr && !cur->bad; i++)
			jfr_skip(c, cur, k->fields[i].cls, k->fields[i].cp, k->fields[i].array, depth + 1);
		break;
	}
}

void jfr_seek_field(struct jfr_chunk *c, uint32_t cls, struct jfr_cur *at, int fi)
{
	const struct jfr_class *k = &c->classes[cls];

	for (int i = 0; i < fi && (size_t)i < k->fields_nr && !at->bad; i++)
		jfr_skip(c, at, k->fields[i].cls, k->fields[i].cp, k->fields[i].array, 1);
}

bool jfr_field_long(struct jfr_chunk *c, uint32_t cls, struct jfr_cur at, int fi, int64_t *out)
{
	const struct jfr_field *f;

	if (fi < 0 || (size_t)fi >= c->classes[cls].fields_nr)
		return false;
	f = &c->classes[cls].fields[fi];
	if (f->array || f->cp)
		return false;
	jfr_seek_field(c, cls, &at, fi);
	switch (c->classes[f->cls].prim) {
	case JP_BOOLEAN:
		*out = raw(&at, 1) != 0;
		break;
	case JP_BYTE:
		*out = (int8_t)raw(&at, 1);
		break;
	case JP_CHAR:
		*out = (uint16_t)(c->compressed ? varint(&at) : raw(&at, 2));
		break;
	case JP_SHORT:
		*out = (int16_t)(c->compressed ? varint(&at) : raw(&at, 2));
		break;
	case JP_INT:
		*out = (int32_t)jfr_int(c, &at);
		break;
	case JP_LONG:
		*out = (int64_t)jfr_long(c, &at);
		break;
	default:
		return false;
	}
	return !at.bad;
}

bool jfr_field_ref(struct jfr_chunk *c, uint32_t cls, struct jfr_cur at, int fi, struct jfr_cur *out,
		   uint32_t *cls_out, uint64_t *key)
{
	const struct jfr_field *f;

	if (fi < 0 || (size_t)fi >= c->classes[cls].fields_nr)
		return false;
	f = &c->classes[cls].fields[fi];
	if (f->array)
		return false;
	jfr_seek_field(c, cls, &at, fi);
	*cls_out = f->cls;
	if (!f->cp) {
		*out = at;
		*key = UINT64_MAX;
		return !at.bad;
	}
	uint64_t k = jfr_long(c, &at), *off;
	if (at.bad || !(off = u64map_find(&c->classes[f->cls].pool, k)))
		return false;
	*key = k;
	out->p = c->file + *off;
	out->end = c->end;
	out->bad = false;
	return true;
}

bool jfr_field_text(struct jfr_chunk *c, uint32_t cls, struct jfr_cur at, int fi, struct buf *b)
{
	struct jfr_cur v;
	uint32_t vc;
	uint64_t key;

	/* a struct holding the text (Symbol, FrameType, ...) is followed a few levels at most */
	for (int depth = 0; depth < 4; depth++) {
		if (!jfr_field_ref(c, cls, at, fi, &v, &vc, &key))
			return false;
		if (c->classes[vc].prim == JP_STRING)
			return read_string(c, &v, b, 0) && !v.bad;
		if (c->classes[vc].prim != JP_STRUCT)
			return false;
		cls = vc;
		at = v;
		fi = -1;
		for (size_t i = 0; i < c->classes[cls].fields_nr && fi < 0; i++)
			if (c->classes[c->classes[cls].fields[i].cls].prim == JP_STRING && !c->classes[cls].fields[i].array)
				fi = (int)i;
		if (fi < 0)
			return false;
	}
	return false;
}

int jfr_class_by_name(const struct jfr_chunk *c, const char *name)
{
	for (size_t i = 0; i < c->classes_nr; i++)
		if (!strcmp(c->classes[i].name, name))
			return (int)i;
	return -1;
}

int jfr_field_index(const struct jfr_chunk *c, int cls, const char *name)
{
	if (cls < 0)
		return -1;
	for (size_t i = 0; i < c->classes[cls].fields_nr; i++)
		if (!strcmp(c->classes[cls].fields[i].name, name))
			return (int)i;
	return -1;
}

/* ---- metadata ---- */

struct meta {
	const char **strs;
	size_t nstrs;
	struct err *e;
};

static const char *meta_str(const struct jfr_chunk *c, struct jfr_cur *cur, const struct meta *m)
{
	uint32_t i = jfr_int(c, cur);

	if (cur->bad || i >= m->nstrs) {
		cur->bad = true;
		return "";
	}
	return m->strs[i];
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!*s || *s == '-')
		return false;
	*out = strtoull(s, &end, 10);
	return !*end;
}

/* One element of the metadata tree and its children; classes and their fields are kept, the rest skipped. */
static int element(struct jfr_chunk *c, struct jfr_cur *cur, const struct meta *m, int depth, int parent)
{
	const char *name, *a_name = NULL, *a_id = NULL, *a_class = NULL, *a_cp = NULL, *a_dim = NULL;
	int self = -1;

	if (depth > MAX_DEPTH || !spend(c, cur))
		return err_set(m->e, "the metadata nests too deep or is too large");
	name = meta_str(c, cur, m);
	size_t na = jfr_count(c, cur);
	for (size_t i = 0; i < na && !cur->bad; i++) {
		const char *k = meta_str(c, cur, m), *v = meta_str(c, cur, m);
		if (!strcmp(k, "name"))
			a_name = v;
		else if (!strcmp(k, "id"))
			a_id = v;
		else if (!strcmp(k, "class"))
			a_class = v;
		else if (!strcmp(k, "constantPool"))
			a_cp = v;
		else if (!strcmp(k, "dimension"))
			a_dim = v;
	}
	if (cur->bad)
		return err_set(m->e, "the metadata is damaged");
	if (!strcmp(name, "class")) {
		uint64_t id;
		int inserted;
		if (parent >= 0 || !a_name || !a_id || !parse_u64(a_id, &id) || id == U64MAP_EMPTY)
			return err_set(m->e, "the metadata has a class without a name or id");
		uint64_t *slot = u64map_insert(&c->class_index, id, &inserted);
		if (!inserted)
			return err_set(m->e, "the metadata declares type %" PRIu64 " twice", id);
		*slot = c->classes_nr;
		ALLOC_GROW(c->classes, c->classes_nr + 1, c->classes_alloc);
		memset(&c->classes[c->classes_nr], 0, sizeof(c->classes[0]));
		c->classes[c->classes_nr].id = id;
		c->classes[c->classes_nr].name = a_name;
		c->classes[c->classes_nr].pool = (struct u64map)U64MAP_INIT;
		self = (int)c->classes_nr++;
	} else if (!strcmp(name, "field") && parent >= 0) {
		struct jfr_class *k = &c->classes[parent];
		struct jfr_field *f;
		if (!a_name || !a_class)
			return err_set(m->e, "the metadata has a field without a name or type in '%s'", k->name);
		ALLOC_GROW(k->fields, k->fields_nr + 1, k->fields_alloc);
		f = &k->fields[k->fields_nr++];
		memset(f, 0, sizeof(*f));
		f->name = a_name;
		if (!parse_u64(a_class, &f->type_id))
			return err_set(m->e, "the metadata has a field of type '%s' in '%s'", a_class, k->name);
		f->cp = a_cp && !strcmp(a_cp, "true");
		if (a_dim && strcmp(a_dim, "1"))
			return err_set(m->e, "the metadata has a %s-dimensional array in '%s'", a_dim, k->name);
		f->array = a_dim != NULL;
	}
	size_t nc = jfr_count(c, cur);
	for (size_t i = 0; i < nc; i++)
		if (element(c, cur, m, depth + 1, self))
			return -1;
	if (cur->bad)
		return err_set(m->e, "the metadata is damaged");
	return 0;
}

static enum jfr_prim prim_of(const char *name)
{
	static const struct { const char *name; enum jfr_prim prim; } prims[] = {
		{ "boolean", JP_BOOLEAN }, { "byte", JP_BYTE }, { "char", JP_CHAR }, { "short", JP_SHORT },
		{ "int", JP_INT },         { "long", JP_LONG }, { "float", JP_FLOAT }, { "double", JP_DOUBLE },
		{ "java.lang.String", JP_STRING },
	};
	for (size_t i = 0; i < ARRAY_SIZE(prims); i++)
		if (!strcmp(name, prims[i].name))
			return prims[i].prim;
	return JP_STRUCT;
}

static int read_metadata(struct jfr_chunk *c, uint64_t off, struct err *e)
{
	struct jfr_cur cur = { c->start + off, c->end, false };
	struct meta m = { NULL, 0, e };
	size_t *offs = NULL;
	int ret = -1;

	uint32_t size = jfr_int(c, &cur);
	if (jfr_long(c, &cur) != 0 || cur.bad || size < 4 || size > (size_t)(c->end - c->start - off))
		return err_set(e, "no metadata event at offset %" PRIu64 " of the chunk", off);
	cur.end = c->start + off + size;
	cur.bad = cur.p > cur.end;
	jfr_long(c, &cur); /* start time */
	jfr_long(c, &cur); /* duration */
	jfr_long(c, &cur); /* metadata id */
	m.nstrs = jfr_count(c, &cur);
	offs = xcalloc(m.nstrs + 1, sizeof(*offs));
	for (size_t i = 0; i < m.nstrs && !cur.bad; i++) {
		offs[i] = c->strings.len;
		read_string(c, &cur, &c->strings, 0);
		buf_addch(&c->strings, 0);
	}
	if (cur.bad) {
		err_set(e, "the metadata's strings are damaged");
		goto out;
	}
	m.strs = xcalloc(m.nstrs + 1, sizeof(*m.strs));
	for (size_t i = 0; i < m.nstrs; i++)
		m.strs[i] = c->strings.buf + offs[i];
	if (element(c, &cur, &m, 0, -1))
		goto out;
	for (size_t i = 0; i < c->classes_nr; i++) {
		struct jfr_class *k = &c->classes[i];
		k->prim = prim_of(k->name);
		if (k->prim == JP_STRING)
			c->string_cls = (int)i;
		for (size_t j = 0; j < k->fields_nr; j++) {
			uint64_t *ci = u64map_find(&c->class_index, k->fields[j].type_id);
			if (!ci) {
				err_set(e, "the metadata's field '%s.%s' has an undeclared type", k->name,
					k->fields[j].name);
				goto out;
			}
			k->fields[j].cls = (uint32_t)*ci;
		}
	}
	ret = 0;
out:
	free(offs);
	free(m.strs);
	return ret;
}

/* The checkpoint events, from the last one (named by the header) back to the first through their deltas. */
static int read_pools(struct jfr_chunk *c, uint64_t off, struct err *e)
{
	const uint8_t *pos = c->start + off;

	for (unsigned n = 0; n < MAX_CHECKPOINTS; n++) {
		struct jfr_cur cur = { pos, c->end, false };
		uint32_t size = jfr_int(c, &cur);
		uint64_t type = jfr_long(c, &cur);
		if (cur.bad || type != 1 || size < 4 || size > (size_t)(c->end - pos))
			return err_set(e, "no checkpoint event at offset %td of the chunk", pos - c->start);
		cur.end = pos + size;
		cur.bad = cur.p > cur.end;
		jfr_long(c, &cur); /* start time */
		jfr_long(c, &cur); /* duration */
		int64_t delta = (int64_t)jfr_long(c, &cur);
		raw(&cur, 1); /* checkpoint kind (flush, ...) */
		size_t npools = jfr_count(c, &cur);
		for (size_t i = 0; i < npools && !cur.bad; i++) {
			uint64_t tid = jfr_long(c, &cur), *ci = u64map_find(&c->class_index, tid);
			if (cur.bad)
				break;
			if (!ci)
				return err_set(e, "a constant pool of the undeclared type %" PRIu64, tid);
			struct jfr_class *k = &c->classes[*ci];
			size_t nv = jfr_count(c, &cur);
			for (size_t j = 0; j < nv && !cur.bad; j++) {
				uint64_t key = jfr_long(c, &cur);
				int inserted;
				if (key != U64MAP_EMPTY) {
					/* the latest definition wins: checkpoints are read newest first */
					uint64_t *slot = u64map_insert(&k->pool, key, &inserted);
					if (inserted)
						*slot = (uint64_t)(cur.p - c->file);
				}
				jfr_skip(c, &cur, (uint32_t)*ci, false, false, 0);
			}
		}
		if (cur.bad)
			return err_set(e, "the checkpoint at offset %td of the chunk is damaged", pos - c->start);
		if (!delta)
			return 0;
		if (delta < (int64_t)(c->start - pos) + JFR_HEADER_SIZE || delta >= c->end - pos)
			return err_set(e, "a checkpoint at offset %td links %+" PRId64 " bytes away, outside the chunk",
				       pos - c->start, delta);
		pos += delta;
	}
	return err_set(e, "the checkpoints form a loop");
}

static uint64_t be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int jfr_chunk_open(struct jfr_chunk *c, const uint8_t *file, size_t len, size_t start, uint64_t *steps,
		   struct err *e)
{
	const uint8_t *h = file + start;

	memset(c, 0, sizeof(*c));
	c->class_index = (struct u64map)U64MAP_INIT;
	buf_init(&c->strings, 0);
	buf_init(&c->scratch, 0);
	c->string_cls = -1;
	c->file = file;
	c->file_end = file + len;
	c->steps = steps;
	if (len - start < JFR_HEADER_SIZE)
		return err_set(e, "the chunk at offset %zu is cut short in its header", start);
	if (memcmp(h, "FLR", 4))
		return err_set(e, "no chunk (FLR magic) at offset %zu", start);
	unsigned major = (unsigned)be(h + 4, 2), minor = (unsigned)be(h + 6, 2);
	if (major != 2)
		return err_set(e, "unsupported JFR version %u.%u (2.x is read)", major, minor);
	uint64_t size = be(h + 8, 8), cp = be(h + 16, 8), meta = be(h + 24, 8);
	if (size < JFR_HEADER_SIZE || size > len - start)
		return err_set(e, "the chunk at offset %zu is cut: it has %zu of its %" PRIu64 " bytes", start,
			       len - start, size);
	if (!cp || !meta)
		return err_set(e, "the chunk at offset %zu is incomplete (the recording was still being written)",
			       start);
	if (cp < JFR_HEADER_SIZE || cp >= size || meta < JFR_HEADER_SIZE || meta >= size)
		return err_set(e, "the chunk at offset %zu points outside itself", start);
	c->start = h;
	c->end = h + size;
	c->start_nanos = (int64_t)be(h + 32, 8);
	c->duration_nanos = (int64_t)be(h + 40, 8);
	c->start_ticks = (int64_t)be(h + 48, 8);
	c->ticks_per_second = (int64_t)be(h + 56, 8);
	c->compressed = be(h + 64, 4) & 1;
	if (read_metadata(c, meta, e) || read_pools(c, cp, e))
		return -1;
	return 0;
}

void jfr_chunk_release(struct jfr_chunk *c)
{
	for (size_t i = 0; i < c->classes_nr; i++) {
		free(c->classes[i].fields);
		u64map_release(&c->classes[i].pool);
	}
	free(c->classes);
	u64map_release(&c->class_index);
	buf_release(&c->strings);
	buf_release(&c->scratch);
	memset(c, 0, sizeof(*c));
}
