/* Frame names for output: one rule for every writer (see frame_name.h). */
#include "frame_name.h"

#include <inttypes.h>
#include <string.h>

#include "../core/buf.h"
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
