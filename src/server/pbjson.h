/*
 * Protobuf's canonical JSON mapping (shared/protocols/pyroscope.md 4.2) for any protoc-c message, driven by its
 * descriptor: lowerCamelCase names (proto names accepted on input), 64-bit integers as strings (numbers
 * accepted), enums by name (numbers accepted), bytes as base64 (URL-safe and unpadded accepted), zero values
 * omitted, unknown fields ignored. One codec serves every Connect message kiln speaks.
 */
#ifndef KILN_SERVER_PBJSON_H
#define KILN_SERVER_PBJSON_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct buf;
struct err;
struct jw;

/*
 * Decodes a JSON object into a new message of type `d`; the caller frees it with
 * protobuf_c_message_free_unpacked(msg, NULL). Returns NULL with `e` naming the field and the problem.
 */
ProtobufCMessage *pbjson_decode(const ProtobufCMessageDescriptor *d, const void *json, size_t len, struct err *e);

/* Writes `m` as a JSON object (the empty message is `{}`). */
void pbjson_write(struct jw *j, const ProtobufCMessage *m);

/* Standard base64 with padding, appended to `out`. */
void base64_encode(struct buf *out, const void *data, size_t len);
/* Decodes standard or URL-safe base64, padded or not; -1 on a bad character or length. */
int base64_decode(struct buf *out, const char *s, size_t len);

#endif
