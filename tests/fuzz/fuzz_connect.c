/*
 * Fuzz target: the Connect request decoders (src/server/pbjson.c and connect.c). The first byte picks a request
 * message, the second the codec (binary proto or canonical JSON). Whatever decodes must encode, kiln must read
 * back what it writes as JSON, and that message must survive binary proto unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "push_v1.pb-c.h"
#include "querier_v1.pb-c.h"
#include "server/connect.h"
#include "server/http.h"
#include "server/pbjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *const requests[] = {
	&push__v1__push_request__descriptor,
	&querier__v1__select_merge_stacktraces_request__descriptor,
	&querier__v1__select_merge_profile_request__descriptor,
	&querier__v1__select_series_request__descriptor,
	&querier__v1__diff_request__descriptor,
	&querier__v1__series_request__descriptor,
	&querier__v1__profile_types_request__descriptor,
	&types__v1__label_names_request__descriptor,
	&types__v1__label_values_request__descriptor,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_response r = { 200, NULL, BUF_INIT, NULL }, back = { 200, NULL, BUF_INIT, NULL };
	const ProtobufCMessageDescriptor *d;
	enum connect_codec codec;
	ProtobufCMessage *m, *again;

	if (size < 2)
		return 0;
	d = requests[data[0] % (sizeof(requests) / sizeof(requests[0]))];
	codec = data[1] & 1 ? CONNECT_JSON : CONNECT_PROTO;
	m = connect_decode(d, codec, data + 2, size - 2, &r);
	if (!m) {
		if (r.status != 400)
			abort(); /* a bad request is invalid_argument */
		buf_release(&r.body);
		return 0;
	}
	/* JSON out and back in; then that message (which holds no unknown fields) through binary proto */
	connect_encode(&r, CONNECT_JSON, m);
	again = connect_decode(d, CONNECT_JSON, r.body.buf, r.body.len, &back);
	if (!again)
		abort();
	connect_encode(&back, CONNECT_PROTO, again);
	ProtobufCMessage *third = connect_decode(d, CONNECT_PROTO, back.body.buf, back.body.len, &back);
	if (!third)
		abort();
	struct buf j2 = BUF_INIT, j3 = BUF_INIT;
	struct jw j;
	jw_init(&j, &j2, false);
	pbjson_write(&j, again);
	jw_init(&j, &j3, false);
	pbjson_write(&j, third);
	if (strcmp(j2.buf, j3.buf))
		abort();
	buf_release(&j2);
	buf_release(&j3);
	protobuf_c_message_free_unpacked(third, NULL);
	protobuf_c_message_free_unpacked(again, NULL);
	protobuf_c_message_free_unpacked(m, NULL);
	buf_release(&r.body);
	buf_release(&back.body);
	return 0;
}
