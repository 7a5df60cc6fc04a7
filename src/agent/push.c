/*
 * The uploader of `kiln profile --push` (push.h): a bounded queue of encoded windows and one sender thread
 * that posts them with libcurl.
 */
#include "agent/push.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "formats/pprof_meta.h"
#include "profile/profile.h"

#define QUEUE_DEFAULT 32
#define TIMEOUT_DEFAULT_MS 10000
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_DEFAULT_MS 30000

struct window {
	char *name; /* APP{tags}, not yet URL-encoded */
	int64_t from_ns, until_ns;
	char *body; /* gzipped pprof */
	size_t len;
};

struct pusher {
	struct push_opts o;
	char *url, *app, *spy, *tenant, *token;
	struct buf base_tags; /* "k=v,k=v" of the options' tags, sanitized */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct window *q; /* ring of queue_max */
	size_t head, n;
	bool stopping;
	int64_t drain_deadline_ms; /* CLOCK_MONOTONIC ms after which stopping drops what is left */
	struct push_stats st;
	pthread_t thread;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void window_free(struct window *w)
{
	free(w->name);
	free(w->body);
	memset(w, 0, sizeof(*w));
}

/*
 * Pyroscope's name grammar (2.2) has no quoting: a key is [A-Za-z0-9_.], a value ends at ',' or '}', the
 * service is [A-Za-z0-9_.-/]. Anything else becomes '_' so that the server reads what was meant.
 */
static void add_sanitized(struct buf *b, const char *s, int what)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool ok;

		if (what == 'k')
			ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
			     c == '.';
		else if (what == 's')
			ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
			     c == '.' || c == '-' || c == '/';
		else
			ok = c >= ' ' && c != ',' && c != '}' && c != '{';
		buf_addch(b, ok ? (char)c : '_');
	}
}

static void add_tags(struct buf *b, const struct push_tag *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!t[i].name || !*t[i].name)
			continue;
		if (b->len)
			buf_addch(b, ',');
		add_sanitized(b, t[i].name, 'k');
		buf_addch(b, '=');
		add_sanitized(b, t[i].value ? t[i].value : "", 'v');
	}
}

/* ---- sending ---- */

struct reply {
	char text[200];
	size_t len;
};

static size_t on_reply(char *data, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n, room = sizeof(r->text) - 1 - r->len;

	memcpy(r->text + r->len, data, len < room ? len : room);
	r->len += len < room ? len : room;
	r->text[r->len] = 0;
	return len;
}

enum send_result { SENT, RETRY, REJECTED };

static enum send_result send_window(struct pusher *p, CURL *c, const struct window *w, char *why, size_t whysz)
{
	struct buf url = BUF_INIT;
	struct curl_slist *hdr = NULL;
	struct reply reply = { "", 0 };
	curl_mime *mime;
	curl_mimepart *part;
	char *name = curl_easy_escape(c, w->name, 0);
	long status = 0;
	CURLcode rc;
	enum send_result res;

	const char *units = p->o.units ? p->o.units : "samples";

	/* Parameters in sorted order, as pyroscope-go sends them; its heap uploads carry no aggregationType or
	 * units (the pprof says what the values are). */
	buf_addf(&url, "%s/ingest?%sfrom=%lld&name=%s", p->url, *units ? "aggregationType=sum&" : "",
		 (long long)w->from_ns, name ? name : "");
	if (p->o.sample_rate)
		buf_addf(&url, "&sampleRate=%u", p->o.sample_rate);
	buf_addf(&url, "&spyName=%s", p->spy);
	if (*units)
		buf_addf(&url, "&units=%s", units);
	buf_addf(&url, "&until=%lld", (long long)w->until_ns);
	curl_free(name);

	mime = curl_mime_init(c);
	part = curl_mime_addpart(mime);
	curl_mime_name(part, "profile");
	curl_mime_filename(part, "profile.pprof");
	curl_mime_type(part, "application/octet-stream");
	curl_mime_data(part, w->body, w->len);
	hdr = curl_slist_append(hdr, "User-Agent: kiln/" KILN_VERSION);
	if (p->tenant) {
		struct buf h = BUF_INIT;

		buf_addf(&h, "X-Scope-OrgID: %s", p->tenant);
		hdr = curl_slist_append(hdr, h.buf);
		buf_release(&h);
	}
	if (p->token) {
		struct buf h = BUF_INIT;

		buf_addf(&h, "Authorization: Bearer %s", p->token);
		hdr = curl_slist_append(hdr, h.buf);
		buf_release(&h);
	}
	curl_easy_setopt(c, CURLOPT_URL, url.buf);
	curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK) {
		snprintf(why, whysz, "%s", curl_easy_strerror(rc));
		res = RETRY;
	} else if (status >= 200 && status < 300) {
		res = SENT;
	} else {
		/* The server's message, on one line. */
		for (char *s = reply.text; *s; s++)
			if (*s == '\n' || *s == '\r')
				*s = ' ';
		snprintf(why, whysz, "HTTP %ld%s%s", status, reply.len ? ": " : "", reply.text);
		res = status == 429 || status >= 500 ? RETRY : REJECTED;
	}
	curl_easy_setopt(c, CURLOPT_MIMEPOST, NULL);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_mime_free(mime);
	curl_slist_free_all(hdr);
	buf_release(&url);
	return res;
}

/* Waits on the pusher's condition until `deadline_ms` or a change; called with the lock held. */
static void wait_until(struct pusher *p, int64_t deadline_ms)
{
	struct timespec ts;
	int64_t left = deadline_ms - mono_ms();

	if (left <= 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += left / 1000;
	ts.tv_nsec += (left % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&p->cond, &p->lock, &ts);
}

static bool drain_over(const struct pusher *p)
{
	return p->stopping && mono_ms() >= p->drain_deadline_ms;
}

static void *sender_main(void *arg)
{
	struct pusher *p = arg;
	CURL *c = curl_easy_init();
	int backoff = 0;
	unsigned seed = (unsigned)mono_ms();

	if (c) {
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)p->o.timeout_ms);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(p->o.timeout_ms < 5000 ? p->o.timeout_ms : 5000));
	}
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct window w;
		char why[256] = "";
		enum send_result res;

		while (!p->n && !p->stopping)
			pthread_cond_wait(&p->cond, &p->lock);
		if (!p->n || drain_over(p))
			break;
		w = p->q[p->head];
		p->head = (p->head + 1) % p->o.queue_max;
		p->n--;
		pthread_mutex_unlock(&p->lock);

		if (c) {
			res = send_window(p, c, &w, why, sizeof(why));
		} else {
			snprintf(why, sizeof(why), "libcurl could not start");
			res = REJECTED;
		}

		pthread_mutex_lock(&p->lock);
		if (res == SENT) {
			p->st.sent++;
			backoff = 0;
			window_free(&w);
			continue;
		}
		snprintf(p->st.last_error, sizeof(p->st.last_error), "%s", why);
		if (res == REJECTED) {
			p->st.rejected++;
			window_free(&w);
			continue;
		}
		p->st.retries++;
		/* Back to the front, unless the queue filled meanwhile: then this, the oldest window, goes. */
		if (p->n == p->o.queue_max || drain_over(p)) {
			p->st.dropped++;
			window_free(&w);
		} else {
			p->head = (p->head + p->o.queue_max - 1) % p->o.queue_max;
			p->q[p->head] = w;
			p->n++;
		}
		backoff = backoff ? backoff * 2 : BACKOFF_FIRST_MS;
		if (backoff > p->o.backoff_max_ms)
			backoff = p->o.backoff_max_ms;
		/* Jitter of up to a quarter, so that a fleet does not retry in step. */
		int64_t until = mono_ms() + backoff - (int64_t)(rand_r(&seed) % (unsigned)(backoff / 4 + 1));

		if (p->stopping && until > p->drain_deadline_ms)
			until = p->drain_deadline_ms;
		while (mono_ms() < until && !(p->stopping && mono_ms() >= p->drain_deadline_ms))
			wait_until(p, p->stopping && p->drain_deadline_ms < until ? p->drain_deadline_ms : until);
	}
	/* Stopping: what is left is dropped. */
	while (p->n) {
		window_free(&p->q[p->head]);
		p->head = (p->head + 1) % p->o.queue_max;
		p->n--;
		p->st.dropped++;
	}
	pthread_mutex_unlock(&p->lock);
	if (c)
		curl_easy_cleanup(c);
	return NULL;
}

/* ---- the API ---- */

int push_check_url(const char *url, struct err *e)
{
	CURLU *u = curl_url();
	char *host = NULL;
	int ret = 0;

	if (!url || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)))
		ret = err_set(e, "push URL '%s' is not http:// or https://", url ? url : "");
	else if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
		 curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host)
		ret = err_set(e, "push URL '%s' is not a valid URL with a host", url);
	curl_free(host);
	curl_url_cleanup(u);
	return ret;
}

struct pusher *pusher_start(const struct push_opts *o, struct err *e)
{
	struct pusher *p;
	size_t len;

	if (push_check_url(o->url, e) < 0)
		return NULL;
	if (!o->app || !*o->app)
		return err_set(e, "pushing needs a service name"), NULL;
	pthread_once(&curl_once, curl_init_once);
	p = xcalloc(1, sizeof(*p));
	p->o = *o;
	if (!p->o.queue_max)
		p->o.queue_max = QUEUE_DEFAULT;
	if (p->o.timeout_ms <= 0)
		p->o.timeout_ms = TIMEOUT_DEFAULT_MS;
	if (p->o.backoff_max_ms <= 0)
		p->o.backoff_max_ms = BACKOFF_MAX_DEFAULT_MS;
	p->url = xstrdup(o->url);
	len = strlen(p->url);
	while (len && p->url[len - 1] == '/')
		p->url[--len] = 0;
	{
		struct buf app = BUF_INIT;

		add_sanitized(&app, o->app, 's');
		p->app = buf_detach(&app, NULL);
	}
	p->spy = xstrdup(o->spy_name ? o->spy_name : "kiln");
	p->tenant = o->tenant ? xstrdup(o->tenant) : NULL;
	p->token = o->token ? xstrdup(o->token) : NULL;
	buf_init(&p->base_tags, 64);
	add_tags(&p->base_tags, o->tags, o->ntags);
	p->o.tags = NULL;
	p->o.ntags = 0;
	p->q = xcalloc(p->o.queue_max, sizeof(*p->q));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (pthread_create(&p->thread, NULL, sender_main, p)) {
		err_errno(e, "cannot start the upload thread");
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->cond);
		free(p->q), free(p->url), free(p->app), free(p->spy), free(p->tenant), free(p->token);
		buf_release(&p->base_tags);
		free(p);
		return NULL;
	}
	return p;
}

int pusher_push(struct pusher *p, const struct profile *prof, int64_t from_ns, int64_t until_ns,
		const struct push_tag *extra, size_t nextra, struct err *e)
{
	return pusher_push_as(p, NULL, prof, from_ns, until_ns, extra, nextra, e);
}

int pusher_push_as(struct pusher *p, const char *app, const struct profile *prof, int64_t from_ns,
		   int64_t until_ns, const struct push_tag *extra, size_t nextra, struct err *e)
{
	struct window w = { NULL, from_ns, until_ns, NULL, 0 };
	struct buf name = BUF_INIT, tags = BUF_INIT;
	FILE *f = open_memstream(&w.body, &w.len);

	if (!f)
		return err_errno(e, "cannot encode the profile");
	if (pprof_encode(prof, true, f, e)) {
		fclose(f);
		free(w.body);
		return -1;
	}
	if (fclose(f)) {
		free(w.body);
		return err_errno(e, "cannot encode the profile");
	}
	buf_add(&tags, p->base_tags.buf, p->base_tags.len);
	add_tags(&tags, extra, nextra);
	if (app && *app)
		add_sanitized(&name, app, 's');
	else
		buf_adds(&name, p->app);
	buf_addf(&name, "{%s}", tags.buf);
	buf_release(&tags);
	w.name = buf_detach(&name, NULL);

	pthread_mutex_lock(&p->lock);
	p->st.queued++;
	if (p->n == p->o.queue_max) {
		/* Full: the oldest window makes room. */
		window_free(&p->q[p->head]);
		p->head = (p->head + 1) % p->o.queue_max;
		p->n--;
		p->st.dropped++;
	}
	p->q[(p->head + p->n) % p->o.queue_max] = w;
	p->n++;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void pusher_stats(struct pusher *p, struct push_stats *st)
{
	pthread_mutex_lock(&p->lock);
	*st = p->st;
	pthread_mutex_unlock(&p->lock);
}

void pusher_stop(struct pusher *p, int drain_ms, struct push_stats *final)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	p->drain_deadline_ms = mono_ms() + (drain_ms > 0 ? drain_ms : 0);
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	if (final)
		*final = p->st;
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->q);
	free(p->url), free(p->app), free(p->spy), free(p->tenant), free(p->token);
	buf_release(&p->base_tags);
	free(p);
}
