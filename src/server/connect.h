/*
 * The Connect protocol's unary calls as kiln serve answers them (shared/protocols/pyroscope.md 4): the codec
 * from the request's Content-Type (binary proto or canonical JSON, pbjson.h), gzip request bodies, and replies
 * in the request's codec. Errors are http_error()'s Connect JSON ({"code", "message"} with the status' code).
 */
#ifndef KILN_SERVER_CONNECT_H
#define KILN_SERVER_CONNECT_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct buf;
struct http_request;
struct http_response;
struct server;

enum connect_codec { CONNECT_PROTO, CONNECT_JSON };

/* The codec of a request's Content-Type (parameters such as "; charset=utf-8" ignored), or -1 (answer 415). */
int connect_codec_of(const char *content_type);

/*
 * Decodes a request body (already inflated) of message type `d`: binary proto or JSON. Returns the message
 * (protobuf_c_message_free_unpacked(m, NULL) frees it), or NULL with a 400 (invalid_argument) in `res`.
 */
ProtobufCMessage *connect_decode(const ProtobufCMessageDescriptor *d, enum connect_codec codec, const void *body,
				 size_t len, struct http_response *res);
/* Sets a 200 reply holding `m` in the codec (the empty message: 0 bytes, or "{}"). */
void connect_encode(struct http_response *res, enum connect_codec codec, const ProtobufCMessage *m);

/*
 * Reads a Connect request: the codec (415 for another content type) and the body, inflated when it is gzip
 * (Content-Encoding: gzip or the magic bytes) up to the server's body limit (413 past it). Returns the decoded
 * message of type `d`, or NULL with `res` set. `*codec` is the codec to answer in.
 */
ProtobufCMessage *connect_read(const struct server *srv, const struct http_request *req,
			       const ProtobufCMessageDescriptor *d, enum connect_codec *codec, struct http_response *res);

#endif
