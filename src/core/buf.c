/* Growable NUL-terminated byte buffer. */
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "xalloc.h"

char buf_slopbuf[1];

void buf_init(struct buf *b, size_t hint)
{
	b->buf = buf_slopbuf;
	b->len = 0;
	b->alloc = 0;
	if (hint)
		buf_grow(b, hint);
}

void buf_release(struct buf *b)
{
	if (b->alloc)
		free(b->buf);
	buf_init(b, 0);
}

void buf_grow(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->len) {
		fprintf(stderr, "kiln: buffer size overflow\n");
		abort();
	}
	if (need <= b->alloc)
		return;
	if (!b->alloc)
		b->buf = NULL;
	b->alloc = b->alloc * 2 > need ? b->alloc * 2 : need;
	if (b->alloc < 64)
		b->alloc = 64;
	b->buf = xrealloc(b->buf, b->alloc);
	b->buf[b->len] = '\0';
}

void buf_setlen(struct buf *b, size_t len)
{
	if (!b->alloc) {
		if (len)
			buf_grow(b, len);
		else
			return;
	}
	b->len = len;
	b->buf[len] = '\0';
}

void buf_add(struct buf *b, const void *data, size_t len)
{
	if (!len)
		return;
	buf_grow(b, len);
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addch(struct buf *b, int c)
{
	buf_grow(b, 1);
	b->buf[b->len++] = (char)c;
	b->buf[b->len] = '\0';
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	buf_grow(b, 64);
	va_copy(cp, ap);
	n = vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= b->alloc - b->len) {
		buf_grow(b, (size_t)n);
		n = vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *s;

	if (!b->alloc)
		buf_grow(b, 0);
	s = b->buf;
	if (len)
		*len = b->len;
	buf_init(b, 0);
	return s;
}

int buf_read_file(struct buf *b, const char *path, struct err *e)
{
	int fd = 0;
	ssize_t n;

	if (strcmp(path, "-")) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return err_errno(e, "cannot open '%s'", path);
	}
	for (;;) {
		buf_grow(b, 65536);
		n = read(fd, b->buf + b->len, b->alloc - b->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_errno(e, "cannot read '%s'", path);
			if (fd)
				close(fd);
			return -1;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
	}
	b->buf[b->len] = '\0';
	if (fd)
		close(fd);
	return 0;
}

size_t utf8_valid(const unsigned char *s, size_t len)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void buf_add_xml(struct buf *b, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n;

	buf_grow(b, len + 16);
	while (i < len) {
		unsigned char c = s[i];

		switch (c) {
		case '&': buf_add(b, "&amp;", 5); i++; continue;
		case '<': buf_add(b, "&lt;", 4); i++; continue;
		case '>': buf_add(b, "&gt;", 4); i++; continue;
		case '"': buf_add(b, "&quot;", 6); i++; continue;
		case '\'': buf_add(b, "&#39;", 5); i++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			if (c == '\t') {
				buf_addch(b, ' ');
			} else {
				buf_add(b, "\xef\xbf\xbd", 3);
			}
			i++;
			continue;
		}
		n = utf8_valid(s + i, len - i);
		if (!n) {
			buf_add(b, "\xef\xbf\xbd", 3);
			i++;
			continue;
		}
		/* U+FFFE/FFFF and C1 controls are not allowed in XML 1.0 text either. */
		if ((n == 3 && s[i] == 0xef && s[i + 1] == 0xbf && (s[i + 2] == 0xbe || s[i + 2] == 0xbf)) ||
		    (n == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0)) {
			buf_add(b, "\xef\xbf\xbd", 3);
			i += n;
			continue;
		}
		buf_add(b, s + i, n);
		i += n;
	}
}
