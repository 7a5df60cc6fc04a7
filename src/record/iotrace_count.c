/* The I/O mode's counting-only fallback through perf_event tracepoints (see iotrace_count.h). */
#include <dirent.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../core/array.h"
#include "../core/err.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "iotrace.h"
#include "iotrace_count.h"

struct counter {
	uint32_t nr;
	uint64_t id; /* tracepoint id */
	int fd;
};

struct iocount {
	struct counter *v;
	size_t nr, alloc;
};

static const char *tracefs_events(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events" };
	struct stat st;
	for (size_t i = 0; i < 2; i++)
		if (stat(dirs[i], &st) == 0)
			return dirs[i];
	/* Not mounted: mount it where the kernel expects it (root only; failure leaves "none"). */
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0 && stat(dirs[0], &st) == 0)
		return dirs[0];
	return NULL;
}

static int nr_of(const char *name)
{
	for (uint32_t nr = 0; nr < IO_NR_MAX; nr++) {
		const char *n = io_syscall_name(nr);
		if (n && !strcmp(n, name))
			return (int)nr;
	}
	return -1;
}

struct iocount *iocount_new(struct err *e)
{
	const char *events = tracefs_events();
	if (!events) {
		err_set(e, "cannot find the system call tracepoints (tracefs is not mounted and cannot be)");
		return NULL;
	}
	char path[512];
	snprintf(path, sizeof(path), "%s/syscalls", events);
	DIR *d = opendir(path);
	if (!d) {
		err_errno(e, "cannot read '%s'", path);
		return NULL;
	}
	struct iocount *c = xcalloc(1, sizeof(*c));
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "sys_enter_", 10))
			continue;
		int nr = nr_of(de->d_name + 10);
		if (nr < 0)
			continue;
		snprintf(path, sizeof(path), "%s/syscalls/%s/id", events, de->d_name);
		FILE *f = fopen(path, "r");
		unsigned long long id;
		if (!f)
			continue;
		if (fscanf(f, "%llu", &id) == 1) {
			ALLOC_GROW(c->v, c->nr + 1, c->alloc);
			c->v[c->nr++] = (struct counter){ (uint32_t)nr, id, -1 };
		}
		fclose(f);
	}
	closedir(d);
	if (!c->nr) {
		iocount_free(c);
		err_set(e, "cannot find the system call tracepoints in '%s/syscalls'", events);
		return NULL;
	}
	return c;
}

void iocount_free(struct iocount *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nr; i++)
		if (c->v[i].fd >= 0)
			close(c->v[i].fd);
	free(c->v);
	free(c);
}

int iocount_attach(struct iocount *c, uint32_t pid, struct err *e)
{
	/* One descriptor per system call: make room for them. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max && rl.rlim_cur < c->nr + 256) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (size_t i = 0; i < c->nr; i++) {
		struct perf_event_attr a;
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.type = PERF_TYPE_TRACEPOINT;
		a.config = c->v[i].id;
		a.disabled = 1;
		a.inherit = 1;
		a.enable_on_exec = 1;
		int fd = (int)syscall(SYS_perf_event_open, &a, (pid_t)pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0)
			return err_errno(e, "cannot open the tracepoint syscalls:sys_enter_%s",
					 io_syscall_name(c->v[i].nr));
		c->v[i].fd = fd;
	}
	return 0;
}

static int cmp_count(const void *a, const void *b)
{
	const struct io_syscall *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->nr < y->nr ? -1 : x->nr > y->nr;
}

void iocount_read(struct iocount *c, struct io_result *res)
{
	size_t alloc = 0;
	res->counts_only = true;
	for (size_t i = 0; i < c->nr; i++) {
		uint64_t n = 0;
		if (c->v[i].fd < 0 || read(c->v[i].fd, &n, sizeof(n)) != (ssize_t)sizeof(n) || !n)
			continue;
		ALLOC_GROW(res->sys, res->nsys + 1, alloc);
		struct io_syscall *s = &res->sys[res->nsys++];
		memset(s, 0, sizeof(*s));
		s->nr = c->v[i].nr;
		s->name = io_syscall_name(s->nr);
		s->count = n;
		res->calls += n;
	}
	if (res->nsys)
		qsort(res->sys, res->nsys, sizeof(*res->sys), cmp_count);
}

void iocount_profile(const struct io_result *res, struct profile *p)
{
	int col = profile_add_column(p, "syscalls", "count");
	uint32_t k_sys = profile_intern_str(p, "syscall");
	p->default_column = col;
	for (size_t i = 0; i < res->nsys; i++) {
		const char *name = res->sys[i].name ? res->sys[i].name : "syscall";
		uint32_t node = profile_node(p, 0, profile_frame_named(p, name, strlen(name), FRAME_KERNEL));
		struct label l = { .key = k_sys, .str = profile_intern_str(p, name) };
		profile_add_sample1(p, node, profile_labelset(p, &l, 1), (int64_t)res->sys[i].count);
	}
}
