/* gperftools' legacy CPU profile reader (see pprof_legacy.h); the "pprof" format hands such files here. */
#include "pprof_legacy.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/err.h"
#include "../profile/profile.h"

/* Slot size (4 or 8 bytes) and byte order, found from the header. */
struct legacy_fmt {
	unsigned word;
	bool big;
};

static uint64_t legacy_word(const unsigned char *d, const struct legacy_fmt *f)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < f->word; i++) {
		unsigned shift = f->big ? (f->word - 1 - i) * 8 : i * 8;
		v |= (uint64_t)d[i] << shift;
	}
	return v;
}

static bool detect(const unsigned char *d, size_t len, struct legacy_fmt *out)
{
	static const struct legacy_fmt fmts[] = { { 8, false }, { 4, false }, { 8, true }, { 4, true } };

	for (size_t i = 0; i < ARRAY_SIZE(fmts); i++) {
		const struct legacy_fmt *f = &fmts[i];
		if (len < 5 * f->word)
			continue;
		uint64_t hdr_count = legacy_word(d, f), hdr_words = legacy_word(d + f->word, f);
		uint64_t version = legacy_word(d + 2 * f->word, f);
		if (hdr_count == 0 && hdr_words >= 3 && hdr_words < 1024 && version == 0) {
			*out = *f;
			return true;
		}
	}
	return false;
}

bool pprof_legacy_detect(const unsigned char *d, size_t len)
{
	struct legacy_fmt f;

	return len >= 40 && detect(d, len, &f);
}

static bool module_is_kernel(const char *m)
{
	return !strncmp(m, "[kernel", 7) || !strcmp(m, "[vmlinux]") || !strncmp(m, "vmlinux", 7);
}

struct maps_entry {
	uint64_t start, end, offset;
	uint32_t module;
	const char *base; /* basename for display */
};

static void parse_maps(struct profile *p, const char *text, size_t len, struct maps_entry **out, size_t *nr)
{
	size_t alloc = 0;
	const char *end = text + len;

	*out = NULL;
	*nr = 0;
	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t ll = nl ? (size_t)(nl - text) : (size_t)(end - text);
		char line[4096];
		unsigned long long s, e, off;
		char perms[8];
		int path_at = -1;

		if (ll < sizeof(line)) {
			memcpy(line, text, ll);
			line[ll] = '\0';
			if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &s, &e, perms, &off, &path_at) == 4 &&
			    path_at > 0 && line[path_at] && e > s) {
				const char *path = line + path_at;
				size_t pl = strlen(path);
				while (pl && (path[pl - 1] == ' ' || path[pl - 1] == '\r'))
					pl--;
				if (pl) {
					ALLOC_GROW(*out, *nr + 1, alloc);
					struct maps_entry *m = &(*out)[(*nr)++];
					m->start = s;
					m->end = e;
					m->offset = off;
					m->module = profile_intern(p, path, pl);
					const char *mod = profile_str(p, m->module), *slash = strrchr(mod, '/');
					m->base = slash && slash[1] ? slash + 1 : mod;
				}
			}
		}
		text += ll + (nl ? 1 : 0);
	}
}

static uint32_t legacy_frame(struct profile *p, const struct maps_entry *maps, size_t nmaps, uint64_t pc)
{
	struct frame f = { 0 };
	char name[300];

	for (size_t i = 0; i < nmaps; i++) {
		if (pc >= maps[i].start && pc < maps[i].end) {
			f.module = maps[i].module;
			f.addr = pc - maps[i].start + maps[i].offset;
			snprintf(name, sizeof(name), "[%.250s+0x%" PRIx64 "]", maps[i].base, f.addr);
			f.function = profile_intern_str(p, name);
			f.kind = module_is_kernel(maps[i].base) ? FRAME_KERNEL : FRAME_NATIVE;
			return profile_frame(p, &f);
		}
	}
	snprintf(name, sizeof(name), "0x%" PRIx64, pc);
	f.function = profile_intern_str(p, name);
	f.addr = pc;
	f.kind = FRAME_UNKNOWN;
	return profile_frame(p, &f);
}

int pprof_legacy_read(struct profile *p, const unsigned char *d, size_t len, struct err *e)
{
	struct legacy_fmt fmt, *lf = &fmt;

	if (!detect(d, len, &fmt))
		return err_set(e, "not a gperftools CPU profile");
	const size_t w = lf->word;
	size_t pos, nwords = len / w;
	uint64_t hdr_words = legacy_word(d + w, lf), period_us;
	struct maps_entry *maps = NULL;
	size_t nmaps = 0;
	uint32_t *frames = NULL;
	size_t frames_alloc = 0;
	bool trailer = false;
	int ret = -1;

	if (2 + hdr_words > nwords || hdr_words < 3)
		return err_set(e, "truncated legacy CPU profile header");
	period_us = legacy_word(d + 3 * w, lf);
	pos = 2 + hdr_words; /* in words */

	/* The records come first, but the maps text after them is needed to name addresses: find the trailer. */
	size_t scan = pos;
	while (scan + 2 <= nwords) {
		uint64_t count = legacy_word(d + scan * w, lf), depth = legacy_word(d + (scan + 1) * w, lf);
		if (depth > nwords - scan - 2) {
			err_set(e, "truncated legacy CPU profile record at byte %zu", scan * w);
			goto out;
		}
		if (count == 0 && depth == 1 && legacy_word(d + (scan + 2) * w, lf) == 0) {
			trailer = true;
			scan += 3;
			break;
		}
		scan += 2 + depth;
	}
	if (!trailer) {
		err_set(e, "legacy CPU profile has no trailer (truncated?)");
		goto out;
	}
	parse_maps(p, (const char *)d + scan * w, len - scan * w, &maps, &nmaps);

	profile_add_column(p, "samples", "count");
	if (period_us) {
		profile_add_column(p, "cpu", "nanoseconds");
		p->period_type.type = profile_intern_str(p, "cpu");
		p->period_type.unit = profile_intern_str(p, "nanoseconds");
		p->period = (int64_t)(period_us > INT64_MAX / 1000 ? INT64_MAX / 1000 : period_us) * 1000;
	}
	p->default_column = -1;

	while (pos + 2 <= nwords) {
		uint64_t count = legacy_word(d + pos * w, lf), depth = legacy_word(d + (pos + 1) * w, lf);
		if (count == 0 && depth == 1 && legacy_word(d + (pos + 2) * w, lf) == 0)
			break;
		ALLOC_GROW(frames, depth, frames_alloc);
		/* PCs run leaf first; callers' are return addresses, so step back into the call instruction. */
		for (uint64_t i = 0; i < depth; i++) {
			uint64_t pc = legacy_word(d + (pos + 2 + (depth - 1 - i)) * w, lf);
			if (depth - 1 - i > 0 && pc > 0)
				pc--;
			frames[i] = legacy_frame(p, maps, nmaps, pc);
		}
		uint32_t node = 0;
		for (uint64_t i = 0; i < depth; i++)
			node = profile_node(p, node, frames[i]);
		int64_t vals[2];
		vals[0] = (int64_t)(count > INT64_MAX ? INT64_MAX : count);
		if (!period_us)
			vals[1] = 0;
		else if (__builtin_mul_overflow(vals[0], p->period, &vals[1]))
			vals[1] = INT64_MAX;
		profile_add_sample(p, node, 0, vals);
		pos += 2 + depth;
	}
	ret = 0;
out:
	free(maps);
	free(frames);
	return ret;
}
