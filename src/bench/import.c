/*
 * Benchmark result importers for JSON inputs, detected from content: kiln and hyperfine (`results[]`),
 * Google Benchmark (`benchmarks[]` with iteration and aggregate rows), pytest-benchmark (`benchmarks[].stats`),
 * Criterion.rs (`estimates.json`, `sample.json`, or a whole output directory); text inputs go to the
 * `go test -bench` importer. Python-style literals NaN/Infinity are read as missing values.
 */
#include "bench/result.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/xalloc.h"

#define WALK_MAX_DEPTH 32

/* Returns the number, or NAN for null, a missing member or a non-number. */
static double num(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static bool is_ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/*
 * Copies JSON text, replacing the bare literals NaN, Infinity and -Infinity (outside strings) by null, which
 * jansson can parse. Returns true when something was replaced.
 */
static bool json_replace_nonfinite(const char *in, size_t len, struct buf *out)
{
	static const char *const words[] = { "-Infinity", "Infinity", "NaN" };
	bool in_str = false, changed = false;
	size_t i = 0;

	while (i < len) {
		char c = in[i];
		size_t w;

		if (in_str) {
			buf_addch(out, c);
			if (c == '\\' && i + 1 < len)
				buf_addch(out, in[++i]);
			else if (c == '"')
				in_str = false;
			i++;
			continue;
		}
		if (c == '"') {
			in_str = true;
			buf_addch(out, c);
			i++;
			continue;
		}
		for (w = 0; w < 3; w++) {
			size_t wl = strlen(words[w]);

			if (len - i >= wl && !memcmp(in + i, words[w], wl) && (i == 0 || !is_ident_char(in[i - 1])) &&
			    (i + wl == len || !is_ident_char(in[i + wl])))
				break;
		}
		if (w < 3) {
			buf_adds(out, "null");
			i += strlen(words[w]);
			changed = true;
			continue;
		}
		buf_addch(out, c);
		i++;
	}
	return changed;
}

/*
 * A name unique in `s` for a result of a file where each entry is its own benchmark (hyperfine, pytest): every
 * such entry has a "time" series, so the lookup is a hash probe.
 */
static char *unique_name(const struct bench_set *s, const char *name)
{
	char *n = xstrdup(name);
	int k;

	for (k = 2; bench_set_find(s, n, "time"); k++) {
		free(n);
		n = xasprintf("%s #%d", name, k);
	}
	return n;
}

static void add_array(struct bench_set *s, const char *name, const json_t *arr, const char *metric,
		      const char *unit, bool higher, bool secondary, double scale)
{
	struct bench_series *b = NULL;
	size_t i;
	const json_t *v;

	json_array_foreach(arr, i, v) {
		if (!json_is_number(v) || !isfinite(json_number_value(v)))
			continue;
		if (!b) {
			b = bench_set_get(s, name, metric, unit, higher);
			b->secondary = secondary;
		}
		bench_series_add(b, json_number_value(v) * scale);
	}
}

static int import_hyperfine(struct bench_set *s, const json_t *root, struct err *e)
{
	const json_t *results = json_object_get(root, "results"), *r;
	size_t i;

	s->format = json_object_get(root, "kiln") ? "kiln" : "hyperfine";
	json_array_foreach(results, i, r) {
		const char *cmd = str(r, "command");
		const json_t *times = json_object_get(r, "times");
		char *name;

		if (!cmd)
			return err_set(e, "results[%zu] has no command", i);
		name = unique_name(s, cmd);
		if (json_is_array(times) && json_array_size(times)) {
			add_array(s, name, times, "time", "s", false, false, 1);
		} else {
			struct bench_series *b = bench_set_get(s, name, "time", "s", false);
			const json_t *codes = json_object_get(r, "exit_codes");

			b->mean = num(r, "mean");
			b->stddev = num(r, "stddev");
			b->median = num(r, "median");
			b->min = num(r, "min");
			b->max = num(r, "max");
			b->count = json_is_array(codes) ? json_array_size(codes) : 0;
		}
		/*
		 * kiln's additive per-run arrays (memory_usage_byte is also written by newer hyperfine): secondary
		 * metrics, compared when --metric names them, so that by default one test per command gates.
		 */
		add_array(s, name, json_object_get(r, "user_times"), "user", "s", false, true, 1);
		add_array(s, name, json_object_get(r, "system_times"), "system", "s", false, true, 1);
		add_array(s, name, json_object_get(r, "memory_usage_byte"), "max-rss", "B", false, true, 1);
		free(name);
	}
	return 0;
}

static double time_unit_scale(const char *u)
{
	if (!u || !strcmp(u, "ns"))
		return 1e-9;
	if (!strcmp(u, "us"))
		return 1e-6;
	if (!strcmp(u, "ms"))
		return 1e-3;
	if (!strcmp(u, "s"))
		return 1;
	return NAN;
}

struct gb_metric {
	const char *key, *metric, *unit;
	bool higher, is_time;
};

static const struct gb_metric gb_metrics[] = {
	{ "real_time", "time", "s", false, true },
	{ "cpu_time", "cpu", "s", false, true },
	{ "bytes_per_second", "bytes/s", "B/s", true, false },
	{ "items_per_second", "items/s", "1/s", true, false },
};

static const char *const gb_aggregates[] = { "mean", "median", "stddev", "cv", NULL };

/* The aggregate suffix of "BM_x_mean" ("mean"), or NULL. */
static const char *gb_suffix(const char *name)
{
	const char *us = strrchr(name, '_');
	size_t k;

	for (k = 0; us && gb_aggregates[k]; k++)
		if (!strcmp(us + 1, gb_aggregates[k]))
			return us + 1;
	return NULL;
}

/*
 * What a row is: its benchmark (`run`, allocated) and, for an aggregate, which one (`*agg`). Aggregates are
 * rows with run_type "aggregate", or, in files older than run_type, rows named "RUN_mean" (median, stddev,
 * cv) next to iteration rows of RUN. Without run_name, the benchmark is the name without "_AGGREGATE", so
 * "BM_x_mean" pairs with BM_x's iteration rows in another file instead of being a benchmark of its own.
 */
static char *gb_classify(const json_t *row, const struct strtab *iters, const char **agg)
{
	const char *rt = str(row, "run_type"), *run = str(row, "run_name"), *name = str(row, "name");
	const char *suffix = name ? gb_suffix(name) : NULL;

	*agg = NULL;
	if (!name && !run)
		return NULL;
	if (rt && !strcmp(rt, "aggregate")) {
		*agg = str(row, "aggregate_name");
		if (!*agg)
			*agg = suffix ? suffix : "";
	} else if (!rt && suffix && iters &&
		   strtab_find(iters, name, (size_t)(suffix - 1 - name)) >= 0) {
		*agg = suffix;
	}
	if (run)
		return xstrdup(run);
	if (*agg && suffix && !strcmp(suffix, *agg))
		return xstrndup(name, (size_t)(suffix - 1 - name));
	return xstrdup(name);
}

static int import_gbench(struct bench_set *s, const json_t *root, struct err *e)
{
	const json_t *rows = json_object_get(root, "benchmarks"), *row;
	struct strtab with_iter = STRTAB_INIT, plain = STRTAB_INIT;
	size_t i, k;
	int ret = 0;

	s->format = "gbench";
	/* Names of rows that are no aggregate on their face: "BM_x_mean" is BM_x's mean only beside BM_x. */
	json_array_foreach(rows, i, row) {
		const char *n = str(row, "name"), *rt = str(row, "run_type");

		if (n && (!rt || !strcmp(rt, "iteration")))
			strtab_intern(&plain, n, strlen(n));
	}
	/* Iteration rows are the raw samples; aggregates are used only for runs reported without them. */
	json_array_foreach(rows, i, row) {
		const char *agg;
		char *n = json_is_object(row) ? gb_classify(row, &plain, &agg) : NULL;

		if (n && !agg)
			strtab_intern(&with_iter, n, strlen(n));
		free(n);
	}
	json_array_foreach(rows, i, row) {
		const char *agg;
		char *name;
		double scale;

		if (!json_is_object(row)) {
			ret = err_set(e, "benchmarks[%zu] is not an object", i);
			break;
		}
		name = gb_classify(row, &plain, &agg);
		if (!name) {
			ret = err_set(e, "benchmarks[%zu] has no name", i);
			break;
		}
		scale = time_unit_scale(str(row, "time_unit"));
		if (json_is_true(json_object_get(row, "error_occurred")) ||
		    (agg && strtab_find(&with_iter, name, strlen(name)) >= 0)) {
			free(name);
			continue;
		}
		if (isnan(scale)) {
			free(name);
			ret = err_set(e, "benchmarks[%zu] has an unknown time_unit", i);
			break;
		}
		if (!agg) {
			for (k = 0; k < sizeof(gb_metrics) / sizeof(gb_metrics[0]); k++) {
				const struct gb_metric *m = &gb_metrics[k];
				double v = num(row, m->key);

				if (isfinite(v))
					bench_series_add(bench_set_get(s, name, m->metric, m->unit, m->higher),
							 v * (m->is_time ? scale : 1));
			}
			free(name);
			continue;
		}
		if ((str(row, "aggregate_unit") && strcmp(str(row, "aggregate_unit"), "time")) ||
		    (strcmp(agg, "mean") && strcmp(agg, "median") && strcmp(agg, "stddev"))) {
			free(name);
			continue; /* cv and other percentages, BigO, RMS */
		}
		for (k = 0; k < sizeof(gb_metrics) / sizeof(gb_metrics[0]); k++) {
			const struct gb_metric *m = &gb_metrics[k];
			double v = num(row, m->key) * (m->is_time ? scale : 1);
			struct bench_series *b;
			double reps = num(row, "repetitions");

			if (!isfinite(v))
				continue;
			b = bench_set_get(s, name, m->metric, m->unit, m->higher);
			if (!strcmp(agg, "mean"))
				b->mean = v;
			else if (!strcmp(agg, "median"))
				b->median = v;
			else
				b->stddev = v;
			if (reps >= 1 && reps < 1e9)
				b->count = (size_t)reps;
		}
		free(name);
	}
	strtab_release(&with_iter);
	strtab_release(&plain);
	return ret;
}

/*
 * pytest-benchmark keeps every round in `data` unless told to trim it; a trimmed or damaged array (fewer
 * values than `rounds`, or non-numbers) would be a small, skewed sample: the file's own statistics describe
 * all rounds.
 */
static bool pytest_trimmed(const json_t *stats, const json_t *data)
{
	double rounds = num(stats, "rounds");
	const json_t *v;
	size_t i;

	json_array_foreach(data, i, v)
		if (!json_is_number(v) || !isfinite(json_number_value(v)))
			return true;
	return isfinite(rounds) && rounds != (double)json_array_size(data) && isfinite(num(stats, "mean"));
}

static int import_pytest(struct bench_set *s, const json_t *root, struct err *e)
{
	const json_t *rows = json_object_get(root, "benchmarks"), *row;
	size_t i;

	s->format = "pytest-benchmark";
	json_array_foreach(rows, i, row) {
		const json_t *stats = json_object_get(row, "stats"), *data;
		const char *name = str(row, "fullname");
		char *uname;

		if (!name)
			name = str(row, "name");
		if (!name || !json_is_object(stats))
			return err_set(e, "benchmarks[%zu] has no name or stats", i);
		uname = unique_name(s, name);
		data = json_object_get(stats, "data");
		if (json_is_array(data) && json_array_size(data) && !pytest_trimmed(stats, data)) {
			add_array(s, uname, data, "time", "s", false, false, 1);
		} else {
			if (json_is_array(data) && json_array_size(data))
				bench_set_warn(s, "'%s': its data array (%zu values) does not hold its %.0f rounds: "
					       "compared by the file's own statistics", uname, json_array_size(data),
					       num(stats, "rounds"));
			struct bench_series *b = bench_set_get(s, uname, "time", "s", false);
			double rounds = num(stats, "rounds");

			b->mean = num(stats, "mean");
			b->stddev = num(stats, "stddev");
			b->median = num(stats, "median");
			b->min = num(stats, "min");
			b->max = num(stats, "max");
			b->count = rounds >= 1 && rounds < 1e12 ? (size_t)rounds : 0;
		}
		free(uname);
	}
	return 0;
}

static int import_criterion_estimates(struct bench_set *s, const json_t *root, const char *name)
{
	struct bench_series *b = bench_set_get(s, name, "time", "s", false);
	const json_t *mean = json_object_get(root, "mean");

	s->format = "criterion";
	b->mean = num(mean, "point_estimate") * 1e-9;
	b->sem = num(mean, "standard_error") * 1e-9;
	b->median = num(json_object_get(root, "median"), "point_estimate") * 1e-9;
	b->stddev = num(json_object_get(root, "std_dev"), "point_estimate") * 1e-9;
	b->count = 0;
	return 0;
}

static int import_criterion_sample(struct bench_set *s, const json_t *root, const char *name, struct err *e)
{
	const json_t *iters = json_object_get(root, "iters"), *times = json_object_get(root, "times");
	struct bench_series *b;
	size_t i;

	s->format = "criterion";
	if (json_array_size(iters) != json_array_size(times))
		return err_set(e, "'iters' and 'times' differ in length");
	b = bench_set_get(s, name, "time", "s", false);
	for (i = 0; i < json_array_size(times); i++) {
		double it = json_number_value(json_array_get(iters, i));
		double t = json_number_value(json_array_get(times, i));

		if (!json_is_number(json_array_get(iters, i)) || !json_is_number(json_array_get(times, i)) ||
		    !(it > 0) || !isfinite(t))
			continue;
		bench_series_add(b, t / it * 1e-9);
	}
	return 0;
}

static int import_json(struct bench_set *s, const json_t *root, const char *name_hint, struct err *e)
{
	const json_t *results = json_object_get(root, "results");
	const json_t *rows = json_object_get(root, "benchmarks");

	if (json_is_array(results) &&
	    (!json_array_size(results) || json_object_get(json_array_get(results, 0), "command")))
		return import_hyperfine(s, root, e);
	if (json_is_array(rows)) {
		const json_t *first = json_array_get(rows, 0);

		if (json_object_get(first, "stats") && !json_object_get(first, "real_time"))
			return import_pytest(s, root, e);
		if (!first || json_object_get(first, "real_time") || json_object_get(first, "run_type") ||
		    json_object_get(root, "context"))
			return import_gbench(s, root, e);
	}
	if (json_is_object(json_object_get(root, "mean")) && json_object_get(root, "std_dev"))
		return import_criterion_estimates(s, root, name_hint ? name_hint : "benchmark");
	if (json_is_array(json_object_get(root, "iters")) && json_is_array(json_object_get(root, "times")))
		return import_criterion_sample(s, root, name_hint ? name_hint : "benchmark", e);
	return err_set(e, "unrecognized benchmark JSON (expected kiln/hyperfine, Google Benchmark, "
			  "pytest-benchmark or Criterion.rs)");
}

int bench_import_buf(struct bench_set *s, const char *data, size_t len, const char *name_hint, struct err *e)
{
	struct buf fixed = BUF_INIT;
	json_error_t jerr;
	json_t *root;
	size_t i = 0;
	int ret;

	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
		i++;
	if (i == len)
		return err_set(e, "empty input");
	if (data[i] != '{') {
		if (memchr(data, '\0', len))
			return err_set(e, "not a benchmark result (binary data)");
		if (!bench_probe_go(data, len))
			return err_set(e, "not a benchmark result (no JSON object and no 'go test -bench' lines)");
		return bench_import_go(s, data, len, e);
	}
	if (json_replace_nonfinite(data, len, &fixed))
		root = json_loadb(fixed.buf, fixed.len, JSON_ALLOW_NUL, &jerr);
	else
		root = json_loadb(data, len, JSON_ALLOW_NUL, &jerr);
	buf_release(&fixed);
	if (!root)
		return err_set(e, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(e, "unrecognized benchmark JSON (not an object)");
	}
	ret = import_json(s, root, name_hint, e);
	json_decref(root);
	return ret;
}

/* Criterion keeps benchmark.json beside estimates.json and sample.json; its full_id names the benchmark. */
static char *criterion_name(const char *dir, const char *fallback)
{
	char *path = xasprintf("%s/benchmark.json", dir);
	json_t *root = json_load_file(path, 0, NULL);
	char *name = NULL;

	free(path);
	if (root) {
		const char *id = str(root, "full_id");

		if (!id)
			id = str(root, "title");
		if (id)
			name = xstrdup(id);
		json_decref(root);
	}
	return name ? name : xstrdup(fallback);
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* The name of a Criterion file's benchmark when benchmark.json is absent: the directory above new/ or base/. */
static char *criterion_fallback_name(const char *dir)
{
	char *d = xstrdup(dir), *slash, *name;

	slash = strrchr(d, '/');
	if (slash && (!strcmp(slash + 1, "new") || !strcmp(slash + 1, "base"))) {
		*slash = '\0';
		slash = strrchr(d, '/');
	}
	name = xstrdup(slash ? slash + 1 : d);
	free(d);
	return name;
}

static int import_file(struct bench_set *s, const char *path, const char *name_hint, struct err *e)
{
	struct buf b = BUF_INIT;
	char *dir = NULL, *fb = NULL, *name = NULL;
	int ret;

	if (buf_read_file(&b, path, e) < 0) {
		buf_release(&b);
		return -1;
	}
	if (!name_hint && strcmp(path, "-")) {
		dir = dir_of(path);
		fb = criterion_fallback_name(dir);
		name = criterion_name(dir, fb);
		name_hint = name;
	}
	ret = bench_import_buf(s, b.buf, b.len, name_hint, e);
	buf_release(&b);
	free(dir);
	free(fb);
	free(name);
	return ret;
}

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool criterion_dir_has_results(const char *dir)
{
	char *sample = xasprintf("%s/sample.json", dir), *est = xasprintf("%s/estimates.json", dir);
	bool r = is_file(sample) || is_file(est);

	free(sample);
	free(est);
	return r;
}

/* Imports every `new/` directory under `dir` (Criterion's latest run of each benchmark). */
static int walk_criterion(struct bench_set *s, const char *root, const char *dir, int depth, struct err *e)
{
	struct dirent **ents = NULL;
	const char *base = strrchr(dir, '/');
	int ret = 0, nents, i;

	base = base ? base + 1 : dir;
	if (depth > WALK_MAX_DEPTH)
		return 0;
	/* Criterion's latest run is in new/; a directory given itself (base/, a saved baseline) counts too. */
	if (!strcmp(base, "new") || (depth == 0 && criterion_dir_has_results(dir))) {
		char *sample = xasprintf("%s/sample.json", dir), *est = xasprintf("%s/estimates.json", dir);
		const char *file = is_file(sample) ? sample : is_file(est) ? est : NULL;

		if (file) {
			char *fb = xstrdup(dir + strlen(root)), *name, *slash;

			/* The path below the root, without the trailing /new. */
			slash = strrchr(fb, '/');
			if (slash)
				*slash = '\0';
			if (!fb[0]) {
				/* The root itself: name it by the directory above new/ or base/. */
				free(fb);
				fb = criterion_fallback_name(dir);
			}
			name = criterion_name(dir, fb[0] == '/' ? fb + 1 : fb);
			ret = import_file(s, file, name, e);
			if (ret < 0)
				err_wrap(e, "reading '%s'", file);
			free(name);
			free(fb);
		}
		free(sample);
		free(est);
		return ret;
	}
	/* Sorted, so the report lists benchmarks in the same order on every filesystem. */
	nents = scandir(dir, &ents, NULL, alphasort);
	if (nents < 0)
		return err_errno(e, "cannot open directory '%s'", dir);
	for (i = 0; i < nents; i++) {
		char *sub;
		struct stat st;

		if (ret == 0 && ents[i]->d_name[0] != '.') {
			sub = xasprintf("%s/%s", dir, ents[i]->d_name);
			if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
				ret = walk_criterion(s, root, sub, depth + 1, e);
			free(sub);
		}
		free(ents[i]);
	}
	free(ents);
	return ret;
}

int bench_import_path(struct bench_set *s, const char *path, struct err *e)
{
	struct stat st;

	if (strcmp(path, "-") && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		char *dir = xstrdup(path);
		size_t n = strlen(dir);

		while (n > 1 && dir[n - 1] == '/')
			dir[--n] = '\0';
		if (walk_criterion(s, dir, dir, 0, e) < 0) {
			free(dir);
			return -1;
		}
		free(dir);
		s->format = "criterion";
		bench_set_finish(s);
		if (!s->nr)
			return err_set(e, "no Criterion.rs results (new/sample.json) under '%s'", path);
		return 0;
	}
	if (import_file(s, path, NULL, e) < 0) {
		if (strncmp(e->msg, "cannot ", 7))
			err_wrap(e, "cannot read benchmark results from '%s'", path);
		return -1;
	}
	bench_set_finish(s);
	if (!s->nr)
		return err_set(e, "no benchmark results in '%s'", path);
	return 0;
}
