/* Connect unary calls: codecs, error codes and replies (connect.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/json.h"
#include "server/connect.h"
#include "server/pbjson.h"

static const struct {
	const char *name;
	int status;
} codes[CONNECT_CODE_NR] = {
	[CONNECT_CANCELED] = { "canceled", 499 },
	[CONNECT_UNKNOWN] = { "unknown", 500 },
	[CONNECT_INVALID_ARGUMENT] = { "invalid_argument", 400 },
	[CONNECT_DEADLINE_EXCEEDED] = { "deadline_exceeded", 504 },
	[CONNECT_NOT_FOUND] = { "not_found", 404 },
	[CONNECT_ALREADY_EXISTS] = { "already_exists", 409 },
	[CONNECT_PERMISSION_DENIED] = { "permission_denied", 403 },
	[CONNECT_RESOURCE_EXHAUSTED] = { "resource_exhausted", 429 },
	[CONNECT_FAILED_PRECONDITION] = { "failed_precondition", 400 },
	[CONNECT_ABORTED] = { "aborted", 409 },
	[CONNECT_OUT_OF_RANGE] = { "out_of_range", 400 },
	[CONNECT_UNIMPLEMENTED] = { "unimplemented", 501 },
	[CONNECT_INTERNAL] = { "internal", 500 },
	[CONNECT_UNAVAILABLE] = { "unavailable", 503 },
	[CONNECT_DATA_LOSS] = { "data_loss", 500 },
	[CONNECT_UNAUTHENTICATED] = { "unauthenticated", 401 },
};

const char *connect_code_name(enum connect_code c)
{
	return c < CONNECT_CODE_NR ? codes[c].name : "unknown";
}

int connect_code_status(enum connect_code c)
{
	return c < CONNECT_CODE_NR ? codes[c].status : 500;
}

enum connect_code connect_code_for_status(int status)
{
	switch (status) {
	case 400: case 413: case 415: return CONNECT_INVALID_ARGUMENT;
	case 401: return CONNECT_UNAUTHENTICATED;
	case 403: return CONNECT_PERMISSION_DENIED;
	case 404: return CONNECT_NOT_FOUND;
	case 429: return CONNECT_RESOURCE_EXHAUSTED;
	case 501: return CONNECT_UNIMPLEMENTED;
	case 503: return CONNECT_UNAVAILABLE;
	default: return CONNECT_UNKNOWN;
	}
}

int connect_codec_of(const char *ct)
{
	size_t n;

	if (!ct)
		return -1;
	while (*ct == ' ')
		ct++;
	n = strcspn(ct, "; ");
	if (n == strlen("application/proto") && !strncasecmp(ct, "application/proto", n))
		return CONNECT_PROTO;
	if (n == strlen("application/json") && !strncasecmp(ct, "application/json", n))
		return CONNECT_JSON;
	return -1;
}

void connect_reply_release(struct connect_reply *r)
{
	buf_release(&r->body);
}

static void verror(struct connect_reply *r, int status, enum connect_code c, const char *fmt, va_list ap)
{
	struct err e = ERR_INIT;
	char msg[sizeof(e.msg)];
	struct jw j;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	err_set(&e, "%s", msg); /* one line whatever the message quotes */
	r->status = status;
	r->content_type = "application/json";
	buf_reset(&r->body);
	jw_init(&j, &r->body, false);
	jw_object_begin(&j);
	jw_key(&j, "code");
	jw_string(&j, connect_code_name(c));
	jw_key(&j, "message");
	jw_string(&j, e.msg);
	jw_object_end(&j);
}

int connect_error(struct connect_reply *r, enum connect_code c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(r, connect_code_status(c), c, fmt, ap);
	va_end(ap);
	return -1;
}

int connect_error_status(struct connect_reply *r, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(r, status, connect_code_for_status(status), fmt, ap);
	va_end(ap);
	return -1;
}

ProtobufCMessage *connect_decode(const ProtobufCMessageDescriptor *d, enum connect_codec codec, const void *body,
				 size_t len, struct connect_reply *r)
{
	struct err e = ERR_INIT;
	ProtobufCMessage *m;

	if (codec == CONNECT_JSON) {
		m = pbjson_decode(d, body, len, &e);
		if (!m)
			connect_error(r, CONNECT_INVALID_ARGUMENT, "invalid JSON for %s: %s", d->name, e.msg);
		return m;
	}
	m = protobuf_c_message_unpack(d, NULL, len, body);
	if (!m)
		connect_error(r, CONNECT_INVALID_ARGUMENT, "invalid protobuf for %s (%zu bytes)", d->name, len);
	return m;
}

void connect_encode(struct connect_reply *r, enum connect_codec codec, const ProtobufCMessage *m)
{
	r->status = 200;
	buf_reset(&r->body);
	if (codec == CONNECT_JSON) {
		struct jw j;
		r->content_type = "application/json";
		jw_init(&j, &r->body, false);
		pbjson_write(&j, m);
		return;
	}
	r->content_type = "application/proto";
	size_t n = protobuf_c_message_get_packed_size(m);
	buf_grow(&r->body, n);
	protobuf_c_message_pack(m, (uint8_t *)r->body.buf);
	buf_setlen(&r->body, n);
}
