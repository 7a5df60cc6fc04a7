/*
 * The storage interface of kiln serve: one API, two backends (SQLite files under a directory, the default;
 * PostgreSQL for a fleet). Stacks are interned once per tenant; a stored profile is a packed vector of
 * (stack id, value) with its series (tenant, profile type, labels) and its time range. Time is partitioned by
 * day so retention drops whole partitions; merged reads over long ranges use rollups.
 *
 * Contract: store_ingest() returns only after the data is durable (the HTTP layer acknowledges after it);
 * every function is safe to call from several threads at once on one `struct store`; every call fills `e` on
 * failure and returns -1. Times are nanoseconds since the epoch, ranges [from, until).
 *
 * The backend is chosen by store_opts.location: a postgres:// or postgresql:// URL is PostgreSQL, anything
 * else a directory for SQLite (created when missing).
 */
#ifndef KILN_SERVER_STORE_H
#define KILN_SERVER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/series.h"

struct err;
struct profile;
struct store;

struct store_opts {
	const char *location;   /* a directory (SQLite) or a postgres:// / postgresql:// URL */
	int64_t retention_ns;   /* 0: keep forever */
	bool read_only;         /* a query-only replica connection */
	uint64_t max_series;    /* distinct series per tenant; 0: no limit (a write past it fails with STORE_ELIMIT) */
	/* Compaction leaves an hour alone until it has had no write for this long (wall clock), so that a backfill
	 * or a burst of late data is rolled up once, not stored again as a late rollup row per profile. 0: no wait
	 * (SQLite only; PostgreSQL's writers share no clock of writes). */
	int64_t settle_ns;
	const char *read_location; /* PostgreSQL: where queries go (a streaming replica of `location`); NULL: location */
};

/* What store_ingest() returns when a limit (not a fault) refused the write: the client's error. */
#define STORE_ELIMIT (-2)

/* Whether a --storage location names a PostgreSQL database (postgres:// or postgresql://), not a directory. */
bool store_is_postgres(const char *location);
struct store *store_open(const struct store_opts *o, struct err *e);
void store_close(struct store *s); /* NULL is a no-op */

/* One profile to store: one value column of `prof` (a pprof with several sample types is several calls). */
/* A stack by its content id (as store_encode numbers it) and its value. */
struct store_pair {
	int64_t stack;
	int64_t value;
};

struct store_write {
	const char *tenant;              /* "" for the single-tenant default */
	const char *profile_type;        /* an ID as in 2.4 */
	const struct label_pair *labels; /* sorted by name, including service_name */
	size_t nlabels;
	int64_t from_ns, until_ns;
	const struct profile *prof;
	int column;
	/* With `only_labelset`, only the rows of label set `labelset` of `prof` (a pprof split by sample labels
	 * into series, 2.3); otherwise every row. */
	bool only_labelset;
	uint32_t labelset;
	/* More of the profile (or all of it, without `prof`) as pairs of stacks that the store holds already (a
	 * stack cache's, see stack_cache.h); a stack it does not hold fails the write. */
	const struct store_pair *pairs;
	size_t npairs;
};

/*
 * Stores `n` profiles, durable when it returns 0: writes from concurrent callers are committed together (group
 * commit), all `n` of a call or none of them. Rows whose value is 0 are not stored; a profile with no non-zero
 * value is stored as an empty profile (its series and time are still recorded). -1 on a fault, STORE_ELIMIT
 * when a limit refused it; `e` says why.
 */
int store_ingest(struct store *s, const struct store_write *w, size_t n, struct err *e);

/* The content ids that store_encode gives the stacks ending at `nodes[0..n)` of `p` (0 for the root). */
void store_stack_ids(const struct profile *p, const uint32_t *nodes, size_t n, int64_t *out);

/* What a query selects: a tenant, a profile type, a selector and a time range. */
struct store_query {
	const char *tenant;
	const char *profile_type; /* NULL: any (label names/values, series) */
	const struct selector *sel;
	int64_t from_ns, until_ns;
};

/* Merges every selected profile into `out` (a profile_new()ed, empty profile; one column of the type's unit).
 * Frames keep function name, file, line and module as ingested. */
int store_select_merge(struct store *s, const struct store_query *q, struct profile *out, struct err *e);
/* The same merge for a flame graph of at most `max_nodes` nodes (maxNodes, shared/protocols/pyroscope.md 7.2):
 * the backend may leave out the nodes such a graph folds, their values in an "other" child of their parent, so
 * that totals stay exact. */
int store_select_merge_graph(struct store *s, const struct store_query *q, int64_t max_nodes, struct profile *out,
			     struct err *e);

/* Calls `cb` once per series that has data in the range, with its profile type and labels. */
typedef int (*store_series_cb)(void *arg, const char *profile_type, const struct label_pair *labels, size_t n);
int store_series(struct store *s, const struct store_query *q, store_series_cb cb, void *arg, struct err *e);

/* Label names, and the values of one name, among selected series (sorted, unique). */
typedef int (*store_string_cb)(void *arg, const char *s);
int store_label_names(struct store *s, const struct store_query *q, store_string_cb cb, void *arg, struct err *e);
int store_label_values(struct store *s, const struct store_query *q, const char *name, store_string_cb cb,
		       void *arg, struct err *e);
/* The profile types with data for the tenant in the range. */
int store_profile_types(struct store *s, const struct store_query *q, store_string_cb cb, void *arg,
			struct err *e);

/* Totals over time: one point per `step_ns` per group (the values of the `group_by` labels; none: one group). A
 * profile at t counts at the first boundary from + k * step at or after t (Pyroscope's SelectSeries, 6.4);
 * steps with no profile have no point. */
struct store_point {
	int64_t time_ns; /* from + k * step, k >= 0: the step boundary */
	int64_t value;   /* the sum of the selected profiles' totals at or before it, after the one before */
};
typedef int (*store_group_cb)(void *arg, const struct label_pair *group, size_t ngroup,
			      const struct store_point *points, size_t npoints);
int store_select_series(struct store *s, const struct store_query *q, const char *const *group_by, size_t ngroup_by,
			int64_t step_ns, store_group_cb cb, void *arg, struct err *e);

/* The individual profiles of a selection, newest first, at most `limit`; and one of them by id. */
struct store_profile_ref {
	char id[40];                     /* opaque, unique per tenant, made without a central counter */
	int64_t from_ns, until_ns;
	int64_t total;
	const char *profile_type;
	const struct label_pair *labels;
	size_t nlabels;
};
typedef int (*store_profile_cb)(void *arg, const struct store_profile_ref *ref);
int store_list_profiles(struct store *s, const struct store_query *q, size_t limit, store_profile_cb cb, void *arg,
			struct err *e);
int store_get_profile(struct store *s, const char *tenant, const char *id, struct profile *out, struct err *e);

/* Drops whole day partitions older than the retention at `now_ns`; returns how many were dropped, or -1. */
int store_enforce_retention(struct store *s, int64_t now_ns, struct err *e);

/*
 * Builds the rollups (merged hours and days) of data that has settled, so that long queries read pre-merged
 * profiles; the server calls it every minute or so. Returns how many steps it took, or -1.
 */
int store_compact(struct store *s, int64_t now_ns, struct err *e);

/* Counters for /metrics. */
struct store_stats {
	uint64_t profiles, stacks, series, bytes, partitions;
};
int store_stats(struct store *s, struct store_stats *st, struct err *e);

#endif
