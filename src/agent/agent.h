/*
 * The agent of `kiln profile --push` (docs/push.md): the recording driver runs continuously (run.h) and every
 * window's profile goes to the uploader (push.h), labelled with the service, the host and the user's tags.
 *
 *   one series      a launched command or one PID: the whole window, service from --service or the command's
 *                   (or the process's) name
 *   per process     -a or several PIDs: the window is split by process, one series each (labelled pid=N),
 *                   named by --service, else by the process's comm, executable or cgroup (agent_service_from)
 *
 * Pushed profiles carry no per-sample labels (pid, tid, comm): a Pyroscope-compatible server turns every
 * distinct sample label set into a series of its own, which would make one series per thread.
 *
 * The recording thread never waits for the network: it encodes and queues; the pusher's thread sends. At the
 * end (the targets exit, the duration passes, or SIGINT/SIGTERM) the last, partial window is pushed too and
 * the queue is drained for at most `drain_ms`. Library code: nothing is printed.
 */
#ifndef KILN_AGENT_AGENT_H
#define KILN_AGENT_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/push.h"

struct buf;
struct err;
struct profile;
struct record_request;
struct record_result;

enum agent_service_from {
	AGENT_SERVICE_COMM,   /* the process's command name (/proc/PID/comm) */
	AGENT_SERVICE_EXE,    /* the basename of its executable (/proc/PID/exe) */
	AGENT_SERVICE_CGROUP, /* the last component of its cgroup v2 path (a systemd unit, a container scope) */
};

/* The name of a rule ("comm", "exe", "cgroup") and back; -1 for an unknown name. */
int agent_service_from_parse(const char *name);

struct agent_opts {
	struct push_opts push;  /* push.app: --service, or NULL to name series after their process */
	uint64_t window_ns;     /* 0: 10 s */
	bool per_process;       /* one series per process (-a, several PIDs) */
	enum agent_service_from service_from;
	int drain_ms;           /* at the end, at most this long to send what is queued; 0: 5 s */
	const char *column;     /* push only this column of the windows' profiles (e.g. "off_cpu"); NULL: all */
};

struct agent_result {
	uint64_t windows;       /* windows recorded */
	uint64_t empty;         /* of which had no samples (nothing pushed) */
	struct push_stats push; /* profiles queued, sent, dropped, rejected, retried (one per window and series) */
};

/*
 * Records as `rq` says (cpu, mem or offcpu mode, see run.h; handle_signals as the caller wants) and pushes a profile per
 * window and series. Returns 0 with `res` filled as record_run_continuous() fills it (the exit status, notes)
 * and `ar` the counters, or -1 with `e` set when the pusher or the recording could not start or failed.
 */
int agent_run(const struct record_request *rq, const struct agent_opts *o, struct record_result *res,
	      struct agent_result *ar, struct err *e);

/*
 * The profile of the rows of `src` whose numeric label "pid" is `pid` (all rows when `pid` < 0), with the
 * per-sample labels left out; columns, period and time as in `src`. Owned by the caller (profile_free()).
 */
struct profile *agent_project(const struct profile *src, int64_t pid);

/* Appends the service name of process `pid` by `rule` to `out`; `fallback` (e.g. a comm seen in samples) when
 * /proc no longer has the process. */
void agent_service_name(struct buf *out, pid_t pid, enum agent_service_from rule, const char *fallback);

#endif
