/*
 * POST /ingest and /pyroscope/ingest (pyroscope.md 3): parameters, the body format (3.2), gzip, multipart
 * forms, then the text or pprof path of ingest_series.c and a durable commit before the 200.
 */
#include "server/ingest.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/util.h"
#include "formats/format.h"
#include "profile/frame_name.h"
#include "profile/profile.h"
#include "server/server.h"
#include "server/stack_cache.h"

static int64_t wall_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

enum body_format { BODY_FOLDED, BODY_LINES, BODY_PPROF, BODY_SPEEDSCOPE, BODY_MULTIPART, BODY_UNSUPPORTED };

/* 3.2: the first matching rule wins. */
static enum body_format body_format(const char *format, const char *ct)
{
	format = format ? format : "";
	ct = ct ? ct : "";
	if (!strcmp(format, "trie") || !strcmp(format, "tree") || !strcmp(format, "jfr") ||
	    strstr(ct, "binary/octet-stream+trie") || strstr(ct, "binary/octet-stream+tree"))
		return BODY_UNSUPPORTED;
	if (!strcmp(format, "lines"))
		return BODY_LINES;
	if (!strcmp(format, "pprof"))
		return BODY_PPROF;
	if (!strcmp(format, "speedscope"))
		return BODY_SPEEDSCOPE;
	if (strstr(ct, "multipart/form-data"))
		return BODY_MULTIPART;
	return BODY_FOLDED;
}

/* format=lines: one stack per line, counting 1; identical lines summed, empty ones ignored, nothing trimmed. */
static void read_lines(struct profile *p, const unsigned char *d, size_t len)
{
	const char *s = (const char *)d, *end = s + len;

	profile_add_column(p, "samples", "count");
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s)), *le = nl ? nl : end, *f = s;
		uint32_t node = 0;

		if (le > s && le[-1] == '\r')
			le--;
		if (le == s) {
			s = nl ? nl + 1 : end;
			continue;
		}
		for (const char *q = s;; q++) {
			if (q == le || *q == ';') {
				node = profile_node(p, node, profile_frame_named(p, f, (size_t)(q - f), FRAME_NATIVE));
				f = q + 1;
				if (q == le)
					break;
			}
		}
		profile_add_sample1(p, node, 0, 1);
		s = nl ? nl + 1 : end;
	}
}

/*
 * A text body has at most one stack node per frame (';' or line end) and a row per line: sizing the trie up
 * front saves the rehashes of growing it node by node, much of an ingest's CPU. Capped, as a hint only, so
 * that a hostile body of semicolons cannot reserve more than its stacks could ever use.
 */
#define RESERVE_MAX 65536

static void reserve_text(struct profile *p, const unsigned char *d, size_t len)
{
	const unsigned char *end = d + len;
	size_t frames = 1, lines = 1;

	for (const unsigned char *q = d; (q = memchr(q, ';', (size_t)(end - q))); q++)
		frames++;
	for (const unsigned char *q = d; (q = memchr(q, '\n', (size_t)(end - q))); q++)
		lines++;
	frames += lines;
	profile_reserve(p, frames < RESERVE_MAX ? frames : RESERVE_MAX, lines < RESERVE_MAX ? lines : RESERVE_MAX);
}

static int read_with(const char *fmt, struct profile *p, const unsigned char *d, size_t len, struct err *e)
{
	struct input in;
	int ret;

	input_from_memory(&in, d, len, "the body");
	ret = format_by_name(fmt)->read(p, &in, &(struct format_read_opts){ 0 }, e);
	input_close(&in);
	return ret;
}

struct request {
	struct server *srv;
	struct http_request *req;
	struct ingest_name name;
	int64_t from_ns, until_ns;
	const char *spy;
	long long rate;
	struct buf inflated;
	struct profile *p;
	struct ingest_batch batch;
	struct store_pair *pairs; /* the stacks of a folded body that the stack cache found */
	size_t npairs;
	struct buf missed;        /* its lines that it did not */
	const char *learn;        /* a folded body for the stack cache to learn, once stored */
	size_t learn_len;
	struct err e;
};

static size_t lines_of(const struct buf *b)
{
	size_t n = 0;

	for (const char *q = b->buf, *end = b->buf + b->len; (q = memchr(q, '\n', (size_t)(end - q))); q++)
		n++;
	return n;
}

static int64_t tenant_key(const struct http_request *req)
{
	const char *t = req->tenant ? req->tenant : "";

	return (int64_t)hash_bytes(t, strlen(t));
}

/* A pprof body (raw, or the multipart `profile` part): gzip or not, then the shared pprof path. */
static int ingest_pprof(struct request *r, const unsigned char *d, size_t len, const char *stc)
{
	struct lset_tags { struct label_pair v[66]; size_t n; } tags = { .n = 0 };
	const unsigned char *raw;
	size_t rawlen;
	int status;

	if (!len)
		return 0; /* an empty body stores nothing (3.5) */
	status = ingest_inflate(d, len, r->srv->limits.max_body, &r->inflated, &raw, &rawlen, &r->e);
	if (status)
		return status;
	if (read_with("pprof", r->p, raw, rawlen, &r->e)) {
		err_wrap(&r->e, "invalid pprof body");
		return 400;
	}
	/* The URL tags except __* (but __session_id__), the spy and the service (3.7). */
	for (size_t i = 0; i < r->name.n; i++)
		if (strncmp(r->name.labels[i].name, "__", 2) || !strcmp(r->name.labels[i].name, "__session_id__"))
			tags.v[tags.n++] = r->name.labels[i];
	tags.v[tags.n++] = (struct label_pair){ "pyroscope_spy", r->spy };
	{
		bool has_service = false;

		for (size_t i = 0; i < tags.n; i++)
			has_service |= !strcmp(tags.v[i].name, "service_name");
		if (!has_service)
			tags.v[tags.n++] = (struct label_pair){ "service_name", r->name.service };
	}
	if (ingest_add_pprof(&r->batch, r->srv, tags.v, tags.n, r->p, stc, r->from_ns, r->until_ns, &r->e))
		return 400;
	return 0;
}

static int ingest_multipart(struct request *r)
{
	struct multipart_part parts[16];
	const struct multipart_part *profile = NULL;
	char *stc = NULL;
	size_t n;
	int status;

	if (multipart_parse(http_header(r->req, "Content-Type"), r->req->body, r->req->body_len, parts, 16, &n,
			    &r->e))
		return 400;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(parts[i].name, "profile"))
			profile = &parts[i];
		else if (!strcmp(parts[i].name, "prev_profile") && parts[i].len)
			return err_set(&r->e, "unsupported client version. Please update github.com/grafana/pyroscope-go"
					      " to the latest version"), 400;
		else if (!strcmp(parts[i].name, "sample_type_config") && !stc)
			stc = strndup((const char *)parts[i].data, parts[i].len);
	}
	if (!profile)
		status = (err_set(&r->e, "multipart body has no 'profile' part"), 400);
	else
		status = ingest_pprof(r, profile->data, profile->len, stc);
	free(stc);
	return status;
}

/* folded, lines, speedscope: the type comes from the name (3.4). */
static int ingest_text(struct request *r, enum body_format fmt)
{
	const unsigned char *d;
	size_t len;
	bool parse = true;
	int status;

	status = ingest_inflate(r->req->body, r->req->body_len, r->srv->limits.max_body, &r->inflated, &d, &len,
				&r->e);
	if (status)
		return status;
	if (!len)
		return 0;
	if (fmt == BODY_FOLDED && r->srv->stacks) {
		int found = stack_cache_lookup(r->srv->stacks, tenant_key(r->req), (const char *)d, len, &r->pairs,
					       &r->npairs, &r->missed);

		if (found > 0 && !r->missed.len) {
			parse = false; /* every line found: no profile to build */
		} else if (found > 0 && lines_of(&r->missed) + r->npairs <= r->srv->limits.max_samples) {
			/* Only the lines not found are parsed. (At most one stack per line: the sample limit,
			 * checked on the rows and pairs together, cannot count a stack twice past it.) */
			d = (const unsigned char *)r->missed.buf;
			len = r->missed.len;
		} else {
			free(r->pairs);
			r->pairs = NULL;
			r->npairs = 0;
		}
		if (parse) {
			/* Its stacks are learned once the store has them. */
			r->learn = (const char *)d;
			r->learn_len = len;
		}
	}
	if (parse) {
		if (fmt != BODY_SPEEDSCOPE)
			reserve_text(r->p, d, len);
		if (fmt == BODY_LINES) {
			read_lines(r->p, d, len);
		} else if (read_with(fmt == BODY_SPEEDSCOPE ? "speedscope" : "folded", r->p, d, len, &r->e)) {
			err_wrap(&r->e, "invalid %s body", fmt == BODY_SPEEDSCOPE ? "speedscope" : "folded");
			return 400;
		}
	}
	if (ingest_add_text(&r->batch, r->srv, r->name.service, r->name.labels, r->name.n, r->spy, r->rate,
			    parse ? r->p : NULL, r->pairs, r->npairs, r->from_ns, r->until_ns, &r->e))
		return 400;
	if (r->npairs)
		__atomic_add_fetch(&r->srv->metrics.cached_bodies, 1, __ATOMIC_RELAXED);
	return 0;
}

static int parse_params(struct request *r)
{
	int64_t now = wall_now_ns();
	const char *rate = http_query(r->req, "sampleRate");
	char *end;

	if (ingest_parse_name(http_query(r->req, "name"), &r->name, &r->e))
		return 400;
	if (ingest_parse_time(http_query(r->req, "from"), now, &r->from_ns, &r->e) ||
	    ingest_parse_time(http_query(r->req, "until"), now, &r->until_ns, &r->e))
		return 400;
	if (r->until_ns < r->from_ns)
		r->until_ns = r->from_ns;
	r->spy = http_query(r->req, "spyName");
	if (!r->spy || !*r->spy)
		r->spy = "unknown";
	/* Absent, non-numeric or negative: 100 Hz (3.1). */
	r->rate = rate ? strtoll(rate, &end, 10) : 100;
	if (!rate || !*rate || *end || r->rate < 0)
		r->rate = 100;
	return 0;
}

void ingest_handle(struct server *srv, struct http_request *req, struct http_response *res)
{
	struct request r = { .srv = srv, .req = req, .inflated = BUF_INIT, .missed = BUF_INIT, .e = ERR_INIT };
	uint64_t started = now_ns();
	enum body_format fmt = body_format(http_query(req, "format"), http_header(req, "Content-Type"));
	int status;

	ingest_batch_init(&r.batch, req->tenant);
	r.p = profile_new(0);
	if ((status = parse_params(&r)))
		goto out;
	switch (fmt) {
	case BODY_UNSUPPORTED:
		status = (err_set(&r.e, "the body format is not supported (kiln reads folded, lines, pprof and"
					" speedscope)"), 400);
		break;
	case BODY_PPROF:
		status = ingest_pprof(&r, req->body, req->body_len, NULL);
		break;
	case BODY_MULTIPART:
		status = ingest_multipart(&r);
		break;
	default:
		status = ingest_text(&r, fmt);
		break;
	}
	if (!status && r.batch.n)
		status = ingest_commit(srv, &r.batch, req->body_len, started, &r.e);
	if (!status && r.learn)
		stack_cache_learn(srv->stacks, tenant_key(req), r.learn, r.learn_len, r.p);
out:
	if (status) {
		http_error(res, status, "%s", r.e.msg);
		__atomic_add_fetch(&srv->metrics.rejected[status / 100], 1, __ATOMIC_RELAXED);
	}
	ingest_batch_release(&r.batch);
	free(r.pairs);
	buf_release(&r.missed);
	profile_free(r.p);
	ingest_name_release(&r.name);
	buf_release(&r.inflated);
}
