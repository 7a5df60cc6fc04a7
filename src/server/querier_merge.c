/*
 * querier.v1.QuerierService, the merging methods (shared/protocols/pyroscope.md 6.3): SelectMergeStacktraces
 * (a flame graph, or a merged pprof), SelectMergeProfile (the merged pprof) and Diff (two selections as one
 * FlameGraphDiff). The pprof is kiln's own writer's (pprof_write.c), wire-compatible with google.v1.Profile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/xalloc.h"
#include "formats/pprof_meta.h"
#include "profile/profile.h"
#include "querier_v1.pb-c.h"
#include "server/connect.h"
#include "server/flamebearer.h"
#include "server/pbjson.h"
#include "server/querier.h"
#include "server/server.h"

/*
 * The filters kiln does not apply yet are refused rather than ignored, so that no answer pretends to be
 * filtered: 501 in `res` (-1).
 */
static int refuse_filters(const Types__V1__StackTraceSelector *sts, size_t profile_ids, size_t trace_ids,
			  size_t spans, struct http_response *res)
{
	if (sts && (sts->n_call_site || sts->go_pgo))
		return http_error(res, 501, "stackTraceSelector is not supported yet"), -1;
	if (profile_ids || trace_ids || spans)
		return http_error(res, 501, "profile, trace and span id selectors are not supported yet"), -1;
	return 0;
}

/* A merged selection of a SelectMergeStacktracesRequest, or NULL with `res` set; for one flame graph of at most
 * `max_nodes` nodes (0: every stack), which lets the store leave out what the graph folds. */
static struct profile *merge_request(struct server *srv, struct http_request *req,
				     const Querier__V1__SelectMergeStacktracesRequest *r, int64_t max_nodes,
				     struct selection *s, struct http_response *res)
{
	if (selection_init(s, req->tenant, r->profile_typeid, r->label_selector, r->start, r->end, false, res) ||
	    refuse_filters(r->stack_trace_selector, r->n_profile_id_selector, r->n_trace_id_selector,
			   r->n_span_selector, res))
		return NULL;
	s->max_nodes = max_nodes;
	return selection_merge(srv->store, s, res);
}

/* Connect's FlameGraph and FlameGraphDiff share their first fields: names, levels, total and maxSelf. */
struct fg_msg {
	char **names;
	Querier__V1__Level *levels, **levelp;
};

struct fg_fields {
	size_t *n_names;
	char ***names;
	size_t *n_levels;
	Querier__V1__Level ***levels;
	int64_t *total, *max_self;
};

/* Points the message's fields into `fb` (through `m`, which fg_release() frees). */
static void fg_fill(struct fg_msg *m, const struct flamebearer *fb, const struct fg_fields *f)
{
	m->names = xcalloc(fb->names.nr + 1, sizeof(*m->names));
	for (size_t i = 0; i < fb->names.nr; i++)
		m->names[i] = (char *)strtab_str(&fb->names, (uint32_t)i);
	m->levels = xcalloc(fb->nlevels + 1, sizeof(*m->levels));
	m->levelp = xcalloc(fb->nlevels + 1, sizeof(*m->levelp));
	for (size_t d = 0; d < fb->nlevels; d++) {
		querier__v1__level__init(&m->levels[d]);
		m->levels[d].values = fb->levels[d].v;
		m->levels[d].n_values = fb->levels[d].nr;
		m->levelp[d] = &m->levels[d];
	}
	*f->names = m->names;
	*f->n_names = fb->names.nr;
	*f->levels = m->levelp;
	*f->n_levels = fb->nlevels;
	*f->total = fb->total;
	*f->max_self = fb->max_self;
}

static void fg_release(struct fg_msg *m)
{
	free(m->names);
	free(m->levels);
	free(m->levelp);
}

/* The pprof of `p`, unpacked into protoc-c's message (free with perftools__profiles__profile__free_unpacked). */
static Perftools__Profiles__Profile *pprof_message(const struct profile *p, struct buf *bytes, struct err *e)
{
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	Perftools__Profiles__Profile *pb = NULL;

	if (!m) {
		err_errno(e, "cannot encode the merged profile");
		return NULL;
	}
	if (pprof_encode(p, false, m, e)) {
		fclose(m);
		free(out);
		return NULL;
	}
	fclose(m);
	pb = perftools__profiles__profile__unpack(NULL, len, (const uint8_t *)out);
	if (!pb)
		err_set(e, "the merged profile does not decode");
	if (bytes)
		buf_add(bytes, out, len);
	free(out);
	return pb;
}

void querier_select_merge_stacktraces(struct server *srv, struct http_request *req, struct http_response *res)
{
	enum connect_codec codec;
	Querier__V1__SelectMergeStacktracesRequest *r = (void *)connect_read(
		srv, req, &querier__v1__select_merge_stacktraces_request__descriptor, &codec, res);
	Querier__V1__SelectMergeStacktracesResponse out = QUERIER__V1__SELECT_MERGE_STACKTRACES_RESPONSE__INIT;
	Querier__V1__FlameGraph fg = QUERIER__V1__FLAME_GRAPH__INIT;
	Querier__V1__PprofProfile pp = QUERIER__V1__PPROF_PROFILE__INIT;
	struct fg_msg m = { 0 };
	struct flamebearer fb = { 0 };
	struct selection s = { 0 };
	struct profile *p = NULL;
	struct err e = ERR_INIT;
	int64_t max_nodes;

	if (!r)
		return;
	if ((max_nodes = max_nodes_of(r->max_nodes, res)) < 0)
		goto out;
	if (r->format == QUERIER__V1__PROFILE_FORMAT__PROFILE_FORMAT_TREE ||
	    r->format == QUERIER__V1__PROFILE_FORMAT__PROFILE_FORMAT_DOT) {
		http_error(res, 501, "format %s is not supported (FLAMEGRAPH and PPROF are)",
			   r->format == QUERIER__V1__PROFILE_FORMAT__PROFILE_FORMAT_TREE ? "TREE" : "DOT");
		goto out;
	}
	if (!(p = merge_request(srv, req, r,
				r->format == QUERIER__V1__PROFILE_FORMAT__PROFILE_FORMAT_PPROF ? 0 : max_nodes, &s, res)))
		goto out;
	if (r->format == QUERIER__V1__PROFILE_FORMAT__PROFILE_FORMAT_PPROF) {
		if (!(pp.profile = pprof_message(p, NULL, &e))) {
			http_error(res, 500, "%s", e.msg);
			goto out;
		}
		out.pprof = &pp;
	} else {
		if (flamebearer_build(&fb, p, 0, max_nodes, &e)) {
			http_error(res, 500, "%s", e.msg);
			goto out;
		}
		fg_fill(&m, &fb, &(struct fg_fields){ &fg.n_names, &fg.names, &fg.n_levels, &fg.levels, &fg.total,
						     &fg.max_self });
		out.flamegraph = &fg;
	}
	connect_encode(res, codec, &out.base);
out:
	if (pp.profile)
		perftools__profiles__profile__free_unpacked(pp.profile, NULL);
	fg_release(&m);
	flamebearer_release(&fb);
	profile_free(p);
	selection_release(&s);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

void querier_select_merge_profile(struct server *srv, struct http_request *req, struct http_response *res)
{
	enum connect_codec codec;
	Querier__V1__SelectMergeProfileRequest *r = (void *)connect_read(
		srv, req, &querier__v1__select_merge_profile_request__descriptor, &codec, res);
	Perftools__Profiles__Profile *pb = NULL;
	struct selection s = { 0 };
	struct profile *p = NULL;
	struct buf bytes = BUF_INIT;
	struct err e = ERR_INIT;

	if (!r)
		return;
	if (selection_init(&s, req->tenant, r->profile_typeid, r->label_selector, r->start, r->end, false, res) ||
	    max_nodes_of(r->max_nodes, res) < 0 ||
	    refuse_filters(r->stack_trace_selector, r->n_profile_id_selector, r->n_trace_id_selector, 0, res) ||
	    !(p = selection_merge(srv->store, &s, res)))
		goto out;
	if (!(pb = pprof_message(p, &bytes, &e))) {
		http_error(res, 500, "%s", e.msg);
		goto out;
	}
	if (codec == CONNECT_PROTO) {
		/* the answer is the Profile itself: kiln's encoding as it is, plain (not gzipped) */
		res->status = 200;
		res->content_type = "application/proto";
		buf_reset(&res->body);
		buf_add(&res->body, bytes.buf, bytes.len);
	} else {
		connect_encode(res, codec, &pb->base);
	}
out:
	if (pb)
		perftools__profiles__profile__free_unpacked(pb, NULL);
	buf_release(&bytes);
	profile_free(p);
	selection_release(&s);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

void querier_diff(struct server *srv, struct http_request *req, struct http_response *res)
{
	enum connect_codec codec;
	Querier__V1__DiffRequest *r = (void *)connect_read(srv, req, &querier__v1__diff_request__descriptor, &codec,
							   res);
	Querier__V1__DiffResponse out = QUERIER__V1__DIFF_RESPONSE__INIT;
	Querier__V1__FlameGraphDiff fg = QUERIER__V1__FLAME_GRAPH_DIFF__INIT;
	struct selection ls = { 0 }, rs = { 0 };
	struct profile *lp = NULL, *rp = NULL;
	struct flamebearer fb = { 0 };
	struct fg_msg m = { 0 };
	struct err e = ERR_INIT;
	int64_t max_nodes;

	if (!r)
		return;
	if (!r->left || !r->right) {
		http_error(res, 400, "a diff needs both a left and a right selection");
		goto out;
	}
	if ((max_nodes = max_nodes_of(r->left->max_nodes > r->right->max_nodes ? r->left->max_nodes :
					      r->right->max_nodes, res)) < 0 ||
	    /* each side whole: the graph folds by the totals of both */
	    !(lp = merge_request(srv, req, r->left, 0, &ls, res)) || !(rp = merge_request(srv, req, r->right, 0, &rs, res)))
		goto out;
	if (strcmp(ls.ptype, rs.ptype)) {
		http_error(res, 400, "profile types must match ('%s' and '%s')", ls.ptype, rs.ptype);
		goto out;
	}
	if (flamebearer_build_diff(&fb, lp, 0, rp, 0, max_nodes, &e)) {
		http_error(res, 500, "%s", e.msg);
		goto out;
	}
	fg_fill(&m, &fb, &(struct fg_fields){ &fg.n_names, &fg.names, &fg.n_levels, &fg.levels, &fg.total,
					     &fg.max_self });
	fg.leftticks = fb.left_ticks;
	fg.rightticks = fb.right_ticks;
	out.flamegraph = &fg;
	connect_encode(res, codec, &out.base);
out:
	fg_release(&m);
	flamebearer_release(&fb);
	profile_free(lp);
	profile_free(rp);
	selection_release(&ls);
	selection_release(&rs);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}
