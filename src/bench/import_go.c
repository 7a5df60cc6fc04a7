/*
 * The `go test -bench` text importer (Go benchmark format): "key: value" configuration lines and result lines
 * `BenchmarkName-P  N  V1 unit1  V2 unit2 ...` (several metrics per line, -benchmem's B/op and allocs/op,
 * MB/s from b.SetBytes, custom b.ReportMetric units). Repeated lines (-count) are samples of one benchmark.
 * Other lines (PASS, ok, logs, --- FAIL) are ignored.
 */
#include "bench/result.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/err.h"
#include "core/xalloc.h"

#define GO_MAX_FIELDS 64

struct field {
	const char *p;
	size_t len;
};

static size_t split_fields(const char *line, size_t len, struct field *f, size_t max)
{
	size_t i = 0, n = 0;

	while (i < len && n < max) {
		while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
			i++;
		if (i == len)
			break;
		f[n].p = line + i;
		while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			i++;
		f[n].len = (size_t)(line + i - f[n].p);
		n++;
	}
	return n;
}

/* "Benchmark" followed by the end or a character that is not a lowercase letter (the testing package's rule). */
static bool is_bench_name(const struct field *f)
{
	if (f->len < 9 || memcmp(f->p, "Benchmark", 9))
		return false;
	return f->len == 9 || !(f->p[9] >= 'a' && f->p[9] <= 'z');
}

static bool parse_num(const struct field *f, double *out)
{
	char tmp[64], *end;

	if (!f->len || f->len >= sizeof(tmp))
		return false;
	memcpy(tmp, f->p, f->len);
	tmp[f->len] = '\0';
	*out = strtod(tmp, &end);
	return *end == '\0' && isfinite(*out);
}

static bool is_uint(const struct field *f)
{
	size_t i;

	for (i = 0; i < f->len; i++)
		if (f->p[i] < '0' || f->p[i] > '9')
			return false;
	return f->len > 0;
}

/* A result line: a benchmark name, an iteration count, then one or more value-unit pairs. */
static bool is_result_line(const struct field *f, size_t n)
{
	return n >= 4 && n % 2 == 0 && is_bench_name(&f[0]) && is_uint(&f[1]);
}

bool bench_probe_go(const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	struct field f[GO_MAX_FIELDS];

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (is_result_line(f, split_fields(p, l, f, GO_MAX_FIELDS)))
			return true;
		p += l + 1;
	}
	return false;
}

/* Maps a Go unit to (metric, canonical unit, scale, direction). */
static void go_unit(const char *u, const char **metric, const char **unit, double *scale, bool *higher)
{
	size_t l = strlen(u);

	*metric = u;
	*unit = "";
	*scale = 1;
	*higher = false;
	if (!strcmp(u, "ns/op")) {
		*metric = "time";
		*unit = "s";
		*scale = 1e-9;
	} else if (!strcmp(u, "sec/op")) {
		*metric = "time";
		*unit = "s";
	} else if (!strcmp(u, "B/op")) {
		*unit = "B";
	} else if (!strcmp(u, "MB/s")) {
		*unit = "MB/s";
		*higher = true;
	} else if (l > 2 && !strcmp(u + l - 2, "/s")) {
		*higher = true; /* custom rates: more per second is better */
	}
}

/* The configuration lines benchstat shows above its tables ("goos: linux", "cpu: ..."). */
static void go_env(struct bench_set *s, const char *p, size_t l)
{
	static const char *const keys[] = { "goos", "goarch", "pkg", "cpu" };
	size_t k, kl;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		kl = strlen(keys[k]);
		if (l > kl + 2 && !memcmp(p, keys[k], kl) && p[kl] == ':' && p[kl + 1] == ' ') {
			size_t vl = l - kl - 2;

			while (vl && (p[kl + 2 + vl - 1] == '\r' || p[kl + 2 + vl - 1] == ' '))
				vl--;
			bench_set_env(s, keys[k], p + kl + 2, vl);
		}
	}
}

int bench_import_go(struct bench_set *s, const char *data, size_t len, struct err *e)
{
	const char *p = data, *end = data + len;
	char **pkgs = NULL;
	size_t npkgs = 0, apkgs = 0, found = 0, i;
	char *pkg = NULL;
	int pass;

	s->format = "go";
	/* Pass 0 counts the packages: names get a "pkg:" prefix only when a file mixes several. */
	for (pass = 0; pass < 2; pass++) {
		p = data;
		free(pkg);
		pkg = NULL;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p), n, k;
			struct field f[GO_MAX_FIELDS];

			if (pass == 0)
				go_env(s, p, l);
			if (l > 5 && !memcmp(p, "pkg: ", 5)) {
				size_t vl = l - 5;

				while (vl && (p[5 + vl - 1] == '\r' || p[5 + vl - 1] == ' '))
					vl--;
				free(pkg);
				pkg = xstrndup(p + 5, vl);
				if (pass == 0) {
					for (i = 0; i < npkgs && strcmp(pkgs[i], pkg); i++)
						;
					if (i == npkgs) {
						ALLOC_GROW(pkgs, npkgs + 1, apkgs);
						pkgs[npkgs++] = xstrdup(pkg);
					}
				}
			}
			n = split_fields(p, l, f, GO_MAX_FIELDS);
			p += l + 1;
			if (pass == 0 || !is_result_line(f, n))
				continue;
			{
				char *name = npkgs > 1 && pkg ? xasprintf("%s:%.*s", pkg, (int)f[0].len, f[0].p)
							     : xstrndup(f[0].p, f[0].len);

				for (k = 2; k + 1 < n; k += 2) {
					const char *metric, *unit;
					char *u = xstrndup(f[k + 1].p, f[k + 1].len);
					double v, scale;
					bool higher;

					if (parse_num(&f[k], &v)) {
						go_unit(u, &metric, &unit, &scale, &higher);
						bench_series_add(bench_set_get(s, name, metric, unit, higher), v * scale);
						found++;
					}
					free(u);
				}
				free(name);
			}
		}
	}
	free(pkg);
	for (i = 0; i < npkgs; i++)
		free(pkgs[i]);
	free(pkgs);
	if (!found)
		return err_set(e, "no 'go test -bench' results");
	return 0;
}
