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

int heap_run(const struct heap_run_opts *o, struct heap_trace *t, struct heap_run_result *res, struct err *e)
{
	char dir[PATH_MAX], sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *tmp = getenv("TMPDIR");
	int lfd = -1, ret = -1;
	struct spawn sp = { -1, -1, -1 };
	struct conn *conns = NULL;
	size_t nconns = 0, aconns = 0;
	struct pollfd *pfds = NULL;
	size_t apfds = 0;
	unsigned char *buf = NULL;
	bool have_dir = false;
	int pidfd = -1;

	memset(res, 0, sizeof(*res));
	if (!tmp || !*tmp || strlen(tmp) > 60)
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/kiln-heap-XXXXXX", tmp);
	if (!mkdtemp(dir))
		return err_errno(e, "cannot create a directory in '%s'", tmp);
	have_dir = true;
	if ((size_t)snprintf(sock, sizeof(sock), "%s/s", dir) >= sizeof(sock)) {
		err_set(e, "socket path '%s/s' is too long", dir);
		goto out;
	}
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0) {
		err_errno(e, "cannot create a socket");
		goto out;
	}
	struct sockaddr_un a;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, sock, strlen(sock) + 1);
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 128) < 0) {
		err_errno(e, "cannot listen on '%s'", sock);
		goto out;
	}

	stop_requests = 0;
	res->start_mono_ns = now_ns();
	res->start_epoch_ns = (int64_t)epoch_ns();
	struct child_env ce = { o, sock };
	struct spawn_opts so = { .argv = o->argv, .ignored_signals = o->ignored_signals, .setup = child_setup,
				 .setup_arg = &ce };
	uint64_t asked_ns = 0;
	if (spawn_start(&sp, &so, e) < 0)
		goto out;
	pid_t pid = sp.pid;
	run_child = pid;
	int child_errno = spawn_exec_wait(&sp, NULL);
	if (child_errno) {
		run_child = 0;
		res->launch_error = child_errno == ENOENT ? HEAP_LAUNCH_NOT_FOUND : HEAP_LAUNCH_CANNOT_RUN;
		errno = child_errno;
		err_errno(e, "cannot run '%s'", o->argv[0]);
		ret = 0;
		goto out;
	}
	res->launched = true;
	/* A pidfd wakes poll() when the command exits (else the poll timeout bounds the delay). */
#ifdef SYS_pidfd_open
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif

	const size_t bufsize = 1 << 20;
	buf = xmalloc(bufsize);
	bool child_done = false;
	/* Debugging aid: KILN_HEAP_DUMP=1 appends each stream's bytes to ./heapstream.N. */
	const char *dump_env = getenv("KILN_HEAP_DUMP");
	bool dump = dump_env && *dump_env == '1';
	uint64_t idle_since = 0, linger = (uint64_t)((o->linger > 0 ? o->linger : 1.0) * 1e9);
	for (;;) {
		if (child_done && !nconns) {
			/* Streams of processes that connected and ended while we were busy wait in the backlog. */
			int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0)
				break;
			ALLOC_GROW(conns, nconns + 1, aconns);
			conns[nconns++] = (struct conn){ fd, heap_trace_open(t), false };
			idle_since = now_ns();
		}
		ALLOC_GROW(pfds, nconns + 2, apfds);
		pfds[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (size_t i = 0; i < nconns; i++)
			pfds[i + 1] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
		pfds[nconns + 1] = (struct pollfd){ .fd = child_done ? -1 : pidfd, .events = POLLIN };
		if (o->warm && !child_done)
			heap_trace_warm(t, o->warm);
		int pr = poll(pfds, nconns + 2, child_done ? 50 : 100);
		if (pr < 0 && errno != EINTR) {
			err_errno(e, "poll failed");
			goto out;
		}
		bool got = false;
		if (pr > 0 && (pfds[0].revents & POLLIN)) {
			int fd;
			while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
				ALLOC_GROW(conns, nconns + 1, aconns);
				conns[nconns++] = (struct conn){ fd, heap_trace_open(t), false };
				got = true;
			}
		}
		for (size_t i = 0; pr > 0 && i < nconns && i + 1 <= nconns; i++) {
			if (!(pfds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			struct conn *c = &conns[i];
			bool closed = false;
			for (int round = 0; round < 8; round++) {
				ssize_t r = read(c->fd, buf, bufsize);
				if (r > 0) {
					got = true;
					struct err de = ERR_INIT;
					if (!c->failed && heap_trace_data(t, c->h, buf, (size_t)r, &de) < 0)
						c->failed = true;
					if (dump) {
						char path[64];
						snprintf(path, sizeof(path), "heapstream.%u", c->h);
						FILE *df = fopen(path, "ab");
						if (df) {
							fwrite(buf, 1, (size_t)r, df);
							fclose(df);
						}
					}
					continue;
				}
				if (r < 0 && errno == EINTR)
					continue;
				if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
					break;
				closed = true;
				break;
			}
			if (closed) {
				close(c->fd);
				heap_trace_close(t, c->h);
				/* pfds[] is indexed like conns[]: move the last one to this slot in both. */
				conns[i] = conns[nconns - 1];
				pfds[i + 1] = pfds[nconns];
				nconns--;
				i--;
			}
		}
		if (!child_done) {
			int st;
			pid_t w = waitpid(pid, &st, WNOHANG);
			if (w == pid) {
				child_done = true;
				run_child = 0;
				res->status = st;
				res->reaped = true;
				res->duration_ns = (int64_t)(now_ns() - res->start_mono_ns);
				idle_since = now_ns();
			} else if (stop_requests >= 2) {
				/* A second request stops without the command, as in the other modes. */
				run_child = 0;
				res->stop_signal = stop_sig;
				res->duration_ns = (int64_t)(now_ns() - res->start_mono_ns);
				break;
			} else if (stop_requests) {
				if (!asked_ns) {
					asked_ns = now_ns();
					res->stop_asked = stop_sig;
				}
				spawn_escalate(pid, asked_ns, now_ns(), &res->escalated);
			}
		} else {
			if (got)
				idle_since = now_ns();
			/* Every stream ended, or the remaining ones (daemons) stayed silent for the linger time. */
			if (nconns && now_ns() - idle_since > linger)
				break;
		}
	}
	ret = 0;
out:
	for (size_t i = 0; i < nconns; i++) {
		close(conns[i].fd);
		heap_trace_close(t, conns[i].h);
	}
	free(conns);
	free(pfds);
	free(buf);
	if (lfd >= 0)
		close(lfd);
	if (pidfd >= 0)
		close(pidfd);
	spawn_abort(&sp);
	if (have_dir) {
		unlink(sock);
		rmdir(dir);
	}
	heap_trace_set_time(t, res->start_mono_ns, res->start_epoch_ns, res->duration_ns);
	return ret;
}
