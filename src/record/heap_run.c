/* Runs a command under libkiln-heap.so and feeds its event streams to a heap_trace (see heap_run.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/array.h"
#include "../core/err.h"
#include "../core/spawn.h"
#include "../core/util.h"
#include "../core/xalloc.h"
#include "../core/heap_wire.h"
#include "heap_run.h"
#include "heap_trace.h"

static volatile sig_atomic_t run_child;
static volatile sig_atomic_t stop_requests, stop_sig;

void heap_run_stop(int sig, bool forward)
{
	pid_t pid = run_child;

	if (stop_requests < 100)
		stop_requests++;
	stop_sig = sig;
	if (forward && pid > 0)
		kill(pid, sig);
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *heap_find_preload(struct err *e)
{
	const char *env = getenv("KILN_HEAP_LIB");
	if (env && *env) {
		char *abs = realpath(env, NULL);
		if (!abs || !is_file(abs)) {
			free(abs);
			err_set(e, "cannot use KILN_HEAP_LIB '%s': not a file", env);
			return NULL;
		}
		return abs;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			const char *const rel[] = { "/libkiln-heap.so", "/../lib/libkiln-heap.so", "/../lib/kiln/libkiln-heap.so" };
			for (size_t i = 0; i < ARRAY_SIZE(rel); i++) {
				char *p = xasprintf("%s%s", exe, rel[i]);
				if (is_file(p)) {
					char *abs = realpath(p, NULL);
					free(p);
					if (abs)
						return abs;
					continue;
				}
				free(p);
			}
		}
	}
	err_set(e, "cannot find 'libkiln-heap.so' beside the kiln binary or in ../lib (set KILN_HEAP_LIB)");
	return NULL;
}

struct child_env {
	const struct heap_run_opts *o;
	const char *sock;
};

/* In the child before exec: the preload library and its settings. */
static void child_setup(void *arg)
{
	const struct child_env *ce = arg;
	const struct heap_run_opts *o = ce->o;
	char num[32];
	const char *old = getenv("LD_PRELOAD");
	char *pre = old && *old ? xasprintf("%s:%s", o->preload, old) : xstrdup(o->preload);
	setenv("LD_PRELOAD", pre, 1);
	setenv(KH_ENV_SOCK, ce->sock, 1);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)o->sample_bytes);
	setenv(KH_ENV_SAMPLE, num, 1);
	if (o->depth) {
		snprintf(num, sizeof(num), "%u", o->depth);
		setenv(KH_ENV_DEPTH, num, 1);
	} else {
		unsetenv(KH_ENV_DEPTH);
	}
	if (o->no_children)
		setenv(KH_ENV_NO_CHILDREN, "1", 1);
	else
		unsetenv(KH_ENV_NO_CHILDREN);
	signal(SIGPIPE, SIG_DFL);
}

struct conn {
	int fd;
	uint32_t h;
	bool failed;
};

/* A run in progress: the command, its streams, and what the loop carries between polls. */
struct heap_run {
	struct heap_run_opts o;
	struct heap_trace *t;
	struct heap_run_result *res;
	char dir[PATH_MAX], sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int lfd, pidfd;
	bool have_dir;
	struct spawn sp;
	pid_t pid;
	struct conn *conns;
	size_t nconns, aconns;
	struct pollfd *pfds;
	size_t apfds;
	unsigned char *buf;
	bool child_done, dump, ended;
	uint64_t asked_ns, idle_since, linger;
};

#define HEAP_BUF_SIZE (1 << 20)

static void hr_free(struct heap_run *h)
{
	for (size_t i = 0; i < h->nconns; i++) {
		close(h->conns[i].fd);
		heap_trace_close(h->t, h->conns[i].h);
	}
	free(h->conns);
	free(h->pfds);
	free(h->buf);
	if (h->lfd >= 0)
		close(h->lfd);
	if (h->pidfd >= 0)
		close(h->pidfd);
	spawn_abort(&h->sp);
	if (h->have_dir) {
		unlink(h->sock);
		rmdir(h->dir);
	}
	heap_trace_set_time(h->t, h->res->start_mono_ns, h->res->start_epoch_ns, h->res->duration_ns);
	free(h);
}

static int hr_listen(struct heap_run *h, struct err *e)
{
	const char *tmp = getenv("TMPDIR");
	struct sockaddr_un a;

	if (!tmp || !*tmp || strlen(tmp) > 60)
		tmp = "/tmp";
	snprintf(h->dir, sizeof(h->dir), "%s/kiln-heap-XXXXXX", tmp);
	if (!mkdtemp(h->dir))
		return err_errno(e, "cannot create a directory in '%s'", tmp);
	h->have_dir = true;
	if ((size_t)snprintf(h->sock, sizeof(h->sock), "%s/s", h->dir) >= sizeof(h->sock))
		return err_set(e, "socket path '%s/s' is too long", h->dir);
	h->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (h->lfd < 0)
		return err_errno(e, "cannot create a socket");
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, h->sock, strlen(h->sock) + 1);
	if (bind(h->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(h->lfd, 128) < 0)
		return err_errno(e, "cannot listen on '%s'", h->sock);
	return 0;
}

int heap_run_start(const struct heap_run_opts *o, struct heap_trace *t, struct heap_run_result *res,
		   struct heap_run **out, struct err *e)
{
	struct heap_run *h = xcalloc(1, sizeof(*h));

	*out = NULL;
	memset(res, 0, sizeof(*res));
	h->o = *o;
	h->t = t;
	h->res = res;
	h->lfd = h->pidfd = -1;
	h->sp = (struct spawn){ -1, -1, -1 };
	if (hr_listen(h, e) < 0)
		goto fail;
	stop_requests = 0;
	res->start_mono_ns = now_ns();
	res->start_epoch_ns = (int64_t)epoch_ns();
	struct child_env ce = { &h->o, h->sock };
	struct spawn_opts so = { .argv = o->argv, .ignored_signals = o->ignored_signals, .setup = child_setup,
				 .setup_arg = &ce };
	if (spawn_start(&h->sp, &so, e) < 0)
		goto fail;
	h->pid = h->sp.pid;
	run_child = h->pid;
	int child_errno = spawn_exec_wait(&h->sp, NULL);
	if (child_errno) {
		run_child = 0;
		res->launch_error = child_errno == ENOENT ? HEAP_LAUNCH_NOT_FOUND : HEAP_LAUNCH_CANNOT_RUN;
		errno = child_errno;
		err_errno(e, "cannot run '%s'", o->argv[0]);
		hr_free(h);
		return 0;
	}
	res->launched = true;
	/* A pidfd wakes poll() when the command exits (else the poll timeout bounds the delay). */
#ifdef SYS_pidfd_open
	h->pidfd = (int)syscall(SYS_pidfd_open, h->pid, 0);
#endif
	h->buf = xmalloc(HEAP_BUF_SIZE);
	/* Debugging aid: KILN_HEAP_DUMP=1 appends each stream's bytes to ./heapstream.N. */
	const char *dump_env = getenv("KILN_HEAP_DUMP");
	h->dump = dump_env && *dump_env == '1';
	h->linger = (uint64_t)((o->linger > 0 ? o->linger : 1.0) * 1e9);
	*out = h;
	return 0;
fail:
	hr_free(h);
	return -1;
}

static void hr_accept(struct heap_run *h, int fd)
{
	ALLOC_GROW(h->conns, h->nconns + 1, h->aconns);
	h->conns[h->nconns++] = (struct conn){ fd, heap_trace_open(h->t), false };
}

/* Reads what connection `i` has; true when it ended (then closed and removed: the last one took its slot). */
static bool hr_read(struct heap_run *h, size_t i, bool *got)
{
	struct conn *c = &h->conns[i];
	bool closed = false;

	for (int round = 0; round < 8 && !closed; round++) {
		ssize_t r = read(c->fd, h->buf, HEAP_BUF_SIZE);
		if (r > 0) {
			struct err de = ERR_INIT;

			*got = true;
			if (!c->failed && heap_trace_data(h->t, c->h, h->buf, (size_t)r, &de) < 0)
				c->failed = true;
			if (h->dump) {
				char path[64];
				snprintf(path, sizeof(path), "heapstream.%u", c->h);
				FILE *df = fopen(path, "ab");
				if (df) {
					fwrite(h->buf, 1, (size_t)r, df);
					fclose(df);
				}
			}
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		closed = true;
	}
	if (!closed)
		return false;
	close(c->fd);
	heap_trace_close(h->t, c->h);
	/* pfds[] is indexed like conns[]: move the last one to this slot in both. */
	h->conns[i] = h->conns[h->nconns - 1];
	h->pfds[i + 1] = h->pfds[h->nconns];
	h->nconns--;
	return true;
}

/* The command's state after a poll round: 1 when the run is over. */
static int hr_child(struct heap_run *h, bool got)
{
	struct heap_run_result *res = h->res;

	if (h->child_done) {
		if (got)
			h->idle_since = now_ns();
		/* Every stream ended, or the remaining ones (daemons) stayed silent for the linger time. */
		return h->nconns && now_ns() - h->idle_since > h->linger;
	}
	int st;
	pid_t w = waitpid(h->pid, &st, WNOHANG);
	if (w == h->pid) {
		h->child_done = true;
		run_child = 0;
		res->status = st;
		res->reaped = true;
		res->duration_ns = (int64_t)(now_ns() - res->start_mono_ns);
		h->idle_since = now_ns();
	} else if (stop_requests >= 2) {
		/* A second request stops without the command, as in the other modes. */
		run_child = 0;
		res->stop_signal = stop_sig;
		res->duration_ns = (int64_t)(now_ns() - res->start_mono_ns);
		return 1;
	} else if (stop_requests) {
		if (!h->asked_ns) {
			h->asked_ns = now_ns();
			res->stop_asked = stop_sig;
		}
		spawn_escalate(h->pid, h->asked_ns, now_ns(), &res->escalated);
	}
	return 0;
}

int heap_run_poll(struct heap_run *h, uint64_t until_ns, struct err *e)
{
	if (h->ended)
		return 1;
	for (;;) {
		uint64_t now = now_ns();
		int timeout = h->child_done ? 50 : 100;

		if (until_ns && now >= until_ns)
			return 0;
		if (until_ns && until_ns - now < (uint64_t)timeout * 1000000)
			timeout = (int)((until_ns - now + 999999) / 1000000);
		if (h->child_done && !h->nconns) {
			/* Streams of processes that connected and ended while we were busy wait in the backlog. */
			int fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0) {
				h->ended = true;
				return 1;
			}
			hr_accept(h, fd);
			h->idle_since = now_ns();
		}
		ALLOC_GROW(h->pfds, h->nconns + 2, h->apfds);
		h->pfds[0] = (struct pollfd){ .fd = h->lfd, .events = POLLIN };
		for (size_t i = 0; i < h->nconns; i++)
			h->pfds[i + 1] = (struct pollfd){ .fd = h->conns[i].fd, .events = POLLIN };
		h->pfds[h->nconns + 1] = (struct pollfd){ .fd = h->child_done ? -1 : h->pidfd, .events = POLLIN };
		if (h->o.warm && !h->child_done)
			heap_trace_warm(h->t, h->o.warm);
		int pr = poll(h->pfds, h->nconns + 2, timeout);
		if (pr < 0 && errno != EINTR)
			return err_errno(e, "poll failed");
		bool got = false;
		if (pr > 0 && (h->pfds[0].revents & POLLIN)) {
			int fd;
			while ((fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
				hr_accept(h, fd);
				got = true;
			}
		}
		for (size_t i = 0; pr > 0 && i < h->nconns; i++)
			if ((h->pfds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) && hr_read(h, i, &got))
				i--;
		if (hr_child(h, got)) {
			h->ended = true;
			return 1;
		}
	}
}

void heap_run_end(struct heap_run *h)
{
	if (!h)
		return;
	if (!h->res->duration_ns)
		h->res->duration_ns = (int64_t)(now_ns() - h->res->start_mono_ns);
	hr_free(h);
}

int heap_run(const struct heap_run_opts *o, struct heap_trace *t, struct heap_run_result *res, struct err *e)
{
	struct heap_run *h;
	int ret;

	if (heap_run_start(o, t, res, &h, e) < 0)
		return -1;
	if (!h)
		return 0; /* the command could not run: res->launch_error */
	ret = heap_run_poll(h, 0, e) < 0 ? -1 : 0;
	heap_run_end(h);
	return ret;
}
