/*
 * JSON input for the readers of JSON formats (speedscope, .cpuprofile, .heapprofile, trace events, Firefox,
 * stackprof): the whole input parsed with jansson, or one error line naming where the JSON is broken.
 */
#ifndef KILN_JSON_INPUT_H
#define KILN_JSON_INPUT_H

#include <jansson.h>
#include <stddef.h>

struct err;
struct input;

/* Parses `len` bytes at `data`; returns a new reference (json_decref() it), or NULL with `e` set. */
json_t *json_input_parse(const void *data, size_t len, struct err *e);
/* Reads all of `in` and parses it, as json_input_parse(). */
json_t *json_input_read(struct input *in, struct err *e);

#endif
