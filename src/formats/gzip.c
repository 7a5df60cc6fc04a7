/* gzip through zlib (see gzip.h): pprof files are gzip-compressed protobuf. */
#include "gzip.h"

#include <stdint.h>
#include <string.h>

#include <zlib.h>

#include "../core/buf.h"
#include "../core/err.h"

bool gzip_is(const unsigned char *d, size_t len)
{
	return len >= 2 && d[0] == 0x1f && d[1] == 0x8b;
}

int gzip_inflate(const unsigned char *in, size_t in_len, size_t max, bool partial, struct buf *out,
		       struct err *e)
{
	z_stream zs;
	int ret = -1, zr;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 32) != Z_OK)
		return err_set(e, "cannot start zlib decompression");
	zs.next_in = (unsigned char *)in;
	for (;;) {
		size_t chunk = in_len - (size_t)(zs.next_in - in);
		if (chunk > UINT32_MAX)
			chunk = UINT32_MAX;
		zs.avail_in = (unsigned)chunk;
		buf_grow(out, 1 << 16);
		zs.next_out = (unsigned char *)out->buf + out->len;
		zs.avail_out = (unsigned)(out->alloc - out->len - 1 > UINT32_MAX ? UINT32_MAX
										: out->alloc - out->len - 1);
		size_t before = zs.avail_out, before_in = zs.avail_in;
		zr = inflate(&zs, Z_NO_FLUSH);
		if (zr == Z_BUF_ERROR && zs.avail_in && zs.avail_in == before_in && zs.avail_out == before)
			zr = Z_DATA_ERROR; /* no progress possible: never spin */
		buf_setlen(out, out->len + (before - zs.avail_out));
		if (out->len > max) {
			if (partial)
				break;
			err_set(e, "decompressed data is larger than %zu bytes", max);
			goto out;
		}
		if (zr == Z_STREAM_END) {
			/* Another gzip member may follow (as `cat a.gz b.gz` makes). */
			size_t left = in_len - (size_t)(zs.next_in - in);
			if (left >= 2 && gzip_is(zs.next_in, left)) {
				if (inflateReset(&zs) != Z_OK)
					break;
				continue;
			}
			break;
		}
		if (zr == Z_BUF_ERROR && zs.avail_in == 0 && (size_t)(zs.next_in - in) == in_len) {
			if (partial)
				break;
			err_set(e, "compressed data is truncated");
			goto out;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			if (partial)
				break;
			err_set(e, "corrupt compressed data: %s", zs.msg ? zs.msg : "inflate failed");
			goto out;
		}
	}
	ret = 0;
out:
	inflateEnd(&zs);
	return ret;
}

int gzip_deflate(const unsigned char *in, size_t len, struct buf *out, struct err *e)
{
	z_stream zs;
	int zr;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return err_set(e, "cannot start zlib compression");
	zs.next_in = (unsigned char *)in;
	do {
		size_t chunk = len - (size_t)(zs.next_in - in);
		zs.avail_in = chunk > UINT32_MAX ? UINT32_MAX : (unsigned)chunk;
		buf_grow(out, 1 << 16);
		size_t room = out->alloc - out->len - 1;
		zs.next_out = (unsigned char *)out->buf + out->len;
		zs.avail_out = room > UINT32_MAX ? UINT32_MAX : (unsigned)room;
		size_t before = zs.avail_out;
		bool last = (size_t)(zs.next_in - in) + zs.avail_in == len;
		zr = deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
		buf_setlen(out, out->len + (before - zs.avail_out));
		if (zr == Z_STREAM_ERROR) {
			deflateEnd(&zs);
			return err_set(e, "zlib compression failed");
		}
	} while (zr != Z_STREAM_END);
	deflateEnd(&zs);
	return 0;
}
