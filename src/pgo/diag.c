/* Parsing GCC's and Clang's profile-use warnings out of a build's standard error. */
#include "pgo/diag.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/xalloc.h"

/* Finds `needle` in [s, s+len). */
static const char *find(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (!memcmp(s + i, needle, n))
			return s + i;
	return NULL;
}

/*
 * The first quoted name in the line: GCC quotes with U+2018/U+2019 in a UTF-8 locale and with ' elsewhere,
 * Clang with ". Returns its length, 0 when there is none.
 */
static size_t quoted(const char *s, size_t len, const char **start)
{
	static const char *const open[] = { "\xe2\x80\x98", "'", "\"" };
	static const char *const close[] = { "\xe2\x80\x99", "'", "\"" };
	const char *best = NULL;
	size_t which = 0;

	for (size_t k = 0; k < 3; k++) {
		const char *o = find(s, len, open[k]);

		if (o && (!best || o < best))
			best = o, which = k;
	}
	if (!best)
		return 0;
	best += strlen(open[which]);
	const char *end = find(best, len - (size_t)(best - s), close[which]);
	if (!end || end == best)
		return 0;
	for (const char *p = best; p < end; p++)
		if ((unsigned char)*p < 0x20)
			return 0; /* not a name a compiler prints */
	*start = best;
	return (size_t)(end - best);
}

/* "FILE:LINE:COL: warning:" (or error:) at the start of a line; returns false when the line has no location. */
static bool location(const char *s, size_t len, char **file, unsigned *line)
{
	const char *w = find(s, len, ": warning:");
	const char *colon;

	if (!w)
		w = find(s, len, ": error:");
	unsigned long v = 0;

	if (!w || w == s)
		return false;
	colon = memchr(s, ':', (size_t)(w - s));
	if (!colon || colon == s)
		return false;
	for (const char *p = colon + 1; p < w && *p >= '0' && *p <= '9' && v < 100000000; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	*file = xstrndup(s, (size_t)(colon - s));
	*line = (unsigned)v;
	return true;
}

/* "of 3 functions, 1 has ..." -> of = 3, count = 1. */
static void counts(const char *s, size_t len, unsigned *count, unsigned *of)
{
	const char *p = find(s, len, ": of "); /* not the " of " of "out of date" */
	const char *end = s + len;
	unsigned long a = 0, b = 0;

	if (!p)
		return;
	for (p += 5; p < end && *p >= '0' && *p <= '9' && a < 100000000; p++)
		a = a * 10 + (unsigned long)(*p - '0');
	p = find(p, (size_t)(end - p), ", ");
	if (!p)
		return;
	for (p += 2; p < end && *p >= '0' && *p <= '9' && b < 100000000; p++)
		b = b * 10 + (unsigned long)(*p - '0');
	*of = (unsigned)a;
	*count = (unsigned)b;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void add(struct pgo_diag *d, struct pgo_finding *f)
{
	/* Named findings are kept once; counted ones (Clang, one per translation unit) all add up. */
	for (size_t i = 0; f->function && i < d->nr; i++) {
		if (d->v[i].kind == f->kind && same(d->v[i].function, f->function) && same(d->v[i].file, f->file)) {
			free(f->function);
			free(f->file);
			return;
		}
	}
	ALLOC_GROW(d->v, d->nr + 1, d->alloc);
	d->v[d->nr++] = *f;
}

static void parse_line(struct pgo_diag *d, const char *s, size_t len)
{
	struct pgo_finding f = { .count = 1 };
	const char *name = NULL;
	size_t nlen;

	if (find(s, len, "[-Wcoverage-mismatch]") || find(s, len, "[-Werror=coverage-mismatch]"))
		f.kind = PGO_STALE;
	else if (find(s, len, "[-Wmissing-profile]"))
		f.kind = PGO_MISSING;
	else if (find(s, len, "[-Wprofile-instr-out-of-date]"))
		f.kind = PGO_STALE;
	else if (find(s, len, "[-Wprofile-instr-missing]"))
		f.kind = PGO_MISSING;
	else if (find(s, len, "[-Wprofile-instr-unprofiled]"))
		f.kind = PGO_UNPROFILED;
	else
		return;
	if (!find(s, len, "warning:") && !find(s, len, "error:"))
		return; /* a note repeating the flag */
	location(s, len, &f.file, &f.line);
	if (find(s, len, "[-Wprofile-instr-unprofiled]")) {
		nlen = quoted(s, len, &name);
		if (nlen) {
			free(f.file);
			f.file = xstrndup(name, nlen);
		}
	} else if (find(s, len, "[-Wprofile-instr-")) {
		counts(s, len, &f.count, &f.of);
		if (!f.count) {
			free(f.file);
			return;
		}
	} else if (!find(s, len, "data file not found")) {
		/* GCC's missing .gcda names the data file, not a function: the location says which source. */
		nlen = quoted(s, len, &name);
		if (nlen)
			f.function = xstrndup(name, nlen);
	}
	add(d, &f);
}

void pgo_diag_parse(struct pgo_diag *d, const char *text, size_t len)
{
	const char *end = text + len;

	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t n = nl ? (size_t)(nl - text) : (size_t)(end - text);

		parse_line(d, text, n);
		text += n + (nl != NULL);
	}
}

size_t pgo_diag_count(const struct pgo_diag *d, enum pgo_finding_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < d->nr; i++)
		if (d->v[i].kind == kind)
			n += d->v[i].count;
	return n;
}

void pgo_diag_release(struct pgo_diag *d)
{
	for (size_t i = 0; i < d->nr; i++) {
		free(d->v[i].function);
		free(d->v[i].file);
	}
	free(d->v);
	d->v = NULL;
	d->nr = d->alloc = 0;
}
