/*
 * The PostgreSQL backend's insides, shared by its files: store_pg.c (connections, schema, caches),
 * store_pg_ingest.c (the writing half), store_pg_read.c (merges, single profiles), store_pg_list.c (listings,
 * totals over time), store_pg_rollup.c and store_pg_maint.c (retention, statistics). See store_pg.c for the design.
 */
#ifndef KILN_SERVER_STORE_PG_H
#define KILN_SERVER_STORE_PG_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/xalloc.h"
#include "server/store_impl.h"

#define POOL_MAX 8
#define PREPARED_MAX (2 * POOL_MAX)
#define DAY_NS 86400000000000LL
#define HOUR_NS 3600000000000LL
#define CACHE_MAX (1u << 21) /* entries per cache before it is emptied */
#define NODES_MAX (6u << 20) /* stack nodes the reader keeps numbered (~150 MB; a week of a fleet is 2.9 M) */
#define SCHEMA_LOCK 0x6b696c6e /* "kiln": the advisory lock key of schema and partition creation */

#define PUSH(v, nr, alloc, item)                    \
	do {                                        \
		ALLOC_GROW(v, (nr) + 1, alloc);     \
		(v)[(nr)++] = (item);               \
	} while (0)

struct frame_info {
	uint32_t name, file, module; /* ids in the store's string table */
	uint32_t kind;
	int64_t line, addr;
};

/* Connections to one server, opened as they are first needed. */
struct pg_pool {
	char *conninfo;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	PGconn *conns[POOL_MAX];
	bool busy[POOL_MAX];
	int nconns;
};

struct pg_store {
	struct store base; /* first: the handle store.c sees */
	uint64_t max_series;
	int64_t retention_ns;
	bool read_only;

	/* Ingest, compaction and retention use the primary; queries use `reads`, a streaming replica when one was
	 * given (it may lag, so a query sees a consistent but slightly older database), else the primary. */
	struct pg_pool primary, replica;
	struct pg_pool *reads;

	pthread_mutex_t cache_lock;
	/* Group commit (store_pg_commit.c): requests waiting to be stored, and how many transactions are. */
	pthread_mutex_t group_lock;
	pthread_cond_t group_cond;
	struct pg_group_req *group_head;
	int group_writers;

	int prepared[PREPARED_MAX]; /* backends (pids) that have the ingest statements (store_pg_ingest.c) */
	int nprepared;
	struct u64map written;      /* keys of rows this process knows are in the database */
	struct u64map written_old;  /* the generation before (store_pg.c) */
	/* What queries read of the stacks, numbered per tenant (store_pg_nodes.c), under nodes_lock. */
	pthread_rwlock_t nodes_lock;
	struct pg_nodes **tenant_nodes;
	size_t ntenant_nodes, tenant_nodes_alloc;
	size_t nodes_total, nodes_max; /* nodes of all tenants; past nodes_max the tables are emptied */
	struct strtab strings; /* the frames' strings */
	/* Hour (its start) -> wall clock of this process's last write to it, while settle_ns matters (cache_lock):
	 * an hour being backfilled is rolled up once it has settled (store_pg_rollup.c). */
	int64_t settle_ns;
	struct u64map last_write;
};


static inline void *memdup(const void *p, size_t n)
{
	void *q = xmalloc(n ? n : 1);

	memcpy(q, p, n);
	return q;
}

/* PostgreSQL's messages go on over several lines (LINE, HINT): keep the first, and no tab or newline. */
static inline void one_line(struct err *e)
{
	if (e)
		e->msg[strcspn(e->msg, "\n")] = 0;
}

static inline uint64_t id63(uint64_t h)
{
	h &= INT64_MAX;
	return h ? h : 1; /* 0 is the root's id */
}

static inline uint64_t tenant_key(const char *tenant)
{
	return hash_bytes(tenant, strlen(tenant));
}

/* A cache key for (tenant, kind of row, id). */
static inline uint64_t row_key(uint64_t tenant, uint64_t kind, uint64_t id)
{
	uint64_t k = hash_u64(tenant ^ hash_u64(id + kind * 0x9e3779b97f4a7c15ULL));

	return k == U64MAP_EMPTY ? 0 : k;
}

enum { ROW_FRAME = 1, ROW_STACK, ROW_SERIES, ROW_SERIES_DAY, ROW_PARTITION, ROW_TENANT };

static inline int64_t day_of(int64_t ns)
{
	return ns >= 0 ? ns / DAY_NS : -((-ns + DAY_NS - 1) / DAY_NS);
}

static inline void add_array_int(struct buf *b, uint64_t v, bool first)
{
	buf_addf(b, "%s%llu", first ? "" : ",", (unsigned long long)v);
}

/* Appends one element of a text[] literal: quoted, with " and \ escaped. */
static inline void add_array_text(struct buf *b, const char *s, bool first)
{
	if (!first)
		buf_addch(b, ',');
	buf_addch(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_addch(b, '\\');
		buf_addch(b, *s);
	}
	buf_addch(b, '"');
}

static inline uint64_t get_be64(const char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | (unsigned char)p[i];
	return v;
}

static inline int64_t field_i64(const PGresult *r, int row, int col)
{
	return PQgetlength(r, row, col) == 8 ? (int64_t)get_be64(PQgetvalue(r, row, col)) : 0;
}

static inline int32_t field_i32(const PGresult *r, int row, int col)
{
	const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, col);

	if (PQgetlength(r, row, col) != 4)
		return 0;
	return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}


/* store_pg.c: the pool, statements, schema and caches. */
/* A connection to the primary (pool_get) or to where queries go (read_get); give either back with pool_put. */
PGconn *pool_get(struct pg_store *s, struct err *e);
PGconn *read_get(struct pg_store *s, struct err *e);
void pool_put(struct pg_store *s, PGconn *c);
/* Runs `sql` with text parameters (`bin` marks binary ones, with their lengths); binary results when asked. */
PGresult *run(PGconn *c, const char *sql, int n, const char *const *vals, const int *lens, const int *bin,
	      int binary_result, struct err *e);
int run_ok(PGconn *c, const char *sql, int n, const char *const *vals, struct err *e);
/* Sends `sql` in the connection's pipeline (ingest's one round trip); its result is read at the pipeline's end. */
int pg_send(PGconn *c, const char *sql, int n, const char *const *vals, const int *lens, const int *bin,
	    struct err *e);
/* Empties the caches when they are full; called with the cache lock held. */
void caches_bound(struct pg_store *s);
/* Forgets which partitions exist (after retention dropped some, or an insert found one gone). */
void forget_partitions(struct pg_store *s);
extern const struct store_backend store_pg_backend;
void pg_close(struct store *h);
/* store_pg_ingest.c */
/* Stores writes of one tenant in one transaction (retried on deadlocks and dropped partitions). */
int pg_ingest_batch(struct pg_store *s, const struct store_write *w, size_t n, struct err *e);
/* store_pg_commit.c: the backend's ingest, requests that arrive together committed together. */
int pg_ingest(struct store *h, const struct store_write *w, size_t n, struct err *e);

/*
 * Merged (stack, value) pairs of the profiles a query reads. A week of a fleet merges tens of millions of pairs
 * into half a million stacks, a map far larger than the caches; the rows of one series (a few thousand stacks)
 * are summed in a small map first, which joins the large one when the next series begins, so most adds hit the
 * caches. Rows grouped by series make that pay (rollups are read in series order, raw profiles come in the
 * order of their index); rows in any other order merge all the same.
 */
struct merge_acc {
	struct u64map values; /* stack id -> value (as uint64_t bits), once finished */
	struct u64map run;    /* the same, of the run of rows of `series` */
	int64_t series;
};
#define MERGE_ACC_INIT { U64MAP_INIT, U64MAP_INIT, 0 }
/* Adds a stored profile (packed pairs) of `series`: 0, or -1 when it is damaged. */
int merge_acc_add(struct merge_acc *m, int64_t series, const void *data, size_t len);
/* Makes `values` whole: call after the last add. */
void merge_acc_finish(struct merge_acc *m);
void merge_acc_release(struct merge_acc *m);

/* Streams the rows of `sql` one at a time (libpq's single-row mode); `fn` returns 0 to go on. */
int stream_rows(PGconn *c, const char *sql, int n, const char *const *vals,
		int (*fn)(void *arg, const PGresult *row, struct err *e), void *arg, struct err *e);

/* store_pg_nodes.c */
/*
 * Turns the summed (stack id, value) pairs of `acc` into samples of `out`, reading the stacks that this process
 * has not read yet: every stack (max_nodes 0), or as a flame graph of at most about max_nodes nodes shows them.
 */
int pg_nodes_emit(struct pg_store *s, PGconn *c, const char *tenant, const struct merge_acc *acc, int64_t max_nodes,
		  struct profile *out, struct err *e);
/* Empties the tables (with nodes_lock held for writing, or at close). */
void pg_nodes_release(struct pg_store *s);

/* store_pg_read.c: the series of a query, merges, single profiles. */
struct series_row {
	uint64_t id;
	char *type;
	struct label_pair *labels;
	size_t nlabels;
	char *mem; /* the labels' strings */
};

struct series_set {
	struct series_row *v;
	size_t nr, alloc;
};

void pg_series_set_release(struct series_set *set);
/* The series' ids as a bigint[] literal. */
void pg_ids_array(struct buf *b, const struct series_set *set);
/*
 * Adds to `out` the series of the tenant that match the query's profile type and selector and have at least one
 * profile starting in [from, until).
 */
int pg_load_series(PGconn *c, const struct store_query *q, struct series_set *out, struct err *e);
/*
 * Streams what the selected series (`ids`, a bigint[] literal) hold in [from, until): merge rows (data, series) when
 * `step` is 0, else timeline rows (series, step index as store_step_index() gives it, sum of totals).
 */
int pg_stream_selection(PGconn *c, const char *tenant, const char *ids, int64_t from, int64_t until, int64_t step,
			int (*fn)(void *arg, const PGresult *row, struct err *e), void *arg, struct err *e);

/* store_pg_list.c */
int pg_series(struct store *h, const struct store_query *q, store_series_cb cb, void *arg, struct err *e);
int pg_label_names(struct store *h, const struct store_query *q, store_string_cb cb, void *arg, struct err *e);
int pg_label_values(struct store *h, const struct store_query *q, const char *name, store_string_cb cb, void *arg,
		    struct err *e);
int pg_profile_types(struct store *h, const struct store_query *q, store_string_cb cb, void *arg, struct err *e);
int pg_select_series(struct store *h, const struct store_query *q, const char *const *group_by, size_t ngroup_by,
		     int64_t step_ns, store_group_cb cb, void *arg, struct err *e);
int pg_list_profiles(struct store *h, const struct store_query *q, size_t limit, store_profile_cb cb, void *arg,
		     struct err *e);

/* store_pg_rollup.c (the range is split by store_split_range()). */
/* The tenant's rollup watermarks (0 when never compacted). */
int pg_watermarks(PGconn *c, const char *tenant, int64_t *hour_until, int64_t *day_until, struct err *e);
int pg_compact(struct store *h, int64_t now_ns, struct err *e);
/* Notes a stored write to the hour of `from_ns` (for settle_ns). */
void pg_note_write(struct pg_store *s, int64_t from_ns);

/* store_pg_maint.c */
int pg_enforce_retention(struct store *h, int64_t now_ns, struct err *e);
int pg_stats(struct store *h, struct store_stats *st, struct err *e);

#endif
