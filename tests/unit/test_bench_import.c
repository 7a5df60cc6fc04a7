/* Unit tests for the kiln compare importers (src/bench/import*.c), the pairing and the verdict rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/compare.h"
#include "bench/report.h"
#include "bench/result.h"
#include "bench/runner.h"
#include "core/err.h"

static int import(struct bench_set *s, const char *text, struct err *e)
{
	int r = bench_import_buf(s, text, strlen(text), "hint", e);

	if (!r)
		bench_set_finish(s);
	return r;
}

static void test_go(void **state)
{
	static const char in[] = "goos: linux\ngoarch: amd64\npkg: example.com/x\ncpu: Some CPU\n"
				 "BenchmarkA-8   \t 1000\t  1500 ns/op\t  64 B/op\t  2 allocs/op\n"
				 "BenchmarkA-8   \t 1000\t  1700 ns/op\t  64 B/op\t  2 allocs/op\n"
				 "BenchmarkB/sub=1-8  500  20.5 ns/op  48.8 MB/s\n"
				 "Benchmarking is fun 1 2 3\n"
				 "Benchmarkx 10 10 ns/op\n"
				 "--- FAIL: BenchmarkC\nPASS\nok  \texample.com/x\t1.234s\n";
	struct bench_set s = BENCH_SET_INIT;
	struct err e = ERR_INIT;
	const struct bench_series *b;

	(void)state;
	assert_int_equal(import(&s, in, &e), 0);
	assert_string_equal(s.format, "go");
	b = bench_set_find(&s, "BenchmarkA-8", "time");
	assert_non_null(b);
	assert_int_equal(b->n, 2);
	assert_true(fabs(b->mean - 1600e-9) < 1e-18);
	assert_string_equal(b->unit, "s");
	b = bench_set_find(&s, "BenchmarkA-8", "B/op");
	assert_non_null(b);
	assert_true(b->mean == 64 && !b->higher_is_better);
	b = bench_set_find(&s, "BenchmarkB/sub=1-8", "MB/s");
	assert_non_null(b);
	assert_true(b->higher_is_better);
	/* "Benchmarkx" (lowercase after the prefix) is not a benchmark. */
	assert_null(bench_set_find(&s, "Benchmarkx", "time"));
	assert_int_equal(s.nr, 5);
	bench_set_release(&s);
}

static void test_gbench(void **state)
{
	/* Iteration rows are samples; the aggregates of the same run are ignored; NaN literals are missing. */
	static const char in[] =
		"{\"context\": {\"library_build_type\": \"release\"}, \"benchmarks\": ["
		"{\"name\": \"BM_a\", \"run_name\": \"BM_a\", \"run_type\": \"iteration\", \"repetitions\": 2,"
		" \"real_time\": 2.0, \"cpu_time\": 1.5, \"time_unit\": \"us\", \"items_per_second\": NaN},"
		"{\"name\": \"BM_a\", \"run_name\": \"BM_a\", \"run_type\": \"iteration\", \"repetitions\": 2,"
		" \"real_time\": 4.0, \"cpu_time\": 2.5, \"time_unit\": \"us\", \"items_per_second\": 1e6},"
		"{\"name\": \"BM_a_mean\", \"run_name\": \"BM_a\", \"run_type\": \"aggregate\", \"aggregate_name\":"
		" \"mean\", \"repetitions\": 2, \"real_time\": 99, \"cpu_time\": 99, \"time_unit\": \"us\"},"
		"{\"name\": \"BM_b_mean\", \"run_name\": \"BM_b\", \"run_type\": \"aggregate\", \"aggregate_name\":"
		" \"mean\", \"aggregate_unit\": \"time\", \"repetitions\": 5, \"real_time\": 10, \"cpu_time\": 9,"
		" \"time_unit\": \"ms\"},"
		"{\"name\": \"BM_b_stddev\", \"run_name\": \"BM_b\", \"run_type\": \"aggregate\", \"aggregate_name\":"
		" \"stddev\", \"repetitions\": 5, \"real_time\": 1, \"cpu_time\": 1, \"time_unit\": \"ms\"},"
		"{\"name\": \"BM_b_cv\", \"run_name\": \"BM_b\", \"run_type\": \"aggregate\", \"aggregate_name\":"
		" \"cv\", \"aggregate_unit\": \"percentage\", \"repetitions\": 5, \"real_time\": 0.1, \"cpu_time\":"
		" 0.1, \"time_unit\": \"ms\"},"
		"{\"name\": \"BM_err\", \"error_occurred\": true, \"error_message\": \"x\", \"real_time\": 1,"
		" \"time_unit\": \"ns\"}"
		"]}";
	struct bench_set s = BENCH_SET_INIT;
	struct err e = ERR_INIT;
	const struct bench_series *b;

	(void)state;
	assert_int_equal(import(&s, in, &e), 0);
	assert_string_equal(s.format, "gbench");
	b = bench_set_find(&s, "BM_a", "time");
	assert_non_null(b);
	assert_int_equal(b->n, 2);
	assert_true(fabs(b->mean - 3e-6) < 1e-15);
	b = bench_set_find(&s, "BM_a", "items/s");
	assert_non_null(b);
	assert_int_equal(b->n, 1);
	assert_true(b->higher_is_better);
	b = bench_set_find(&s, "BM_b", "time");
	assert_non_null(b);
	assert_int_equal(b->n, 0);
	assert_int_equal(b->count, 5);
	assert_true(fabs(b->mean - 0.010) < 1e-15 && fabs(b->stddev - 0.001) < 1e-15);
	assert_null(bench_set_find(&s, "BM_err", "time"));
	bench_set_release(&s);
}

static void test_hyperfine_pytest_criterion(void **state)
{
	static const char hf[] = "{\"results\": [{\"command\": \"sleep 1\", \"mean\": 1, \"times\": [1.0, 1.1]},"
				 "{\"command\": \"sleep 1\", \"mean\": 2, \"times\": [2.0, 2.2]},"
				 "{\"command\": \"x\", \"mean\": 3, \"stddev\": 0.1, \"exit_codes\": [0,0,0]}]}";
	static const char py[] = "{\"benchmarks\": [{\"name\": \"t\", \"fullname\": \"a.py::t\", \"stats\":"
				 " {\"mean\": 0.5, \"stddev\": 0.1, \"median\": 0.5, \"rounds\": 7}}]}";
	static const char est[] = "{\"mean\": {\"point_estimate\": 2000, \"standard_error\": 10},"
				  " \"median\": {\"point_estimate\": 1990}, \"std_dev\": {\"point_estimate\": 50}}";
	static const char smp[] = "{\"sampling_mode\": \"Linear\", \"iters\": [1, 2, 4], \"times\": [10, 22, 36]}";
	struct bench_set s = BENCH_SET_INIT;
	struct err e = ERR_INIT;
	const struct bench_series *b;

	(void)state;
	assert_int_equal(import(&s, hf, &e), 0);
	assert_string_equal(s.format, "hyperfine");
	/* A repeated command is a different benchmark in hyperfine's output. */
	assert_non_null(bench_set_find(&s, "sleep 1", "time"));
	b = bench_set_find(&s, "sleep 1 #2", "time");
	assert_non_null(b);
	assert_true(fabs(b->mean - 2.1) < 1e-12);
	b = bench_set_find(&s, "x", "time");
	assert_true(b && b->count == 3 && b->stddev == 0.1);
	bench_set_release(&s);

	assert_int_equal(import(&s, py, &e), 0);
	assert_string_equal(s.format, "pytest-benchmark");
	b = bench_set_find(&s, "a.py::t", "time");
	assert_true(b && b->count == 7 && b->mean == 0.5);
	bench_set_release(&s);

	assert_int_equal(import(&s, est, &e), 0);
	b = bench_set_find(&s, "hint", "time");
	assert_true(b && b->count == 0 && fabs(b->sem - 10e-9) < 1e-20 && fabs(b->mean - 2e-6) < 1e-18);
	bench_set_release(&s);

	assert_int_equal(import(&s, smp, &e), 0);
	b = bench_set_find(&s, "hint", "time");
	assert_true(b && b->n == 3 && fabs(b->samples[2] - 9e-9) < 1e-20);
	bench_set_release(&s);
}

static void test_errors(void **state)
{
	static const char *const bad[] = { "", "   \n", "{", "[1, 2]", "{\"foo\": 1}", "hello world\n",
					   "{\"results\": [{\"mean\": 1}]}",
					   "{\"benchmarks\": [{\"name\": \"a\", \"real_time\": 1, \"time_unit\": \"min\"}]}",
					   "{\"a\": 1, \"a\": 2}" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bench_set s = BENCH_SET_INIT;
		struct err e = ERR_INIT;

		assert_int_equal(bench_import_buf(&s, bad[i], strlen(bad[i]), NULL, &e), -1);
		assert_true(e.msg[0] != '\0');
		bench_set_release(&s);
	}
}

/* The verdict needs significance and magnitude, in the worse direction of the metric. */
static void test_verdicts(void **state)
{
	static const char base[] = "BenchmarkT 1 100 ns/op 100 MB/s\nBenchmarkT 1 101 ns/op 101 MB/s\n"
				   "BenchmarkT 1 99 ns/op 99 MB/s\nBenchmarkT 1 100 ns/op 100 MB/s\n"
				   "BenchmarkS 1 100 ns/op\nBenchmarkS 1 110 ns/op\nBenchmarkOld 1 1 ns/op\n";
	static const char cur[] = "BenchmarkT 1 120 ns/op 120 MB/s\nBenchmarkT 1 121 ns/op 121 MB/s\n"
				  "BenchmarkT 1 119 ns/op 119 MB/s\nBenchmarkT 1 120 ns/op 120 MB/s\n"
				  "BenchmarkS 1 103 ns/op\nBenchmarkS 1 113 ns/op\nBenchmarkNew 1 1 ns/op\n";
	struct bench_set a = BENCH_SET_INIT, b = BENCH_SET_INIT;
	struct cmp_opts o = CMP_OPTS_INIT;
	struct cmp_result r;
	struct err e = ERR_INIT;
	size_t i;

	(void)state;
	assert_int_equal(import(&a, base, &e), 0);
	assert_int_equal(import(&b, cur, &e), 0);
	assert_int_equal(cmp_run(&a, &b, &o, &r, &e), 0);
	assert_int_equal(r.nr, 3);
	for (i = 0; i < r.nr; i++) {
		const struct cmp_row *row = &r.rows[i];

		if (!strcmp(row->name, "BenchmarkT") && !strcmp(row->metric, "time"))
			assert_int_equal(row->verdict, CMP_REGRESSION);
		else if (!strcmp(row->name, "BenchmarkT"))
			assert_int_equal(row->verdict, CMP_IMPROVEMENT); /* more MB/s */
		else
			assert_int_equal(row->verdict, CMP_SAME); /* +3%, n = 2, not significant */
	}
	assert_int_equal(r.regressions, 1);
	assert_int_equal(r.nadded, 1);
	assert_int_equal(r.nremoved, 1);
	assert_string_equal(r.added[0].name, "BenchmarkNew");
	cmp_result_release(&r);
	o.threshold = 0.25;
	assert_int_equal(cmp_run(&a, &b, &o, &r, &e), 0);
	assert_int_equal(r.regressions, 0);
	cmp_result_release(&r);
	bench_set_release(&a);
	bench_set_release(&b);
}

static void test_words(void **state)
{
	struct err e = ERR_INIT;
	char **w = bench_split_words("  a 'b c' \"d \\\"e\" f\\ g ''  ", &e);
	struct bench_param p[] = { { (char *)"n", (char *)"42" }, { (char *)"x", (char *)"y" } };
	char *s;

	(void)state;
	assert_non_null(w);
	assert_string_equal(w[0], "a");
	assert_string_equal(w[1], "b c");
	assert_string_equal(w[2], "d \"e");
	assert_string_equal(w[3], "f g");
	assert_string_equal(w[4], "");
	assert_null(w[5]);
	bench_free_words(w);
	assert_null(bench_split_words("a 'b", &e));
	assert_null(bench_split_words("   ", &e));
	s = bench_substitute("run {n} {x}{n} {z} {", p, 2);
	assert_string_equal(s, "run 42 y42 {z} {");
	free(s);
}

static void test_format(void **state)
{
	static const char in[] = "{\"results\": [{\"command\": \"echo NaN Infinity\", \"times\": [1, NaN, 2, -Infinity]}]}";
	struct bench_set s = BENCH_SET_INIT;
	struct err e = ERR_INIT;
	const struct bench_series *b;
	char out[64];

	(void)state;
	/* NaN inside a string stays; bare NaN and -Infinity are missing values. */
	assert_int_equal(import(&s, in, &e), 0);
	b = bench_set_find(&s, "echo NaN Infinity", "time");
	assert_true(b && b->n == 2);
	bench_set_release(&s);
	assert_string_equal(bench_fmt_value(out, sizeof(out), 0.0123456, "s"), "12.35 ms");
	assert_string_equal(bench_fmt_value(out, sizeof(out), 2.5e-7, "s"), "250 ns");
	assert_string_equal(bench_fmt_value(out, sizeof(out), 3.5e-6, "s"), "3.5 µs");
	assert_string_equal(bench_fmt_value(out, sizeof(out), 1536, "B"), "1.5 KiB");
	assert_string_equal(bench_fmt_value(out, sizeof(out), 2.5e9, "1/s"), "2.5 G/s");
	assert_string_equal(bench_fmt_value(out, sizeof(out), 89294, "MB/s"), "89294 MB/s");
	assert_string_equal(bench_fmt_value(out, sizeof(out), 3, ""), "3");
	assert_string_equal(bench_fmt_pct(out, sizeof(out), 0.2), "+20.00%");
	assert_string_equal(bench_fmt_pct(out, sizeof(out), -0.05), "-5.00%");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go),       cmocka_unit_test(test_gbench),   cmocka_unit_test(test_hyperfine_pytest_criterion),
		cmocka_unit_test(test_errors),   cmocka_unit_test(test_verdicts), cmocka_unit_test(test_words),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
