/*
 * Serves the embedded web UI (ui.h). The UI is a single page: /ui/ and any /ui/ path without a file extension
 * (/ui/explore, /ui/compare) answer index.html, whose script reads the path and query string, so that a shared
 * or reloaded URL opens the same view. /speedscope/ serves the speedscope release shipped in web/vendor/ (its
 * files name each other relatively, so it needs a path of its own). Assets revalidate by ETag (a hash of the bytes) and carry a content
 * security policy that lets the page talk to this server only.
 */
#include "server/ui.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/hash.h"
#include "server/server.h"

const struct ui_asset *ui_asset_find(const char *path)
{
	for (const struct ui_asset *a = ui_assets; a->path; a++)
		if (!strcmp(a->path, path))
			return a;
	return NULL;
}

const char *ui_content_type(const char *path)
{
	static const char *const types[][2] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".json", "application/json" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".ico", "image/x-icon" },
		{ ".woff2", "font/woff2" },
		{ ".wasm", "application/wasm" },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i][0]))
			return types[i][1];
	return "application/octet-stream";
}

/* An ETag header's list holds the tag (or is "*"): a weak comparison, as RFC 9110 13.1.2 asks for GET. */
static int etag_matches(const char *list, const char *etag)
{
	if (!list)
		return 0;
	if (!strcmp(list, "*"))
		return 1;
	return strstr(list, etag + (etag[0] == 'W')) != NULL;
}

#define UI_CSP                                                                                                    \
	"default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; "   \
	"base-uri 'none'; frame-ancestors 'none'"
/* speedscope compiles its WebAssembly JFR reader at start, and reads a token-carrying export from a blob: URL */
#define SPEEDSCOPE_CSP UI_CSP "; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' blob:"

void ui_handle(struct server *srv, struct http_request *req, struct http_response *res)
{
	const char *path = req->path, *slash;
	const struct ui_asset *a = NULL;
	bool speedscope = !strncmp(path, "/speedscope/", 12);

	if (!strcmp(path, "/") || !strcmp(path, "/ui") || !strcmp(path, "/ui/")) {
		a = ui_asset_find("/index.html");
	} else if (speedscope) {
		char name[256];

		snprintf(name, sizeof(name), "/vendor/speedscope/%s", path[12] ? path + 12 : "index.html");
		a = ui_asset_find(name);
	} else if (!strncmp(path, "/ui/", 4)) {
		a = ui_asset_find(path + 3);
		slash = strrchr(path, '/');
		/* a page of the single-page UI, not a missing file */
		if (!a && !strchr(slash, '.') && !strstr(path, ".."))
			a = ui_asset_find("/index.html");
	}
	if (!a) {
		http_error(res, 404, "no file '%s' in the web UI", path);
		return;
	}
	snprintf(res->etag, sizeof(res->etag), "\"%016" PRIx64 "\"", hash_bytes(a->data, (size_t)(a->end - a->data)));
	res->headers[0][0] = "Cache-Control";
	res->headers[0][1] = "no-cache";
	res->headers[1][0] = "Content-Security-Policy";
	res->headers[1][1] = speedscope ? SPEEDSCOPE_CSP : UI_CSP;
	res->headers[2][0] = "X-Content-Type-Options";
	res->headers[2][1] = "nosniff";
	res->content_type = ui_content_type(a->path);
	if (etag_matches(http_header(req, "If-None-Match"), res->etag)) {
		res->status = 304;
		return;
	}
	buf_add(&res->body, a->data, (size_t)(a->end - a->data));
}
