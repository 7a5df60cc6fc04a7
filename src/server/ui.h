/*
 * The web UI of kiln serve: the files of web/, compiled into the binary (scripts/embed-web.sh writes the table),
 * served under /ui/ (and its entry page at /) with their content type, an ETag and no request to other hosts.
 */
#ifndef KILN_SERVER_UI_H
#define KILN_SERVER_UI_H

#include <stddef.h>

#include "server/server.h"

struct ui_asset {
	const char *path;           /* "/index.html", "/js/flame.js": the file's path under web/ */
	const unsigned char *data;
	const unsigned char *end;   /* one past the last byte */
};

/* Every embedded file; a NULL path ends the table. */
extern const struct ui_asset ui_assets[];

/* The asset at `path` (under web/, starting with '/'), or NULL. */
const struct ui_asset *ui_asset_find(const char *path);
/* The Content-Type of a file name by its extension. */
const char *ui_content_type(const char *path);

/* GET / and /ui/...: the route table's handler (router.c), public: the files hold no data. */
void ui_handle(struct server *srv, struct http_request *req, struct http_response *res);
/* GET /api/v1/analyze (ui_analyze.c): kiln analyze's JSON document of a selection, for the analyze panel. */
void ui_analyze(struct server *srv, struct http_request *req, struct http_response *res);

#endif
