/* The error type: a message buffer filled by library code and printed by the command layer. */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A message is one line whatever the input it quotes holds: control bytes (a newline, a vertical tab, an
 * escape sequence from a damaged file) become '?'. */
static int one_line(struct err *e)
{
	for (unsigned char *c = (unsigned char *)e->msg; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			*c = '?';
	return -1;
}

int err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return one_line(e);
}

int err_errno(struct err *e, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t n;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(saved));
	errno = saved;
	return one_line(e);
}

int err_wrap(struct err *e, const char *fmt, ...)
{
	char old[sizeof(e->msg)];
	va_list ap;
	size_t n;

	if (!e)
		return -1;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	if (old[0])
		snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", old);
	return one_line(e);
}
