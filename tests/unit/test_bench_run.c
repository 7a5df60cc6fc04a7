/* Unit tests for the kiln bench runner (src/bench/runner.c, export.c): ratios, the shell, stopping early. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/runner.h"
#include "core/err.h"
#include "core/xalloc.h"

static void test_ratio(void **state)
{
	/* Hand-computed: 2 / 1 = 2, sd = 2 * sqrt(0.05^2 + 0.05^2) = 0.141421... */
	struct bench_summary s[3] = { { .mean = 2.0, .stddev = 0.1 }, { .mean = 1.0, .stddev = 0.05 },
				      { .mean = 1.0, .stddev = NAN } };
	double r, sd;

	(void)state;
	assert_int_equal(bench_fastest(s, 3), 1); /* the first of equal means */
	bench_ratio(&s[1], &s[0], &r, &sd);
	assert_true(fabs(r - 2.0) < 1e-12);
	assert_true(fabs(sd - 0.1414213562373095) < 1e-12);
	/* One run (no stddev): only the other side's error remains, 2 * 0.05. */
	bench_ratio(&s[2], &s[0], &r, &sd);
	assert_true(fabs(sd - 0.1) < 1e-12);
	assert_int_equal(bench_fastest(s, 0), 0);
}

/* A confidence interval of a mean of times: a few skewed runs give a t-interval below zero, cut at zero. */
static void test_summary_interval(void **state)
{
	double wall[3] = { 0.001, 0.001, 0.100 }, zero[3] = { 0 }, rss[3] = { 0 };
	int codes[3] = { 0 };
	struct bench_cmd c = { .wall = wall, .user = zero, .sys = zero, .rss = rss, .exit_codes = codes, .n = 3 };
	struct bench_summary s;

	(void)state;
	bench_summarize(&c, 0.95, &s);
	/* mean 0.034, sd 0.0572, t(0.975, 2) = 4.303: the t-interval is [-0.108, 0.176] */
	assert_true(fabs(s.mean - 0.034) < 1e-12);
	assert_true(s.ci_lo == 0);
	assert_true(fabs(s.ci_hi - (0.034 + 4.302652729749464 * s.stddev / sqrt(3))) < 1e-9);
	/* Tight runs keep their symmetric interval. */
	wall[2] = 0.001001;
	bench_summarize(&c, 0.95, &s);
	assert_true(s.ci_lo > 0.00099 && fabs((s.mean - s.ci_lo) - (s.ci_hi - s.mean)) < 1e-15);
}

static void test_find_shell(void **state)
{
	struct err e = ERR_INIT;
	char *p;

	(void)state;
	p = bench_find_shell("sh", &e);
	assert_non_null(p);
	assert_true(p[0] == '/' && !strcmp(strrchr(p, '/'), "/sh"));
	free(p);
	p = bench_find_shell("/bin/sh", &e);
	assert_string_equal(p, "/bin/sh");
	free(p);
	assert_null(bench_find_shell("no-such-shell-kiln", &e));
	assert_non_null(strstr(e.msg, "no-such-shell-kiln"));
	assert_null(bench_find_shell("/etc/passwd", &e)); /* not executable */
}

static struct bench_cmd shell_cmd(const char *line)
{
	struct bench_cmd c;

	memset(&c, 0, sizeof(c));
	c.display = xstrdup(line);
	return c;
}

static void test_calibrate_and_stop(void **state)
{
	struct bench_run_opts o = { .runs = 3, .min_runs = 1, .shell = "/bin/sh" };
	struct bench_cmd c = shell_cmd(":");
	volatile sig_atomic_t stop = 0;
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(bench_calibrate_shell(&o, 5, &e), 0);
	assert_true(o.shell_wall > 0 && o.shell_wall < 1);
	o.stop = &stop;
	assert_int_equal(bench_run(&c, 1, &o, NULL, NULL, &e), 0);
	assert_int_equal(c.n, 3);
	/* Each run is the raw time minus the shell's start-up, clamped at zero: never negative. */
	for (size_t i = 0; i < c.n; i++)
		assert_true(c.wall[i] >= 0 && c.user[i] >= 0 && c.sys[i] >= 0);
	bench_cmd_release(&c);

	/* A stop request before the first run: nothing measured, BENCH_STOPPED, not an error. */
	c = shell_cmd(":");
	stop = 1;
	e.msg[0] = 0;
	assert_int_equal(bench_run(&c, 1, &o, NULL, NULL, &e), BENCH_STOPPED);
	assert_int_equal(c.n, 0);
	assert_string_equal(e.msg, "");
	bench_cmd_release(&c);

	/* A shell that fails on an empty command cannot be calibrated. */
	o.shell = "/bin/false";
	assert_int_equal(bench_calibrate_shell(&o, 2, &e), -1);
	assert_non_null(strstr(e.msg, "/bin/false"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratio),
		cmocka_unit_test(test_summary_interval),
		cmocka_unit_test(test_find_shell),
		cmocka_unit_test(test_calibrate_and_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
