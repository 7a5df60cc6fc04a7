/*
 * Unit tests for src/pgo: the compiler-diagnostic parser and the coverage readers, on output captured from
 * GCC 12, Clang 14, gcov-dump 12 and llvm-profdata 14 (both quote styles of GCC: UTF-8 and the C locale).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pgo/coverage.h"
#include "pgo/diag.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diag_gcc),
		cmocka_unit_test(test_diag_clang),
		cmocka_unit_test(test_coverage_gcov_dump),
		cmocka_unit_test(test_coverage_llvm_show),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
