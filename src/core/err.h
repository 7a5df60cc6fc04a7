/*
 * The error type: library code never prints and never exits; it returns -1 (or NULL) and describes the
 * failure in the caller's `struct err`. Only src/cmd/ and src/main.c turn it into a message.
 * Messages follow the house style: lowercase, failure first, subject quoted, cause last, no final period.
 */
#ifndef KILN_ERR_H
#define KILN_ERR_H

struct err {
	char msg[1024];
};

#define ERR_INIT { { 0 } }

/* Sets the message; returns -1 so callers can `return err_set(e, ...)`. `e` may be NULL. */
int err_set(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* As err_set, appending ": strerror(errno)". */
int err_errno(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes the existing message with context: "reading 'x': <old message>". */
int err_wrap(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
