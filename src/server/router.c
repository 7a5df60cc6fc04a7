/*
 * The route table of kiln serve and what runs before every handler (server.h): the route's method, the
 * tenant and its authentication, the rate limit, the body limit; and counting the answer.
 */
#include "server/server.h"

#include <string.h>

#include "core/err.h"
#include "core/util.h"
#include "server/querier.h"
#include "server/ui.h"

static const struct route routes[] = {
	{ "POST", "/ingest", ROLE_PUSH, ingest_handle },
	{ "POST", "/pyroscope/ingest", ROLE_PUSH, ingest_handle },
	{ "GET", "/api/v1/export", ROLE_READ, api_export },
	{ "GET", "/api/v1/profiles", ROLE_READ, api_profiles },
	{ "GET", "/api/v1/profile", ROLE_READ, api_profile },
	{ "GET", "/api/v1/analyze", ROLE_READ, ui_analyze },
	{ "POST", "/api/v1/bench/runs", ROLE_PUSH, bench_api_push },
	{ "GET", "/api/v1/bench/runs", ROLE_READ, bench_api_runs },
	{ "GET", "/api/v1/bench/profile", ROLE_READ, bench_api_profile },
	{ "GET", "/api/v1/bench/trend", ROLE_READ, bench_api_trend },
	{ "GET", "/api/v1/bench/diff", ROLE_READ, bench_api_diff },
	/* Pyroscope's Connect push and query API, and its render API (querier.h) */
	{ "POST", "/push.v1.PusherService/Push", ROLE_PUSH, push_handle },
	{ "POST", "/querier.v1.QuerierService/ProfileTypes", ROLE_READ, querier_profile_types },
	{ "POST", "/querier.v1.QuerierService/LabelNames", ROLE_READ, querier_label_names },
	{ "POST", "/querier.v1.QuerierService/LabelValues", ROLE_READ, querier_label_values },
	{ "POST", "/querier.v1.QuerierService/Series", ROLE_READ, querier_series },
	{ "POST", "/querier.v1.QuerierService/SelectSeries", ROLE_READ, querier_select_series },
	{ "POST", "/querier.v1.QuerierService/SelectMergeStacktraces", ROLE_READ, querier_select_merge_stacktraces },
	{ "POST", "/querier.v1.QuerierService/SelectMergeProfile", ROLE_READ, querier_select_merge_profile },
	{ "POST", "/querier.v1.QuerierService/Diff", ROLE_READ, querier_diff },
	{ "GET", "/pyroscope/render", ROLE_READ, render_handle },
	{ "GET", "/render", ROLE_READ, render_handle },
	{ "GET", "/pyroscope/render-diff", ROLE_READ, render_diff_handle },
	{ "GET", "/render-diff", ROLE_READ, render_diff_handle },
	{ "GET", "/pyroscope/label-values", ROLE_READ, render_label_values },
	{ "GET", "/label-values", ROLE_READ, render_label_values },
	{ "GET", "/metrics", ROLE_PUBLIC, metrics_handle },
	{ "GET", "/ready", ROLE_PUBLIC, ready_handle },
	/* the embedded web UI (ui.h); a path ending in '*' matches every path it begins */
	{ "GET", "/", ROLE_PUBLIC, ui_handle },
	{ "GET", "/ui/*", ROLE_PUBLIC, ui_handle },
	{ "GET", "/ui", ROLE_PUBLIC, ui_handle },
	{ "GET", "/speedscope/*", ROLE_PUBLIC, ui_handle },
	{ NULL, NULL, ROLE_PUBLIC, NULL },
};

/* Tenant names go into storage keys and messages: keep them to a safe alphabet. */
static bool tenant_valid(const char *t)
{
	size_t n = strlen(t);

	if (n > 150)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9') ||
		      strchr("-_.!*'()", t[i])))
			return false;
	return true;
}

/* Authenticates and picks the tenant; false with `res` set when the request may not go on. */
static bool admit(struct server *srv, const struct route *rt, struct http_request *req, struct http_response *res)
{
	const char *scope = http_header(req, "X-Scope-OrgID");
	struct err e = ERR_INIT;

	if (rt->role == ROLE_PUBLIC)
		return true;
	if (srv->auth) {
		int status = auth_check(srv->auth, http_header(req, "Authorization"), scope, rt->role, &req->tenant,
					&e);
		if (status) {
			http_error(res, status, "%s", e.msg);
			return false;
		}
	} else {
		req->tenant = scope ? scope : "";
		if (!tenant_valid(req->tenant)) {
			http_error(res, 400, "invalid tenant id in X-Scope-OrgID");
			return false;
		}
	}
	if (srv->rate && !ratelimit_take(srv->rate, req->tenant, now_ns())) {
		res->retry_after = "1";
		http_error(res, 429, "request rate limit of %g per second reached for the tenant", srv->limits.rate);
		return false;
	}
	if (req->body_too_large) {
		http_error(res, 413, "request body is larger than %zu bytes", srv->limits.max_body);
		return false;
	}
	return true;
}

void router_handle(void *arg, struct http_request *req, struct http_response *res)
{
	struct server *srv = arg;
	const struct route *rt, *path_match = NULL;
	int cls;

	for (rt = routes; rt->path; rt++) {
		size_t n = strlen(rt->path);

		if (rt->path[n - 1] == '*' ? strncmp(rt->path, req->path, n - 1) : strcmp(rt->path, req->path))
			continue;
		path_match = rt;
		if (!strcmp(rt->method, req->method))
			break;
	}
	if (!rt->path) {
		if (path_match)
			http_error(res, 405, "method %s is not allowed on '%s'", req->method, req->path);
		else
			http_error(res, 404, "no endpoint '%s'", req->path);
	} else if (admit(srv, rt, req, res)) {
		rt->fn(srv, req, res);
	}
	cls = res->status / 100;
	if (cls >= 1 && cls <= 5)
		__atomic_add_fetch(&srv->metrics.requests[cls], 1, __ATOMIC_RELAXED);
}
