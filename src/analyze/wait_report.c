/* The wait-sites table of off-CPU and wall-clock profiles (see wait_report.h). */
#include "wait_report.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/hash.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "hotspots.h"
#include "../profile/profile.h"
#include "waitsite.h"

#define MAX_DEPTH 4096

struct site {
	const char *name; /* in the report's strtab */
	int64_t value, count;
};

static int cmp_site(const void *a, const void *b)
{
	const struct site *x = a, *y = b;
	if (x->value != y->value)
		return x->value > y->value ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* A frame's name for the wait sites: Python frames with their file and line, as the runtime report does. */
static void site_name(struct buf *b, const struct profile *p, uint32_t id)
{
	const struct frame *f = &p->frames[id];
	frame_display_name(b, p, id);
	if (f->kind == FRAME_PYTHON && f->file) {
		buf_addf(b, " (%s", profile_str(p, f->file));
		if (f->line)
			buf_addf(b, ":%u", (unsigned)f->line);
		buf_addch(b, ')');
	}
}

/* The wait site of one stack (root to leaf), as the table names it (see wait_report.h). */
static void stack_site(struct buf *b, const struct profile *p, const uint32_t *ids, size_t depth, uint32_t labelset)
{
	struct buf leaf = BUF_INIT;
	int parts = 0;
	bool python = false;

	for (size_t i = 0; i < depth && !python; i++)
		python = p->frames[ids[i]].kind == FRAME_PYTHON;
	for (size_t i = depth; i-- > 0 && parts < 2;) {
		const struct frame *f = &p->frames[ids[i]];
		if (f->kind == FRAME_KERNEL || f->kind == FRAME_ROOT || f->kind == FRAME_UNKNOWN)
			continue;
		if (!leaf.len)
			frame_display_name(&leaf, p, ids[i]);
		if ((python && f->kind != FRAME_PYTHON) || (!parts && wait_runtime_module(p, f)))
			continue;
		if (parts)
			buf_adds(b, " <- ");
		site_name(b, p, ids[i]);
		parts++;
	}
	if (!parts && leaf.len) {
		buf_adds(b, leaf.buf);
	} else if (!parts) {
		/* No user frames: a kernel thread (system-wide traces), named by its command. */
		uint32_t comm = profile_label_str(p, labelset, "comm");
		buf_adds(b, "[kernel]");
		if (comm)
			buf_addf(b, " %s", profile_str(p, comm));
	} else if (leaf.len) {
		buf_addf(b, " [%s]", leaf.buf);
	}
	buf_release(&leaf);
}

void wait_report_format(struct buf *out, const struct profile *p, const struct wait_report_opts *o)
{
	struct strtab names = STRTAB_INIT;
	struct site *v = NULL;
	size_t nr = 0, alloc = 0;
	uint32_t *ids = xmalloc(MAX_DEPTH * sizeof(*ids));
	struct buf b = BUF_INIT;

	for (size_t r = 0; r < p->rows_nr; r++) {
		size_t depth = profile_stack(p, p->rows[r].node, ids, MAX_DEPTH);
		const int64_t *vals = profile_row_values(p, r);
		uint32_t id;

		buf_reset(&b);
		stack_site(&b, p, ids, depth, p->rows[r].labelset);
		id = strtab_intern(&names, b.buf, b.len); /* dense ids: the site's index */
		if (id == nr) {
			ALLOC_GROW(v, nr + 1, alloc);
			v[nr++] = (struct site){ strtab_str(&names, id), 0, 0 };
		}
		v[id].value += vals[o->column];
		v[id].count += o->count_column >= 0 ? vals[o->count_column] : 0;
	}
	if (nr)
		qsort(v, nr, sizeof(*v), cmp_site);
	int64_t total = profile_total(p, o->column);
	if (nr && o->top > 0) {
		buf_addf(out, "%-12s %6s %10s  %s\n", o->what, "%", o->count_name,
			 "where: function <- caller [innermost user frame]");
		for (size_t i = 0; i < nr && i < o->top; i++) {
			char a[32], c[32];
			buf_addf(out, "%-12s %5.1f%% %10s  %s\n", fmt_ns(a, (double)v[i].value),
				 total ? 100.0 * (double)v[i].value / (double)total : 0.0,
				 fmt_count(c, (uint64_t)v[i].count), v[i].name);
		}
	}
	buf_release(&b);
	strtab_release(&names);
	free(v);
	free(ids);
}
