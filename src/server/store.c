/* store.h's entry points: the backend comes from the location, and every call goes to it. */
#include "server/store.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/xalloc.h"
#include "server/store_backend.h"

struct store {
	const struct store_ops *ops;
	void *h;
};

static bool is_postgres_url(const char *s)
{
	return !strncmp(s, "postgres://", 11) || !strncmp(s, "postgresql://", 13);
}

struct store *store_open(const struct store_opts *o, struct err *e)
{
	const struct store_ops *ops;
	struct store *s;
	void *h;

	if (!o->location || !*o->location)
		return err_set(e, "no storage location"), NULL;
	if (is_postgres_url(o->location))
		ops = &store_pg_ops;
	else
		return err_set(e, "SQLite storage is not in this build"), NULL;
	h = ops->open(o, e);
	if (!h)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->ops = ops;
	s->h = h;
	return s;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	s->ops->close(s->h);
	free(s);
}

int store_ingest(struct store *s, const struct store_write *w, size_t n, struct err *e)
{
	return s->ops->ingest(s->h, w, n, e);
}

int store_select_merge(struct store *s, const struct store_query *q, struct profile *out, struct err *e)
{
	return s->ops->select_merge(s->h, q, out, e);
}

int store_series(struct store *s, const struct store_query *q, store_series_cb cb, void *arg, struct err *e)
{
	return s->ops->series(s->h, q, cb, arg, e);
}

int store_label_names(struct store *s, const struct store_query *q, store_string_cb cb, void *arg, struct err *e)
{
	return s->ops->label_names(s->h, q, cb, arg, e);
}

int store_label_values(struct store *s, const struct store_query *q, const char *name, store_string_cb cb,
		       void *arg, struct err *e)
{
	return s->ops->label_values(s->h, q, name, cb, arg, e);
}

int store_profile_types(struct store *s, const struct store_query *q, store_string_cb cb, void *arg,
			struct err *e)
{
	return s->ops->profile_types(s->h, q, cb, arg, e);
}

int store_select_series(struct store *s, const struct store_query *q, const char *const *group_by, size_t ngroup_by,
			int64_t step_ns, store_group_cb cb, void *arg, struct err *e)
{
	return s->ops->select_series(s->h, q, group_by, ngroup_by, step_ns, cb, arg, e);
}

int store_list_profiles(struct store *s, const struct store_query *q, size_t limit, store_profile_cb cb, void *arg,
			struct err *e)
{
	return s->ops->list_profiles(s->h, q, limit, cb, arg, e);
}

int store_get_profile(struct store *s, const char *tenant, const char *id, struct profile *out, struct err *e)
{
	return s->ops->get_profile(s->h, tenant, id, out, e);
}

int store_enforce_retention(struct store *s, int64_t now_ns, struct err *e)
{
	return s->ops->enforce_retention(s->h, now_ns, e);
}

int store_compact(struct store *s, int64_t now_ns, struct err *e)
{
	return s->ops->compact ? s->ops->compact(s->h, now_ns, e) : 0;
}

int store_stats(struct store *s, struct store_stats *st, struct err *e)
{
	return s->ops->stats(s->h, st, e);
}
