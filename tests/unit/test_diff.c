/* Unit tests for kiln diff: the significance tests against reference values, corrections, graph output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/diff.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "profile/profile.h"
#include "render/diff_graph.h"


/* The differential flame graph as kiln diff -o draws it: analyze's plan, render's drawing. */
static int write_graph(const struct profile *before, const struct profile *after, const struct diff_opts *o,
		       const char *path, struct err *e)
{
	struct diff_plan plan;

	return diff_graph_plan(before, after, o, &plan, e) || fg_write_diff(before, after, &plan, path, e) ? -1 : 0;
}

static void add(struct profile *p, const char *stack, int64_t count)
{
	char tmp[1024];
	uint32_t node = 0;
	char *save = NULL;

	snprintf(tmp, sizeof(tmp), "%s", stack);
	for (char *tok = strtok_r(tmp, ";", &save); tok; tok = strtok_r(NULL, ";", &save))
		node = profile_node(p, node, profile_frame_named(p, tok, strlen(tok), FRAME_NATIVE));
	profile_add_sample1(p, node, 0, count);
}

static struct profile *weighted(int64_t a, int64_t b, int64_t weight)
{
	struct profile *p = profile_new(0);

	profile_add_column(p, "samples", "count");
	add(p, "main;a", a * weight);
	add(p, "main;b", b * weight);
	add(p, "main;c", weight); /* a rare function: Fisher's exact test */
	return p;
}

static struct profile *two(int64_t a, int64_t b)
{
	return weighted(a, b, 1);
}

static const struct diff_fn *find(const struct diff_result *d, const char *name)
{
	for (size_t i = 0; i < d->nr; i++)
		if (!strcmp(strtab_str(&d->names, d->v[i].name), name))
			return &d->v[i];
	return NULL;
}

/* Reference values: R's prop.test(correct = FALSE) and fisher.test. */
static void test_reference_values(void **state)
{
	(void)state;
	assert_true(fabs(diff_ztest(50, 100, 70, 100) - 0.0038924171) < 1e-8);
	assert_true(fabs(diff_ztest(10, 100, 10, 100) - 1.0) < 1e-12);
	assert_true(fabs(diff_fisher(1, 10, 9, 10) - 0.0010933339) < 1e-8);
	assert_true(fabs(diff_fisher(0, 50, 4, 60) - 0.1243568325) < 1e-8);
	assert_true(fabs(diff_fisher(3, 1000, 12, 1000) - 0.0344914254) < 1e-8);
	assert_true(fabs(diff_fisher(5, 10, 5, 10) - 1.0) < 1e-9);
}

static void test_corrections(void **state)
{
	double holm[4] = { 0.01, 0.04, 0.03, 0.005 }, bh[4] = { 0.01, 0.04, 0.03, 0.005 };
	double none[2] = { 0.2, 0.01 };

	(void)state;
	diff_adjust(holm, 4, DIFF_HOLM);
	assert_true(fabs(holm[0] - 0.03) < 1e-12);
	assert_true(fabs(holm[1] - 0.06) < 1e-12);
	assert_true(fabs(holm[2] - 0.06) < 1e-12);
	assert_true(fabs(holm[3] - 0.02) < 1e-12);
	diff_adjust(bh, 4, DIFF_BH);
	assert_true(fabs(bh[0] - 0.02) < 1e-12);
	assert_true(fabs(bh[1] - 0.04) < 1e-12);
	assert_true(fabs(bh[2] - 0.04) < 1e-12);
	assert_true(fabs(bh[3] - 0.02) < 1e-12);
	diff_adjust(none, 2, DIFF_NONE);
	assert_true(none[0] == 0.2 && none[1] == 0.01);
	assert_int_equal(diff_correction_by_name("holm"), DIFF_HOLM);
	assert_int_equal(diff_correction_by_name("bh"), DIFF_BH);
	assert_int_equal(diff_correction_by_name("bonferroni"), -1);
}

static void test_self_diff_is_noise(void **state)
{
	struct profile *p = two(500, 500), *q = two(500, 500);
	struct diff_result d;
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(diff_compute(p, q, NULL, &d, &e), 0);
	assert_int_equal(d.significant, 0);
	for (size_t i = 0; i < d.nr; i++) {
		assert_false(d.v[i].significant);
		assert_true(d.v[i].delta_pct == 0);
	}
	diff_release(&d);
	assert_int_equal(diff_compute(p, p, NULL, &d, &e), 0);
	assert_int_equal(d.significant, 0);
	diff_release(&d);
	profile_free(p);
	profile_free(q);
}

static void test_real_change_and_noise(void **state)
{
	struct profile *p = two(500, 500), *q = two(800, 200), *r = two(510, 490);
	struct diff_result d;
	struct err e = ERR_INIT;
	const struct diff_fn *f;
	struct buf b = BUF_INIT;
	struct jw j;

	(void)state;
	assert_int_equal(diff_compute(p, q, NULL, &d, &e), 0);
	f = find(&d, "a");
	assert_non_null(f);
	assert_true(f->significant);
	assert_true(f->delta_pct > 29 && f->delta_pct < 31);
	assert_string_equal(f->test, "z");
	assert_true(find(&d, "b")->significant);
	assert_false(find(&d, "c")->significant);
	assert_string_equal(find(&d, "c")->test, "fisher");
	assert_false(find(&d, "main")->significant); /* main has no self samples: not tested */
	assert_int_equal(d.tested, 3);
	assert_int_equal(d.significant, 2);
	/* the largest change first */
	assert_true(!strcmp(strtab_str(&d.names, d.v[0].name), "a") ||
		    !strcmp(strtab_str(&d.names, d.v[0].name), "b"));
	jw_init(&j, &b, false);
	jw_object_begin(&j);
	diff_format_json(&d, &j, 10);
	jw_object_end(&j);
	assert_non_null(strstr(b.buf, "\"functions\":[{\"function\":"));
	assert_non_null(strstr(b.buf, "\"p_value\":"));
	assert_non_null(strstr(b.buf, "\"significant\":true"));
	diff_release(&d);

	/* 500 -> 510 of 1000: noise */
	assert_int_equal(diff_compute(p, r, NULL, &d, &e), 0);
	assert_int_equal(d.significant, 0);
	diff_release(&d);

	/* Inclusive: main is 100 % in both */
	{
		struct diff_opts o = DIFF_OPTS_INIT;

		o.inclusive = true;
		assert_int_equal(diff_compute(p, q, &o, &d, &e), 0);
		assert_false(find(&d, "main")->significant);
		assert_true(find(&d, "a")->significant);
		diff_release(&d);
		/* A floor on the effect size. */
		o.inclusive = false;
		o.min_delta = 40;
		assert_int_equal(diff_compute(p, q, &o, &d, &e), 0);
		assert_int_equal(d.significant, 0);
		diff_release(&d);
	}
	buf_release(&b);
	profile_free(p);
	profile_free(q);
	profile_free(r);
}

/* perf script's convention: every sample weighs its period. The common divisor makes them counts again. */
static void test_weighted_samples(void **state)
{
	struct profile *p = weighted(500, 500, 1000000), *q = weighted(510, 490, 1000000);
	struct diff_result d;
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(diff_compute(p, q, NULL, &d, &e), 0);
	assert_true(d.counts_estimated);
	assert_int_equal(d.significant, 0);
	diff_release(&d);
	profile_free(p);
	profile_free(q);
}

static void test_graph(void **state)
{
	struct profile *p = two(500, 500), *q = two(800, 200);
	struct err e = ERR_INIT;
	char dir[] = "/tmp/kiln-diff-XXXXXX", path[256];
	struct buf b = BUF_INIT;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/d.svg", dir);
	assert_int_equal(write_graph(p, q, NULL, path, &e), 0);
	assert_int_equal(buf_read_file(&b, path, &e), 0);
	assert_non_null(strstr(b.buf, "Differential Flame Graph"));
	/* a grew by 300 of 1001 samples: +29.97 % of the total, with callees too */
	assert_non_null(strstr(b.buf, "<title>a (800 samples, 79.92%; before 49.95%; change: self +29.97%, "
				      "with callees +29.97%)</title>"));
	assert_non_null(strstr(b.buf, "<title>main (1,001 samples, 100.00%; before 100.00%; change: self +0.00%, "
				      "with callees +0.00%)</title>"));
	unlink(path);
	buf_reset(&b);
	snprintf(path, sizeof(path), "%s/d.folded", dir);
	assert_int_equal(write_graph(p, q, NULL, path, &e), 0);
	assert_int_equal(buf_read_file(&b, path, &e), 0);
	assert_non_null(strstr(b.buf, "main;a 500 800\n"));
	assert_non_null(strstr(b.buf, "main;b 500 200\n"));
	unlink(path);
	rmdir(dir);
	buf_release(&b);
	profile_free(p);
	profile_free(q);
}

/* Reference values: R's poisson.test(c(x1, x2), c(1/w1, 1/w2)), i.e. binom.test(x1, x1 + x2, w2 / (w1 + w2)). */
static void test_poisson_reference(void **state)
{
	(void)state;
	assert_true(fabs(diff_poisson(10, 1, 20, 1) - 0.0987371467) < 1e-8);
	assert_true(fabs(diff_poisson(55, 1, 60, 1) - 0.7093227303) < 1e-8);
	assert_true(fabs(diff_poisson(3, 1, 17, 2) - 2.8453e-6) < 1e-9);
	assert_true(fabs(diff_poisson(7, 5, 7, 5) - 1.0) < 1e-9);
	assert_true(diff_poisson(0, 1, 0, 1) == 1.0);
	/* beyond the exact range: the normal approximation, z = (x1 - n p) / sqrt(n p (1 - p)) */
	assert_true(fabs(diff_poisson(100000, 1, 100100, 1) - 0.8231067596) < 1e-8);
}

/* A CPU profile as kiln records it: samples and cpu/nanoseconds columns, 1 ms per sample. */
static struct profile *cpu_profile(int64_t hot, int64_t steady)
{
	struct profile *p = profile_new(0);
	int64_t v[2];
	uint32_t n;

	profile_add_column(p, "samples", "count");
	profile_add_column(p, "cpu", "nanoseconds");
	p->period_type.type = profile_intern_str(p, "cpu");
	p->period_type.unit = profile_intern_str(p, "nanoseconds");
	p->period = 1000000;
	n = profile_node(p, profile_node(p, 0, profile_frame_named(p, "main", 4, FRAME_NATIVE)),
			 profile_frame_named(p, "hot", 3, FRAME_NATIVE));
	v[0] = hot;
	v[1] = hot * 1000000;
	profile_add_sample(p, n, 0, v);
	n = profile_node(p, profile_node(p, 0, profile_frame_named(p, "main", 4, FRAME_NATIVE)),
			 profile_frame_named(p, "steady", 6, FRAME_NATIVE));
	v[0] = steady;
	v[1] = steady * 1000000;
	profile_add_sample(p, n, 0, v);
	return p;
}

/* An 8x faster version whose `steady` did not change: absolute cost flags only `hot`, shares flag `steady`. */
static void test_absolute_basis(void **state)
{
	struct profile *slow = cpu_profile(1500, 100), *fast = cpu_profile(100, 100);
	struct diff_opts o = DIFF_OPTS_INIT;
	struct diff_result d;
	struct err e = ERR_INIT;
	const struct diff_fn *f;
	struct buf b = BUF_INIT;
	struct diff_report_opts ro = { { "slow", "fast" }, NULL, 10, false };

	(void)state;
	o.whole_runs = true;
	assert_int_equal(diff_basis_of(&o), DIFF_BASIS_ABSOLUTE);
	assert_int_equal(diff_compute(slow, fast, &o, &d, &e), 0);
	assert_int_equal(d.basis, DIFF_BASIS_ABSOLUTE);
	assert_true(fabs(d.ratio - 8.0) < 1e-12);
	assert_true(d.before_value_total == 1600e6 && d.after_value_total == 200e6);
	assert_string_equal(d.value_unit, "nanoseconds");
	f = find(&d, "hot");
	assert_true(f->significant && f->direction < 0 && f->delta_value == -1400e6);
	assert_string_equal(f->test, "poisson");
	f = find(&d, "steady");
	assert_false(f->significant);
	assert_int_equal(f->direction, 0);
	assert_true(f->delta_pct > 40); /* its share went from 6.25 % to 50 % */
	assert_int_equal(d.significant, 1);
	diff_report_text(&d, &ro, false, &b);
	assert_non_null(strstr(b.buf, "Overall: 8.00\xc3\x97 less CPU time\n"));
	assert_non_null(strstr(b.buf, "Verdict by absolute CPU time (both sides ran their command to completion"));
	assert_non_null(strstr(b.buf, "1.40 s"));
	buf_reset(&b);
	diff_report_json(&d, &ro, &b);
	assert_non_null(strstr(b.buf, "\"ratio\": 8,"));
	assert_non_null(strstr(b.buf, "\"basis\": \"absolute\""));
	diff_release(&d);

	/* the same data judged by shares: steady's share rose */
	o.basis = DIFF_BASIS_SHARES;
	assert_int_equal(diff_compute(slow, fast, &o, &d, &e), 0);
	f = find(&d, "steady");
	assert_true(f->significant && f->direction > 0);
	assert_string_equal(d.basis_reason, "--normalize");
	diff_release(&d);
	/* files without a word on how they were recorded: shares */
	assert_int_equal(diff_compute(slow, fast, NULL, &d, &e), 0);
	assert_int_equal(d.basis, DIFF_BASIS_SHARES);
	diff_release(&d);
	/* a min-delta in absolute terms: points of BEFORE's total cost (hot moved 87.5 points) */
	o.basis = DIFF_BASIS_ABSOLUTE;
	o.min_delta = 90;
	assert_int_equal(diff_compute(slow, fast, &o, &d, &e), 0);
	assert_int_equal(d.significant, 0);
	diff_release(&d);
	buf_release(&b);
	profile_free(slow);
	profile_free(fast);
}

/* Different cost units on the two sides (time against plain counts) compare the counts. */
static void test_absolute_mixed_units(void **state)
{
	struct profile *p = cpu_profile(300, 100), *q = two(100, 100);
	struct diff_opts o = DIFF_OPTS_INIT;
	struct diff_result d;
	struct err e = ERR_INIT;

	(void)state;
	o.basis = DIFF_BASIS_ABSOLUTE;
	assert_int_equal(diff_compute(p, q, &o, &d, &e), 0);
	assert_string_equal(d.value_unit, "count");
	assert_true(fabs(d.ratio - 400.0 / 201.0) < 1e-12);
	diff_release(&d);
	profile_free(p);
	profile_free(q);
}

static void test_graph_absolute(void **state)
{
	struct profile *slow = cpu_profile(1500, 100), *fast = cpu_profile(100, 100);
	struct diff_opts o = DIFF_OPTS_INIT;
	struct err e = ERR_INIT;
	char dir[] = "/tmp/kiln-diff-XXXXXX", path[256];
	struct buf b = BUF_INIT;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/d.svg", dir);
	o.basis = DIFF_BASIS_ABSOLUTE;
	assert_int_equal(write_graph(slow, fast, &o, path, &e), 0);
	assert_int_equal(buf_read_file(&b, path, &e), 0);
	assert_non_null(strstr(b.buf, "<title>steady (100 samples, 100.0 ms, 50.00%; before 100.0 ms, 6.25%; change: "
				      "self 0 ns, with callees 0 ns)</title>"));
	assert_non_null(strstr(b.buf, "<title>hot (100 samples, 100.0 ms, 50.00%; before 1.50 s, 93.75%; change: "
				      "self -1.40 s, with callees -1.40 s)</title>"));
	assert_non_null(strstr(b.buf, "absolute time; BEFORE/AFTER 8.00"));
	unlink(path);
	/* by shares, the time is still shown beside the samples */
	buf_reset(&b);
	o.basis = DIFF_BASIS_SHARES;
	assert_int_equal(write_graph(slow, fast, &o, path, &e), 0);
	assert_int_equal(buf_read_file(&b, path, &e), 0);
	assert_non_null(strstr(b.buf, "<title>steady (100 samples, 100.0 ms, 50.00%; before 6.25%; change: self "
				      "+43.75%, with callees +43.75%)</title>"));
	unlink(path);
	rmdir(dir);
	buf_release(&b);
	profile_free(slow);
	profile_free(fast);
}

static void test_errors(void **state)
{
	struct profile *p = two(5, 5), *q = profile_new(0);
	struct diff_result d;
	struct err e = ERR_INIT;
	struct diff_opts o = DIFF_OPTS_INIT;

	(void)state;
	profile_add_column(q, "samples", "count");
	assert_int_equal(diff_compute(p, q, NULL, &d, &e), -1);
	assert_non_null(strstr(e.msg, "no samples"));
	o.value = "cpu";
	assert_int_equal(diff_compute(p, p, &o, &d, &e), -1);
	assert_non_null(strstr(e.msg, "'cpu'"));
	profile_free(p);
	profile_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_values), cmocka_unit_test(test_corrections),
		cmocka_unit_test(test_self_diff_is_noise), cmocka_unit_test(test_real_change_and_noise),
		cmocka_unit_test(test_weighted_samples), cmocka_unit_test(test_graph),
		cmocka_unit_test(test_errors), cmocka_unit_test(test_poisson_reference),
		cmocka_unit_test(test_absolute_basis), cmocka_unit_test(test_absolute_mixed_units),
		cmocka_unit_test(test_graph_absolute),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
