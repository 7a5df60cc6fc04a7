/*
 * The benchmark history on a server (history.h): runs pushed to and read from kiln serve's /api/v1/bench
 * endpoints (src/server/bench_api.c) with libcurl. A history read from a server is materialized like a
 * directory store: the runs in memory, their profiles downloaded into a private temporary directory that
 * hist_release() removes, so every reader of a directory (trend, compare --baseline-from) reads a server alike.
 */
#include "bench/history.h"

#include <curl/curl.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/array.h"
#include "core/atomicfile.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/xalloc.h"

/* A reply larger than this is not a history we should hold in memory. */
#define HIST_MAX_REPLY (512u << 20)

bool hist_is_url(const char *where)
{
	return !strncmp(where, "http://", 7) || !strncmp(where, "https://", 8);
}

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + size * n > HIST_MAX_REPLY)
		return 0;
	buf_add(b, data, size * n);
	return size * n;
}

/* The base URL without a trailing '/', then `path`. */
static char *endpoint(const char *url, const char *path)
{
	size_t n = strlen(url);

	while (n && url[n - 1] == '/')
		n--;
	return xasprintf("%.*s%s", (int)n, url, path);
}

/*
 * One request: GET when `mime` is NULL. The reply body goes into `reply`; a status other than 2xx is an error
 * naming the server's message. Returns 0, or -1 with `e` set.
 */
static int request(const char *url, curl_mime *mime, CURL *c, struct buf *reply, struct err *e)
{
	struct curl_slist *hdr = curl_slist_append(NULL, "User-Agent: kiln/" KILN_VERSION);
	const char *tenant = getenv("KILN_TENANT"), *token = getenv("KILN_TOKEN");
	long status = 0;
	CURLcode rc;
	int r = -1;

	if (tenant && *tenant) {
		char *h = xasprintf("X-Scope-OrgID: %s", tenant);

		hdr = curl_slist_append(hdr, h);
		free(h);
	}
	if (token && *token) {
		char *h = xasprintf("Authorization: Bearer %s", token);

		hdr = curl_slist_append(hdr, h);
		free(h);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 300000L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
	if (mime)
		curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
	else
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		err_set(e, "cannot reach '%s': %s", url, curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status >= 300) {
		json_t *j = json_loadb(reply->buf, reply->len, 0, NULL);
		const char *msg = json_string_value(json_object_get(j, "message"));

		err_set(e, "'%s': HTTP %ld%s%s", url, status, msg ? ": " : "", msg ? msg : "");
		json_decref(j);
		goto out;
	}
	r = 0;
out:
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_MIMEPOST, NULL);
	curl_slist_free_all(hdr);
	return r;
}

static CURL *curl_handle(struct err *e)
{
	static bool done;
	CURL *c;

	/* Commands are single-threaded when they get here: a plain flag is enough for the one global init. */
	if (!done) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		done = true;
	}
	c = curl_easy_init();
	if (!c)
		err_set(e, "cannot start an HTTP client (libcurl)");
	return c;
}

int hist_push_url(const char *url, const struct hist_meta *m, const struct bench_set *set, const char *profile_path,
		  char *id, size_t idsz, struct err *e)
{
	struct buf doc = BUF_INIT, prof = BUF_INIT, reply = BUF_INIT;
	const char *ext = NULL, *base;
	char *u = NULL, *q = NULL;
	CURL *c = curl_handle(e);
	curl_mime *mime = NULL;
	curl_mimepart *part;
	json_t *j = NULL;
	int r = -1;

	if (!c)
		return -1;
	hist_format_run(&doc, m, set, NULL);
	mime = curl_mime_init(c);
	part = curl_mime_addpart(mime);
	curl_mime_name(part, "run");
	curl_mime_type(part, "application/json");
	curl_mime_data(part, doc.buf, doc.len);
	if (profile_path) {
		if (buf_read_file(&prof, profile_path, e))
			goto out;
		base = strrchr(profile_path, '/');
		ext = strchr(base ? base + 1 : profile_path, '.');
		part = curl_mime_addpart(mime);
		curl_mime_name(part, "profile");
		curl_mime_filename(part, "profile");
		curl_mime_type(part, "application/octet-stream");
		curl_mime_data(part, prof.buf, prof.len);
	}
	u = endpoint(url, "/api/v1/bench/runs");
	if (ext) {
		char *x = curl_easy_escape(c, ext, 0);

		q = xasprintf("%s?profile_ext=%s", u, x ? x : "");
		curl_free(x);
	}
	if (request(q ? q : u, mime, c, &reply, e))
		goto out;
	j = json_loadb(reply.buf, reply.len, 0, NULL);
	if (!json_string_value(json_object_get(j, "id"))) {
		err_set(e, "'%s': the answer has no run id", u);
		goto out;
	}
	if (id)
		snprintf(id, idsz, "%s", json_string_value(json_object_get(j, "id")));
	r = 0;
out:
	json_decref(j);
	curl_mime_free(mime);
	curl_easy_cleanup(c);
	buf_release(&doc);
	buf_release(&prof);
	buf_release(&reply);
	free(u);
	free(q);
	return r;
}

/* Downloads the profile of `r` (r->profile is "profiles/ID.EXT") into the history's directory. */
static int fetch_profile(struct hist *h, const struct hist_run *r, const char *url, CURL *c, struct err *e)
{
	struct buf data = BUF_INIT;
	char *id = curl_easy_escape(c, r->stem, 0), *u = endpoint(url, "/api/v1/bench/profile?id="), *full;
	char *path = xasprintf("%s/%s", h->dir, r->profile);
	int ret = -1;

	full = xasprintf("%s%s", u, id ? id : "");
	if (request(full, NULL, c, &data, e))
		goto out;
	ret = afile_write_all(path, data.buf, data.len, e) ? -1 : 0;
out:
	curl_free(id);
	free(u);
	free(full);
	free(path);
	buf_release(&data);
	return ret;
}

/* A profile path of the server's answer, checked as hist_parse_run() checks a stored one. */
static bool profile_ok(const char *p)
{
	return !strncmp(p, "profiles/", 9) && !strchr(p + 9, '/') && !strstr(p, "..");
}

int hist_load_url(struct hist *h, const char *url, const char *branch, struct err *e)
{
	const char *tmp = getenv("TMPDIR");
	struct buf reply = BUF_INIT, doc = BUF_INIT;
	char *u = NULL, *esc = NULL, *pdir = NULL;
	CURL *c = curl_handle(e);
	json_t *root = NULL, *item;
	const json_t *runs;
	size_t i;
	int r = -1;

	memset(h, 0, sizeof(*h));
	if (!c)
		return -1;
	h->dir = xasprintf("%s/kiln-history-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(h->dir)) {
		err_errno(e, "cannot create a temporary directory '%s'", h->dir);
		goto out;
	}
	h->temp_dir = true;
	pdir = xasprintf("%s/profiles", h->dir);
	if (mkdir(pdir, 0700)) {
		err_errno(e, "cannot create '%s'", pdir);
		goto out;
	}
	esc = branch ? curl_easy_escape(c, branch, 0) : NULL;
	u = endpoint(url, "/api/v1/bench/runs");
	if (esc) {
		char *q = xasprintf("%s?branch=%s", u, esc);

		free(u);
		u = q;
	}
	if (request(u, NULL, c, &reply, e))
		goto out;
	root = json_loadb(reply.buf, reply.len, 0, NULL);
	runs = json_object_get(root, "runs");
	if (!json_is_array(runs)) {
		err_set(e, "'%s': not a list of benchmark runs", u);
		goto out;
	}
	json_array_foreach(runs, i, item) {
		const char *id = json_string_value(json_object_get(item, "id"));
		const char *prof = json_string_value(json_object_get(item, "profile"));
		char *text = json_dumps(json_object_get(item, "run"), JSON_COMPACT);
		struct hist_run run;
		int pr;

		if (!id || !text || (prof && !profile_ok(prof))) {
			free(text);
			err_set(e, "'%s': run %zu is malformed", u, i);
			goto out;
		}
		pr = hist_parse_run(&run, text, strlen(text), id, e);
		free(text);
		if (pr)
			goto out;
		run.stem = xstrdup(id);
		free(run.profile);
		run.profile = prof ? xstrdup(prof) : NULL;
		ALLOC_GROW(h->v, h->nr + 1, h->alloc);
		h->v[h->nr++] = run;
		if (prof && fetch_profile(h, &h->v[h->nr - 1], url, c, e))
			goto out;
	}
	r = 0;
out:
	json_decref(root);
	curl_easy_cleanup(c);
	curl_free(esc);
	buf_release(&reply);
	buf_release(&doc);
	free(u);
	free(pdir);
	return r;
}

int hist_open(struct hist *h, const char *where, const char *branch, struct err *e)
{
	return hist_is_url(where) ? hist_load_url(h, where, branch, e) : hist_load(h, where, e);
}

void hist_remove_temp(const char *dir)
{
	char *pdir = xasprintf("%s/profiles", dir);
	struct dirent *de;
	DIR *d = opendir(pdir);

	while (d && (de = readdir(d))) {
		char *p;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		p = xasprintf("%s/%s", pdir, de->d_name);
		unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(pdir);
	rmdir(dir);
	free(pdir);
}
