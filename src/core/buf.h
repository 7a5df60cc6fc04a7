/*
 * A growable byte buffer that is always NUL-terminated (git's strbuf). `buf.buf` is never NULL, so a fresh
 * buffer can be printed; buf_detach() hands the memory to the caller.
 */
#ifndef KILN_BUF_H
#define KILN_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct err;

struct buf {
	char *buf;
	size_t len;
	size_t alloc;
};

extern char buf_slopbuf[];
#define BUF_INIT { buf_slopbuf, 0, 0 }

void buf_init(struct buf *b, size_t hint);
void buf_release(struct buf *b);
/* Ensures room for `extra` more bytes plus the NUL. */
void buf_grow(struct buf *b, size_t extra);
void buf_setlen(struct buf *b, size_t len);
static inline void buf_reset(struct buf *b) { buf_setlen(b, 0); }
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addch(struct buf *b, int c);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* Returns the heap string (caller frees) and resets `b`; `*len` receives its length when non-NULL. */
char *buf_detach(struct buf *b, size_t *len);
/* Appends the whole file (`-` is stdin). Returns 0, or -1 with `e` set. */
int buf_read_file(struct buf *b, const char *path, struct err *e);
/* Length (1..4) of the valid UTF-8 sequence at `s`, or 0 when it is invalid or truncated. */
size_t utf8_valid(const unsigned char *s, size_t len);
/* Appends `s` with the XML special characters escaped and invalid UTF-8 / control characters as U+FFFD. */
void buf_add_xml(struct buf *b, const char *s, size_t len);

#endif
