/*
 * What a storage backend of kiln serve implements (store.h is the API; store.c picks the backend from the
 * location: a postgres:// or postgresql:// URL selects PostgreSQL, anything else is a SQLite directory). Every
 * function receives the backend's own handle and has the semantics of its store.h namesake.
 */
#ifndef KILN_SERVER_STORE_BACKEND_H
#define KILN_SERVER_STORE_BACKEND_H

#include "server/store.h"

struct store_ops {
	const char *name;
	void *(*open)(const struct store_opts *o, struct err *e);
	void (*close)(void *h);
	int (*ingest)(void *h, const struct store_write *w, size_t n, struct err *e);
	int (*select_merge)(void *h, const struct store_query *q, struct profile *out, struct err *e);
	int (*series)(void *h, const struct store_query *q, store_series_cb cb, void *arg, struct err *e);
	int (*label_names)(void *h, const struct store_query *q, store_string_cb cb, void *arg, struct err *e);
	int (*label_values)(void *h, const struct store_query *q, const char *name, store_string_cb cb, void *arg,
			    struct err *e);
	int (*profile_types)(void *h, const struct store_query *q, store_string_cb cb, void *arg, struct err *e);
	int (*select_series)(void *h, const struct store_query *q, const char *const *group_by, size_t ngroup_by,
			     int64_t step_ns, store_group_cb cb, void *arg, struct err *e);
	int (*list_profiles)(void *h, const struct store_query *q, size_t limit, store_profile_cb cb, void *arg,
			     struct err *e);
	int (*get_profile)(void *h, const char *tenant, const char *id, struct profile *out, struct err *e);
	int (*enforce_retention)(void *h, int64_t now_ns, struct err *e);
	int (*stats)(void *h, struct store_stats *st, struct err *e);
	int (*compact)(void *h, int64_t now_ns, struct err *e); /* NULL: nothing to compact */
};

extern const struct store_ops store_pg_ops;

#endif
