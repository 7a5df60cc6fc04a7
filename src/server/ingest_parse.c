/*
 * The decoders of POST /ingest (ingest.h): the name grammar (pyroscope.md 2.2), time values (2.1), multipart
 * forms (3.6) and gzip bodies (3.5). Every one takes untrusted bytes.
 */
#include "server/ingest.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "formats/gzip.h"

static bool service_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-' || c == '/';
}

static bool key_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

/* Trims blanks at both ends of [s, s+len) in place; returns the new start and sets `*len`. */
static char *trim(char *s, size_t *len)
{
	while (*len && isspace((unsigned char)*s)) {
		s++;
		(*len)--;
	}
	while (*len && isspace((unsigned char)s[*len - 1]))
		(*len)--;
	s[*len] = '\0';
	return s;
}

static int add_pair(struct ingest_name *out, char *key, size_t klen, char *val, size_t vlen, struct err *e)
{
	key = trim(key, &klen);
	val = trim(val, &vlen);
	if (!klen)
		return err_set(e, "label name is required");
	for (size_t i = 0; i < klen; i++)
		if (!key_char(key[i]))
			return err_set(e, "invalid label name '%s': character is not allowed", key);
	for (size_t i = 0; i < out->n; i++)
		if (!strcmp(out->labels[i].name, key)) {
			out->labels[i].value = val; /* a repeated key keeps its last value */
			return 0;
		}
	if (out->n == sizeof(out->labels) / sizeof(out->labels[0]))
		return err_set(e, "too many labels in the name");
	out->labels[out->n].name = key;
	out->labels[out->n++].value = val;
	return 0;
}

int ingest_parse_name(const char *name, struct ingest_name *out, struct err *e)
{
	char *s, *brace, *key = NULL, *val = NULL;
	size_t slen;

	memset(out, 0, sizeof(*out));
	if (!name)
		return err_set(e, "the name parameter is required");
	out->mem = s = xstrdup(name);
	brace = strchr(s, '{');
	slen = brace ? (size_t)(brace - s) : strlen(s);
	out->service = trim(s, &slen);
	if (!slen)
		return err_set(e, "service name is required");
	for (size_t i = 0; i < slen; i++)
		if (!service_char(out->service[i]))
			return err_set(e, "invalid service name '%s': character is not allowed", out->service);
	if (!brace)
		return 0;
	/* Keys run to '=', values to ',' or '}'; '}' ends the name and the rest is ignored (2.2). */
	key = brace + 1;
	for (char *p = key; *p; p++) {
		if (!val) {
			if (*p == '=') {
				*p = '\0';
				val = p + 1;
			} else if (*p == '}') {
				return 0; /* a key without '=': dropped */
			} else if (*p == ',') {
				key = p + 1; /* likewise */
			}
			continue;
		}
		if (*p == ',' || *p == '}') {
			bool end = *p == '}';

			if (add_pair(out, key, strlen(key), val, (size_t)(p - val), e))
				return -1;
			if (end)
				return 0;
			key = p + 1;
			val = NULL;
		}
	}
	return 0; /* a last pair not closed by ',' or '}' is dropped */
}

void ingest_name_release(struct ingest_name *n)
{
	free(n->mem);
	memset(n, 0, sizeof(*n));
}

/* Seconds of a relative-time unit, matched by prefix and case-sensitively as Pyroscope does (2.1). */
static int64_t unit_seconds(const char *u, size_t len)
{
	if (!len)
		return 0;
	if (u[0] == 's')
		return 1;
	if ((len >= 3 && !strncmp(u, "mon", 3)) || u[0] == 'M')
		return 30 * 86400;
	if (u[0] == 'm')
		return 60;
	if (u[0] == 'h')
		return 3600;
	if (u[0] == 'd')
		return 86400;
	if (u[0] == 'w')
		return 7 * 86400;
	if (u[0] == 'y')
		return 365 * 86400;
	return 0;
}

static int parse_relative(const char *s, int64_t now_ns, int64_t *out, struct err *e)
{
	const char *sign = strchr(s, '+');
	int64_t total = 0, neg;

	if (!sign)
		sign = strchr(s, '-');
	if (!sign) {
		*out = now_ns; /* "now" */
		return 0;
	}
	neg = *sign == '-' ? -1 : 1;
	for (const char *p = sign + 1; *p;) {
		int64_t n = 0;
		const char *u;

		if (!isdigit((unsigned char)*p))
			return err_set(e, "invalid time offset '%s'", s);
		for (; isdigit((unsigned char)*p); p++) {
			if (n > (INT64_MAX - 9) / 10)
				return err_set(e, "time offset '%s' is too large", s);
			n = n * 10 + (*p - '0');
		}
		for (u = p; *p && !isdigit((unsigned char)*p); p++)
			;
		if (__builtin_mul_overflow(n, unit_seconds(u, (size_t)(p - u)), &n) ||
		    __builtin_add_overflow(total, n, &total) || total > INT64_MAX / 1000000000LL)
			return err_set(e, "time offset '%s' is too large", s);
	}
	if (__builtin_add_overflow(now_ns, neg * total * 1000000000LL, out))
		return err_set(e, "time offset '%s' is too large", s);
	return 0;
}

int ingest_parse_time(const char *in, int64_t now_ns, int64_t *out, struct err *e)
{
	char s[64];
	size_t n = 0, digits = 0;
	int64_t v = 0;

	if (!in) {
		*out = now_ns;
		return 0;
	}
	for (const char *p = in; *p; p++) {
		if (*p == '_' || *p == ',' || isspace((unsigned char)*p))
			continue;
		if (n + 1 >= sizeof(s))
			return err_set(e, "time value is too long");
		s[n++] = *p;
		digits += isdigit((unsigned char)*p) != 0;
	}
	s[n] = '\0';
	if (!n) {
		*out = now_ns;
		return 0;
	}
	if (digits != n)
		return parse_relative(s, now_ns, out, e);
	if (n > 19)
		return err_set(e, "time value '%s' is out of range", s);
	for (size_t i = 0; i < n; i++) {
		if (v > (INT64_MAX - 9) / 10)
			return err_set(e, "time value '%s' is out of range", s);
		v = v * 10 + (s[i] - '0');
	}
	if (n == 8 && v / 10000 > 1900 && v / 100 % 100 >= 1 && v / 100 % 100 <= 12 && v % 100 >= 1 && v % 100 <= 31) {
		struct tm tm = { .tm_year = (int)(v / 10000) - 1900, .tm_mon = (int)(v / 100 % 100) - 1,
				 .tm_mday = (int)(v % 100) };
		*out = (int64_t)timegm(&tm) * 1000000000LL;
		return 0;
	}
	switch (n) {
	case 13: *out = v * 1000000; return 0;
	case 16: *out = v * 1000; return 0;
	case 19: *out = v; return 0;
	default:
		if (v > INT64_MAX / 1000000000LL)
			return err_set(e, "time value '%s' is out of range", s);
		*out = v * 1000000000LL;
		return 0;
	}
}

/* ---- multipart/form-data ------------------------------------------------------------------------------------ */

/* The boundary parameter of a Content-Type, unquoted, into `out`; -1 when absent or too long. */
static int boundary_of(const char *ct, char *out, size_t max)
{
	const char *b = ct ? strcasestr(ct, "boundary=") : NULL;
	size_t n = 0;

	if (!b)
		return -1;
	b += 9;
	if (*b == '"') {
		for (b++; b[n] && b[n] != '"'; n++)
			;
	} else {
		for (; b[n] && b[n] != ';' && !isspace((unsigned char)b[n]); n++)
			;
	}
	if (!n || n + 1 > max || n > 70)
		return -1;
	memcpy(out, b, n);
	out[n] = '\0';
	return 0;
}

/* The name="..." of a part's headers [h, h+len). */
static void part_name(const unsigned char *h, size_t len, char *out, size_t max)
{
	const unsigned char *end = h + len;

	out[0] = '\0';
	for (const unsigned char *p = h; p + 6 <= end; p++) {
		size_t n = 0;

		if (memcmp(p, "name=\"", 6) || (p > h && p[-1] != ' ' && p[-1] != ';'))
			continue;
		for (p += 6; p + n < end && p[n] != '"' && n + 1 < max; n++)
			out[n] = (char)p[n];
		out[n] = '\0';
		return;
	}
}

int multipart_parse(const char *content_type, const unsigned char *body, size_t len, struct multipart_part *parts,
		    size_t max, size_t *n, struct err *e)
{
	char boundary[80], delim[88];
	size_t dlen;
	const unsigned char *p, *end = body + len;

	*n = 0;
	if (boundary_of(content_type, boundary, sizeof(boundary)))
		return err_set(e, "multipart body without a valid boundary");
	dlen = (size_t)snprintf(delim, sizeof(delim), "--%s", boundary);
	/* The first delimiter may start the body or follow a preamble line. */
	p = memmem(body, len, delim, dlen);
	if (!p)
		return err_set(e, "malformed multipart body: no boundary");
	for (;;) {
		const unsigned char *hdr, *hend, *next;

		p += dlen;
		if ((size_t)(end - p) >= 2 && p[0] == '-' && p[1] == '-')
			return 0; /* the closing delimiter */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(end - p) < 2 || p[0] != '\r' || p[1] != '\n')
			return err_set(e, "malformed multipart body: bad delimiter line");
		hdr = p + 2;
		hend = memmem(hdr, (size_t)(end - hdr), "\r\n\r\n", 4);
		if (!hend)
			return err_set(e, "malformed multipart body: truncated part headers");
		next = memmem(hend + 4, (size_t)(end - hend - 4), delim, dlen);
		if (!next || next < hend + 6 || next[-2] != '\r' || next[-1] != '\n')
			return err_set(e, "malformed multipart body: a part is not closed");
		if (*n == max)
			return err_set(e, "multipart body has more than %zu parts", max);
		part_name(hdr, (size_t)(hend - hdr), parts[*n].name, sizeof(parts[*n].name));
		parts[*n].data = hend + 4;
		parts[*n].len = (size_t)(next - 2 - (hend + 4));
		(*n)++;
		p = next;
	}
}

int ingest_inflate(const unsigned char *body, size_t len, size_t max, struct buf *scratch, const unsigned char **data,
		   size_t *dlen, struct err *e)
{
	if (!gzip_is(body, len)) {
		*data = body;
		*dlen = len;
		return 0;
	}
	buf_reset(scratch);
	/* The limit applies while inflating: a gzip bomb stops at `max` bytes, whatever it would expand to. */
	if (gzip_inflate(body, len, max, false, scratch, e)) {
		if (scratch->len > max) {
			err_set(e, "decompressed profile is larger than %zu bytes", max);
			return 413;
		}
		err_wrap(e, "invalid gzip body");
		return 400;
	}
	*data = (const unsigned char *)scratch->buf;
	*dlen = scratch->len;
	return 0;
}
