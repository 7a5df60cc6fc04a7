/* The live cpu-clock sampler: perf_event_open, ring buffers, launch/attach/system-wide (see recorder.h). */
#include <asm/perf_regs.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/array.h"
#include "../core/clock.h"
#include "../core/err.h"
#include "../core/hash.h"
#include "../core/spawn.h"
#include "../core/xalloc.h"
#include "../perf/perf_record.h"
#include "perfperm.h"
#include "recorder.h"
#include "session.h"

#define POLL_MS 100

struct ring {
	int fd;
	struct perf_event_mmap_page *meta;
	unsigned char *data;
	size_t size; /* data area bytes, a power of two */
	size_t map_len;
};

/* A record copied out of a ring buffer in one round, ordered by time before it is processed. */
struct pending {
	uint64_t time;
	size_t off, len; /* in the round buffer */
	uint64_t seq;
};

struct rec {
	const struct recorder_opts *o;
	struct rec_session *s;
	struct perf_fmt fmt;
	struct perf_event_attr attr;

	int *fds; /* every event, including those redirected into another's ring */
	size_t fds_nr, fds_alloc;
	struct ring *rings;
	size_t rings_nr, rings_alloc;
	struct u64map tids; /* attach: threads with an event */
	int *cpu_ring;       /* attach: ring index per CPU, -1 = none yet */

	unsigned char *round;
	size_t round_nr, round_alloc;
	struct pending *pend;
	size_t pend_nr, pend_alloc;
	uint64_t bytes_read;
};

static volatile sig_atomic_t stop_requested; /* number of stop requests */
static volatile sig_atomic_t forward_signal;
static volatile sig_atomic_t stop_signal;

void recorder_stop(int sig, bool forward)
{
	if (stop_requested < 100)
		stop_requested++;
	stop_signal = sig;
	if (forward)
		forward_signal = sig;
}

uint64_t recorder_dwarf_regs_mask(void)
{
	/* What DWARF CFI needs on x86_64: the CFA registers and the callee-saved ones (perf's PERF_REGS_MASK). */
	return (1ULL << PERF_REG_X86_AX) | (1ULL << PERF_REG_X86_BX) | (1ULL << PERF_REG_X86_CX) |
	       (1ULL << PERF_REG_X86_DX) | (1ULL << PERF_REG_X86_SI) | (1ULL << PERF_REG_X86_DI) |
	       (1ULL << PERF_REG_X86_BP) | (1ULL << PERF_REG_X86_SP) | (1ULL << PERF_REG_X86_IP) |
	       (1ULL << PERF_REG_X86_R8) | (1ULL << PERF_REG_X86_R9) | (1ULL << PERF_REG_X86_R10) |
	       (1ULL << PERF_REG_X86_R11) | (1ULL << PERF_REG_X86_R12) | (1ULL << PERF_REG_X86_R13) |
	       (1ULL << PERF_REG_X86_R14) | (1ULL << PERF_REG_X86_R15);
}

uint64_t recorder_leaf_regs_mask(void)
{
	return (1ULL << PERF_REG_X86_BP) | (1ULL << PERF_REG_X86_SP) | (1ULL << PERF_REG_X86_IP);
}

static int sys_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group, unsigned long flags)
{
	return (int)syscall(SYS_perf_event_open, attr, pid, cpu, group, flags);
}

static int sys_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void setup_attr(struct rec *r)
{
	const struct recorder_opts *o = r->o;
	struct perf_event_attr *a = &r->attr;

	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->type = PERF_TYPE_SOFTWARE;
	a->config = o->sideband_only ? PERF_COUNT_SW_DUMMY : PERF_COUNT_SW_CPU_CLOCK;
	/* A fixed period in nanoseconds: cpu-clock needs no frequency feedback, and every sample weighs the same. */
	a->sample_period = 1000000000ULL / (o->freq ? o->freq : 99);
	a->sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CALLCHAIN |
			 PERF_SAMPLE_PERIOD;
	if (o->dwarf) {
		a->sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
		a->sample_regs_user = recorder_dwarf_regs_mask();
		a->sample_stack_user = o->stack_size ? o->stack_size : 8192;
		a->exclude_callchain_user = 1;
	} else if (!o->sideband_only) {
		/* The kernel's frame-pointer walk stays; these let the session repair its first step. */
		a->sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
		a->sample_regs_user = recorder_leaf_regs_mask();
		a->sample_stack_user = RECORDER_LEAF_STACK;
	}
	/* perf_event_paranoid >= 2 without CAP_PERFMON: the kernel refuses samples in kernel mode (perfperm.h) */
	a->exclude_kernel = perfperm_user_space_only(perfperm_get());
	if (o->user_only || a->exclude_kernel)
		a->exclude_callchain_kernel = 1;
	a->disabled = 1;
	a->inherit = o->mode != REC_SYSTEM;
	a->enable_on_exec = o->mode == REC_LAUNCH;
	a->mmap = 1;
	a->mmap2 = 1;
	a->comm = 1;
	a->comm_exec = 1;
	a->task = 1;
	a->sample_id_all = 1;
	a->build_id = 1;
	a->watermark = 1;
	/* watermark with wakeup_watermark 0: the kernel wakes poll() at half a ring; POLL_MS bounds latency. */
	if (o->wakeup_events) {
		a->watermark = 0;
		a->wakeup_events = o->wakeup_events;
	}

	r->fmt.sample_type = a->sample_type;
	r->fmt.read_format = a->read_format;
	r->fmt.sample_regs_user = a->sample_regs_user;
	r->fmt.sample_id_all = true;
}

/* Opens one event; retries without the newer attr bits an older kernel rejects. */
static int open_event(struct rec *r, pid_t pid, int cpu, struct err *e)
{
	for (;;) {
		int fd = sys_perf_event_open(&r->attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (errno == EINVAL && r->attr.build_id) {
			r->attr.build_id = 0;
			continue;
		}
		if (pid > 0 && (errno == ESRCH))
			return -2; /* the thread is gone */
		if (errno == EACCES || errno == EPERM)
			return perfperm_open_error(perfperm_get(), pid == -1, errno, e);
		if (errno == EMFILE)
			return err_errno(e, "cannot open the cpu-clock event for every CPU/thread (raise 'ulimit -n')");
		if (errno == ENOENT || errno == ENOSYS || errno == EOPNOTSUPP)
			return err_errno(e, "cannot open the cpu-clock event (no perf_event support in this kernel)");
		return err_errno(e, "cannot open the cpu-clock event on cpu %d for pid %d", cpu, (int)pid);
	}
}

static int add_ring(struct rec *r, int fd, struct err *e)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	/* dwarf samples carry ~8 KiB of stack each: 4 MiB holds ~120 ms at 4000 Hz while a round is unwound. */
	size_t pages = r->o->mmap_pages ? r->o->mmap_pages : (r->o->dwarf ? 1024 : 128);
	void *m;
	for (;;) {
		m = mmap(NULL, (pages + 1) * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m != MAP_FAILED)
			break;
		/* Unprivileged users are limited by perf_event_mlock_kb: settle for a smaller ring. */
		if (errno != EPERM || r->o->mmap_pages || pages <= 8)
			return err_errno(e, "cannot map the perf ring buffer (%zu KiB)", pages * page / 1024);
		pages /= 2;
	}
	ALLOC_GROW(r->rings, r->rings_nr + 1, r->rings_alloc);
	struct ring *rg = &r->rings[r->rings_nr++];
	rg->fd = fd;
	rg->meta = m;
	rg->data = (unsigned char *)m + page;
	rg->size = pages * page;
	rg->map_len = (pages + 1) * page;
	return 0;
}

static void add_fd(struct rec *r, int fd)
{
	ALLOC_GROW(r->fds, r->fds_nr + 1, r->fds_alloc);
	r->fds[r->fds_nr++] = fd;
}

static int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);
	return n > 0 ? (int)n : 1;
}

/* One event per CPU on `pid` (-1 = everything), each with its own ring buffer. */
static int open_per_cpu(struct rec *r, pid_t pid, struct err *e)
{
	int ncpu = online_cpus(), opened = 0;
	for (int cpu = 0; cpu < ncpu; cpu++) {
		int fd = open_event(r, pid, cpu, e);
		if (fd == -2)
			continue;
		if (fd < 0) {
			/* An offline CPU refuses events; only failing on every CPU is an error. */
			if (errno == ENODEV || errno == EINVAL)
				continue;
			return -1;
		}
		add_fd(r, fd);
		if (add_ring(r, fd, e) < 0)
			return -1;
		opened++;
	}
	if (!opened)
		return err_set(e, "cannot open the cpu-clock event on any CPU");
	return 0;
}

/*
 * Attach: one inherited event per thread of `pid` and CPU (the kernel cannot map an inherited event on every
 * CPU at once), each redirected into its CPU's ring. Returns the number of threads newly covered.
 */
static int attach_threads(struct rec *r, uint32_t pid, struct err *e)
{
	char path[64];
	int ncpu = online_cpus();
	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return err_errno(e, "cannot attach to process %" PRIu32, pid);
	if (!r->cpu_ring) {
		r->cpu_ring = xmalloc((size_t)ncpu * sizeof(*r->cpu_ring));
		for (int c = 0; c < ncpu; c++)
			r->cpu_ring[c] = -1;
	}
	int added = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		char *end;
		unsigned long tid = strtoul(de->d_name, &end, 10);
		if (*end || !tid)
			continue;
		int inserted;
		u64map_insert(&r->tids, tid, &inserted);
		if (!inserted)
			continue;
		bool any = false;
		for (int cpu = 0; cpu < ncpu; cpu++) {
			int fd = open_event(r, (pid_t)tid, cpu, e);
			if (fd == -2)
				break; /* the thread is gone */
			if (fd < 0) {
				if (errno == ENODEV || errno == EINVAL)
					continue; /* offline CPU */
				closedir(d);
				return -1;
			}
			add_fd(r, fd);
			any = true;
			if (r->cpu_ring[cpu] < 0) {
				if (add_ring(r, fd, e) < 0) {
					closedir(d);
					return -1;
				}
				r->cpu_ring[cpu] = (int)r->rings_nr - 1;
			} else if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, r->rings[r->cpu_ring[cpu]].fd) < 0) {
				closedir(d);
				return err_errno(e, "cannot share the perf ring buffer");
			}
		}
		added += any;
	}
	closedir(d);
	return added;
}

static int pending_cmp(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Copies every complete record out of every ring, then feeds them to the session in time order. */
static void drain(struct rec *r)
{
	r->round_nr = 0;
	r->pend_nr = 0;
	uint64_t seq = 0;

	for (size_t i = 0; i < r->rings_nr; i++) {
		struct ring *rg = &r->rings[i];
		uint64_t head = __atomic_load_n(&rg->meta->data_head, __ATOMIC_ACQUIRE);
		uint64_t tail = rg->meta->data_tail;
		uint64_t last_time = 0;

		while (tail < head) {
			struct perf_event_header h;
			size_t off = (size_t)(tail & (rg->size - 1));
			size_t first = rg->size - off;
			if (first >= sizeof(h)) {
				memcpy(&h, rg->data + off, sizeof(h));
			} else {
				memcpy(&h, rg->data + off, first);
				memcpy((unsigned char *)&h + first, rg->data, sizeof(h) - first);
			}
			if (h.size < sizeof(h) || h.size > head - tail)
				break; /* cannot happen with a sane kernel; resynchronise at head */
			ALLOC_GROW(r->round, r->round_nr + h.size, r->round_alloc);
			unsigned char *dst = r->round + r->round_nr;
			if (first >= h.size) {
				memcpy(dst, rg->data + off, h.size);
			} else {
				memcpy(dst, rg->data + off, first);
				memcpy(dst + first, rg->data, h.size - first);
			}
			/* The time sits at a fixed place only per type; decode it once here. */
			struct perf_rec pr;
			uint64_t t = last_time;
			if (perf_record_decode(&r->fmt, dst, h.size, &pr, NULL) == 0 && pr.sid.has_time)
				t = pr.sid.time;
			last_time = t;
			ALLOC_GROW(r->pend, r->pend_nr + 1, r->pend_alloc);
			r->pend[r->pend_nr++] = (struct pending){ t, r->round_nr, h.size, seq++ };
			r->round_nr += h.size;
			tail += h.size;
		}
		r->bytes_read += head - rg->meta->data_tail;
		__atomic_store_n(&rg->meta->data_tail, head, __ATOMIC_RELEASE);
	}

	if (!r->pend_nr)
		return;
	qsort(r->pend, r->pend_nr, sizeof(*r->pend), pending_cmp);
	for (size_t i = 0; i < r->pend_nr; i++) {
		struct perf_rec pr;
		if (perf_record_decode(&r->fmt, r->round + r->pend[i].off, r->pend[i].len, &pr, NULL) < 0)
			continue;
		rec_session_record(r->s, &pr);
	}
}

static void enable_all(struct rec *r)
{
	for (size_t i = 0; i < r->fds_nr; i++)
		ioctl(r->fds[i], PERF_EVENT_IOC_ENABLE, 0);
}

static void disable_all(struct rec *r)
{
	for (size_t i = 0; i < r->fds_nr; i++)
		ioctl(r->fds[i], PERF_EVENT_IOC_DISABLE, 0);
}

static void release(struct rec *r)
{
	for (size_t i = 0; i < r->rings_nr; i++)
		munmap(r->rings[i].meta, r->rings[i].map_len);
	for (size_t i = 0; i < r->fds_nr; i++)
		close(r->fds[i]);
	free(r->rings);
	free(r->fds);
	free(r->round);
	free(r->pend);
	free(r->cpu_ring);
	u64map_release(&r->tids);
}

/* A recording between recorder_start() and recorder_end(). */
struct recorder {
	struct rec r;
	struct recorder_result *res;
	struct spawn sp;
	pid_t child;
	bool launch, child_reaped, ended;
	int *pidfds;
	size_t npidfds, nexited;
	bool *exited;
	struct pollfd *pfd;
	uint64_t start, deadline;
	uint64_t stop_ns; /* when the first stop request was seen, for the grace period (spawn_escalate) */
};

/* Opens the events of the mode on the child, the targets or every CPU. */
static int open_events(struct recorder *rc, struct err *e)
{
	const struct recorder_opts *o = rc->r.o;
	struct rec_session *s = rc->r.s;

	if (o->mode == REC_SYSTEM) {
		if (open_per_cpu(&rc->r, -1, e) < 0)
			return -1;
		/* What runs already: its threads, names and executable mappings. */
		DIR *d = opendir("/proc");
		struct dirent *de;
		while (d && (de = readdir(d))) {
			char *end;
			unsigned long pid = strtoul(de->d_name, &end, 10);
			if (!*end && pid)
				rec_session_synthesize(s, (uint32_t)pid, NULL);
		}
		if (d)
			closedir(d);
		return 0;
	}
	if (o->mode == REC_LAUNCH)
		return open_per_cpu(&rc->r, rc->child, e);
	rc->pidfds = xcalloc(o->npids ? o->npids : 1, sizeof(*rc->pidfds));
	for (size_t i = 0; i < o->npids; i++) {
		if (rec_session_synthesize(s, o->pids[i], e) < 0 || attach_threads(&rc->r, o->pids[i], e) < 0)
			return -1;
		int fd = sys_pidfd_open((pid_t)o->pids[i]);
		if (fd >= 0)
			rc->pidfds[rc->npidfds++] = fd;
	}
	/* Threads created while the first ones were being opened: rescan until nothing is new. */
	for (int round = 0; round < 16; round++) {
		int added = 0;
		for (size_t i = 0; i < o->npids; i++) {
			int n = attach_threads(&rc->r, o->pids[i], NULL);
			if (n > 0) {
				added += n;
				rec_session_synthesize(s, o->pids[i], NULL);
			}
		}
		if (!added)
			break;
	}
	return 0;
}

static void recorder_free(struct recorder *rc)
{
	/* Recording failed before the command ran: it must not run unprofiled. */
	spawn_abort(&rc->sp);
	for (size_t i = 0; i < rc->npidfds; i++)
		close(rc->pidfds[i]);
	free(rc->pidfds);
	free(rc->pfd);
	free(rc->exited);
	release(&rc->r);
	free(rc);
}

int recorder_start(const struct recorder_opts *o, struct rec_session *s, struct recorder_result *res,
		   struct recorder **out, struct err *e)
{
	struct recorder *rc = xcalloc(1, sizeof(*rc));

	*out = NULL;
	memset(res, 0, sizeof(*res));
	rc->res = res;
	rc->sp = (struct spawn){ -1, -1, -1 };
	rc->child = -1;
	rc->r.o = o;
	rc->r.s = s;
	stop_requested = 0;
	forward_signal = 0;
	stop_signal = 0;
	setup_attr(&rc->r);

	rc->launch = o->argv && o->argv[0];
	if (rc->launch) {
		struct spawn_opts so = { .argv = o->argv, .gated = true, .ignored_signals = o->child_ignored_signals };
		if (spawn_start(&rc->sp, &so, e) < 0)
			goto fail;
		rc->child = rc->sp.pid;
		rc->pidfds = xcalloc(1, sizeof(*rc->pidfds));
		rc->pidfds[0] = sys_pidfd_open(rc->child);
		rc->npidfds = rc->pidfds[0] >= 0;
	}
	if (open_events(rc, e) < 0)
		goto fail;
	for (size_t i = 0; i < rc->r.rings_nr; i++)
		rc->r.rings[i].meta->data_tail = 0;
	if (o->on_ready && o->on_ready(rc->launch ? (uint32_t)rc->child : 0, o->on_ready_arg, e) < 0)
		goto fail;

	rc->start = now_ns();
	res->start_epoch_ns = epoch_ns();
	res->start_mono_ns = rc->start;
	if (o->mode != REC_LAUNCH)
		enable_all(&rc->r);
	if (rc->launch) {
		/* Released, the child execs, which enables the events. */
		int err = spawn_exec_wait(&rc->sp, NULL);
		if (err) {
			rc->child_reaped = true;
			res->reaped = true;
			res->launch_error = err == ENOENT ? REC_LAUNCH_NOT_FOUND : REC_LAUNCH_CANNOT_RUN;
			errno = err;
			err_errno(e, "cannot run '%s'", o->argv[0]);
			recorder_free(rc);
			return 0;
		}
		res->launched = true;
		res->child = rc->child;
	}
	rc->deadline = o->duration > 0 ? rc->start + (uint64_t)(o->duration * 1e9) : 0;
	rc->pfd = xcalloc(rc->r.rings_nr + rc->npidfds + 1, sizeof(*rc->pfd));
	rc->exited = xcalloc(rc->npidfds + 1, sizeof(*rc->exited));
	*out = rc;
	return 0;
fail:
	res->bytes_read = rc->r.bytes_read;
	recorder_free(rc);
	return -1;
}

/* True when the recording's end condition holds (the command ended, the targets exited, a stop request). */
static bool ended(struct recorder *rc)
{
	if (stop_requested) {
		if (rc->launch && !rc->child_reaped && forward_signal) {
			kill(rc->child, forward_signal);
			forward_signal = 0;
		}
		/* A launched command is waited for; a second request stops without it. */
		if (!rc->launch || stop_requested >= 2) {
			rc->res->stop_signal = stop_signal;
			return true;
		}
		/* ... for a grace period: one that ignores the signal is then sent SIGTERM, later SIGKILL. */
		uint64_t now = now_ns();
		if (!rc->stop_ns) {
			rc->stop_ns = now;
			rc->res->stop_asked = stop_signal;
		}
		else if (!rc->child_reaped)
			spawn_escalate(rc->child, rc->stop_ns, now, &rc->res->escalated);
	}
	if (rc->launch && !rc->child_reaped) {
		int status;
		pid_t w = waitpid(rc->child, &status, WNOHANG);
		if (w == rc->child) {
			rc->child_reaped = true;
			rc->res->status = status;
			return true;
		}
	}
	if (!rc->launch && rc->npidfds && rc->nexited == rc->npidfds)
		return true; /* every target exited */
	return rc->deadline && now_ns() >= rc->deadline;
}

int recorder_poll(struct recorder *rc, uint64_t until_ns)
{
	struct rec *r = &rc->r;

	while (!rc->ended) {
		if (ended(rc)) {
			rc->ended = true;
			break;
		}
		uint64_t now = now_ns(), limit = rc->deadline;
		if (until_ns && (!limit || until_ns < limit))
			limit = until_ns;
		if (until_ns && now >= until_ns)
			return 0;
		int timeout = POLL_MS;
		if (limit && (limit - now) / 1000000 < (uint64_t)timeout)
			timeout = (int)((limit - now) / 1000000) + 1;
		size_t n = 0;
		for (size_t i = 0; i < r->rings_nr; i++)
			rc->pfd[n++] = (struct pollfd){ .fd = r->rings[i].fd, .events = POLLIN };
		for (size_t i = 0; i < rc->npidfds; i++)
			rc->pfd[n++] = (struct pollfd){ .fd = rc->exited[i] ? -1 : rc->pidfds[i], .events = POLLIN };
		int pr = poll(rc->pfd, n, timeout);
		if (pr < 0 && errno != EINTR) {
			rc->ended = true;
			break;
		}
		for (size_t i = 0; i < rc->npidfds; i++)
			if (!rc->exited[i] && (rc->pfd[r->rings_nr + i].revents & (POLLIN | POLLHUP))) {
				rc->exited[i] = true;
				rc->nexited++;
			}
		drain(r);
	}
	return 1;
}

void recorder_flush(struct recorder *rc)
{
	drain(&rc->r);
}

void recorder_end(struct recorder *rc)
{
	struct recorder_result *res;

	if (!rc)
		return;
	res = rc->res;
	disable_all(&rc->r);
	drain(&rc->r);
	res->duration_ns = now_ns() - rc->start;
	res->reaped = rc->child_reaped;
	res->bytes_read = rc->r.bytes_read;
	res->nevents = (unsigned)rc->r.fds_nr;
	recorder_free(rc);
}

int recorder_run(const struct recorder_opts *o, struct rec_session *s, struct recorder_result *res, struct err *e)
{
	struct recorder *rc;

	if (recorder_start(o, s, res, &rc, e) < 0)
		return -1;
	if (!rc)
		return 0; /* the command could not be run: res->launch_error */
	while (!recorder_poll(rc, 0))
		;
	recorder_end(rc);
	return 0;
}
