/* Starting a command with exec's errno reported on a pipe, optionally held before exec (see spawn.h). */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void child(const struct spawn_opts *o, int gate, int errfd)
{
	char c;
	int err;

	/* kiln's handlers revert to the defaults at exec; what kiln's caller ignored stays ignored. */
	for (int sig = 1; sig < 64; sig++)
		if (o->ignored_signals & (1ULL << sig))
			signal(sig, SIG_IGN);
	if (gate >= 0) {
		while (read(gate, &c, 1) < 0 && errno == EINTR)
			;
		close(gate);
	}
	if (o->setup)
		o->setup(o->setup_arg);
	execvp(o->argv[0], o->argv);
	err = errno;
	if (write(errfd, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

int spawn_start(struct spawn *sp, const struct spawn_opts *o, struct err *e)
{
	int gate[2] = { -1, -1 }, errpipe[2] = { -1, -1 };

	sp->pid = -1;
	sp->gate_fd = sp->err_fd = -1;
	if ((o->gated && pipe2(gate, O_CLOEXEC) < 0) || pipe2(errpipe, O_CLOEXEC) < 0) {
		err_errno(e, "cannot create a pipe");
		goto fail;
	}
	fflush(NULL); /* the child must not write kiln's buffered output again */
	sp->pid = fork();
	if (sp->pid < 0) {
		err_errno(e, "cannot fork");
		goto fail;
	}
	if (sp->pid == 0) {
		close_fd(&gate[1]);
		close_fd(&errpipe[0]);
		child(o, gate[0], errpipe[1]);
	}
	close_fd(&gate[0]);
	close_fd(&errpipe[1]);
	sp->gate_fd = gate[1];
	sp->err_fd = errpipe[0];
	return 0;
fail:
	close_fd(&gate[0]);
	close_fd(&gate[1]);
	close_fd(&errpipe[0]);
	close_fd(&errpipe[1]);
	return -1;
}

int spawn_exec_wait(struct spawn *sp, int *status)
{
	int err = 0, st = 0;
	ssize_t n;

	close_fd(&sp->gate_fd);
	while ((n = read(sp->err_fd, &err, sizeof(err))) < 0 && errno == EINTR)
		;
	close_fd(&sp->err_fd);
	if (n != (ssize_t)sizeof(err))
		return 0;
	while (waitpid(sp->pid, &st, 0) < 0 && errno == EINTR)
		;
	if (status)
		*status = st;
	sp->pid = -1;
	return err ? err : ENOEXEC;
}

void spawn_abort(struct spawn *sp)
{
	if (sp->pid > 0 && sp->gate_fd >= 0) {
		kill(sp->pid, SIGKILL);
		while (waitpid(sp->pid, NULL, 0) < 0 && errno == EINTR)
			;
		sp->pid = -1;
	}
	close_fd(&sp->gate_fd);
	close_fd(&sp->err_fd);
}

int spawn_escalate(pid_t pid, uint64_t asked_ns, uint64_t now, int *sent)
{
	int sig = 0;

	if (pid <= 0 || now < asked_ns)
		return 0;
	if (*sent != SIGKILL && now - asked_ns >= 2 * SPAWN_GRACE_NS)
		sig = SIGKILL;
	else if (!*sent && now - asked_ns >= SPAWN_GRACE_NS)
		sig = SIGTERM;
	if (!sig)
		return 0;
	kill(pid, sig);
	*sent = sig;
	return sig;
}
