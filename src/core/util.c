/* Shared helpers: checked number parsing, colour detection, clock, messages, human-readable numbers. */
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "err.h"

int parse_ll(const char *s, long long min, long long max, const char *what, long long *out, struct err *e)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (!*s || *end || errno == ERANGE || v < min || v > max)
		return err_set(e, "%s expects a whole number from %lld to %lld, got '%s'", what, min, max, s);
	*out = v;
	return 0;
}

int parse_double(const char *s, double min, double max, const char *what, double *out, struct err *e)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno == ERANGE || isnan(v) || v < min || v > max)
		return err_set(e, "%s expects a number from %g to %g, got '%s'", what, min, max, s);
	*out = v;
	return 0;
}

bool use_color(int fd)
{
	const char *nc = getenv("NO_COLOR");

	if (nc && *nc)
		return false;
	return isatty(fd);
}

const char *report_format_for_path(const char *path)
{
	static const struct {
		const char *ext, *format;
	} map[] = {
		{ ".json", "json" }, { ".md", "markdown" }, { ".markdown", "markdown" },
		{ ".html", "html" }, { ".htm", "html" },
	};
	size_t len = path ? strlen(path) : 0;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		size_t el = strlen(map[i].ext);

		if (len > el && !strcasecmp(path + len - el, map[i].ext))
			return map[i].format;
	}
	return NULL;
}

void error_msg(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("kiln: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void warning_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("kiln: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void bug_fl(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kiln: BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

const char *fmt_count(char *out, uint64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v), o = 0;

	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = tmp[i];
	}
	out[o] = '\0';
	return out;
}

const char *fmt_bytes(char *out, double bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (fabs(bytes) >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, 32, "%.0f B", bytes);
	else
		snprintf(out, 32, "%.*f %s", fabs(bytes) < 10 ? 2 : 1, bytes, units[u]);
	return out;
}

const char *fmt_ns(char *out, double ns)
{
	if (fabs(ns) < 1e3)
		snprintf(out, 32, "%.0f ns", ns);
	else if (fabs(ns) < 1e6)
		snprintf(out, 32, "%.1f us", ns / 1e3);
	else if (fabs(ns) < 1e9)
		snprintf(out, 32, "%.1f ms", ns / 1e6);
	else
		snprintf(out, 32, "%.2f s", ns / 1e9);
	return out;
}
