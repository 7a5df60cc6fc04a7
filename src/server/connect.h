/*
 * The Connect protocol's unary calls as kiln serves them (shared/protocols/pyroscope.md 4): the codec from the
 * request's Content-Type (binary proto or canonical JSON, pbjson.h), error codes with their HTTP statuses and
 * the JSON error body, and a reply that the HTTP layer sends as it is. Nothing here does I/O.
 */
#ifndef KILN_SERVER_CONNECT_H
#define KILN_SERVER_CONNECT_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "core/buf.h"

struct err;

enum connect_codec { CONNECT_PROTO, CONNECT_JSON };

/* The codec of a request's Content-Type (parameters such as "; charset=utf-8" ignored), or -1 (answer 415). */
int connect_codec_of(const char *content_type);

enum connect_code {
	CONNECT_CANCELED,
	CONNECT_UNKNOWN,
	CONNECT_INVALID_ARGUMENT,
	CONNECT_DEADLINE_EXCEEDED,
	CONNECT_NOT_FOUND,
	CONNECT_ALREADY_EXISTS,
	CONNECT_PERMISSION_DENIED,
	CONNECT_RESOURCE_EXHAUSTED,
	CONNECT_FAILED_PRECONDITION,
	CONNECT_ABORTED,
	CONNECT_OUT_OF_RANGE,
	CONNECT_UNIMPLEMENTED,
	CONNECT_INTERNAL,
	CONNECT_UNAVAILABLE,
	CONNECT_DATA_LOSS,
	CONNECT_UNAUTHENTICATED,
	CONNECT_CODE_NR
};

/* "invalid_argument", ...; and its HTTP status (4.3). */
const char *connect_code_name(enum connect_code c);
int connect_code_status(enum connect_code c);
/* The code for an HTTP status a handler set directly (400/413 invalid_argument, 401, 429, ...; 3.9). */
enum connect_code connect_code_for_status(int status);

/* What a handler answers: a status, a static content type and a body (owned; released by connect_reply_release). */
struct connect_reply {
	int status;
	const char *content_type;
	struct buf body;
};

#define CONNECT_REPLY_INIT { 0, NULL, BUF_INIT }

void connect_reply_release(struct connect_reply *r);
/* Sets an error reply: the code's status and {"code": ..., "message": ...}; the message is one line. Returns -1. */
int connect_error(struct connect_reply *r, enum connect_code c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* An error reply with a given HTTP status (413, 415, ...) and the code that status maps to. Returns -1. */
int connect_error_status(struct connect_reply *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Decodes a request body (already inflated) of message type `d`: binary proto or JSON. Returns the message
 * (protobuf_c_message_free_unpacked(m, NULL) frees it), or NULL with an invalid_argument reply set.
 */
ProtobufCMessage *connect_decode(const ProtobufCMessageDescriptor *d, enum connect_codec codec, const void *body,
				 size_t len, struct connect_reply *r);
/* Sets a 200 reply holding `m` in the codec (the empty message: 0 bytes, or "{}"). */
void connect_encode(struct connect_reply *r, enum connect_codec codec, const ProtobufCMessage *m);

#endif
