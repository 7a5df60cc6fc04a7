/*
 * kiln serve as a library (STYLE.md 30): the state every handler sees (the store, limits, authentication,
 * counters) and the route table that maps METHOD PATH to a handler with the role it needs.
 *
 * Adding an endpoint is one line in `routes` (router.c):
 *     { "POST", "/querier.v1.QuerierService/LabelNames", ROLE_READ, query_label_names },
 * with `void query_label_names(struct server *srv, struct http_request *req, struct http_response *res)`.
 * Before a handler runs, the router has authenticated the request for the role, set req->tenant, applied the
 * tenant's rate limit, and refused a body over the limit (413); the handler reads req->body, calls the store
 * (srv->store) and fills `res` (200 with an empty body unless it says otherwise; http_error() for failures).
 */
#ifndef KILN_SERVER_SERVER_H
#define KILN_SERVER_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/http.h"

struct err;
struct store;
struct auth;
struct ratelimit;
struct bench_store;

enum route_role {
	ROLE_PUBLIC = 0, /* /ready, /metrics */
	ROLE_PUSH = 1,
	ROLE_READ = 2,
};

struct server;
typedef void (*route_fn)(struct server *srv, struct http_request *req, struct http_response *res);

struct route {
	const char *method;
	const char *path;
	enum route_role role;
	route_fn fn;
};

struct server_limits {
	size_t max_body;        /* bytes of a request body, and of a profile after gunzip (413) */
	size_t max_samples;     /* samples (rows) per profile (400) */
	size_t max_labels;      /* labels per series (400) */
	uint64_t max_series;    /* distinct series per tenant (429) */
	double rate;            /* requests per second per tenant, bursts of twice that; 0: no limit (429) */
};

#define SERVER_LIMITS_DEFAULT { 4u << 20, 16000, 30, 0, 0 }

/* Counters for /metrics, updated atomically. */
#define METRICS_LATENCY_BUCKETS 10
struct server_metrics {
	uint64_t requests[6];          /* by status class: 1xx..5xx, index 0 unused */
	uint64_t ingested_profiles;    /* stored profiles (one per series and sample type) */
	uint64_t ingest_requests;      /* acknowledged ingest requests */
	uint64_t ingest_bytes;         /* request bytes of acknowledged ingests */
	uint64_t rejected[6];          /* ingest requests refused, by status class */
	uint64_t ack_le[METRICS_LATENCY_BUCKETS]; /* ingest acknowledgements by latency (cumulative at output) */
	uint64_t ack_count, ack_sum_us;
	uint64_t cached_bodies;        /* folded bodies read by the stack cache */
};

struct server {
	struct store *store;
	struct server_limits limits;
	int64_t retention_ns;       /* profiles older than this are refused (400); 0: none */
	struct auth *auth;          /* NULL: no authentication, the tenant comes from X-Scope-OrgID */
	struct ratelimit *rate;     /* NULL: no rate limit */
	struct server_metrics metrics;
	uint64_t started_ns;
	struct stack_cache *stacks; /* folded stacks the store holds (stack_cache.h); NULL: none */
	struct bench_store *bench;  /* benchmark runs (bench_store.h), NULL when the storage cannot hold them */
	char bench_note[256];       /* why not, for the 501 answer */
};

/* The route table's entry point, an http_handler_fn with the server as its argument. */
void router_handle(void *srv, struct http_request *req, struct http_response *res);

/* Handlers of this engineer's endpoints. */
void ingest_handle(struct server *srv, struct http_request *req, struct http_response *res);
void metrics_handle(struct server *srv, struct http_request *req, struct http_response *res);
void ready_handle(struct server *srv, struct http_request *req, struct http_response *res);
void api_export(struct server *srv, struct http_request *req, struct http_response *res);
void api_profiles(struct server *srv, struct http_request *req, struct http_response *res);
void api_profile(struct server *srv, struct http_request *req, struct http_response *res);
/* Benchmark runs (bench_api.c). False, with a 501 answer, when the server's storage cannot hold them. */
bool bench_api_ready(struct server *srv, struct http_response *res);
void bench_api_push(struct server *srv, struct http_request *req, struct http_response *res);
void bench_api_runs(struct server *srv, struct http_request *req, struct http_response *res);
void bench_api_profile(struct server *srv, struct http_request *req, struct http_response *res);
/* The trend view's data and a change's profile diff (bench_trend.c). */
void bench_api_trend(struct server *srv, struct http_request *req, struct http_response *res);
void bench_api_diff(struct server *srv, struct http_request *req, struct http_response *res);
/* Records an ingest acknowledgement that took `ns`. */
void metrics_ack(struct server *srv, uint64_t ns, size_t bytes, size_t profiles);

/* --auth-file: one token per line, "TOKEN TENANT ROLE[,ROLE]" (roles push, read); '#' starts a comment. */
struct auth *auth_load(const char *path, struct err *e);
void auth_free(struct auth *a);
/*
 * Checks a request's Authorization (Bearer TOKEN, or Basic with the token as password) for `role`: fills
 * `tenant` (the token's) and returns 0, or returns 401 (no or unknown token) or 403 (wrong role, or an
 * X-Scope-OrgID naming another tenant) with `e` set.
 */
int auth_check(const struct auth *a, const char *authorization, const char *scope, enum route_role role,
	       const char **tenant, struct err *e);

/* A token bucket per tenant. */
struct ratelimit *ratelimit_new(double per_second);
void ratelimit_free(struct ratelimit *r);
/* True when the tenant may make one more request now. */
bool ratelimit_take(struct ratelimit *r, const char *tenant, uint64_t now_ns);

#endif
