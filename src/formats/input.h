/*
 * An input source for readers: a regular file is mapped whole (zero-copy, any size); a pipe or stdin is read in
 * large chunks. Lines are handed out without copying where possible. Progress is reported when stderr is a tty.
 */
#ifndef KILN_INPUT_H
#define KILN_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;
struct progress;

#define INPUT_MAX_LINE (256u << 20) /* a longer line is an input error, not unbounded memory */

struct input {
	const char *name;   /* for messages: the path, or "<stdin>" */
	int fd;
	unsigned char *map; /* whole file when mapped */
	size_t map_len;
	unsigned char *buf; /* streaming buffer */
	size_t buf_len, buf_alloc, pos;
	bool eof;
	bool owns_fd;
	uint64_t consumed; /* bytes handed out so far */
	uint64_t lineno;   /* lines handed out so far */
	struct progress *progress;
};

/* Opens `path` ("-" = stdin). */
int input_open(struct input *in, const char *path, struct err *e);
/* Wraps a memory buffer (not copied; must outlive the input). For tests and fuzzers. */
void input_from_memory(struct input *in, const void *data, size_t len, const char *name);
void input_close(struct input *in);

/* Makes up to `want` bytes available without consuming them; returns what is available (less at EOF). */
size_t input_peek(struct input *in, size_t want, const unsigned char **data, struct err *e);
/*
 * Next line without its "\n" (a trailing "\r" is removed too). Returns 1 with a line, 0 at end of input,
 * -1 on error (read failure or a line over INPUT_MAX_LINE). The line is valid until the next call.
 */
int input_getline(struct input *in, const char **line, size_t *len, struct err *e);
/* The whole remaining input in memory. Valid until input_close(). */
int input_read_all(struct input *in, const unsigned char **data, size_t *len, struct err *e);
/* Shows a progress line with this title while reading (no-op when stderr is not a terminal). */
void input_show_progress(struct input *in, const char *title);

#endif
