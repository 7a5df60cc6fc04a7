/*
 * The static trend page: the trends' JSON embedded in one HTML file with its script and style, so the page
 * makes no request to any host (a differential flame graph opens from a blob: URL of the embedded SVG). The
 * charts' script is kiln serve's (web/js/trendchart.js), so the page and the server's trend view draw alike.
 */
#include "bench/trend.h"

#include <string.h>

#include "core/buf.h"

static const char page_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
	"script-src 'unsafe-inline'; img-src data: blob:; frame-src blob:\">\n"
	"<title>kiln trend</title>\n<style>\n"
	"body{font:14px system-ui,sans-serif;margin:1em 2em;color:#222}\n"
	"h1{font-size:1.3em}h2,h3{font-size:1.05em;margin:1.2em 0 .2em}\n"
	".trend-bar{margin:.5em 0}.trend-bar select{margin-right:1em}.trend-summary,small,.muted{color:#777}\n"
	"table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right}td:first-child,th:first-child"
	"{text-align:left}tr:nth-child(even){background:#f4f4f4}\n"
	"</style></head><body>\n<h1>Benchmark trends</h1>\n<div id=\"trend\"></div>\n"
	"<script type=\"application/json\" id=\"data\">";

/* The charts' code is web/js/trendchart.js, the server's trend view's own (the caller hands it in). */
static const char page_script[] = "</script>\n<script>\n";
static const char page_tail[] =
	"</script>\n<script>\n'use strict';\n"
	"kilnTrend.mount(document.getElementById('trend'),JSON.parse(document.getElementById('data').textContent));\n"
	"</script>\n</body></html>\n";

void trend_format_html(const struct hist *h, const struct trend *t, const char *commit_url, const char *script,
		       struct buf *out)
{
	struct buf json = BUF_INIT;
	const char *p, *q;

	trend_format_json(h, t, commit_url, true, &json);
	buf_add(out, page_head, sizeof(page_head) - 1);
	/* "</" would end the script element: JSON allows "<\/" inside strings, and "</" occurs only there. */
	for (p = json.buf; (q = strstr(p, "</")); p = q + 2) {
		buf_add(out, p, (size_t)(q - p));
		buf_adds(out, "<\\/");
	}
	buf_adds(out, p);
	buf_add(out, page_script, sizeof(page_script) - 1);
	buf_adds(out, script);
	buf_add(out, page_tail, sizeof(page_tail) - 1);
	buf_release(&json);
}
