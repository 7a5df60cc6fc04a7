/*
 * The uploader of `kiln profile --push`: profiles of abutting windows go to kiln serve or to any
 * Pyroscope-compatible server in the wire format of Pyroscope's own Go client (shared/protocols/pyroscope.md
 * 9.2): `POST URL/ingest?aggregationType=…&from=NS&name=APP{tags}&sampleRate=HZ&spyName=kiln&units=…&until=NS`
 * with a multipart body whose `profile` part is a gzipped pprof.
 *
 * The recording side never waits for the network: pusher_push() encodes the profile and queues it; one
 * thread of the pusher's own sends. The queue is bounded: when it is full the oldest window is dropped and
 * counted. A window refused with 5xx or 429, or lost to a network error, is retried with exponential backoff
 * (1 s doubling up to 30 s, with jitter) while newer windows queue behind it; any other 4xx is not retried
 * (counted as rejected, with the server's message kept for the report).
 */
#ifndef KILN_AGENT_PUSH_H
#define KILN_AGENT_PUSH_H

#include <stddef.h>
#include <stdint.h>

struct err;
struct profile;

struct push_tag {
	const char *name;
	const char *value;
};

struct push_opts {
	const char *url;       /* http(s)://host:port[/prefix]; user:password@ in it is Basic authentication */
	const char *app;       /* the service name */
	const struct push_tag *tags; /* the series' labels besides the service, e.g. host and --tag values */
	size_t ntags;
	const char *spy_name;  /* "kiln" by default */
	const char *tenant;    /* sent as X-Scope-OrgID when set */
	const char *token;     /* sent as "Authorization: Bearer TOKEN" when set */
	unsigned sample_rate;  /* Hz, for sampleRate (CPU profiles); 0: not sent */
	size_t queue_max;      /* windows waiting before the oldest is dropped; 0: 32 */
	int timeout_ms;        /* one request; 0: 10 s */
	int backoff_max_ms;    /* 0: 30 s */
	const char *units;     /* the units parameter: NULL for "samples" (CPU), "" for none (heap, off-CPU) */
};

/* Counters since the start; a snapshot. */
struct push_stats {
	uint64_t queued;   /* windows handed to pusher_push() */
	uint64_t sent;     /* acknowledged by the server (2xx) */
	uint64_t dropped;  /* dropped unsent: the queue was full, or pusher_stop() gave up on them */
	uint64_t rejected; /* refused with a 4xx other than 429: not retried */
	uint64_t retries;  /* attempts that failed and were retried */
	char last_error[256];
};

/* Checks that `url` is an http:// or https:// URL with a host (libcurl's parser): 0, or -1 with `e` set. */
int push_check_url(const char *url, struct err *e);

struct pusher *pusher_start(const struct push_opts *o, struct err *e);

/*
 * Queues the profile of the window [from_ns, until_ns) with extra series labels (e.g. pid and comm with
 * --all-cpus; may be NULL). The profile is encoded before this returns, so the caller may free it. Never
 * waits for the network. Returns 0, or -1 with `e` set when the profile cannot be encoded.
 */
int pusher_push(struct pusher *p, const struct profile *prof, int64_t from_ns, int64_t until_ns,
		const struct push_tag *extra, size_t nextra, struct err *e);
/* As pusher_push(), for the series of service `app` instead of the pusher's (one series per process). */
int pusher_push_as(struct pusher *p, const char *app, const struct profile *prof, int64_t from_ns,
		   int64_t until_ns, const struct push_tag *extra, size_t nextra, struct err *e);

void pusher_stats(struct pusher *p, struct push_stats *st);

/* Sends what is queued for at most `drain_ms`, drops (and counts) the rest, stops the thread, frees. */
void pusher_stop(struct pusher *p, int drain_ms, struct push_stats *final);

#endif
