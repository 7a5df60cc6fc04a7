/* Kernel symbols from kallsyms: parse, sort, binary search (see ksyms.h). */
#include "ksyms.h"

#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/xalloc.h"

struct ksyms {
	struct ksym *v;
	size_t nr, alloc;
	char *text; /* the file's text; names and module names are NUL-terminated in place */
};

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parses one line "ADDR TYPE NAME[\t[MODULE]]" of `len` bytes (s[len] may be overwritten with a NUL). */
static void parse_line(struct ksyms *k, char *s, size_t len)
{
	char *end = s + len, *p = s;
	uint64_t addr = 0;
	int digits = 0, d;

	while (p < end && (d = hexval((unsigned char)*p)) >= 0) {
		if (++digits > 16)
			return;
		addr = addr << 4 | (uint64_t)d;
		p++;
	}
	if (!digits || p + 3 > end || *p != ' ' || p[2] != ' ')
		return;
	char type = p[1];
	if (type != 't' && type != 'T' && type != 'w' && type != 'W')
		return;
	p += 3;
	char *name = p;
	while (p < end && *p != '\t' && *p != ' ')
		p++;
	if (p == name)
		return;
	if (!addr)
		return; /* kptr_restrict hides the addresses */
	char *name_end = p;
	const char *module = "[kernel.kallsyms]";
	while (p < end && (*p == '\t' || *p == ' '))
		p++;
	if (p < end && *p == '[') {
		char *close = memchr(p, ']', (size_t)(end - p));
		if (close) {
			module = p;
			close[1] = '\0'; /* the newline, or the NUL after the text */
		}
	}
	*name_end = '\0';
	ALLOC_GROW(k->v, k->nr + 1, k->alloc);
	struct ksym *sym = &k->v[k->nr];
	sym->addr = addr;
	sym->name = name;
	sym->module = module;
	sym->seq = (uint32_t)k->nr++;
}

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq); /* aliases: file order */
}

/* Takes ownership of `text` (`len` bytes plus a NUL). */
static struct ksyms *parse_owned(char *text, size_t len)
{
	struct ksyms *k = xcalloc(1, sizeof(*k));
	char *p = text, *end = text + len;
	bool sorted = true;

	k->text = text;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		parse_line(k, p, n);
		if (k->nr > 1 && k->v[k->nr - 1].addr < k->v[k->nr - 2].addr)
			sorted = false;
		p += n + (nl != NULL);
	}
	if (!sorted) /* /proc/kallsyms is sorted; other files need not be */
		qsort(k->v, k->nr, sizeof(*k->v), cmp_ksym);
	/* Aliases at one address (_text, _stext, ...): keep the first, so lookups are unambiguous. */
	size_t out = 0;
	for (size_t i = 0; i < k->nr; i++)
		if (!out || k->v[out - 1].addr != k->v[i].addr)
			k->v[out++] = k->v[i];
	k->nr = out;
	return k;
}

struct ksyms *ksyms_parse(const char *text, size_t len)
{
	char *copy = xmalloc(len + 1);

	memcpy(copy, text, len);
	copy[len] = '\0';
	return parse_owned(copy, len);
}

struct ksyms *ksyms_load(const char *path, struct err *e)
{
	struct buf b = BUF_INIT;
	struct ksyms *k;

	size_t len;
	if (buf_read_file(&b, path, e) < 0) {
		buf_release(&b);
		return NULL;
	}
	char *text = buf_detach(&b, &len);
	k = parse_owned(text, len);
	return k;
}

void ksyms_free(struct ksyms *k)
{
	if (!k)
		return;
	free(k->v);
	free(k->text);
	free(k);
}

bool ksyms_hidden(const struct ksyms *k)
{
	return !k || k->nr == 0;
}

size_t ksyms_count(const struct ksyms *k)
{
	return k ? k->nr : 0;
}

const struct ksym *ksyms_find(const struct ksyms *k, uint64_t addr)
{
	size_t lo = 0, hi;

	if (!k || !k->nr || addr < k->v[0].addr)
		return NULL;
	hi = k->nr;
	while (hi - lo > 1) { /* invariant: v[lo].addr <= addr, v[hi].addr > addr (hi == nr: none) */
		size_t mid = lo + (hi - lo) / 2;
		if (k->v[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return &k->v[lo];
}
