/*
 * A fault-injection preload for tests (after jq's inject_errors.c): makes the calls that finish an output file fail,
 * so tests can check that kiln never leaves a half-written file behind and reports the failure.
 *   KILN_FAULT=fflush|fclose|fsync|rename   which call fails (with ENOSPC, or EXDEV for rename)
 *   KILN_FAULT_MATCH=SUBSTRING              only for files whose path contains it (default: any regular file)
 * Built by the test that uses it: cc -shared -fPIC -o faultinject.so faultinject.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fault_is(const char *name)
{
	const char *f = getenv("KILN_FAULT");

	return f && !strcmp(f, name);
}

/* True when fd is a regular file whose path matches KILN_FAULT_MATCH. */
static int fd_matches(int fd)
{
	const char *m = getenv("KILN_FAULT_MATCH");
	char link[64], path[PATH_MAX];
	struct stat st;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode))
		return 0;
	if (!m || !*m)
		return 1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return 0;
	path[n] = '\0';
	return strstr(path, m) != NULL;
}

int fflush(FILE *fp)
{
	static int (*real)(FILE *);

	if (!real)
		real = (int (*)(FILE *))dlsym(RTLD_NEXT, "fflush");
	if (fp && fault_is("fflush") && fd_matches(fileno(fp))) {
		errno = ENOSPC;
		return EOF;
	}
	return real(fp);
}

int fclose(FILE *fp)
{
	static int (*real)(FILE *);
	int hit;

	if (!real)
		real = (int (*)(FILE *))dlsym(RTLD_NEXT, "fclose");
	hit = fp && fault_is("fclose") && fd_matches(fileno(fp));
	if (real(fp) || hit) {
		if (hit)
			errno = ENOSPC;
		return EOF;
	}
	return 0;
}

int fsync(int fd)
{
	static int (*real)(int);

	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if (fault_is("fsync") && fd_matches(fd)) {
		errno = EIO;
		return -1;
	}
	return real(fd);
}

int rename(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);
	const char *m = getenv("KILN_FAULT_MATCH");

	if (!real)
		real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	if (fault_is("rename") && (!m || !*m || strstr(to, m))) {
		errno = EXDEV;
		return -1;
	}
	return real(from, to);
}
