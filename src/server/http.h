/*
 * The HTTP layer of kiln serve, over libmicrohttpd: a thread per connection (a handler may block until its
 * data is durable; group commit wants concurrent requests), request bodies collected in memory up to a limit,
 * one callback per complete request. Handlers only decode, call modules and encode (STYLE.md 30).
 */
#ifndef KILN_SERVER_HTTP_H
#define KILN_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct err;

struct http_request {
	const char *method;         /* "GET", "POST", ... */
	const char *path;           /* without the query string, percent-decoded */
	const unsigned char *body;  /* the whole body (never NULL; NUL-terminated for convenience) */
	size_t body_len;
	bool body_too_large;        /* the body passed the limit: it was discarded and `body` is empty */
	const char *tenant;         /* set by the router after authentication: "" is the single tenant */
	void *conn;                 /* libmicrohttpd's connection, for the functions below */
};

/* A query parameter, decoded (%XX and '+'); NULL when absent. The first one when repeated. */
const char *http_query(const struct http_request *r, const char *name);
/* Every value of a repeated query parameter, in order; returns how many (at most `max`). */
size_t http_query_all(const struct http_request *r, const char *name, const char **out, size_t max);
/* A request header (case-insensitive name); NULL when absent. */
const char *http_header(const struct http_request *r, const char *name);

struct http_response {
	int status;               /* 200 unless set */
	const char *content_type; /* a static string; NULL: none */
	struct buf body;
	const char *retry_after;  /* a static string for Retry-After (429), or NULL */
	const char *headers[4][2]; /* more headers, static name and value strings; a NULL name ends them */
	char etag[24];            /* an ETag header when not empty (the web UI's assets) */
};

/*
 * Sets an error answer as Pyroscope's and Connect's: the status and a JSON body {"code":..., "message":...}
 * whose code matches the status (shared/protocols/pyroscope.md 3.9, 4.3). The message is printf-style.
 */
void http_error(struct http_response *res, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The Connect code of an HTTP status ("invalid_argument" for 400, ...). */
const char *http_connect_code(int status);

typedef void (*http_handler_fn)(void *arg, struct http_request *req, struct http_response *res);

struct http_server_opts {
	const char *listen;  /* "HOST:PORT", "[V6]:PORT" or ":PORT" (all interfaces); port 0 picks a free one */
	size_t max_body;     /* bytes of request body kept; more marks the request body_too_large */
	unsigned max_connections;
	unsigned timeout_s;  /* an idle connection is closed after this */
	http_handler_fn handler;
	void *arg;
};

struct http_server;

struct http_server *http_start(const struct http_server_opts *o, struct err *e);
/* The address actually bound, "127.0.0.1:40123" (for port 0). */
const char *http_address(const struct http_server *s);
/* Stops accepting, waits for the running requests, frees. NULL is a no-op. */
void http_stop(struct http_server *s);

#endif
