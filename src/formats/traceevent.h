/*
 * What the parts of the trace-event reader share (traceevent.c: V8 profiles, Hermes samples, the reader itself;
 * traceevent_dur.c: duration events): the reader's state, JSON value helpers and thread labels. Internal to
 * src/formats/.
 */
#ifndef KILN_TRACEEVENT_H
#define KILN_TRACEEVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct err;
struct format_read_opts;
struct profile;

struct tname {
	int64_t pid, tid;
	bool thread; /* thread_name, else process_name */
	const char *name;
};

struct treader {
	struct profile *p;
	const struct format_read_opts *o;
	json_t *events;
	struct tname *names;
	size_t names_nr, names_alloc;
	size_t ignored_ends; /* E events that closed nothing */
	struct err *e;
};

/* A number, or a string holding one (Hermes writes ts, tid and weight as strings). */
bool te_num_of(json_t *v, double *out);
bool te_int_of(json_t *v, int64_t *out);
/* A time in microseconds as nanoseconds. */
bool te_ns_of(json_t *v, int64_t *out);
/* The event's "name", else "(unnamed)"; owned by the event. */
const char *te_name_of(json_t *ev);
/* The labelset of a thread: pid, tid and the thread's (else its process's) name. */
uint32_t te_thread_labels(struct treader *r, int64_t pid, int64_t tid);
/* The B, E and X events as self time per stack and thread; -1 with r->e set on a bad event. */
int te_read_durations(struct treader *r);

#endif
