/*
 * Unit tests for src/server/pbjson.c and connect.c: the canonical JSON mapping of Pyroscope's Connect messages
 * (shared/protocols/pyroscope.md 4.2) read and written as the worked examples of 11.2 and 11.3 show them,
 * binary proto and JSON decoding to the same message, and bad input refused with a Connect error (4.3) naming
 * the field.
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
#include "core/json.h"
#include "formats/format.h"
#include "formats/gzip.h"
#include "profile/profile.h"
#include "push_v1.pb-c.h"
#include "querier_v1.pb-c.h"
#include "server/connect.h"
#include "server/http.h"
#include "server/pbjson.h"

#define RES_INIT { .status = 200, .body = BUF_INIT }

static char *to_json(const ProtobufCMessage *m)
{
	struct buf b = BUF_INIT;
	struct jw j;

	jw_init(&j, &b, false);
	pbjson_write(&j, m);
	return buf_detach(&b, NULL);
}

static ProtobufCMessage *from_json(const ProtobufCMessageDescriptor *d, const char *json)
{
	struct err e = ERR_INIT;
	ProtobufCMessage *m = pbjson_decode(d, json, strlen(json), &e);

	if (!m)
		fail_msg("'%s': %s", json, e.msg);
	return m;
}

static void test_select_merge_request(void **state)
{
	/* 11.3, with strings; then numbers and proto names, which parsers accept too */
	static const char *const forms[] = {
		"{\"profileTypeID\": \"process_cpu:cpu:nanoseconds:cpu:nanoseconds\","
		" \"labelSelector\": \"{service_name=\\\"push-test\\\"}\","
		" \"start\": \"1764999000000\", \"end\": \"1765000200000\", \"maxNodes\": \"8192\", \"format\": 4}",
		"{\"profile_typeID\": \"process_cpu:cpu:nanoseconds:cpu:nanoseconds\","
		" \"label_selector\": \"{service_name=\\\"push-test\\\"}\", \"unknownField\": [1, {}],"
		" \"start\": 1764999000000, \"end\": 1.765e12, \"max_nodes\": 8192, \"format\": \"PROFILE_FORMAT_PPROF\"}",
	};
	(void)state;
	for (size_t i = 0; i < 2; i++) {
		Querier__V1__SelectMergeStacktracesRequest *r = (void *)from_json(
			&querier__v1__select_merge_stacktraces_request__descriptor, forms[i]);
		assert_string_equal(r->profile_typeid, "process_cpu:cpu:nanoseconds:cpu:nanoseconds");
		assert_string_equal(r->label_selector, "{service_name=\"push-test\"}");
		assert_true(r->start == 1764999000000LL);
		assert_true(r->end == (i ? 1765000000000LL : 1765000200000LL));
		assert_int_equal(r->max_nodes, 8192);
		assert_int_equal(r->format, QUERIER__V1__PROFILE_FORMAT__PROFILE_FORMAT_PPROF);
		/* binary proto decodes to the same message; the writer gives int64 as strings, enums by name */
		size_t n = protobuf_c_message_get_packed_size(&r->base);
		uint8_t *wire = malloc(n);
		protobuf_c_message_pack(&r->base, wire);
		struct http_response rep = RES_INIT;
		ProtobufCMessage *b = connect_decode(&querier__v1__select_merge_stacktraces_request__descriptor,
						     CONNECT_PROTO, wire, n, &rep);
		assert_non_null(b);
		char *ja = to_json(&r->base), *jb = to_json(b);
		assert_string_equal(ja, jb);
		if (i == 1)
			assert_string_equal(ja, "{\"profileTypeID\":\"process_cpu:cpu:nanoseconds:cpu:nanoseconds\","
						"\"labelSelector\":\"{service_name=\\\"push-test\\\"}\","
						"\"start\":\"1764999000000\",\"end\":\"1765000000000\","
						"\"maxNodes\":\"8192\",\"format\":\"PROFILE_FORMAT_PPROF\"}");
		free(ja);
		free(jb);
		free(wire);
		protobuf_c_message_free_unpacked(b, NULL);
		protobuf_c_message_free_unpacked(&r->base, NULL);
		buf_release(&rep.body);
	}
}

static void test_flamegraph_response(void **state)
{
	/* 11.3's answer: zeros inside repeated int64 stay, the empty fields go */
	int64_t v0[] = { 0, 3000000000, 0, 0 }, v1[] = { 0, 3000000000, 0, 1 },
		v2[] = { 0, 1000000000, 1000000000, 3, 0, 2000000000, 2000000000, 2 };
	Querier__V1__Level l[3];
	Querier__V1__Level *lp[3] = { &l[0], &l[1], &l[2] };
	char *names[] = { "total", "foo", "baz", "bar" };
	Querier__V1__FlameGraph fg = QUERIER__V1__FLAME_GRAPH__INIT;
	Querier__V1__SelectMergeStacktracesResponse resp = QUERIER__V1__SELECT_MERGE_STACKTRACES_RESPONSE__INIT;
	struct http_response r = RES_INIT;

	(void)state;
	for (int i = 0; i < 3; i++)
		querier__v1__level__init(&l[i]);
	l[0].values = v0, l[0].n_values = 4;
	l[1].values = v1, l[1].n_values = 4;
	l[2].values = v2, l[2].n_values = 8;
	fg.names = names, fg.n_names = 4;
	fg.levels = lp, fg.n_levels = 3;
	fg.total = 3000000000;
	fg.max_self = 2000000000;
	resp.flamegraph = &fg;
	connect_encode(&r, CONNECT_JSON, &resp.base);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, "application/json");
	assert_string_equal(r.body.buf,
			    "{\"flamegraph\":{\"names\":[\"total\",\"foo\",\"baz\",\"bar\"],\"levels\":["
			    "{\"values\":[\"0\",\"3000000000\",\"0\",\"0\"]},{\"values\":[\"0\",\"3000000000\",\"0\",\"1\"]},"
			    "{\"values\":[\"0\",\"1000000000\",\"1000000000\",\"3\",\"0\",\"2000000000\",\"2000000000\","
			    "\"2\"]}],\"total\":\"3000000000\",\"maxSelf\":\"2000000000\"}}");
	/* and the empty message is {} in JSON, 0 bytes in proto */
	Querier__V1__SelectMergeStacktracesResponse empty = QUERIER__V1__SELECT_MERGE_STACKTRACES_RESPONSE__INIT;
	connect_encode(&r, CONNECT_JSON, &empty.base);
	assert_string_equal(r.body.buf, "{}");
	connect_encode(&r, CONNECT_PROTO, &empty.base);
	assert_string_equal(r.content_type, "application/proto");
	assert_int_equal(r.body.len, 0);
	buf_release(&r.body);
}

static void test_push_json(void **state)
{
	/* 11.2's body: the gzipped pprof in rawProfile reads back as foo;bar 1e9 and foo;baz 2e9 */
	static const char body[] =
		"{\"series\": [{\"labels\": [{\"name\": \"__name__\", \"value\": \"process_cpu\"},"
		"{\"name\": \"service_name\", \"value\": \"push-test\"}],"
		"\"samples\": [{\"ID\": \"0b6f3c1e-2f4a-4c1b-9a57-6d2e8f1c3a10\", \"rawProfile\": "
		"\"H4sIAAAAAAAC/+Ni4WAUYBLi5mJiYhRibZjy+g4ziMMM4qy4tpNdiY2DUYkJiNk4mIA0E5BmBtLMWiB9IJJJgAVIMguwGjEYMScXlBpx5yXm"
		"5RenJufnpRQbMafl5xsxJyUWgYgqj4YnN7d8PrJov0RAw4n1C1SjwJYnNKx9xAIA2iep74gAAAA=\"}]}]}";
	Push__V1__PushRequest *r = (void *)from_json(&push__v1__push_request__descriptor, body);
	struct err e = ERR_INIT;
	struct input in;

	(void)state;
	assert_int_equal(r->n_series, 1);
	assert_int_equal(r->series[0]->n_labels, 2);
	assert_string_equal(r->series[0]->labels[1]->value, "push-test");
	assert_int_equal(r->series[0]->n_samples, 1);
	Push__V1__RawSample *s = r->series[0]->samples[0];
	assert_string_equal(s->id, "0b6f3c1e-2f4a-4c1b-9a57-6d2e8f1c3a10");
	assert_int_equal(s->raw_profile.len, 137);
	assert_true(gzip_is(s->raw_profile.data, s->raw_profile.len));
	struct profile *p = profile_new(0);
	input_from_memory(&in, s->raw_profile.data, s->raw_profile.len, "rawProfile");
	if (format_by_name("pprof")->read(p, &in, &(struct format_read_opts){ 0 }, &e))
		fail_msg("%s", e.msg);
	input_close(&in);
	assert_true(profile_total(p, 0) == 3000000000LL);
	/* written back: bytes as standard padded base64, equal to what was read */
	char *json = to_json(&r->base);
	assert_non_null(strstr(json, "\"rawProfile\":\"H4sIAAAAAAAC/+Ni4WAUYBLi"));
	assert_non_null(strstr(json, "74gAAAA=\""));
	free(json);
	profile_free(p);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void test_base64(void **state)
{
	struct buf b = BUF_INIT, d = BUF_INIT;
	const unsigned char bytes[] = { 0xfb, 0xff, 0xbf, 0x00, 0x01 };

	(void)state;
	for (size_t n = 0; n <= sizeof(bytes); n++) {
		buf_reset(&b);
		buf_reset(&d);
		base64_encode(&b, bytes, n);
		assert_int_equal(b.len % 4, 0);
		assert_int_equal(base64_decode(&d, b.buf, b.len), 0);
		assert_int_equal(d.len, n);
		assert_memory_equal(d.buf, bytes, n);
	}
	assert_string_equal(b.buf, "+/+/AAE=");
	buf_reset(&d);
	assert_int_equal(base64_decode(&d, "-_-_AAE", 7), 0); /* URL-safe, unpadded */
	assert_memory_equal(d.buf, bytes, 5);
	assert_int_equal(base64_decode(&d, "A", 1), -1);
	assert_int_equal(base64_decode(&d, "AB*D", 4), -1);
	buf_release(&b);
	buf_release(&d);
}

static void assert_bad_json(const ProtobufCMessageDescriptor *d, const char *json, const char *what)
{
	struct http_response r = RES_INIT;
	ProtobufCMessage *m = connect_decode(d, CONNECT_JSON, json, strlen(json), &r);

	if (m)
		fail_msg("'%s' decoded", json);
	assert_int_equal(r.status, 400);
	assert_string_equal(r.content_type, "application/json");
	if (!strstr(r.body.buf, "{\"code\":\"invalid_argument\",\"message\":\"") || !strstr(r.body.buf, what))
		fail_msg("'%s': reply '%s' does not say '%s'", json, r.body.buf, what);
	buf_release(&r.body);
}

static void test_bad_requests(void **state)
{
	const ProtobufCMessageDescriptor *sm = &querier__v1__select_merge_stacktraces_request__descriptor;
	struct http_response r = RES_INIT;

	(void)state;
	assert_bad_json(sm, "", "JSON");
	assert_bad_json(sm, "{\"start\": ", "JSON");
	assert_bad_json(sm, "[1]", "expected a JSON object");
	assert_bad_json(sm, "{\"start\": \"12x\"}", "field 'start'");
	assert_bad_json(sm, "{\"start\": true}", "field 'start': expected an integer");
	assert_bad_json(sm, "{\"start\": 1.5}", "field 'start'");
	assert_bad_json(sm, "{\"maxNodes\": \"99999999999999999999\"}", "field 'maxNodes'");
	assert_bad_json(sm, "{\"format\": \"PROFILE_FORMAT_SVG\"}", "unknown value 'PROFILE_FORMAT_SVG'");
	assert_bad_json(sm, "{\"labelSelector\": 3}", "field 'labelSelector': expected a string");
	assert_bad_json(sm, "{\"profileIdSelector\": \"a\"}", "expected an array");
	assert_bad_json(sm, "{\"profileIdSelector\": [\"a\", 2]}", "expected a string");
	assert_bad_json(sm, "{\"stackTraceSelector\": {\"callSite\": [{\"name\": 1}]}}", "field 'name'");
	assert_bad_json(sm, "{\"maxNodes\": 1, \"max_nodes\": 2}", "given twice");
	assert_bad_json(&push__v1__push_request__descriptor,
			"{\"series\": [{\"samples\": [{\"rawProfile\": \"not base64!\"}]}]}", "not valid base64");
	assert_bad_json(&querier__v1__select_series_request__descriptor, "{\"step\": \"fast\"}", "not a number");
	/* a truncated protobuf */
	static const unsigned char cut[] = { 0x0a, 0x10, 'p', 'r' };
	assert_null(connect_decode(sm, CONNECT_PROTO, cut, sizeof(cut), &r));
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body.buf, "invalid protobuf"));
	buf_release(&r.body);
}

static void test_codecs(void **state)
{
	(void)state;
	assert_int_equal(connect_codec_of("application/json"), CONNECT_JSON);
	assert_int_equal(connect_codec_of("application/json; charset=utf-8"), CONNECT_JSON);
	assert_int_equal(connect_codec_of("Application/Proto"), CONNECT_PROTO);
	assert_int_equal(connect_codec_of("application/protobuf"), -1);
	assert_int_equal(connect_codec_of("text/plain"), -1);
	assert_int_equal(connect_codec_of(NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select_merge_request), cmocka_unit_test(test_flamegraph_response),
		cmocka_unit_test(test_push_json),            cmocka_unit_test(test_base64),
		cmocka_unit_test(test_bad_requests),         cmocka_unit_test(test_codecs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
