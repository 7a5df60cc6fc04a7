/*
 * The PostgreSQL backend's writing half: one ingest transaction, sent as one pipeline (see store_pg.c for the
 * design, store_pg_commit.c for how requests are grouped into transactions).
 */
#include "server/store_pg.h"

#include <stdlib.h>
#include <sys/random.h>

/*
 * Ends a pipeline (pg_send()s since PQenterPipelineMode): syncs, reads every result and leaves pipeline mode.
 * `rc` is how the sending went; the first statement that failed sets `e`. A transaction the pipeline left
 * failed is rolled back.
 */
static int pipe_finish(PGconn *c, int rc, struct err *e)
{
	if (!PQpipelineSync(c)) {
		if (!rc)
			err_set(e, "PostgreSQL: %s", PQerrorMessage(c)), one_line(e);
		rc = -1;
	}
	/* Each statement's results end with a NULL; the sync's own result ends the pipeline. A broken connection
	 * answers NULL for ever, hence the bound. */
	for (int nulls = 0; nulls < 1024;) {
		PGresult *r = PQgetResult(c);
		ExecStatusType st;

		if (!r) {
			if (PQstatus(c) != CONNECTION_OK)
				break;
			nulls++;
			continue;
		}
		st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && !rc) {
			err_set(e, "PostgreSQL: %s", st == PGRES_PIPELINE_ABORTED ? "pipeline aborted"
										  : PQresultErrorMessage(r));
			one_line(e);
			rc = -1;
		}
		PQclear(r);
	}
	if (!PQexitPipelineMode(c)) {
		/* Results still pending: the connection is in no state to reuse. */
		if (!rc)
			err_set(e, "PostgreSQL: %s", PQerrorMessage(c)), one_line(e);
		PQreset(c);
		return -1;
	}
	if (PQtransactionStatus(c) != PQTRANS_IDLE)
		PQclear(PQexec(c, "ROLLBACK"));
	return rc;
}

/* Whether the last failure is one a retry may cure: deadlock, serialization failure, a dropped partition, a
 * backend that does not have the statements this process thought it had (a reused pid). */
static bool retryable(const struct err *e)
{
	return strstr(e->msg, "deadlock") || strstr(e->msg, "could not serialize") ||
	       strstr(e->msg, "no partition of relation") || strstr(e->msg, "prepared statement");
}


/*
 * The statements of an ingest transaction, prepared once per connection (by its backend's pid, which changes
 * when libpq reconnects): parsing and planning them on every transaction was half of PostgreSQL's CPU.
 */
enum { ST_LOCK, ST_FRAMES, ST_STACKS, ST_DAYS, ST_SERIES, ST_PROFILES, ST_NR };

static const struct {
	const char *name, *sql;
	int nparams;
} stmts[ST_NR] = {
	/* The rollup watermarks, locked against compaction before anything is written (store_pg_rollup.c). */
	[ST_LOCK] = { "kiln_lock", "SELECT 1 FROM kiln_compaction WHERE tenant = $1 FOR SHARE", 1 },
	[ST_FRAMES] = { "kiln_frames",
			"INSERT INTO kiln_frames (tenant, id, name, file, line, module, kind, addr)"
			" SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[],"
			" $7::int[], $8::bigint[]) ON CONFLICT DO NOTHING", 8 },
	[ST_STACKS] = { "kiln_stacks",
			"INSERT INTO kiln_stacks (tenant, id, frames)"
			" SELECT $1, * FROM unnest($2::bigint[], $3::bytea[]) ON CONFLICT DO NOTHING", 3 },
	[ST_DAYS] = { "kiln_days",
		      "INSERT INTO kiln_series_days (tenant, day, series)"
		      " SELECT $1, * FROM unnest($2::int[], $3::bigint[]) ON CONFLICT DO NOTHING", 3 },
	[ST_SERIES] = { "kiln_series",
			"INSERT INTO kiln_series (tenant, id, profile_type, labels) VALUES ($1, $2, $3, $4)"
			" ON CONFLICT DO NOTHING", 4 },
	/* See insert_profiles(). */
	[ST_PROFILES] = { "kiln_profiles",
			  "WITH p AS (INSERT INTO kiln_profiles (tenant, id, series, from_ns, until_ns, total, data)"
			  " SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],"
			  " $7::bytea[]) RETURNING series, from_ns, total, data)"
			  " INSERT INTO kiln_rollups (tenant, series, level, bucket, profiles, total, data)"
			  " SELECT $1, p.series, v.level, v.bucket, 1, p.total, p.data"
			  " FROM p JOIN kiln_compaction w ON w.tenant = $1, LATERAL (VALUES"
			  " (1, p.from_ns - p.from_ns % $8::bigint), (2, p.from_ns - p.from_ns % $9::bigint))"
			  " v (level, bucket) WHERE p.from_ns < CASE v.level WHEN 1 THEN w.hour_until ELSE w.day_until END",
			  9 },
};

static int send_stmt(PGconn *c, int st, const char *const *vals, const int *lens, const int *bin, struct err *e)
{
	if (PQsendQueryPrepared(c, stmts[st].name, stmts[st].nparams, vals, lens, bin, 0))
		return 0;
	err_set(e, "PostgreSQL: %s", PQerrorMessage(c));
	one_line(e);
	return -1;
}

/* Whether the statements are prepared on `c`'s backend; with the cache lock held. */
static bool prepared_on(const struct pg_store *s, int pid)
{
	for (int i = 0; i < s->nprepared; i++)
		if (s->prepared[i] == pid)
			return true;
	return false;
}

/*
 * Sends (in the pipeline) what prepares the statements unless `c`'s backend has them. DEALLOCATE ALL first:
 * a pipeline that failed after its prepares left some of them behind. `*pid` is the backend to remember once
 * the transaction succeeded, 0 when there is none to.
 */
static int send_prepares(struct pg_store *s, PGconn *c, int *pid, struct err *e)
{
	bool have;

	*pid = PQbackendPID(c);
	pthread_mutex_lock(&s->cache_lock);
	have = prepared_on(s, *pid);
	pthread_mutex_unlock(&s->cache_lock);
	if (have) {
		*pid = 0;
		return 0;
	}
	if (pg_send(c, "DEALLOCATE ALL", 0, NULL, NULL, NULL, e))
		return -1;
	for (int i = 0; i < ST_NR; i++)
		if (!PQsendPrepare(c, stmts[i].name, stmts[i].sql, stmts[i].nparams, NULL)) {
			err_set(e, "PostgreSQL: %s", PQerrorMessage(c));
			one_line(e);
			return -1;
		}
	return 0;
}

static void remember_prepared(struct pg_store *s, int pid)
{
	if (!pid)
		return;
	pthread_mutex_lock(&s->cache_lock);
	/* Backends of connections since closed stay listed: drop the oldest when full. */
	if (s->nprepared == PREPARED_MAX)
		memmove(s->prepared, s->prepared + 1, sizeof(*s->prepared) * --s->nprepared);
	s->prepared[s->nprepared++] = pid;
	pthread_mutex_unlock(&s->cache_lock);
}

/*
 * Whether this process knows a row is in the database; with the cache lock held. The cache keeps two
 * generations: a key found in the older one moves to the newer, and when the newer is full the older is
 * dropped. So the rows a fleet keeps sending stay known even when there are more of them than one generation
 * holds (a fleet of 100 services has millions of stack nodes): emptying the whole cache at once made every
 * later profile send all its stacks again, each an index probe in the database.
 */
static bool written_has(struct pg_store *s, uint64_t key)
{
	if (u64map_find(&s->written, key))
		return true;
	if (!u64map_find(&s->written_old, key))
		return false;
	u64map_insert(&s->written, key, &(int){ 0 });
	return true;
}

/* Creates the day partition of `day` unless this process knows it exists; in its own short transaction, so
 * that ingest transactions never hold the creation lock. */
static int ensure_partition(struct pg_store *s, PGconn *c, int64_t day, struct err *e)
{
	uint64_t key = row_key(0, ROW_PARTITION, (uint64_t)day);
	char sql[256], lock[32], d[32];
	const char *v[] = { lock, d };
	bool known;

	pthread_mutex_lock(&s->cache_lock);
	known = written_has(s, key);
	pthread_mutex_unlock(&s->cache_lock);
	if (known)
		return 0;

	snprintf(lock, sizeof(lock), "%d", SCHEMA_LOCK);
	snprintf(d, sizeof(d), "%d", (int)(day & 0x7fffffff));
	snprintf(sql, sizeof(sql),
		 "CREATE TABLE IF NOT EXISTS kiln_profiles_d%lld PARTITION OF kiln_profiles"
		 " FOR VALUES FROM (%lld) TO (%lld)",
		 (long long)day, (long long)(day * DAY_NS), (long long)((day + 1) * DAY_NS));
	if (run_ok(c, "BEGIN", 0, NULL, e) || run_ok(c, "SELECT pg_advisory_xact_lock($1::int, $2::int)", 2, v, e) ||
	    run_ok(c, sql, 0, NULL, e) || run_ok(c, "COMMIT", 0, NULL, e)) {
		PQclear(PQexec(c, "ROLLBACK"));
		return -1;
	}
	pthread_mutex_lock(&s->cache_lock);
	u64map_insert(&s->written, key, &(int){ 0 });
	pthread_mutex_unlock(&s->cache_lock);
	return 0;
}

/* Makes sure the tenant has its row of rollup watermarks, which every ingest transaction locks FOR SHARE. */
static int ensure_tenant(struct pg_store *s, PGconn *c, const char *tenant, struct err *e)
{
	uint64_t key = row_key(tenant_key(tenant), ROW_TENANT, 0);
	const char *v[] = { tenant };
	bool known;

	pthread_mutex_lock(&s->cache_lock);
	known = written_has(s, key);
	pthread_mutex_unlock(&s->cache_lock);
	if (known)
		return 0;
	if (run_ok(c, "INSERT INTO kiln_compaction (tenant) VALUES ($1) ON CONFLICT DO NOTHING", 1, v, e))
		return -1;
	pthread_mutex_lock(&s->cache_lock);
	u64map_insert(&s->written, key, &(int){ 0 });
	pthread_mutex_unlock(&s->cache_lock);
	return 0;
}

/* ---- ingest ---- */

/* A stored stack this transaction inserts: its id and the write whose stack nodes spell it out. */
struct new_stack {
	int64_t id;
	size_t enc;
};

/* What one ingest transaction writes, each list sorted by id before it is sent. */
struct batch {
	struct u64map seen;   /* keys already in this batch */
	struct u64map keys;   /* the keys to mark written after the commit */
	const struct store_frame **frames; /* point into the writes' encodings */
	size_t frames_nr, frames_alloc;
	struct new_stack *stacks;
	size_t stacks_nr, stacks_alloc;
	struct row_day {
		uint64_t series;
		int64_t day;
	} *days;
	size_t days_nr, days_alloc;
};

/* Whether a row with this key still needs writing (not in the database as far as we know, not yet batched). */
static bool need_row(struct pg_store *s, struct batch *b, uint64_t key)
{
	int ins;

	if (written_has(s, key))
		return false;
	u64map_insert(&b->seen, key, &ins);
	if (!ins)
		return false;
	u64map_insert(&b->keys, key, &ins);
	return true;
}

static int cmp_frame(const void *a, const void *b)
{
	int64_t x = (*(const struct store_frame *const *)a)->id, y = (*(const struct store_frame *const *)b)->id;

	return (x > y) - (x < y);
}

static int cmp_stack(const void *a, const void *b)
{
	int64_t x = ((const struct new_stack *)a)->id, y = ((const struct new_stack *)b)->id;

	return (x > y) - (x < y);
}

/*
 * The frame and stack rows of encoded write `i` that the database may not have yet. A stack row is one per
 * stack a profile holds samples of (its pairs), not per node of the trie: a fleet's stacks share their
 * prefixes, and a row per node made every new stack several B-tree inserts at random places. Frames are looked
 * at only when a stack is new: a stored stack's frames were stored with it (by whichever writer), and rows of
 * frames and stacks are never deleted, so a steady fleet's profile costs no frame lookups.
 */
static void batch_rows(struct pg_store *s, struct batch *b, uint64_t tk, const struct store_enc *enc, size_t i)
{
	size_t had = b->stacks_nr;

	for (size_t k = 0; k < enc->npairs; k++)
		if (need_row(s, b, row_key(tk, ROW_STACK, (uint64_t)enc->pairs[k].stack)))
			PUSH(b->stacks, b->stacks_nr, b->stacks_alloc, ((struct new_stack){ enc->pairs[k].stack, i }));
	if (b->stacks_nr == had)
		return;
	for (size_t k = 0; k < enc->nframes; k++)
		if (need_row(s, b, row_key(tk, ROW_FRAME, (uint64_t)enc->frames[k].id)))
			PUSH(b->frames, b->frames_nr, b->frames_alloc, &enc->frames[k]);
}

/* The packed (stack, value) vector of an encoded write. */
static void pack_body(struct buf *out, const struct store_enc *enc)
{
	int64_t *ids = xcalloc(enc->npairs + 1, sizeof(*ids)), *values = xcalloc(enc->npairs + 1, sizeof(*values));

	for (size_t i = 0; i < enc->npairs; i++) {
		ids[i] = enc->pairs[i].stack;
		values[i] = enc->pairs[i].value;
	}
	store_pack(out, ids, values, enc->npairs);
	free(ids);
	free(values);
}

static void new_profile_id(char *out, size_t size, int64_t from_ns)
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = hash_u64((uint64_t)from_ns ^ (uint64_t)(uintptr_t)&r ^ (uint64_t)rand());
	snprintf(out, size, "%016llx-%016llx", (unsigned long long)from_ns, (unsigned long long)r);
}

static int insert_frames(PGconn *c, const char *tenant, struct batch *b, struct err *e)
{
	struct buf col[7];
	int rc;

	if (!b->frames_nr)
		return 0;
	qsort(b->frames, b->frames_nr, sizeof(*b->frames), cmp_frame);
	for (int k = 0; k < 7; k++) {
		buf_init(&col[k], 64);
		buf_addch(&col[k], '{');
	}
	for (size_t i = 0; i < b->frames_nr; i++) {
		const struct store_frame *f = b->frames[i];

		add_array_int(&col[0], (uint64_t)f->id, !i);
		add_array_text(&col[1], f->function ? f->function : "", !i);
		add_array_text(&col[2], f->file ? f->file : "", !i);
		add_array_int(&col[3], (uint64_t)f->line, !i);
		add_array_text(&col[4], f->module ? f->module : "", !i);
		add_array_int(&col[5], (uint64_t)f->kind, !i);
		add_array_int(&col[6], (uint64_t)f->addr, !i);
	}
	for (int k = 0; k < 7; k++)
		buf_addch(&col[k], '}');
	const char *v[] = { tenant, col[0].buf, col[1].buf, col[2].buf, col[3].buf, col[4].buf, col[5].buf, col[6].buf };

	rc = send_stmt(c, ST_FRAMES, v, NULL, NULL, e);
	for (int k = 0; k < 7; k++)
		buf_release(&col[k]);
	return rc;
}

/*
 * Array parameters in PostgreSQL's binary format (array_recv: dimensions, NULL flag, element type, length, lower
 * bound, then each element as its length and bytes): the server parses no digits and bytea needs no escaping.
 */
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25

struct pg_arr {
	struct buf b;
	uint32_t n;
};

static void put_be32(struct buf *b, uint32_t v)
{
	unsigned char p[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
			       (unsigned char)v };

	buf_add(b, p, 4);
}

static void put_be64(struct buf *b, uint64_t v)
{
	put_be32(b, (uint32_t)(v >> 32));
	put_be32(b, (uint32_t)v);
}

static void arr_init(struct pg_arr *a, uint32_t elem_oid)
{
	buf_init(&a->b, 256);
	a->n = 0;
	put_be32(&a->b, 1); /* dimensions */
	put_be32(&a->b, 0); /* no NULLs */
	put_be32(&a->b, elem_oid);
	put_be32(&a->b, 0); /* the length, set by arr_len() */
	put_be32(&a->b, 1); /* lower bound */
}

static void arr_bytes(struct pg_arr *a, const void *p, size_t len)
{
	put_be32(&a->b, (uint32_t)len);
	buf_add(&a->b, p, len);
	a->n++;
}

static void arr_i64(struct pg_arr *a, int64_t v)
{
	put_be32(&a->b, 8);
	put_be64(&a->b, (uint64_t)v);
	a->n++;
}

/* Sets the array's length; returns its size for the parameter lengths. */
static int arr_len(struct pg_arr *a)
{
	unsigned char *p = (unsigned char *)a->b.buf + 12;

	p[0] = (unsigned char)(a->n >> 24), p[1] = (unsigned char)(a->n >> 16);
	p[2] = (unsigned char)(a->n >> 8), p[3] = (unsigned char)a->n;
	return (int)a->b.len;
}

/* Appends the frame ids of stack `id` of `enc`, root first, 8 bytes each, big-endian: kiln_stacks.frames. */
static int stack_path(const struct store_enc *enc, struct u64map *nodes, int64_t id, struct buf *out,
		      struct err *e)
{
	size_t depth = 0, start = out->len;

	if (!nodes->nr)
		for (size_t k = 0; k < enc->nstacks; k++)
			*u64map_insert(nodes, (uint64_t)enc->stacks[k].id, &(int){ 0 }) = k;
	/* Leaf first, then reversed in place. */
	while (id) {
		const uint64_t *k = u64map_find(nodes, (uint64_t)id);

		if (!k || depth++ > enc->nstacks)
			return err_set(e, "an encoded stack misses its nodes");
		put_be64(out, (uint64_t)enc->stacks[*k].frame);
		id = enc->stacks[*k].parent;
	}
	for (size_t i = 0, j = depth - 1; depth && i < j; i++, j--) {
		char t[8], *x = out->buf + start + 8 * i, *y = out->buf + start + 8 * j;

		memcpy(t, x, 8), memcpy(x, y, 8), memcpy(y, t, 8);
	}
	return 0;
}

static int insert_stacks(PGconn *c, const char *tenant, struct batch *b, const struct store_enc *enc, size_t n,
			 struct err *e)
{
	struct pg_arr ids, paths;
	struct u64map *nodes = NULL; /* per write: stack id -> index in its stacks, built when first needed */
	struct buf path = BUF_INIT;
	int rc = -1;

	if (!b->stacks_nr)
		return 0;
	qsort(b->stacks, b->stacks_nr, sizeof(*b->stacks), cmp_stack);
	arr_init(&ids, OID_INT8);
	arr_init(&paths, OID_BYTEA);
	nodes = xcalloc(n, sizeof(*nodes));
	for (size_t i = 0; i < b->stacks_nr; i++) {
		buf_reset(&path);
		if (stack_path(&enc[b->stacks[i].enc], &nodes[b->stacks[i].enc], b->stacks[i].id, &path, e))
			goto out;
		arr_i64(&ids, b->stacks[i].id);
		arr_bytes(&paths, path.buf, path.len);
	}
	{
		const char *v[] = { tenant, ids.b.buf, paths.b.buf };
		int lens[] = { 0, arr_len(&ids), arr_len(&paths) }, bin[] = { 0, 1, 1 };

		rc = send_stmt(c, ST_STACKS, v, lens, bin, e);
	}
out:
	for (size_t i = 0; i < n; i++)
		u64map_release(&nodes[i]);
	free(nodes);
	buf_release(&path);
	buf_release(&ids.b);
	buf_release(&paths.b);
	return rc;
}

static int cmp_day(const void *a, const void *b)
{
	const struct row_day *x = a, *y = b;

	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	return x->series < y->series ? -1 : x->series > y->series;
}

static int insert_days(PGconn *c, const char *tenant, struct batch *b, struct err *e)
{
	struct buf days = BUF_INIT, series = BUF_INIT;
	int rc;

	if (!b->days_nr)
		return 0;
	qsort(b->days, b->days_nr, sizeof(*b->days), cmp_day);
	buf_addch(&days, '{'), buf_addch(&series, '{');
	for (size_t i = 0; i < b->days_nr; i++) {
		add_array_int(&days, (uint64_t)b->days[i].day, !i);
		add_array_int(&series, b->days[i].series, !i);
	}
	buf_addch(&days, '}'), buf_addch(&series, '}');
	const char *v[] = { tenant, days.buf, series.buf };

	rc = send_stmt(c, ST_DAYS, v, NULL, NULL, e);
	buf_release(&days), buf_release(&series);
	return rc;
}

static int insert_series(PGconn *c, const struct store_enc *enc, struct err *e)
{
	char id[32];
	const char *v[] = { enc->tenant, id, enc->profile_type, enc->labels_key };

	snprintf(id, sizeof(id), "%lld", (long long)enc->series_id);
	return send_stmt(c, ST_SERIES, v, NULL, NULL, e);
}

/*
 * The profiles of the batch in one statement, and with them the rows that add a late profile to the rollups of
 * its hour and day when those are already rolled up: decided by the database against the watermark row, which
 * the transaction holds FOR SHARE (store_pg_rollup.c), so nothing waits for an answer in between. Times are
 * not negative (ingest_once() refused those), so a bucket is the time less its remainder.
 */
static int insert_profiles(PGconn *c, const char *tenant, const struct store_enc *enc, const struct buf *bodies,
			   size_t n, struct err *e)
{
	struct pg_arr ids, series, from, until, total, data;
	char id[40];
	int rc;

	arr_init(&ids, OID_TEXT), arr_init(&series, OID_INT8), arr_init(&from, OID_INT8);
	arr_init(&until, OID_INT8), arr_init(&total, OID_INT8), arr_init(&data, OID_BYTEA);
	for (size_t i = 0; i < n; i++) {
		new_profile_id(id, sizeof(id), enc[i].from_ns);
		arr_bytes(&ids, id, strlen(id));
		arr_i64(&series, enc[i].series_id);
		arr_i64(&from, enc[i].from_ns);
		arr_i64(&until, enc[i].until_ns);
		arr_i64(&total, enc[i].total);
		arr_bytes(&data, bodies[i].buf, bodies[i].len);
	}
	{
		char hour[32], day[32];
		const char *v[] = { tenant, ids.b.buf, series.b.buf, from.b.buf, until.b.buf, total.b.buf, data.b.buf,
				    hour, day };
		int lens[] = { 0, arr_len(&ids), arr_len(&series), arr_len(&from), arr_len(&until), arr_len(&total),
			       arr_len(&data), 0, 0 };
		int bin[] = { 0, 1, 1, 1, 1, 1, 1, 0, 0 };

		snprintf(hour, sizeof(hour), "%lld", (long long)HOUR_NS);
		snprintf(day, sizeof(day), "%lld", (long long)DAY_NS);
		rc = send_stmt(c, ST_PROFILES, v, lens, bin, e);
	}
	buf_release(&ids.b), buf_release(&series.b), buf_release(&from.b);
	buf_release(&until.b), buf_release(&total.b), buf_release(&data.b);
	return rc;
}

static void batch_release(struct batch *b)
{
	u64map_release(&b->seen);
	u64map_release(&b->keys);
	free(b->frames);
	free(b->stacks);
	free(b->days);
	memset(b, 0, sizeof(*b));
}

/* Whether the new series of a batch fit under the per-tenant limit (counted in the database: several servers
 * share it). 0, STORE_ELIMIT, or -1. */
static int admit_series(struct pg_store *s, PGconn *c, const char *tenant, size_t nnew, struct err *e)
{
	const char *v[] = { tenant };
	PGresult *r;
	int64_t have;

	if (!s->max_series || !nnew)
		return 0;
	r = run(c, "SELECT count(*) FROM kiln_series WHERE tenant = $1", 1, v, NULL, NULL, 1, e);
	if (!r)
		return -1;
	have = field_i64(r, 0, 0);
	PQclear(r);
	if ((uint64_t)have + nnew > s->max_series) {
		err_set(e, "the tenant has reached its limit of %llu series", (unsigned long long)s->max_series);
		return STORE_ELIMIT;
	}
	return 0;
}

/* One attempt at storing the writes in one transaction. */
static int ingest_once(struct pg_store *s, PGconn *c, const struct store_write *w, size_t n, struct err *e)
{
	struct batch b = { 0 };
	struct store_enc *enc = xcalloc(n ? n : 1, sizeof(*enc));
	struct buf *bodies = xcalloc(n ? n : 1, sizeof(*bodies));
	bool *new_series = xcalloc(n ? n : 1, sizeof(*new_series));
	size_t nnew = 0, nenc = 0;
	const char *tenant = n && w[0].tenant ? w[0].tenant : "";
	int rc = -1, pid = 0;

	for (; nenc < n; nenc++) {
		if (w[nenc].from_ns < 0) {
			err_set(e, "a profile's time is before 1970");
			goto out;
		}
		if (store_encode(&w[nenc], &enc[nenc], e) || ensure_partition(s, c, day_of(w[nenc].from_ns), e))
			goto out;
	}
	if (n && ensure_tenant(s, c, tenant, e))
		goto out;
	pthread_mutex_lock(&s->cache_lock);
	caches_bound(s);
	for (size_t i = 0; i < n; i++) {
		uint64_t tk = tenant_key(tenant), sid = (uint64_t)enc[i].series_id;

		new_series[i] = need_row(s, &b, row_key(tk, ROW_SERIES, sid));
		nnew += new_series[i];
		if (need_row(s, &b, row_key(tk ^ sid, ROW_SERIES_DAY, (uint64_t)day_of(w[i].from_ns))))
			PUSH(b.days, b.days_nr, b.days_alloc, ((struct row_day){ sid, day_of(w[i].from_ns) }));
		batch_rows(s, &b, tk, &enc[i], i);
		buf_init(&bodies[i], 256);
		pack_body(&bodies[i], &enc[i]);
	}
	pthread_mutex_unlock(&s->cache_lock);

	rc = admit_series(s, c, tenant, nnew, e);
	if (rc)
		goto out;
	/*
	 * One round trip: the whole transaction is sent as a pipeline and its results read once it is all sent.
	 * The rollup watermarks are locked against compaction first (store_pg_rollup.c), and a late profile's rollup
	 * rows are written or not by the database against them, so nothing waits for an answer in between.
	 * pg_ingest() made sure that the batch is of one tenant (store_pg_commit.c).
	 */
	if (!PQenterPipelineMode(c)) {
		err_set(e, "PostgreSQL: cannot pipeline: %s", PQerrorMessage(c));
		one_line(e);
		rc = -1;
		goto out;
	}
	rc = send_prepares(s, c, &pid, e) || pg_send(c, "BEGIN", 0, NULL, NULL, NULL, e) ||
	     (n && (send_stmt(c, ST_LOCK, (const char *const[]){ tenant }, NULL, NULL, e) ||
		    insert_frames(c, tenant, &b, e) || insert_stacks(c, tenant, &b, enc, n, e) ||
		    insert_days(c, tenant, &b, e)));
	for (size_t i = 0; !rc && i < n; i++)
		rc = new_series[i] && insert_series(c, &enc[i], e);
	rc = rc || (n && insert_profiles(c, tenant, enc, bodies, n, e));
	rc = rc || pg_send(c, "COMMIT", 0, NULL, NULL, NULL, e) ? -1 : 0;
	if (pipe_finish(c, rc, e)) {
		rc = -1;
		goto out;
	}

	remember_prepared(s, pid);
	/* Durable: only now may the cache say these rows exist. */
	pthread_mutex_lock(&s->cache_lock);
	{
		size_t pos = 0;
		uint64_t k, v;

		while (u64map_next(&b.keys, &pos, &k, &v))
			u64map_insert(&s->written, k, &(int){ 0 });
	}
	pthread_mutex_unlock(&s->cache_lock);
	for (size_t i = 0; i < n; i++)
		pg_note_write(s, w[i].from_ns);
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		buf_release(&bodies[i]);
	for (size_t i = 0; i < nenc; i++)
		store_enc_release(&enc[i]);
	free(enc);
	free(bodies);
	free(new_series);
	batch_release(&b);
	return rc;
}

void forget_partitions(struct pg_store *s)
{
	/* The partition keys live in `written` with everything else; emptying it costs only re-checks. */
	pthread_mutex_lock(&s->cache_lock);
	u64map_release(&s->written);
	u64map_release(&s->written_old);
	pthread_mutex_unlock(&s->cache_lock);
}

int pg_ingest_batch(struct pg_store *s, const struct store_write *w, size_t n, struct err *e)
{
	PGconn *c;
	int rc = -1;

	c = pool_get(s, e);
	if (!c)
		return -1;
	for (int attempt = 0; attempt < 4; attempt++) {
		rc = ingest_once(s, c, w, n, e);
		if (!rc || !retryable(e))
			break;
		forget_partitions(s);
		pthread_mutex_lock(&s->cache_lock);
		s->nprepared = 0;
		pthread_mutex_unlock(&s->cache_lock);
	}
	pool_put(s, c);
	return rc;
}

