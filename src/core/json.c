/* Streaming JSON writer. */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(struct jw *j, struct buf *out, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->pretty = pretty;
	j->first[0] = true;
}

static void newline(struct jw *j)
{
	if (!j->pretty)
		return;
	buf_addch(j->out, '\n');
	for (int i = 0; i < j->depth; i++)
		buf_add(j->out, "  ", 2);
}

/* Separates a new value from the previous one. */
static void value_prefix(struct jw *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth == 0)
		return;
	if (!j->first[j->depth])
		buf_addch(j->out, ',');
	j->first[j->depth] = false;
	newline(j);
}

static void open_scope(struct jw *j, char c)
{
	value_prefix(j);
	buf_addch(j->out, c);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_scope(struct jw *j, char c)
{
	bool empty = j->first[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (!empty)
		newline(j);
	buf_addch(j->out, c);
	if (j->depth == 0 && j->pretty)
		buf_addch(j->out, '\n');
}

void jw_object_begin(struct jw *j) { open_scope(j, '{'); }
void jw_object_end(struct jw *j) { close_scope(j, '}'); }
void jw_array_begin(struct jw *j) { open_scope(j, '['); }
void jw_array_end(struct jw *j) { close_scope(j, ']'); }

void jw_key(struct jw *j, const char *key)
{
	value_prefix(j);
	jw_escape(j->out, key, strlen(key));
	buf_add(j->out, j->pretty ? ": " : ":", j->pretty ? 2 : 1);
	j->after_key = true;
}

void jw_escape(struct buf *b, const char *str, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	buf_grow(b, len + 2);
	buf_addch(b, '"');
	while (i < len) {
		unsigned char c = s[i];
		size_t n = 1;

		if (c == '"' || c == '\\') {
			buf_addch(b, '\\');
			buf_addch(b, c);
		} else if (c < 0x20) {
			switch (c) {
			case '\n': buf_add(b, "\\n", 2); break;
			case '\t': buf_add(b, "\\t", 2); break;
			case '\r': buf_add(b, "\\r", 2); break;
			default:
				buf_add(b, "\\u00", 4);
				buf_addch(b, hex[c >> 4]);
				buf_addch(b, hex[c & 15]);
			}
		} else if (c < 0x80) {
			/* "</" could end a <script> block when JSON is embedded in HTML. */
			if (c == '/' && i > 0 && s[i - 1] == '<')
				buf_add(b, "\\/", 2);
			else
				buf_addch(b, c);
		} else {
			/* Copy a valid UTF-8 sequence; anything else becomes U+FFFD. */
			n = utf8_valid(s + i, len - i);
			if (n)
				buf_add(b, s + i, n);
			else {
				buf_add(b, "\xef\xbf\xbd", 3);
				n = 1;
			}
		}
		i += n;
	}
	buf_addch(b, '"');
}

void jw_string_len(struct jw *j, const char *s, size_t len)
{
	value_prefix(j);
	jw_escape(j->out, s, len);
}

void jw_string(struct jw *j, const char *s)
{
	if (!s) {
		jw_null(j);
		return;
	}
	jw_string_len(j, s, strlen(s));
}

void jw_int(struct jw *j, int64_t v)
{
	value_prefix(j);
	buf_addf(j->out, "%lld", (long long)v);
}

void jw_uint(struct jw *j, uint64_t v)
{
	value_prefix(j);
	buf_addf(j->out, "%llu", (unsigned long long)v);
}

void jw_double(struct jw *j, double v)
{
	char tmp[64];

	value_prefix(j);
	if (!isfinite(v)) {
		buf_add(j->out, "null", 4);
		return;
	}
	/* The shortest of %.15g / %.17g that reads back exactly. */
	snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	buf_adds(j->out, tmp);
}

void jw_bool(struct jw *j, bool v)
{
	value_prefix(j);
	buf_adds(j->out, v ? "true" : "false");
}

void jw_null(struct jw *j)
{
	value_prefix(j);
	buf_add(j->out, "null", 4);
}

void jw_kv_str(struct jw *j, const char *key, const char *s)
{
	jw_key(j, key);
	jw_string(j, s);
}

void jw_kv_i64(struct jw *j, const char *key, int64_t v)
{
	jw_key(j, key);
	jw_int(j, v);
}

void jw_kv_u64(struct jw *j, const char *key, uint64_t v)
{
	jw_key(j, key);
	jw_uint(j, v);
}

void jw_kv_double(struct jw *j, const char *key, double v)
{
	jw_key(j, key);
	jw_double(j, v);
}

void jw_kv_bool(struct jw *j, const char *key, bool v)
{
	jw_key(j, key);
	jw_bool(j, v);
}

void jw_kv_null(struct jw *j, const char *key)
{
	jw_key(j, key);
	jw_null(j);
}
