/* Unit tests for the pprof-legacy, pprof-java, callgrind and stackprof readers: detection, pprof's unsampling and
 * scaling formulas, threadz counting, the callgrind call tree's exact self costs, and refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "formats/format.h"
#include "formats/input.h"
#include "profile/profile.h"

static int read_str(struct profile *p, const char *name, const char *data, struct err *e)
{
	struct input in;
	int ret;

	input_from_memory(&in, data, strlen(data), "<test>");
	ret = format_by_name(name)->read(p, &in, &(struct format_read_opts){ 0 }, e);
	input_close(&in);
	return ret;
}

static const char *detect(const char *data)
{
	const struct format *f = format_detect((const unsigned char *)data, strlen(data));

	return f ? f->name : "(none)";
}

static int64_t col_total(const struct profile *p, const char *type)
{
	int c = profile_find_column(p, type);

	assert_true(c >= 0);
	return profile_total(p, c);
}

/* pprof's scaleHeapSample, written out independently of the reader. */
static void unsample(int64_t count, int64_t size, int64_t rate, int64_t *c, int64_t *s)
{
	double scale = 1 / (1 - exp(-((double)size / (double)count) / (double)rate));

	*c = (int64_t)((double)count * scale);
	*s = (int64_t)((double)size * scale);
}

static void test_heap(void **state)
{
	static const char v2[] = "heap profile: 3: 3000 [ 5: 9000] @ heap_v2/524288\n"
				 "  1: 1000 [ 2: 4000] @ 0x401001 0x402002\n"
				 "  2: 2000 [ 3: 5000] @ 0x401001\n"
				 "\nMAPPED_LIBRARIES:\n"
				 "00400000-00500000 r-xp 00000000 08:01 123 /usr/bin/prog\n";
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	int64_t c1, s1, c2, s2, want_c = 0, want_s = 0;

	(void)state;
	assert_string_equal(detect(v2), "pprof-legacy");
	assert_int_equal(read_str(p, "pprof-legacy", v2, &e), 0);
	assert_int_equal(p->ncolumns, 4);
	/* In-use pairs (1: 1000) and (2: 2000), alloc pairs (2: 4000) and (3: 5000), each unsampled. */
	unsample(1, 1000, 524288, &c1, &s1);
	unsample(2, 2000, 524288, &c2, &s2);
	assert_int_equal(col_total(p, "inuse_objects"), c1 + c2);
	assert_int_equal(col_total(p, "inuse_space"), s1 + s2);
	unsample(2, 4000, 524288, &c1, &s1);
	unsample(3, 5000, 524288, &c2, &s2);
	want_c = c1 + c2;
	want_s = s1 + s2;
	assert_int_equal(col_total(p, "alloc_objects"), want_c);
	assert_int_equal(col_total(p, "alloc_space"), want_s);
	/* The caller address is moved back onto its call, relative to the mapping. */
	bool seen = false;
	for (size_t i = 0; i < p->frames_nr; i++)
		if (!strcmp(profile_str(p, p->frames[i].function), "[prog+0x2001]"))
			seen = true;
	assert_true(seen);
	profile_free(p);

	/* Not sampled: the values as written; a bracket equal to the in-use pair gives objects/space. */
	p = profile_new(0);
	assert_int_equal(read_str(p, "pprof-legacy", "heap profile: 1: 10 [1: 10] @ heapprofile\n1: 10 [1: 10] @ 0x10\n",
				  &e), 0);
	assert_int_equal(p->ncolumns, 2);
	assert_int_equal(col_total(p, "space"), 10);
	profile_free(p);

	/* Impossible records are refused. */
	p = profile_new(0);
	assert_int_equal(read_str(p, "pprof-legacy", "heap profile: 1: 10 [1: 10] @ heapprofile\n0: 10 [1: 10] @ 0x10\n",
				  &e), -1);
	assert_non_null(strstr(e.msg, "0 objects"));
	profile_free(p);
}

static void test_contention_and_threads(void **state)
{
	static const char cz[] = "--- contentionz 1 ---\ncycles/second = 2000000000\nsampling period = 10\n"
				 "  400 3 @ 0x10 0x20\n  100 1 @ 0x10\n--- Memory map: ---\n";
	static const char tz[] = "--- threadz 1 ---\n\n--- Thread 1 (name: a/1) stack: ---\n  PC: 0x100: f\n"
				 "  0x200: main\n--- Thread 2 (name: b/2) stack: ---\n  [same as previous thread]\n"
				 "--- Thread 3 (name: c/3) stack: ---\n  PC: 0x300\n";
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;

	(void)state;
	assert_string_equal(detect(cz), "pprof-legacy");
	assert_int_equal(read_str(p, "pprof-legacy", cz, &e), 0);
	/* contentions = count x period; delay = cycles x period / GHz. */
	assert_int_equal(col_total(p, "contentions"), (3 + 1) * 10);
	assert_int_equal(col_total(p, "delay"), 400 * 10 / 2 + 100 * 10 / 2);
	profile_free(p);

	p = profile_new(0);
	assert_string_equal(detect(tz), "pprof-legacy");
	assert_int_equal(read_str(p, "pprof-legacy", tz, &e), 0);
	assert_int_equal(col_total(p, "thread"), 3);
	assert_int_equal(p->rows_nr, 2);
	profile_free(p);

	/* Java's contentionz is not gperftools'. */
	assert_string_equal(detect("--- contentionz 1 ---\nformat = java\nresolution = microseconds\n 1 1 @ 0x1\n"),
			    "pprof-java");
}

static void test_callgrind(void **state)
{
	/* main calls a (cost 60) and b (30); both call c, whose self cost 50 splits 2:1 by the edges' costs. */
	static const char cg[] = "# callgrind format\nevents: Ir Dr\n"
				 "fl=(1) x.c\nfn=(1) main\n1 10 1\ncfn=(2) a\ncalls=1 5\n1 60 6\ncfn=(3) b\ncalls=1 9\n1 30 3\n"
				 "fn=(2)\n5 20 2\ncfn=(4) c\ncalls=2 20\n5 40 4\n"
				 "fn=(3)\n9 10 1\ncfn=(4)\ncalls=1 20\n9 20 2\n"
				 "fn=(4)\n20 60 6\n";
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	int64_t c_self = 0;

	(void)state;
	assert_string_equal(detect(cg), "callgrind");
	assert_int_equal(read_str(p, "callgrind", cg, &e), 0);
	assert_int_equal(p->ncolumns, 2);
	assert_int_equal(profile_default_column(p), 0);
	assert_int_equal(profile_total(p, 0), 10 + 20 + 10 + 60);
	assert_int_equal(profile_total(p, 1), 1 + 2 + 1 + 6);
	for (size_t r = 0; r < p->rows_nr; r++) {
		uint32_t fr[8];
		size_t n = profile_stack(p, p->rows[r].node, fr, 8);

		if (!strcmp(profile_str(p, p->frames[fr[n - 1]].function), "c")) {
			c_self += profile_row_values(p, r)[0];
			/* c under a gets 40/60 of its cost, under b 20/60. */
			if (!strcmp(profile_str(p, p->frames[fr[n - 2]].function), "a"))
				assert_int_equal(profile_row_values(p, r)[0], 40);
			else
				assert_int_equal(profile_row_values(p, r)[0], 20);
		}
	}
	assert_int_equal(c_self, 60);
	profile_free(p);

	p = profile_new(0);
	assert_int_equal(read_str(p, "callgrind", "events: Ir\nfn=(7)\n1 2\n", &e), -1);
	assert_non_null(strstr(e.msg, "before it is defined"));
	profile_free(p);
}

static void test_stackprof(void **state)
{
	static const char sp[] = "{\"mode\":\"cpu\",\"interval\":1000,\"samples\":5,\"frames\":{"
				 "\"1\":{\"name\":\"main\",\"file\":\"a.rb\",\"line\":1},\"2\":{\"name\":\"f\"}},"
				 "\"raw\":[2,1,2,3,1,1,2]}";
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;

	(void)state;
	assert_string_equal(detect(sp), "stackprof");
	assert_int_equal(read_str(p, "stackprof", sp, &e), 0);
	assert_int_equal(col_total(p, "samples"), 5);
	assert_int_equal(col_total(p, "cpu"), 5000);
	profile_free(p);
	p = profile_new(0);
	assert_int_equal(read_str(p, "stackprof", "{\"mode\":\"cpu\",\"frames\":{},\"raw\":[3,1]}", &e), -1);
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heap),
		cmocka_unit_test(test_contention_and_threads),
		cmocka_unit_test(test_callgrind),
		cmocka_unit_test(test_stackprof),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
