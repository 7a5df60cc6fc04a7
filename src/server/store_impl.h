/*
 * Inside the storage interface (store.h): the table of a backend's functions, and what every backend shares,
 * the encoding of a write into content-addressed frames and stacks and a packed (stack, value) vector.
 *
 * Ids need no central counter, so that several writers (PostgreSQL) never coordinate: a tenant, frame, stack
 * and series id is a 63-bit hash of its content (a stack's of its parent's id and its frame's id), and a
 * profile id is random. The hash is not a format: stored rows keep their ids, and a changed hash function
 * would only intern the same stack a second time.
 */
#ifndef KILN_SERVER_STORE_IMPL_H
#define KILN_SERVER_STORE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hash.h"
#include "server/store.h"

struct buf;

struct store_backend {
	const char *name;
	void (*close)(struct store *s);
	int (*ingest)(struct store *s, const struct store_write *w, size_t n, struct err *e);
	int (*select_merge)(struct store *s, const struct store_query *q, struct profile *out, struct err *e);
	/* NULL: select_merge, every stack */
	int (*select_merge_graph)(struct store *s, const struct store_query *q, int64_t max_nodes,
				  struct profile *out, struct err *e);
	int (*series)(struct store *s, const struct store_query *q, store_series_cb cb, void *arg, struct err *e);
	int (*label_names)(struct store *s, const struct store_query *q, store_string_cb cb, void *arg,
			   struct err *e);
	int (*label_values)(struct store *s, const struct store_query *q, const char *name, store_string_cb cb,
			    void *arg, struct err *e);
	int (*profile_types)(struct store *s, const struct store_query *q, store_string_cb cb, void *arg,
			     struct err *e);
	int (*select_series)(struct store *s, const struct store_query *q, const char *const *group_by,
			     size_t ngroup_by, int64_t step_ns, store_group_cb cb, void *arg, struct err *e);
	int (*list_profiles)(struct store *s, const struct store_query *q, size_t limit, store_profile_cb cb,
			     void *arg, struct err *e);
	int (*get_profile)(struct store *s, const char *tenant, const char *id, struct profile *out,
			   struct err *e);
	int (*enforce_retention)(struct store *s, int64_t now_ns, struct err *e);
	int (*stats)(struct store *s, struct store_stats *st, struct err *e);
	int (*compact)(struct store *s, int64_t now_ns, struct err *e); /* NULL: nothing to compact */
};

/* Every backend's handle starts with this. */
struct store {
	const struct store_backend *be;
};

struct store *store_sqlite_open(const struct store_opts *o, struct err *e);
struct store *store_pg_open(const struct store_opts *o, struct err *e);

#define STORE_DAY_NS (86400LL * 1000000000LL)
#define STORE_HOUR_NS (3600LL * 1000000000LL)

/* `t` rounded down to a multiple of `unit` (towards minus infinity). */
int64_t store_floor_to(int64_t t, int64_t unit);

/*
 * The step of a series query (store_select_series) that a profile at `t` (>= `from`) belongs to: the first step
 * boundary from + k * step at or after t, as Pyroscope places it (shared/protocols/pyroscope.md 6.4), so a
 * profile exactly on a boundary is that boundary's and one just after it the next one's.
 */
int64_t store_step_index(int64_t t, int64_t from, int64_t step);

/*
 * Rollups (both backends): a merged profile per series per hour (level 1) and per day (level 2). Every hour
 * before `hour_until` and every day before `day_until` is rolled up; a query range is cut into raw edges
 * (level 0), rolled-up hours and rolled-up days, each read from its own rows. The parts are in time order.
 */
struct store_region {
	int level;
	int64_t from, until;
};
struct store_regions {
	struct store_region part[5];
	int n;
};
void store_split_range(int64_t from, int64_t until, int64_t hour_until, int64_t day_until, struct store_regions *r);

/* A frame, stack node and (stack, value) pair of an encoded write; strings point into the written profile. */
struct store_frame {
	int64_t id;
	const char *function, *module, *file;
	int64_t line, addr;
	int kind;
};
struct store_stack {
	int64_t id, parent, frame; /* parent 0: a top-level frame */
};
/* One write, encoded: what a backend persists. Pointers stay valid while the store_write's profile lives. */
struct store_enc {
	int64_t tenant_id, series_id;
	const char *tenant, *profile_type;
	const struct label_pair *labels;
	size_t nlabels;
	char *labels_key; /* the series' labels as text, "name=value" lines (values escaped), owned */
	struct store_frame *frames; /* the frames and stack nodes under the stored rows, each once */
	size_t nframes, frames_alloc;
	struct store_stack *stacks;
	size_t nstacks, stacks_alloc;
	struct store_pair *pairs; /* one per stored leaf stack, values summed */
	size_t npairs, pairs_alloc;
	int64_t from_ns, until_ns, total;
};

/* Encodes `w` (its labels are checked: sorted, unique, non-empty names). 0, or -1 with `e` set. */
int store_encode(const struct store_write *w, struct store_enc *out, struct err *e);
void store_enc_release(struct store_enc *enc);

/* The 63-bit content id of a tenant name or of any bytes. */
int64_t store_id_of(const void *data, size_t len);
/* A random 63-bit profile id (never 0). */
int64_t store_random_id(void);

/*
 * The packed vector of a profile: (id, value) pairs sorted by id, values over their common divisor (CPU values
 * are multiples of the sampling period), in the shorter of two forms: varints (per pair the id's gap and the
 * value), or bit-packed (the gaps Rice-coded, the values in as many bits as the largest needs). store.c has the
 * layouts. `ids` must ascend.
 */
void store_pack(struct buf *out, const int64_t *ids, const int64_t *values, size_t n);
/* Packs (id, value) pairs in any order (sorts them). */
void store_pack_pairs(struct buf *out, int64_t (*pairs)[2], size_t n);
/* Decodes, calling `cb` per pair; -1 when the vector is malformed. */
int store_unpack(const unsigned char *d, size_t len, int (*cb)(void *arg, int64_t id, int64_t value), void *arg);

/*
 * Rebuilding stored stacks as nodes of a profile (both backends): a stack is walked up through its stored
 * parents to a node already placed (or the root), then placed root first, iteratively (stacks can be deep). The
 * backend says where a stored node and frame come from; each is asked for once per rebuild.
 */
struct store_rebuild {
	struct profile *out;
	/* The parent (0: none) and frame of stored stack node `id`: 0, 1 when it is missing, -1 with `e` set. */
	int (*node)(void *arg, int64_t id, int64_t *parent, int64_t *frame, struct err *e);
	/* Adds stored frame `frame` to `out` as `*idx`: 0, 1 when it is missing, -1 with `e` set. */
	int (*frame)(void *arg, int64_t frame, uint32_t *idx, struct err *e);
	void *arg;
	struct u64map nodes;  /* stored stack id -> node of out */
	struct u64map frames; /* stored frame id -> frame of out */
	int64_t *chain;       /* (id, frame) pairs of the walk */
	size_t chain_alloc;
};
/* The node of stored stack `id` in b->out: 0; 1 when a node or frame is missing (e says which); -1 on a loop or
 * an error of the backend. */
int store_rebuild_stack(struct store_rebuild *b, int64_t id, uint32_t *node, struct err *e);
void store_rebuild_release(struct store_rebuild *b);

/* Values summed by id (a stack, a step), in first-seen order; what merges and rollups accumulate. */
struct store_sums {
	struct u64map map; /* id -> index in ids/v */
	int64_t *ids, *v;
	size_t n, alloc;
};
#define STORE_SUMS_INIT { U64MAP_INIT, NULL, NULL, 0, 0 }
int store_sums_add(void *sums, int64_t id, int64_t value); /* a store_unpack() callback */
/* Packs the non-zero sums (store_pack); returns their total. */
int64_t store_sums_pack(const struct store_sums *s, struct buf *out);
void store_sums_release(struct store_sums *s);

/*
 * Compaction's plan, the same for both backends: given the watermarks, the first hour at or after
 * `hour_until` that holds data (-1: none) and the time now, the hour to roll up (-1: none; hours still open,
 * with a grace period for stragglers, are not) and the days this completes, [day_from, day_until), which roll
 * up from their hours. False when the watermarks stay where they are (always when there is no data after
 * them: a backfill of earlier hours then finds them unmoved).
 */
#define STORE_COMPACT_GRACE_NS (5 * 60 * 1000000000LL)
struct store_compact_plan {
	int64_t hour;                 /* -1: no hour to roll up */
	int64_t day_from;             /* days in [day_from, day_until) step STORE_DAY_NS */
	int64_t hour_until, day_until; /* the new watermarks */
};
bool store_compact_next(int64_t hour_until, int64_t day_until, int64_t data_hour, int64_t now_ns,
			struct store_compact_plan *p);

/* Parses a label key of store_enc back into `labels` (strings point into `key`, which is modified). */
size_t store_labels_parse(char *key, struct label_pair *labels, size_t max);

/*
 * Hours being written, for rollups that wait until an hour has settled (a backfill brings its data over many
 * seconds): `last_write` maps an hour's start to the wall clock of its last write. store_hour_settled also
 * forgets hours that settled long ago.
 */
void store_note_write(struct u64map *last_write, int64_t from_ns);
bool store_hour_settled(struct u64map *last_write, int64_t hour, int64_t settle_ns);

#endif
