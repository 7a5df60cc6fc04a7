/*
 * Unit tests for src/pgo: the compiler-diagnostic parser and the coverage readers, on output captured from
 * GCC 12, Clang 14, gcov-dump 12 and llvm-profdata 14 (both quote styles of GCC: UTF-8 and the C locale); the
 * sample-profile and default.pgo writers on a profile of this test's own functions, whose start lines the
 * DWARF of this very binary holds and __LINE__ gives independently.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "formats/gzip.h"
#include "formats/pprof_pb.h"
#include "pgo/coverage.h"
#include "pgo/debuginfo.h"
#include "pgo/diag.h"
#include "pgo/driver.h"
#include "pgo/gopgo.h"
#include "pgo/sample.h"
#include "pgo/speedup.h"
#include "profile/profile.h"

int pgo_test_target(int x);
int pgo_test_caller(int x);

/* The functions the synthetic profile names; their DWARF start lines must equal these __LINE__s. */
static const unsigned target_line = __LINE__ + 1;
__attribute__((noinline, used)) int pgo_test_target(int x)
{
	return x * 3 + 1;
}
static const unsigned inl_line = __LINE__ + 1;
static inline __attribute__((always_inline)) int pgo_test_inl(int x)
{
	return x ^ 5;
}
static const unsigned caller_line = __LINE__ + 1;
__attribute__((noinline, used)) int pgo_test_caller(int x)
{
	return pgo_test_target(x) + pgo_test_inl(x);
}

static void test_diag_gcc(void **state)
{
	static const char text[] =
		"prog.c: In function \xe2\x80\x98main\xe2\x80\x99:\n"
		"prog.c:5:5: warning: source locations for function \xe2\x80\x98main\xe2\x80\x99 have changed, the "
		"profile data may be out of date [-Wcoverage-mismatch]\n"
		"    5 | int main(int argc,char**argv){ long s=0; }\n"
		"      |     ^~~~\n"
		"prog.c:5:5: warning: source locations for function \xe2\x80\x98main\xe2\x80\x99 have changed, the "
		"profile data may be out of date [-Wcoverage-mismatch]\n"
		"work.c:4:1: error: number of counters in profile data for function 'hot' does not match its profile "
		"data (counter 'arcs', expected 3 and have 5) [-Werror=coverage-mismatch]\n"
		"work.c:9:1: warning: the control flow of function 'cold' does not match its profile data (counter "
		"'arcs') [-Wcoverage-mismatch]\n"
		"work.c:9:1: note: use '-Wno-error=coverage-mismatch' to tolerate the mismatch [-Wcoverage-mismatch]\n"
		"new.c:12:1: warning: '/x/.kiln-pgo/profile/#x#new.gcda' profile count data file not found "
		"[-Wmissing-profile]\n";
	struct pgo_diag d = PGO_DIAG_INIT;

	(void)state;
	pgo_diag_parse(&d, text, strlen(text));
	assert_int_equal(d.nr, 4); /* main once; hot as an error (-Werror=) counts too; the note does not */
	assert_int_equal(d.v[0].kind, PGO_STALE);
	assert_string_equal(d.v[0].function, "main");
	assert_string_equal(d.v[0].file, "prog.c");
	assert_int_equal(d.v[0].line, 5);
	assert_string_equal(d.v[1].function, "hot");
	assert_string_equal(d.v[1].file, "work.c");
	assert_string_equal(d.v[2].function, "cold");
	assert_int_equal(d.v[2].line, 9);
	assert_int_equal(d.v[3].kind, PGO_MISSING);
	assert_null(d.v[3].function);
	assert_string_equal(d.v[3].file, "new.c");
	assert_int_equal(pgo_diag_count(&d, PGO_STALE), 3);
	assert_int_equal(pgo_diag_count(&d, PGO_MISSING), 1);
	pgo_diag_release(&d);
}

static void test_diag_clang(void **state)
{
	static const char text[] =
		"warning: profile data may be out of date: of 4 functions, 1 has mismatched data that will be ignored "
		"[-Wprofile-instr-out-of-date]\n"
		"warning: profile data may be incomplete: of 4 functions, 1 has no data [-Wprofile-instr-missing]\n"
		"warning: profile data may be out of date: of 10 functions, 3 have mismatched data that will be "
		"ignored [-Wprofile-instr-out-of-date]\n"
		"warning: no profile data available for file \"extra.c\" [-Wprofile-instr-unprofiled]\n"
		"2 warnings generated.\n";
	struct pgo_diag d = PGO_DIAG_INIT;

	(void)state;
	pgo_diag_parse(&d, text, strlen(text));
	assert_int_equal(d.nr, 4);
	assert_int_equal(d.v[0].count, 1);
	assert_int_equal(d.v[0].of, 4);
	assert_int_equal(d.v[2].count, 3);
	assert_int_equal(d.v[2].of, 10);
	assert_int_equal(pgo_diag_count(&d, PGO_STALE), 4);
	assert_int_equal(pgo_diag_count(&d, PGO_MISSING), 1);
	assert_int_equal(d.v[3].kind, PGO_UNPROFILED);
	assert_string_equal(d.v[3].file, "extra.c");
	pgo_diag_release(&d);
}

static void test_coverage_gcov_dump(void **state)
{
	static const char text[] =
		"a.gcda:data:magic `gcda':version `B22*'\n"
		"a.gcda:stamp 1233197094\n"
		"a.gcda:checksum 3466066724\n"
		"a.gcda:  a1000000:   8:OBJECT_SUMMARY runs=2, sum_max=6\n"
		"a.gcda:  01000000:  12:FUNCTION ident=108032747, lineno_checksum=0x2e634772, cfg_checksum=0x3977\n"
		"a.gcda:    01a10000:  48:COUNTERS arcs 6 counts\n"
		"a.gcda:                   0: 1 1 1 4000 4 1 \n"
		"a.gcda:    01af0000:   8:COUNTERS time_profiler 1 counts\n"
		"a.gcda:                   0: 1 \n"
		"a.gcda:  01000000:  12:FUNCTION ident=2, lineno_checksum=0x1, cfg_checksum=0x2\n"
		"a.gcda:    01a10000:  16:COUNTERS arcs 2 counts\n"
		"a.gcda:                   0: 0 0 \n"
		"a.gcda:    01af0000:   8:COUNTERS time_profiler 1 counts\n"
		"a.gcda:                   0: 0 \n"
		"b.gcda:data:magic `gcda':version `B22*'\n"
		"b.gcda:  a1000000:   8:OBJECT_SUMMARY runs=2, sum_max=99\n"
		"b.gcda:  01000000:  12:FUNCTION ident=3, lineno_checksum=0x1, cfg_checksum=0x2\n"
		"b.gcda:    01af0000:   8:COUNTERS time_profiler 1 counts\n"
		"b.gcda:                   0: 2 \n";
	struct pgo_coverage c = { 0 };

	(void)state;
	pgo_coverage_parse_gcov_dump(&c, text, strlen(text));
	assert_int_equal(c.objects, 2);
	assert_int_equal(c.functions, 3);
	assert_int_equal(c.covered, 2); /* the third ran: its time profiler is set though it has no arcs */
	assert_int_equal(c.max_count, 4000);
}

static void test_coverage_llvm_show(void **state)
{
	static const char text[] =
		"Counters:\n  main:\n    Hash: 0x000000035c11b458\n    Counters: 3\n    Function count: 2\n"
		"  work.c:cold:\n    Hash: 0x0000000000000018\n    Counters: 1\n    Function count: 0\n"
		"  hot:\n    Hash: 0x000000000000060d\n    Counters: 2\n    Function count: 4000\n"
		"Instrumentation level: Front-end\nFunctions shown: 3\nTotal functions: 3\n"
		"Maximum function count: 4000\n";
	struct pgo_coverage c = { 0 };

	(void)state;
	pgo_coverage_parse_llvm_show(&c, text, strlen(text));
	assert_int_equal(c.functions, 3);
	assert_int_equal(c.covered, 2);
	assert_int_equal(c.max_count, 4000);
}

static uint32_t frame(struct profile *p, const char *fn, unsigned line, enum frame_kind kind, const char *module)
{
	struct frame f = { 0 };

	f.function = profile_intern_str(p, fn);
	f.file = profile_intern_str(p, __FILE__);
	f.module = profile_intern_str(p, module);
	f.line = line;
	f.kind = kind;
	return profile_frame(p, &f);
}

/*
 * caller -> (inlined) inl with 5 samples; caller -> target with 3; and 2 samples in another module, which are
 * left out.
 */
static struct profile *test_profile(const char *self)
{
	struct profile *p = profile_new(0);
	uint32_t caller = frame(p, "pgo_test_caller", caller_line + 2, FRAME_NATIVE, self);
	uint32_t n;

	profile_add_column(p, "samples", "count");
	n = profile_node(p, profile_node(p, 0, caller), frame(p, "pgo_test_inl", inl_line + 2, FRAME_INLINED, self));
	profile_add_sample1(p, n, 0, 5);
	n = profile_node(p, profile_node(p, 0, caller), frame(p, "pgo_test_target", target_line + 2, FRAME_NATIVE, self));
	profile_add_sample1(p, n, 0, 3);
	n = profile_node(p, profile_node(p, 0, caller), frame(p, "memcpy", 10, FRAME_NATIVE, "/lib/libc.so.6"));
	profile_add_sample1(p, n, 0, 2);
	return p;
}

static void test_sample_writer(void **state)
{
	char *self = realpath("/proc/self/exe", NULL), *text = NULL, want[512];
	struct err e = ERR_INIT;
	struct pgo_dbg *dbg = pgo_dbg_open(self, &e);
	struct profile *p = test_profile(self);
	struct pgo_sample_opts o = { .binary = self, .column = -1 };
	struct pgo_sample_stats st;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	(void)state;
	if (!dbg)
		print_error("%s\n", e.msg);
	assert_non_null(dbg);
	assert_int_equal(pgo_dbg_function(dbg, "pgo_test_target", __FILE__)->line, target_line);
	assert_int_equal(pgo_dbg_function(dbg, "pgo_test_inl", NULL)->line, inl_line);
	assert_int_equal(pgo_sample_write(p, dbg, &o, out, &st, &e), 0);
	fclose(out);
	/* The call line carries the call target's samples; the leaf bodies sit 2 lines below each start. */
	snprintf(want, sizeof(want),
		 "pgo_test_caller:8:0\n 2: 3 pgo_test_target:3\n 2: pgo_test_inl:5\n  2: 5\n"
		 "pgo_test_target:3:0\n 2: 3\n");
	assert_string_equal(text, want);
	assert_int_equal(st.total, 10);
	assert_int_equal(st.in_binary, 8);
	assert_int_equal(st.written, 8);
	assert_int_equal(st.functions, 2);
	free(text);
	profile_free(p);
	pgo_dbg_free(dbg);
	free(self);
}

static void test_go_writer(void **state)
{
	char *self = realpath("/proc/self/exe", NULL);
	struct err e = ERR_INIT;
	struct pgo_dbg *dbg = pgo_dbg_open(self, &e);
	struct profile *p = test_profile(self);
	struct buf out = BUF_INIT, raw = BUF_INIT;
	struct pgo_go_stats st;
	PbProfile *pb;
	size_t starts = 0;

	(void)state;
	assert_non_null(dbg);
	assert_int_equal(pgo_go_write(p, dbg, self, &out, &st, &e), 0);
	assert_int_equal(gzip_inflate((const unsigned char *)out.buf, out.len, 1 << 20, false, &raw, &e), 0);
	pb = perftools__profiles__profile__unpack(NULL, raw.len, (const uint8_t *)raw.buf);
	assert_non_null(pb);
	assert_int_equal(pb->n_sample, 3); /* the libc leaf goes, its caller in the program stays */
	assert_int_equal(st.samples, 10);
	for (size_t i = 0; i < pb->n_sample; i++)
		if (pb->sample[i]->value[0] == 2)
			assert_int_equal(pb->sample[i]->n_location_id, 1);
	assert_string_equal(pb->string_table[pb->sample_type[0]->type], "samples");
	for (size_t i = 0; i < pb->n_function; i++) {
		const char *name = pb->string_table[pb->function[i]->name];
		unsigned want = !strcmp(name, "pgo_test_caller") ? caller_line :
				!strcmp(name, "pgo_test_inl") ? inl_line : target_line;

		assert_int_equal(pb->function[i]->start_line, want);
		starts++;
	}
	assert_int_equal(starts, 3);
	/* The inlined frame and its caller are one Location, innermost Line first. */
	for (size_t i = 0; i < pb->n_location; i++) {
		if (pb->location[i]->n_line == 2) {
			assert_int_equal(pb->location[i]->line[0]->line, inl_line + 2);
			assert_int_equal(pb->location[i]->line[1]->line, caller_line + 2);
		}
	}
	perftools__profiles__profile__free_unpacked(pb, NULL);
	buf_release(&out);
	buf_release(&raw);
	profile_free(p);
	pgo_dbg_free(dbg);
	free(self);
}

static void test_state_parse(void **state)
{
	static const char text[] = "toolchain gcc\ncc /usr/bin/x86_64-linux-gnu-gcc-12\nruns 12\n";
	size_t runs = 99;
	char *cc = pgo_state_parse(text, strlen(text), &runs);

	(void)state;
	assert_string_equal(cc, "/usr/bin/x86_64-linux-gnu-gcc-12");
	assert_int_equal(runs, 12);
	free(cc);
	assert_null(pgo_state_parse("toolchain gcc\ncc \n", 17, &runs));
	assert_int_equal(runs, 0);
}

static void test_same_file(void **state)
{
	(void)state;
	assert_true(pgo_same_file("/src/a/x.c", "a/x.c"));
	assert_true(pgo_same_file("/src/a/x.c", "/other/x.c")); /* same base name: the fallback */
	assert_false(pgo_same_file("/src/a/x.c", "/src/a/y.h"));
	assert_true(pgo_same_file(NULL, "x.c"));
	assert_true(pgo_same_file("", "x.c"));
}

/*
 * kiln pgo compare's figure: round i's ratio is base[i] / opt[i]; the median of the ratios ignores a round a
 * burst of load spoiled (round 3: the baseline ran 5x slower), where the ratio of the medians or of the means
 * would not be paired. Ratios here: 2.0, 1.5, 2.0, 10.0, 1.25, 2.0, 1.6 -> sorted gains 0.25 0.5 0.6 1 1 1 9.
 */
static void test_speedup(void **state)
{
	const double base[] = { 2, 3, 4, 10, 2.5, 2, 3.2, 0 }, opt[] = { 1, 2, 2, 1, 2, 1, 2, 1 };
	struct pgo_speedup s;

	(void)state;
	assert_int_equal(pgo_speedup(base, opt, 8, 0.95, &s), 0);
	assert_int_equal(s.n, 7); /* the round with no baseline cost carries no ratio */
	assert_float_equal(s.gain, 1.0, 1e-12);
	assert_float_equal(s.base, 3.0, 1e-12);
	assert_float_equal(s.opt, 2.0, 1e-12);
	/* Type-7 quartiles of 0.25 0.5 0.6 1 1 1 9: h = 1.5 -> 0.55, h = 4.5 -> 1. */
	assert_float_equal(s.q1, 0.55, 1e-12);
	assert_float_equal(s.q3, 1.0, 1e-12);
	/* n = 7 at 95 %: P(B(7, 1/2) < 1) = 1/128 <= 0.025 < P(B < 2) = 8/128: the interval is [x(1), x(7)]. */
	assert_float_equal(s.lo, 0.25, 1e-12);
	assert_float_equal(s.hi, 9.0, 1e-12);
	assert_string_equal(pgo_speedup_verdict(&s), "faster");
	/* The same builds: no difference. */
	const double same[] = { 2, 3, 4, 10, 2.5, 2, 3.2, 1 };
	assert_int_equal(pgo_speedup(same, same, 8, 0.95, &s), 0);
	assert_float_equal(s.gain, 0, 0);
	assert_string_equal(pgo_speedup_verdict(&s), "no difference");
	/* Slower: every round costs more than the baseline's. */
	assert_int_equal(pgo_speedup(opt, base, 7, 0.95, &s), 0);
	assert_true(s.hi < 0);
	assert_string_equal(pgo_speedup_verdict(&s), "slower");
	assert_int_equal(pgo_speedup(base + 7, opt, 1, 0.95, &s), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diag_gcc),
		cmocka_unit_test(test_diag_clang),
		cmocka_unit_test(test_coverage_gcov_dump),
		cmocka_unit_test(test_coverage_llvm_show),
		cmocka_unit_test(test_sample_writer),
		cmocka_unit_test(test_go_writer),
		cmocka_unit_test(test_state_parse),
		cmocka_unit_test(test_same_file),
		cmocka_unit_test(test_speedup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
