/* Frame names for output: one rule for every writer (see frame_name.h). */
#include "frame_name.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/hash.h"
#include "../core/xalloc.h"
#include "profile.h"

void profile_frame_name(struct buf *b, const struct profile *p, uint32_t id)
{
	const struct frame *f = &p->frames[id];

	if (f->function && profile_strlen(p, f->function)) {
		buf_add(b, profile_str(p, f->function), profile_strlen(p, f->function));
	} else if (f->module && profile_strlen(p, f->module)) {
		const char *m = profile_str(p, f->module), *slash = strrchr(m, '/');

		m = slash && slash[1] ? slash + 1 : m;
		if (f->addr)
			buf_addf(b, "[%s+0x%" PRIx64 "]", m, f->addr);
		else
			buf_addf(b, "[%s]", m);
	} else if (f->addr) {
		buf_addf(b, "0x%" PRIx64, f->addr);
	} else {
		buf_adds(b, "[unknown]");
	}
}

bool frame_is_placed(const struct frame *f)
{
	return (f->kind == FRAME_PYTHON || f->kind == FRAME_JS) && f->function && f->file;
}

static void placed_name(struct buf *b, const struct profile *p, const struct frame *f, bool full_path)
{
	const char *file = profile_str(p, f->file), *slash = strrchr(file, '/');

	buf_add(b, profile_str(p, f->function), profile_strlen(p, f->function));
	buf_addf(b, " (%s", full_path || !slash || !slash[1] ? file : slash + 1);
	if (f->line)
		buf_addf(b, ":%u", f->line);
	buf_addch(b, ')');
}

bool *profile_placed_full_paths(const struct profile *p)
{
	struct strtab names = { 0 };
	struct buf b = BUF_INIT;
	uint32_t *name_of = xmalloc((p->frames_nr ? p->frames_nr : 1) * sizeof(*name_of));
	uint32_t *file_of = NULL; /* short name id -> the file it names, UINT32_MAX for several */
	size_t files_alloc = 0;
	bool *full = NULL, any = false;

	for (size_t i = 0; i < p->frames_nr; i++) {
		const struct frame *f = &p->frames[i];
		uint32_t id;

		name_of[i] = UINT32_MAX;
		if (!frame_is_placed(f))
			continue;
		buf_reset(&b);
		placed_name(&b, p, f, false);
		id = strtab_intern(&names, b.buf, b.len);
		if (id >= files_alloc) {
			size_t old = files_alloc;

			ALLOC_GROW(file_of, id + 1, files_alloc);
			memset(file_of + old, 0, (files_alloc - old) * sizeof(*file_of));
		}
		if (!file_of[id])
			file_of[id] = f->file;
		else if (file_of[id] != f->file)
			file_of[id] = UINT32_MAX;
		name_of[i] = id;
		any = true;
	}
	if (any) {
		full = xcalloc(p->frames_nr, sizeof(*full));
		for (size_t i = 0; i < p->frames_nr; i++)
			full[i] = name_of[i] != UINT32_MAX && file_of[name_of[i]] == UINT32_MAX;
	}
	free(name_of);
	free(file_of);
	strtab_release(&names);
	buf_release(&b);
	return full;
}

void profile_frame_label(struct buf *b, const struct profile *p, uint32_t id, const bool *full)
{
	const struct frame *f = &p->frames[id];

	if (frame_is_placed(f))
		placed_name(b, p, f, full && full[id]);
	else
		profile_frame_name(b, p, id);
}
