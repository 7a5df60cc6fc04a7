/*
 * Unit tests for src/server/bench_store.c, the benchmark runs of kiln serve: a run stored and listed back with
 * its document byte for byte and its profile, filters by branch and machine and id, order by time, tenants
 * kept apart, a missing profile, the caps on samples, runs and benchmarks, the retention, and a PostgreSQL
 * location that cannot be reached (t5740 runs the same store on a PostgreSQL cluster).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/history.h"
#include "core/buf.h"
#include "core/err.h"
#include "server/bench_store.h"

#define DIR_TEMPLATE "/tmp/kiln-test-bench-store-XXXXXX"
static char dir[] = DIR_TEMPLATE;

/* A new empty directory in `dir` (mkdtemp fills the template in: each test starts from it again). */
static void fresh_dir(void)
{
	strcpy(dir, DIR_TEMPLATE);
	assert_non_null(mkdtemp(dir));
}

static void cleanup(void)
{
	char *p;

	p = malloc(strlen(dir) + 32);
	sprintf(p, "%s/bench.db", dir);
	unlink(p);
	sprintf(p, "%s/bench.db-wal", dir);
	unlink(p);
	sprintf(p, "%s/bench.db-shm", dir);
	unlink(p);
	rmdir(dir);
	free(p);
}

/* A run of benchmark `name` with `n` samples, as the directory store writes it, parsed like the handler does. */
static void make_named_run(struct buf *doc, struct hist_run *r, const char *commit, const char *branch, int64_t t,
			   const char *name, int n)
{
	struct bench_set set = BENCH_SET_INIT;
	struct hist_meta m = { .commit = commit, .branch = branch, .machine = "m1", .time = t };
	struct bench_series *s = bench_set_get(&set, name, "time", "s", false);
	struct err e = ERR_INIT;

	for (int i = 0; i < n; i++)
		bench_series_add(s, 1.5 + 0.75 * i);
	bench_set_finish(&set);
	buf_reset(doc);
	hist_format_run(doc, &m, &set, NULL);
	bench_set_release(&set);
	assert_int_equal(hist_parse_run(r, doc->buf, doc->len, "x", &e), 0);
}

static void make_run(struct buf *doc, struct hist_run *r, const char *commit, const char *branch, int64_t t)
{
	make_named_run(doc, r, commit, branch, t, "b", 2);
}

/* The number of runs a listing holds. */
static int listed(struct bench_store *b, const char *tenant)
{
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	int n = 0;

	assert_int_equal(bench_store_list(b, tenant, NULL, NULL, NULL, &out, &e), 0);
	for (const char *p = out.buf; (p = strstr(p, "{\"id\":")); p++)
		n++;
	buf_release(&out);
	return n;
}

/* Adds a run of `name` with `n` samples at time `t`; returns bench_store_add's result, `e` its message. */
static int add(struct bench_store *b, const char *tenant, const char *name, int n, int64_t t, struct err *e)
{
	struct buf doc = BUF_INIT;
	struct hist_run r;
	char id[96];
	int rc;

	make_named_run(&doc, &r, "c0ffee", "main", t, name, n);
	*e = (struct err)ERR_INIT;
	rc = bench_store_add(b, tenant, &r, doc.buf, doc.len, NULL, 0, NULL, id, sizeof(id), e);
	hist_run_release(&r);
	buf_release(&doc);
	return rc;
}

/* Each cap refuses the run that would pass it, with the status the handler answers and a message naming it. */
static void test_limits(void **state)
{
	struct bench_limits lim = { .max_samples = 3, .max_runs = 3, .max_benchmarks = 2 };
	struct bench_store *b;
	struct err e = ERR_INIT;
	int64_t now = (int64_t)time(NULL);

	(void)state;
	fresh_dir();
	b = bench_store_open(dir, &lim, &e);
	assert_non_null(b);
	assert_int_equal(add(b, "", "a", 4, now, &e), 400);
	assert_non_null(strstr(e.msg, "4 samples"));
	assert_int_equal(add(b, "", "a", 3, now, &e), 0);
	assert_int_equal(add(b, "", "b", 1, now, &e), 0);
	/* a third benchmark name is one too many; a known one is not */
	assert_int_equal(add(b, "", "c", 1, now, &e), 429);
	assert_non_null(strstr(e.msg, "'c'"));
	assert_non_null(strstr(e.msg, "--max-benchmarks"));
	assert_int_equal(add(b, "", "a", 1, now, &e), 0);
	assert_int_equal(listed(b, ""), 3);
	/* three runs are the cap: the refused ones were not stored */
	assert_int_equal(add(b, "", "b", 1, now, &e), 429);
	assert_non_null(strstr(e.msg, "--max-bench-runs"));
	assert_int_equal(listed(b, ""), 3);
	/* caps are per tenant */
	assert_int_equal(add(b, "t2", "c", 1, now, &e), 0);
	assert_int_equal(listed(b, "t2"), 1);
	bench_store_close(b);
	cleanup();
}

/* Runs past the retention are refused when pushed, hidden from reads, and dropped when the store opens. */
static void test_retention(void **state)
{
	struct bench_limits keep = { 0 }, hour = { .retention_s = 3600 };
	struct bench_store *b;
	struct err e = ERR_INIT;
	int64_t now = (int64_t)time(NULL);

	(void)state;
	fresh_dir();
	b = bench_store_open(dir, &keep, &e);
	assert_non_null(b);
	assert_int_equal(add(b, "", "a", 2, now - 7200, &e), 0);
	assert_int_equal(add(b, "", "a", 2, now - 60, &e), 0);
	assert_int_equal(listed(b, ""), 2);
	bench_store_close(b);

	b = bench_store_open(dir, &hour, &e);
	assert_non_null(b);
	assert_int_equal(listed(b, ""), 1);
	assert_int_equal(add(b, "", "a", 2, now - 7200, &e), 400);
	assert_non_null(strstr(e.msg, "retention"));
	bench_store_close(b);
	/* dropped, not only hidden: without a retention the old run does not come back */
	b = bench_store_open(dir, &keep, &e);
	assert_int_equal(listed(b, ""), 1);
	bench_store_close(b);
	cleanup();
}

static void test_roundtrip(void **state)
{
	struct buf doc = BUF_INIT, doc2 = BUF_INIT, out = BUF_INIT;
	struct hist_run r, r2;
	struct bench_store *b;
	struct err e = ERR_INIT;
	char id[96], id2[96], *want;

	(void)state;
	fresh_dir();
	b = bench_store_open(dir, NULL, &e);
	assert_non_null(b);
	make_run(&doc, &r, "abc", "main", 200);
	make_run(&doc2, &r2, "def", "feature", 100);
	assert_int_equal(bench_store_add(b, "", &r, doc.buf, doc.len, "PROF", 4, ".folded", id, sizeof(id), &e), 0);
	assert_int_equal(bench_store_add(b, "", &r2, doc2.buf, doc2.len, NULL, 0, NULL, id2, sizeof(id2), &e), 0);
	assert_string_not_equal(id, id2);
	assert_non_null(strstr(id, "abc"));

	/* Oldest first: the feature run (time 100) before the main run (time 200). */
	assert_int_equal(bench_store_list(b, "", NULL, NULL, NULL, &out, &e), 0);
	assert_true(strstr(out.buf, id2) < strstr(out.buf, id));
	assert_non_null(strstr(out.buf, doc.buf));
	want = malloc(strlen(id) + 64);
	sprintf(want, "\"profile\":\"profiles/%s.folded\"", id);
	assert_non_null(strstr(out.buf, want));
	free(want);
	assert_non_null(strstr(out.buf, "\"profile\":null"));

	buf_reset(&out);
	assert_int_equal(bench_store_list(b, "", "main", NULL, NULL, &out, &e), 0);
	assert_null(strstr(out.buf, id2));
	assert_non_null(strstr(out.buf, id));
	buf_reset(&out);
	assert_int_equal(bench_store_list(b, "", NULL, "m2", NULL, &out, &e), 0);
	assert_string_equal(out.buf, "{\"runs\":[]}\n");
	buf_reset(&out);
	assert_int_equal(bench_store_list(b, "", NULL, NULL, id2, &out, &e), 0);
	assert_null(strstr(out.buf, id));
	assert_non_null(strstr(out.buf, id2));
	/* Another tenant sees nothing of these. */
	buf_reset(&out);
	assert_int_equal(bench_store_list(b, "other", NULL, NULL, NULL, &out, &e), 0);
	assert_string_equal(out.buf, "{\"runs\":[]}\n");

	buf_reset(&out);
	assert_int_equal(bench_store_profile(b, "", id, &out, &e), 0);
	assert_int_equal(out.len, 4);
	assert_memory_equal(out.buf, "PROF", 4);
	buf_reset(&out);
	assert_int_equal(bench_store_profile(b, "", id2, &out, &e), 1);
	assert_int_equal(bench_store_profile(b, "other", id, &out, &e), 1);

	hist_run_release(&r);
	hist_run_release(&r2);
	buf_release(&doc);
	buf_release(&doc2);
	buf_release(&out);
	bench_store_close(b);
	/* Reopened, the runs are still there. */
	b = bench_store_open(dir, NULL, &e);
	assert_non_null(b);
	assert_int_equal(bench_store_list(b, "", NULL, NULL, NULL, &out, &e), 0);
	assert_non_null(strstr(out.buf, id));
	buf_release(&out);
	bench_store_close(b);
	cleanup();
}

/* A PostgreSQL location is the PostgreSQL backend's: one it cannot reach is an error that says so. */
static void test_postgres_unreachable(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	assert_null(bench_store_open("postgresql:///kiln?host=/nonexistent-kiln-socket-dir", NULL, &e));
	assert_non_null(strstr(e.msg, "cannot connect to PostgreSQL"));
	bench_store_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_retention),
		cmocka_unit_test(test_postgres_unreachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
