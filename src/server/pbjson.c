/*
 * Canonical protobuf JSON for protoc-c messages (pbjson.h). Messages are walked through their descriptors:
 * field offsets, quantifier (n_ / has_) offsets and types, so the generated structs are filled and read
 * without per-message code. Decoded messages are built with malloc() so that protobuf-c's own
 * protobuf_c_message_free_unpacked() frees them.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/xalloc.h"
#include "formats/json_input.h"
#include "server/pbjson.h"

#define MAX_DEPTH 32

#define MEMBER(T, msg, off) (*(T *)((char *)(msg) + (off)))
#define CMEMBER(T, msg, off) (*(const T *)((const char *)(msg) + (off)))

/* proto name -> lowerCamelCase JSON name, as protoc derives json_name ("profile_typeID" -> "profileTypeID"). */
static void json_name(const char *proto, char *out, size_t size)
{
	size_t n = 0;
	bool up = false;

	for (; *proto && n + 1 < size; proto++) {
		if (*proto == '_') {
			up = true;
			continue;
		}
		out[n++] = up && *proto >= 'a' && *proto <= 'z' ? (char)(*proto - 'a' + 'A') : *proto;
		up = false;
	}
	out[n] = 0;
}

static size_t elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
		return 4;
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM: return sizeof(int);
	case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
	default: return sizeof(void *);
	}
}

/* ---- base64 ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(struct buf *out, const void *data, size_t len)
{
	const unsigned char *d = data;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < len ? (uint32_t)d[i + 1] << 8 : 0) |
			     (i + 2 < len ? d[i + 2] : 0);
		buf_addch(out, b64[v >> 18]);
		buf_addch(out, b64[v >> 12 & 63]);
		buf_addch(out, i + 1 < len ? b64[v >> 6 & 63] : '=');
		buf_addch(out, i + 2 < len ? b64[v & 63] : '=');
	}
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int base64_decode(struct buf *out, const char *s, size_t len)
{
	uint32_t acc = 0;
	int bits = 0;

	while (len && s[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(s[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addch(out, (int)(acc >> bits & 0xff));
		}
	}
	return 0;
}

/* ---- writing ---- */

static void write_value(struct jw *j, const ProtobufCFieldDescriptor *f, const void *p)
{
	char num[32];

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
		jw_int(j, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
		jw_uint(j, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
		snprintf(num, sizeof(num), "%lld", (long long)*(const int64_t *)p);
		jw_string(j, num);
		break;
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
		snprintf(num, sizeof(num), "%llu", (unsigned long long)*(const uint64_t *)p);
		jw_string(j, num);
		break;
	case PROTOBUF_C_TYPE_FLOAT: case PROTOBUF_C_TYPE_DOUBLE: {
		double v = f->type == PROTOBUF_C_TYPE_FLOAT ? *(const float *)p : *(const double *)p;
		if (isnan(v))
			jw_string(j, "NaN"); /* canonical JSON spells the non-finite values as strings */
		else if (isinf(v))
			jw_string(j, v > 0 ? "Infinity" : "-Infinity");
		else
			jw_double(j, v);
		break;
	}
	case PROTOBUF_C_TYPE_BOOL:
		jw_bool(j, *(const protobuf_c_boolean *)p);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p);
		if (ev)
			jw_string(j, ev->name);
		else
			jw_int(j, *(const int *)p);
		break;
	}
	case PROTOBUF_C_TYPE_STRING:
		jw_string(j, *(char *const *)p ? *(char *const *)p : "");
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *bd = p;
		struct buf b = BUF_INIT;
		base64_encode(&b, bd->data, bd->len);
		jw_string_len(j, b.buf, b.len);
		buf_release(&b);
		break;
	}
	default:
		pbjson_write(j, *(ProtobufCMessage *const *)p);
		break;
	}
}

/* proto3 presence: a field without a label is present when it is not its type's zero. */
static bool is_zero(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: return !*(char *const *)p || !**(char *const *)p;
	case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE: return !*(void *const *)p;
	case PROTOBUF_C_TYPE_FLOAT: return *(const float *)p == 0 && !signbit(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE: return *(const double *)p == 0 && !signbit(*(const double *)p);
	default: {
		static const char zero[8];
		return !memcmp(p, zero, elem_size(f->type));
	}
	}
}

void pbjson_write(struct jw *j, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	char name[128];

	jw_object_begin(j);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const void *p = (const char *)m + f->offset;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = CMEMBER(size_t, m, f->quantifier_offset);
			const char *arr = *(const char *const *)p;
			if (!n)
				continue;
			json_name(f->name, name, sizeof(name));
			jw_key(j, name);
			jw_array_begin(j);
			for (size_t k = 0; k < n; k++)
				write_value(j, f, arr + k * elem_size(f->type));
			jw_array_end(j);
			continue;
		}
		if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING) {
			if (is_zero(f, p) && (f->label == PROTOBUF_C_LABEL_NONE || f->type == PROTOBUF_C_TYPE_MESSAGE))
				continue;
		} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset) {
			if (!CMEMBER(protobuf_c_boolean, m, f->quantifier_offset))
				continue;
		} else if (is_zero(f, p)) {
			continue;
		}
		json_name(f->name, name, sizeof(name));
		jw_key(j, name);
		write_value(j, f, p);
	}
	jw_object_end(j);
}

/* ---- reading ---- */

static ProtobufCMessage *decode_object(const ProtobufCMessageDescriptor *d, json_t *obj, int depth, struct err *e);

static int bad(struct err *e, const char *field, const char *want, json_t *v)
{
	static const char *const kinds[] = { "an object", "an array", "a string", "an integer", "a number",
					     "true", "false", "null" };
	return err_set(e, "field '%s': expected %s, got %s", field, want, kinds[json_typeof(v)]);
}

/* An integer from a JSON number or a decimal string, within [min, max] (or [0, UINT64_MAX] when `u64`). */
static int read_int(json_t *v, const char *field, long long min, long long max, bool u64, uint64_t *out,
		    struct err *e)
{
	if (json_is_integer(v)) {
		long long x = json_integer_value(v);
		if (u64 ? x < 0 : x < min || x > max)
			return err_set(e, "field '%s': %lld is out of range", field, x);
		*out = (uint64_t)x;
		return 0;
	}
	if (json_is_real(v)) {
		double x = json_real_value(v);
		if (x != floor(x) || (u64 ? x < 0 || x >= 18446744073709551616.0 : x < (double)min || x > (double)max))
			return err_set(e, "field '%s': %g is not an integer in range", field, x);
		*out = u64 ? (uint64_t)x : (uint64_t)(long long)x;
		return 0;
	}
	if (!json_is_string(v))
		return bad(e, field, "an integer", v);
	const char *s = json_string_value(v);
	char *end;
	errno = 0;
	if (u64) {
		unsigned long long x = strtoull(s, &end, 10);
		if (!*s || *end || errno || *s == '-')
			return err_set(e, "field '%s': '%s' is not an unsigned integer", field, s);
		*out = x;
	} else {
		long long x = strtoll(s, &end, 10);
		if (!*s || *end || errno || x < min || x > max)
			return err_set(e, "field '%s': '%s' is not an integer in range", field, s);
		*out = (uint64_t)x;
	}
	return 0;
}

static int read_double(json_t *v, const char *field, double *out, struct err *e)
{
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return bad(e, field, "a number", v);
	const char *s = json_string_value(v);
	char *end;
	if (!strcmp(s, "NaN"))
		*out = NAN;
	else if (!strcmp(s, "Infinity"))
		*out = INFINITY;
	else if (!strcmp(s, "-Infinity"))
		*out = -INFINITY;
	else if (*s && (*out = strtod(s, &end), !*end) && isfinite(*out))
		return 0;
	else
		return err_set(e, "field '%s': '%s' is not a number", field, s);
	return 0;
}

static int read_value(const ProtobufCFieldDescriptor *f, json_t *v, void *p, const char *field, int depth,
		      struct err *e)
{
	uint64_t u;
	double dv = 0;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
		if (read_int(v, field, INT32_MIN, INT32_MAX, false, &u, e))
			return -1;
		*(int32_t *)p = (int32_t)(int64_t)u;
		return 0;
	case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
		if (read_int(v, field, 0, UINT32_MAX, false, &u, e))
			return -1;
		*(uint32_t *)p = (uint32_t)u;
		return 0;
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
		if (read_int(v, field, INT64_MIN, INT64_MAX, false, &u, e))
			return -1;
		*(int64_t *)p = (int64_t)u;
		return 0;
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
		if (read_int(v, field, 0, 0, true, &u, e))
			return -1;
		*(uint64_t *)p = u;
		return 0;
	case PROTOBUF_C_TYPE_FLOAT: case PROTOBUF_C_TYPE_DOUBLE:
		if (read_double(v, field, &dv, e))
			return -1;
		if (f->type == PROTOBUF_C_TYPE_FLOAT)
			*(float *)p = (float)dv;
		else
			*(double *)p = dv;
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(v))
			return bad(e, field, "true or false", v);
		*(protobuf_c_boolean *)p = json_is_true(v);
		return 0;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev;
		/* proto3 enums are open: any int32 number is kept, as the binary decoder keeps it */
		if (json_is_integer(v) && json_integer_value(v) >= INT32_MIN && json_integer_value(v) <= INT32_MAX) {
			*(int *)p = (int)json_integer_value(v);
			return 0;
		}
		if (!json_is_string(v))
			return bad(e, field, "an enum name", v);
		ev = protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, json_string_value(v));
		if (!ev)
			return err_set(e, "field '%s': unknown value '%s' for %s", field, json_string_value(v),
				       ((const ProtobufCEnumDescriptor *)f->descriptor)->name);
		*(int *)p = ev->value;
		return 0;
	}
	case PROTOBUF_C_TYPE_STRING:
		if (!json_is_string(v))
			return bad(e, field, "a string", v);
		*(char **)p = xstrndup(json_string_value(v), json_string_length(v));
		return 0;
	case PROTOBUF_C_TYPE_BYTES: {
		struct buf b = BUF_INIT;
		ProtobufCBinaryData *bd = p;
		if (!json_is_string(v))
			return bad(e, field, "a base64 string", v);
		if (base64_decode(&b, json_string_value(v), json_string_length(v))) {
			buf_release(&b);
			return err_set(e, "field '%s': not valid base64", field);
		}
		bd->len = b.len;
		bd->data = b.len ? (uint8_t *)buf_detach(&b, NULL) : NULL;
		buf_release(&b);
		return 0;
	}
	default:
		if (!json_is_object(v))
			return bad(e, field, "an object", v);
		*(ProtobufCMessage **)p = decode_object(f->descriptor, v, depth + 1, e);
		return *(ProtobufCMessage **)p ? 0 : -1;
	}
}

static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *d, const char *key)
{
	char name[128];

	for (unsigned i = 0; i < d->n_fields; i++) {
		json_name(d->fields[i].name, name, sizeof(name));
		if (!strcmp(key, name) || !strcmp(key, d->fields[i].name))
			return &d->fields[i];
	}
	return NULL;
}

static ProtobufCMessage *decode_object(const ProtobufCMessageDescriptor *d, json_t *obj, int depth, struct err *e)
{
	ProtobufCMessage *m;
	unsigned char *seen;
	const char *key;
	json_t *v;

	if (depth > MAX_DEPTH) {
		err_set(e, "JSON nested too deeply");
		return NULL;
	}
	m = xcalloc(1, d->sizeof_message);
	d->message_init(m);
	seen = xcalloc(d->n_fields + 1, 1);
	json_object_foreach(obj, key, v) {
		const ProtobufCFieldDescriptor *f = find_field(d, key);
		void *p;

		if (!f || json_is_null(v))
			continue; /* unknown fields are ignored; null is the default */
		if (seen[f - d->fields]++) {
			err_set(e, "field '%s' is given twice", f->name);
			goto fail;
		}
		p = (char *)m + f->offset;
		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			if (read_value(f, v, p, key, depth, e))
				goto fail;
			if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
			    f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING)
				MEMBER(protobuf_c_boolean, m, f->quantifier_offset) = 1;
			continue;
		}
		if (!json_is_array(v)) {
			bad(e, key, "an array", v);
			goto fail;
		}
		size_t n = json_array_size(v), sz = elem_size(f->type);
		char *arr = xcalloc(n + 1, sz);
		*(char **)p = arr;
		for (size_t k = 0; k < n; k++) {
			/* count each element as it is filled, so that a failure frees exactly what was made */
			if (read_value(f, json_array_get(v, k), arr + k * sz, key, depth, e))
				goto fail;
			MEMBER(size_t, m, f->quantifier_offset) = k + 1;
		}
	}
	free(seen);
	return m;
fail:
	free(seen);
	protobuf_c_message_free_unpacked(m, NULL);
	return NULL;
}

ProtobufCMessage *pbjson_decode(const ProtobufCMessageDescriptor *d, const void *json, size_t len, struct err *e)
{
	json_t *root = json_input_parse(json, len, e);
	ProtobufCMessage *m;

	if (!root)
		return NULL;
	if (!json_is_object(root)) {
		json_decref(root);
		err_set(e, "expected a JSON object for %s", d->name);
		return NULL;
	}
	m = decode_object(d, root, 0, e);
	json_decref(root);
	return m;
}
