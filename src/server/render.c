/*
 * Pyroscope's render API (shared/protocols/pyroscope.md 8): GET /pyroscope/render (a flamebearer document with
 * its timeline and groups), /pyroscope/render-diff (a "double" flamebearer) and /pyroscope/label-values. A
 * query is `PROFILE_TYPE_ID{matchers}`; times are 2.1's values.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/xalloc.h"
#include "profile/profile.h"
#include "server/flamebearer.h"
#include "server/ingest.h"
#include "server/querier.h"
#include "server/server.h"

static int64_t wall_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int render_selection(struct http_request *req, const char *qname, const char *fname, const char *uname,
			    struct selection *s, struct http_response *res)
{
	const char *query = http_query(req, qname), *brace;
	int64_t now = wall_now_ns(), from, until;
	struct err e = ERR_INIT;
	char *ptype;
	int rc;

	memset(s, 0, sizeof(*s));
	if (!query || !*query)
		return http_error(res, 400, "\"%s\" is required", qname), -1;
	brace = strchr(query, '{');
	if (brace == query)
		return http_error(res, 400, "\"%s\" must contain a profile-type selection", qname), -1;
	if (ingest_parse_time(http_query(req, fname), now, &from, &e) ||
	    ingest_parse_time(http_query(req, uname), now, &until, &e))
		return http_error(res, 400, "%s", e.msg), -1;
	ptype = brace ? xstrndup(query, (size_t)(brace - query)) : xstrdup(query);
	/* milliseconds, as a Connect selection takes them; 0 would read as "missing" */
	rc = selection_init(s, req->tenant, ptype, brace, from / 1000000 ? from / 1000000 : 1,
			    until / 1000000 ? until / 1000000 : 1, false, res);
	free(ptype);
	return rc;
}

static int64_t render_max_nodes(struct http_request *req, struct http_response *res)
{
	const char *v = http_query(req, "maxNodes");
	char *end;
	long long n;

	if (!v)
		v = http_query(req, "max-nodes");
	if (!v || !*v)
		return FLAMEBEARER_DEFAULT_NODES;
	n = strtoll(v, &end, 10);
	if (*end)
		return http_error(res, 400, "maxNodes must be an integer, got '%s'", v), -1;
	return max_nodes_of(n, res);
}

/* Opens the FlamebearerProfile document (8.2) with its version, flame graph and metadata (8.3: how Pyroscope's
 * UI is told to show the values of a sample type). */
static void document_begin(struct jw *j, struct http_response *res, const struct flamebearer *fb,
			   const struct profile_type *pt)
{
	const char *t = pt->sample_type, *units = pt->sample_unit;
	int64_t rate = 100;

	if (!strcmp(t, "cpu")) {
		units = "samples";
		rate = 1000000000;
	} else if (!strcmp(t, "inuse_objects") || !strcmp(t, "alloc_objects") || !strcmp(t, "goroutine") ||
		   !strcmp(t, "samples")) {
		units = "objects";
	}
	res->content_type = "application/json";
	jw_init(j, &res->body, false);
	jw_object_begin(j);
	jw_kv_i64(j, "version", 1);
	jw_key(j, "flamebearer");
	jw_object_begin(j);
	flamebearer_write_json(fb, j);
	jw_object_end(j);
	jw_key(j, "metadata");
	jw_object_begin(j);
	jw_kv_str(j, "format", fb->diff ? "double" : "single");
	jw_kv_str(j, "spyName", "");
	jw_kv_i64(j, "sampleRate", rate);
	jw_kv_str(j, "units", units);
	jw_kv_str(j, "name", t);
	jw_object_end(j);
}

/* The totals per step of the selection, per value of the first groupBy label (or one group). */
struct groups {
	struct strtab names;
	struct store_point **pts;
	size_t *npts;
	struct store_point *all;
	size_t nall, all_alloc;
};

static int group_cb(void *arg, const struct label_pair *group, size_t ngroup, const struct store_point *points,
		    size_t n)
{
	struct groups *g = arg;
	const char *v = ngroup && *group[0].value ? group[0].value : "*";
	uint32_t id = strtab_intern(&g->names, v, strlen(v));

	g->pts = xrealloc(g->pts, g->names.nr * sizeof(*g->pts));
	g->npts = xrealloc(g->npts, g->names.nr * sizeof(*g->npts));
	if (id + 1 == g->names.nr)
		g->pts[id] = NULL, g->npts[id] = 0;
	g->pts[id] = xrealloc(g->pts[id], (g->npts[id] + n + 1) * sizeof(**g->pts));
	memcpy(g->pts[id] + g->npts[id], points, n * sizeof(*points));
	g->npts[id] += n;
	ALLOC_GROW(g->all, g->nall + n, g->all_alloc);
	memcpy(g->all + g->nall, points, n * sizeof(*points));
	g->nall += n;
	return 0;
}

static void groups_release(struct groups *g)
{
	for (size_t i = 0; i < g->names.nr; i++)
		free(g->pts[i]);
	free(g->pts);
	free(g->npts);
	free(g->all);
	strtab_release(&g->names);
}

/*
 * The timeline of a render, read while the flame graph's merge runs: the two are independent reads of the store
 * (a week of a fleet is a merge of millions of stack values and a pass over every profile's total), so on two
 * cores the answer takes the longer of them rather than their sum.
 */
struct timeline_job {
	struct store *store;
	const struct store_query *q;
	const char *group_by; /* NULL: one group */
	int64_t step_ns;
	struct groups *g;
	struct err e;
	int rc;
};

static void *timeline_run(void *arg)
{
	struct timeline_job *j = arg;

	j->rc = store_select_series(j->store, j->q, j->group_by ? &j->group_by : NULL, j->group_by ? 1 : 0,
				    j->step_ns, group_cb, j->g, &j->e);
	return NULL;
}

void render_handle(struct server *srv, struct http_request *req, struct http_response *res)
{
	struct selection s;
	struct flamebearer fb = { 0 };
	struct groups g = { .names = STRTAB_INIT };
	struct profile *p = NULL;
	struct err e = ERR_INIT;
	const char *format = http_query(req, "format"), *agg = http_query(req, "aggregation");
	const char *group_by = http_query(req, "groupBy");
	int64_t max_nodes, from_ms, until_ms, step;
	struct timeline_job tj;
	pthread_t thread;
	bool threaded;
	struct jw j;

	if (render_selection(req, "query", "from", "until", &s, res) || (max_nodes = render_max_nodes(req, res)) < 0)
		goto out;
	if (format && *format && strcmp(format, "json")) {
		http_error(res, 501, "format '%s' is not supported (json is)", format);
		goto out;
	}
	if (agg && *agg && strcmp(agg, "sum")) {
		http_error(res, 501, "aggregation '%s' is not supported (sum is)", agg);
		goto out;
	}
	s.max_nodes = max_nodes; /* the store may leave out what the graph folds */
	from_ms = s.q.from_ns / 1000000;
	until_ms = s.q.until_ns / 1000000;
	step = timeline_step(from_ms, until_ms);
	tj = (struct timeline_job){ srv->store, &s.q, group_by && *group_by ? group_by : NULL, step * 1000000000LL, &g,
				    ERR_INIT, 0 };
	threaded = !pthread_create(&thread, NULL, timeline_run, &tj);
	p = selection_merge(srv->store, &s, res);
	if (threaded)
		pthread_join(thread, NULL);
	else
		timeline_run(&tj);
	if (!p)
		goto out;
	if (tj.rc) {
		http_error(res, 500, "%s", tj.e.msg);
		goto out;
	}
	if (flamebearer_build(&fb, p, 0, max_nodes, &e)) {
		http_error(res, 500, "%s", e.msg);
		goto out;
	}
	document_begin(&j, res, &fb, &s.pt);
	/* kiln fills the top-level timeline with the ungrouped sum where Pyroscope leaves zeros (8.2) */
	jw_key(&j, "timeline");
	timeline_write_json(&j, from_ms, until_ms, step, g.all, g.nall);
	jw_key(&j, "groups");
	if (group_by && *group_by) {
		jw_object_begin(&j);
		for (size_t i = 0; i < g.names.nr; i++) {
			jw_key(&j, strtab_str(&g.names, (uint32_t)i));
			timeline_write_json(&j, from_ms, until_ms, step, g.pts[i], g.npts[i]);
		}
		jw_object_end(&j);
	} else {
		jw_null(&j);
	}
	jw_kv_null(&j, "heatmap");
	jw_object_end(&j);
out:
	groups_release(&g);
	flamebearer_release(&fb);
	profile_free(p);
	selection_release(&s);
}

void render_diff_handle(struct server *srv, struct http_request *req, struct http_response *res)
{
	struct selection ls = { 0 }, rs = { 0 };
	struct flamebearer fb = { 0 };
	struct profile *lp = NULL, *rp = NULL;
	struct err e = ERR_INIT;
	int64_t max_nodes;
	struct jw j;

	if (render_selection(req, "leftQuery", "leftFrom", "leftUntil", &ls, res) ||
	    render_selection(req, "rightQuery", "rightFrom", "rightUntil", &rs, res) ||
	    (max_nodes = render_max_nodes(req, res)) < 0)
		goto out;
	if (strcmp(ls.ptype, rs.ptype)) {
		http_error(res, 400, "profile types must match");
		goto out;
	}
	if (!(lp = selection_merge(srv->store, &ls, res)) || !(rp = selection_merge(srv->store, &rs, res)))
		goto out;
	if (flamebearer_build_diff(&fb, lp, 0, rp, 0, max_nodes, &e)) {
		http_error(res, 500, "%s", e.msg);
		goto out;
	}
	document_begin(&j, res, &fb, &ls.pt);
	jw_kv_null(&j, "timeline");
	jw_kv_null(&j, "groups");
	jw_kv_null(&j, "heatmap");
	jw_kv_i64(&j, "leftTicks", fb.left_ticks);
	jw_kv_i64(&j, "rightTicks", fb.right_ticks);
	jw_object_end(&j);
out:
	flamebearer_release(&fb);
	profile_free(lp);
	profile_free(rp);
	selection_release(&ls);
	selection_release(&rs);
}

static int add_value(void *arg, const char *s)
{
	strtab_intern(arg, s, strlen(s));
	return 0;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 8.5: a label's values over all time, or the profile type IDs for __name__; a JSON array of strings. */
void render_label_values(struct server *srv, struct http_request *req, struct http_response *res)
{
	const char *label = http_query(req, "label");
	struct strtab vals = STRTAB_INIT;
	struct selection s;
	struct err e = ERR_INIT;
	const char **v = NULL;
	struct jw j;
	int rc;

	if (!label || !*label) {
		http_error(res, 400, "\"label\" is required");
		return;
	}
	if (selection_init(&s, req->tenant, NULL, NULL, 0, 0, true, res))
		goto out;
	if (!strcmp(label, "__name__"))
		rc = store_profile_types(srv->store, &s.q, add_value, &vals, &e);
	else
		rc = store_label_values(srv->store, &s.q, label, add_value, &vals, &e);
	if (rc) {
		http_error(res, 500, "%s", e.msg);
		goto out;
	}
	v = xcalloc(vals.nr + 1, sizeof(*v));
	for (size_t i = 0; i < vals.nr; i++)
		v[i] = strtab_str(&vals, (uint32_t)i);
	qsort(v, vals.nr, sizeof(*v), cmp_strp);
	res->content_type = "application/json";
	jw_init(&j, &res->body, false);
	jw_array_begin(&j);
	for (size_t i = 0; i < vals.nr; i++)
		jw_string(&j, v[i]);
	jw_array_end(&j);
out:
	free(v);
	strtab_release(&vals);
	selection_release(&s);
}
