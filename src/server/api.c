/*
 * kiln's own read API beyond Pyroscope's (issue 18): a merged selection exported as folded text or pprof, the
 * individual profiles of a selection, and one profile by id. Selections are `query=PROFILE_TYPE{matchers}`
 * with `from`/`until` as in the render API (pyroscope.md 2.1). A profile goes out in one of kiln's writers'
 * formats or as kiln flamegraph's SVG (FORMAT: folded, the default, pprof, speedscope or svg), as an attachment
 * (the web UI's link names the file: a file name here would override it).
 *
 *   GET /api/v1/export?query=...&from=&until=&format=FORMAT
 *   GET /api/v1/profiles?query=...&from=&until=&limit=N     JSON {"profiles":[{id, from, until, total, labels}]}
 *   GET /api/v1/profile?id=ID&format=FORMAT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "formats/format.h"
#include "profile/profile.h"
#include "render/flamegraph.h"
#include "server/ingest.h"
#include "server/server.h"
#include "server/store.h"

struct selection {
	char *ptype;
	struct selector sel;
	bool has_sel;
	struct store_query q;
};

static void selection_release(struct selection *s)
{
	free(s->ptype);
	if (s->has_sel)
		selector_free(&s->sel);
}

/* Parses query, from and until; 0, or -1 with a 400 in `res`. */
static int parse_selection(struct http_request *req, struct http_response *res, struct selection *s)
{
	const char *query = http_query(req, "query"), *brace;
	struct timespec ts;
	struct profile_type pt;
	char *mem = NULL;
	struct err e = ERR_INIT;
	int64_t now;

	memset(s, 0, sizeof(*s));
	if (!query || !*query)
		return http_error(res, 400, "\"query\" is required"), -1;
	brace = strchr(query, '{');
	s->ptype = brace ? strndup(query, (size_t)(brace - query)) : strdup(query);
	if (profile_type_parse(s->ptype, &pt, &mem, &e))
		return http_error(res, 400, "%s", e.msg), -1;
	free(mem);
	if (selector_parse(brace ? brace : "{}", &s->sel, &e))
		return http_error(res, 400, "%s", e.msg), -1;
	s->has_sel = true;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	if (ingest_parse_time(http_query(req, "from"), now - 3600 * 1000000000LL, &s->q.from_ns, &e) ||
	    ingest_parse_time(http_query(req, "until"), now, &s->q.until_ns, &e))
		return http_error(res, 400, "%s", e.msg), -1;
	if (s->q.from_ns > s->q.until_ns)
		return http_error(res, 400, "query start time is after end time"), -1;
	s->q.tenant = req->tenant;
	s->q.profile_type = s->ptype;
	s->q.sel = &s->sel;
	return 0;
}

/* What a download may ask for: kiln's writers by their names, and kiln flamegraph's SVG. */
static const struct {
	const char *name, *content_type;
} out_formats[] = {
	{ "folded", "text/plain; charset=utf-8" },
	{ "pprof", "application/octet-stream" },
	{ "speedscope", "application/json" },
	{ "svg", "image/svg+xml" },
};

/* kiln flamegraph's SVG of `p`, with times in the tooltips when the profile's unit says what a count is. */
static int write_svg(const struct profile *p, FILE *out, struct err *e)
{
	struct flamegraph *g = fg_new(false);
	struct fg_svg_opts o;
	int col = profile_default_column(p), rc;

	fg_svg_opts_init(&o);
	o.countname = fg_count_name(p, col);
	if (!strcmp(o.countname, "samples"))
		o.unit_ns = fg_ns_per_count(p, col);
	rc = fg_add_profile(g, p, &(struct fg_build_opts){ .column = col, .base_column = -1 }, e);
	if (!rc) {
		fg_finish(g);
		rc = fg_write_svg(g, out, &o, e);
	}
	fg_free(g);
	return rc;
}

/* Writes `p` in the request's format (folded by default) as the response body; an unknown one is a 400. */
static void send_profile(const struct profile *p, const char *fmt, struct http_response *res)
{
	struct err e = ERR_INIT;
	char *out = NULL;
	size_t len = 0, i;
	FILE *m;
	bool svg;
	int rc;

	for (i = 0; i < ARRAY_SIZE(out_formats); i++)
		if (!strcmp(fmt && *fmt ? fmt : "folded", out_formats[i].name))
			break;
	if (i == ARRAY_SIZE(out_formats))
		return http_error(res, 400, "format '%s' is not one of folded, pprof, speedscope, svg", fmt);
	svg = !strcmp(out_formats[i].name, "svg");
	if (svg && !p->rows_nr)
		return http_error(res, 404, "no samples to draw");
	if (!(m = open_memstream(&out, &len)))
		return http_error(res, 500, "out of memory");
	if (svg)
		rc = write_svg(p, m, &e);
	else
		rc = format_by_name(out_formats[i].name)->write(p, m, &(struct format_write_opts){ .column = 0 }, &e);
	fclose(m);
	if (rc) {
		free(out);
		return http_error(res, 500, "%s", e.msg);
	}
	res->content_type = out_formats[i].content_type;
	res->headers[0][0] = "Content-Disposition";
	res->headers[0][1] = "attachment";
	buf_add(&res->body, out, len);
	free(out);
}

void api_export(struct server *srv, struct http_request *req, struct http_response *res)
{
	struct selection s;
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;

	if (!parse_selection(req, res, &s)) {
		if (store_select_merge(srv->store, &s.q, p, &e))
			http_error(res, 500, "%s", e.msg);
		else
			send_profile(p, http_query(req, "format"), res);
	}
	selection_release(&s);
	profile_free(p);
}

static int list_one(void *arg, const struct store_profile_ref *r)
{
	struct jw *j = arg;

	jw_object_begin(j);
	jw_kv_str(j, "id", r->id);
	jw_kv_i64(j, "from", r->from_ns);
	jw_kv_i64(j, "until", r->until_ns);
	jw_kv_i64(j, "total", r->total);
	jw_key(j, "labels");
	jw_object_begin(j);
	for (size_t i = 0; i < r->nlabels; i++)
		jw_kv_str(j, r->labels[i].name, r->labels[i].value);
	jw_object_end(j);
	jw_object_end(j);
	return 0;
}

void api_profiles(struct server *srv, struct http_request *req, struct http_response *res)
{
	struct selection s;
	const char *lim = http_query(req, "limit");
	long long limit = lim ? atoll(lim) : 100;
	struct err e = ERR_INIT;
	struct jw j;

	if (parse_selection(req, res, &s))
		goto out;
	if (limit <= 0 || limit > 100000) {
		http_error(res, 400, "limit must be between 1 and 100000");
		goto out;
	}
	jw_init(&j, &res->body, false);
	jw_object_begin(&j);
	jw_key(&j, "profiles");
	jw_array_begin(&j);
	if (store_list_profiles(srv->store, &s.q, (size_t)limit, list_one, &j, &e)) {
		http_error(res, 500, "%s", e.msg);
		goto out;
	}
	jw_array_end(&j);
	jw_object_end(&j);
	res->content_type = "application/json";
out:
	selection_release(&s);
}

void api_profile(struct server *srv, struct http_request *req, struct http_response *res)
{
	const char *id = http_query(req, "id");
	struct profile *p;
	struct err e = ERR_INIT;

	if (!id || !*id)
		return http_error(res, 400, "\"id\" is required");
	p = profile_new(0);
	if (store_get_profile(srv->store, req->tenant, id, p, &e))
		http_error(res, 404, "%s", e.msg);
	else
		send_profile(p, http_query(req, "format"), res);
	profile_free(p);
}
