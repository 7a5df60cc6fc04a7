/* Tests of the recording driver (src/record/run.h): continuous windows against a CPU-bound child's CPU time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/err.h"
#include "profile/profile.h"
#include "record/run.h"

#define WINDOWS 30
#define WINDOW_NS 1000000000ULL
/* kiln's resident memory may grow by this much from the end of the second window to the end of the last. */
#define RSS_SLACK (1024 * 1024)

/* Under AddressSanitizer freed memory is quarantined rather than reused, which would read as growth. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=0";
}

struct windows {
	pid_t child;
	size_t n;
	uint64_t from[WINDOWS + 1], until[WINDOWS + 1];
	int64_t cpu_ns; /* the cpu column summed over every window */
	int64_t time_ok;
	uint64_t child_cpu_end; /* the child's CPU time (ns) when the last window ended */
	long rss[WINDOWS + 1];  /* kiln's resident pages after each window */
};

/* utime + stime of `pid` in nanoseconds, from /proc/PID/stat. */
static uint64_t proc_cpu_ns(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long utime = 0, stime = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
		return 0;
	return (uint64_t)(utime + stime) * (1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK));
}

static long rss_pages(void)
{
	long size = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &size, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss;
}

static int on_window(struct profile *p, uint64_t from, uint64_t until, void *arg)
{
	struct windows *w = arg;

	if (w->n > WINDOWS)
		return 1;
	w->from[w->n] = from;
	w->until[w->n] = until;
	w->cpu_ns += profile_total(p, profile_find_column(p, "cpu"));
	if (p->time_nanos == (int64_t)from && p->duration_nanos == (int64_t)(until - from))
		w->time_ok++;
	w->rss[w->n] = rss_pages();
	w->n++;
	if (w->n == WINDOWS) {
		w->child_cpu_end = proc_cpu_ns(w->child);
		return 1;
	}
	return 0;
}

static pid_t start_spinner(void)
{
	const char *build = getenv("KILN_BUILD");
	char *path = NULL;
	pid_t pid;

	if (asprintf(&path, "%s/tests/helpers/drv_spin", build ? build : "build/san") < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	free(path);
	return pid;
}

static void test_continuous_windows(void **state)
{
	struct windows w;
	struct record_request rq = RECORD_REQUEST_INIT;
	struct record_result res;
	struct err e = ERR_INIT;
	uint32_t pid;

	(void)state;
	memset(&w, 0, sizeof(w));
	w.child = start_spinner();
	assert_true(w.child > 0);
	usleep(100000); /* past its exec, so that the attach sees the spinner */
	pid = (uint32_t)w.child;
	rq.mode = RECORD_CPU;
	rq.pids = &pid;
	rq.npids = 1;
	rq.freq = 499;
	rq.user_only = true;
	uint64_t cpu0 = proc_cpu_ns(w.child);
	int rc = record_run_continuous(&rq, WINDOW_NS, on_window, &w, &res, &e);
	kill(w.child, SIGKILL);
	waitpid(w.child, NULL, 0);
	if (rc < 0 && strstr(e.msg, "perf_event"))
		skip();
	assert_int_equal(rc, 0);
	record_result_release(&res);

	/* 30 windows that abut: each starts where the one before ended, and lasts about its second. */
	assert_int_equal(w.n, WINDOWS);
	assert_int_equal(w.time_ok, WINDOWS);
	for (size_t i = 0; i < w.n; i++) {
		if (i)
			assert_true(w.from[i] == w.until[i - 1]);
		assert_true(w.until[i] - w.from[i] >= WINDOW_NS - WINDOW_NS / 100);
		assert_true(w.until[i] - w.from[i] <= WINDOW_NS + WINDOW_NS / 5);
	}
	/* The samples add up to the CPU time the kernel charged the child meanwhile (within 5 %). */
	double ratio = (double)w.cpu_ns / (double)(w.child_cpu_end - cpu0);
	print_message("# samples' cpu time %.3f s, child's %.3f s, ratio %.4f\n", (double)w.cpu_ns / 1e9,
		      (double)(w.child_cpu_end - cpu0) / 1e9, ratio);
	assert_true(ratio > 0.95 && ratio < 1.05);
	/* Per-window state is reset: kiln's memory is flat after the second window. */
	long max = 0, page = sysconf(_SC_PAGESIZE);
	for (size_t i = 2; i < w.n; i++)
		if (w.rss[i] > max)
			max = w.rss[i];
	print_message("# rss after window 2: %ld KiB, most after: %ld KiB\n", w.rss[1] * page / 1024,
		      max * page / 1024);
	assert_true((max - w.rss[1]) * page <= RSS_SLACK);
}

/* A mode that cannot be cut into windows (io) is refused with a message, before anything runs. */
static void test_continuous_needs_cpu(void **state)
{
	struct record_request rq = RECORD_REQUEST_INIT;
	struct record_result res;
	struct err e = ERR_INIT;
	char *argv[] = { (char *)"true", NULL };

	(void)state;
	rq.mode = RECORD_IO;
	rq.argv = argv;
	assert_int_equal(record_run_continuous(&rq, WINDOW_NS, on_window, NULL, &res, &e), -1);
	assert_non_null(strstr(e.msg, "not --mode io"));
}

/* The mode names round-trip through their bits. */
static void test_mode_names(void **state)
{
	static const char *const names[] = { "cpu", "mem", "offcpu", "wall", "io" };

	(void)state;
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(record_mode_name(record_mode_parse(names[i])), names[i]);
	assert_int_equal(record_mode_parse("disk"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_names),
		cmocka_unit_test(test_continuous_needs_cpu),
		cmocka_unit_test(test_continuous_windows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
