/*
 * The parts of a Java Flight Recorder chunk that jfr.c reads events with: the metadata (every type with its
 * fields, decoded from the chunk's own description of itself), the constant pools (each entry's key and where its
 * value lies) and typed access to fields. Internal to src/formats/ (jfr.c and jfr_chunk.c).
 *
 * Facts from OpenJDK's jdk.jfr.internal.consumer (ChunkHeader, MetadataReader, ChunkParser) and async-profiler's
 * JfrReader: all numbers big-endian; with the compressed-integers feature (bit 0 of the header's features) every
 * short, char, int and long is a LEB128 varint of up to 9 bytes (the ninth holds 8 bits); a string is an encoding
 * byte (0 null, 1 empty, 2 constant pool, 3 UTF-8, 4 char array, 5 Latin-1) and its data.
 *
 * Every read is bounded by the chunk; every count by the bytes left; every nesting by a depth limit; and all work
 * by a step budget proportional to the file size, so a damaged file ends in an error, never a hang.
 */
#ifndef KILN_JFR_H
#define KILN_JFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/hash.h"

struct err;

#define JFR_HEADER_SIZE 68

enum jfr_prim { JP_STRUCT, JP_BOOLEAN, JP_BYTE, JP_CHAR, JP_SHORT, JP_INT, JP_LONG, JP_FLOAT, JP_DOUBLE, JP_STRING };

struct jfr_field {
	const char *name; /* into the metadata's strings */
	uint64_t type_id;
	uint32_t cls;     /* class index, resolved once the metadata is read */
	bool cp;          /* the value is a constant pool key */
	bool array;
};

struct jfr_class {
	uint64_t id;
	const char *name;
	enum jfr_prim prim;
	struct jfr_field *fields;
	size_t fields_nr, fields_alloc;
	struct u64map pool; /* constant pool key -> offset of the value in the file */
};

/* A read position: `p` in [start of file, end]; `bad` once any read went past `end` or met nonsense. */
struct jfr_cur {
	const uint8_t *p, *end;
	bool bad;
};

struct jfr_chunk {
	const uint8_t *file, *file_end; /* the whole input */
	const uint8_t *start, *end;     /* this chunk */
	bool compressed;
	int64_t start_nanos, duration_nanos, start_ticks, ticks_per_second;

	struct jfr_class *classes;
	size_t classes_nr, classes_alloc;
	struct u64map class_index; /* type id -> class index */
	int string_cls;            /* java.lang.String's class index, -1 before the metadata is read */
	struct buf strings;        /* the metadata's strings, NUL-separated */
	uint64_t *steps;           /* shared budget, counts down */
	struct buf scratch;
};

/* Reads the header, metadata and constant pools of the chunk at `start`. Returns 0 or -1 with `e` set. */
int jfr_chunk_open(struct jfr_chunk *c, const uint8_t *file, size_t len, size_t start, uint64_t *steps,
		   struct err *e);
void jfr_chunk_release(struct jfr_chunk *c);

/* The class index of a type name, or -1. */
int jfr_class_by_name(const struct jfr_chunk *c, const char *name);
/* The index of a field of class `cls`, or -1. */
int jfr_field_index(const struct jfr_chunk *c, int cls, const char *name);

uint64_t jfr_long(const struct jfr_chunk *c, struct jfr_cur *cur);
uint32_t jfr_int(const struct jfr_chunk *c, struct jfr_cur *cur);
/* An array length or other count; never more than the bytes left (else `cur->bad`). */
size_t jfr_count(const struct jfr_chunk *c, struct jfr_cur *cur);
/* Skips one value of class `cls` (an array of them when `array`, a pool key when `cp`). */
void jfr_skip(struct jfr_chunk *c, struct jfr_cur *cur, uint32_t cls, bool cp, bool array, int depth);
/* Moves `at` (the start of a value of class `cls`) to the start of field `fi`. */
void jfr_seek_field(struct jfr_chunk *c, uint32_t cls, struct jfr_cur *at, int fi);

/*
 * Field `fi` of the value of class `cls` at `at`, as an integer (any integral or boolean field). Returns false when
 * the field is absent (fi < 0) or not integral.
 */
bool jfr_field_long(struct jfr_chunk *c, uint32_t cls, struct jfr_cur at, int fi, int64_t *out);
/*
 * Field `fi` as a struct value: `*out` is placed at its start (in the pool when the field is a key) and `*cls_out`
 * is its class. `*key` receives the pool key (or UINT64_MAX for an inline value). Returns false for an absent
 * field, a null or a key missing from the pool.
 */
bool jfr_field_ref(struct jfr_chunk *c, uint32_t cls, struct jfr_cur at, int fi, struct jfr_cur *out,
		   uint32_t *cls_out, uint64_t *key);
/*
 * Field `fi` as text, appended to `b` (UTF-8): a String, or a struct whose first String field holds it (a
 * jdk.types.Symbol, a FrameType), through the pools. Returns false when absent or null.
 */
bool jfr_field_text(struct jfr_chunk *c, uint32_t cls, struct jfr_cur at, int fi, struct buf *b);

#endif
