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
#include "server/packed.h"

/* ---- the connection pool ---- */

PGconn *pool_get(struct pg_store *s, struct err *e)
{
	PGconn *c = NULL;
	int slot = -1;

	pthread_mutex_lock(&s->pool_lock);
	for (;;) {
		for (int i = 0; i < s->nconns; i++)
			if (!s->busy[i]) {
				slot = i;
				break;
			}
		if (slot >= 0 || s->nconns < POOL_MAX)
			break;
		pthread_cond_wait(&s->pool_cond, &s->pool_lock);
	}
	if (slot < 0) {
		slot = s->nconns++;
		s->conns[slot] = NULL;
	}
	s->busy[slot] = true;
	c = s->conns[slot];
	pthread_mutex_unlock(&s->pool_lock);

	if (!c) {
		c = PQconnectdb(s->conninfo);
		PQsetNoticeProcessor(c, NULL, NULL);
	} else if (PQstatus(c) != CONNECTION_OK) {
		PQreset(c);
	}
	if (PQstatus(c) != CONNECTION_OK) {
		err_set(e, "cannot connect to PostgreSQL: %s", PQerrorMessage(c));
		one_line(e);
	}
	pthread_mutex_lock(&s->pool_lock);
	s->conns[slot] = c;
	if (PQstatus(c) != CONNECTION_OK) {
		s->busy[slot] = false;
		pthread_cond_signal(&s->pool_cond);
		c = NULL;
	}
	pthread_mutex_unlock(&s->pool_lock);
	return c;
}

void pool_put(struct pg_store *s, PGconn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&s->pool_lock);
	for (int i = 0; i < s->nconns; i++)
		if (s->conns[i] == c)
			s->busy[i] = false;
	pthread_cond_signal(&s->pool_cond);
	pthread_mutex_unlock(&s->pool_lock);
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

/* Whether the last failure is one a retry may cure: deadlock, serialization failure, a dropped partition. */
static bool retryable(const struct err *e)
{
	return strstr(e->msg, "deadlock") || strstr(e->msg, "could not serialize") ||
	       strstr(e->msg, "no partition of relation");
}

/* ---- schema ---- */

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS kiln_frames (tenant text NOT NULL, id bigint NOT NULL, name text NOT NULL,"
	" file text NOT NULL, line bigint NOT NULL, module text NOT NULL, kind integer NOT NULL,"
	" PRIMARY KEY (tenant, id));"
	"CREATE TABLE IF NOT EXISTS kiln_stacks (tenant text NOT NULL, id bigint NOT NULL, parent bigint NOT NULL,"
	" frame bigint NOT NULL, PRIMARY KEY (tenant, id));"
	"CREATE TABLE IF NOT EXISTS kiln_series (tenant text NOT NULL, id bigint NOT NULL,"
	" profile_type text NOT NULL, labels bytea NOT NULL, PRIMARY KEY (tenant, id));"
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

/* Creates the day partition of `day` unless this process knows it exists; in its own short transaction, so
 * that ingest transactions never hold the creation lock. */
static int ensure_partition(struct pg_store *s, PGconn *c, int64_t day, struct err *e)
{
	uint64_t key = row_key(0, ROW_PARTITION, (uint64_t)day);
	char sql[256], lock[32], d[32];
	const char *v[] = { lock, d };
	bool known;

	pthread_mutex_lock(&s->cache_lock);
	known = u64map_find(&s->written, key) != NULL;
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
	known = u64map_find(&s->written, key) != NULL;
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

void pg_close(void *h)
{
	struct pg_store *s = h;

	if (!s)
		return;
	for (int i = 0; i < s->nconns; i++)
		PQfinish(s->conns[i]);
	pthread_mutex_destroy(&s->pool_lock);
	pthread_cond_destroy(&s->pool_cond);
	pthread_mutex_destroy(&s->cache_lock);
	u64map_release(&s->written);
	u64map_release(&s->stack_parent);
	u64map_release(&s->stack_frame);
	u64map_release(&s->frame_index);
	strtab_release(&s->strings);
	free(s->frames);
	free(s->conninfo);
	free(s);
}

void *pg_open(const struct store_opts *o, struct err *e)
{
	struct pg_store *s = xcalloc(1, sizeof(*s));
	PGconn *c;

	s->conninfo = xstrdup(o->location);
	s->retention_ns = o->retention_ns;
	s->read_only = o->read_only;
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_cond_init(&s->pool_cond, NULL);
	pthread_mutex_init(&s->cache_lock, NULL);
	strtab_intern(&s->strings, "", 0);

	c = pool_get(s, e);
	if (!c || (!s->read_only && create_schema(c, e))) {
		pool_put(s, c);
		pg_close(s);
		return NULL;
	}
	pool_put(s, c);
	return s;
}

/* Empties the caches when they are full: they only save round trips, so forgetting is always correct. */
void caches_bound(struct pg_store *s)
{
	if (s->written.nr > CACHE_MAX) {
		u64map_release(&s->written);
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
	struct row_frame {
		uint64_t id;
		const struct profile *p;
		uint32_t frame;
	} *frames;
	size_t frames_nr, frames_alloc;
	struct row_stack {
		uint64_t id, parent, frame;
	} *stacks;
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

	if (u64map_find(&s->written, key))
		return false;
	u64map_insert(&b->seen, key, &ins);
	if (!ins)
		return false;
	u64map_insert(&b->keys, key, &ins);
	return true;
}

static uint64_t frame_id(const struct profile *p, uint32_t fid)
{
	const struct frame *f = &p->frames[fid];
	struct buf b = BUF_INIT;
	uint64_t id;

	buf_adds(&b, profile_str(p, f->function));
	buf_addch(&b, 0);
	buf_adds(&b, profile_str(p, f->file));
	buf_addch(&b, 0);
	buf_adds(&b, profile_str(p, f->module));
	buf_addf(&b, "%c%u:%u", 0, f->line, f->kind);
	id = id63(hash_bytes(b.buf, b.len));
	buf_release(&b);
	return id;
}

static uint64_t series_id(const struct store_write *w)
{
	struct buf b = BUF_INIT;
	uint64_t id;

	buf_adds(&b, w->profile_type);
	for (size_t i = 0; i < w->nlabels; i++) {
		buf_addch(&b, 0);
		buf_adds(&b, w->labels[i].name);
		buf_addch(&b, 0);
		buf_adds(&b, w->labels[i].value);
	}
	id = id63(hash_bytes(b.buf, b.len));
	buf_release(&b);
	return id;
}

static void encode_labels(struct buf *b, const struct label_pair *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		buf_add(b, l[i].name, strlen(l[i].name) + 1);
		buf_add(b, l[i].value, strlen(l[i].value) + 1);
	}
}

static int cmp_pair(const void *a, const void *b)
{
	const struct packed_pair *x = a, *y = b;

	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

static int cmp_u64_first(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Turns one write into its profile row (packed body, total) and the frame and stack rows it needs. Stack ids
 * are computed for every node in id order: a node's parent always has a smaller id than the node itself.
 */
static int prepare_write(struct pg_store *s, struct batch *b, uint64_t tk, const struct store_write *w,
			 struct buf *body, int64_t *total, struct err *e)
{
	const struct profile *p = w->prof;
	uint64_t *fids = xcalloc(p->frames_nr ? p->frames_nr : 1, sizeof(*fids));
	uint64_t *sids = xcalloc(p->nodes_nr ? p->nodes_nr : 1, sizeof(*sids));
	struct packed_pair *pairs = xcalloc(p->rows_nr ? p->rows_nr : 1, sizeof(*pairs));
	size_t npairs = 0;

	if (w->column < 0 || (size_t)w->column >= p->ncolumns) {
		free(fids), free(sids), free(pairs);
		return err_set(e, "profile has no value column %d", w->column);
	}
	for (size_t f = 0; f < p->frames_nr; f++)
		fids[f] = frame_id(p, (uint32_t)f);
	for (size_t n = 1; n < p->nodes_nr; n++) {
		const struct stack_node *node = &p->nodes[n];
		uint64_t parent = sids[node->parent];
		uint64_t pair[2] = { parent, fids[node->frame] };

		sids[n] = id63(hash_bytes(pair, sizeof(pair)));
		if (need_row(s, b, row_key(tk, ROW_STACK, sids[n]))) {
			PUSH(b->stacks, b->stacks_nr, b->stacks_alloc,
				   ((struct row_stack){ sids[n], parent, fids[node->frame] }));
			if (need_row(s, b, row_key(tk, ROW_FRAME, fids[node->frame])))
				PUSH(b->frames, b->frames_nr, b->frames_alloc,
					   ((struct row_frame){ fids[node->frame], p, node->frame }));
		}
	}
	*total = 0;
	for (size_t r = 0; r < p->rows_nr; r++) {
		int64_t v = profile_row_values(p, r)[w->column];

		if (v == 0 || p->rows[r].node == 0)
			continue;
		pairs[npairs++] = (struct packed_pair){ sids[p->rows[r].node], v };
		*total = sat_add64(*total, v);
	}
	/* Rows that differ only in labels share a stack: sum them into one pair. */
	qsort(pairs, npairs, sizeof(*pairs), cmp_pair);
	size_t out = 0;

	for (size_t i = 0; i < npairs; i++) {
		if (out && pairs[out - 1].stack == pairs[i].stack)
			pairs[out - 1].value = sat_add64(pairs[out - 1].value, pairs[i].value);
		else
			pairs[out++] = pairs[i];
	}
	packed_encode(body, pairs, out);
	free(fids);
	free(sids);
	free(pairs);
	return 0;
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
	struct buf ids = BUF_INIT, names = BUF_INIT, files = BUF_INIT, lines = BUF_INIT, mods = BUF_INIT,
		   kinds = BUF_INIT;
	int rc;

	if (!b->frames_nr)
		return 0;
	qsort(b->frames, b->frames_nr, sizeof(*b->frames), cmp_u64_first);
	buf_addch(&ids, '{'), buf_addch(&names, '{'), buf_addch(&files, '{');
	buf_addch(&lines, '{'), buf_addch(&mods, '{'), buf_addch(&kinds, '{');
	for (size_t i = 0; i < b->frames_nr; i++) {
		const struct profile *p = b->frames[i].p;
		const struct frame *f = &p->frames[b->frames[i].frame];

		add_array_int(&ids, b->frames[i].id, !i);
		add_array_text(&names, profile_str(p, f->function), !i);
		add_array_text(&files, profile_str(p, f->file), !i);
		add_array_int(&lines, f->line, !i);
		add_array_text(&mods, profile_str(p, f->module), !i);
		add_array_int(&kinds, f->kind, !i);
	}
	buf_addch(&ids, '}'), buf_addch(&names, '}'), buf_addch(&files, '}');
	buf_addch(&lines, '}'), buf_addch(&mods, '}'), buf_addch(&kinds, '}');
	const char *v[] = { tenant, ids.buf, names.buf, files.buf, lines.buf, mods.buf, kinds.buf };

	rc = run_ok(c,
		    "INSERT INTO kiln_frames (tenant, id, name, file, line, module, kind)"
		    " SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[],"
		    " $7::int[]) ON CONFLICT DO NOTHING",
		    7, v, e);
	buf_release(&ids), buf_release(&names), buf_release(&files);
	buf_release(&lines), buf_release(&mods), buf_release(&kinds);
	return rc;
}

static int insert_stacks(PGconn *c, const char *tenant, struct batch *b, struct err *e)
{
	struct buf ids = BUF_INIT, parents = BUF_INIT, frames = BUF_INIT;
	int rc;

	if (!b->stacks_nr)
		return 0;
	qsort(b->stacks, b->stacks_nr, sizeof(*b->stacks), cmp_u64_first);
	buf_addch(&ids, '{'), buf_addch(&parents, '{'), buf_addch(&frames, '{');
	for (size_t i = 0; i < b->stacks_nr; i++) {
		add_array_int(&ids, b->stacks[i].id, !i);
		add_array_int(&parents, b->stacks[i].parent, !i);
		add_array_int(&frames, b->stacks[i].frame, !i);
	}
	buf_addch(&ids, '}'), buf_addch(&parents, '}'), buf_addch(&frames, '}');
	const char *v[] = { tenant, ids.buf, parents.buf, frames.buf };

	rc = run_ok(c,
		    "INSERT INTO kiln_stacks (tenant, id, parent, frame)"
		    " SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) ON CONFLICT DO NOTHING",
		    4, v, e);
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

	rc = run_ok(c,
		    "INSERT INTO kiln_series_days (tenant, day, series)"
		    " SELECT $1, * FROM unnest($2::int[], $3::bigint[]) ON CONFLICT DO NOTHING",
		    3, v, e);
	buf_release(&days), buf_release(&series);
	return rc;
}

static int insert_series(PGconn *c, const struct store_write *w, uint64_t sid, struct err *e)
{
	struct buf labels = BUF_INIT;
	char id[32];
	const char *v[] = { w->tenant, id, w->profile_type, NULL };
	int lens[] = { 0, 0, 0, 0 }, bin[] = { 0, 0, 0, 1 };
	PGresult *r;

	snprintf(id, sizeof(id), "%llu", (unsigned long long)sid);
	encode_labels(&labels, w->labels, w->nlabels);
	v[3] = labels.buf;
	lens[3] = (int)labels.len;
	r = run(c,
		"INSERT INTO kiln_series (tenant, id, profile_type, labels) VALUES ($1, $2, $3, $4)"
		" ON CONFLICT DO NOTHING",
		4, v, lens, bin, 0, e);
	PQclear(r);
	buf_release(&labels);
	return r ? 0 : -1;
}

static int insert_profile(PGconn *c, const struct store_write *w, uint64_t sid, const struct buf *body,
			  int64_t total, struct err *e)
{
	char id[40], series[32], from[32], until[32], tot[32];
	const char *v[] = { w->tenant, id, series, from, until, tot, body->buf };
	int lens[] = { 0, 0, 0, 0, 0, 0, (int)body->len }, bin[] = { 0, 0, 0, 0, 0, 0, 1 };
	PGresult *r;

	new_profile_id(id, sizeof(id), w->from_ns);
	snprintf(series, sizeof(series), "%llu", (unsigned long long)sid);
	snprintf(from, sizeof(from), "%lld", (long long)w->from_ns);
	snprintf(until, sizeof(until), "%lld", (long long)w->until_ns);
	snprintf(tot, sizeof(tot), "%lld", (long long)total);
	r = run(c,
		"INSERT INTO kiln_profiles (tenant, id, series, from_ns, until_ns, total, data)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7)",
		7, v, lens, bin, 0, e);
	PQclear(r);
	return r ? 0 : -1;
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

static int check_write(const struct store_write *w, struct err *e)
{
	if (!w->tenant || !w->profile_type || !w->prof)
		return err_set(e, "a stored profile needs a tenant, a profile type and a profile");
	if (w->from_ns < 0 || w->until_ns < w->from_ns)
		return err_set(e, "bad time range [%lld, %lld)", (long long)w->from_ns, (long long)w->until_ns);
	return 0;
}

/* One attempt at storing the writes in one transaction. */
static int ingest_once(struct pg_store *s, PGconn *c, const struct store_write *w, size_t n, struct err *e)
{
	struct batch b = { 0 };
	struct buf *bodies = xcalloc(n ? n : 1, sizeof(*bodies));
	int64_t *totals = xcalloc(n ? n : 1, sizeof(*totals));
	uint64_t *sids = xcalloc(n ? n : 1, sizeof(*sids));
	bool *new_series = xcalloc(n ? n : 1, sizeof(*new_series));
	int rc = -1;

	int64_t hour_until, day_until;

	for (size_t i = 0; i < n; i++)
		if (check_write(&w[i], e) || ensure_partition(s, c, day_of(w[i].from_ns), e))
			goto out;
	if (n && ensure_tenant(s, c, w[0].tenant, e))
		goto out;
	pthread_mutex_lock(&s->cache_lock);
	caches_bound(s);
	for (size_t i = 0; i < n; i++) {
		uint64_t tk = tenant_key(w[i].tenant);

		sids[i] = series_id(&w[i]);
		new_series[i] = need_row(s, &b, row_key(tk, ROW_SERIES, sids[i]));
		if (need_row(s, &b, row_key(tk ^ sids[i], ROW_SERIES_DAY, (uint64_t)day_of(w[i].from_ns))))
			PUSH(b.days, b.days_nr, b.days_alloc, ((struct row_day){ sids[i], day_of(w[i].from_ns) }));
		buf_init(&bodies[i], 256);
		if (prepare_write(s, &b, tk, &w[i], &bodies[i], &totals[i], e)) {
			pthread_mutex_unlock(&s->cache_lock);
			goto out;
		}
	}
	pthread_mutex_unlock(&s->cache_lock);

	/* pg_ingest() made sure that the batch is of one tenant. */
	if (run_ok(c, "BEGIN", 0, NULL, e))
		goto out;
	/* The rollup watermarks, locked against compaction until this commits (store_pg_rollup.c). */
	if (n && (pg_watermarks(c, w[0].tenant, true, &hour_until, &day_until, e) ||
		  insert_frames(c, w[0].tenant, &b, e) || insert_stacks(c, w[0].tenant, &b, e) ||
		  insert_days(c, w[0].tenant, &b, e)))
		goto rollback;
	for (size_t i = 0; i < n; i++)
		if ((new_series[i] && insert_series(c, &w[i], sids[i], e)) ||
		    insert_profile(c, &w[i], sids[i], &bodies[i], totals[i], e) ||
		    pg_add_late(c, w[i].tenant, sids[i], w[i].from_ns, totals[i], &bodies[i], hour_until, day_until, e))
			goto rollback;
	if (run_ok(c, "COMMIT", 0, NULL, e))
		goto rollback;

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
	goto out;
rollback:
	PQclear(PQexec(c, "ROLLBACK"));
out:
	for (size_t i = 0; i < n; i++)
		buf_release(&bodies[i]);
	free(bodies);
	free(totals);
	free(sids);
	free(new_series);
	batch_release(&b);
	return rc;
}

void forget_partitions(struct pg_store *s)
{
	/* The partition keys live in `written` with everything else; emptying it costs only re-checks. */
	pthread_mutex_lock(&s->cache_lock);
	u64map_release(&s->written);
	pthread_mutex_unlock(&s->cache_lock);
}

int pg_ingest(void *h, const struct store_write *w, size_t n, struct err *e)
{
	struct pg_store *s = h;
	PGconn *c;
	int rc = -1;

	if (s->read_only)
		return err_set(e, "this store is read-only");
	for (size_t i = 1; i < n; i++)
		if (strcmp(w[i].tenant ? w[i].tenant : "", w[0].tenant ? w[0].tenant : ""))
			return err_set(e, "one ingest batch holds profiles of several tenants");
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

