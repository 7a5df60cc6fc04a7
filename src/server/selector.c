/*
 * Label selectors and profile type IDs (series.h): Prometheus vector-selector matchers as Pyroscope's
 * labelSelector and render `query` use them (shared/protocols/pyroscope.md 6.5), with POSIX extended regular
 * expressions anchored at both ends in place of RE2.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "server/series.h"

/* Characters of a bare label name: Prometheus' [a-zA-Z_][a-zA-Z0-9_]*, plus '.' for OpenTelemetry names such as
 * otel.scope.name, which Pyroscope stores unchanged (2.3). */
static bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '.';
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void add_utf8(struct buf *b, unsigned long cp)
{
	if (cp < 0x80) {
		buf_addch(b, (int)cp);
	} else if (cp < 0x800) {
		buf_addch(b, (int)(0xc0 | cp >> 6));
		buf_addch(b, (int)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_addch(b, (int)(0xe0 | cp >> 12));
		buf_addch(b, (int)(0x80 | (cp >> 6 & 0x3f)));
		buf_addch(b, (int)(0x80 | (cp & 0x3f)));
	} else {
		buf_addch(b, (int)(0xf0 | cp >> 18));
		buf_addch(b, (int)(0x80 | (cp >> 12 & 0x3f)));
		buf_addch(b, (int)(0x80 | (cp >> 6 & 0x3f)));
		buf_addch(b, (int)(0x80 | (cp & 0x3f)));
	}
}

/*
 * A quoted string as PromQL reads it: "..." and '...' with Go's escapes (\n \t \\ \" \' \xHH \uHHHH
 * \UHHHHHHHH and octal \NNN), `...` raw. `*pp` points at the quote; on success it moves past the closing one.
 */
static int read_quoted(const char **pp, const char *start, struct buf *out, struct err *e)
{
	const char *p = *pp;
	char q = *p++;

	for (;;) {
		char c = *p++;
		if (!c)
			return err_set(e, "unterminated string starting at offset %zu", (size_t)(*pp - start));
		if (c == q)
			break;
		if (c == '\n' && q != '`')
			return err_set(e, "newline in string at offset %zu", (size_t)(p - 1 - start));
		if (c != '\\' || q == '`') {
			buf_addch(out, c);
			continue;
		}
		c = *p++;
		int digits = 0;
		unsigned long cp = 0;
		switch (c) {
		case 'a': buf_addch(out, '\a'); break;
		case 'b': buf_addch(out, '\b'); break;
		case 'f': buf_addch(out, '\f'); break;
		case 'n': buf_addch(out, '\n'); break;
		case 'r': buf_addch(out, '\r'); break;
		case 't': buf_addch(out, '\t'); break;
		case 'v': buf_addch(out, '\v'); break;
		case '\\': case '"': case '\'': buf_addch(out, c); break;
		case 'x': digits = 2; break;
		case 'u': digits = 4; break;
		case 'U': digits = 8; break;
		default:
			if (c >= '0' && c <= '7' && p[0] >= '0' && p[0] <= '7' && p[1] >= '0' && p[1] <= '7') {
				int v = (c - '0') * 64 + (p[0] - '0') * 8 + (p[1] - '0');
				if (v > 255)
					return err_set(e, "octal escape out of range at offset %zu", (size_t)(p - 2 - start));
				buf_addch(out, v);
				p += 2;
				break;
			}
			return err_set(e, "unknown escape sequence '\\%c' at offset %zu", c ? c : '0',
				       (size_t)(p - 2 - start));
		}
		for (int i = 0; i < digits; i++) {
			int h = hexval(*p);
			if (h < 0)
				return err_set(e, "invalid escape sequence at offset %zu", (size_t)(p - start));
			cp = cp << 4 | (unsigned long)h;
			p++;
		}
		if (digits == 2)
			buf_addch(out, (int)cp);
		else if (digits) {
			if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
				return err_set(e, "invalid unicode escape at offset %zu", (size_t)(p - start));
			add_utf8(out, cp);
		}
	}
	*pp = p;
	return 0;
}

struct parsed {
	size_t name_off, value_off;
	enum match_op op;
};

/* Bounds on what a query may ask glibc's regcomp() to build: it expands counted repetitions and computes
 * closures in time that grows fast with stacked quantifiers, so a selector from the network is kept to what
 * RE2 (Pyroscope's engine) accepts anyway. */
#define RE_MAX_LEN 16384
#define RE_MAX_REPEAT 1000
#define RE_MAX_SIZE 20000
#define RE_MAX_NEST 64

/* Length of the bracket expression at `s` ('['), or 0 when it is not closed. */
static size_t bracket_len(const char *s)
{
	size_t i = 1;

	if (s[i] == '^')
		i++;
	if (s[i] == ']')
		i++;
	for (; s[i]; i++) {
		if (s[i] == '[' && (s[i + 1] == ':' || s[i + 1] == '.' || s[i + 1] == '=')) {
			const char *end = strchr(s + i + 2, s[i + 1]);
			while (end && end[1] != ']')
				end = strchr(end + 1, s[i + 1]);
			if (!end)
				return 0;
			i = (size_t)(end + 1 - s);
		} else if (s[i] == ']') {
			return i + 1;
		}
	}
	return 0;
}

/*
 * Refuses what RE2 refuses and what would make regcomp() slow: stacked repetition operators ("a++", "a*{2}"),
 * back-references, counts over 1000, and patterns whose counted repetitions expand past RE_MAX_SIZE atoms.
 */
static int check_regex(const char *re, const char *label, struct err *e)
{
	struct level {
		long sum, last;
	} lv[RE_MAX_NEST + 1] = { { 0, 0 } };
	int depth = 0, quant = 0; /* quant: 0 after an atom or at a start, 1 after a repetition, 2 after its '?' */
	bool atom = false;

	if (strlen(re) > RE_MAX_LEN)
		return err_set(e, "regular expression for label '%s' is longer than %d bytes", label, RE_MAX_LEN);
	for (const char *p = re; *p;) {
		long k = 0;

		bool count = *p == '{' && ((p[1] >= '0' && p[1] <= '9') || (p[1] == ',' && p[2] >= '0' && p[2] <= '9'));

		if (*p == '*' || *p == '+' || *p == '?' || count) {
			if (*p == '?' && quant == 1) {
				quant = 2; /* RE2's non-greedy marker; the same language when anchored */
				p++;
				continue;
			}
			if (quant || !atom)
				return err_set(e, "invalid regular expression for label '%s': bad repetition operator at "
					       "offset %zu", label, (size_t)(p - re));
			if (*p == '{') {
				char *end;
				long n = strtol(p + 1, &end, 10), m = n;
				/* leave `end` just before the closing brace */
				if (*end == ',' && end[1] != '}')
					m = strtol(end + 1, &end, 10), end--; /* {n,m} */
				else if (*end == ',')
					m = n + 1; /* {n,}: the expansion is n copies and a star */
				else
					end--; /* {n} */
				if (end[1] != '}' || m < n)
					return err_set(e, "invalid regular expression for label '%s': bad repetition at "
						       "offset %zu", label, (size_t)(p - re));
				if (m > RE_MAX_REPEAT)
					return err_set(e, "invalid regular expression for label '%s': repetition count over %d",
						       label, RE_MAX_REPEAT);
				k = m > 1 ? m : 1;
				p = end + 2;
			} else {
				p++;
			}
			if (k > 1) {
				lv[depth].sum += lv[depth].last * (k - 1);
				lv[depth].last *= k;
			}
			quant = 1;
			if (lv[depth].sum > RE_MAX_SIZE)
				goto complex;
			continue;
		}
		quant = 0;
		atom = true;
		if (*p == '(') {
			if (depth == RE_MAX_NEST)
				goto complex;
			lv[++depth] = (struct level){ 0, 0 };
			atom = false;
			p++;
			continue;
		}
		if (*p == ')') {
			/* an unmatched ')' would end the anchoring group that compile() wraps the pattern in */
			if (depth == 0)
				return err_set(e, "invalid regular expression for label '%s': unmatched ')' at offset %zu",
					       label, (size_t)(p - re));
			long size = lv[depth--].sum + 1;
			lv[depth].sum += size;
			lv[depth].last = size;
			p++;
		} else if (*p == '|') {
			atom = false;
			p++;
		} else if (*p == '[') {
			size_t n = bracket_len(p);
			p += n ? n : 1;
			lv[depth].sum++, lv[depth].last = 1;
		} else if (*p == '\\') {
			if (p[1] >= '1' && p[1] <= '9')
				return err_set(e, "invalid regular expression for label '%s': back-references are not "
					       "supported", label);
			p += p[1] ? 2 : 1;
			lv[depth].sum++, lv[depth].last = 1;
		} else {
			p++;
			lv[depth].sum++, lv[depth].last = 1;
		}
		if (lv[depth].sum > RE_MAX_SIZE)
			goto complex;
	}
	return 0;
complex:
	return err_set(e, "regular expression for label '%s' is too complex", label);
}

static int compile(struct label_matcher *m, struct err *e)
{
	if (check_regex(m->value, m->name, e))
		return -1;
	/* Prometheus anchors every regex: "prod.*" must match the whole value. */
	char *anchored = xasprintf("^(%s)$", m->value);
	regex_t *re = xmalloc(sizeof(*re));
	int rc;

	rc = regcomp(re, anchored, REG_EXTENDED | REG_NOSUB);
	free(anchored);
	if (rc) {
		char msg[128];
		regerror(rc, re, msg, sizeof(msg));
		free(re);
		return err_set(e, "invalid regular expression \"%s\" for label '%s': %s", m->value, m->name, msg);
	}
	m->re = re;
	return 0;
}

int selector_parse(const char *text, struct selector *out, struct err *e)
{
	struct buf mem = BUF_INIT;
	struct parsed *v = NULL;
	size_t nr = 0, alloc = 0;
	const char *p = skip_space(text);

	memset(out, 0, sizeof(*out));
	if (*p != '{') {
		err_set(e, "a selector must start with '{'");
		goto fail;
	}
	p = skip_space(p + 1);
	while (*p != '}') {
		struct parsed m;
		size_t at = (size_t)(p - text);

		m.name_off = mem.len;
		if (*p == '"' || *p == '\'' || *p == '`') {
			if (read_quoted(&p, text, &mem, e))
				goto fail;
			if (mem.len == m.name_off) {
				err_set(e, "empty label name at offset %zu", at);
				goto fail;
			}
		} else if (name_start(*p)) {
			while (name_char(*p))
				buf_addch(&mem, *p++);
		} else {
			if (*p)
				err_set(e, "expected a label name at offset %zu, found '%c'", at, *p);
			else
				err_set(e, "expected a label name at offset %zu, found the end (missing '}')", at);
			goto fail;
		}
		buf_addch(&mem, 0);
		p = skip_space(p);
		if (p[0] == '=' && p[1] == '~') {
			m.op = MATCH_RE, p += 2;
		} else if (p[0] == '!' && p[1] == '~') {
			m.op = MATCH_NRE, p += 2;
		} else if (p[0] == '!' && p[1] == '=') {
			m.op = MATCH_NEQ, p += 2;
		} else if (p[0] == '=') {
			m.op = MATCH_EQ, p += 1;
		} else {
			err_set(e, "expected =, !=, =~ or !~ after label '%s' at offset %zu", mem.buf + m.name_off,
				(size_t)(p - text));
			goto fail;
		}
		p = skip_space(p);
		if (*p != '"' && *p != '\'' && *p != '`') {
			err_set(e, "expected a quoted value for label '%s' at offset %zu", mem.buf + m.name_off,
				(size_t)(p - text));
			goto fail;
		}
		m.value_off = mem.len;
		if (read_quoted(&p, text, &mem, e))
			goto fail;
		buf_addch(&mem, 0);
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = m;
		p = skip_space(p);
		if (*p == ',') {
			p = skip_space(p + 1);
		} else if (*p != '}') {
			if (*p)
				err_set(e, "expected ',' or '}' at offset %zu, found '%c'", (size_t)(p - text), *p);
			else
				err_set(e, "missing '}' at the end of the selector");
			goto fail;
		}
	}
	p = skip_space(p + 1);
	if (*p) {
		err_set(e, "unexpected text after the selector at offset %zu", (size_t)(p - text));
		goto fail;
	}
	out->mem = buf_detach(&mem, NULL);
	out->m = xcalloc(nr + 1, sizeof(*out->m));
	for (size_t i = 0; i < nr; i++) {
		struct label_matcher *m = &out->m[out->n++];
		m->name = out->mem + v[i].name_off;
		m->value = out->mem + v[i].value_off;
		m->op = v[i].op;
		if ((m->op == MATCH_RE || m->op == MATCH_NRE) && compile(m, e)) {
			selector_free(out);
			free(v);
			return -1;
		}
	}
	free(v);
	return 0;
fail:
	buf_release(&mem);
	free(v);
	return -1;
}

void selector_free(struct selector *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (s->m[i].re) {
			regfree(s->m[i].re);
			free(s->m[i].re);
		}
	free(s->m);
	free(s->mem);
	memset(s, 0, sizeof(*s));
}

static const char *lookup(const struct label_pair *labels, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(labels[mid].name, name);
		if (!c)
			return labels[mid].value;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return "";
}

bool selector_match(const struct selector *s, const struct label_pair *labels, size_t n)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct label_matcher *m = &s->m[i];
		const char *v = lookup(labels, n, m->name);
		bool ok;

		switch (m->op) {
		case MATCH_EQ: ok = !strcmp(v, m->value); break;
		case MATCH_NEQ: ok = strcmp(v, m->value) != 0; break;
		case MATCH_RE: ok = regexec(m->re, v, 0, NULL, 0) == 0; break;
		default: ok = regexec(m->re, v, 0, NULL, 0) != 0; break;
		}
		if (!ok)
			return false;
	}
	return true;
}

int profile_type_parse(const char *id, struct profile_type *out, char **mem, struct err *e)
{
	char *copy = xstrdup(id), *parts[6];
	size_t n = 0;

	*mem = NULL;
	parts[n++] = copy;
	for (char *c = copy; *c; c++)
		if (*c == ':') {
			if (n == 6) {
				n = 7;
				break;
			}
			*c = 0;
			parts[n++] = c + 1;
		}
	if (n < 5 || n > 6) {
		free(copy);
		return err_set(e, "profile-type selection must be of the form "
			       "<name>:<sample-type>:<sample-unit>:<period-type>:<period-unit>(:delta), got '%s'", id);
	}
	out->name = parts[0];
	out->sample_type = parts[1];
	out->sample_unit = parts[2];
	out->period_type = parts[3];
	out->period_unit = parts[4];
	*mem = copy;
	return 0;
}
