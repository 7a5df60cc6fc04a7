/* Typed metadata of a profile (see meta.h). */
#include "meta.h"

#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "profile.h"

const char *const heap_meta_names[HEAP_META_NR] = {
	[HEAP_PEAK_BYTES] = "peak_bytes",
	[HEAP_PEAK_BLOCKS] = "peak_blocks",
	[HEAP_PEAK_TIME_NS] = "peak_time_ns",
	[HEAP_TOTAL_ALLOCATED_BYTES] = "total_allocated_bytes",
	[HEAP_ALLOCATION_CALLS] = "allocation_calls",
	[HEAP_TEMPORARY_ALLOCATIONS] = "temporary_allocations",
	[HEAP_LIVE_AT_EXIT_BYTES] = "live_at_exit_bytes",
	[HEAP_LIVE_AT_EXIT_BLOCKS] = "live_at_exit_blocks",
	[HEAP_SAMPLE_BYTES] = "sample_bytes",
	[HEAP_PROCESSES] = "processes",
};

const char *const io_block_names[IO_BLOCK_NR] = { "read", "write", "other" };

static void io_release(struct io_meta *io)
{
	free(io->sys);
	free(io->slow);
	free(io->files);
	memset(io, 0, sizeof(*io));
}

void profile_meta_release(struct profile_meta *m)
{
	io_release(&m->io);
	free(m->build_ids);
	free(m->mappings);
	memset(m, 0, sizeof(*m));
}

static void set_build_id(struct profile_meta *m, uint32_t module, uint32_t id)
{
	for (size_t i = 0; i < m->build_ids_nr; i++)
		if (m->build_ids[i].module == module) {
			m->build_ids[i].id = id;
			return;
		}
	ALLOC_GROW(m->build_ids, m->build_ids_nr + 1, m->build_ids_alloc);
	m->build_ids[m->build_ids_nr++] = (struct meta_build_id){ module, id };
}

void profile_set_build_id(struct profile *p, const char *module, const char *id)
{
	set_build_id(&p->meta, profile_intern_str(p, module), profile_intern_str(p, id));
}

uint32_t profile_build_id(const struct profile *p, uint32_t module)
{
	for (size_t i = 0; i < p->meta.build_ids_nr; i++)
		if (p->meta.build_ids[i].module == module)
			return p->meta.build_ids[i].id;
	return 0;
}

static void add_mapping(struct profile_meta *m, const struct meta_mapping *r)
{
	for (size_t i = 0; i < m->mappings_nr; i++)
		if (!memcmp(&m->mappings[i], r, sizeof(*r)))
			return;
	ALLOC_GROW(m->mappings, m->mappings_nr + 1, m->mappings_alloc);
	m->mappings[m->mappings_nr++] = *r;
}

void profile_add_mapping(struct profile *p, uint64_t start, uint64_t limit, uint64_t offset, const char *module)
{
	struct meta_mapping r;

	memset(&r, 0, sizeof(r)); /* compared as bytes: no stray padding */
	r.start = start;
	r.limit = limit;
	r.offset = offset;
	r.module = profile_intern_str(p, module);
	add_mapping(&p->meta, &r);
}

void profile_heap_set(struct profile *p, enum heap_meta_key key, int64_t v)
{
	p->meta.heap.v[key] = v;
	p->meta.heap.known |= 1u << key;
}

bool profile_heap_get(const struct profile *p, enum heap_meta_key key, int64_t *v)
{
	if (!(p->meta.heap.known & 1u << key))
		return false;
	*v = p->meta.heap.v[key];
	return true;
}

void profile_io_clear(struct profile *p)
{
	io_release(&p->meta.io);
}

struct io_meta_syscall *profile_io_add_syscall(struct profile *p)
{
	struct io_meta *io = &p->meta.io;

	io->known = true;
	ALLOC_GROW(io->sys, io->sys_nr + 1, io->sys_alloc);
	memset(&io->sys[io->sys_nr], 0, sizeof(io->sys[0]));
	return &io->sys[io->sys_nr++];
}

struct io_meta_slowcall *profile_io_add_slowcall(struct profile *p)
{
	struct io_meta *io = &p->meta.io;

	io->known = true;
	ALLOC_GROW(io->slow, io->slow_nr + 1, io->slow_alloc);
	memset(&io->slow[io->slow_nr], 0, sizeof(io->slow[0]));
	return &io->slow[io->slow_nr++];
}

struct io_meta_file *profile_io_add_file(struct profile *p)
{
	struct io_meta *io = &p->meta.io;

	io->known = true;
	ALLOC_GROW(io->files, io->files_nr + 1, io->files_alloc);
	memset(&io->files[io->files_nr], 0, sizeof(io->files[0]));
	return &io->files[io->files_nr++];
}

static uint32_t map_id(struct profile *dst, const struct profile *src, uint32_t id)
{
	return id ? profile_intern(dst, profile_str(src, id), profile_strlen(src, id)) : 0;
}

/* dst's I/O summary becomes src's, its strings interned in dst. */
static void merge_io(struct profile *dst, const struct profile *src)
{
	const struct io_meta *s = &src->meta.io;
	struct io_meta *d = &dst->meta.io;

	profile_io_clear(dst);
	for (size_t i = 0; i < s->sys_nr; i++) {
		struct io_meta_syscall *r = profile_io_add_syscall(dst);

		*r = s->sys[i];
		r->name = map_id(dst, src, r->name);
	}
	for (size_t i = 0; i < s->slow_nr; i++) {
		struct io_meta_slowcall *r = profile_io_add_slowcall(dst);

		*r = s->slow[i];
		r->name = map_id(dst, src, r->name);
		r->where = map_id(dst, src, r->where);
	}
	for (size_t i = 0; i < s->files_nr; i++) {
		struct io_meta_file *r = profile_io_add_file(dst);

		*r = s->files[i];
		r->path = map_id(dst, src, r->path);
	}
	d->known = true;
	d->counts_only = s->counts_only;
	d->files_traced = s->files_traced;
	d->block = s->block;
	d->duration_ns = s->duration_ns;
	d->calls = s->calls;
	d->errors = s->errors;
	d->total_ns = s->total_ns;
	d->dropped = s->dropped;
	memcpy(d->blk, s->blk, sizeof(d->blk));
}

void profile_meta_merge(struct profile *dst, const struct profile *src, bool dst_empty)
{
	struct profile_meta *d = &dst->meta;
	const struct profile_meta *s = &src->meta;
	uint32_t event = map_id(dst, src, s->event);

	for (size_t i = 0; i < s->build_ids_nr; i++)
		set_build_id(d, map_id(dst, src, s->build_ids[i].module), map_id(dst, src, s->build_ids[i].id));
	for (size_t i = 0; i < s->mappings_nr; i++) {
		struct meta_mapping r = s->mappings[i];

		r.module = map_id(dst, src, r.module);
		add_mapping(d, &r);
	}
	if (dst_empty) {
		d->event = event;
		d->samples = s->samples;
	} else {
		d->event = d->event == event ? event : 0;
		d->samples = d->samples && s->samples ? d->samples + s->samples : 0;
	}
	for (unsigned k = 0; k < HEAP_META_NR; k++)
		if (s->heap.known & 1u << k) {
			d->heap.v[k] = s->heap.v[k];
			d->heap.known |= 1u << k;
		}
	if (s->heap.has_hist) {
		memcpy(d->heap.hist, s->heap.hist, sizeof(d->heap.hist));
		d->heap.has_hist = true;
	}
	if (s->io.known && dst != src)
		merge_io(dst, src);
}
