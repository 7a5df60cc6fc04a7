/*
 * The packed vectors of the storage backends (store_impl.h): (id, value) pairs in the shorter of two forms,
 * varints or bit-packed, and the decoder of both.
 */
#include "server/store_impl.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xalloc.h"

/* ---- packed vectors ----------------------------------------------------------------------------------------- */

static void put_varint(struct buf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;

	do {
		tmp[n] = v & 0x7f;
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	buf_add(b, tmp, n);
}

static int get_varint(const unsigned char *d, size_t len, size_t *pos, uint64_t *v)
{
	uint64_t r = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*pos >= len)
			return -1;
		r |= (uint64_t)(d[*pos] & 0x7f) << shift;
		if (!(d[(*pos)++] & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -1;
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static uint64_t abs64(int64_t v)
{
	return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

/* ---- the bit-packed form -------------------------------------------------------------------------------- */

struct bits_out {
	struct buf *b;
	uint64_t acc;
	unsigned n; /* bits in acc */
};

static void put_bits(struct bits_out *w, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		w->acc |= ((v >> i) & 1) << w->n;
		if (++w->n == 64) {
			buf_add(w->b, &w->acc, 8);
			w->acc = 0;
			w->n = 0;
		}
	}
}

static void flush_bits(struct bits_out *w)
{
	for (unsigned i = 0; i < w->n; i += 8)
		buf_addch(w->b, (int)((w->acc >> i) & 0xff));
	w->acc = 0;
	w->n = 0;
}

struct bits_in {
	const unsigned char *d;
	size_t len, pos; /* pos in bits */
};

/*
 * The next `n` bits (n <= 64) without taking them: eight bytes at a time where nine remain (a byte at a time, then
 * bit by bit, decoding was a fifth of a week's merge), a byte at a time at the end.
 */
static int peek_bits(const struct bits_in *r, unsigned n, uint64_t *v)
{
	size_t byte = r->pos >> 3;
	unsigned off = (unsigned)(r->pos & 7);
	uint64_t out = 0;

	if (n > r->len * 8 - r->pos)
		return -1;
	if (byte + 9 <= r->len) {
		memcpy(&out, r->d + byte, 8);
		out = le64toh(out) >> off;
		if (off + n > 64)
			out |= (uint64_t)r->d[byte + 8] << (64 - off);
	} else {
		for (unsigned got = 0; got < n;) {
			size_t at = r->pos + got;
			unsigned o = (unsigned)(at & 7), take = 8 - o;

			if (take > n - got)
				take = n - got;
			out |= (uint64_t)((r->d[at >> 3] >> o) & ((1u << take) - 1)) << got;
			got += take;
		}
	}
	*v = n < 64 ? out & ((1ull << n) - 1) : out;
	return 0;
}

static int get_bits(struct bits_in *r, unsigned n, uint64_t *v)
{
	if (peek_bits(r, n, v))
		return -1;
	r->pos += n;
	return 0;
}

static unsigned bit_length(uint64_t v)
{
	return v ? 64 - (unsigned)__builtin_clzll(v) : 0;
}

#define RICE_ESCAPE 31 /* a quotient this large is written as the raw 64-bit delta instead */

/* A Rice code with parameter k: the quotient in unary, the remainder in k bits. */
static void put_rice(struct bits_out *w, uint64_t v, unsigned k)
{
	uint64_t q = v >> k;

	if (q >= RICE_ESCAPE) {
		put_bits(w, (1u << RICE_ESCAPE) - 1, RICE_ESCAPE);
		put_bits(w, v, 64);
		return;
	}
	put_bits(w, (1ull << q) - 1, (unsigned)q + 1); /* q ones, then a zero */
	put_bits(w, v, k);
}

static int get_rice(struct bits_in *r, unsigned k, uint64_t *v)
{
	size_t avail = r->len * 8 - r->pos;
	unsigned want = avail < RICE_ESCAPE ? (unsigned)avail : RICE_ESCAPE, q;
	uint64_t ones, rem;

	/* The quotient: the ones before the first zero (~ones has every bit above `want` set, so q <= want). */
	if (peek_bits(r, want, &ones))
		return -1;
	q = (unsigned)__builtin_ctzll(~ones);
	if (q == RICE_ESCAPE) {
		r->pos += RICE_ESCAPE;
		return get_bits(r, 64, v);
	}
	if (q == want) /* no zero before the end */
		return -1;
	r->pos += q + 1;
	if (get_bits(r, k, &rem))
		return -1;
	*v = ((uint64_t)q << k) | rem;
	return 0;
}

/*
 * The packed vector (store_impl.h). Bytes 0, 0 (a varint form would have a divisor of 0, which it never has),
 * then varints: the count n, the divisor g, the Rice parameter k of the ids' gaps, the bits per value b and
 * whether values are zigzagged (some are negative), the first id; then a bit stream, least significant bit
 * first: n - 1 gaps (each id minus the previous one, minus 1) Rice-coded, then n values over g in b bits each.
 * Ids local to a series are a few apart and CPU values a few dozen periods: 12 or 13 bits a pair, where
 * varints took 16. A vector with outliers (one huge value widens every value) keeps the varint form, which
 * store_unpack reads too: each vector takes the shorter of the two.
 */
static void pack_bits(struct buf *out, const int64_t *ids, const int64_t *values, size_t n)
{
	uint64_t g = 0, top = 0;
	unsigned __int128 gaps = 0;
	bool zigzag = false;
	unsigned k = 0, vb;
	struct bits_out w = { out, 0, 0 };

	for (size_t i = 0; i < n && g != 1; i++)
		g = gcd64(g, abs64(values[i]));
	if (!g || g > INT64_MAX)
		g = 1;
	for (size_t i = 0; i < n; i++) {
		zigzag |= values[i] < 0;
		if (i)
			gaps += (uint64_t)ids[i] - (uint64_t)ids[i - 1] - 1;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t q = values[i] / (int64_t)g;
		uint64_t u = zigzag ? ((uint64_t)q << 1) ^ (uint64_t)(q >> 63) : (uint64_t)q;

		top |= u;
	}
	/* Rice's parameter for a geometric spread of gaps: about log2 of their mean. */
	if (n > 1)
		gaps /= n - 1;
	k = gaps ? bit_length((uint64_t)gaps) - 1 : 0;
	vb = bit_length(top);
	buf_addch(out, 0);
	buf_addch(out, 0);
	put_varint(out, n);
	put_varint(out, g);
	put_varint(out, k);
	put_varint(out, vb << 1 | zigzag);
	put_varint(out, n ? (uint64_t)ids[0] : 0);
	for (size_t i = 1; i < n; i++)
		put_rice(&w, (uint64_t)ids[i] - (uint64_t)ids[i - 1] - 1, k);
	for (size_t i = 0; i < n; i++) {
		int64_t q = values[i] / (int64_t)g;

		put_bits(&w, zigzag ? ((uint64_t)q << 1) ^ (uint64_t)(q >> 63) : (uint64_t)q, vb);
	}
	flush_bits(&w);
}

/* The varint form: count, divisor, then per pair the id's gap and the value over the divisor (zigzag). */
static void pack_varints(struct buf *out, const int64_t *ids, const int64_t *values, size_t n)
{
	uint64_t g = 0;
	int64_t prev = 0;

	for (size_t i = 0; i < n && g != 1; i++)
		g = gcd64(g, abs64(values[i]));
	if (!g || g > INT64_MAX)
		g = 1;
	put_varint(out, n);
	put_varint(out, g);
	for (size_t i = 0; i < n; i++) {
		int64_t q = values[i] / (int64_t)g;

		put_varint(out, (uint64_t)ids[i] - (uint64_t)prev);
		put_varint(out, ((uint64_t)q << 1) ^ (uint64_t)(q >> 63));
		prev = ids[i];
	}
}

void store_pack(struct buf *out, const int64_t *ids, const int64_t *values, size_t n)
{
	struct buf bits = BUF_INIT;
	size_t start = out->len;

	pack_varints(out, ids, values, n);
	pack_bits(&bits, ids, values, n);
	if (bits.len < out->len - start) {
		buf_setlen(out, start);
		buf_add(out, bits.buf, bits.len);
	}
	buf_release(&bits);
}

static int cmp_pair(const void *a, const void *b)
{
	const int64_t *x = a, *y = b;

	return (x[0] > y[0]) - (x[0] < y[0]);
}

void store_pack_pairs(struct buf *out, int64_t (*pairs)[2], size_t n)
{
	int64_t *ids = xcalloc(n + 1, sizeof(*ids)), *values = xcalloc(n + 1, sizeof(*values));

	qsort(pairs, n, sizeof(*pairs), cmp_pair);
	for (size_t i = 0; i < n; i++) {
		ids[i] = pairs[i][0];
		values[i] = pairs[i][1];
	}
	store_pack(out, ids, values, n);
	free(ids);
	free(values);
}

/* The varint form (pack_varints). */
static int unpack_varints(const unsigned char *d, size_t len, int (*cb)(void *arg, int64_t id, int64_t value),
			  void *arg)
{
	uint64_t n, g, delta, zz;
	size_t pos = 0;
	int64_t id = 0, q, v;

	if (get_varint(d, len, &pos, &n) || get_varint(d, len, &pos, &g) || !g || g > INT64_MAX || n > len)
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		if (get_varint(d, len, &pos, &delta) || get_varint(d, len, &pos, &zz))
			return -1;
		id = (int64_t)((uint64_t)id + delta);
		q = (int64_t)(zz >> 1) ^ -(int64_t)(zz & 1);
		if (__builtin_mul_overflow(q, (int64_t)g, &v))
			return -1;
		if (cb(arg, id, v))
			return -1;
	}
	return pos == len ? 0 : -1;
}

int store_unpack(const unsigned char *d, size_t len, int (*cb)(void *arg, int64_t id, int64_t value), void *arg)
{
	uint64_t n, g, k, vbz, first, gap, u;
	size_t pos = 2;
	struct bits_in r;
	uint64_t *ids = NULL;
	int ret = -1;

	if (len < 2 || d[0] || d[1])
		return unpack_varints(d, len, cb, arg);
	if (get_varint(d, len, &pos, &n) || get_varint(d, len, &pos, &g) || get_varint(d, len, &pos, &k) ||
	    get_varint(d, len, &pos, &vbz) || get_varint(d, len, &pos, &first) || !g || g > INT64_MAX || k > 63 ||
	    (vbz >> 1) > 64)
		return -1;
	r = (struct bits_in){ d + pos, len - pos, 0 };
	/* Every pair after the first takes a bit at least (its gap's terminating zero). */
	if (n > r.len * 8 + 1)
		return -1;
	ids = malloc((n ? n : 1) * sizeof(*ids));
	if (!ids)
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		if (i && get_rice(&r, (unsigned)k, &gap))
			goto out;
		ids[i] = i ? ids[i - 1] + gap + 1 : first;
	}
	for (uint64_t i = 0; i < n; i++) {
		int64_t q, v;

		if (get_bits(&r, (unsigned)(vbz >> 1), &u))
			goto out;
		q = vbz & 1 ? (int64_t)(u >> 1) ^ -(int64_t)(u & 1) : (int64_t)u;
		if (__builtin_mul_overflow(q, (int64_t)g, &v) || cb(arg, (int64_t)ids[i], v))
			goto out;
	}
	/* Only the last byte's padding may remain, and it is zero. */
	ret = r.len * 8 - r.pos < 8 && (r.pos == r.len * 8 || !(d[pos + r.len - 1] >> (r.pos & 7))) ? 0 : -1;
out:
	free(ids);
	return ret;
}
