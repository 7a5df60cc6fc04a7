/*
 * Unit tests for the ingest decoders of kiln serve (src/server/ingest_parse.c, ingest_series.c): the name
 * grammar of pyroscope.md 2.2 with its quirks, time values of 2.1, multipart forms, gzip limits, and the label
 * sets and profile types that the text (3.4) and pprof (3.7) paths produce.
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
#include "profile/profile.h"
#include "server/ingest.h"
#include "server/server.h"
#include "server/store.h"

#define SEC 1000000000LL

static void test_name_grammar(void **state)
{
	struct ingest_name n;
	struct err e = ERR_INIT;

	assert_int_equal(ingest_parse_name("  myapp ", &n, &e), 0);
	assert_string_equal(n.service, "myapp");
	assert_int_equal(n.n, 0);
	ingest_name_release(&n);
	/* Values may hold '=' and are trimmed; a repeated key keeps its last value; '}' ends the name. */
	assert_int_equal(ingest_parse_name("a.b/c-d{ k = v=1 ,k2=x,k=last}ignored{z=1}", &n, &e), 0);
	assert_string_equal(n.service, "a.b/c-d");
	assert_int_equal(n.n, 2);
	assert_string_equal(n.labels[0].name, "k");
	assert_string_equal(n.labels[0].value, "last");
	assert_string_equal(n.labels[1].name, "k2");
	assert_string_equal(n.labels[1].value, "x");
	ingest_name_release(&n);
	/* A key without '=' and a last pair not closed are dropped silently. */
	assert_int_equal(ingest_parse_name("s{lonely,a=1,b=2", &n, &e), 0);
	assert_int_equal(n.n, 1);
	assert_string_equal(n.labels[0].name, "a");
	ingest_name_release(&n);
	assert_int_equal(ingest_parse_name("s{x}", &n, &e), 0);
	assert_int_equal(n.n, 0);
	ingest_name_release(&n);
	/* Errors, each naming the problem. */
	assert_int_equal(ingest_parse_name("{a=1}", &n, &e), -1);
	assert_string_equal(e.msg, "service name is required");
	ingest_name_release(&n);
	assert_int_equal(ingest_parse_name("bad app", &n, &e), -1);
	assert_non_null(strstr(e.msg, "invalid service name"));
	ingest_name_release(&n);
	assert_int_equal(ingest_parse_name("s{=v}", &n, &e), -1);
	assert_string_equal(e.msg, "label name is required");
	ingest_name_release(&n);
	assert_int_equal(ingest_parse_name("s{a-b=v}", &n, &e), -1);
	assert_non_null(strstr(e.msg, "invalid label name"));
	ingest_name_release(&n);
	assert_int_equal(ingest_parse_name(NULL, &n, &e), -1);
	ingest_name_release(&n);
}

static int64_t t_of(const char *s)
{
	struct err e = ERR_INIT;
	int64_t t = -1;

	if (ingest_parse_time(s, 1765000005LL * SEC, &t, &e))
		fail_msg("'%s': %s", s, e.msg);
	return t;
}

static void test_time_values(void **state)
{
	const int64_t now = 1765000005LL * SEC, t = 1615709120LL * SEC;
	struct err e = ERR_INIT;
	int64_t out;

	/* 2.1's examples: all 2021-03-14T08:05:20Z. */
	assert_int_equal(t_of("1615709120"), t);
	assert_int_equal(t_of("1615709120000"), t);
	assert_int_equal(t_of("1615709120000000"), t);
	assert_int_equal(t_of("1615709120000000000"), t);
	assert_int_equal(t_of(" 1_615_709,120 "), t);
	assert_int_equal(t_of("20210314"), 1615680000LL * SEC);
	/* 8 digits that are no date are seconds. */
	assert_int_equal(t_of("20211399"), 20211399LL * SEC);
	assert_int_equal(t_of("now-1h"), now - 3600 * SEC);
	assert_int_equal(t_of("-1h30m"), now - 5400 * SEC);
	assert_int_equal(t_of("x-1h"), now - 3600 * SEC);
	assert_int_equal(t_of("now+2d"), now + 2 * 86400 * SEC);
	assert_int_equal(t_of("now-1mon"), now - 30LL * 86400 * SEC);
	assert_int_equal(t_of("now-1M"), now - 30LL * 86400 * SEC);
	assert_int_equal(t_of("now-1w1y"), now - (7 + 365) * 86400LL * SEC);
	assert_int_equal(t_of("now-5q"), now); /* an unknown unit adds 0 */
	assert_int_equal(t_of("now"), now);
	assert_int_equal(t_of(""), now);
	assert_int_equal(t_of(NULL), now);
	assert_int_equal(ingest_parse_time("now-99999999999999999999h", now, &out, &e), -1);
	assert_int_equal(ingest_parse_time("99999999999999999999", now, &out, &e), -1);
	assert_int_equal(ingest_parse_time("9999999999999", now, &out, &e), -1); /* 13 digits: ms, past 2262 */
	assert_int_equal(ingest_parse_time("9000000000", now, &out, &e), 0);     /* 10 digits: s, in range */
	assert_int_equal(out, 9000000000LL * SEC);
	assert_int_equal(ingest_parse_time("now-h", now, &out, &e), -1);
	assert_int_equal(ingest_parse_time("61011004", now, &out, &e), -1); /* a date in 6101 (found by fuzz_ingest_time) */
}

static void test_multipart(void **state)
{
	static const char body[] =
		"preamble\r\n--b0undary\r\nContent-Disposition: form-data; name=\"profile\"; filename=\"profile.pprof\"\r\n"
		"Content-Type: application/octet-stream\r\n\r\nPPROF\r\nBYTES\r\n--b0undary\r\n"
		"Content-Disposition: form-data; name=\"sample_type_config\"\r\n\r\n{}\r\n--b0undary--\r\n";
	struct multipart_part parts[4];
	struct err e = ERR_INIT;
	size_t n;

	assert_int_equal(multipart_parse("multipart/form-data; boundary=b0undary", (const unsigned char *)body,
					 strlen(body), parts, 4, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(parts[0].name, "profile");
	assert_int_equal(parts[0].len, 12);
	assert_memory_equal(parts[0].data, "PPROF\r\nBYTES", 12);
	assert_string_equal(parts[1].name, "sample_type_config");
	assert_memory_equal(parts[1].data, "{}", 2);
	assert_int_equal(multipart_parse("multipart/form-data; boundary=\"b0undary\"", (const unsigned char *)body,
					 strlen(body), parts, 4, &n, &e), 0);
	/* Every cut of the body is either a shorter valid form or an error, never a part outside the body. */
	for (size_t cut = 0; cut < strlen(body); cut++) {
		if (multipart_parse("multipart/form-data; boundary=b0undary", (const unsigned char *)body, cut, parts, 4, &n,
				    &e))
			continue;
		for (size_t i = 0; i < n; i++)
			assert_true(parts[i].data + parts[i].len <= (const unsigned char *)body + cut);
	}
	assert_int_equal(multipart_parse("multipart/form-data", (const unsigned char *)body, strlen(body), parts, 4, &n,
					 &e), -1);
	assert_non_null(strstr(e.msg, "boundary"));
	assert_int_equal(multipart_parse("multipart/form-data; boundary=b0undary", (const unsigned char *)body,
					 strlen(body), parts, 1, &n, &e), -1);
}

static void test_inflate_limit(void **state)
{
	struct buf zeros = BUF_INIT, gz = BUF_INIT, scratch = BUF_INIT;
	const unsigned char *out;
	size_t olen;
	struct err e = ERR_INIT;

	buf_grow(&zeros, 1 << 20);
	memset(zeros.buf, 0, 1 << 20);
	buf_setlen(&zeros, 1 << 20);
	assert_int_equal(gzip_deflate((unsigned char *)zeros.buf, zeros.len, &gz, &e), 0);
	/* Exactly at the limit passes; one byte under it is a 413, and inflation stops near the limit. */
	assert_int_equal(ingest_inflate((unsigned char *)gz.buf, gz.len, 1 << 20, &scratch, &out, &olen, &e), 0);
	assert_int_equal(olen, 1 << 20);
	assert_int_equal(ingest_inflate((unsigned char *)gz.buf, gz.len, (1 << 20) - 1, &scratch, &out, &olen, &e), 413);
	assert_true(scratch.len < (1 << 20) + (1 << 17));
	assert_int_equal(ingest_inflate((unsigned char *)gz.buf, gz.len / 2, 1 << 20, &scratch, &out, &olen, &e), 400);
	/* Not gzip: passed through as it is. */
	assert_int_equal(ingest_inflate((unsigned char *)"abc", 3, 1, &scratch, &out, &olen, &e), 0);
	assert_int_equal(olen, 3);
	buf_release(&zeros);
	buf_release(&gz);
	buf_release(&scratch);
}

static const char *label(const struct store_write *w, const char *name)
{
	for (size_t i = 0; i < w->nlabels; i++)
		if (!strcmp(w->labels[i].name, name))
			return w->labels[i].value;
	return NULL;
}

static struct profile *one_stack(const char *type, const char *unit, const char *type2, const char *unit2)
{
	struct profile *p = profile_new(0);
	int64_t v[2] = { 3, 30000000 };
	uint32_t node = profile_node(p, 0, profile_frame_named(p, "main", 4, FRAME_NATIVE));

	profile_add_column(p, type, unit);
	if (type2)
		profile_add_column(p, type2, unit2);
	profile_add_sample(p, node, 0, v);
	return p;
}

static void test_text_and_pprof_series(void **state)
{
	struct server srv = { .limits = SERVER_LIMITS_DEFAULT };
	struct ingest_batch b;
	struct err e = ERR_INIT;
	struct label_pair tags[] = { { "service_name", "svc" }, { "__hidden", "x" }, { "env", "prod" } };
	struct profile *p = one_stack("samples", "count", NULL, NULL);

	/* Text, default rate: process_cpu in nanoseconds, app_name since the tags carry service_name. */
	ingest_batch_init(&b, "");
	assert_int_equal(ingest_add_text(&b, &srv, "my.app.cpu", tags, 3, "gospy", 100, p, NULL, 0, SEC, 2 * SEC, &e), 0);
	assert_int_equal(b.n, 1);
	assert_string_equal(b.w[0].profile_type, "process_cpu:cpu:nanoseconds:cpu:nanoseconds");
	assert_string_equal(label(&b.w[0], "app_name"), "my.app");
	assert_string_equal(label(&b.w[0], "service_name"), "svc");
	assert_string_equal(label(&b.w[0], "pyroscope_spy"), "gospy");
	assert_null(label(&b.w[0], "__hidden"));
	assert_int_equal(p->values[0], 3 * 10000000);
	for (size_t i = 1; i < b.w[0].nlabels; i++)
		assert_true(strcmp(b.w[0].labels[i - 1].name, b.w[0].labels[i].name) < 0);
	ingest_batch_release(&b);
	profile_free(p);
	/* Memory suffix: no period labels, the unit from the table. */
	p = one_stack("samples", "count", NULL, NULL);
	ingest_batch_init(&b, "");
	assert_int_equal(ingest_add_text(&b, &srv, "app.alloc_space", NULL, 0, "unknown", 100, p, NULL, 0, SEC, SEC, &e), 0);
	assert_string_equal(b.w[0].profile_type, "memory:alloc_space:bytes::");
	assert_null(label(&b.w[0], "__period_type__"));
	assert_int_equal(p->values[0], 3);
	assert_int_equal(ingest_add_text(&b, &srv, "my.app", NULL, 0, "unknown", 100, p, NULL, 0, SEC, SEC, &e), -1);
	assert_non_null(strstr(e.msg, "unknown profile type"));
	ingest_batch_release(&b);
	profile_free(p);
	/* pprof: one series per sample type; __name__ by 3.7 (samples -> cpu -> process_cpu). */
	p = one_stack("samples", "count", "cpu", "nanoseconds");
	p->period_type.type = profile_intern_str(p, "cpu");
	p->period_type.unit = profile_intern_str(p, "nanoseconds");
	ingest_batch_init(&b, "t1");
	assert_int_equal(ingest_add_pprof(&b, &srv, tags, 1, p, NULL, 5 * SEC, 15 * SEC, &e), 0);
	assert_int_equal(b.n, 2);
	assert_string_equal(b.w[0].profile_type, "process_cpu:samples:count:cpu:nanoseconds");
	assert_string_equal(b.w[1].profile_type, "process_cpu:cpu:nanoseconds:cpu:nanoseconds");
	assert_string_equal(label(&b.w[1], "__service_name__"), "svc");
	assert_string_equal(label(&b.w[1], "__delta__"), "false");
	assert_string_equal(b.w[1].tenant, "t1");
	assert_int_equal(b.w[1].column, 1);
	ingest_batch_release(&b);
	/* A sample_type_config display name decides __name__; a wall type wins over all. */
	ingest_batch_init(&b, "");
	assert_int_equal(ingest_add_pprof(&b, &srv, tags, 1, p, "{\"samples\":{\"display-name\":\"mutex_count\"},"
				 "\"cpu\":{\"display-name\":\"mutex_duration\"}}", SEC, SEC, &e), 0);
	assert_string_equal(label(&b.w[0], "__name__"), "mutex");
	assert_int_equal(ingest_add_pprof(&b, &srv, tags, 1, p, "{not json", SEC, SEC, &e), -1);
	ingest_batch_release(&b);
	profile_free(p);
	p = one_stack("samples", "count", "wall", "nanoseconds");
	ingest_batch_init(&b, "");
	assert_int_equal(ingest_add_pprof(&b, &srv, tags, 1, p, NULL, SEC, SEC, &e), 0);
	assert_string_equal(label(&b.w[0], "__name__"), "wall");
	/* Without service_name the series is refused (2.3). */
	assert_int_equal(ingest_add_pprof(&b, &srv, tags + 2, 1, p, NULL, SEC, SEC, &e), -1);
	assert_string_equal(e.msg, "service name is not provided");
	/* Over the samples limit. */
	srv.limits.max_samples = 0;
	assert_int_equal(ingest_add_pprof(&b, &srv, tags, 1, p, NULL, SEC, SEC, &e), -1);
	assert_non_null(strstr(e.msg, "limit"));
	ingest_batch_release(&b);
	profile_free(p);
}

static void test_sample_labels_split(void **state)
{
	struct server srv = { .limits = SERVER_LIMITS_DEFAULT };
	struct profile *p = profile_new(0);
	struct ingest_batch b;
	struct err e = ERR_INIT;
	struct label_pair svc[] = { { "service_name", "node" } };
	uint32_t node = profile_node(p, 0, profile_frame_named(p, "f", 1, FRAME_NATIVE));
	struct label l[2] = { { profile_intern_str(p, "route"), profile_intern_str(p, "/hot"), 0, 0, 0 },
			      { profile_intern_str(p, "span_id"), profile_intern_str(p, "abc"), 0, 0, 0 } };
	uint32_t hot = profile_labelset(p, l, 2);

	profile_add_column(p, "wall", "nanoseconds");
	profile_add_sample1(p, node, 0, 5);
	profile_add_sample1(p, node, hot, 7);
	ingest_batch_init(&b, "");
	assert_int_equal(ingest_add_pprof(&b, &srv, svc, 1, p, NULL, SEC, SEC, &e), 0);
	/* Two label sets, two series: route becomes a series label, the span id does not. */
	assert_int_equal(b.n, 2);
	assert_true(b.w[0].only_labelset && b.w[1].only_labelset);
	assert_null(label(&b.w[0], "route"));
	assert_string_equal(label(&b.w[1], "route"), "/hot");
	assert_null(label(&b.w[1], "span_id"));
	ingest_batch_release(&b);
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_grammar),
		cmocka_unit_test(test_time_values),
		cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_inflate_limit),
		cmocka_unit_test(test_text_and_pprof_series),
		cmocka_unit_test(test_sample_labels_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
