/* Unit tests for src/record/perfperm.c: what perf_event_paranoid and the capabilities allow, and what is said. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "core/err.h"
#include "record/perfperm.h"

static struct perfperm parse(const char *paranoid, const char *status)
{
	struct perfperm pp;
	perfperm_parse(&pp, paranoid, status, status ? strlen(status) : 0);
	return pp;
}

#define ROOT_CAPS "Name:\tkiln\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n"
#define NO_CAPS "Name:\tkiln\nCapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\n"
#define PERFMON_ONLY "CapEff:\t0000004000000000\n"       /* bit 38 */
#define BPF_PERFMON "CapEff:\t000000c000000000"          /* bits 38, 39; no final newline */
#define SYS_ADMIN_ONLY "CapEff:\t0000000000200000\n"     /* bit 21: an older kernel's root */

static void test_parse(void **state)
{
	struct perfperm pp;

	(void)state;
	pp = parse("2\n", NO_CAPS);
	assert_int_equal(pp.paranoid, 2);
	assert_false(pp.perfmon);
	assert_false(pp.bpf);
	pp = parse("-1\n", ROOT_CAPS);
	assert_int_equal(pp.paranoid, -1);
	assert_true(pp.perfmon);
	assert_true(pp.bpf);
	pp = parse("1", PERFMON_ONLY);
	assert_true(pp.perfmon);
	assert_false(pp.bpf);
	pp = parse("3", BPF_PERFMON);
	assert_int_equal(pp.paranoid, 3);
	assert_true(pp.perfmon && pp.bpf);
	pp = parse("4", SYS_ADMIN_ONLY);
	assert_true(pp.perfmon && pp.bpf);
	/* unreadable or nonsense: the restrictive default, no capabilities */
	pp = parse(NULL, NULL);
	assert_int_equal(pp.paranoid, 2);
	assert_false(pp.perfmon || pp.bpf);
	pp = parse("x", "CapEff:");
	assert_int_equal(pp.paranoid, 2);
	assert_false(pp.perfmon);
}

static void test_decisions(void **state)
{
	struct perfperm pp;
	struct err e = ERR_INIT;

	(void)state;
	pp = parse("2", NO_CAPS);
	assert_true(perfperm_user_space_only(&pp));
	assert_non_null(strstr(perfperm_user_space_note(&pp), "sysctl kernel.perf_event_paranoid=1, or run as root"));
	pp = parse("1", NO_CAPS);
	assert_false(perfperm_user_space_only(&pp));
	pp = parse("2", PERFMON_ONLY);
	assert_false(perfperm_user_space_only(&pp));

	/* eBPF: both capabilities, or CAP_SYS_ADMIN */
	pp = parse("-1", NO_CAPS);
	assert_int_equal(perfperm_check_bpf(&pp, "--mode offcpu", false, &e), -1);
	assert_string_equal(e.msg, "--mode offcpu needs root, or the capabilities CAP_BPF and CAP_PERFMON (it traces "
				   "with eBPF)");
	/* io may count through perf tracepoints at paranoid -1 */
	assert_int_equal(perfperm_check_bpf(&pp, "--mode io", true, &e), 0);
	pp = parse("2", NO_CAPS);
	assert_int_equal(perfperm_check_bpf(&pp, "--mode io", true, &e), -1);
	pp = parse("2", PERFMON_ONLY);
	assert_int_equal(perfperm_check_bpf(&pp, "--mode wall", false, &e), -1);
	assert_non_null(strstr(e.msg, ": CAP_BPF is missing"));
	assert_int_equal(perfperm_check_bpf(&pp, "--mode io", true, &e), 0);
	pp = parse("2", BPF_PERFMON);
	assert_int_equal(perfperm_check_bpf(&pp, "--mode offcpu", false, &e), 0);
	pp = parse("2", SYS_ADMIN_ONLY);
	assert_int_equal(perfperm_check_bpf(&pp, "--mode offcpu", false, &e), 0);

	/* refusals say which setting and what allows it */
	pp = parse("3", NO_CAPS);
	perfperm_open_error(&pp, false, EACCES, &e);
	assert_non_null(strstr(e.msg, "Permission denied (kernel.perf_event_paranoid is 3: no unprivileged profiling"));
	pp = parse("1", NO_CAPS);
	perfperm_open_error(&pp, true, EACCES, &e);
	assert_non_null(strstr(e.msg, "--all-cpus needs it at 0 or below"));
	pp = parse("2", ROOT_CAPS);
	perfperm_open_error(&pp, false, EPERM, &e);
	assert_non_null(strstr(e.msg, "despite CAP_PERFMON"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_decisions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
