/* Input sources for readers: whole-file mmap for regular files, large-chunk streaming for pipes. */
#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/err.h"
#include "../core/progress.h"
#include "../core/xalloc.h"

#define CHUNK (1u << 20)

int input_open(struct input *in, const char *path, struct err *e)
{
	struct stat st;

	memset(in, 0, sizeof(*in));
	if (!strcmp(path, "-")) {
		in->name = "<stdin>";
		in->fd = 0;
	} else {
		in->name = path;
		in->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0)
			return err_errno(e, "cannot open '%s'", path);
		in->owns_fd = true;
	}
	if (fstat(in->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		err_errno(e, "cannot read '%s'", in->name);
		input_close(in);
		return -1;
	}
	if (fstat(in->fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, in->fd, 0);

		if (m != MAP_FAILED) {
			in->map = m;
			in->map_len = (size_t)st.st_size;
			madvise(m, in->map_len, MADV_SEQUENTIAL);
			/* Present the mapping as a buffer that is already full. */
			in->buf = m;
			in->buf_len = in->map_len;
			in->eof = true;
		}
	}
	return 0;
}

void input_from_memory(struct input *in, const void *data, size_t len, const char *name)
{
	memset(in, 0, sizeof(*in));
	in->name = name;
	in->fd = -1;
	in->buf = (unsigned char *)data;
	in->buf_len = len;
	in->eof = true;
}

void input_close(struct input *in)
{
	if (in->map)
		munmap(in->map, in->map_len);
	else if (in->buf_alloc)
		free(in->buf);
	if (in->owns_fd)
		close(in->fd);
	progress_free(in->progress);
	memset(in, 0, sizeof(*in));
	in->fd = -1;
}

void input_show_progress(struct input *in, const char *title)
{
	if (!in->progress)
		in->progress = progress_new(title, in->map_len);
}

/* Reads more data into the streaming buffer, keeping unconsumed bytes. Returns bytes added, 0 at EOF, -1 error. */
static ssize_t fill(struct input *in, size_t want, struct err *e)
{
	ssize_t n;

	if (in->eof)
		return 0;
	if (in->pos > 0) {
		memmove(in->buf, in->buf + in->pos, in->buf_len - in->pos);
		in->buf_len -= in->pos;
		in->pos = 0;
	}
	if (in->buf_alloc - in->buf_len < want) {
		size_t na = in->buf_alloc ? in->buf_alloc : CHUNK;

		while (na - in->buf_len < want)
			na *= 2;
		in->buf = xrealloc(in->buf_alloc ? in->buf : NULL, na);
		in->buf_alloc = na;
	}
	do {
		n = read(in->fd, in->buf + in->buf_len, in->buf_alloc - in->buf_len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return err_errno(e, "cannot read '%s'", in->name);
	if (n == 0)
		in->eof = true;
	in->buf_len += (size_t)n;
	return n;
}

size_t input_peek(struct input *in, size_t want, const unsigned char **data, struct err *e)
{
	while (in->buf_len - in->pos < want && !in->eof)
		if (fill(in, want - (in->buf_len - in->pos), e) < 0)
			return 0;
	*data = in->buf + in->pos;
	return in->buf_len - in->pos < want ? in->buf_len - in->pos : want;
}

/*
 * Memory grows with what a reader keeps, not with the input: every DROP_STEP bytes of a mapped file read line
 * by line, the pages behind are released. The mapping is private and never written, so a later access to
 * them (input_read_all, a reader looking back) simply reads the file again.
 */
#define DROP_STEP (32u << 20)

static void drop_consumed(struct input *in, size_t before)
{
	size_t from = before / DROP_STEP, to = in->pos / DROP_STEP;

	if (in->map && to > from)
		madvise(in->map + from * DROP_STEP, (to - from) * DROP_STEP, MADV_DONTNEED);
}

int input_getline(struct input *in, const char **line, size_t *len, struct err *e)
{
	size_t scanned = 0;

	for (;;) {
		unsigned char *start = in->buf + in->pos;
		size_t avail = in->buf_len - in->pos;
		unsigned char *nl = avail > scanned ? memchr(start + scanned, '\n', avail - scanned) : NULL;

		if (nl || (in->eof && avail)) {
			size_t l = nl ? (size_t)(nl - start) : avail;

			in->pos += l + (nl ? 1 : 0);
			in->consumed += l + (nl ? 1 : 0);
			in->lineno++;
			drop_consumed(in, in->pos - (l + (nl ? 1 : 0)));
			if (l && start[l - 1] == '\r')
				l--;
			*line = (const char *)start;
			*len = l;
			if (in->progress)
				progress_update(in->progress, in->consumed);
			return 1;
		}
		if (in->eof)
			return 0;
		if (avail >= INPUT_MAX_LINE)
			return err_set(e, "cannot read '%s': line %llu is longer than %u MiB", in->name,
				       (unsigned long long)in->lineno + 1, INPUT_MAX_LINE >> 20);
		scanned = avail;
		if (fill(in, CHUNK, e) < 0)
			return -1;
	}
}

int input_read_all(struct input *in, const unsigned char **data, size_t *len, struct err *e)
{
	while (!in->eof)
		if (fill(in, CHUNK, e) < 0)
			return -1;
	*data = in->buf + in->pos;
	*len = in->buf_len - in->pos;
	in->consumed += *len;
	in->pos = in->buf_len;
	return 0;
}
