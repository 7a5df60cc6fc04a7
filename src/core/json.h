/*
 * A streaming JSON writer ("jw", apart from jansson's json_* reader API) into a struct buf. Commas and (optionally) indentation are managed for the caller;
 * strings are escaped, invalid UTF-8 becomes U+FFFD, non-finite numbers become null.
 */
#ifndef KILN_JSON_H
#define KILN_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

#define JSON_MAX_DEPTH 64

struct jw {
	struct buf *out;
	int depth;
	bool pretty;
	bool first[JSON_MAX_DEPTH];
	bool after_key;
};

void jw_init(struct jw *j, struct buf *out, bool pretty);
void jw_object_begin(struct jw *j);
void jw_object_end(struct jw *j);
void jw_array_begin(struct jw *j);
void jw_array_end(struct jw *j);
void jw_key(struct jw *j, const char *key);
void jw_string(struct jw *j, const char *s);
void jw_string_len(struct jw *j, const char *s, size_t len);
void jw_int(struct jw *j, int64_t v);
void jw_uint(struct jw *j, uint64_t v);
void jw_double(struct jw *j, double v);
void jw_bool(struct jw *j, bool v);
void jw_null(struct jw *j);
/* An object member in one call: jw_kv_u64(j, "calls", n) is jw_key(j, "calls") then jw_uint(j, n). */
void jw_kv_str(struct jw *j, const char *key, const char *s);
void jw_kv_i64(struct jw *j, const char *key, int64_t v);
void jw_kv_u64(struct jw *j, const char *key, uint64_t v);
void jw_kv_double(struct jw *j, const char *key, double v);
void jw_kv_bool(struct jw *j, const char *key, bool v);
void jw_kv_null(struct jw *j, const char *key);
/* Appends an escaped JSON string literal (with quotes) to `b`. */
void jw_escape(struct buf *b, const char *s, size_t len);

#endif
