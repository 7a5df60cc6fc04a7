/*
 * Starting a command so that "cannot run it" is told apart from a command that exits 127 (env(1)'s 126 and
 * 127): the child reports exec's errno on a close-on-exec pipe, which a successful exec closes with nothing
 * written. A child can also be held before its exec until the caller is ready (the recorder opens perf events
 * on it first, with enable_on_exec).
 *
 *   struct spawn sp;
 *   struct spawn_opts o = { .argv = argv, .gated = true };
 *   if (spawn_start(&sp, &o, e) < 0) ...            fork failed
 *   ... open events on sp.pid ...
 *   int err = spawn_exec_wait(&sp, &status);         0: it runs the command; else exec's errno (reaped)
 *
 * The benchmark runner's shape fits too: a `setup` hook sends the child's stdio to /dev/null, and a shell
 * command is argv = { shell, "-c", cmd }.
 */
#ifndef KILN_SPAWN_H
#define KILN_SPAWN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct err;

struct spawn_opts {
	char *const *argv;        /* NULL-terminated; argv[0] is looked up in PATH (execvp) */
	bool gated;               /* hold the child before exec until spawn_exec_wait() */
	uint64_t ignored_signals; /* bit N: signal N is ignored in the child (kiln's caller ignored it) */
	/* Runs in the child after fork, before exec (environment, descriptors); it may only exit with _exit(). */
	void (*setup)(void *arg);
	void *setup_arg;
};

struct spawn {
	pid_t pid;   /* the child, -1 before spawn_start() succeeds */
	int gate_fd; /* write end of the gate (closing it releases the child), -1 when not gated */
	int err_fd;  /* read end of the errno pipe, -1 once read */
};

/* Forks the child. Returns 0 with `sp` filled, or -1 with `e` set (nothing is left to clean up). */
int spawn_start(struct spawn *sp, const struct spawn_opts *o, struct err *e);

/*
 * Releases a gated child and waits until it has exec'd the command or failed to. Returns 0 when the command
 * runs (the caller waits for it as usual), or exec's errno: the child has then been reaped (its wait status in
 * `*status` when not NULL) and sp->pid is -1.
 */
int spawn_exec_wait(struct spawn *sp, int *status);

/* Kills and reaps a child that must not run (a recording failed before its exec), closes the pipes; a no-op
 * for a child already released or reaped. */
void spawn_abort(struct spawn *sp);

/*
 * A command asked to stop (a Ctrl-C, a signal passed on) that is still running after a grace period is made
 * to: SIGTERM once SPAWN_GRACE_NS passed since `asked_ns`, SIGKILL once twice that passed (a target that
 * ignores SIGINT, or SIGTERM too, cannot hold a recording open). Call it as often as convenient with the
 * now_ns() time; `*sent` (0 at first) keeps the last signal sent. Returns the signal sent by this call, or 0.
 */
#define SPAWN_GRACE_NS 2000000000ULL
int spawn_escalate(pid_t pid, uint64_t asked_ns, uint64_t now, int *sent);

#endif
