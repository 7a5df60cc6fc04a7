/* The recording driver: one path from a request to a profile for every mode, once or in windows (see run.h). */
#include "run.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/buf.h"
#include "../core/clock.h"
#include "../core/err.h"
#include "../core/xalloc.h"
#include "../profile/profile.h"
#include "../symbols/symbolizer.h"
#include "iotrace_count.h"
#include "perfperm.h"
#include "run_mode.h"

static const char *const mode_names[] = { "cpu", "mem", "offcpu", "wall", "io" };

unsigned record_mode_parse(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (name && !strcmp(name, mode_names[i]))
			return 1u << i;
	return 0;
}

const char *record_mode_name(unsigned mode)
{
	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (mode == 1u << i)
			return mode_names[i];
	return "cpu";
}

void record_note(struct record_result *res, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	ALLOC_GROW(res->notes, res->notes_nr + 1, res->notes_alloc);
	res->notes[res->notes_nr++] = buf_detach(&b, NULL);
}

void record_result_release(struct record_result *res)
{
	for (size_t i = 0; i < res->notes_nr; i++)
		free(res->notes[i]);
	free(res->notes);
	if (res->have_io)
		io_result_release(&res->io);
	memset(res, 0, sizeof(*res));
}

/* --- signals: one handler for every mode --- */

static const struct record_mode *volatile signal_mode;

void record_stop(int sig, bool forward)
{
	const struct record_mode *m = signal_mode;

	if (m && m->signal)
		m->signal(sig, forward);
}

/* Stops the recording; a signal sent to kiln alone (not by the terminal, which already reached the command's
 * process group) is passed on to the command. */
static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	record_stop(sig, si && (si->si_code == SI_USER || si->si_code == SI_QUEUE));
}

static const int stop_signals[3] = { SIGINT, SIGTERM, SIGHUP };

static void signals_install(struct record_run *r, struct sigaction old[3])
{
	struct sigaction sa;

	signal_mode = r->mode;
	if (!r->rq->handle_signals)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++) {
		sigaction(stop_signals[i], &sa, &old[i]);
		/* An ignored signal (a background job's SIGINT, nohup's SIGHUP) stays ignored in the command. */
		if (old[i].sa_handler == SIG_IGN)
			r->child_ignored_signals |= 1ULL << stop_signals[i];
	}
}

static void signals_restore(struct record_run *r, const struct sigaction old[3])
{
	if (r->rq->handle_signals)
		for (int i = 0; i < 3; i++)
			sigaction(stop_signals[i], &old[i], NULL);
	signal_mode = NULL;
}

/* --- one run --- */

static struct symbolizer *symbolizer_for(const struct record_request *rq)
{
	struct symbolizer *sym = symbolizer_new();

	/* The same meaning in every mode: the user's directories first, then the system's. */
	if (rq->debuginfo_dirs) {
		char *dirs = xasprintf("%s:/usr/lib/debug", rq->debuginfo_dirs);

		symbolizer_set_debuginfo_dirs(sym, dirs);
		free(dirs);
	}
	if (rq->no_inline)
		symbolizer_set_flags(sym, SYMBOLIZER_NO_INLINE);
	return sym;
}

static int run_init(struct record_run *r, const struct record_request *rq, struct record_result *res,
		    struct err *e)
{
	memset(r, 0, sizeof(*r));
	memset(res, 0, sizeof(*res));
	r->rq = rq;
	r->res = res;
	r->mode = record_mode_find(rq->mode ? rq->mode : RECORD_CPU);
	if (!r->mode)
		return err_set(e, "unknown recording mode %#x", rq->mode);
	r->launch = rq->argv && rq->argv[0];
	if (rq->npids && (rq->all_cpus || r->launch))
		return err_set(e, "PIDs cannot be combined with a command or all CPUs");
	if (!rq->npids && !rq->all_cpus && !r->launch)
		return err_set(e, "nothing to record: no command, PIDs or all CPUs");
	/* What this user may record (perfperm.h), said before anything runs. */
	if (r->mode->bit & (RECORD_OFFCPU | RECORD_WALL | RECORD_IO)) {
		char what[32];

		snprintf(what, sizeof(what), "--mode %s", r->mode->name);
		if (perfperm_check_bpf(perfperm_get(), what, r->mode->bit == RECORD_IO && r->launch && !rq->all_cpus,
				       e) < 0)
			return -1;
	}
	if ((r->mode->bit & RECORD_CPU) && !rq->user_only && !rq->all_cpus &&
	    perfperm_user_space_only(perfperm_get())) {
		/* The kernel's setting allows user space only: sample that, and say why kernel frames are missing. */
		r->rq_own = *rq;
		r->rq_own.user_only = true;
		r->rq = &r->rq_own;
		record_note(res, "%s", perfperm_user_space_note(perfperm_get()));
	}
	r->freq = rq->freq ? rq->freq : !rq->npids && !rq->all_cpus ? RECORD_FREQ_LAUNCH : RECORD_FREQ_ATTACH;
	res->freq = r->freq;
	r->sym = symbolizer_for(rq);
	return 0;
}

static void run_release(struct record_run *r)
{
	recorder_end(r->rc);
	r->rc = NULL;
	rec_session_free(r->s);
	offcpu_free(r->oc);
	iotrace_free(r->it);
	iocount_free(r->ic);
	runtime_free(r->rt);
	heap_run_end(r->hr);
	heap_trace_free(r->ht); /* first: it waits for the warm-up thread, which uses sym */
	symbolizer_free(r->sym);
	free(r->preload);
}

/* Starts the mode with the signals handled; 1 when the command could not be run. */
static int run_start(struct record_run *r, struct sigaction old[3], struct err *e)
{
	signals_install(r, old);
	if (r->mode->start(r, e) < 0)
		return -1;
	return r->res->launch_failed;
}

/* Polls the mode to its end, calling rq->on_progress between slices of a quarter second. */
static int poll_with_progress(struct record_run *r, struct err *e)
{
	const struct record_request *rq = r->rq;
	uint64_t start = now_ns();
	int st;

	if (!rq->on_progress) {
		while (!(st = r->mode->poll(r, 0, e)))
			;
		return st;
	}
	while (!(st = r->mode->poll(r, now_ns() + 250000000ULL, e)))
		rq->on_progress(now_ns() - start, rq->progress_arg);
	return st;
}

int record_run(const struct record_request *rq, struct profile *p, struct record_result *res, struct err *e)
{
	struct record_run r;
	struct sigaction old[3];
	int ret = -1, st;

	if (run_init(&r, rq, res, e) < 0)
		goto out_norestore;
	st = run_start(&r, old, e);
	if (st)
		goto out; /* -1, or the command could not run (0 with res->launch_failed) */
	st = poll_with_progress(&r, e);
	if (st < 0 || res->launch_failed) {
		st = st < 0 ? -1 : 1;
		goto out;
	}
	r.mode->stop(&r);
	signals_restore(&r, old);
	ret = r.mode->finish(&r, p, false, e);
	goto done;
out:
	signals_restore(&r, old);
	ret = st < 0 ? -1 : 0;
	goto done;
out_norestore:
	run_release(&r);
	return -1;
done:
	run_release(&r);
	return ret;
}

/* A now_ns() time as nanoseconds since the epoch, on the recording's start. */
static uint64_t to_epoch(const struct record_run *r, uint64_t mono)
{
	return r->res->start_epoch_ns + (mono - r->start_mono_ns);
}

/* Builds the window [from, until) and hands it over; 1 when the callback asks to stop, -1 on failure. */
static int hand_over(struct record_run *r, uint64_t from, uint64_t until, bool window, record_window_fn on_window,
		     void *arg, struct err *e)
{
	struct profile *p = profile_new(0);
	int ret = -1;

	if (r->mode->finish(r, p, window, e) < 0)
		goto out;
	p->time_nanos = (int64_t)to_epoch(r, from);
	p->duration_nanos = (int64_t)(until - from);
	ret = on_window(p, to_epoch(r, from), to_epoch(r, until), arg) ? 1 : 0;
out:
	profile_free(p);
	return ret;
}

int record_run_continuous(const struct record_request *rq, uint64_t window_ns, record_window_fn on_window,
			  void *arg, struct record_result *res, struct err *e)
{
	struct record_run r;
	struct sigaction old[3];
	struct rec_stats total;
	int ret = -1, st;

	if (run_init(&r, rq, res, e) < 0) {
		run_release(&r);
		return -1;
	}
	if (!r.mode->windows || !window_ns) {
		err_set(e, "continuous recording needs --mode cpu, mem or offcpu and a window length, not --mode %s",
			r.mode->name);
		run_release(&r);
		return -1;
	}
	memset(&total, 0, sizeof(total));
	r.windows = true;
	st = run_start(&r, old, e);
	if (st) {
		signals_restore(&r, old);
		run_release(&r);
		return st < 0 ? -1 : 0;
	}
	uint64_t from = r.start_mono_ns;
	for (;;) {
		uint64_t until = from + window_ns;
		int end = r.mode->poll(&r, until, e);

		if (end < 0)
			goto out;

		if (end) {
			/* The last window ends where the recording did: after stop, which feeds what is left. */
			r.mode->stop(&r);
			until = r.start_mono_ns + res->duration_ns;
			if (until < from)
				until = from;
		}
		/* Sums of the whole run before the window's state is reset. */
		if (r.s) { /* mem mode has no perf_event session */
			const struct rec_stats *ws = rec_session_stats(r.s);
			total.samples += ws->samples;
			total.period += ws->period;
			total.lost += ws->lost;
			total.throttled += ws->throttled;
		}
		int h = hand_over(&r, from, until, !end, on_window, arg, e);
		if (h < 0)
			goto out;
		if (end)
			break;
		if (h > 0) {
			/* The caller has what it wants: what follows `until` is not handed over. */
			r.mode->stop(&r);
			break;
		}
		from = until;
	}
	ret = 0;
out:
	if (ret < 0 && (r.rc || r.hr))
		r.mode->stop(&r);
	signals_restore(&r, old);
	res->cpu.samples = total.samples;
	res->cpu.period = total.period;
	res->cpu.lost = total.lost;
	res->cpu.throttled = total.throttled;
	run_release(&r);
	return ret;
}
