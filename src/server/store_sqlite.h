/*
 * The SQLite backend of store.h, shared between its writer (store_sqlite.c) and its queries
 * (store_sqlite_query.c). A directory holds meta.db (tenants, frames, stacks, series and the label index) and
 * one file per UTC day, p-YYYYMMDD.db (profiles as packed vectors of stack ids local to their series, the map from
 * those ids to stacks, and which series have data that day), opened on demand; retention deletes whole files.
 */
#ifndef KILN_SERVER_STORE_SQLITE_H
#define KILN_SERVER_STORE_SQLITE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "core/hash.h"
#include "server/store_impl.h"
#include "server/store_nodes.h"

struct buf;
struct sq_job;

/*
 * A partition open for writing: its connection and its map from (series, stack) to local id. Local ids are
 * numbered per series, so that the ids of a profile are close together: sorted, their deltas take a byte each.
 */
struct sq_wpart {
	int64_t day; /* days since the epoch; -1 when the slot is free */
	sqlite3 *db;
	struct u64map local;      /* key of (series, stack number) -> local id */
	struct u64map last_local; /* series -> its highest local id */
	uint64_t last_use;
};

#define SQ_WPARTS 4

/* Reads the nodes stored since the last call into the query's node table (takes its write lock). */
int sq_nodes_refresh(struct store_nodes *c, sqlite3 *meta, struct err *e);

struct sq_store {
	struct store base;
	struct store_nodes cache;
	char *dir;
	int64_t retention_ns;
	uint64_t max_series;
	bool read_only;

	pthread_mutex_t lock; /* the job queue */
	pthread_cond_t work;
	struct sq_job *head, *tail;
	bool stop, writer_started;
	pthread_t writer;


	/* The writer thread's own. */
	sqlite3 *wdb;
	/* (tenant, stack id) -> the node's number in meta.db, every stored node, loaded at open: nodes are
	 * numbered in the order they are stored, so that new ones append to the table's B-tree (keyed by content
	 * id, every batch would rewrite pages all over an index of millions of rows). */
	struct store_keys known_stacks;
	int64_t next_stack, next_frame; /* the next node and frame numbers */
	struct u64map known_frames; /* key of (tenant, frame id) -> frame number: every stored frame */
	struct u64map known_series, known_tenants;
	struct u64map tenant_series;  /* tenant id -> its number of series */
	struct u64map counted_series; /* the series counted in tenant_series */
	struct sq_wpart wparts[SQ_WPARTS];
	uint64_t tick;
	int64_t hour_until, day_until; /* the rollup watermarks (store_sqlite_rollup.c) */
	int64_t settle_ns;
	struct u64map last_write; /* hour (its start) -> wall clock of its last write, while settle_ns matters */
};

/* The writer (store_sqlite_write.c). */
void *sq_writer_main(void *store);
/* Loads every stored frame into `known_frames` (and, unless NULL, each frame number's content id). */
int sq_load_frames(struct sq_store *s, int64_t **ids, size_t *nids, struct err *e);
void sq_wpart_close(struct sq_wpart *p);
/* The writer's partition for `day`, opened (and created) on demand. */
struct sq_wpart *sq_wpart_get(struct sq_store *s, int64_t day, struct err *e);
int sq_ingest(struct store *s, const struct store_write *w, size_t n, struct err *e);
int sq_enforce_retention(struct store *s, int64_t now_ns, struct err *e);
int sq_compact(struct store *s, int64_t now_ns, struct err *e);

/* Rollups (store_sqlite_rollup.c). */
/* The watermarks of meta.db (0 when never compacted). */
int sq_read_watermarks(sqlite3 *meta, int64_t *hour_until, int64_t *day_until, struct err *e);
/* Adds a rollup row to a partition. */
int sq_rollup_add(sqlite3 *db, int64_t series, int level, int64_t bucket, int64_t profiles, int64_t total,
		  const struct buf *data, struct err *e);
/* Notes a write to the hour of `from_ns`, for settle_ns. */
void sq_note_write(struct sq_store *s, int64_t from_ns);
/* One compaction step, in the writer thread: 1 when it did one, 0 when nothing is left, or -1. */
int sq_compact_run(struct sq_store *s, int64_t now_ns, struct err *e);

/* Opens `path` for reading or writing with the pragmas kiln needs (WAL, durable commits, a busy timeout). */
int sq_open(const char *path, bool write, sqlite3 **db, struct err *e);
/* Runs SQL without results. */
int sq_exec(sqlite3 *db, const char *sql, struct err *e);
/* Sets `e` from the connection's last error. */
int sq_err(sqlite3 *db, const char *what, struct err *e);
/* The path of a day's partition ("DIR/p-20251206.db"); the caller frees it. */
char *sq_part_path(const struct sq_store *s, int64_t day);
/* The partitions on disk, ascending; the caller frees `*days`. */
int sq_list_days(const struct sq_store *s, int64_t **days, size_t *n, struct err *e);

/* Queries (store_sqlite_query.c). */
int sq_select_merge(struct store *s, const struct store_query *q, struct profile *out, struct err *e);
int sq_select_merge_graph(struct store *s, const struct store_query *q, int64_t max_nodes, struct profile *out,
			  struct err *e);
int sq_series(struct store *s, const struct store_query *q, store_series_cb cb, void *arg, struct err *e);
int sq_label_names(struct store *s, const struct store_query *q, store_string_cb cb, void *arg, struct err *e);
int sq_label_values(struct store *s, const struct store_query *q, const char *name, store_string_cb cb, void *arg,
		    struct err *e);
int sq_profile_types(struct store *s, const struct store_query *q, store_string_cb cb, void *arg, struct err *e);
int sq_select_series(struct store *s, const struct store_query *q, const char *const *group_by, size_t ngroup_by,
		     int64_t step_ns, store_group_cb cb, void *arg, struct err *e);
int sq_list_profiles(struct store *s, const struct store_query *q, size_t limit, store_profile_cb cb, void *arg,
		     struct err *e);
int sq_get_profile(struct store *s, const char *tenant, const char *id, struct profile *out, struct err *e);

/* ---- the query side (store_sqlite_query.c), shared with store_sqlite_list.c ---- */

/* A series a query picked, with its labels. */
struct sq_series {
	int64_t id;
	char *ptype;
	char *key; /* the labels' text, parsed in place into `labels` */
	struct label_pair *labels;
	size_t nlabels;
	bool in_range;
};

struct sq_reader {
	struct sq_store *s;
	sqlite3 *meta;
	int64_t tenant_id;
	struct sq_series *v;
	size_t n, alloc;
	int64_t *days; /* the partitions overlapping the range */
	size_t ndays;
};


struct sq_rebuild {
	struct store_rebuild rb;
	struct store_nodes *cache; /* read-locked from sq_rebuild_init() to sq_rebuild_release() */
	bool locked;
	int64_t tenant_id;
	sqlite3_stmt *frame;
};

/* Opens meta.db, picks the tenant's series that the query's type and selector match, and lists the partitions
 * overlapping [from, until) (none when the range is empty). Release with sq_reader_release() even on failure. */
int sq_reader_start(struct sq_store *s, const struct store_query *q, struct sq_reader *r, struct err *e);
void sq_reader_release(struct sq_reader *r);
/* Sets `in_range` on the picked series that have a profile in [from, until). */
int sq_mark_in_range(struct sq_reader *r, const struct store_query *q, struct err *e);
/* meta.db for reading. */
int sq_open_meta(struct sq_store *s, sqlite3 **db, struct err *e);
/* A day's partition for reading, or NULL when it is gone. */
sqlite3 *sq_open_part(struct sq_store *s, int64_t day);
/* Rebuilds stored stacks as nodes of `out`. */
int sq_rebuild_init(struct sq_rebuild *b, struct sq_store *s, sqlite3 *meta, int64_t tenant_id, struct profile *out,
		    struct err *e);
void sq_rebuild_release(struct sq_rebuild *b);
int sq_rebuild_stack(struct sq_rebuild *b, int64_t stack_id, uint32_t *node, struct err *e);
/* Adds the value column of profile type `ptype` to `out`. */
int sq_add_type_column(struct profile *out, const char *ptype, struct err *e);

/* Opens a day's partition and prepares `sql` on it: NULL with `*db` NULL when the partition is gone (not an
 * error), NULL with `e` set on failure. The caller finalizes and closes. */
sqlite3_stmt *sq_part_prepare(struct sq_reader *r, int64_t day, const char *sql, sqlite3 **db, struct err *e);
/* Binds ?1 to a series id, ?2 and ?3 to the query's range. */
void sq_bind_series_range(sqlite3_stmt *st, int64_t series, const struct store_query *q);

/* Days since the epoch of a time in ns, rounding down. */
int64_t sq_day_of(int64_t ns);

#endif
