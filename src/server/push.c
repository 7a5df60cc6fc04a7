/*
 * POST /push.v1.PusherService/Push (shared/protocols/pyroscope.md 5): the Connect ingest of the Python, Ruby and
 * Rust SDKs and of Alloy. Each RawSample is a pprof (gzip or not) stored under its series' labels through the
 * pprof path that /ingest uses (ingest_add_pprof: one series per sample type and sample label set); the whole
 * request is one durable commit, acknowledged with an empty PushResponse.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/util.h"
#include "formats/format.h"
#include "profile/profile.h"
#include "push_v1.pb-c.h"
#include "server/connect.h"
#include "server/ingest.h"
#include "server/querier.h"
#include "server/server.h"

static int64_t wall_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct push {
	struct ingest_batch batch;
	struct profile **profiles; /* live until the commit: the writes point into them */
	size_t nprofiles, alloc;
	struct buf inflated;
	struct err e;
};

/* One raw profile of a series; 0, or the HTTP status to answer with `e` set. */
static int push_sample(struct server *srv, struct push *ps, const struct label_pair *labels, size_t n,
		       const Push__V1__RawSample *rs, size_t at)
{
	const unsigned char *raw;
	size_t len;
	struct input in;
	struct profile *p;
	int64_t now = wall_now_ns();
	int status;

	if (!rs->raw_profile.len)
		return 0; /* an empty profile stores nothing, as on /ingest (3.5) */
	status = ingest_inflate(rs->raw_profile.data, rs->raw_profile.len, srv->limits.max_body, &ps->inflated, &raw,
				&len, &ps->e);
	if (status)
		return err_wrap(&ps->e, "sample %zu", at), status;
	p = profile_new(0);
	ALLOC_GROW(ps->profiles, ps->nprofiles + 1, ps->alloc);
	ps->profiles[ps->nprofiles++] = p;
	input_from_memory(&in, raw, len, "rawProfile");
	if (format_by_name("pprof")->read(p, &in, &(struct format_read_opts){ 0 }, &ps->e)) {
		input_close(&in);
		return err_wrap(&ps->e, "sample %zu: invalid pprof in rawProfile", at), 400;
	}
	input_close(&in);
	/* A profile without its own time (time_nanos) is taken as now. */
	if (ingest_add_pprof(&ps->batch, srv, labels, n, p, NULL, now, now, &ps->e))
		return 400;
	return 0;
}

void push_handle(struct server *srv, struct http_request *req, struct http_response *res)
{
	enum connect_codec codec;
	Push__V1__PushRequest *pr;
	Push__V1__PushResponse ok = PUSH__V1__PUSH_RESPONSE__INIT;
	struct push ps = { .inflated = BUF_INIT, .e = ERR_INIT };
	struct label_pair *labels = NULL;
	uint64_t started = now_ns();
	size_t at = 0;
	int status = 0;

	pr = (Push__V1__PushRequest *)connect_read(srv, req, &push__v1__push_request__descriptor, &codec, res);
	if (!pr)
		return;
	ingest_batch_init(&ps.batch, req->tenant);
	for (size_t i = 0; i < pr->n_series && !status; i++) {
		const Push__V1__RawProfileSeries *s = pr->series[i];

		if (s->n_labels > srv->limits.max_labels) {
			err_set(&ps.e, "series %zu has %zu labels, more than the limit of %zu", i, s->n_labels,
				srv->limits.max_labels);
			status = 400;
			break;
		}
		labels = xrealloc(labels, (s->n_labels + 1) * sizeof(*labels));
		for (size_t k = 0; k < s->n_labels; k++)
			labels[k] = (struct label_pair){ s->labels[k]->name, s->labels[k]->value };
		for (size_t k = 0; k < s->n_samples && !status; k++)
			status = push_sample(srv, &ps, labels, s->n_labels, s->samples[k], at++);
	}
	if (!status && ps.batch.n)
		status = ingest_commit(srv, &ps.batch, req->body_len, started, &ps.e);
	if (status) {
		http_error(res, status, "%s", ps.e.msg);
		__atomic_add_fetch(&srv->metrics.rejected[status / 100], 1, __ATOMIC_RELAXED);
	} else {
		connect_encode(res, codec, &ok.base);
	}
	ingest_batch_release(&ps.batch);
	for (size_t i = 0; i < ps.nprofiles; i++)
		profile_free(ps.profiles[i]);
	free(ps.profiles);
	free(labels);
	buf_release(&ps.inflated);
	protobuf_c_message_free_unpacked(&pr->base, NULL);
}
