/* Lines, addresses, memory maps and stacks shared by the legacy text readers (see legacy_common.h). */
#include "legacy_common.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/err.h"
#include "../profile/profile.h"

void lcursor_init(struct lcursor *c, const void *data, size_t len)
{
	c->p = data;
	c->end = c->p + len;
	c->lineno = 0;
}

bool lcursor_next(struct lcursor *c, const char **s, size_t *n)
{
	const char *nl;

	if (c->p >= c->end)
		return false;
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	*s = c->p;
	*n = nl ? (size_t)(nl - c->p) : (size_t)(c->end - c->p);
	c->p = nl ? nl + 1 : c->end;
	if (*n && (*s)[*n - 1] == '\r')
		(*n)--;
	c->lineno++;
	return true;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\v' || ch == '\f' || ch == '\r' || ch == '\n';
}

void ltrim(const char **s, size_t *n)
{
	while (*n && is_blank(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_blank((*s)[*n - 1]))
		(*n)--;
}

bool lstarts(const char *s, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);

	return n >= pl && !memcmp(s, prefix, pl);
}

const char *lfind(const char *s, size_t n, const char *needle)
{
	return memmem(s, n, needle, strlen(needle));
}

bool lblank_or_comment(const char *s, size_t n)
{
	ltrim(&s, &n);
	return !n || s[0] == '#';
}

bool legacy_is_map_sentinel(const char *s, size_t n)
{
	return lfind(s, n, "--- Memory map: ---") || lfind(s, n, "MAPPED_LIBRARIES:");
}

bool lparse_dec(const char **s, const char *end, bool neg_ok, int64_t *out)
{
	const char *p = *s;
	bool neg = false;
	uint64_t v = 0;

	if (neg_ok && p < end && *p == '-') {
		neg = true;
		p++;
	}
	if (p == end || *p < '0' || *p > '9')
		return false;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_C(1) << 63) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > (uint64_t)INT64_MAX + neg)
		return false;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	*s = p;
	return true;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
		return (ch | 0x20) - 'a' + 10;
	return -1;
}

/* Hex digits at *s (either case) into *out; false when none or more than 64 bits. */
static bool parse_hex(const char **s, const char *end, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;

	if (p == end || hexval(*p) < 0)
		return false;
	for (; p < end && hexval(*p) >= 0; p++) {
		if (v >> 60)
			return false;
		v = v << 4 | (uint64_t)hexval(*p);
	}
	*out = v;
	*s = p;
	return true;
}

int legacy_hex_list(struct legacy_ctx *c, const char *s, size_t n, struct err *e)
{
	const char *end = s + n, *p = s;

	c->addrs_nr = 0;
	while ((p = memmem(p, (size_t)(end - p), "0x", 2))) {
		const char *q = p + 2;
		uint64_t v = 0;
		size_t digits = 0;

		/* pprof's expression takes lowercase digits only. */
		while (q < end && ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f'))) {
			if (v >> 60)
				return err_set(e, "address '%.*s' does not fit 64 bits", (int)(q - p + 1 > 40 ? 40 : q - p + 1),
					       p);
			v = v << 4 | (uint64_t)hexval(*q);
			q++;
			digits++;
		}
		if (digits) {
			ALLOC_GROW(c->addrs, c->addrs_nr + 1, c->addrs_alloc);
			c->addrs[c->addrs_nr++] = (int64_t)v;
		}
		p = digits ? q : p + 2;
	}
	return 0;
}

void legacy_ctx_init(struct legacy_ctx *c, struct profile *p)
{
	memset(c, 0, sizeof(*c));
	c->p = p;
}

void legacy_ctx_release(struct legacy_ctx *c)
{
	free(c->maps);
	u64map_release(&c->named);
	free(c->names);
	u64map_release(&c->frames);
	free(c->stack);
	free(c->addrs);
}

static void skip_blanks(const char **p, const char *end)
{
	while (*p < end && is_blank(**p))
		(*p)++;
}

/* A whitespace-delimited token at *p. */
static bool token(const char **p, const char *end, const char **t, size_t *tn)
{
	skip_blanks(p, end);
	*t = *p;
	while (*p < end && !is_blank(**p))
		(*p)++;
	*tn = (size_t)(*p - *t);
	return *tn > 0;
}

static bool all_of(const char *t, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(set, t[i]))
			return false;
	return n > 0;
}

static bool is_hex_tok(const char *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hexval(t[i]) < 0)
			return false;
	return n > 0;
}

/* One memory map line in either of pprof's two forms; false when it is not one. */
static bool parse_map_line(const char *s, size_t n, struct legacy_map *m, const char **file, size_t *file_len)
{
	const char *p = s, *end = s + n, *t[5], *perm = NULL;
	size_t tn[5], nt = 0, i = 0, perm_len = 0;
	uint64_t offset = 0;

	skip_blanks(&p, end);
	if (end - p > 2 && p[0] == '0' && p[1] == 'x')
		p += 2;
	if (!parse_hex(&p, end, &m->start))
		return false;
	if (p < end && (*p == '-' || is_blank(*p)))
		p++;
	skip_blanks(&p, end);
	if (end - p > 2 && p[0] == '0' && p[1] == 'x')
		p += 2;
	if (!parse_hex(&p, end, &m->limit))
		return false;
	if (p < end && *p == ':')
		p++;
	if (p < end && !is_blank(*p))
		return false;
	while (nt < 5 && token(&p, end, &t[nt], &tn[nt]))
		nt++;
	if (i < nt && all_of(t[i], tn[i], "-rwxp")) {
		perm = t[i];
		perm_len = tn[i];
		i++;
	}
	*file = NULL;
	*file_len = 0;
	if (i + 2 < nt && is_hex_tok(t[i], tn[i]) && memchr(t[i + 1], ':', tn[i + 1]) && all_of(t[i + 2], tn[i + 2], "0123456789")) {
		/* /proc/PID/maps: offset, device, inode, path. */
		const char *q = t[i];

		parse_hex(&q, t[i] + tn[i], &offset);
		if (i + 3 < nt) {
			*file = t[i + 3];
			*file_len = tn[i + 3];
		}
	} else if (i < nt) {
		/* The brief form: path, then "(@offset)". */
		*file = t[i];
		*file_len = tn[i];
		if (i + 1 < nt && tn[i + 1] > 3 && !memcmp(t[i + 1], "(@", 2) && t[i + 1][tn[i + 1] - 1] == ')') {
			const char *q = t[i + 1] + 2;

			if (!parse_hex(&q, t[i + 1] + tn[i + 1] - 1, &offset))
				offset = 0;
		}
	}
	if (perm && !memchr(perm, 'x', perm_len))
		return false; /* pprof keeps executable mappings only */
	m->offset = offset;
	return true;
}

void legacy_maps_parse(struct legacy_ctx *c, const char *s, const char *end)
{
	struct lcursor cur;
	const char *line;
	size_t n;

	lcursor_init(&cur, s, (size_t)(end - s));
	while (lcursor_next(&cur, &line, &n)) {
		struct legacy_map m;
		const char *file;
		size_t file_len;

		if (!parse_map_line(line, n, &m, &file, &file_len) || m.limit <= m.start)
			continue;
		m.file = file_len ? profile_intern(c->p, file, file_len) : 0;
		ALLOC_GROW(c->maps, c->maps_nr + 1, c->maps_alloc);
		c->maps[c->maps_nr++] = m;
	}
}

void legacy_maps_find_and_parse(struct legacy_ctx *c, const char *s, const char *end)
{
	struct lcursor cur;
	const char *line;
	size_t n;

	lcursor_init(&cur, s, (size_t)(end - s));
	while (lcursor_next(&cur, &line, &n))
		if (legacy_is_map_sentinel(line, n)) {
			legacy_maps_parse(c, cur.p, end);
			return;
		}
}

void legacy_name_addr(struct legacy_ctx *c, uint64_t addr, uint32_t frame)
{
	int inserted;
	uint64_t *slot;

	if (addr == U64MAP_EMPTY)
		return;
	slot = u64map_insert(&c->named, addr, &inserted);
	ALLOC_GROW(c->names, c->names_nr + 1, c->names_alloc);
	c->names[c->names_nr].frame = frame;
	c->names[c->names_nr].next = UINT32_MAX;
	if (inserted) {
		*slot = c->names_nr;
	} else {
		uint32_t i = (uint32_t)*slot;

		while (c->names[i].next != UINT32_MAX)
			i = c->names[i].next;
		c->names[i].next = (uint32_t)c->names_nr;
	}
	c->names_nr++;
}

/* "#\t0x4b3f47\tmain.allocBig+0x27\t/src/main.go:16": address, function (offset dropped), file:line. */
static bool go_comment(struct legacy_ctx *c, const char *s, size_t n, uint64_t *addr, struct frame *f)
{
	const char *p = s + 1, *end = s + n, *t[3];
	size_t tn[3];
	uint64_t ln = 0;

	for (int i = 0; i < 3; i++)
		if (!token(&p, end, &t[i], &tn[i]))
			return false;
	if (tn[0] < 3 || memcmp(t[0], "0x", 2))
		return false;
	p = t[0] + 2;
	if (!parse_hex(&p, t[0] + tn[0], addr) || p != t[0] + tn[0])
		return false;
	/* The file may hold blanks: it runs to the last ':' of the line. */
	const char *fend = end, *colon;
	while (fend > t[2] && is_blank(fend[-1]))
		fend--;
	colon = memrchr(t[2], ':', (size_t)(fend - t[2]));
	if (!colon || colon == t[2])
		return false;
	for (const char *q = colon + 1; q < fend; q++) {
		if (*q < '0' || *q > '9' || ln > UINT32_MAX / 10)
			return false;
		ln = ln * 10 + (uint64_t)(*q - '0');
	}
	size_t fl = tn[1];
	const char *plus = NULL;
	for (size_t i = fl; i-- > 0;)
		if (t[1][i] == '+') {
			plus = t[1] + i;
			break;
		}
	if (plus && plus[1] == '0' && plus + 2 < t[1] + fl && plus[2] == 'x')
		fl = (size_t)(plus - t[1]);
	memset(f, 0, sizeof(*f));
	f->function = profile_intern(c->p, t[1], fl);
	f->file = profile_intern(c->p, t[2], (size_t)(colon - t[2]));
	f->line = (uint32_t)ln;
	f->kind = FRAME_GO;
	return true;
}

void legacy_go_comments(struct legacy_ctx *c, const char *s, const char *end)
{
	struct lcursor cur;
	const char *line;
	size_t n;
	uint64_t last = U64MAP_EMPTY;
	bool adding = false;

	lcursor_init(&cur, s, (size_t)(end - s));
	while (lcursor_next(&cur, &line, &n)) {
		uint64_t addr;
		struct frame f;

		if (!n || line[0] != '#' || !go_comment(c, line, n, &addr, &f) || addr == U64MAP_EMPTY) {
			last = U64MAP_EMPTY;
			continue;
		}
		/*
		 * One address lists its inlined frames innermost first on consecutive lines; every record repeats the
		 * names, so only the first run of an address is taken.
		 */
		if (addr != last)
			adding = !u64map_find(&c->named, addr);
		last = addr;
		if (!adding)
			continue;
		legacy_name_addr(c, addr, profile_frame(c->p, &f));
	}
	/* All but the outermost frame of an address were inlined. */
	for (size_t i = 0; i < c->names_nr; i++)
		if (c->names[i].next != UINT32_MAX) {
			struct frame f = c->p->frames[c->names[i].frame];

			f.kind = FRAME_INLINED;
			c->names[i].frame = profile_frame(c->p, &f);
		}
}

static bool module_is_kernel(const char *m)
{
	return !strncmp(m, "[kernel", 7) || !strcmp(m, "[vmlinux]") || !strncmp(m, "vmlinux", 7);
}

static const struct legacy_map *find_map(const struct legacy_ctx *c, uint64_t addr)
{
	for (size_t i = 0; i < c->maps_nr; i++)
		if (c->maps[i].start <= addr && addr < c->maps[i].limit)
			return &c->maps[i];
	/* pprof: legacy handlers may drop the first piece of a mapping split in two. */
	for (size_t i = 0; i < c->maps_nr; i++)
		if (c->maps[i].offset && c->maps[i].start - c->maps[i].offset <= addr && addr < c->maps[i].start)
			return &c->maps[i];
	return NULL;
}

uint32_t legacy_addr_frame(struct legacy_ctx *c, uint64_t addr, const char *name, size_t name_len)
{
	const struct legacy_map *m = find_map(c, addr);
	struct frame f = { 0 };
	char buf[320];

	if (m && m->file) {
		const char *mod = profile_str(c->p, m->file), *slash = strrchr(mod, '/');
		const char *base = slash && slash[1] ? slash + 1 : mod;

		f.module = m->file;
		f.addr = addr - m->start + m->offset;
		f.kind = module_is_kernel(base) ? FRAME_KERNEL : FRAME_NATIVE;
		if (!name)
			snprintf(buf, sizeof(buf), "[%.250s+0x%" PRIx64 "]", base, f.addr);
	} else {
		f.addr = addr;
		f.kind = name ? FRAME_NATIVE : FRAME_UNKNOWN;
		if (!name)
			snprintf(buf, sizeof(buf), "0x%" PRIx64, addr);
	}
	f.function = name ? profile_intern(c->p, name, name_len) : profile_intern_str(c->p, buf);
	return profile_frame(c->p, &f);
}

void legacy_push_frame(struct legacy_ctx *c, uint32_t frame)
{
	ALLOC_GROW(c->stack, c->stack_nr + 1, c->stack_alloc);
	c->stack[c->stack_nr++] = frame;
}

void legacy_push_addr(struct legacy_ctx *c, uint64_t addr)
{
	/* UINT64_MAX (0 moved back onto its call) is the maps' reserved key: never looked up. */
	const uint64_t *named = addr != U64MAP_EMPTY ? u64map_find(&c->named, addr) : NULL;

	if (named) {
		for (uint32_t i = (uint32_t)*named; i != UINT32_MAX; i = c->names[i].next) {
			ALLOC_GROW(c->stack, c->stack_nr + 1, c->stack_alloc);
			c->stack[c->stack_nr++] = c->names[i].frame;
		}
		return;
	}
	ALLOC_GROW(c->stack, c->stack_nr + 1, c->stack_alloc);
	if (addr != U64MAP_EMPTY) {
		int inserted;
		uint64_t *slot = u64map_insert(&c->frames, addr, &inserted);

		if (inserted)
			*slot = legacy_addr_frame(c, addr, NULL, 0);
		c->stack[c->stack_nr++] = (uint32_t)*slot;
	} else {
		c->stack[c->stack_nr++] = legacy_addr_frame(c, addr, NULL, 0);
	}
}

uint32_t legacy_commit(struct legacy_ctx *c, const int64_t *values, uint32_t labelset)
{
	uint32_t node = 0;

	if (!c->stack_nr)
		node = profile_node(c->p, 0, profile_frame_named(c->p, "[no stack]", 10, FRAME_UNKNOWN));
	for (size_t i = c->stack_nr; i-- > 0;)
		node = profile_node(c->p, node, c->stack[i]);
	profile_add_sample(c->p, node, labelset, values);
	c->stack_nr = 0;
	return node;
}

void legacy_scale_heap(int64_t *count, int64_t *size, int64_t rate)
{
	double avg, scale;

	if (*count == 0 || *size == 0) {
		*count = *size = 0;
		return;
	}
	if (rate <= 1)
		return;
	avg = (double)*size / (double)*count;
	scale = 1 / (1 - exp(-avg / (double)rate));
	/* Go converts out-of-range floats to INT64_MIN; saturating is what a total can use. */
	*count = (double)*count * scale >= 9.2e18 ? INT64_MAX : (int64_t)((double)*count * scale);
	*size = (double)*size * scale >= 9.2e18 ? INT64_MAX : (int64_t)((double)*size * scale);
}
