/* Unit tests for the perf record decoder and the recording session (aggregation, labels, exec, fork). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "profile/profile.h"
#include "perf/perf_record.h"
#include "record/session.h"
#include "symbols/symbolizer.h"

/* A record under construction. */
struct rb {
	unsigned char b[4096];
	size_t n;
};

static void rb_start(struct rb *r, uint32_t type, uint16_t misc)
{
	struct perf_event_header h = { type, misc, 0 };
	memcpy(r->b, &h, sizeof(h));
	r->n = sizeof(h);
}

static void rb_u64(struct rb *r, uint64_t v)
{
	memcpy(r->b + r->n, &v, 8);
	r->n += 8;
}

static void rb_u32x2(struct rb *r, uint32_t a, uint32_t b)
{
	memcpy(r->b + r->n, &a, 4);
	memcpy(r->b + r->n + 4, &b, 4);
	r->n += 8;
}

static void rb_str(struct rb *r, const char *s)
{
	size_t len = strlen(s) + 1, padded = (len + 7) & ~(size_t)7;
	memset(r->b + r->n, 0, padded);
	memcpy(r->b + r->n, s, len);
	r->n += padded;
}

static void rb_end(struct rb *r)
{
	uint16_t size = (uint16_t)r->n;
	memcpy(r->b + 6, &size, 2);
}

static const struct perf_fmt fmt = {
	.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_PERIOD,
	.sample_id_all = true,
};

/* sample_id_all trailer of the format above: pid/tid, time. */
static void rb_sid(struct rb *r, uint32_t pid, uint32_t tid, uint64_t time)
{
	rb_u32x2(r, pid, tid);
	rb_u64(r, time);
}

static void make_sample(struct rb *r, uint32_t pid, uint32_t tid, uint64_t time, const uint64_t *chain, size_t n)
{
	rb_start(r, PERF_RECORD_SAMPLE, PERF_RECORD_MISC_USER);
	rb_u64(r, chain[n > 1 ? 1 : 0]);
	rb_u32x2(r, pid, tid);
	rb_u64(r, time);
	rb_u64(r, 1000000); /* period */
	rb_u64(r, n);
	for (size_t i = 0; i < n; i++)
		rb_u64(r, chain[i]);
	rb_end(r);
}

static void test_decode_sample(void **state)
{
	struct rb r;
	struct perf_rec pr;
	struct err e = ERR_INIT;
	const uint64_t chain[] = { (uint64_t)PERF_CONTEXT_USER, 0x401000, 0x402000 };

	(void)state;
	make_sample(&r, 10, 11, 123, chain, 3);
	assert_int_equal(perf_record_decode(&fmt, r.b, r.n, &pr, &e), 0);
	assert_int_equal(pr.type, PERF_RECORD_SAMPLE);
	assert_int_equal(pr.sid.pid, 10);
	assert_int_equal(pr.sid.tid, 11);
	assert_int_equal(pr.sid.time, 123);
	assert_int_equal(pr.u.sample.period, 1000000);
	assert_int_equal(pr.u.sample.callchain_nr, 3);
	assert_int_equal(perf_u64(pr.u.sample.callchain + 16), 0x402000);

	/* Truncated callchain: an error, never a read past the end. */
	for (size_t cut = 8; cut < r.n; cut += 8) {
		struct rb t = r;
		t.n = cut;
		rb_end(&t);
		assert_int_equal(perf_record_decode(&fmt, t.b, t.n, &pr, &e), -1);
	}
	/* Header size disagreeing with the length. */
	assert_int_equal(perf_record_decode(&fmt, r.b, r.n - 8, &pr, &e), -1);
}

static void test_decode_tracking(void **state)
{
	struct rb r;
	struct perf_rec pr;
	struct err e = ERR_INIT;

	(void)state;
	rb_start(&r, PERF_RECORD_COMM, PERF_RECORD_MISC_COMM_EXEC);
	rb_u32x2(&r, 7, 7);
	rb_str(&r, "worker");
	rb_sid(&r, 7, 7, 99);
	rb_end(&r);
	assert_int_equal(perf_record_decode(&fmt, r.b, r.n, &pr, &e), 0);
	assert_string_equal(pr.u.comm.comm, "worker");
	assert_true(pr.u.comm.exec);
	assert_int_equal(pr.sid.time, 99);

	rb_start(&r, PERF_RECORD_MMAP2, PERF_RECORD_MISC_USER | PERF_RECORD_MISC_MMAP_BUILD_ID);
	rb_u32x2(&r, 7, 7);
	rb_u64(&r, 0x400000);
	rb_u64(&r, 0x1000);
	rb_u64(&r, 0);
	unsigned char id[24] = { 20, 0, 0, 0, 0xab, 0xcd };
	memcpy(r.b + r.n, id, 24);
	r.n += 24;
	rb_u32x2(&r, 5 /* r-x */, 2);
	rb_str(&r, "/bin/prog");
	rb_sid(&r, 7, 7, 100);
	rb_end(&r);
	assert_int_equal(perf_record_decode(&fmt, r.b, r.n, &pr, &e), 0);
	assert_int_equal(pr.u.mmap.start, 0x400000);
	assert_int_equal(pr.u.mmap.build_id_size, 20);
	assert_int_equal(pr.u.mmap.build_id[0], 0xab);
	assert_string_equal(pr.u.mmap.filename, "/bin/prog");

	/* A filename without its NUL is an error. */
	rb_start(&r, PERF_RECORD_COMM, 0);
	rb_u32x2(&r, 7, 7);
	memcpy(r.b + r.n, "abcdefgh", 8);
	r.n += 8;
	rb_end(&r);
	struct perf_fmt nosid = fmt;
	nosid.sample_id_all = false;
	assert_int_equal(perf_record_decode(&nosid, r.b, r.n, &pr, &e), -1);
}

__attribute__((noinline)) static int known_function(int x)
{
	return x * 3 + 1;
}

static void feed(struct rec_session *s, const struct rb *r)
{
	struct perf_rec pr;
	assert_int_equal(perf_record_decode(&fmt, r->b, r->n, &pr, NULL), 0);
	rec_session_record(s, &pr);
}

/* Aggregation, labels, and that samples taken before an exec keep the old image's symbols. */
static void test_session(void **state)
{
	struct symbolizer *sym = symbolizer_new();
	struct rec_session *s = rec_session_new(sym, NULL);
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	struct rb r;
	uint32_t pid = (uint32_t)getpid();
	uint64_t fn = (uint64_t)(uintptr_t)&known_function;
	const uint64_t chain[] = { (uint64_t)PERF_CONTEXT_USER, fn + 1 };

	(void)state;
	assert_int_equal(rec_session_synthesize(s, pid, &e), 0);
	rb_start(&r, PERF_RECORD_COMM, 0);
	rb_u32x2(&r, pid, pid);
	rb_str(&r, "tester");
	rb_sid(&r, pid, pid, 1);
	rb_end(&r);
	feed(s, &r);
	for (int i = 0; i < 5; i++) {
		make_sample(&r, pid, pid, 10 + i, chain, 2);
		feed(s, &r);
	}
	/* exec: a new image without mappings, so the same address is unknown there */
	rb_start(&r, PERF_RECORD_COMM, PERF_RECORD_MISC_COMM_EXEC);
	rb_u32x2(&r, pid, pid);
	rb_str(&r, "after");
	rb_sid(&r, pid, pid, 20);
	rb_end(&r);
	feed(s, &r);
	for (int i = 0; i < 3; i++) {
		make_sample(&r, pid, pid, 30 + i, chain, 2);
		feed(s, &r);
	}
	assert_int_equal(rec_session_samples(s), 8);
	assert_int_equal(rec_session_finish(s, p, &e), 0);

	int col = profile_find_column(p, "samples");
	assert_true(col >= 0);
	assert_int_equal(profile_total(p, col), 8);
	assert_int_equal(p->rows_nr, 2);
	bool seen_known = false, seen_after = false;
	for (size_t i = 0; i < p->rows_nr; i++) {
		const struct frame *f = &p->frames[p->nodes[p->rows[i].node].frame];
		const char *name = f->function ? profile_str(p, f->function) : "";
		uint32_t comm = profile_label_str(p, p->rows[i].labelset, "comm");
		int64_t lpid = 0;
		assert_true(profile_label_num(p, p->rows[i].labelset, "pid", &lpid));
		assert_int_equal(lpid, pid);
		if (!strcmp(profile_str(p, comm), "tester")) {
			assert_string_equal(name, "known_function");
			assert_int_equal(profile_row_values(p, i)[col], 5);
			seen_known = true;
		} else {
			assert_string_equal(profile_str(p, comm), "after");
			assert_string_not_equal(name, "known_function");
			seen_after = true;
		}
	}
	assert_true(seen_known && seen_after);
	assert_int_equal(known_function(1), 4);

	profile_free(p);
	rec_session_free(s);
	symbolizer_free(sym);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_sample),
		cmocka_unit_test(test_decode_tracking),
		cmocka_unit_test(test_session),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
