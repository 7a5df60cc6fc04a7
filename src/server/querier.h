/*
 * The query side of kiln serve in Pyroscope's protocols: Connect querier.v1.QuerierService (querier.c,
 * querier_merge.c; shared/protocols/pyroscope.md 6) and the render API (render.c, 8). Handlers decode, call the
 * store and encode; what they share is here: a selection (profile type, selector, time range) validated as 6.5
 * says, and the maxNodes rule of 6.3.
 */
#ifndef KILN_SERVER_QUERIER_H
#define KILN_SERVER_QUERIER_H

#include <stdbool.h>
#include <stdint.h>

#include "server/series.h"
#include "server/store.h"

struct http_response;
struct profile;

struct selection {
	struct profile_type pt;
	char *pt_mem;
	char *ptype;         /* the first five parts of the ID, as stored in __profile_type__ */
	struct selector sel;
	struct store_query q;
	int64_t max_nodes; /* for a flame graph of at most this many nodes (store_select_merge_graph); 0: all */
};

/*
 * Validates and fills a selection over [start_ms, end_ms): the profile type ID (5 or 6 parts; none when
 * `ptype` is NULL, for label and series queries), the selector text (NULL or "" is `{}`) and the range (6.5:
 * 0 is "missing time range in the query" unless `any_range`, where both 0 mean all time; start after end is
 * refused). Returns 0, or -1 with a 400 in `res`; selection_release() is safe either way.
 */
int selection_init(struct selection *s, const char *tenant, const char *ptype, const char *selector,
		   int64_t start_ms, int64_t end_ms, bool any_range, struct http_response *res);
void selection_release(struct selection *s);

/* maxNodes (6.3): 0 is the default 8192; negative or past 1048576 is a 400 in `res` (-1). */
int64_t max_nodes_of(int64_t v, struct http_response *res);

/* Merges a selection into a new profile (one column of the type), or NULL with a 500 in `res`. */
struct profile *selection_merge(struct store *st, const struct selection *s, struct http_response *res);

/* The Connect handlers (route table in router.c). */
struct server;
struct http_request;
void querier_profile_types(struct server *srv, struct http_request *req, struct http_response *res);
void querier_label_names(struct server *srv, struct http_request *req, struct http_response *res);
void querier_label_values(struct server *srv, struct http_request *req, struct http_response *res);
void querier_series(struct server *srv, struct http_request *req, struct http_response *res);
void querier_select_series(struct server *srv, struct http_request *req, struct http_response *res);
void querier_select_merge_stacktraces(struct server *srv, struct http_request *req, struct http_response *res);
void querier_select_merge_profile(struct server *srv, struct http_request *req, struct http_response *res);
void querier_diff(struct server *srv, struct http_request *req, struct http_response *res);
void push_handle(struct server *srv, struct http_request *req, struct http_response *res);

/*
 * A render selection from query parameter `qname` and the time parameters `fname`, `uname` (absent: now, 8.1);
 * the query must name a profile type before its matchers. Returns 0, or -1 with a 400 in `res`.
 */
int render_selection(struct http_request *req, const char *qname, const char *fname, const char *uname,
		     struct selection *s, struct http_response *res);

/* The render API. */
void render_handle(struct server *srv, struct http_request *req, struct http_response *res);
void render_diff_handle(struct server *srv, struct http_request *req, struct http_response *res);
void render_label_values(struct server *srv, struct http_request *req, struct http_response *res);

#endif
