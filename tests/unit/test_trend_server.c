/*
 * Unit tests for src/server/bench_store.c, the benchmark runs of kiln serve: a run stored and listed back with
 * its document byte for byte and its profile, filters by branch and machine and id, order by time, tenants
 * kept apart, a missing profile, and the refusal of a PostgreSQL location (the handlers' 501).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/history.h"
#include "core/buf.h"
#include "core/err.h"
#include "server/bench_store.h"

static char dir[] = "/tmp/kiln-test-bench-store-XXXXXX";

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

/* A run document as the directory store writes it, parsed like the handler does. */
static void make_run(struct buf *doc, struct hist_run *r, const char *commit, const char *branch, int64_t t)
{
	struct bench_set set = BENCH_SET_INIT;
	struct hist_meta m = { .commit = commit, .branch = branch, .machine = "m1", .time = t };
	struct bench_series *s = bench_set_get(&set, "b", "time", "s", false);
	struct err e = ERR_INIT;

	bench_series_add(s, 1.5);
	bench_series_add(s, 2.25);
	bench_set_finish(&set);
	buf_reset(doc);
	hist_format_run(doc, &m, &set, NULL);
	bench_set_release(&set);
	assert_int_equal(hist_parse_run(r, doc->buf, doc->len, "x", &e), 0);
}

static void test_roundtrip(void **state)
{
	struct buf doc = BUF_INIT, doc2 = BUF_INIT, out = BUF_INIT;
	struct hist_run r, r2;
	struct bench_store *b;
	struct err e = ERR_INIT;
	char id[96], id2[96], *want;

	(void)state;
	assert_non_null(mkdtemp(dir));
	b = bench_store_open(dir, &e);
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
	b = bench_store_open(dir, &e);
	assert_non_null(b);
	assert_int_equal(bench_store_list(b, "", NULL, NULL, NULL, &out, &e), 0);
	assert_non_null(strstr(out.buf, id));
	buf_release(&out);
	bench_store_close(b);
	cleanup();
}

static void test_postgres_refused(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	assert_null(bench_store_open("postgres://localhost/kiln", &e));
	assert_non_null(strstr(e.msg, "SQLite"));
	bench_store_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_postgres_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
