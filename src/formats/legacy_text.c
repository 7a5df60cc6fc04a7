/*
 * pprof-legacy: the text profiles that `go tool pprof` still reads (google/pprof profile/legacy_profile.go),
 * read with pprof's semantics so that every sample type totals what pprof shows:
 *
 *   heap        gperftools "heap profile: N: B [N: B] @ heapprofile" (not sampled), "@ heap_v2/RATE" and Go's
 *               "@ heap/2*RATE" (Poisson-sampled: each record is unsampled as pprof's scaleHeapSample does),
 *               "@ growthz" and "@ fragmentationz"; records "count: bytes [count: bytes] @ addrs".
 *               Sample types objects/space, or alloc_objects/alloc_space/inuse_objects/inuse_space when the
 *               header's bracket differs from the in-use pair.
 *   count       Go's "threadcreate profile: total N" / "goroutine profile: total N", records "count @ addrs".
 *   contention  "--- contentionz 1 ---" (gperftools), "--- mutex:" / "--- contention:" (Go): "key = value" header
 *               (cycles/second, sampling period, ms since reset), records "delay count @ addrs"; contentions and
 *               delay (nanoseconds) are scaled by the sampling period as pprof does.
 *   thread      "--- threadz 1 ---": one "--- Thread ID (name: N/TID) stack: ---" block per thread.
 *
 * Caller addresses are return addresses; like pprof they are moved back one byte onto the call. A memory map
 * section relates addresses to binaries (legacy_common.h); Go's "# 0xADDR func+0xOFF file:line" comments and
 * threadz's "0xADDR: name" lines name them. Deviations from pprof, which refuses these: a Go count record with no
 * addresses ("5 @", threads started before profiling) counts under a "[no stack]" frame, and a threadz profile
 * may end without a memory map. pprof reads negative heap counts; kiln refuses them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/err.h"
#include "../profile/profile.h"
#include "format.h"
#include "legacy_common.h"

enum ltext_kind { LT_NONE, LT_HEAP, LT_COUNT, LT_CONTENTION, LT_THREAD };

/* "--- Thread 7f79 (name: main/14748) stack: ---" */
static bool thread_start(const char *s, size_t n)
{
	const char *p = lfind(s, n, "--- Thread "), *end = s + n;

	if (!p)
		return false;
	p += 11;
	if (p == end || !strchr("0123456789abcdefABCDEF", *p))
		return false;
	while (p < end && *p && strchr("0123456789abcdefABCDEF", *p))
		p++;
	return lstarts(p, (size_t)(end - p), " (name: ") && lfind(p, (size_t)(end - p), ") stack: ---");
}

/* "--- threadz N ---" anywhere in the line. */
static bool threadz_start(const char *s, size_t n)
{
	const char *p = lfind(s, n, "--- threadz "), *end = s + n;

	if (!p)
		return false;
	p += 12;
	if (p == end || *p < '0' || *p > '9')
		return false;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return lstarts(p, (size_t)(end - p), " ---");
}

/* "^(\S+) profile: total \d+$"; the type's length goes to *tl. */
static bool count_start(const char *s, size_t n, size_t *tl)
{
	const char *sp = memchr(s, ' ', n), *p;
	int64_t v;

	if (!sp || sp == s || memchr(s, '\t', (size_t)(sp - s)) || !lstarts(sp, (size_t)(s + n - sp), " profile: total "))
		return false;
	p = sp + 16;
	if (!lparse_dec(&p, s + n, false, &v) || p != s + n)
		return false;
	*tl = (size_t)(sp - s);
	return true;
}

static bool contention_start(const char *s, size_t n)
{
	return lstarts(s, n, "--- contentionz ") || lstarts(s, n, "--- mutex:") || lstarts(s, n, "--- contention:");
}

/* Contention headers with "format" or "resolution" keys are Java's (legacy_java.c). */
static bool contention_is_java(const char *s, const char *end)
{
	struct lcursor cur;
	const char *line;
	size_t n;

	lcursor_init(&cur, s, (size_t)(end - s));
	lcursor_next(&cur, &line, &n);
	while (lcursor_next(&cur, &line, &n)) {
		const char *eq;

		ltrim(&line, &n);
		if (!n || line[0] == '#')
			continue;
		if (lstarts(line, n, "---") || !(eq = memchr(line, '=', n)))
			return false;
		size_t kl = (size_t)(eq - line);
		ltrim(&line, &kl);
		if ((kl == 6 && !memcmp(line, "format", 6)) || (kl == 10 && !memcmp(line, "resolution", 10)))
			return true;
	}
	return false;
}

static enum ltext_kind classify(const char *s, size_t len)
{
	struct lcursor cur;
	const char *line, *end = s + len;
	size_t n, tl;

	lcursor_init(&cur, s, len);
	if (!lcursor_next(&cur, &line, &n))
		return LT_NONE;
	/* The heap and contention headers must be the first line, as for pprof. */
	if (lfind(line, n, "heap profile:"))
		return LT_HEAP;
	if (contention_start(line, n))
		return contention_is_java(s, end) ? LT_NONE : LT_CONTENTION;
	while (lblank_or_comment(line, n))
		if (!lcursor_next(&cur, &line, &n))
			return LT_NONE;
	if (count_start(line, n, &tl))
		return LT_COUNT;
	if (threadz_start(line, n) || thread_start(line, n))
		return LT_THREAD;
	return LT_NONE;
}

static int ltext_probe(const unsigned char *head, size_t len)
{
	if (memchr(head, '\0', len))
		return 0;
	return classify((const char *)head, len) != LT_NONE ? 95 : 0;
}

struct ltext {
	struct legacy_ctx c;
	struct profile *p;
	struct lcursor cur;
	const char *end;
	uint32_t bytes_key;
};

/* The length of pprof's "[ x0-9a-f]*" address list at s. */
static size_t addr_span(const char *s, const char *end)
{
	const char *p = s;

	while (p < end && (*p == ' ' || *p == 'x' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
		p++;
	return (size_t)(p - s);
}

/* Pushes c.addrs, each moved back onto its call (all of them, or all but the leaf). */
static void push_addrs(struct ltext *r, bool keep_leaf)
{
	for (size_t i = 0; i < r->c.addrs_nr; i++) {
		uint64_t a = (uint64_t)r->c.addrs[i];

		legacy_push_addr(&r->c, (i || !keep_leaf) ? a - 1 : a);
	}
}

/* Parses "heap profile: N: B [ N: B ] @ KIND/RATE" (or growthz/fragmentationz). */
static int heap_header(struct ltext *r, const char *s, size_t n, bool *alloc, bool *v2, int64_t *period,
		       struct err *e)
{
	const char *p = lfind(s, n, "heap profile:") + 13, *end = s + n, *num[4];
	size_t nlen[4];
	int64_t v;

	for (int i = 0; i < 4; i++) {
		while (p < end && *p == ' ')
			p++;
		if (i == 2) {
			if (p == end || *p != '[')
				return err_set(e, "line 1: malformed heap profile header");
			p++;
			while (p < end && *p == ' ')
				p++;
		}
		num[i] = p;
		if (!lparse_dec(&p, end, false, &v))
			return err_set(e, "line 1: malformed heap profile header");
		nlen[i] = (size_t)(p - num[i]);
		while (p < end && *p == ' ')
			p++;
		if (i % 2 == 0) {
			if (p == end || *p != ':')
				return err_set(e, "line 1: malformed heap profile header");
			p++;
		}
	}
	if (p == end || *p != ']')
		return err_set(e, "line 1: malformed heap profile header");
	p++;
	while (p < end && *p == ' ')
		p++;
	if (p == end || *p != '@')
		return err_set(e, "line 1: malformed heap profile header");
	p++;
	while (p < end && *p == ' ')
		p++;
	*alloc = false;
	*v2 = false;
	*period = 1;
	if (lstarts(p, (size_t)(end - p), "growth") || lstarts(p, (size_t)(end - p), "fragmentation"))
		return 0;
	const char *kind = p;
	while (p < end && (*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
		p++;
	size_t kl = (size_t)(p - kind);
	*period = 0;
	if (p < end && *p == '/')
		p++;
	if (p < end && *p >= '0' && *p <= '9' && !lparse_dec(&p, end, false, period))
		return err_set(e, "line 1: heap profile sampling rate out of range");
	/* pprof compares the pairs as strings: an all-zero bracket means "not recorded". */
	*alloc = (nlen[2] != nlen[0] || memcmp(num[2], num[0], nlen[0])) && !(nlen[2] == 1 && num[2][0] == '0');
	*alloc = *alloc || ((nlen[3] != nlen[1] || memcmp(num[3], num[1], nlen[1])) && !(nlen[3] == 1 && num[3][0] == '0'));
	if ((kl == 8 && !memcmp(kind, "heapz_v2", 8)) || (kl == 7 && !memcmp(kind, "heap_v2", 7))) {
		*v2 = true;
	} else if (kl == 11 && !memcmp(kind, "heapprofile", 11)) {
		*period = 1;
	} else if (kl == 4 && !memcmp(kind, "heap", 4)) {
		/* Go writes twice its MemProfileRate here. */
		*v2 = true;
		*period /= 2;
	} else {
		return err_set(e, "line 1: unknown heap profile kind '%.*s'", (int)(kl > 40 ? 40 : kl), kind);
	}
	return 0;
}

/*
 * "count: bytes" at *p, unsampled with `rate` when sampled; *blocksize is set when count > 0. Returns -1 on a
 * syntax error, -2 with `e` set on impossible values.
 */
static int heap_pair(const char **p, const char *end, bool use, bool v2, int64_t rate, int64_t *out,
		     int64_t *blocksize, uint64_t lineno, struct err *e)
{
	int64_t count, size;

	while (*p < end && **p == ' ')
		(*p)++;
	if (!lparse_dec(p, end, true, &count))
		return -1;
	while (*p < end && **p == ' ')
		(*p)++;
	if (*p == end || **p != ':')
		return -1;
	(*p)++;
	while (*p < end && **p == ' ')
		(*p)++;
	if (!lparse_dec(p, end, true, &size))
		return -1;
	if (!use)
		return 0;
	if (count < 0 || size < 0) {
		err_set(e, "line %llu: negative heap record", (unsigned long long)lineno);
		return -2;
	}
	if (count == 0 && size != 0) {
		err_set(e, "line %llu: a heap record of %lld bytes in 0 objects", (unsigned long long)lineno,
			(long long)size);
		return -2;
	}
	if (count) {
		*blocksize = size / count;
		if (v2)
			legacy_scale_heap(&count, &size, rate);
	}
	out[0] = count;
	out[1] = size;
	return 0;
}

static int read_heap(struct ltext *r, struct err *e)
{
	struct profile *p = r->p;
	const char *line;
	size_t n;
	bool alloc = false, v2 = false;
	int64_t period;

	lcursor_next(&r->cur, &line, &n);
	if (heap_header(r, line, n, &alloc, &v2, &period, e))
		return -1;
	if (alloc) {
		/* Alloc before inuse, so that the default (last) column is inuse_space as in pprof. */
		profile_add_column(p, "alloc_objects", "count");
		profile_add_column(p, "alloc_space", "bytes");
		profile_add_column(p, "inuse_objects", "count");
		profile_add_column(p, "inuse_space", "bytes");
	} else {
		profile_add_column(p, "objects", "count");
		profile_add_column(p, "space", "bytes");
	}
	p->default_column = -1;
	p->period_type.type = profile_intern_str(p, "space");
	p->period_type.unit = profile_intern_str(p, "bytes");
	p->period = period;
	r->bytes_key = profile_intern_str(p, "bytes");

	while (lcursor_next(&r->cur, &line, &n)) {
		const char *q, *end, *at;
		int64_t vals[4], blocksize = 0;
		uint64_t ln = r->cur.lineno;
		struct label l = { 0 };
		int bad;

		ltrim(&line, &n);
		if (!n || line[0] == '#')
			continue;
		if (legacy_is_map_sentinel(line, n))
			break;
		q = line;
		end = line + n;
		/* In-use pair, then the bracketed alloc pair; alloc goes first in the columns. */
		bad = heap_pair(&q, end, true, v2, period, vals + (alloc ? 2 : 0), &blocksize, ln, e);
		if (!bad) {
			while (q < end && *q == ' ')
				q++;
			if (q == end || *q != '[')
				bad = -1;
		}
		if (!bad) {
			int64_t dummy[2], bs = blocksize;

			q++;
			bad = heap_pair(&q, end, alloc, v2, period, alloc ? vals : dummy, &bs, ln, e);
			/* pprof takes the in-use block size unless that pair is empty. */
			if (!bad && alloc && vals[2] == 0)
				blocksize = bs;
		}
		if (!bad) {
			while (q < end && *q == ' ')
				q++;
			if (q == end || *q != ']')
				bad = -1;
		}
		if (bad == -2)
			return -1;
		if (bad || !(at = memchr(q, '@', (size_t)(end - q)))) {
			err_set(e, "line %llu: not a heap profile record: '%.*s'", (unsigned long long)ln,
				(int)(n > 60 ? 60 : n), line);
			return -1;
		}
		at++;
		if (legacy_hex_list(&r->c, at, addr_span(at, end), e))
			return -1;
		push_addrs(r, false);
		l.key = r->bytes_key;
		l.num = blocksize;
		legacy_commit(&r->c, vals, profile_labelset(p, &l, 1));
	}
	return 0;
}

static int read_count(struct ltext *r, struct err *e)
{
	struct profile *p = r->p;
	const char *line;
	size_t n, tl;

	while (lcursor_next(&r->cur, &line, &n) && lblank_or_comment(line, n))
		;
	count_start(line, n, &tl);
	char type[128];
	snprintf(type, sizeof(type), "%.*s", (int)(tl < sizeof(type) ? tl : sizeof(type) - 1), line);
	profile_add_column(p, type, "count");
	p->period_type = p->columns[0];
	p->period = 1;
	while (lcursor_next(&r->cur, &line, &n)) {
		const char *q = line, *end = line + n;
		int64_t v;

		if (lblank_or_comment(line, n))
			continue;
		if (lstarts(line, n, "---"))
			break;
		if (!lparse_dec(&q, end, false, &v) || (size_t)(end - q) < 2 || memcmp(q, " @", 2))
			return err_set(e, "line %llu: not a '%s' profile record: '%.*s'", (unsigned long long)r->cur.lineno,
				       type, (int)(n > 60 ? 60 : n), line);
		q += 2;
		for (const char *x = q; x < end; x++)
			if (!strchr(" x0123456789abcdef", *x))
				return err_set(e, "line %llu: bad address list in '%.*s'", (unsigned long long)r->cur.lineno,
					       (int)(n > 60 ? 60 : n), line);
		if (legacy_hex_list(&r->c, q, (size_t)(end - q), e))
			return -1;
		push_addrs(r, false);
		legacy_commit(&r->c, &v, 0);
	}
	return 0;
}

static int read_contention(struct ltext *r, struct err *e)
{
	struct profile *p = r->p;
	const char *line = NULL;
	size_t n = 0;
	int64_t cpu_hz = 0, period = 1;
	bool have = false;

	profile_add_column(p, "contentions", "count");
	profile_add_column(p, "delay", "nanoseconds");
	p->period_type = p->columns[0];
	p->default_column = -1;
	lcursor_next(&r->cur, &line, &n);
	while ((have = lcursor_next(&r->cur, &line, &n))) {
		const char *eq, *v;
		size_t kl, vl;
		int64_t val;

		ltrim(&line, &n);
		if (!n || line[0] == '#')
			continue;
		if (lstarts(line, n, "---") || !(eq = memchr(line, '=', n)))
			break;
		kl = (size_t)(eq - line);
		ltrim(&line, &kl);
		v = eq + 1;
		vl = (size_t)(line + n - v);
		ltrim(&v, &vl);
		const char *vp = v;
		bool num = lparse_dec(&vp, v + vl, true, &val) && vp == v + vl;
#define KEY(k) (kl == strlen(k) && !memcmp(line, k, kl))
		if (KEY("discarded samples"))
			continue;
		if (!num && (KEY("cycles/second") || KEY("sampling period") || KEY("ms since reset")))
			return err_set(e, "line %llu: bad value '%.*s'", (unsigned long long)r->cur.lineno,
				       (int)(vl > 40 ? 40 : vl), v);
		if (KEY("cycles/second"))
			cpu_hz = val;
		else if (KEY("sampling period"))
			period = val;
		else if (KEY("ms since reset"))
			p->duration_nanos = val > INT64_MAX / 1000000 || val < 0 ? 0 : val * 1000000;
		else
			return err_set(e, "line %llu: unknown contention profile attribute '%.*s'",
				       (unsigned long long)r->cur.lineno, (int)(kl > 40 ? 40 : kl), line);
#undef KEY
	}
	p->period = period;
	for (; have; have = lcursor_next(&r->cur, &line, &n)) {
		const char *q, *end;
		int64_t delay, count, vals[2];

		ltrim(&line, &n);
		if (lstarts(line, n, "---"))
			break;
		if (!n || line[0] == '#')
			continue;
		q = line;
		end = line + n;
		if (!lparse_dec(&q, end, false, &delay))
			goto bad;
		while (q < end && *q == ' ')
			q++;
		if (!lparse_dec(&q, end, false, &count))
			goto bad;
		while (q < end && *q == ' ')
			q++;
		if (q == end || *q != '@')
			goto bad;
		q++;
		if (period > 0) {
			if (cpu_hz > 0) {
				double d = (double)delay * (double)period / ((double)cpu_hz / 1e9);

				delay = d >= 9.2e18 ? INT64_MAX : (int64_t)d;
			}
			if (__builtin_mul_overflow(count, period, &count))
				return err_set(e, "line %llu: contention count overflows", (unsigned long long)r->cur.lineno);
		}
		vals[0] = count;
		vals[1] = delay;
		if (legacy_hex_list(&r->c, q, addr_span(q, end), e))
			return -1;
		push_addrs(r, false);
		legacy_commit(&r->c, vals, 0);
		continue;
bad:
		return err_set(e, "line %llu: not a contention record: '%.*s'", (unsigned long long)r->cur.lineno,
			       (int)(n > 60 ? 60 : n), line);
	}
	return 0;
}

/* A threadz line "0xADDR: name" (after an optional "PC:") names its one address. */
static void thread_line(struct ltext *r, const char *s, size_t n, bool leaf)
{
	const char *p = s, *end = s + n, *colon;

	if (lstarts(p, n, "PC:"))
		p += 3;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	colon = memchr(p, ':', (size_t)(end - p));
	if (r->c.addrs_nr == 1 && lstarts(p, (size_t)(end - p), "0x") && colon && colon + 1 < end &&
	    strspn(p + 2, "0123456789abcdef") == (size_t)(colon - p - 2)) {
		const char *name = colon + 1;
		size_t nl = (size_t)(end - name);
		uint64_t a = (uint64_t)r->c.addrs[0];

		ltrim(&name, &nl);
		if (nl) {
			legacy_push_frame(&r->c, legacy_addr_frame(&r->c, leaf ? a : a - 1, name, nl));
			return;
		}
	}
	for (size_t i = 0; i < r->c.addrs_nr; i++)
		legacy_push_addr(&r->c, leaf && !i ? (uint64_t)r->c.addrs[i] : (uint64_t)r->c.addrs[i] - 1);
}

static int read_thread(struct ltext *r, struct err *e)
{
	struct profile *p = r->p;
	struct legacy_ctx *c = &r->c;
	const char *line = NULL;
	size_t n = 0;
	uint32_t last = UINT32_MAX;
	const int64_t one = 1;
	bool more;

	profile_add_column(p, "thread", "count");
	p->period_type = p->columns[0];
	p->period = 1;
	while ((more = lcursor_next(&r->cur, &line, &n)) && lblank_or_comment(line, n))
		;
	if (threadz_start(line, n))
		while ((more = lcursor_next(&r->cur, &line, &n)) && !legacy_is_map_sentinel(line, n) &&
		       !lstarts(line, n, "-"))
			;
	while (more && !legacy_is_map_sentinel(line, n)) {
		bool same = false;

		if (lstarts(line, n, "---- no stack trace for"))
			break;
		if (!thread_start(line, n))
			return err_set(e, "line %llu: expected a '--- Thread ...' line", (unsigned long long)r->cur.lineno);
		while ((more = lcursor_next(&r->cur, &line, &n))) {
			ltrim(&line, &n);
			if (!n)
				continue;
			if (lstarts(line, n, "---"))
				break;
			if (lfind(line, n, "same as previous thread")) {
				same = true;
				continue;
			}
			if (legacy_hex_list(c, line, n, e))
				return -1;
			thread_line(r, line, n, c->stack_nr == 0);
		}
		if (same) {
			/* Another thread with the previous one's stack. */
			c->stack_nr = 0;
			if (last != UINT32_MAX)
				profile_add_sample(p, last, 0, &one);
			continue;
		}
		/* pprof drops a leaf duplicated by the unwinder (the caller frame is the leaf moved back by one). */
		if (c->stack_nr > 1) {
			const struct frame *f0 = &p->frames[c->stack[0]], *f1 = &p->frames[c->stack[1]];

			if (f0->module == f1->module && f0->addr == f1->addr + 1) {
				memmove(c->stack + 1, c->stack + 2, (c->stack_nr - 2) * sizeof(*c->stack));
				c->stack_nr--;
			}
		}
		last = legacy_commit(c, &one, 0);
	}
	return 0;
}

static int ltext_read(struct profile *p, struct input *in, const struct format_read_opts *o, struct err *e)
{
	const unsigned char *data;
	size_t len;
	struct ltext r;
	int ret = -1;

	if (input_read_all(in, &data, &len, e))
		return -1;
	if (memchr(data, '\0', len))
		return err_set(e, "binary data, not a legacy text profile");
	memset(&r, 0, sizeof(r));
	r.p = p;
	legacy_ctx_init(&r.c, p);
	lcursor_init(&r.cur, data, len);
	r.end = (const char *)data + len;
	legacy_maps_find_and_parse(&r.c, (const char *)data, r.end);
	legacy_go_comments(&r.c, (const char *)data, r.end);
	switch (classify((const char *)data, len)) {
	case LT_HEAP:
		ret = read_heap(&r, e);
		break;
	case LT_COUNT:
		ret = read_count(&r, e);
		break;
	case LT_CONTENTION:
		ret = read_contention(&r, e);
		break;
	case LT_THREAD:
		ret = read_thread(&r, e);
		break;
	default:
		ret = err_set(e, "not a legacy pprof text profile (heap, growth, contention, threadz, or Go count)");
	}
	if (!ret && !p->rows_nr)
		ret = err_set(e, "the profile has no samples");
	legacy_ctx_release(&r.c);
	return ret;
}

const struct format format_pprof_legacy = {
	.name = "pprof-legacy",
	.description = "pprof's legacy text profiles: gperftools heap/growth/contention/threadz, Go heap and "
		       "threadcreate/goroutine text (debug=1)",
	.extensions = NULL,
	.probe = ltext_probe,
	.read = ltext_read,
	.write = NULL,
};
