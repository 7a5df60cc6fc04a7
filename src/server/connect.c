/* Connect unary calls: codecs, gzip bodies and replies (connect.h). */
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "server/connect.h"
#include "server/ingest.h"
#include "server/pbjson.h"
#include "server/server.h"

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

ProtobufCMessage *connect_decode(const ProtobufCMessageDescriptor *d, enum connect_codec codec, const void *body,
				 size_t len, struct http_response *res)
{
	struct err e = ERR_INIT;
	ProtobufCMessage *m;

	if (codec == CONNECT_JSON) {
		m = pbjson_decode(d, body, len, &e);
		if (!m)
			http_error(res, 400, "invalid JSON for %s: %s", d->name, e.msg);
		return m;
	}
	m = protobuf_c_message_unpack(d, NULL, len, body);
	if (!m)
		http_error(res, 400, "invalid protobuf for %s (%zu bytes)", d->name, len);
	return m;
}

void connect_encode(struct http_response *res, enum connect_codec codec, const ProtobufCMessage *m)
{
	res->status = 200;
	buf_reset(&res->body);
	if (codec == CONNECT_JSON) {
		struct jw j;
		res->content_type = "application/json";
		jw_init(&j, &res->body, false);
		pbjson_write(&j, m);
		return;
	}
	res->content_type = "application/proto";
	size_t n = protobuf_c_message_get_packed_size(m);
	buf_grow(&res->body, n);
	protobuf_c_message_pack(m, (uint8_t *)res->body.buf);
	buf_setlen(&res->body, n);
}

ProtobufCMessage *connect_read(const struct server *srv, const struct http_request *req,
			       const ProtobufCMessageDescriptor *d, enum connect_codec *codec, struct http_response *res)
{
	const char *ct = http_header(req, "Content-Type"), *ce = http_header(req, "Content-Encoding");
	const unsigned char *body = req->body;
	size_t len = req->body_len;
	struct buf scratch = BUF_INIT;
	struct err e = ERR_INIT;
	ProtobufCMessage *m = NULL;
	int c = connect_codec_of(ct), status;

	if (c < 0) {
		/* answer in JSON, the codec every client reads */
		*codec = CONNECT_JSON;
		http_error(res, 415, "unsupported content type '%s': Connect takes application/proto or "
			   "application/json", ct ? ct : "");
		return NULL;
	}
	*codec = c;
	if (ce && *ce && strcasecmp(ce, "gzip") && strcasecmp(ce, "identity")) {
		http_error(res, 415, "unsupported content encoding '%s'", ce);
		return NULL;
	}
	/* gzip by header or by magic: neither a protobuf nor JSON can start with 1f 8b */
	status = ingest_inflate(body, len, srv->limits.max_body, &scratch, &body, &len, &e);
	if (status)
		http_error(res, status, "%s", e.msg);
	else
		m = connect_decode(d, *codec, body, len, res);
	buf_release(&scratch);
	return m;
}
