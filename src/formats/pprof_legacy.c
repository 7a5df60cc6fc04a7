/* gperftools' legacy CPU profile reader (see pprof_legacy.h); the "pprof" format hands such files here. */
#include "pprof_legacy.h"
#include "pprof_meta.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/err.h"
#include "../core/hash.h"
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
	const char *base; /* basename, for telling kernel images */
	bool noted;       /* its range is in the profile's metadata (profile/meta.h) */
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
			/* Code runs only from executable mappings; pprof keeps only those too. */
			if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &s, &e, perms, &off, &path_at) == 4 &&
			    path_at > 0 && line[path_at] && e > s && strchr(perms, 'x')) {
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
					m->noted = false;
				}
			}
		}
		text += ll + (nl ? 1 : 0);
	}
}

/*
 * An address stays an address: the frame has its module and module-relative address and no function name
 * (outputs name it by profile/frame_name.h), and its mapping's range goes into the profile, so that pprof output
 * keeps what pprof needs to symbolize it.
 */
static uint32_t legacy_frame(struct profile *p, struct maps_entry *maps, size_t nmaps, uint64_t pc)
{
	struct frame f = { 0 };

	for (size_t i = 0; i < nmaps; i++) {
		struct maps_entry *m = &maps[i];

		if (pc >= m->start && pc < m->end) {
			f.module = m->module;
			f.addr = pc - m->start + m->offset;
			f.kind = module_is_kernel(m->base) ? FRAME_KERNEL : FRAME_NATIVE;
			if (!m->noted) {
				profile_add_mapping(p, m->start, m->end, m->offset, profile_str(p, m->module));
				m->noted = true;
			}
			return profile_frame(p, &f);
		}
	}
	f.addr = pc;
	f.kind = FRAME_UNKNOWN;
	return profile_frame(p, &f);
}

struct record {
	size_t first, depth; /* its PCs in the PC array, leaf first */
	uint64_t count;
};

/* Removes a record's second PC (index 1). */
static void drop_second(struct record *r, uint64_t *pcs)
{
	memmove(pcs + r->first + 1, pcs + r->first + 2, (r->depth - 2) * sizeof(*pcs));
	r->depth--;
}

/*
 * What pprof's legacy parser (google/pprof profile/legacy_profile.go, cpuProfile) does before anything else,
 * so that kiln's stacks, and pprof's view of kiln's pprof output, are the ones `go tool pprof` shows for the
 * original file: when all records but one in 32 share their second PC, it is taken for a frame pushed by the
 * signal handler and removed, twice at most; then a caller PC that repeats the leaf (leaf = caller + 1, the
 * leaf once from the signal context, once from unwinding) is removed.
 */
static void drop_handler_frames(struct record *recs, size_t nrecs, uint64_t *pcs)
{
	size_t margin = nrecs / 32;

	for (int iter = 0; iter < 2 && nrecs; iter++) {
		struct u64map seen = U64MAP_INIT;
		uint64_t best = 0, best_n = 0;

		for (size_t r = 0; r < nrecs; r++) {
			if (recs[r].depth < 2 || pcs[recs[r].first + 1] == U64MAP_EMPTY)
				continue;
			uint64_t a = pcs[recs[r].first + 1], *c = u64map_insert(&seen, a, NULL);
			if (++*c > best_n) {
				best_n = *c;
				best = a;
			}
		}
		u64map_release(&seen);
		if (!best_n || best_n < nrecs - margin)
			break;
		for (size_t r = 0; r < nrecs; r++)
			if (recs[r].depth > 1 && pcs[recs[r].first + 1] == best)
				drop_second(&recs[r], pcs);
	}
	for (size_t r = 0; r < nrecs; r++)
		if (recs[r].depth > 1 && pcs[recs[r].first] == pcs[recs[r].first + 1] + 1)
			drop_second(&recs[r], pcs);
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
	struct record *recs = NULL;
	uint64_t *pcs = NULL;
	size_t nrecs = 0, recs_alloc = 0, npcs = 0, pcs_alloc = 0;
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

	/* The records' PCs, leaf first; callers' are return addresses, so step back into the call instruction. */
	while (pos + 2 <= nwords) {
		uint64_t count = legacy_word(d + pos * w, lf), depth = legacy_word(d + (pos + 1) * w, lf);
		if (count == 0 && depth == 1 && legacy_word(d + (pos + 2) * w, lf) == 0)
			break;
		ALLOC_GROW(recs, nrecs + 1, recs_alloc);
		ALLOC_GROW(pcs, npcs + depth, pcs_alloc);
		recs[nrecs].first = npcs;
		recs[nrecs].depth = (size_t)depth;
		recs[nrecs++].count = count;
		for (uint64_t i = 0; i < depth; i++) {
			uint64_t pc = legacy_word(d + (pos + 2 + i) * w, lf);
			pcs[npcs++] = i > 0 && pc > 0 ? pc - 1 : pc;
		}
		pos += 2 + depth;
	}
	drop_handler_frames(recs, nrecs, pcs);

	for (size_t r = 0; r < nrecs; r++) {
		const uint64_t *pc = pcs ? pcs + recs[r].first : NULL; /* NULL when every record is empty */
		size_t depth = recs[r].depth;
		uint32_t node = 0;
		int64_t vals[2];

		ALLOC_GROW(frames, depth, frames_alloc);
		for (size_t i = 0; i < depth; i++)
			frames[i] = legacy_frame(p, maps, nmaps, pc[depth - 1 - i]);
		for (size_t i = 0; i < depth; i++)
			node = profile_node(p, node, frames[i]);
		vals[0] = (int64_t)(recs[r].count > INT64_MAX ? INT64_MAX : recs[r].count);
		if (!period_us)
			vals[1] = 0;
		else if (__builtin_mul_overflow(vals[0], p->period, &vals[1]))
			vals[1] = INT64_MAX;
		profile_add_sample(p, node, 0, vals);
	}
	ret = 0;
out:
	free(maps);
	free(frames);
	free(recs);
	free(pcs);
	return ret;
}
