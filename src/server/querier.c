/*
 * querier.v1.QuerierService, the label and series methods (shared/protocols/pyroscope.md 6.2, 6.4):
 * ProfileTypes, LabelNames, LabelValues, Series, SelectSeries; and the selection every query method shares
 * (6.5). Matchers lists are OR-ed: each selector is asked in turn and the answers are united.
 */
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/xalloc.h"
#include "profile/profile.h"
#include "querier_v1.pb-c.h"
#include "server/connect.h"
#include "server/flamebearer.h"
#include "server/querier.h"
#include "server/server.h"

#define MAX_MS (INT64_MAX / 1000000)

int selection_init(struct selection *s, const char *tenant, const char *ptype, const char *selector,
		   int64_t start_ms, int64_t end_ms, bool any_range, struct http_response *res)
{
	struct err e = ERR_INIT;

	memset(s, 0, sizeof(*s));
	if (ptype) {
		if (profile_type_parse(ptype, &s->pt, &s->pt_mem, &e))
			return http_error(res, 400, "%s", e.msg), -1;
		s->ptype = xasprintf("%s:%s:%s:%s:%s", s->pt.name, s->pt.sample_type, s->pt.sample_unit,
				     s->pt.period_type, s->pt.period_unit);
	}
	if (selector_parse(selector && *selector ? selector : "{}", &s->sel, &e))
		return http_error(res, 400, "invalid label selector: %s", e.msg), -1;
	if (any_range && !start_ms && !end_ms)
		start_ms = 1, end_ms = MAX_MS; /* all time */
	if (!start_ms || !end_ms)
		return http_error(res, 400, "missing time range in the query"), -1;
	if (start_ms < 0 || end_ms < 0 || start_ms > MAX_MS || end_ms > MAX_MS)
		return http_error(res, 400, "the query time range is out of range"), -1;
	if (start_ms > end_ms)
		return http_error(res, 400, "query start time is after end time"), -1;
	s->q = (struct store_query){ .tenant = tenant, .profile_type = s->ptype, .sel = &s->sel,
				     .from_ns = start_ms * 1000000, .until_ns = end_ms * 1000000 };
	return 0;
}

void selection_release(struct selection *s)
{
	free(s->pt_mem);
	free(s->ptype);
	selector_free(&s->sel);
	memset(s, 0, sizeof(*s));
}

int64_t max_nodes_of(int64_t v, struct http_response *res)
{
	if (v < 0 || v > FLAMEBEARER_MAX_NODES)
		return http_error(res, 400, "maxNodes must be between 0 and %d, got %lld", FLAMEBEARER_MAX_NODES,
				  (long long)v), -1;
	return v ? v : FLAMEBEARER_DEFAULT_NODES;
}

struct profile *selection_merge(struct store *st, const struct selection *s, struct http_response *res)
{
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;

	if (store_select_merge_graph(st, &s->q, s->max_nodes, p, &e)) {
		profile_free(p);
		http_error(res, 500, "%s", e.msg);
		return NULL;
	}
	return p;
}

/* ---- sorted unique strings, for names and label sets ---- */

struct strset {
	struct strtab t;
};

static int strset_add(void *arg, const char *s)
{
	strtab_intern(&((struct strset *)arg)->t, s, strlen(s));
	return 0;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The strings, sorted; pointers into the set (free() the array only). */
static char **strset_sorted(const struct strset *s)
{
	char **v = xcalloc(s->t.nr + 1, sizeof(*v));

	for (size_t i = 0; i < s->t.nr; i++)
		v[i] = (char *)strtab_str(&s->t, (uint32_t)i);
	qsort(v, s->t.nr, sizeof(*v), cmp_strp);
	return v;
}

/* One store call for one selection of a matchers list. */
typedef int (*matcher_fn)(struct store *st, const struct selection *s, void *arg, struct err *e);

struct values_arg {
	struct strset *set;
	const char *name;
};

static int names_of(struct store *st, const struct selection *s, void *arg, struct err *e)
{
	return store_label_names(st, &s->q, strset_add, arg, e);
}

static int values_of(struct store *st, const struct selection *s, void *arg, struct err *e)
{
	struct values_arg *v = arg;

	return store_label_values(st, &s->q, v->name, strset_add, v->set, e);
}

/* Calls `fn` once per matcher (or once for `{}`), so that the answers unite; 0, or -1 with `res` set. */
static int each_matcher(struct server *srv, struct http_request *req, char **matchers, size_t n, int64_t start,
			int64_t end, matcher_fn fn, void *arg, struct http_response *res)
{
	static char *everything[] = { "{}" };
	struct err e = ERR_INIT;

	if (!n)
		matchers = everything, n = 1;
	for (size_t i = 0; i < n; i++) {
		struct selection s;
		int rc = selection_init(&s, req->tenant, NULL, matchers[i], start, end, true, res);
		if (!rc && (rc = fn(srv->store, &s, arg, &e)))
			http_error(res, 500, "%s", e.msg);
		selection_release(&s);
		if (rc)
			return -1;
	}
	return 0;
}

static void answer_names(struct http_response *res, enum connect_codec codec, const struct strset *set)
{
	Types__V1__LabelNamesResponse r = TYPES__V1__LABEL_NAMES_RESPONSE__INIT;

	r.names = strset_sorted(set);
	r.n_names = set->t.nr;
	connect_encode(res, codec, &r.base);
	free(r.names);
}

void querier_label_names(struct server *srv, struct http_request *req, struct http_response *res)
{
	enum connect_codec codec;
	Types__V1__LabelNamesRequest *r = (void *)connect_read(srv, req, &types__v1__label_names_request__descriptor,
							       &codec, res);
	struct strset set = { STRTAB_INIT };

	if (!r)
		return;
	if (!each_matcher(srv, req, r->matchers, r->n_matchers, r->start, r->end, names_of, &set, res))
		answer_names(res, codec, &set);
	strtab_release(&set.t);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

void querier_label_values(struct server *srv, struct http_request *req, struct http_response *res)
{
	enum connect_codec codec;
	Types__V1__LabelValuesRequest *r = (void *)connect_read(
		srv, req, &types__v1__label_values_request__descriptor, &codec, res);
	struct strset set = { STRTAB_INIT };
	struct values_arg va = { &set, NULL };

	if (!r)
		return;
	va.name = r->name;
	if (!*r->name)
		http_error(res, 400, "the label name is required");
	else if (!each_matcher(srv, req, r->matchers, r->n_matchers, r->start, r->end, values_of, &va, res))
		answer_names(res, codec, &set);
	strtab_release(&set.t);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

void querier_profile_types(struct server *srv, struct http_request *req, struct http_response *res)
{
	enum connect_codec codec;
	Querier__V1__ProfileTypesRequest *r = (void *)connect_read(
		srv, req, &querier__v1__profile_types_request__descriptor, &codec, res);
	Querier__V1__ProfileTypesResponse out = QUERIER__V1__PROFILE_TYPES_RESPONSE__INIT;
	struct strset set = { STRTAB_INIT };
	struct selection s;
	struct err e = ERR_INIT;
	char **ids = NULL, **mem = NULL;

	if (!r)
		return;
	if (selection_init(&s, req->tenant, NULL, NULL, r->start, r->end, true, res))
		goto out;
	if (store_profile_types(srv->store, &s.q, strset_add, &set, &e)) {
		http_error(res, 500, "%s", e.msg);
		goto out;
	}
	ids = strset_sorted(&set);
	mem = xcalloc(set.t.nr + 1, sizeof(*mem));
	out.profile_types = xcalloc(set.t.nr + 1, sizeof(*out.profile_types));
	for (size_t i = 0; i < set.t.nr; i++) {
		Types__V1__ProfileType *t = xmalloc(sizeof(*t));
		struct profile_type pt;
		types__v1__profile_type__init(t);
		if (profile_type_parse(ids[i], &pt, &mem[i], &e)) {
			free(t);
			continue; /* a stored type is well-formed; skip rather than fail the listing */
		}
		t->id = ids[i];
		t->name = (char *)pt.name;
		t->sample_type = (char *)pt.sample_type;
		t->sample_unit = (char *)pt.sample_unit;
		t->period_type = (char *)pt.period_type;
		t->period_unit = (char *)pt.period_unit;
		out.profile_types[out.n_profile_types++] = t;
	}
	connect_encode(res, codec, &out.base);
out:
	for (size_t i = 0; i < out.n_profile_types; i++)
		free(out.profile_types[i]);
	for (size_t i = 0; mem && i < set.t.nr; i++)
		free(mem[i]);
	free(out.profile_types);
	free(mem);
	free(ids);
	strtab_release(&set.t);
	selection_release(&s);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- Series ---- */

struct series_acc {
	char **names; /* labelNames: keep only these (none: all) */
	size_t nnames;
	struct strset keys; /* each set once, as "name\x1fvalue\x1e..." */
};

static bool wanted(const struct series_acc *a, const char *name)
{
	if (!a->nnames)
		return true;
	for (size_t i = 0; i < a->nnames; i++)
		if (!strcmp(a->names[i], name))
			return true;
	return false;
}

static int series_add(void *arg, const char *profile_type, const struct label_pair *l, size_t n)
{
	struct series_acc *a = arg;
	struct buf key = BUF_INIT;

	for (size_t i = 0; i < n; i++)
		if (wanted(a, l[i].name))
			buf_addf(&key, "%s\x1f%s\x1e", l[i].name, l[i].value);
	strset_add(&a->keys, key.buf);
	buf_release(&key);
	return 0;
}

static int series_of(struct store *st, const struct selection *s, void *arg, struct err *e)
{
	return store_series(st, &s->q, series_add, arg, e);
}

void querier_series(struct server *srv, struct http_request *req, struct http_response *res)
{
	enum connect_codec codec;
	Querier__V1__SeriesRequest *r = (void *)connect_read(srv, req, &querier__v1__series_request__descriptor,
							     &codec, res);
	Querier__V1__SeriesResponse out = QUERIER__V1__SERIES_RESPONSE__INIT;
	struct series_acc acc = { .keys = { STRTAB_INIT } };
	Types__V1__LabelPair *pairs = NULL, **pairp = NULL;
	Types__V1__Labels *sets = NULL;
	size_t npairs = 0, alloc = 0, *first = NULL;
	char **keys = NULL, *text = NULL;

	if (!r)
		return;
	acc.names = r->label_names;
	acc.nnames = r->n_label_names;
	if (each_matcher(srv, req, r->matchers, r->n_matchers, r->start, r->end, series_of, &acc, res))
		goto out;
	keys = strset_sorted(&acc.keys);
	first = xcalloc(acc.keys.t.nr + 1, sizeof(*first));
	/* the pairs of every set into one array (split from a copy of the keys), then pointers into it */
	struct buf all = BUF_INIT;
	for (size_t i = 0; i < acc.keys.t.nr; i++)
		buf_add(&all, keys[i], strlen(keys[i]) + 1);
	text = buf_detach(&all, NULL);
	for (size_t i = 0, off = 0; i < acc.keys.t.nr; i++) {
		char *k = text + off;
		off += strlen(k) + 1;
		first[i] = npairs;
		while (*k) {
			char *sep = strchr(k, '\x1f'), *end = strchr(sep, '\x1e');
			*sep = *end = 0;
			ALLOC_GROW(pairs, npairs + 1, alloc);
			types__v1__label_pair__init(&pairs[npairs]);
			pairs[npairs].name = k;
			pairs[npairs++].value = sep + 1;
			k = end + 1;
		}
	}
	first[acc.keys.t.nr] = npairs;
	pairp = xcalloc(npairs + 1, sizeof(*pairp));
	for (size_t i = 0; i < npairs; i++)
		pairp[i] = &pairs[i];
	sets = xcalloc(acc.keys.t.nr + 1, sizeof(*sets));
	out.labels_set = xcalloc(acc.keys.t.nr + 1, sizeof(*out.labels_set));
	for (size_t i = 0; i < acc.keys.t.nr; i++) {
		types__v1__labels__init(&sets[i]);
		sets[i].labels = pairp + first[i];
		sets[i].n_labels = first[i + 1] - first[i];
		out.labels_set[out.n_labels_set++] = &sets[i];
	}
	connect_encode(res, codec, &out.base);
out:
	free(text);
	free(first);
	free(keys);
	free(pairs);
	free(pairp);
	free(sets);
	free(out.labels_set);
	strtab_release(&acc.keys.t);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- SelectSeries ---- */

#define MAX_POINTS 11000 /* per series, as Prometheus bounds a range query */

struct series_out {
	Types__V1__Series **v;
	int64_t *totals;
	char **keys;
	size_t nr, alloc;
};

static int series_group(void *arg, const struct label_pair *group, size_t ngroup, const struct store_point *pts,
			size_t npts)
{
	struct series_out *o = arg;
	Types__V1__Series *s = xmalloc(sizeof(*s));
	struct buf key = BUF_INIT;
	int64_t total = 0;

	types__v1__series__init(s);
	s->labels = xcalloc(ngroup + 1, sizeof(*s->labels));
	for (size_t i = 0; i < ngroup; i++) {
		Types__V1__LabelPair *l = xmalloc(sizeof(*l));
		types__v1__label_pair__init(l);
		l->name = xstrdup(group[i].name);
		l->value = xstrdup(group[i].value);
		s->labels[s->n_labels++] = l;
		buf_addf(&key, "%s\x1f%s\x1e", group[i].name, group[i].value);
	}
	s->points = xcalloc(npts + 1, sizeof(*s->points));
	for (size_t i = 0; i < npts; i++) {
		Types__V1__Point *p = xmalloc(sizeof(*p));
		types__v1__point__init(p);
		p->value = (double)pts[i].value;
		p->timestamp = pts[i].time_ns / 1000000;
		s->points[s->n_points++] = p;
		total = sat_add64(total, pts[i].value);
	}
	ALLOC_GROW(o->v, o->nr + 1, o->alloc);
	o->totals = xrealloc(o->totals, o->alloc * sizeof(*o->totals));
	o->keys = xrealloc(o->keys, o->alloc * sizeof(*o->keys));
	o->v[o->nr] = s;
	o->totals[o->nr] = total;
	o->keys[o->nr++] = buf_detach(&key, NULL);
	return 0;
}

/* Orders series by total, largest first (for `limit`), or by labels. */
static void sort_series(struct series_out *o, bool by_total)
{
	for (size_t i = 1; i < o->nr; i++)
		for (size_t k = i; k > 0; k--) {
			bool swap = by_total ? o->totals[k - 1] < o->totals[k] : strcmp(o->keys[k - 1], o->keys[k]) > 0;
			if (!swap)
				break;
			Types__V1__Series *s = o->v[k];
			int64_t t = o->totals[k];
			char *key = o->keys[k];
			o->v[k] = o->v[k - 1], o->totals[k] = o->totals[k - 1], o->keys[k] = o->keys[k - 1];
			o->v[k - 1] = s, o->totals[k - 1] = t, o->keys[k - 1] = key;
		}
}

void querier_select_series(struct server *srv, struct http_request *req, struct http_response *res)
{
	enum connect_codec codec;
	Querier__V1__SelectSeriesRequest *r = (void *)connect_read(
		srv, req, &querier__v1__select_series_request__descriptor, &codec, res);
	Querier__V1__SelectSeriesResponse out = QUERIER__V1__SELECT_SERIES_RESPONSE__INIT;
	struct series_out o = { 0 };
	struct selection s;
	struct err e = ERR_INIT;
	int64_t step_ns;

	if (!r)
		return;
	if (selection_init(&s, req->tenant, r->profile_typeid, r->label_selector, r->start, r->end, false, res))
		goto out;
	if (r->aggregation != TYPES__V1__TIME_SERIES_AGGREGATION_TYPE__TIME_SERIES_AGGREGATION_TYPE_SUM) {
		/* the store sums per step; a mean needs the count of profiles behind each point */
		http_error(res, 501, "only the SUM aggregation is supported");
		goto out;
	}
	if (!(r->step >= 0 && r->step < 1e10)) {
		http_error(res, 400, "step must be a number of seconds, got %g", r->step);
		goto out;
	}
	step_ns = r->step > 0 ? (int64_t)(r->step * 1e9) : timeline_step(r->start, r->end) * 1000000000LL;
	if (step_ns < 1000000)
		step_ns = 1000000;
	if ((s.q.until_ns - s.q.from_ns) / step_ns >= MAX_POINTS) {
		http_error(res, 400, "the step of %gs makes more than %d points over the range: use a larger step",
			   (double)step_ns / 1e9, MAX_POINTS);
		goto out;
	}
	if (store_select_series(srv->store, &s.q, (const char *const *)r->group_by, r->n_group_by, step_ns,
				series_group, &o, &e)) {
		http_error(res, 500, "%s", e.msg);
		goto out;
	}
	if (r->limit > 0 && (size_t)r->limit < o.nr) {
		sort_series(&o, true);
		for (size_t i = (size_t)r->limit; i < o.nr; i++) {
			protobuf_c_message_free_unpacked(&o.v[i]->base, NULL);
			free(o.keys[i]);
		}
		o.nr = (size_t)r->limit;
	}
	sort_series(&o, false);
	out.series = o.v;
	out.n_series = o.nr;
	connect_encode(res, codec, &out.base);
out:
	for (size_t i = 0; i < o.nr; i++) {
		protobuf_c_message_free_unpacked(&o.v[i]->base, NULL);
		free(o.keys[i]);
	}
	free(o.v);
	free(o.keys);
	free(o.totals);
	selection_release(&s);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}
