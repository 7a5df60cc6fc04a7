/* Running benchmark commands: words, substitution, spawning with wait4, interleaved rounds. */
#include "bench/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/array.h"
#include "core/err.h"
#include "core/util.h"
#include "core/xalloc.h"

char **bench_split_words(const char *s, struct err *e)
{
	char **w = NULL;
	size_t nr = 0, alloc = 0;
	struct buf word = BUF_INIT;
	bool in_word = false;

	for (;;) {
		char c = *s;

		if (!c || c == ' ' || c == '\t' || c == '\n') {
			if (in_word) {
				ALLOC_GROW(w, nr + 2, alloc);
				w[nr++] = buf_detach(&word, NULL);
				in_word = false;
			}
			if (!c)
				break;
			s++;
			continue;
		}
		in_word = true;
		if (c == '\'') {
			const char *end = strchr(s + 1, '\'');

			if (!end)
				goto unbalanced;
			buf_add(&word, s + 1, (size_t)(end - s - 1));
			s = end + 1;
		} else if (c == '"') {
			s++;
			while (*s && *s != '"') {
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\' || s[1] == '$' || s[1] == '`'))
					s++;
				buf_addch(&word, *s++);
			}
			if (!*s)
				goto unbalanced;
			s++;
		} else if (c == '\\' && s[1]) {
			buf_addch(&word, s[1]);
			s += 2;
		} else {
			buf_addch(&word, c);
			s++;
		}
	}
	buf_release(&word);
	if (!nr) {
		free(w);
		err_set(e, "empty command");
		return NULL;
	}
	w[nr] = NULL;
	return w;
unbalanced:
	buf_release(&word);
	w = xrealloc(w, (nr + 1) * sizeof(*w));
	w[nr] = NULL;
	bench_free_words(w);
	err_set(e, "unbalanced quotes");
	return NULL;
}

void bench_free_words(char **w)
{
	size_t i;

	if (!w)
		return;
	for (i = 0; w[i]; i++)
		free(w[i]);
	free(w);
}

char *bench_substitute(const char *s, const struct bench_param *p, size_t np)
{
	struct buf b = BUF_INIT;
	size_t i;

	while (*s) {
		if (*s == '{') {
			for (i = 0; i < np; i++) {
				size_t l = strlen(p[i].name);

				if (!strncmp(s + 1, p[i].name, l) && s[1 + l] == '}') {
					buf_adds(&b, p[i].value);
					s += l + 2;
					break;
				}
			}
			if (i < np)
				continue;
		}
		buf_addch(&b, *s++);
	}
	return buf_detach(&b, NULL);
}

void bench_cmd_release(struct bench_cmd *c)
{
	size_t i;

	free(c->display);
	free(c->name);
	bench_free_words(c->argv);
	free(c->prepare);
	free(c->conclude);
	for (i = 0; i < c->nparams; i++) {
		free(c->params[i].name);
		free(c->params[i].value);
	}
	free(c->params);
	free(c->wall);
	free(c->user);
	free(c->sys);
	free(c->rss);
	free(c->exit_codes);
	memset(c, 0, sizeof(*c));
}

struct run_result {
	double wall, user, sys, rss;
	int status;
};

static double tv_sec(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec * 1e-6;
}

/*
 * Runs argv (or `sh_cmd` through `shell -c`) once. An exec failure comes back through a close-on-exec pipe,
 * so "cannot run" is told apart from a command that exits 127.
 */
static int spawn(char *const *argv, const char *shell, const char *sh_cmd, bool show_output, struct run_result *r,
		 struct err *e)
{
	int pfd[2], child_errno = 0, status;
	struct rusage ru;
	uint64_t t0, t1;
	pid_t pid, w;
	ssize_t got;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return err_errno(e, "cannot create a pipe");
	t0 = now_ns();
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return err_errno(e, "cannot fork");
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		close(pfd[0]);
		if (null >= 0) {
			dup2(null, 0);
			if (!show_output) {
				dup2(null, 1);
				dup2(null, 2);
			}
			if (null > 2)
				close(null);
		}
		signal(SIGPIPE, SIG_DFL);
		if (argv)
			execvp(argv[0], argv);
		else
			execl(shell, shell, "-c", sh_cmd, (char *)NULL);
		child_errno = errno;
		if (write(pfd[1], &child_errno, sizeof(child_errno)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pfd[1]);
	do
		got = read(pfd[0], &child_errno, sizeof(child_errno));
	while (got < 0 && errno == EINTR);
	close(pfd[0]);
	do
		w = wait4(pid, &status, 0, &ru);
	while (w < 0 && errno == EINTR);
	t1 = now_ns();
	if (w < 0)
		return err_errno(e, "cannot wait for process %d", (int)pid);
	if (got == (ssize_t)sizeof(child_errno)) {
		errno = child_errno;
		return err_errno(e, "cannot run '%s'", argv ? argv[0] : shell);
	}
	r->wall = (double)(t1 - t0) * 1e-9;
	r->user = tv_sec(&ru.ru_utime);
	r->sys = tv_sec(&ru.ru_stime);
	r->rss = (double)ru.ru_maxrss * 1024;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
	return 0;
}

static bool stopped(const struct bench_run_opts *o)
{
	return o->stop && *o->stop;
}

/* A helper snippet (prepare, conclude, setup, cleanup) through /bin/sh; its failure is an error. */
static int run_snippet(const char *what, const char *snippet, const struct bench_run_opts *o, struct err *e)
{
	struct run_result r;

	if (!snippet)
		return 0;
	if (spawn(NULL, "/bin/sh", snippet, o->show_output, &r, e))
		return -1;
	/* A Ctrl-C reaches the snippet too: its death is the interruption, not a failure. */
	if (stopped(o))
		return BENCH_STOPPED;
	if (r.status)
		return err_set(e, "%s command '%s' failed with exit status %d", what, snippet, r.status);
	return 0;
}

char *bench_find_shell(const char *name, struct err *e)
{
	const char *path = getenv("PATH"), *p;
	struct stat st;

	if (strchr(name, '/')) {
		if (access(name, X_OK) || stat(name, &st) || !S_ISREG(st.st_mode)) {
			err_errno(e, "cannot run shell '%s'", name);
			return NULL;
		}
		return xstrdup(name);
	}
	for (p = path && *path ? path : "/usr/bin:/bin"; p;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		char *cand = xasprintf("%.*s/%s", (int)len, len ? p : ".", name);

		if (!access(cand, X_OK) && !stat(cand, &st) && S_ISREG(st.st_mode))
			return cand;
		free(cand);
		p = colon ? colon + 1 : NULL;
	}
	err_set(e, "cannot find shell '%s' in PATH", name);
	return NULL;
}

int bench_calibrate_shell(struct bench_run_opts *o, size_t count, struct err *e)
{
	double wall = 0, user = 0, sys = 0;
	struct run_result r;
	size_t i;

	for (i = 0; i < count; i++) {
		if (spawn(NULL, o->shell, "", false, &r, e))
			return -1;
		if (r.status)
			return err_set(e, "shell '%s' fails to run an empty command (exit status %d)", o->shell,
				       r.status);
		wall += r.wall;
		user += r.user;
		sys += r.sys;
	}
	o->shell_wall = count ? wall / (double)count : 0;
	o->shell_user = count ? user / (double)count : 0;
	o->shell_sys = count ? sys / (double)count : 0;
	return 0;
}

static void record(struct bench_cmd *c, const struct run_result *r)
{
	ALLOC_GROW(c->wall, c->n + 1, c->alloc);
	c->user = xrealloc(c->user, c->alloc * sizeof(*c->user));
	c->sys = xrealloc(c->sys, c->alloc * sizeof(*c->sys));
	c->rss = xrealloc(c->rss, c->alloc * sizeof(*c->rss));
	c->exit_codes = xrealloc(c->exit_codes, c->alloc * sizeof(*c->exit_codes));
	c->wall[c->n] = r->wall;
	c->user[c->n] = r->user;
	c->sys[c->n] = r->sys;
	c->rss[c->n] = r->rss;
	c->exit_codes[c->n] = r->status;
	c->n++;
}

static double minus(double t, double overhead)
{
	return t > overhead ? t - overhead : 0;
}

static int run_cmd(struct bench_cmd *c, const struct bench_run_opts *o, bool measured, struct err *e)
{
	struct run_result r;
	int ret;

	if (stopped(o))
		return BENCH_STOPPED;
	if ((ret = run_snippet("prepare", c->prepare, o, e)))
		return ret;
	if (spawn(c->argv, o->shell, c->display, o->show_output, &r, e))
		return -1;
	if (stopped(o))
		return BENCH_STOPPED;
	if (r.status && !o->ignore_failure)
		return err_set(e, "command '%s' failed with exit status %d (%s)", bench_cmd_name(c), r.status,
			       !c->argv && r.status == 127 ? "the shell did not find it"
							   : "use --ignore-failure to go on");
	if ((ret = run_snippet("conclude", c->conclude, o, e)))
		return ret;
	if (!c->argv) {
		/* Through the shell: its own start-up is not the command's time (clamped at 0, as hyperfine). */
		r.wall = minus(r.wall, o->shell_wall);
		r.user = minus(r.user, o->shell_user);
		r.sys = minus(r.sys, o->shell_sys);
	}
	if (measured)
		record(c, &r);
	return 0;
}

/* splitmix64: a small seeded generator for the shuffled order. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void round_order(size_t *order, size_t n, const struct bench_run_opts *o, uint64_t *rng)
{
	size_t i;

	for (i = 0; i < n; i++)
		order[i] = i;
	if (!o->shuffle)
		return;
	for (i = n; i > 1; i--) {
		size_t j = (size_t)(next_rand(rng) % i), t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
}

int bench_run(struct bench_cmd *cmds, size_t n, const struct bench_run_opts *o,
	      void (*on_run)(void *ctx, size_t done, size_t total), void *ctx, struct err *e)
{
	size_t *order = xcalloc(n ? n : 1, sizeof(*order)), i, k, round, rounds = 0, total = 0, done = 0;
	uint64_t rng = o->seed;
	int ret = -1, r;

	for (i = 0; i < n; i++) {
		char *s = o->setup ? bench_substitute(o->setup, cmds[i].params, cmds[i].nparams) : NULL;

		r = run_snippet("setup", s, o, e);
		free(s);
		if (r) {
			ret = r;
			goto out;
		}
	}
	for (round = 0; round < o->warmup; round++) {
		round_order(order, n, o, &rng);
		for (k = 0; k < n; k++)
			if ((r = run_cmd(&cmds[order[k]], o, false, e))) {
				ret = r;
				goto out;
			}
	}
	/* The first measured round sizes the rest: enough runs for min_time, within [min_runs, max_runs]. */
	round_order(order, n, o, &rng);
	for (k = 0; k < n; k++)
		if ((r = run_cmd(&cmds[order[k]], o, true, e))) {
			ret = r;
			goto out;
		}
	for (i = 0; i < n; i++) {
		struct bench_cmd *c = &cmds[i];

		if (o->runs) {
			c->target = o->runs;
		} else {
			/* A run costs its shell's start-up too, though that is not in its time (as hyperfine). */
			double t = c->wall[0] + (c->argv ? 0 : o->shell_wall), want;

			t = t > 1e-9 ? t : 1e-9;
			want = ceil(o->min_time / t);

			c->target = want > 1e9 ? 1000000000 : (size_t)want;
			if (c->target < o->min_runs)
				c->target = o->min_runs;
			if (o->max_runs && c->target > o->max_runs)
				c->target = o->max_runs;
		}
		if (c->target < 1)
			c->target = 1;
		total += c->target;
		if (c->target > rounds)
			rounds = c->target;
	}
	done = n;
	if (on_run)
		on_run(ctx, done, total);
	for (round = 1; round < rounds; round++) {
		round_order(order, n, o, &rng);
		for (k = 0; k < n; k++) {
			struct bench_cmd *c = &cmds[order[k]];

			if (c->n >= c->target)
				continue;
			if ((r = run_cmd(c, o, true, e))) {
				ret = r;
				goto out;
			}
			done++;
			if (on_run)
				on_run(ctx, done, total);
		}
	}
	ret = 0;
out:
	for (i = 0; i < n; i++) {
		char *s = o->cleanup ? bench_substitute(o->cleanup, cmds[i].params, cmds[i].nparams) : NULL;
		struct err ce = ERR_INIT;

		/*
		 * Cleanup runs even after a failure or a Ctrl-C (with the interrupt flag set a snippet's failure is not
		 * seen); its own failure is reported only when nothing failed before.
		 */
		if (run_snippet("cleanup", s, o, &ce) < 0 && ret == 0) {
			*e = ce;
			ret = -1;
		}
		free(s);
	}
	free(order);
	return ret;
}
