/*
 * Pyroscope-compatible ingest (shared/protocols/pyroscope.md 2 and 3): the decoders of POST /ingest (the
 * `name` grammar, time values, multipart forms, gzip bodies) and the path from a decoded profile to stored
 * series that /ingest and push.v1 Push share (3.7: one series per sample type and per sample label set).
 * Decoders take untrusted bytes and never crash on them; each has a fuzz target.
 */
#ifndef KILN_SERVER_INGEST_H
#define KILN_SERVER_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "server/series.h"

struct buf;
struct err;
struct profile;
struct server;
struct store_write;
struct store_pair;

/* `name=APP{k=v,...}` (2.2): the service and its labels in order of appearance, a repeated key keeping its last
 * value. The strings live in `mem`. */
struct ingest_name {
	const char *service;
	struct label_pair labels[64];
	size_t n;
	char *mem;
};

/* Parses an already form-decoded name; 0, or -1 with `e` naming the problem (for a 400). */
int ingest_parse_name(const char *name, struct ingest_name *out, struct err *e);
void ingest_name_release(struct ingest_name *n);

/*
 * A time value (2.1): seconds, ms, µs or ns by the number of digits (13, 16, 19; else seconds), YYYYMMDD, or
 * relative (`now-1h`, `-30m`, `now-1h30m`); NULL or empty is now. Returns 0 with nanoseconds in `*out`, or -1.
 */
int ingest_parse_time(const char *s, int64_t now_ns, int64_t *out, struct err *e);

/* One part of a multipart/form-data body; `data` points into the body. */
struct multipart_part {
	char name[64];
	const unsigned char *data;
	size_t len;
};

/* Splits a multipart/form-data body by the boundary of `content_type`; 0, or -1 when it is malformed. */
int multipart_parse(const char *content_type, const unsigned char *body, size_t len, struct multipart_part *parts,
		    size_t max, size_t *n, struct err *e);

/*
 * A body as a decoder wants it: inflated when it starts with the gzip magic (3.5), never past `max` bytes.
 * `*data` points into `body` or `scratch`. Returns 0, or an HTTP status (413 past the limit, 400 for corrupt
 * data) with `e` set.
 */
int ingest_inflate(const unsigned char *body, size_t len, size_t max, struct buf *scratch, const unsigned char **data,
		   size_t *dlen, struct err *e);

/* The writes one request makes, with the memory their labels and type strings live in. */
struct ingest_batch {
	struct store_write *w;
	size_t n, alloc;
	struct arena mem;
	const char *tenant;
	size_t samples; /* rows over all profiles, for the limit */
};

void ingest_batch_init(struct ingest_batch *b, const char *tenant);
void ingest_batch_release(struct ingest_batch *b);

/*
 * The pprof path (3.7, 2.3, 2.4): picks __name__ unless `labels` has it, adds __delta__, the server labels
 * (__profile_type__, __type__, __unit__, __period_type__, __period_unit__, __service_name__) and one write per
 * sample type and per distinct set of sample labels (trace and span ids excepted) to `b`. `labels` must
 * carry service_name. `p` must outlive the batch. Returns 0, or 400 with `e` set (validation, 2.3).
 */
int ingest_add_pprof(struct ingest_batch *b, const struct server *srv, const struct label_pair *labels, size_t n,
		     const struct profile *p, const char *stc_json, int64_t from_ns, int64_t until_ns,
		     struct err *e);

/*
 * The text path (3.4): the profile type from the service's last '.'-part (no dot: cpu), CPU and wall counts
 * scaled to nanoseconds at `sample_rate` (0: kept as counts), the URL tags but those named __*, and
 * service_name (app_name when the tags carry a service_name). One write of `p`'s default column and of
 * `pairs` (stacks the stack cache found, sorted by stack, one per stack), either may be absent, whose values
 * this scales in place. Returns 0, or -1 with `e` set (a 400).
 */
int ingest_add_text(struct ingest_batch *b, const struct server *srv, const char *service,
		    const struct label_pair *tags, size_t ntags, const char *spy, long long sample_rate,
		    struct profile *p, struct store_pair *pairs, size_t npairs, int64_t from_ns, int64_t until_ns,
		    struct err *e);

/*
 * Stores the batch (durable when it returns 0) and counts it for /metrics; returns 0 or the HTTP status to
 * answer (400 older than the retention, 429 a limit, 500 a storage fault) with `e` set.
 */
int ingest_commit(struct server *srv, struct ingest_batch *b, size_t request_bytes, uint64_t started_ns,
		  struct err *e);

#endif
