/* Wait sites of off-CPU and wall-clock stacks (see waitsite.h). */
#include "waitsite.h"

#include <stdlib.h>
#include <string.h>

#include "../core/xalloc.h"
#include "../profile/profile.h"

bool wait_runtime_module(const struct profile *p, const struct frame *f)
{
	static const char *const prefixes[] = { "libc.so", "libc-", "libpthread", "ld-linux", "ld-musl", "libstdc++",
						"libc++", NULL };
	const char *m, *base;

	if (!f->module)
		return false;
	m = profile_str(p, f->module);
	base = strrchr(m, '/');
	base = base ? base + 1 : m;
	for (size_t i = 0; prefixes[i]; i++)
		if (!strncmp(base, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

bool wait_scheduler_frame(const struct profile *p, const struct frame *f)
{
	static const char *const names[] = { "__schedule", "schedule", "__switch_to", "__switch_to_asm",
					     "finish_task_switch", NULL };
	const char *fn;
	size_t len;

	if (f->kind != FRAME_KERNEL || !f->function)
		return false;
	fn = profile_str(p, f->function);
	len = strlen(fn);
	if (len > 4 && !strcmp(fn + len - 4, "_[k]"))
		len -= 4;
	for (size_t i = 0; names[i]; i++) {
		size_t n = strlen(names[i]);

		/* "finish_task_switch.isra.0": a compiler's local copy is the same function */
		if (len >= n && !strncmp(fn, names[i], n) && (len == n || fn[n] == '.'))
			return true;
	}
	return false;
}

static bool user_frame(const struct frame *f)
{
	return f->kind != FRAME_KERNEL && f->kind != FRAME_ROOT && f->kind != FRAME_UNKNOWN;
}

uint32_t *wait_site_rows(const struct profile *p, bool all_waits)
{
	uint32_t *interp = NULL, *prog = NULL, *user = NULL, *site = NULL;
	bool changed = false;

	if (!p->rows_nr || !p->nodes_nr)
		return NULL;
	/* Parents come before their children: one forward pass carries each innermost kind of frame down. */
	interp = xcalloc(p->nodes_nr, sizeof(*interp));
	prog = xcalloc(p->nodes_nr, sizeof(*prog));
	user = xcalloc(p->nodes_nr, sizeof(*user));
	for (size_t n = 1; n < p->nodes_nr; n++) {
		const struct frame *f = &p->frames[p->nodes[n].frame];
		uint32_t up = p->nodes[n].parent;

		interp[n] = f->kind == FRAME_PYTHON ? (uint32_t)n : interp[up];
		prog[n] = user_frame(f) && !wait_runtime_module(p, f) ? (uint32_t)n : prog[up];
		user[n] = user_frame(f) ? (uint32_t)n : user[up];
	}
	site = xmalloc(p->rows_nr * sizeof(*site));
	for (size_t r = 0; r < p->rows_nr; r++) {
		uint32_t leaf = p->rows[r].node, s = leaf;

		if (leaf && leaf < p->nodes_nr &&
		    (all_waits || wait_scheduler_frame(p, &p->frames[p->nodes[leaf].frame]))) {
			s = interp[leaf] ? interp[leaf] : prog[leaf] ? prog[leaf] : user[leaf] ? user[leaf] : leaf;
			changed |= s != leaf;
		}
		site[r] = s;
	}
	free(interp);
	free(prog);
	free(user);
	if (!changed) {
		free(site);
		return NULL;
	}
	return site;
}
