/* The directory store of benchmark runs (history.h): one JSON file per run, created exclusively, never rewritten. */
#include "bench/history.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/xalloc.h"

/* A run file larger than this is not one of ours: refuse it rather than read it whole. */
#define HIST_MAX_FILE (256u << 20)

static void jw_kv_num(struct jw *j, const char *key, double v)
{
	if (isfinite(v))
		jw_kv_double(j, key, v);
}

void hist_format_run(struct buf *out, const struct hist_meta *m, const struct bench_set *set, const char *profile)
{
	char date[32];
	time_t t = (time_t)m->time;
	struct tm tm;
	struct jw j;
	size_t i, k;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	jw_init(&j, out, true);
	jw_object_begin(&j);
	jw_kv_str(&j, "schema", HIST_SCHEMA);
	jw_kv_str(&j, "commit", m->commit);
	jw_kv_str(&j, "branch", m->branch);
	jw_kv_str(&j, "machine", m->machine);
	jw_kv_i64(&j, "time", m->time);
	jw_kv_str(&j, "date", date);
	jw_kv_str(&j, "source_format", set->format ? set->format : "kiln");
	if (profile)
		jw_kv_str(&j, "profile", profile);
	jw_key(&j, "labels");
	jw_object_begin(&j);
	for (i = 0; i < m->nlabels; i++)
		jw_kv_str(&j, m->label_keys[i], m->label_values[i]);
	jw_object_end(&j);
	jw_key(&j, "benchmarks");
	jw_array_begin(&j);
	for (i = 0; i < set->nr; i++) {
		const struct bench_series *b = &set->v[i];

		jw_object_begin(&j);
		jw_kv_str(&j, "name", b->name);
		jw_kv_str(&j, "metric", b->metric);
		jw_kv_str(&j, "unit", b->unit);
		jw_kv_bool(&j, "higher_is_better", b->higher_is_better);
		if (b->secondary)
			jw_kv_bool(&j, "secondary", true);
		if (b->n) {
			jw_key(&j, "samples");
			jw_array_begin(&j);
			for (k = 0; k < b->n; k++)
				jw_double(&j, b->samples[k]);
			jw_array_end(&j);
		} else {
			/* A summary-only input (Criterion estimates, gbench aggregates): keep what it said. */
			jw_kv_u64(&j, "count", b->count);
			jw_kv_num(&j, "mean", b->mean);
			jw_kv_num(&j, "stddev", b->stddev);
			jw_kv_num(&j, "median", b->median);
			jw_kv_num(&j, "min", b->min);
			jw_kv_num(&j, "max", b->max);
			jw_kv_num(&j, "sem", b->sem);
		}
		jw_object_end(&j);
	}
	jw_array_end(&j);
	jw_object_end(&j);
	buf_addch(out, '\n');
}

static int ensure_dir(const char *path, struct err *e)
{
	if (mkdir(path, 0777) && errno != EEXIST)
		return err_errno(e, "cannot create directory '%s'", path);
	return 0;
}

/* Stem characters are kept to [A-Za-z0-9._-] so a stem is a safe file name on every checkout. */
static void add_safe(struct buf *b, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] && i < max; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
			  c == '_' || c == '-';

		buf_addch(b, ok ? c : '_');
	}
}

static int write_new(const char *path, const char *data, size_t len, struct err *e)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666), r = -1;
	size_t off = 0;

	if (fd < 0) {
		err_errno(e, "cannot create '%s'", tmp);
		free(tmp);
		return -1;
	}
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err_errno(e, "cannot write '%s'", tmp);
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd)) {
		err_errno(e, "cannot write '%s'", tmp);
		goto out;
	}
	/* link() fails when the name exists: the store is append-only, a run is never replaced. */
	if (link(tmp, path)) {
		if (errno == EEXIST)
			r = 1;
		else
			err_errno(e, "cannot create '%s'", path);
		goto out;
	}
	r = 0;
out:
	close(fd);
	unlink(tmp);
	free(tmp);
	return r;
}

static int read_file(const char *path, struct buf *b, struct err *e)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (!f)
		return err_errno(e, "cannot open '%s'", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		buf_add(b, chunk, n);
		if (b->len > HIST_MAX_FILE) {
			fclose(f);
			return err_set(e, "'%s' is larger than %u MiB", path, HIST_MAX_FILE >> 20);
		}
	}
	if (ferror(f)) {
		fclose(f);
		return err_errno(e, "cannot read '%s'", path);
	}
	fclose(f);
	return 0;
}

/* The extension a reader recognizes: ".pb.gz" and ".folded.gz" are kept whole. */
static const char *profile_ext(const char *path)
{
	const char *base = strrchr(path, '/'), *dot;

	base = base ? base + 1 : path;
	dot = strchr(base, '.');
	return dot ? dot : "";
}

int hist_append(const char *dir, const struct hist_meta *m, const struct bench_set *set, const char *profile_path,
		char *stem, size_t stemsz, struct err *e)
{
	struct buf name = BUF_INIT, doc = BUF_INIT, prof = BUF_INIT;
	char *runs = xasprintf("%s/runs", dir), *profs = xasprintf("%s/profiles", dir), *path = NULL, *ppath = NULL;
	char *prel = NULL;
	char date[32];
	time_t t = (time_t)m->time;
	struct tm tm;
	int r = -1, attempt;

	if (ensure_dir(dir, e) || ensure_dir(runs, e))
		goto out;
	if (profile_path && (ensure_dir(profs, e) || read_file(profile_path, &prof, e)))
		goto out;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm);
	/* The time first, so a listing of runs/ reads oldest first; a counter breaks ties between jobs. */
	for (attempt = 0; attempt < 1000; attempt++) {
		int w;

		buf_reset(&name);
		buf_addf(&name, "%s-", date);
		add_safe(&name, m->commit, 12);
		buf_addch(&name, '-');
		add_safe(&name, m->machine, 40);
		if (attempt)
			buf_addf(&name, "-%d", attempt);
		free(path);
		free(ppath);
		free(prel);
		path = xasprintf("%s/%s.json", runs, name.buf);
		prel = profile_path ? xasprintf("profiles/%s%s", name.buf, profile_ext(profile_path)) : NULL;
		ppath = prel ? xasprintf("%s/%s", dir, prel) : NULL;
		/* The profile goes in first: a run file never names a profile that is not there. */
		if (ppath) {
			w = write_new(ppath, prof.buf, prof.len, e);
			if (w < 0)
				goto out;
			if (w > 0)
				continue;
		}
		buf_reset(&doc);
		hist_format_run(&doc, m, set, prel);
		w = write_new(path, doc.buf, doc.len, e);
		if (w < 0) {
			if (ppath)
				unlink(ppath);
			goto out;
		}
		if (w == 0)
			break;
		if (ppath)
			unlink(ppath);
	}
	if (attempt == 1000) {
		err_set(e, "cannot find a free run name in '%s'", runs);
		goto out;
	}
	if (stem)
		snprintf(stem, stemsz, "%s", name.buf);
	r = 0;
out:
	buf_release(&name);
	buf_release(&doc);
	buf_release(&prof);
	free(runs);
	free(profs);
	free(path);
	free(ppath);
	free(prel);
	return r;
}

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static double jnum(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static int parse_series(struct bench_set *s, const json_t *b, const char *name, struct err *e)
{
	const char *bn = jstr(b, "name"), *metric = jstr(b, "metric"), *unit = jstr(b, "unit");
	const json_t *samples = json_object_get(b, "samples"), *v;
	struct bench_series *sr;
	size_t i;

	if (!bn || !metric || !unit)
		return err_set(e, "'%s': a benchmark lacks its name, metric or unit", name);
	sr = bench_set_get(s, bn, metric, unit, json_is_true(json_object_get(b, "higher_is_better")));
	sr->secondary = json_is_true(json_object_get(b, "secondary"));
	if (json_is_array(samples)) {
		json_array_foreach(samples, i, v) {
			if (!json_is_number(v))
				return err_set(e, "'%s': benchmark '%s': a sample is not a number", name, bn);
			bench_series_add(sr, json_number_value(v));
		}
		return 0;
	}
	sr->count = json_is_integer(json_object_get(b, "count")) ? (size_t)json_integer_value(json_object_get(b, "count")) : 0;
	sr->mean = jnum(b, "mean");
	sr->stddev = jnum(b, "stddev");
	sr->median = jnum(b, "median");
	sr->min = jnum(b, "min");
	sr->max = jnum(b, "max");
	sr->sem = jnum(b, "sem");
	return 0;
}

/* Formats are static strings in a bench_set: map the stored name back onto one. */
static const char *static_format(const char *f)
{
	static const char *const known[] = { "kiln", "hyperfine", "gbench", "pytest-benchmark", "go", "criterion" };
	size_t i;

	for (i = 0; f && i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(f, known[i]))
			return known[i];
	return "kiln";
}

int hist_parse_run(struct hist_run *r, const char *data, size_t len, const char *name, struct err *e)
{
	json_error_t je;
	json_t *root = json_loadb(data, len, 0, &je), *b;
	const char *schema, *commit, *branch, *machine, *profile;
	const json_t *benchmarks, *t;
	size_t i;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	r->set = (struct bench_set)BENCH_SET_INIT;
	if (!root)
		return err_set(e, "'%s': not JSON: %s (line %d)", name, je.text, je.line);
	schema = jstr(root, "schema");
	if (!schema || strcmp(schema, HIST_SCHEMA)) {
		err_set(e, "'%s': not a kiln benchmark run (schema '%s', expected '%s')", name, schema ? schema : "",
			HIST_SCHEMA);
		goto out;
	}
	commit = jstr(root, "commit");
	branch = jstr(root, "branch");
	machine = jstr(root, "machine");
	t = json_object_get(root, "time");
	benchmarks = json_object_get(root, "benchmarks");
	if (!commit || !branch || !machine || !json_is_integer(t) || !json_is_array(benchmarks)) {
		err_set(e, "'%s': a run needs commit, branch, machine, time and benchmarks", name);
		goto out;
	}
	profile = jstr(root, "profile");
	/* A stored profile path stays inside the store. */
	if (profile && (profile[0] == '/' || strstr(profile, ".."))) {
		err_set(e, "'%s': profile path '%s' leaves the store", name, profile);
		goto out;
	}
	r->commit = xstrdup(commit);
	r->branch = xstrdup(branch);
	r->machine = xstrdup(machine);
	r->time = json_integer_value(t);
	r->profile = profile ? xstrdup(profile) : NULL;
	r->source_format = xstrdup(static_format(jstr(root, "source_format")));
	r->set.format = static_format(r->source_format);
	json_array_foreach(benchmarks, i, b) {
		if (!json_is_object(b)) {
			err_set(e, "'%s': a benchmark is not an object", name);
			goto out;
		}
		if (parse_series(&r->set, b, name, e))
			goto out;
	}
	bench_set_finish(&r->set);
	ret = 0;
out:
	json_decref(root);
	if (ret)
		hist_run_release(r);
	return ret;
}

void hist_run_release(struct hist_run *r)
{
	free(r->stem);
	free(r->commit);
	free(r->branch);
	free(r->machine);
	free(r->profile);
	free(r->source_format);
	bench_set_release(&r->set);
	memset(r, 0, sizeof(*r));
}

void hist_release(struct hist *h)
{
	size_t i;

	for (i = 0; i < h->nr; i++)
		hist_run_release(&h->v[i]);
	free(h->v);
	if (h->temp_dir && h->dir)
		hist_remove_temp(h->dir);
	free(h->dir);
	memset(h, 0, sizeof(*h));
}

static int run_cmp(const void *a, const void *b)
{
	const struct hist_run *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return strcmp(x->stem, y->stem);
}

int hist_load(struct hist *h, const char *dir, struct err *e)
{
	char *runs = xasprintf("%s/runs", dir);
	struct buf data = BUF_INIT;
	struct dirent *de;
	DIR *d = opendir(runs);
	int r = -1;

	h->dir = xstrdup(dir);
	if (!d) {
		err_errno(e, "cannot open benchmark history '%s'", runs);
		goto out;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char *path;
		struct hist_run run;
		int pr;

		if (len <= 5 || strcmp(de->d_name + len - 5, ".json") || de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", runs, de->d_name);
		buf_reset(&data);
		pr = read_file(path, &data, e) ? -1 : hist_parse_run(&run, data.buf, data.len, path, e);
		free(path);
		if (pr)
			goto out;
		run.stem = xstrndup(de->d_name, len - 5);
		ALLOC_GROW(h->v, h->nr + 1, h->alloc);
		h->v[h->nr++] = run;
	}
	qsort(h->v, h->nr, sizeof(*h->v), run_cmp);
	r = 0;
out:
	if (d)
		closedir(d);
	free(runs);
	buf_release(&data);
	return r;
}

char *hist_profile_path(const struct hist *h, const struct hist_run *r)
{
	return r->profile ? xasprintf("%s/%s", h->dir, r->profile) : NULL;
}
