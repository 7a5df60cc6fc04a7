/*
 * kiln analyze for the web UI's current selection: the selection merged through the store, then the same
 * document `kiln analyze --json --detailed` prints (analyze/document.h, docs/analyze-json.md), so that the
 * panel's hotspots and recommendations are the command's for the same profile.
 *
 *   GET /api/v1/analyze?query=TYPE{matchers}&from=&until=&threshold=PCT&top=N
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/document.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "profile/profile.h"
#include "server/ingest.h"
#include "server/querier.h"
#include "server/ui.h"

/* A number parameter within [lo, hi], `def` when absent; -1 with a 400 in `res` when it is not one. */
static int number_param(struct http_request *req, const char *name, double def, double lo, double hi, double *out,
			struct http_response *res)
{
	const char *v = http_query(req, name);
	char *end;

	*out = def;
	if (!v || !*v)
		return 0;
	*out = strtod(v, &end);
	if (*end || !(*out >= lo && *out <= hi))
		return http_error(res, 400, "%s must be a number from %g to %g, got '%s'", name, lo, hi, v), -1;
	return 0;
}

/* The selection of query, from and until (absent: the last hour); 0, or -1 with a 400 in `res`. */
static int analyze_selection(struct http_request *req, struct selection *s, struct http_response *res)
{
	const char *query = http_query(req, "query"), *brace;
	struct timespec ts;
	struct err e = ERR_INIT;
	int64_t now, from, until;
	char *ptype;
	int rc;

	memset(s, 0, sizeof(*s));
	if (!query || !*query)
		return http_error(res, 400, "\"query\" is required"), -1;
	brace = strchr(query, '{');
	if (brace == query)
		return http_error(res, 400, "\"query\" must name a profile type before its matchers"), -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	if (ingest_parse_time(http_query(req, "from"), now - 3600 * 1000000000LL, &from, &e) ||
	    ingest_parse_time(http_query(req, "until"), now, &until, &e))
		return http_error(res, 400, "%s", e.msg), -1;
	ptype = brace ? xstrndup(query, (size_t)(brace - query)) : xstrdup(query);
	/* selections take milliseconds, and 0 would read as a missing range */
	rc = selection_init(s, req->tenant, ptype, brace, from / 1000000 ? from / 1000000 : 1,
			    until / 1000000 ? until / 1000000 : 1, false, res);
	free(ptype);
	return rc;
}

void ui_analyze(struct server *srv, struct http_request *req, struct http_response *res)
{
	struct selection s;
	struct profile *p = NULL;
	struct err e = ERR_INIT;
	double threshold, top;
	const char *query = http_query(req, "query");
	const char *files[1] = { query }, *formats[1] = { "kiln serve" };
	struct analyze_doc_opts o = { .format = ANALYZE_DOC_JSON, .detailed = true, .files = files,
				      .formats = formats };

	if (analyze_selection(req, &s, res) ||
	    number_param(req, "threshold", 5, 0, 100, &threshold, res) ||
	    number_param(req, "top", 20, 1, 1000, &top, res) || !(p = selection_merge(srv->store, &s, res)))
		goto out;
	o.threshold = threshold;
	o.top = (size_t)top;
	if (!p->rows_nr) {
		http_error(res, 404, "no profiles in the selection");
		goto out;
	}
	if (analyze_document(&p, 1, &o, &res->body, NULL, &e)) {
		http_error(res, 500, "%s", e.msg);
		goto out;
	}
	res->content_type = "application/json";
out:
	profile_free(p);
	selection_release(&s);
}
