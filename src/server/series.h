/*
 * Series identity for kiln serve: a tenant, a profile type and a set of labels, as Pyroscope names them
 * (shared/protocols/pyroscope.md, 2.3 and 2.4), and the label matchers of a query selector
 * (`{service_name="api", env=~"prod.*"}`). Shared by the ingest decoders, the storage backends and the query
 * handlers; nothing here does I/O.
 */
#ifndef KILN_SERVER_SERIES_H
#define KILN_SERVER_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;

/* One label. A series' labels are kept sorted by name, names unique. */
struct label_pair {
	const char *name;
	const char *value;
};

/* A profile type ID, "NAME:SAMPLE_TYPE:SAMPLE_UNIT:PERIOD_TYPE:PERIOD_UNIT" (2.4), split. */
struct profile_type {
	const char *name;        /* "process_cpu" */
	const char *sample_type; /* "cpu" */
	const char *sample_unit; /* "nanoseconds" */
	const char *period_type; /* "cpu" */
	const char *period_unit; /* "nanoseconds" */
};

enum match_op {
	MATCH_EQ,  /* =  */
	MATCH_NEQ, /* != */
	MATCH_RE,  /* =~ (anchored, POSIX ERE) */
	MATCH_NRE, /* !~ */
};

struct label_matcher {
	const char *name;
	const char *value;
	enum match_op op;
	void *re; /* compiled regex_t for MATCH_RE / MATCH_NRE, owned by the selector */
};

/* A parsed selector: every matcher must hold. A missing label matches as the empty string (Prometheus). */
struct selector {
	struct label_matcher *m;
	size_t n;
	char *mem; /* backing storage of the strings */
};

/* Parses `{name="v", name!="v", name=~"re", name!~"re"}` (also `{}`); 0, or -1 with `e` naming the problem. */
int selector_parse(const char *text, struct selector *out, struct err *e);
void selector_free(struct selector *s);
/* Whether sorted `labels` satisfy every matcher. */
bool selector_match(const struct selector *s, const struct label_pair *labels, size_t n);

/* Parses a profile type ID; the strings point into `mem`, a copy the caller frees. */
int profile_type_parse(const char *id, struct profile_type *out, char **mem, struct err *e);

#endif
