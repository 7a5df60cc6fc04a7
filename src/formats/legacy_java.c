/*
 * pprof-java: pprof's legacy Java profiles (google/pprof profile/legacy_java_profile.go), read as pprof does:
 *
 *   CPU         binary words of 32 or 64 bits in either byte order: the header 0, 3, 1 (Java), period (us), 0;
 *               records (count, depth, addresses leaf first) up to the 0, 1, 0 trailer; then location lines.
 *               Sample types samples/count and cpu/nanoseconds.
 *   heapz       "--- heapz 1 ---", "key = value" attributes (format = java, resolution = UNIT), records
 *               "bytes count @ addrs" (the values are reversed against the C++ formats), unsampled with Java's
 *               fixed 512 KiB rate: inuse_objects/count and inuse_space/UNIT.
 *   contentionz "--- contentionz 1 ---" with format = java: contentions/count and delay/UNIT, both multiplied by
 *               the sampling period.
 *
 * Location lines "0xADDR function (File.java:LINE)" name the addresses; pprof then merges locations by name,
 * which the model does too, since a Java frame is its function, file and line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/err.h"
#include "../profile/profile.h"
#include "format.h"
#include "legacy_common.h"

struct jword {
	unsigned size;
	bool big;
};

static uint64_t jword_get(const unsigned char *d, const struct jword *w)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < w->size; i++)
		v |= (uint64_t)d[i] << (w->big ? (w->size - 1 - i) * 8 : i * 8);
	return v;
}

/* pprof's order of trials: 32-bit little, 32-bit big, 64-bit little, 64-bit big. */
static bool jcpu_detect(const unsigned char *d, size_t len, struct jword *out)
{
	static const struct jword ws[] = { { 4, false }, { 4, true }, { 8, false }, { 8, true } };

	for (size_t i = 0; i < sizeof(ws) / sizeof(ws[0]); i++) {
		const struct jword *w = &ws[i];

		if (len < 5 * w->size)
			continue;
		if (jword_get(d, w) == 0 && jword_get(d + w->size, w) == 3 && jword_get(d + 2 * w->size, w) == 1 &&
		    jword_get(d + 3 * w->size, w) > 0 && jword_get(d + 4 * w->size, w) == 0) {
			*out = *w;
			return true;
		}
	}
	return false;
}

static bool jtext_header(const char *s, size_t n, bool *heap)
{
	ltrim(&s, &n);
	if (n == 15 && !memcmp(s, "--- heapz 1 ---", 15)) {
		*heap = true;
		return true;
	}
	if (n == 21 && !memcmp(s, "--- contentionz 1 ---", 21)) {
		*heap = false;
		return true;
	}
	return false;
}

/* pprof's attribute expression "([\w ]+)=([\w ]+)": key and value trimmed. */
static bool jattr(const char *s, size_t n, const char **k, size_t *kl, const char **v, size_t *vl)
{
	const char *eq = memchr(s, '=', n);

	if (!eq || eq == s)
		return false;
	*k = s;
	*kl = (size_t)(eq - s);
	*v = eq + 1;
	*vl = (size_t)(s + n - *v);
	ltrim(k, kl);
	ltrim(v, vl);
	for (size_t i = 0; i < *kl; i++)
		if (!((*k)[i] == ' ' || (*k)[i] == '_' || (((*k)[i] | 0x20) >= 'a' && ((*k)[i] | 0x20) <= 'z') ||
		      ((*k)[i] >= '0' && (*k)[i] <= '9')))
			return false;
	return *kl && *vl;
}

static int jprobe(const unsigned char *head, size_t len)
{
	struct jword w;
	struct lcursor cur;
	const char *line;
	size_t n;
	bool heap;

	if (jcpu_detect(head, len, &w))
		return 95;
	if (memchr(head, '\0', len))
		return 0;
	lcursor_init(&cur, head, len);
	if (!lcursor_next(&cur, &line, &n) || !jtext_header(line, n, &heap))
		return 0;
	if (heap)
		return 95;
	/* A contentionz profile is Java's when its attributes say so; else it is gperftools' (legacy_text.c). */
	while (lcursor_next(&cur, &line, &n)) {
		const char *k, *v;
		size_t kl, vl;

		ltrim(&line, &n);
		if (!n)
			continue;
		if (!jattr(line, n, &k, &kl, &v, &vl))
			return 0;
		if ((kl == 6 && !memcmp(k, "format", 6)) || (kl == 10 && !memcmp(k, "resolution", 10)))
			return 95;
	}
	return 0;
}

/* Names the addresses from "0xADDR function (file:line)" lines (pprof's parseJavaLocations). */
static void jlocations(struct legacy_ctx *c, const char *s, const char *end)
{
	struct lcursor cur;
	const char *line;
	size_t n;

	lcursor_init(&cur, s, (size_t)(end - s));
	while (lcursor_next(&cur, &line, &n)) {
		const char *p, *q, *fn, *file = NULL, *lp, *colon;
		size_t fnl, filel = 0;
		uint64_t addr = 0;
		int64_t ln = 0;
		struct frame f = { 0 };

		ltrim(&line, &n);
		if (n < 4 || memcmp(line, "0x", 2))
			continue;
		for (p = line + 2; p < line + n && strchr("0123456789abcdefABCDEF", *p) && *p; p++) {
			if (addr >> 60)
				break;
			addr = addr << 4 | (uint64_t)(*p <= '9' ? *p - '0' : (*p | 0x20) - 'a' + 10);
		}
		if (p == line + 2 || p == line + n || (*p != ' ' && *p != '\t'))
			continue;
		fn = p;
		fnl = (size_t)(line + n - p);
		ltrim(&fn, &fnl);
		if (!fnl)
			continue;
		/* "function (file:line)", "function (path/lib.so)", a JIT stub, or a VM state such as "GC". */
		if (fn[fnl - 1] == ')' && (lp = memrchr(fn, '(', fnl)) && lp > fn && (lp[-1] == ' ' || lp[-1] == '\t')) {
			file = lp + 1;
			filel = (size_t)(fn + fnl - 1 - file);
			colon = memrchr(file, ':', filel);
			q = colon ? colon + 1 : NULL;
			if (colon && colon > file && q < file + filel && lparse_dec(&q, file + filel, true, &ln) &&
			    q == file + filel) {
				filel = (size_t)(colon - file);
			} else {
				const char *slash = memrchr(file, '/', filel);

				ln = 0;
				if (slash) {
					filel -= (size_t)(slash + 1 - file);
					file = slash + 1;
				}
			}
			fnl = (size_t)(lp - fn);
			ltrim(&fn, &fnl);
		} else if (lfind(fn, fnl, "generated stub/JIT")) {
			fn = "STUB";
			fnl = 4;
		}
		f.function = profile_intern(c->p, fn, fnl);
		f.file = filel ? profile_intern(c->p, file, filel) : 0;
		f.line = ln > 0 && ln < UINT32_MAX ? (uint32_t)ln : 0;
		f.kind = FRAME_JAVA;
		if (addr != U64MAP_EMPTY && !u64map_find(&c->named, addr))
			legacy_name_addr(c, addr, profile_frame(c->p, &f));
	}
}

static int jcpu_read(struct profile *p, const unsigned char *d, size_t len, const struct jword *w, struct err *e)
{
	struct legacy_ctx c;
	size_t pos = 5 * w->size, ws = w->size;
	uint64_t period = jword_get(d + 3 * ws, w);
	int ret = -1;

	legacy_ctx_init(&c, p);
	profile_add_column(p, "samples", "count");
	profile_add_column(p, "cpu", "nanoseconds");
	p->period_type = p->columns[1];
	p->period = period > INT64_MAX / 1000 ? INT64_MAX : (int64_t)period * 1000;
	p->default_column = -1;
	/* The location lines follow the records: find the trailer first. */
	size_t scan = pos;
	bool trailer = false;
	while (len - scan >= 2 * ws) {
		uint64_t count = jword_get(d + scan, w), depth = jword_get(d + scan + ws, w);

		if (depth > (len - scan - 2 * ws) / ws) {
			err_set(e, "truncated record at byte %zu", scan);
			goto out;
		}
		scan += (2 + depth) * ws;
		if (count == 0 && depth == 1 && jword_get(d + scan - ws, w) == 0) {
			trailer = true;
			break;
		}
	}
	if (!trailer) {
		err_set(e, "no end-of-data record (truncated?)");
		goto out;
	}
	if (memchr(d + scan, '\0', len - scan)) {
		err_set(e, "binary data where the location lines should be");
		goto out;
	}
	jlocations(&c, (const char *)d + scan, (const char *)d + len);
	while (pos < scan - 3 * ws) {
		uint64_t count = jword_get(d + pos, w), depth = jword_get(d + pos + ws, w);
		int64_t vals[2];

		for (uint64_t i = 0; i < depth; i++)
			legacy_push_addr(&c, jword_get(d + pos + (2 + i) * ws, w));
		vals[0] = count > INT64_MAX ? INT64_MAX : (int64_t)count;
		if (__builtin_mul_overflow(vals[0], p->period, &vals[1]))
			vals[1] = INT64_MAX;
		legacy_commit(&c, vals, 0);
		pos += (2 + depth) * ws;
	}
	ret = 0;
out:
	legacy_ctx_release(&c);
	return ret;
}

static int jtext_read(struct profile *p, const char *s, size_t len, struct err *e)
{
	struct legacy_ctx c;
	struct lcursor cur;
	const char *line, *end = s + len;
	size_t n;
	bool heap, attrs = true, have = false;
	int64_t period = 0;
	uint32_t unit = 0;
	int ret = -1;

	legacy_ctx_init(&c, p);
	lcursor_init(&cur, s, len);
	lcursor_next(&cur, &line, &n);
	jtext_header(line, n, &heap);
	/* The location lines may sit anywhere after the records: name addresses first. */
	jlocations(&c, s, end);
	while ((have = lcursor_next(&cur, &line, &n))) {
		const char *k, *v, *q;
		size_t kl, vl;
		int64_t a, b;

		ltrim(&line, &n);
		if (!n)
			continue;
		if (attrs && jattr(line, n, &k, &kl, &v, &vl)) {
			bool num;

			q = v;
			num = lparse_dec(&q, v + vl, false, &a) && q == v + vl;
#define KEY(x) (kl == strlen(x) && !memcmp(k, x, kl))
			if (KEY("format")) {
				if (vl != 4 || memcmp(v, "java", 4)) {
					err_set(e, "line %llu: format '%.*s' is not java", (unsigned long long)cur.lineno,
						(int)(vl > 40 ? 40 : vl), v);
					goto out;
				}
			} else if (KEY("resolution")) {
				unit = profile_intern(p, v, vl);
			} else if (!heap && KEY("sampling period") && num) {
				period = a;
			} else if (!heap && KEY("ms since reset") && num) {
				p->duration_nanos = a > INT64_MAX / 1000000 ? 0 : a * 1000000;
			} else {
				err_set(e, "line %llu: unknown attribute '%.*s'", (unsigned long long)cur.lineno,
					(int)(kl > 40 ? 40 : kl), k);
				goto out;
			}
#undef KEY
			continue;
		}
		if (attrs) {
			attrs = false;
			if (!unit) {
				err_set(e, "no 'resolution' attribute: the unit of the values is unknown");
				goto out;
			}
			profile_add_column(p, heap ? "inuse_objects" : "contentions", "count");
			profile_add_column(p, heap ? "inuse_space" : "delay", profile_str(p, unit));
			p->default_column = -1;
			if (!heap) {
				p->period_type = p->columns[0];
				p->period = period;
			}
		}
		/* " *(\d+) +(\d+) +@ +addrs"; anything else ends the records. */
		q = line;
		if (!lparse_dec(&q, line + n, false, &a) || q == line + n || *q != ' ')
			break;
		while (q < line + n && *q == ' ')
			q++;
		if (!lparse_dec(&q, line + n, false, &b) || q == line + n || *q != ' ')
			break;
		while (q < line + n && *q == ' ')
			q++;
		if (q == line + n || *q != '@')
			break;
		if (legacy_hex_list(&c, q, (size_t)(line + n - q), e))
			goto out;
		int64_t vals[2] = { b, a };
		if (heap) {
			if (!vals[0]) {
				err_set(e, "line %llu: a heap record with 0 objects", (unsigned long long)cur.lineno);
				goto out;
			}
			legacy_scale_heap(&vals[0], &vals[1], 524288);
		} else if (period && (__builtin_mul_overflow(vals[0], period, &vals[0]) ||
				      __builtin_mul_overflow(vals[1], period, &vals[1]))) {
			err_set(e, "line %llu: values overflow", (unsigned long long)cur.lineno);
			goto out;
		}
		for (size_t i = 0; i < c.addrs_nr; i++)
			legacy_push_addr(&c, (uint64_t)c.addrs[i]);
		legacy_commit(&c, vals, 0);
	}
	if (attrs)
		err_set(e, "no records");
	else
		ret = 0;
out:
	legacy_ctx_release(&c);
	return ret;
}

static int jread(struct profile *p, struct input *in, const struct format_read_opts *o, struct err *e)
{
	const unsigned char *d;
	size_t len;
	struct jword w;
	int ret;

	if (input_read_all(in, &d, &len, e))
		return -1;
	if (jcpu_detect(d, len, &w)) {
		ret = jcpu_read(p, d, len, &w, e);
	} else {
		struct lcursor cur;
		const char *line;
		size_t n;
		bool heap;

		lcursor_init(&cur, d, len);
		if (memchr(d, '\0', len) || !lcursor_next(&cur, &line, &n) || !jtext_header(line, n, &heap))
			return err_set(e, "not a pprof Java profile (binary CPU, heapz or contentionz)");
		ret = jtext_read(p, (const char *)d, len, e);
	}
	if (!ret && !p->rows_nr)
		ret = err_set(e, "the profile has no samples");
	return ret;
}

const struct format format_pprof_java = {
	.name = "pprof-java",
	.description = "pprof's legacy Java profiles: binary CPU (32/64-bit words), heapz and contentionz text",
	.extensions = NULL,
	.probe = jprobe,
	.read = jread,
	.write = NULL,
};
