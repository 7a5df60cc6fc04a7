/* Unit tests for the off-CPU / I/O eBPF support: the leaf-frame splice, system call names, weighted session
 * samples, and (as root, where eBPF is allowed) a live off-CPU measurement of this test's own sleep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "profile/profile.h"
#include "record/bpf_util.h"
#include "record/iotrace.h"
#include "record/offcpu.h"
#include "perf/perf_record.h"
#include "record/session.h"
#include "symbols/symbolizer.h"

static void test_splice_inserts_missing_caller(void **state)
{
	(void)state;
	/* Frame pointers skipped 0x200 (the caller of a frameless leaf): the unwound chain has it. */
	uint64_t fp[8] = { 0x100, 0x300, 0x400 };
	const uint64_t dw[] = { 0x100, 0x200, 0x300 };
	size_t n = kbpf_splice(fp, 3, dw, 3, 8);
	assert_int_equal(n, 4);
	const uint64_t want[] = { 0x100, 0x200, 0x300, 0x400 };
	assert_memory_equal(fp, want, sizeof(want));
}

static void test_splice_nothing_missing(void **state)
{
	(void)state;
	uint64_t fp[8] = { 0x100, 0x200, 0x300 };
	const uint64_t dw[] = { 0x100, 0x200 };
	assert_int_equal(kbpf_splice(fp, 3, dw, 2, 8), 3);
	assert_int_equal(fp[1], 0x200);
}

static void test_splice_no_meeting_point(void **state)
{
	(void)state;
	uint64_t fp[8] = { 0x100, 0x300, 0x400 };
	const uint64_t dw[] = { 0x100, 0x900, 0x800 };
	assert_int_equal(kbpf_splice(fp, 3, dw, 3, 8), 3);
	const uint64_t want[] = { 0x100, 0x300, 0x400 };
	assert_memory_equal(fp, want, sizeof(want));
}

static void test_splice_capacity(void **state)
{
	(void)state;
	uint64_t fp[4] = { 0x100, 0x400, 0x500, 0x600 };
	const uint64_t dw[] = { 0x100, 0x200, 0x300, 0x400 };
	size_t n = kbpf_splice(fp, 4, dw, 4, 4);
	assert_int_equal(n, 4);
	const uint64_t want[] = { 0x100, 0x200, 0x300, 0x400 };
	assert_memory_equal(fp, want, sizeof(want));
}

static void test_syscall_names(void **state)
{
	(void)state;
	assert_string_equal(io_syscall_name(0), "read");
	assert_string_equal(io_syscall_name(1), "write");
	assert_string_equal(io_syscall_name(231), "exit_group");
	assert_null(io_syscall_name(100000));
}

/* rec_session_record_n: a sample that stands for n samples. */
static void test_session_weighted(void **state)
{
	(void)state;
	struct symbolizer *sym = symbolizer_new();
	struct rec_session_opts so = { .value_type = "off_cpu", .value_unit = "nanoseconds", .no_labels = true };
	struct rec_session *s = rec_session_new(sym, &so);
	uint64_t chain[] = { (uint64_t)PERF_CONTEXT_USER, 0x1234 };
	struct perf_rec r;
	memset(&r, 0, sizeof(r));
	r.type = PERF_RECORD_SAMPLE;
	r.misc = PERF_RECORD_MISC_USER;
	r.sid.pid = r.sid.tid = 4242;
	r.u.sample.period = 7000;
	r.u.sample.callchain = (const unsigned char *)chain;
	r.u.sample.callchain_nr = 2;
	rec_session_record_n(s, &r, 5);
	rec_session_record_n(s, &r, 2);
	assert_int_equal(rec_session_samples(s), 7);
	assert_int_equal(rec_session_asid(s, 4242), 4242);

	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	assert_int_equal(rec_session_finish(s, p, &e), 0);
	assert_int_equal(profile_total(p, profile_find_column(p, "samples")), 7);
	assert_int_equal(profile_total(p, profile_find_column(p, "off_cpu")), 14000);
	profile_free(p);
	rec_session_free(s);
	symbolizer_free(sym);
}

__attribute__((noinline)) static void sleep_here(void)
{
	struct timespec ts = { 0, 80 * 1000000L };
	nanosleep(&ts, NULL);
}

/* The real thing: this process's own 80 ms sleep, measured in the kernel and named. */
static void test_live_offcpu(void **state)
{
	(void)state;
	struct err e = ERR_INIT;
	bool denied = false;
	struct offcpu_opts o = { 0 };
	struct offcpu *oc = offcpu_open(&o, &denied, &e);
	if (!oc) {
		/* Not root, or no eBPF in this kernel: what the CLI tests report as a skip. */
		assert_true(e.msg[0] != 0);
		skip();
	}
	assert_int_equal(offcpu_add_pid(oc, (uint32_t)getpid(), &e), 0);
	sleep_here();

	struct symbolizer *sym = symbolizer_new();
	struct rec_session_opts so = { .value_type = "off_cpu", .value_unit = "nanoseconds" };
	struct rec_session *s = rec_session_new(sym, &so);
	assert_int_equal(rec_session_synthesize(s, (uint32_t)getpid(), &e), 0);
	struct offcpu_stats st;
	assert_int_equal(offcpu_collect(oc, s, sym, &st, &e), 0);
	struct profile *p = profile_new(0);
	assert_int_equal(rec_session_finish(s, p, &e), 0);
	int64_t total = profile_total(p, profile_find_column(p, "off_cpu"));
	assert_true(total >= 75 * 1000000LL);
	bool named = false;
	for (size_t i = 0; i < p->frames_nr; i++)
		if (p->frames[i].function && !strcmp(profile_str(p, p->frames[i].function), "sleep_here"))
			named = true;
	assert_true(named);
	profile_free(p);
	rec_session_free(s);
	symbolizer_free(sym);
	offcpu_free(oc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_splice_inserts_missing_caller),
		cmocka_unit_test(test_splice_nothing_missing),
		cmocka_unit_test(test_splice_no_meeting_point),
		cmocka_unit_test(test_splice_capacity),
		cmocka_unit_test(test_syscall_names),
		cmocka_unit_test(test_session_weighted),
		cmocka_unit_test(test_live_offcpu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
