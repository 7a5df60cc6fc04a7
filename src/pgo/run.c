/* Spawning kiln pgo's build and training commands with an amended environment and a copy of their stderr. */
#include "pgo/run.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/xalloc.h"

extern char **environ;

char *pgo_cmd_display(char *const *argv)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; argv && argv[i]; i++) {
		if (i)
			buf_addch(&b, ' ');
		buf_adds(&b, argv[i]);
	}
	return buf_detach(&b, NULL);
}

/* True when one word needs a shell: `kiln pgo train -- './app < input.txt'`. */
static bool needs_shell(char *const *argv)
{
	return argv[0] && !argv[1] && strpbrk(argv[0], " \t|&;<>()$`\\\"'*?[]~{}");
}

/* environ with `env`'s names replaced or added; the array is owned, its strings are borrowed. */
static char **make_env(const char *const *env)
{
	char **v = NULL;
	size_t nr = 0, alloc = 0;

	for (char **p = environ; p && *p; p++) {
		bool replaced = false;

		for (const char *const *x = env; x && *x && !replaced; x++) {
			size_t n = strcspn(*x, "=");

			replaced = !strncmp(*p, *x, n + 1);
		}
		if (replaced)
			continue;
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = *p;
	}
	for (const char *const *x = env; x && *x; x++) {
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = (char *)*x;
	}
	ALLOC_GROW(v, nr + 1, alloc);
	v[nr] = NULL;
	return v;
}

/*
 * The program posix_spawnp() would run, but looked up in the command's own PATH: posix_spawnp() searches the
 * parent's, which would bypass kiln's compiler wrappers for `kiln pgo instrument -- cc ...`. Owned; NULL when
 * it is not found (the caller spawns the name as it is, for the error).
 */
static char *resolve(const char *name, char *const *envp)
{
	const char *path = NULL;
	char *dirs, *save = NULL, *found = NULL;

	if (strchr(name, '/'))
		return xstrdup(name);
	for (char *const *p = envp; *p; p++)
		if (!strncmp(*p, "PATH=", 5))
			path = *p + 5;
	dirs = xstrdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (char *d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char *full = xasprintf("%s/%s", *d ? d : ".", name);

		if (!access(full, X_OK))
			found = full;
		else
			free(full);
	}
	free(dirs);
	return found;
}

/* Copies the pipe to our stderr and into the caller's buffer until the child closes it. */
static void drain(int fd, const struct pgo_cmd *c)
{
	char chunk[4096];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (c->stderr_copy)
			buf_add(c->stderr_copy, chunk, (size_t)n);
		if (!c->quiet) {
			for (ssize_t off = 0; off < n;) {
				ssize_t w = write(2, chunk + off, (size_t)(n - off));

				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					break;
				off += w;
			}
		}
	}
}

int pgo_cmd_run(const struct pgo_cmd *c, int *status, struct err *e)
{
	char *sh_argv[] = { (char *)"/bin/sh", (char *)"-c", NULL, NULL };
	char *const *argv = c->argv;
	posix_spawn_file_actions_t fa;
	char **envp = make_env(c->env), *prog;
	int pipefd[2] = { -1, -1 }, ret = -1, rc, ws;
	pid_t pid;

	*status = 0;
	if (!argv || !argv[0]) {
		free(envp);
		return err_set(e, "empty command");
	}
	if (needs_shell(argv)) {
		sh_argv[2] = argv[0];
		argv = sh_argv;
	}
	if (pipe2(pipefd, O_CLOEXEC)) {
		free(envp);
		return err_errno(e, "cannot create a pipe");
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	if (c->with_stdout)
		posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	prog = resolve(argv[0], envp);
	rc = prog ? posix_spawn(&pid, prog, &fa, NULL, argv, envp) : ENOENT;
	free(prog);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (rc) {
		*status = rc == ENOENT ? 127 : 126;
		errno = rc;
		err_errno(e, "cannot run '%s'", argv[0]);
		goto out;
	}
	drain(pipefd[0], c);
	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR) {
			err_errno(e, "cannot wait for '%s'", argv[0]);
			goto out;
		}
	}
	*status = WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
	ret = 0;
out:
	close(pipefd[0]);
	free(envp);
	return ret;
}
