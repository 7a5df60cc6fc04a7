/*
 * --nameattr FILE: per-function attributes for flame graph frames, in flamegraph.pl's file format
 * ("FUNCTION<TAB>key=value<TAB>..."). Only known keys are kept and the extra attribute strings are split
 * into names and values here, so the writer can escape every value and never emit an attribute twice.
 */
#include "flamegraph.h"

#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/xalloc.h"

static const char *const known_keys[] = {
	"title", "id", "class", "style", "onmouseover", "onmouseout", "onclick", "href", "target", NULL,
};

/* Attribute names the writer sets itself: an extra attribute of that name would be a duplicate. */
static const char *const reserved[] = {
	"id", "class", "style", "onmouseover", "onmouseout", "onclick", "xlink:href", "target", NULL,
};

void fg_nameattr_init(struct fg_nameattr *m)
{
	memset(m, 0, sizeof(*m));
}

static void attrs_clear(struct fg_attrs *a)
{
	size_t i;

	for (i = 0; i < a->nr; i++) {
		free(a->v[i].key);
		free(a->v[i].value);
	}
	free(a->v);
	memset(a, 0, sizeof(*a));
}

void fg_nameattr_release(struct fg_nameattr *m)
{
	size_t i;

	for (i = 0; i < m->names.nr; i++)
		attrs_clear(&m->attrs[i]);
	free(m->attrs);
	strtab_release(&m->names);
	fg_nameattr_init(m);
}

static bool in_list(const char *const *list, const char *s, size_t len)
{
	for (; *list; list++)
		if (strlen(*list) == len && !memcmp(*list, s, len))
			return true;
	return false;
}

static struct fg_attr *find(struct fg_attrs *a, const char *key, size_t len)
{
	size_t i;

	for (i = 0; i < a->nr; i++)
		if (strlen(a->v[i].key) == len && !memcmp(a->v[i].key, key, len))
			return &a->v[i];
	return NULL;
}

/* Sets `key` (last one wins, as in flamegraph.pl's hash). */
static void set(struct fg_attrs *a, const char *key, size_t klen, const char *value, size_t vlen)
{
	struct fg_attr *at = find(a, key, klen);

	if (!at) {
		ALLOC_GROW(a->v, a->nr + 1, a->alloc);
		at = &a->v[a->nr++];
		at->key = xstrndup(key, klen);
	} else {
		free(at->value);
	}
	at->value = xstrndup(value, vlen);
}

static bool name_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':')
		return true;
	return !first && ((c >= '0' && c <= '9') || c == '-' || c == '.');
}

/*
 * Splits 'name="value" name2='v2'' into keys "=name" (a g_extra) or "@name" (an a_extra). Returns how many
 * attributes were skipped: malformed, or named as one the writer sets.
 */
static size_t parse_extra(struct fg_attrs *a, const char *s, size_t len, char tag)
{
	size_t i = 0, skipped = 0;
	char key[128];

	while (i < len) {
		size_t ns, nl, vs;
		char q;

		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len)
			break;
		ns = i;
		while (i < len && name_char(s[i], i == ns))
			i++;
		nl = i - ns;
		if (!nl || nl + 2 > sizeof(key) || i + 1 >= len || s[i] != '=' || (s[i + 1] != '"' && s[i + 1] != '\''))
			return skipped + 1; /* not name="value": the rest cannot be trusted */
		q = s[i + 1];
		vs = i + 2;
		for (i = vs; i < len && s[i] != q; i++)
			;
		if (i == len)
			return skipped + 1;
		memcpy(key + 1, s + ns, nl);
		key[0] = tag == '=' ? '@' : '=';
		if (in_list(reserved, s + ns, nl) || find(a, key, nl + 1)) {
			skipped++; /* the writer sets it, or the other extra does: an attribute appears once */
		} else {
			key[0] = tag;
			if (find(a, key, nl + 1))
				skipped++;
			else
				set(a, key, nl + 1, s + vs, i - vs);
		}
		i++;
	}
	return skipped;
}

int fg_nameattr_parse(struct fg_nameattr *m, const char *data, size_t len, const char *name, struct err *e)
{
	const char *line = data, *end = data + len, *next;
	size_t lineno = 0;

	for (; line < end; line = next) {
		const char *nl = memchr(line, '\n', (size_t)(end - line)), *tab, *p, *le;
		size_t l = nl ? (size_t)(nl - line) : (size_t)(end - line);
		struct fg_attrs *a;
		uint32_t id;

		next = nl ? nl + 1 : end;
		lineno++;
		if (l && line[l - 1] == '\r')
			l--;
		if (!l)
			continue;
		le = line + l;
		tab = memchr(line, '\t', l);
		if (!tab)
			return err_set(e, "invalid line %zu in name attribute file '%s': no tab after the function name",
				       lineno, name);
		id = strtab_intern(&m->names, line, (size_t)(tab - line));
		if (id >= m->attrs_alloc) {
			size_t old = m->attrs_alloc;

			ALLOC_GROW(m->attrs, id + 1, m->attrs_alloc);
			memset(m->attrs + old, 0, (m->attrs_alloc - old) * sizeof(*m->attrs));
		}
		a = &m->attrs[id];
		attrs_clear(a); /* a later line for the same function replaces the earlier one */
		for (p = tab + 1; p < le;) {
			const char *t = memchr(p, '\t', (size_t)(le - p)), *fe = t ? t : le, *eq;

			eq = memchr(p, '=', (size_t)(fe - p));
			if (!eq) {
				if (fe > p)
					m->ignored++;
			} else if (eq - p == 7 && (!memcmp(p, "g_extra", 7) || !memcmp(p, "a_extra", 7))) {
				m->ignored += parse_extra(a, eq + 1, (size_t)(fe - eq - 1), *p == 'g' ? '=' : '@');
			} else if (in_list(known_keys, p, (size_t)(eq - p))) {
				set(a, p, (size_t)(eq - p), eq + 1, (size_t)(fe - eq - 1));
			} else {
				m->ignored++;
			}
			p = t ? t + 1 : le;
		}
	}
	return 0;
}

int fg_nameattr_load(struct fg_nameattr *m, const char *path, struct err *e)
{
	struct buf b = BUF_INIT;
	int ret;

	if (buf_read_file(&b, path, e) < 0) {
		buf_release(&b);
		return -1;
	}
	ret = fg_nameattr_parse(m, b.buf, b.len, path, e);
	buf_release(&b);
	return ret;
}

const struct fg_attrs *fg_nameattr_get(const struct fg_nameattr *m, const char *name, size_t len)
{
	int64_t id;

	if (!m->names.nr || (id = strtab_find(&m->names, name, len)) < 0)
		return NULL;
	return m->attrs[id].nr ? &m->attrs[id] : NULL;
}
