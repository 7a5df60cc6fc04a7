/*
 * Folded stacks read the way flamegraph.pl reads them, straight into a flame graph: fractional counts summed,
 * empty frame names kept, perl's split rules, differential lines, --reverse, --base and the --no-sort check.
 */
#include "flamegraph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/xalloc.h"

void fg_folded_init(struct fg_folded *f)
{
	memset(f, 0, sizeof(*f));
	buf_init(&f->prev, 0);
}

void fg_folded_release(struct fg_folded *f)
{
	buf_release(&f->prev);
	free(f->names);
	free(f->lens);
	fg_folded_init(f);
}

/* perl's \s */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/*
 * flamegraph.pl's /^(.*)\s+?(\d+(?:\.\d*)?)$/: the count is what follows the last blank, digits with at most
 * one '.' after the first digit; the stack is everything before that blank (greedy: it may end in blanks).
 * Returns the stack length, or -1 when the line has no count.
 */
static long split_count(const char *s, size_t len, double *count, bool *fractional)
{
	size_t start = len, i;
	bool dot = false;
	char tmp[64];

	while (start > 0 && !is_space(s[start - 1]))
		start--;
	if (start == 0 || start == len || s[start] < '0' || s[start] > '9')
		return -1;
	for (i = start; i < len; i++) {
		if (s[i] == '.' && !dot)
			dot = true;
		else if (s[i] < '0' || s[i] > '9')
			return -1;
	}
	if (dot) {
		/* "12." and "12.000" are whole numbers */
		for (i = start; s[i] != '.'; i++)
			;
		for (i++; i < len; i++)
			if (s[i] != '0')
				*fractional = true;
	}
	if (len - start < sizeof(tmp)) {
		memcpy(tmp, s + start, len - start);
		tmp[len - start] = '\0';
		*count = strtod(tmp, NULL);
	} else {
		char *big = xstrndup(s + start, len - start);

		*count = strtod(big, NULL);
		free(big);
	}
	return (long)start - 1;
}

/* Bytewise, as flamegraph.pl and `LC_ALL=C sort` order folded lines. */
static int cmp_stacks(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c ? c : alen < blen ? -1 : alen > blen;
}

static bool is_base(const struct fg_build_opts *o, const char *name, size_t len)
{
	size_t k;

	for (k = 0; k < o->nbase; k++)
		if (strlen(o->base[k]) == len && !memcmp(o->base[k], name, len))
			return true;
	return false;
}

int fg_add_folded_line(struct flamegraph *g, struct fg_folded *f, const char *line, size_t len,
		       const struct fg_build_opts *o, bool check_sorted, struct err *e)
{
	double value, before = 0;
	bool diff = false;
	size_t n = 0, i, pos, first = 0;
	long sl, sl2;

	if (!len)
		return 0;
	sl = split_count(line, len, &value, &f->fractional);
	if (sl < 0) {
		f->ignored++;
		return 0;
	}
	/* a second count: "STACK BEFORE AFTER" */
	sl2 = split_count(line, (size_t)sl, &before, &f->fractional);
	if (sl2 >= 0) {
		diff = true;
		sl = sl2;
	}
	f->lines++;
	if (check_sorted && !o->reverse) {
		if (f->lines > 1 && cmp_stacks(line, (size_t)sl, f->prev.buf, f->prev.len) < 0)
			return err_set(e, "line %llu: unsorted input ('%.*s' after '%.*s'); it needs sorting, "
				       "drop --no-sort", (unsigned long long)(f->lines + f->ignored),
				       (int)(sl > 80 ? 80 : sl), line, (int)(f->prev.len > 80 ? 80 : f->prev.len),
				       f->prev.buf);
		buf_reset(&f->prev);
		buf_add(&f->prev, line, (size_t)sl);
	}

	/* perl's split ";": every field, then trailing empty ones dropped */
	for (pos = 0; sl > 0 && pos <= (size_t)sl;) {
		const char *semi = memchr(line + pos, ';', (size_t)sl - pos);
		size_t fl = semi ? (size_t)(semi - line) - pos : (size_t)sl - pos;

		if (n + 1 > f->names_alloc) { /* the two arrays grow together */
			ALLOC_GROW(f->names, n + 1, f->names_alloc);
			f->lens = xrealloc(f->lens, f->names_alloc * sizeof(*f->lens));
		}
		f->names[n] = line + pos;
		f->lens[n++] = fl;
		pos += fl + 1;
		if (!semi)
			break;
	}
	while (n && !f->lens[n - 1])
		n--;
	if (o->reverse) {
		for (i = 0; i < n / 2; i++) {
			const char *t = f->names[i];
			size_t tl = f->lens[i];

			f->names[i] = f->names[n - 1 - i];
			f->lens[i] = f->lens[n - 1 - i];
			f->names[n - 1 - i] = t;
			f->lens[n - 1 - i] = tl;
		}
	}
	if (o->nbase) {
		for (first = 0; first < n && !is_base(o, f->names[first], f->lens[first]); first++)
			;
		if (first == n)
			return 1; /* no base frame: left out */
	}
	if (diff)
		g->has_delta = true;
	if (value == 0 && (!diff || value - before == 0))
		return 1;
	f->drawn++;
	f->total += fabs(value);
	if (n)
		fg_add_stack(g, f->names + first, f->lens + first, n - first, value, diff ? value - before : 0);
	else
		fg_add_stack(g, NULL, NULL, 0, value, diff ? value - before : 0); /* " 5": the root's own samples */
	return 1;
}
