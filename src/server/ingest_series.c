/*
 * From a decoded profile to stored series (ingest.h): the label sets of pyroscope.md 2.3, the profile type IDs
 * of 2.4, the pprof path of 3.7 shared by /ingest and Push, validation, and the commit.
 */
#include "server/ingest.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/util.h"
#include "formats/json_input.h"
#include "profile/profile.h"
#include "server/server.h"
#include "server/store.h"

void ingest_batch_init(struct ingest_batch *b, const char *tenant)
{
	memset(b, 0, sizeof(*b));
	b->tenant = tenant;
}

void ingest_batch_release(struct ingest_batch *b)
{
	free(b->w);
	arena_release(&b->mem);
	memset(b, 0, sizeof(*b));
}

/* A label set being built: set() replaces an existing name. */
struct lset {
	struct label_pair v[96];
	size_t n;
	bool overflow;
};

static void lset_set(struct lset *l, const char *name, const char *value)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name)) {
			l->v[i].value = value;
			return;
		}
	if (l->n == sizeof(l->v) / sizeof(l->v[0])) {
		l->overflow = true;
		return;
	}
	l->v[l->n].name = name;
	l->v[l->n++].value = value;
}

static const char *lset_get(const struct lset *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return l->v[i].value;
	return NULL;
}

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct label_pair *)a)->name, ((const struct label_pair *)b)->name);
}

static bool utf8_all(const char *s, size_t len)
{
	for (size_t k = 0, c; k < len; k += c)
		if (!(c = utf8_valid((const unsigned char *)s + k, len - k)))
			return false;
	return true;
}

static int validate(const struct server *srv, const struct lset *l, struct err *e)
{
	const char *svc = lset_get(l, "service_name"), *name = lset_get(l, "__name__");

	if (l->overflow || l->n > srv->limits.max_labels)
		return err_set(e, "a series has more than %zu labels", srv->limits.max_labels);
	if (!svc || !*svc)
		return err_set(e, "service name is not provided");
	if (!name || !*name)
		return err_set(e, "the profile name (__name__) is not provided");
	for (size_t i = 0; i < l->n; i++) {
		const char *n = l->v[i].name, *v = l->v[i].value;
		size_t nl = strlen(n), vl = strlen(v);

		if (!nl || nl > 1024)
			return err_set(e, "label name '%.64s' is empty or longer than 1024 bytes", n);
		if (vl > 2048)
			return err_set(e, "the value of label '%.64s' is longer than 2048 bytes", n);
		if (!utf8_all(n, nl))
			return err_set(e, "label name is not valid UTF-8");
		if (!utf8_all(v, vl))
			return err_set(e, "the value of label '%.64s' is not valid UTF-8", n);
	}
	return 0;
}

static const char *dup(struct ingest_batch *b, const char *s)
{
	return arena_strndup(&b->mem, s, strlen(s));
}

/*
 * Adds one write of template `t` (its profile or pairs, column, label set and times): the labels of `base` plus
 * the server's (2.3) for the profile type made of `name` and the four type strings; sorted, validated and
 * copied into the batch.
 */
static int add_write_of(struct ingest_batch *b, const struct server *srv, const struct lset *base, const char *type,
			const char *unit, const char *ptype, const char *punit, const struct store_write *t,
			struct err *e)
{
	struct lset l = *base;
	struct buf id = BUF_INIT;
	struct label_pair *copy;
	struct store_write *w;

	buf_addf(&id, "%s:%s:%s:%s:%s", lset_get(&l, "__name__"), type, unit, ptype, punit);
	lset_set(&l, "__profile_type__", dup(b, id.buf));
	buf_release(&id);
	lset_set(&l, "__type__", type);
	lset_set(&l, "__unit__", unit);
	if (*ptype || *punit) {
		lset_set(&l, "__period_type__", ptype);
		lset_set(&l, "__period_unit__", punit);
	}
	if (lset_get(&l, "service_name"))
		lset_set(&l, "__service_name__", lset_get(&l, "service_name"));
	if (validate(srv, &l, e))
		return -1;
	qsort(l.v, l.n, sizeof(l.v[0]), label_cmp);
	copy = arena_alloc(&b->mem, l.n * sizeof(*copy) + 1);
	for (size_t i = 0; i < l.n; i++)
		copy[i] = (struct label_pair){ dup(b, l.v[i].name), dup(b, l.v[i].value) };
	ALLOC_GROW(b->w, b->n + 1, b->alloc);
	w = &b->w[b->n++];
	*w = *t;
	w->tenant = b->tenant;
	w->profile_type = lset_get(&l, "__profile_type__");
	w->labels = copy;
	w->nlabels = l.n;
	for (size_t i = 0; i < l.n; i++)
		if (!strcmp(copy[i].name, "__profile_type__"))
			w->profile_type = copy[i].value;
	return 0;
}

static int add_write(struct ingest_batch *b, const struct server *srv, const struct lset *base, const char *type,
		     const char *unit, const char *ptype, const char *punit, const struct profile *p, int column,
		     bool only, uint32_t labelset, int64_t from_ns, int64_t until_ns, struct err *e)
{
	return add_write_of(b, srv, base, type, unit, ptype, punit, &(struct store_write){ .prof = p,
			    .column = column, .only_labelset = only, .labelset = labelset, .from_ns = from_ns,
			    .until_ns = until_ns }, e);
}

/* ---- the pprof path (3.7) ----------------------------------------------------------------------------------- */

/* The display name of a sample type: from sample_type_config, else the built-in table (3.6). */
static const char *display_name(json_t *stc, const char *type)
{
	json_t *c = stc ? json_object_get(stc, type) : NULL;
	json_t *dn = c ? json_object_get(c, "display-name") : NULL;

	if (dn && json_is_string(dn))
		return json_string_value(dn);
	if (stc)
		return type;
	if (!strcmp(type, "samples"))
		return "cpu";
	if (!strcmp(type, "goroutine"))
		return "goroutines";
	if (!strcmp(type, "contentions"))
		return "mutex_count";
	if (!strcmp(type, "delay"))
		return "mutex_duration";
	return type;
}

static const char *pick_name(const struct profile *p, json_t *stc)
{
	for (size_t c = 0; c < p->ncolumns; c++)
		if (!strcmp(profile_str(p, p->columns[c].type), "wall"))
			return "wall";
	for (size_t c = 0; c < p->ncolumns; c++) {
		const char *d = display_name(stc, profile_str(p, p->columns[c].type));

		if (strstr(d, "cpu"))
			return "process_cpu";
		if (strstr(d, "alloc_") || strstr(d, "inuse_") || !strcmp(d, "space") || !strcmp(d, "objects"))
			return "memory";
		if (strstr(d, "mutex_"))
			return "mutex";
		if (strstr(d, "block_"))
			return "block";
		if (strstr(d, "goroutines"))
			return "goroutines";
	}
	return p->ncolumns ? profile_str(p, p->columns[p->ncolumns - 1].type) : "unknown";
}

/* Adds the string sample labels of set `id` (trace and span ids stay per sample, so they are dropped). */
static void add_sample_labels(struct ingest_batch *b, const struct profile *p, uint32_t id, struct lset *l)
{
	size_t n;
	const struct label *v = profile_labelset_get(p, id, &n);

	for (size_t i = 0; i < n; i++) {
		const char *k = profile_str(p, v[i].key);

		if (!v[i].str || !strcmp(k, "trace_id") || !strcmp(k, "span_id") || !strcmp(k, "profile_id") ||
		    !strncmp(k, "__", 2))
			continue;
		lset_set(l, k, profile_str(p, v[i].str));
	}
}

int ingest_add_pprof(struct ingest_batch *b, const struct server *srv, const struct label_pair *labels, size_t n,
		     const struct profile *p, const char *stc_json, int64_t from_ns, int64_t until_ns,
		     struct err *e)
{
	struct lset base = { .n = 0 };
	json_t *stc = NULL;
	const char *name;
	uint32_t *sets = NULL;
	size_t nsets = 0, alloc = 0;
	int64_t t = p->time_nanos >= 31536000LL * 1000000000LL ? p->time_nanos : from_ns;
	int64_t until = p->time_nanos >= 31536000LL * 1000000000LL && p->duration_nanos > 0 ?
				t + p->duration_nanos : until_ns;
	int ret = -1;

	if (until < t) /* the URL's until is in whole seconds, the pprof's time is not */
		until = t;
	if (stc_json && *stc_json && !(stc = json_input_parse(stc_json, strlen(stc_json), e))) {
		err_wrap(e, "sample_type_config");
		return -1;
	}
	if (p->rows_nr > srv->limits.max_samples) {
		err_set(e, "the profile has %zu samples, more than the limit of %zu", p->rows_nr, srv->limits.max_samples);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		lset_set(&base, labels[i].name, labels[i].value);
	name = lset_get(&base, "__name__");
	if (!name || !*name)
		name = pick_name(p, stc);
	if (!strncmp(name, "godeltaprof_", 12))
		name += 12;
	lset_set(&base, "__name__", dup(b, name));
	if (!lset_get(&base, "__delta__"))
		lset_set(&base, "__delta__", "false");
	/* The distinct sample label sets: one series each (2.3). */
	for (size_t r = 0; r < p->rows_nr; r++) {
		size_t k;

		for (k = 0; k < nsets && sets[k] != p->rows[r].labelset; k++)
			;
		if (k == nsets) {
			ALLOC_GROW(sets, nsets + 1, alloc);
			sets[nsets++] = p->rows[r].labelset;
		}
	}
	for (size_t c = 0; c < p->ncolumns; c++) {
		const char *type = profile_str(p, p->columns[c].type), *unit = profile_str(p, p->columns[c].unit);
		const char *pt = profile_str(p, p->period_type.type), *pu = profile_str(p, p->period_type.unit);

		for (size_t k = 0; k < nsets; k++) {
			struct lset l = base;

			add_sample_labels(b, p, sets[k], &l);
			if (add_write(b, srv, &l, type, unit, pt, pu, p, (int)c, nsets > 1, sets[k], t, until, e))
				goto out;
		}
	}
	b->samples += p->rows_nr;
	ret = 0;
out:
	free(sets);
	json_decref(stc);
	return ret;
}

/* ---- the text path (3.4) ------------------------------------------------------------------------------------ */

struct text_type {
	const char *suffix, *name, *type, *unit;
};

static const struct text_type text_types[] = {
	{ "cpu", "process_cpu", "samples", "count" },
	{ "itimer", "process_cpu", "samples", "count" },
	{ "wall", "wall", "samples", "count" },
	{ "seconds", "wall", "samples", "count" },
	{ "milliseconds", "wall", "samples", "count" },
	{ "microseconds", "wall", "samples", "count" },
	{ "nanoseconds", "wall", "samples", "count" },
	{ "inuse_objects", "memory", NULL, "count" },
	{ "alloc_objects", "memory", NULL, "count" },
	{ "alloc_in_new_tlab_objects", "memory", NULL, "count" },
	{ "alloc_outside_tlab_objects", "memory", NULL, "count" },
	{ "inuse_space", "memory", NULL, "bytes" },
	{ "alloc_space", "memory", NULL, "bytes" },
	{ "alloc_in_new_tlab_bytes", "memory", NULL, "bytes" },
	{ "alloc_outside_tlab_bytes", "memory", NULL, "bytes" },
	{ "live", "memory", "live", "count" },
	{ "bytes", "memory", "samples", "bytes" },
	{ "goroutines", "goroutine", "goroutines", "count" },
	{ "mutex_count", "mutex", "contentions", "count" },
	{ "mutex_duration", "mutex", "delay", "nanoseconds" },
	{ "block_count", "block", "contentions", "count" },
	{ "block_duration", "block", "delay", "nanoseconds" },
	{ "lock_count", "block", "contentions", "count" },
	{ "lock_duration", "block", "delay", "nanoseconds" },
	{ "exceptions", "exceptions", "samples", "count" },
	{ NULL, NULL, NULL, NULL },
};

int ingest_add_text(struct ingest_batch *b, const struct server *srv, const char *service,
		    const struct label_pair *tags, size_t ntags, const char *spy, long long sample_rate,
		    struct profile *p, struct store_pair *pairs, size_t npairs, int64_t from_ns, int64_t until_ns,
		    struct err *e)
{
	const char *dot = strrchr(service, '.'), *suffix = dot ? dot + 1 : "cpu";
	const struct text_type *tt;
	struct lset l = { .n = 0 };
	const char *app = dot ? arena_strndup(&b->mem, service, (size_t)(dot - service)) : service;
	const char *type, *unit, *ptype = "", *punit = "";
	size_t prows = p ? p->rows_nr : 0, rows = prows + npairs;
	int col = p ? profile_default_column(p) : 0;

	for (tt = text_types; tt->suffix && strcmp(tt->suffix, suffix); tt++)
		;
	if (!tt->suffix)
		return err_set(e, "unknown profile type: '%s'", suffix);
	if (rows > srv->limits.max_samples)
		return err_set(e, "the profile has %zu samples, more than the limit of %zu", rows,
			       srv->limits.max_samples);
	type = tt->type ? tt->type : tt->suffix;
	unit = tt->unit;
	if ((!strcmp(tt->name, "process_cpu") || !strcmp(tt->name, "wall")) && sample_rate > 0) {
		int64_t period = 1000000000LL / sample_rate;

		/* Counts of samples become nanoseconds at the sampling period (3.4). */
		for (size_t r = 0; col >= 0 && r < rows; r++) {
			int64_t *v = r < prows ? &p->values[r * p->ncolumns + (size_t)col] : &pairs[r - prows].value;
			int64_t scaled;

			*v = __builtin_mul_overflow(*v, period, &scaled) ? (*v < 0 ? INT64_MIN : INT64_MAX) : scaled;
		}
		type = !strcmp(tt->name, "wall") ? "wall" : "cpu";
		unit = "nanoseconds";
		ptype = "cpu";
		punit = "nanoseconds";
	}
	for (size_t i = 0; i < ntags; i++)
		if (strncmp(tags[i].name, "__", 2))
			lset_set(&l, tags[i].name, tags[i].value);
	lset_set(&l, "__name__", tt->name);
	lset_set(&l, "__delta__", "false");
	lset_set(&l, "pyroscope_spy", spy);
	lset_set(&l, lset_get(&l, "service_name") ? "app_name" : "service_name", app);
	b->samples += rows;
	return add_write_of(b, srv, &l, type, unit, ptype, punit, &(struct store_write){ .prof = p, .column = col,
			    .pairs = pairs, .npairs = npairs, .from_ns = from_ns, .until_ns = until_ns }, e);
}

/* The wall clock in nanoseconds since the epoch. */
static uint64_t now_ns_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int ingest_commit(struct server *srv, struct ingest_batch *b, size_t request_bytes, uint64_t started_ns,
		  struct err *e)
{
	int64_t oldest = (int64_t)(now_ns_real() - (uint64_t)srv->retention_ns);
	int rc;

	for (size_t i = 0; srv->retention_ns && i < b->n; i++)
		if (b->w[i].from_ns < oldest)
			return err_set(e, "the profile's time is older than the retention period"), 400;
	rc = store_ingest(srv->store, b->w, b->n, e);
	if (rc == STORE_ELIMIT)
		return 429;
	if (rc)
		return 500;
	metrics_ack(srv, now_ns() - started_ns, request_bytes, b->n);
	return 0;
}
