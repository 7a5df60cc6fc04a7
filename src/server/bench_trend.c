/*
 * The trend view's endpoints of kiln serve (the UI's web/js/pages/trend.js draws them):
 *
 *   GET /api/v1/bench/trend?branch=&machine=&window=&alpha=&threshold=   kiln trend's JSON (kiln-trend/1)
 *        of the tenant's runs, without the diffs: each change names its runs ("good_run", "bad_run")
 *   GET /api/v1/bench/diff?before=ID&after=ID[&format=svg][&top=N]      the profile diff of two runs:
 *        {"functions":[...]} (kiln diff's per-function table), or the differential flame graph
 *
 * The diff is computed when a change is opened, not for the whole history, so that the trend answers fast.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/history.h"
#include "bench/trend.h"
#include "core/atomicfile.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "server/bench_diff.h"
#include "server/bench_store.h"
#include "server/server.h"

/* A number of the query string within [min, max], or `def` when absent; -1 (and a 400) when bad. */
static int query_num(struct http_request *req, struct http_response *res, const char *name, double min,
		     double max, double def, double *out)
{
	const char *v = http_query(req, name);
	struct err e = ERR_INIT;

	*out = def;
	if (!v || !*v)
		return 0;
	if (parse_double(v, min, max, name, out, &e)) {
		http_error(res, 400, "%s", e.msg);
		return -1;
	}
	return 0;
}

void bench_api_trend(struct server *srv, struct http_request *req, struct http_response *res)
{
	struct trend_opts to = TREND_OPTS_INIT;
	struct hist h = HIST_INIT;
	struct trend t;
	struct err e = ERR_INIT;
	double window, alpha, threshold;

	if (!bench_api_ready(srv, res))
		return;
	if (query_num(req, res, "window", 2, 1000, 8, &window) || query_num(req, res, "alpha", 1e-12, 0.5, 0.001, &alpha) ||
	    query_num(req, res, "threshold", 0, 100, 0.05, &threshold))
		return;
	to.cp.window = (size_t)window;
	to.cp.alpha = alpha;
	to.cp.min_effect = threshold;
	to.graphs = false;
	if (bench_store_hist(srv->bench, req->tenant, http_query(req, "branch"), http_query(req, "machine"), &h, &e) ||
	    trend_compute(&h, &to, &t, &e)) {
		hist_release(&h);
		return http_error(res, 500, "%s", e.msg);
	}
	trend_format_json(&h, &t, NULL, false, &res->body);
	buf_addch(&res->body, '\n');
	res->content_type = "application/json";
	trend_release(&t);
	hist_release(&h);
}

/* Run `id`'s profile into a private temporary file (the readers detect its format from the content). */
static int profile_file(struct server *srv, const char *tenant, const char *id, char **path, int *status,
			struct err *e)
{
	const char *dir = getenv("TMPDIR");
	struct buf data = BUF_INIT;
	int fd, r;

	r = bench_store_profile(srv->bench, tenant, id, &data, e);
	if (r) {
		*status = r > 0 ? 404 : 500;
		if (r > 0)
			err_set(e, "no benchmark run '%.100s' with a profile", id);
		goto out;
	}
	*path = xasprintf("%s/kiln-bench-diff-XXXXXX", dir && *dir ? dir : "/tmp");
	/* mkstemp reserves a private name; the write replaces it whole */
	fd = mkstemp(*path);
	if (fd < 0) {
		r = err_errno(e, "cannot create a temporary file");
		free(*path);
		*path = NULL;
	} else {
		close(fd);
		r = afile_write_all(*path, data.buf, data.len, e);
	}
	if (r)
		*status = 500;
out:
	buf_release(&data);
	return r ? -1 : 0;
}

void bench_api_diff(struct server *srv, struct http_request *req, struct http_response *res)
{
	const char *before = http_query(req, "before"), *after = http_query(req, "after");
	const char *format = http_query(req, "format");
	struct trend_change c = { 0 };
	char *pb = NULL, *pa = NULL;
	struct err e = ERR_INIT;
	int status = 500;
	double top;
	bool svg = format && !strcmp(format, "svg");

	if (!bench_api_ready(srv, res))
		return;
	if (!before || !*before || !after || !*after)
		return http_error(res, 400, "\"before\" and \"after\" (run ids) are required");
	if (format && !svg && strcmp(format, "json"))
		return http_error(res, 400, "format '%.40s': expected json or svg", format);
	if (query_num(req, res, "top", 1, 10000, 20, &top))
		return;
	if (profile_file(srv, req->tenant, before, &pb, &status, &e) ||
	    profile_file(srv, req->tenant, after, &pa, &status, &e))
		goto fail;
	if (bench_diff_files(pb, pa, svg, (size_t)top, &c, &e)) {
		status = 422;
		goto fail;
	}
	if (svg) {
		buf_adds(&res->body, c.graph ? c.graph : "");
		res->content_type = "image/svg+xml";
	} else {
		trend_format_diff(&c, false, &res->body);
		buf_addch(&res->body, '\n');
		res->content_type = "application/json";
	}
	goto out;
fail:
	http_error(res, status, "%s", e.msg);
out:
	trend_change_release(&c);
	if (pb)
		unlink(pb);
	if (pa)
		unlink(pa);
	free(pb);
	free(pa);
}
