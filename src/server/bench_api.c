/*
 * The benchmark-run endpoints of kiln serve (bench_store.h), the server side of `kiln push-bench --push`,
 * `kiln trend URL` and `kiln compare --baseline-from URL`:
 *
 *   POST /api/v1/bench/runs[?profile_ext=.pb.gz]   a run document (kiln-bench-run/1) as the body, or a
 *                                                   multipart form with parts "run" and "profile"; {"id": ID}
 *   GET  /api/v1/bench/runs?branch=&machine=&id=    {"runs":[{"id","profile","run"}]}, oldest first
 *   GET  /api/v1/bench/profile?id=ID                the run's stored profile, as pushed
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/history.h"
#include "core/buf.h"
#include "core/err.h"
#include "server/bench_store.h"
#include "server/ingest.h"
#include "server/server.h"

bool bench_api_ready(struct server *srv, struct http_response *res)
{
	if (srv->bench)
		return true;
	http_error(res, 501, "%s", srv->bench_note[0] ? srv->bench_note : "benchmark runs are not stored here");
	return false;
}

/* A profile's file extension, kept so that readers of a downloaded history see the usual name. */
static bool ext_valid(const char *x)
{
	size_t n = strlen(x), i;

	if (n < 2 || n > 16 || x[0] != '.' || strstr(x, ".."))
		return false;
	for (i = 1; i < n; i++)
		if (!((x[i] >= 'a' && x[i] <= 'z') || (x[i] >= '0' && x[i] <= '9') || x[i] == '.'))
			return false;
	return true;
}

void bench_api_push(struct server *srv, struct http_request *req, struct http_response *res)
{
	const char *ctype = http_header(req, "Content-Type"), *ext = http_query(req, "profile_ext");
	const char *doc = (const char *)req->body;
	const void *prof = NULL;
	size_t len = req->body_len, plen = 0, n = 0, i;
	int r;
	struct multipart_part parts[4];
	struct hist_run run;
	struct err e = ERR_INIT;
	char id[96];

	if (!bench_api_ready(srv, res))
		return;
	if (!ext)
		ext = ".pb.gz";
	if (!ext_valid(ext))
		return http_error(res, 400, "profile_ext '%.40s': expected an extension such as .pb.gz", ext);
	if (ctype && !strncmp(ctype, "multipart/", 10)) {
		if (multipart_parse(ctype, req->body, req->body_len, parts, 4, &n, &e))
			return http_error(res, 400, "%s", e.msg);
		doc = NULL;
		for (i = 0; i < n; i++) {
			if (!strcmp(parts[i].name, "run")) {
				doc = (const char *)parts[i].data;
				len = parts[i].len;
			} else if (!strcmp(parts[i].name, "profile")) {
				prof = parts[i].data;
				plen = parts[i].len;
			}
		}
		if (!doc)
			return http_error(res, 400, "the form has no \"run\" part");
	}
	if (hist_parse_run(&run, doc, len, "run", &e))
		return http_error(res, 400, "%s", e.msg);
	/* The server names the profile: a client's path means nothing here. */
	if (run.profile && !prof) {
		hist_run_release(&run);
		return http_error(res, 400, "the run names a profile ('%.80s') but the form has no \"profile\" part",
				  run.profile);
	}
	r = bench_store_add(srv->bench, req->tenant, &run, doc, len, prof, plen, ext, id, sizeof(id), &e);
	hist_run_release(&run);
	if (r)
		return http_error(res, r > 0 ? r : 500, "%s", e.msg);
	res->content_type = "application/json";
	buf_addf(&res->body, "{\"id\":\"%s\"}\n", id);
}

void bench_api_runs(struct server *srv, struct http_request *req, struct http_response *res)
{
	struct err e = ERR_INIT;

	if (!bench_api_ready(srv, res))
		return;
	if (bench_store_list(srv->bench, req->tenant, http_query(req, "branch"), http_query(req, "machine"),
			     http_query(req, "id"), &res->body, &e)) {
		buf_reset(&res->body);
		return http_error(res, 500, "%s", e.msg);
	}
	res->content_type = "application/json";
}

void bench_api_profile(struct server *srv, struct http_request *req, struct http_response *res)
{
	const char *id = http_query(req, "id");
	struct err e = ERR_INIT;
	int r;

	if (!bench_api_ready(srv, res))
		return;
	if (!id || !*id)
		return http_error(res, 400, "\"id\" is required");
	r = bench_store_profile(srv->bench, req->tenant, id, &res->body, &e);
	if (r < 0) {
		buf_reset(&res->body);
		return http_error(res, 500, "%s", e.msg);
	}
	if (r > 0)
		return http_error(res, 404, "no benchmark run '%.100s' with a profile", id);
	res->content_type = "application/octet-stream";
}
