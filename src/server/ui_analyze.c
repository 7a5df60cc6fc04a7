/*
 * kiln analyze for the web UI's current selection: the selection merged through the store, then the same
 * document `kiln analyze --json --detailed` prints (analyze/document.h, docs/analyze-json.md), so that the
 * panel's hotspots and recommendations are the command's for the same profile.
 *
 *   GET /api/v1/analyze?query=TYPE{matchers}&from=&until=&threshold=PCT&top=N
 *
 * query, from and until are the render API's (render.c).
 */
#include <stdlib.h>

#include "analyze/document.h"
#include "core/buf.h"
#include "core/err.h"
#include "profile/profile.h"
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

	if (render_selection(req, "query", "from", "until", &s, res) ||
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
