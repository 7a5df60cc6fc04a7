/*
 * Atomic output files: write a temporary beside the target, rename over it only after a clean close.
 * A small fixed table of open temporaries lets a signal handler unlink them with async-signal-safe calls.
 */
#include "atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "xalloc.h"

#define MAX_TEMPS 64

static char *volatile temps[MAX_TEMPS];

static void temps_add(char *path)
{
	for (size_t i = 0; i < MAX_TEMPS; i++) {
		if (!temps[i]) {
			temps[i] = path;
			return;
		}
	}
}

static void temps_remove(const char *path)
{
	for (size_t i = 0; i < MAX_TEMPS; i++)
		if (temps[i] == path)
			temps[i] = NULL;
}

static void cleanup_signal(int sig)
{
	for (size_t i = 0; i < MAX_TEMPS; i++)
		if (temps[i])
			unlink(temps[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

void afile_install_signal_cleanup(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa, old;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = cleanup_signal;
		sigemptyset(&sa.sa_mask);
		/* Respect an inherited "ignore" (nohup, background jobs). */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
}

/*
 * A target that is not a regular file (/dev/null, a FIFO, /dev/stdout, a terminal) cannot be replaced by a
 * rename: that would put a regular file in its place (as root, in /dev). It is opened and written directly.
 */
static int open_direct(struct afile *f, const char *path, struct err *e)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return err_errno(e, "cannot open '%s'", path);
	f->fp = fdopen(fd, "w");
	if (!f->fp) {
		err_errno(e, "cannot open '%s'", path);
		close(fd);
		return -1;
	}
	f->path = xstrdup(path);
	return 0;
}

int afile_open(struct afile *f, const char *path, struct err *e)
{
	const char *slash;
	char *real = NULL;
	struct stat st;
	int fd;

	memset(f, 0, sizeof(*f));
	if (!strcmp(path, "-")) {
		f->path = xstrdup(path);
		f->fp = stdout;
		return 0;
	}
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode)) {
			errno = EISDIR;
			return err_errno(e, "cannot write '%s'", path);
		}
		return open_direct(f, path, e);
	}
	/* A symbolic link to a file: replace the file it points to, not the link. */
	if (!lstat(path, &st) && S_ISLNK(st.st_mode) && (real = realpath(path, NULL)))
		path = real;
	slash = strrchr(path, '/');
	/* ".NAME.tmpXXXXXX" in the target's directory, so the rename stays on one file system. */
	if (slash)
		f->tmp = xasprintf("%.*s/.%s.tmpXXXXXX", (int)(slash - path), path, slash + 1);
	else
		f->tmp = xasprintf(".%s.tmpXXXXXX", path);
	fd = mkostemp(f->tmp, O_CLOEXEC);
	if (fd < 0) {
		err_errno(e, "cannot create '%s'", path);
		free(f->tmp);
		f->tmp = NULL;
		free(real);
		return -1;
	}
	temps_add(f->tmp);
	/* mkstemp makes 0600; give the file the usual permissions of a new file. */
	{
		mode_t mask = umask(0);

		umask(mask);
		fchmod(fd, 0666 & ~mask);
	}
	f->fp = fdopen(fd, "w");
	if (!f->fp) {
		err_errno(e, "cannot create '%s'", path);
		close(fd);
		afile_abort(f);
		free(real);
		return -1;
	}
	setvbuf(f->fp, NULL, _IOFBF, 1 << 20);
	f->path = xstrdup(path);
	free(real);
	return 0;
}

int afile_commit(struct afile *f, struct err *e)
{
	int ret = 0;

	if (!f->tmp) {
		/* stdout: flush now so a write error is reported by the command that caused it. */
		if (f->fp == stdout) {
			if (fflush(f->fp) || ferror(f->fp))
				ret = err_errno(e, "cannot write to standard output");
		} else if (f->fp) {
			/* a device or FIFO written directly */
			if (fflush(f->fp) || ferror(f->fp))
				ret = err_errno(e, "cannot write '%s'", f->path);
			if (fclose(f->fp) && !ret)
				ret = err_errno(e, "cannot write '%s'", f->path);
		}
		free(f->path);
		memset(f, 0, sizeof(*f));
		return ret;
	}
	if (fflush(f->fp) || ferror(f->fp)) {
		ret = err_errno(e, "cannot write '%s'", f->path);
	} else if (fsync(fileno(f->fp)) && errno != EINVAL) {
		ret = err_errno(e, "cannot write '%s'", f->path);
	}
	if (fclose(f->fp) && !ret)
		ret = err_errno(e, "cannot write '%s'", f->path);
	f->fp = NULL;
	if (!ret && rename(f->tmp, f->path))
		ret = err_errno(e, "cannot rename to '%s'", f->path);
	if (ret) {
		afile_abort(f);
		return ret;
	}
	temps_remove(f->tmp);
	free(f->tmp);
	free(f->path);
	memset(f, 0, sizeof(*f));
	return 0;
}

void afile_abort(struct afile *f)
{
	if (f->fp && f->fp != stdout)
		fclose(f->fp);
	if (f->tmp) {
		unlink(f->tmp);
		temps_remove(f->tmp);
		free(f->tmp);
	}
	free(f->path);
	memset(f, 0, sizeof(*f));
}

int afile_write_all(const char *path, const void *data, size_t len, struct err *e)
{
	struct afile f;

	if (afile_open(&f, path, e))
		return -1;
	if (len && fwrite(data, 1, len, f.fp) != len) {
		err_errno(e, "cannot write '%s'", path);
		afile_abort(&f);
		return -1;
	}
	return afile_commit(&f, e);
}
