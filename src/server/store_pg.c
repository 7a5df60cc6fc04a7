/*
 * The PostgreSQL backend of kiln serve's storage (store.h), for a fleet: several stateless `kiln serve`
 * processes share one database, ingesting and querying at once without coordinating.
 *
 * Ids need no central counter: a frame's id is a hash of what it is (function, file, line, module, kind), a
 * stack's id a hash of (parent stack id, frame id), a series' id a hash of its profile type and labels, and a
 * profile's id is its start time and 64 random bits. Two writers that meet the same stack insert the same row
 * and `ON CONFLICT DO NOTHING` keeps one; rows are inserted in ascending id order so that two transactions
 * touching the same ids wait on each other in one order and cannot deadlock.
 *
 * Profiles live in `kiln_profiles`, partitioned by day on their start time, so retention drops whole
 * partitions. `kiln_series_days` says which series have data on which day: listing the series of a range
 * never scans profiles. Each process caches which ids it has already written (so steady ingest of known stacks
 * writes only the profile row) and what stack and frame ids resolve to (so queries of hot stacks do not ask
 * the database again); both caches are bounded and simply emptied when full.
 */
#include "server/store_pg.h"

#include <stdlib.h>
#include <sys/random.h>

#include "profile/profile.h"

/* ---- the connection pool ---- */

static PGconn *pool_take(struct pg_pool *p, struct err *e)
{
	PGconn *c = NULL;
	int slot = -1;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		for (int i = 0; i < p->nconns; i++)
			if (!p->busy[i]) {
				slot = i;
				break;
			}
		if (slot >= 0 || p->nconns < POOL_MAX)
			break;
		pthread_cond_wait(&p->cond, &p->lock);
	}
	if (slot < 0) {
		slot = p->nconns++;
		p->conns[slot] = NULL;
	}
	p->busy[slot] = true;
	c = p->conns[slot];
	pthread_mutex_unlock(&p->lock);

	if (!c) {
		c = PQconnectdb(p->conninfo);
		PQsetNoticeProcessor(c, NULL, NULL);
	} else if (PQstatus(c) != CONNECTION_OK) {
		PQreset(c);
	}
	if (PQstatus(c) != CONNECTION_OK) {
		err_set(e, "cannot connect to PostgreSQL: %s", PQerrorMessage(c));
		one_line(e);
	}
	pthread_mutex_lock(&p->lock);
	p->conns[slot] = c;
	if (PQstatus(c) != CONNECTION_OK) {
		p->busy[slot] = false;
		pthread_cond_signal(&p->cond);
		c = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	return c;
}

PGconn *pool_get(struct pg_store *s, struct err *e)
{
	return pool_take(&s->primary, e);
}

PGconn *read_get(struct pg_store *s, struct err *e)
{
	return pool_take(s->reads, e);
}

static bool pool_give(struct pg_pool *p, PGconn *c)
{
	bool found = false;

	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < p->nconns; i++)
		if (p->conns[i] == c) {
			p->busy[i] = false;
			found = true;
		}
	if (found)
		pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return found;
}

void pool_put(struct pg_store *s, PGconn *c)
{
	if (c && !pool_give(&s->primary, c))
		pool_give(&s->replica, c);
}

static void pool_init(struct pg_pool *p, const char *conninfo)
{
	p->conninfo = xstrdup(conninfo);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
}

static void pool_release(struct pg_pool *p)
{
	if (!p->conninfo)
		return;
	for (int i = 0; i < p->nconns; i++)
		PQfinish(p->conns[i]);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->conninfo);
}

static void nonotice(void *arg, const PGresult *r)
{
	(void)arg;
	(void)r;
}

/* Runs `sql` with text parameters (`bin` marks binary ones, with their lengths); binary results when asked. */
PGresult *run(PGconn *c, const char *sql, int n, const char *const *vals, const int *lens, const int *bin,
		     int binary_result, struct err *e)
{
	PGresult *r;
	ExecStatusType st;

	PQsetNoticeReceiver(c, nonotice, NULL);
	r = PQexecParams(c, sql, n, NULL, vals, lens, bin, binary_result);
	st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	err_set(e, "PostgreSQL: %s", PQresultErrorMessage(r));
	one_line(e);
	PQclear(r);
	return NULL;
}

int run_ok(PGconn *c, const char *sql, int n, const char *const *vals, struct err *e)
{
	PGresult *r = run(c, sql, n, vals, NULL, NULL, 0, e);

	PQclear(r);
	return r ? 0 : -1;
}

int pg_send(PGconn *c, const char *sql, int n, const char *const *vals, const int *lens, const int *bin,
	    struct err *e)
{
	if (PQsendQueryParams(c, sql, n, NULL, vals, lens, bin, 0))
		return 0;
	err_set(e, "PostgreSQL: %s", PQerrorMessage(c));
	one_line(e);
	return -1;
}

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

/* Whether the last failure is one a retry may cure: deadlock, serialization failure, a dropped partition. */
static bool retryable(const struct err *e)
{
	return strstr(e->msg, "deadlock") || strstr(e->msg, "could not serialize") ||
	       strstr(e->msg, "no partition of relation");
}

/* ---- schema ---- */

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS kiln_frames (tenant text NOT NULL, id bigint NOT NULL, name text NOT NULL,"
	" file text NOT NULL, line bigint NOT NULL, module text NOT NULL, kind integer NOT NULL, addr bigint NOT NULL,"
	" PRIMARY KEY (tenant, id));"
	"CREATE TABLE IF NOT EXISTS kiln_stacks (tenant text NOT NULL, id bigint NOT NULL, parent bigint NOT NULL,"
	" frame bigint NOT NULL, PRIMARY KEY (tenant, id));"
	"CREATE TABLE IF NOT EXISTS kiln_series (tenant text NOT NULL, id bigint NOT NULL,"
	" profile_type text NOT NULL, labels text NOT NULL, PRIMARY KEY (tenant, id));"
	"CREATE TABLE IF NOT EXISTS kiln_series_days (tenant text NOT NULL, day integer NOT NULL,"
	" series bigint NOT NULL, PRIMARY KEY (tenant, day, series));"
	"CREATE TABLE IF NOT EXISTS kiln_profiles (tenant text NOT NULL, id text NOT NULL, series bigint NOT NULL,"
	" from_ns bigint NOT NULL, until_ns bigint NOT NULL, total bigint NOT NULL, data bytea NOT NULL)"
	" PARTITION BY RANGE (from_ns);"
	"CREATE INDEX IF NOT EXISTS kiln_profiles_series ON kiln_profiles (tenant, series, from_ns);"
	"CREATE TABLE IF NOT EXISTS kiln_rollups (tenant text NOT NULL, series bigint NOT NULL, level integer NOT NULL,"
	" bucket bigint NOT NULL, profiles integer NOT NULL, total bigint NOT NULL, data bytea NOT NULL);"
	"CREATE INDEX IF NOT EXISTS kiln_rollups_bucket ON kiln_rollups (tenant, level, series, bucket);"
	"CREATE TABLE IF NOT EXISTS kiln_compaction (tenant text PRIMARY KEY, hour_until bigint NOT NULL DEFAULT 0,"
	" day_until bigint NOT NULL DEFAULT 0);";

static int create_schema(PGconn *c, struct err *e)
{
	char lock[64];
	const char *v[] = { lock };

	snprintf(lock, sizeof(lock), "%d", SCHEMA_LOCK);
	if (run_ok(c, "BEGIN", 0, NULL, e) || run_ok(c, "SELECT pg_advisory_xact_lock($1::int, 0)", 1, v, e))
		goto fail;
	PGresult *r = PQexec(c, schema_sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		err_set(e, "creating kiln's tables in PostgreSQL: %s", PQresultErrorMessage(r));
		one_line(e);
		PQclear(r);
		goto fail;
	}
	PQclear(r);
	return run_ok(c, "COMMIT", 0, NULL, e);
fail:
	PQclear(PQexec(c, "ROLLBACK"));
	return -1;
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

/* ---- open / close ---- */

void pg_close(struct store *h)
{
	struct pg_store *s = (struct pg_store *)h;

	if (!s)
		return;
	pool_release(&s->primary);
	pool_release(&s->replica);
	pthread_mutex_destroy(&s->cache_lock);
	pthread_mutex_destroy(&s->group_lock);
	pthread_cond_destroy(&s->group_cond);
	u64map_release(&s->written);
	u64map_release(&s->written_old);
	u64map_release(&s->stack_parent);
	u64map_release(&s->stack_frame);
	u64map_release(&s->frame_index);
	strtab_release(&s->strings);
	free(s->frames);
	free(s);
}

struct store *store_pg_open(const struct store_opts *o, struct err *e)
{
	struct pg_store *s = xcalloc(1, sizeof(*s));
	PGconn *c;

	s->base.be = &store_pg_backend;
	s->max_series = o->max_series;
	s->retention_ns = o->retention_ns;
	s->read_only = o->read_only;
	pool_init(&s->primary, o->location);
	s->reads = &s->primary;
	if (o->read_location) {
		pool_init(&s->replica, o->read_location);
		s->reads = &s->replica;
	}
	pthread_mutex_init(&s->cache_lock, NULL);
	pthread_mutex_init(&s->group_lock, NULL);
	pthread_cond_init(&s->group_cond, NULL);
	strtab_intern(&s->strings, "", 0);

	c = pool_get(s, e);
	if (!c || (!s->read_only && create_schema(c, e))) {
		pool_put(s, c);
		pg_close(&s->base);
		return NULL;
	}
	pool_put(s, c);
	/* A replica that cannot be reached now is an error now, not at the first query. */
	if (s->reads != &s->primary && !(c = read_get(s, e))) {
		pg_close(&s->base);
		return NULL;
	}
	pool_put(s, c);
	return &s->base;
}

/* Empties the caches when they are full: they only save round trips, so forgetting is always correct. */
void caches_bound(struct pg_store *s)
{
	if (s->written.nr > CACHE_MAX) {
		u64map_release(&s->written_old);
		s->written_old = s->written;
		s->written = (struct u64map)U64MAP_INIT;
	}
	if (s->stack_parent.nr > CACHE_MAX || s->frames_nr > CACHE_MAX / 2) {
		u64map_release(&s->stack_parent);
		u64map_release(&s->stack_frame);
		u64map_release(&s->frame_index);
		strtab_release(&s->strings);
		strtab_intern(&s->strings, "", 0);
		s->frames_nr = 0;
	}
}

/* ---- ingest ---- */

/* What one ingest transaction writes, each list sorted by id before it is sent. */
struct batch {
	struct u64map seen;   /* keys already in this batch */
	struct u64map keys;   /* the keys to mark written after the commit */
	const struct store_frame **frames; /* point into the writes' encodings */
	size_t frames_nr, frames_alloc;
	struct store_stack *stacks;
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
	int64_t x = ((const struct store_stack *)a)->id, y = ((const struct store_stack *)b)->id;

	return (x > y) - (x < y);
}

/* The frame and stack rows of an encoded write that the database may not have yet. */
static void batch_rows(struct pg_store *s, struct batch *b, uint64_t tk, const struct store_enc *enc)
{
	for (size_t i = 0; i < enc->nframes; i++)
		if (need_row(s, b, row_key(tk, ROW_FRAME, (uint64_t)enc->frames[i].id)))
			PUSH(b->frames, b->frames_nr, b->frames_alloc, &enc->frames[i]);
	for (size_t i = 0; i < enc->nstacks; i++)
		if (need_row(s, b, row_key(tk, ROW_STACK, (uint64_t)enc->stacks[i].id)))
			PUSH(b->stacks, b->stacks_nr, b->stacks_alloc, enc->stacks[i]);
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

	rc = pg_send(c,
		    "INSERT INTO kiln_frames (tenant, id, name, file, line, module, kind, addr)"
		    " SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[],"
		    " $7::int[], $8::bigint[]) ON CONFLICT DO NOTHING",
		    8, v, NULL, NULL, e);
	for (int k = 0; k < 7; k++)
		buf_release(&col[k]);
	return rc;
}

static int insert_stacks(PGconn *c, const char *tenant, struct batch *b, struct err *e)
{
	struct buf ids = BUF_INIT, parents = BUF_INIT, frames = BUF_INIT;
	int rc;

	if (!b->stacks_nr)
		return 0;
	qsort(b->stacks, b->stacks_nr, sizeof(*b->stacks), cmp_stack);
	buf_addch(&ids, '{'), buf_addch(&parents, '{'), buf_addch(&frames, '{');
	for (size_t i = 0; i < b->stacks_nr; i++) {
		add_array_int(&ids, (uint64_t)b->stacks[i].id, !i);
		add_array_int(&parents, (uint64_t)b->stacks[i].parent, !i);
		add_array_int(&frames, (uint64_t)b->stacks[i].frame, !i);
	}
	buf_addch(&ids, '}'), buf_addch(&parents, '}'), buf_addch(&frames, '}');
	const char *v[] = { tenant, ids.buf, parents.buf, frames.buf };

	rc = pg_send(c,
		     "INSERT INTO kiln_stacks (tenant, id, parent, frame)"
		     " SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) ON CONFLICT DO NOTHING",
		     4, v, NULL, NULL, e);
	buf_release(&ids), buf_release(&parents), buf_release(&frames);
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

	rc = pg_send(c,
		     "INSERT INTO kiln_series_days (tenant, day, series)"
		     " SELECT $1, * FROM unnest($2::int[], $3::bigint[]) ON CONFLICT DO NOTHING",
		     3, v, NULL, NULL, e);
	buf_release(&days), buf_release(&series);
	return rc;
}

static int insert_series(PGconn *c, const struct store_enc *enc, struct err *e)
{
	char id[32];
	const char *v[] = { enc->tenant, id, enc->profile_type, enc->labels_key };

	snprintf(id, sizeof(id), "%lld", (long long)enc->series_id);
	return pg_send(c,
		       "INSERT INTO kiln_series (tenant, id, profile_type, labels) VALUES ($1, $2, $3, $4)"
		       " ON CONFLICT DO NOTHING",
		       4, v, NULL, NULL, e);
}

static int insert_profile(PGconn *c, const struct store_enc *enc, const struct buf *body, struct err *e)
{
	char id[40], series[32], from[32], until[32], tot[32];
	const char *v[] = { enc->tenant, id, series, from, until, tot, body->buf };
	int lens[] = { 0, 0, 0, 0, 0, 0, (int)body->len }, bin[] = { 0, 0, 0, 0, 0, 0, 1 };

	new_profile_id(id, sizeof(id), enc->from_ns);
	snprintf(series, sizeof(series), "%lld", (long long)enc->series_id);
	snprintf(from, sizeof(from), "%lld", (long long)enc->from_ns);
	snprintf(until, sizeof(until), "%lld", (long long)enc->until_ns);
	snprintf(tot, sizeof(tot), "%lld", (long long)enc->total);
	return pg_send(c,
		       "INSERT INTO kiln_profiles (tenant, id, series, from_ns, until_ns, total, data)"
		       " VALUES ($1, $2, $3, $4, $5, $6, $7)",
		       7, v, lens, bin, e);
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
	int rc = -1;

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
		batch_rows(s, &b, tk, &enc[i]);
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
	rc = pg_send(c, "BEGIN", 0, NULL, NULL, NULL, e) ||
	     (n && (pg_send(c, "SELECT 1 FROM kiln_compaction WHERE tenant = $1 FOR SHARE", 1,
			    (const char *const[]){ tenant }, NULL, NULL, e) ||
		    insert_frames(c, tenant, &b, e) || insert_stacks(c, tenant, &b, e) || insert_days(c, tenant, &b, e)));
	for (size_t i = 0; !rc && i < n; i++)
		rc = (new_series[i] && insert_series(c, &enc[i], e)) || insert_profile(c, &enc[i], &bodies[i], e) ||
		     pg_send_late(c, tenant, (uint64_t)enc[i].series_id, w[i].from_ns, enc[i].total, &bodies[i], e);
	rc = rc || pg_send(c, "COMMIT", 0, NULL, NULL, NULL, e) ? -1 : 0;
	if (pipe_finish(c, rc, e)) {
		rc = -1;
		goto out;
	}

	/* Durable: only now may the cache say these rows exist. */
	pthread_mutex_lock(&s->cache_lock);
	{
		size_t pos = 0;
		uint64_t k, v;

		while (u64map_next(&b.keys, &pos, &k, &v))
			u64map_insert(&s->written, k, &(int){ 0 });
	}
	pthread_mutex_unlock(&s->cache_lock);
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
	}
	pool_put(s, c);
	return rc;
}

