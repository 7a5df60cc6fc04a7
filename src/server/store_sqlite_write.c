/*
 * The writer of the SQLite backend (store_sqlite.h): one thread writes, with group commit. A caller of
 * store_ingest() encodes its profiles in its own thread, queues them and waits; the writer takes every queued
 * job at once, writes them in one transaction per file and commits with synchronous=FULL (WAL), then wakes
 * them all: one fsync serves every request that arrived meanwhile. Retention runs as a job of the same thread,
 * so that no partition it deletes is open for writing.
 */
#include "server/store_sqlite.h"

#include <errno.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/sort.h"
#include "core/xalloc.h"

enum sq_job_kind { JOB_WRITE, JOB_RETAIN, JOB_COMPACT };

struct sq_job {
	enum sq_job_kind kind;
	struct store_enc *enc; /* JOB_WRITE: the profiles */
	size_t n;
	int64_t arg; /* JOB_RETAIN: the first day kept; JOB_COMPACT: the time now */
	int status;
	sem_t done; /* posted by the writer: each caller is woken alone, when its own job is done */
	struct err err;
	struct sq_job *next;
};

static const char part_schema[] =
	"CREATE TABLE IF NOT EXISTS profiles(id INTEGER PRIMARY KEY, series INTEGER, time_ns INTEGER,"
	" until_ns INTEGER, total INTEGER, data BLOB);"
	"CREATE INDEX IF NOT EXISTS profiles_series ON profiles(series, time_ns);"
	"CREATE TABLE IF NOT EXISTS rollups(series INTEGER, level INTEGER, bucket INTEGER, profiles INTEGER,"
	" total INTEGER, data BLOB);"
	"CREATE INDEX IF NOT EXISTS rollups_series ON rollups(series, level, bucket);"
	"CREATE TABLE IF NOT EXISTS stack_ref(series INTEGER, local INTEGER, stack INTEGER,"
	" PRIMARY KEY(series, local)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS pseries(series INTEGER PRIMARY KEY, n INTEGER, first_ns INTEGER,"
	" last_ns INTEGER);";

/* ---- the writer --------------------------------------------------------------------------------------------- */

void sq_wpart_close(struct sq_wpart *p)
{
	sqlite3_close(p->db);
	u64map_release(&p->local);
	u64map_release(&p->last_local);
	memset(p, 0, sizeof(*p));
	p->day = -1;
}

/*
 * The key of (series, stack) in a partition's map of local ids: the stack's key in the known-node set mixed
 * with the series. A profile's stacks are looked up here, one probe each, and only the stacks a series has not
 * used in the partition yet need the known-node set (three or more cache misses a lookup in a set of millions).
 * Bit 63 is clear, so the key is never the map's empty one.
 */
static uint64_t local_key(int64_t series, uint64_t stack_key)
{
	return (hash_u64((uint64_t)series) ^ stack_key) & INT64_MAX;
}

static uint64_t stack_key(int64_t tenant_id, int64_t stack)
{
	int64_t key[2] = { tenant_id, stack };

	return (uint64_t)store_id_of(key, sizeof(key));
}

static int wpart_load(const struct sq_store *s, struct sq_wpart *p, struct err *e)
{
	const struct store_keys *k = &s->known_stacks;
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(p->db, "SELECT series, local, stack FROM stack_ref", -1, &st, NULL) != SQLITE_OK)
		return sq_err(p->db, "reading stack ids", e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t series = sqlite3_column_int64(st, 0), seq = sqlite3_column_int64(st, 2);
		uint64_t local = (uint64_t)sqlite3_column_int64(st, 1), *last;
		int ins;

		if (seq < 1 || seq >= s->next_stack || (size_t)seq >= k->keys_alloc) {
			sqlite3_finalize(st);
			return err_set(e, "the store is damaged: a stack id names stack node %lld", (long long)seq);
		}
		*u64map_insert(&p->local, local_key(series, k->keys[seq]), &ins) = local;
		last = u64map_insert(&p->last_local, (uint64_t)series, &ins);
		if (local > *last)
			*last = local;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sq_err(p->db, "reading stack ids", e);
}

/* The open partition of `day`, or NULL. */
static struct sq_wpart *wpart_open(struct sq_store *s, int64_t day)
{
	for (int i = 0; i < SQ_WPARTS; i++)
		if (s->wparts[i].day == day)
			return &s->wparts[i];
	return NULL;
}

/* The least recently used partition makes room for a new one. */
struct sq_wpart *sq_wpart_get(struct sq_store *s, int64_t day, struct err *e)
{
	struct sq_wpart *victim = wpart_open(s, day);
	char *path;

	if (victim) {
		victim->last_use = ++s->tick;
		return victim;
	}
	victim = &s->wparts[0];
	for (int i = 0; i < SQ_WPARTS; i++) {
		if (s->wparts[i].day < 0 || s->wparts[i].last_use < victim->last_use)
			victim = &s->wparts[i];
		if (s->wparts[i].day < 0)
			victim->last_use = 0;
	}
	if (victim->day >= 0)
		sq_wpart_close(victim);
	path = sq_part_path(s, day);
	if (sq_open(path, true, &victim->db, e) || sq_exec(victim->db, part_schema, e)) {
		err_wrap(e, "partition '%s'", path);
		free(path);
		sq_wpart_close(victim);
		return NULL;
	}
	free(path);
	victim->day = day;
	victim->last_use = ++s->tick;
	if (wpart_load(s, victim, e)) {
		sq_wpart_close(victim);
		return NULL;
	}
	return victim;
}

static int step_done(sqlite3 *db, sqlite3_stmt *st, const char *what, struct err *e)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sq_err(db, what, e);
}

struct meta_stmts {
	sqlite3_stmt *tenant, *frame, *stack, *series, *label;
};

static int64_t stack_seq(const struct sq_store *s, int64_t tenant_id, int64_t stack)
{
	return store_keys_find(&s->known_stacks, stack_key(tenant_id, stack), s->next_stack);
}

/*
 * Whether every stack of `enc` is already in meta.db, and with it every stack node and frame under it: a stack
 * is only ever remembered with all its ancestors and their frames. Once a fleet's stacks have been seen, this
 * is all the index work a profile costs. A stack with a local id in its day's partition is stored (local ids
 * are given after the index commits), which answers with one probe per stack; only the stacks new to the
 * series' partition are looked up in the known-node set.
 */
static bool stacks_known(struct sq_store *s, const struct store_enc *enc)
{
	struct sq_wpart *p = wpart_open(s, sq_day_of(enc->from_ns));

	for (size_t i = 0; i < enc->npairs; i++) {
		uint64_t k = stack_key(enc->tenant_id, enc->pairs[i].stack);

		if (p && u64map_find(&p->local, local_key(enc->series_id, k)))
			continue;
		if (!store_keys_find(&s->known_stacks, k, s->next_stack))
			return false;
	}
	return true;
}

/* Numbers stack node `st` (its parent has one already: encoded nodes come after their parents): its new number,
 * 0 when it has one, -1 when the numbers have run out. A failed commit takes the numbers back (struct store_keys). */
static int64_t number_stack(struct sq_store *s, const struct store_enc *enc, const struct store_stack *st)
{
	uint64_t k = stack_key(enc->tenant_id, st->id);

	if (store_keys_find(&s->known_stacks, k, s->next_stack))
		return 0;
	if (s->next_stack >= INT32_MAX)
		return -1;
	store_keys_add(&s->known_stacks, k, s->next_stack);
	return s->next_stack++;
}

/* The number of a frame of the batch (numbered before its nodes are written). */
static int64_t frame_seq(const struct sq_store *s, int64_t tenant_id, int64_t frame)
{
	int64_t key[2] = { tenant_id, frame };
	const uint64_t *seq = u64map_find(&s->known_frames, (uint64_t)store_id_of(key, sizeof(key)));

	return seq ? (int64_t)*seq : 0;
}

static int write_meta(struct sq_store *s, struct meta_stmts *m, const struct store_enc *enc, struct err *e)
{
	sqlite3 *db = s->wdb;
	bool known = stacks_known(s, enc);

	/* Pairs without their stacks (store_write.pairs) name stacks stored before, or nothing at all. */
	if (!known && !enc->nstacks)
		return err_set(e, "the profile names stacks that the store does not hold");

	if (!u64map_find(&s->known_tenants, (uint64_t)enc->tenant_id)) {
		sqlite3_bind_int64(m->tenant, 1, enc->tenant_id);
		sqlite3_bind_text(m->tenant, 2, enc->tenant, -1, SQLITE_STATIC);
		if (step_done(db, m->tenant, "storing a tenant", e))
			return -1;
	}
	for (size_t i = 0; !known && i < enc->nframes; i++) {
		const struct store_frame *f = &enc->frames[i];
		int64_t key[2] = { enc->tenant_id, f->id };
		int ins;
		/* Numbered now, not after the commit: a failed batch reloads the stored frames (write_batch_meta). */
		uint64_t *seq = u64map_insert(&s->known_frames, (uint64_t)store_id_of(key, sizeof(key)), &ins);

		if (!ins)
			continue;
		if (s->next_frame >= INT32_MAX)
			return err_set(e, "the store holds %d frames, as many as it can number", INT32_MAX);
		*seq = (uint64_t)s->next_frame++;
		sqlite3_bind_int64(m->frame, 1, (int64_t)*seq);
		sqlite3_bind_int64(m->frame, 2, enc->tenant_id);
		sqlite3_bind_int64(m->frame, 3, f->id);
		sqlite3_bind_text(m->frame, 4, f->function, -1, SQLITE_STATIC);
		sqlite3_bind_text(m->frame, 5, f->module, -1, SQLITE_STATIC);
		sqlite3_bind_text(m->frame, 6, f->file, -1, SQLITE_STATIC);
		sqlite3_bind_int64(m->frame, 7, f->line);
		sqlite3_bind_int64(m->frame, 8, f->addr);
		sqlite3_bind_int(m->frame, 9, f->kind);
		if (step_done(db, m->frame, "storing a frame", e))
			return -1;
	}
	for (size_t i = 0; !known && i < enc->nstacks; i++) {
		const struct store_stack *st = &enc->stacks[i];
		int64_t seq = number_stack(s, enc, st);

		if (!seq)
			continue;
		if (seq < 0)
			return err_set(e, "the store holds %d stack nodes, as many as it can number", INT32_MAX);
		sqlite3_bind_int64(m->stack, 1, seq);
		sqlite3_bind_int64(m->stack, 2, st->parent ? stack_seq(s, enc->tenant_id, st->parent) : 0);
		sqlite3_bind_int64(m->stack, 3, frame_seq(s, enc->tenant_id, st->frame));
		if (st->parent)
			sqlite3_bind_null(m->stack, 4); /* a node's tenant is its root's (load_stacks) */
		else
			sqlite3_bind_int64(m->stack, 4, enc->tenant_id);
		if (step_done(db, m->stack, "storing a stack", e))
			return -1;
	}
	if (!u64map_find(&s->known_series, (uint64_t)enc->series_id)) {
		sqlite3_bind_int64(m->series, 1, enc->series_id);
		sqlite3_bind_int64(m->series, 2, enc->tenant_id);
		sqlite3_bind_text(m->series, 3, enc->profile_type, -1, SQLITE_STATIC);
		sqlite3_bind_text(m->series, 4, enc->labels_key, -1, SQLITE_STATIC);
		if (step_done(db, m->series, "storing a series", e))
			return -1;
		for (size_t i = 0; i < enc->nlabels; i++) {
			sqlite3_bind_int64(m->label, 1, enc->tenant_id);
			sqlite3_bind_text(m->label, 2, enc->labels[i].name, -1, SQLITE_STATIC);
			sqlite3_bind_text(m->label, 3, enc->labels[i].value, -1, SQLITE_STATIC);
			sqlite3_bind_int64(m->label, 4, enc->series_id);
			if (step_done(db, m->label, "storing a label", e))
				return -1;
		}
	}
	return 0;
}

/* After a commit: what is now on disk need not be written again. */
static void remember_meta(struct sq_store *s, const struct store_enc *enc)
{
	int ins;

	u64map_insert(&s->known_tenants, (uint64_t)enc->tenant_id, &ins);
	u64map_insert(&s->known_series, (uint64_t)enc->series_id, &ins);
}

/* Whether the job's new series fit under the per-tenant limit; counts them when they do. */
static int admit_series(struct sq_store *s, struct sq_job *job)
{
	if (!s->max_series)
		return 0;
	for (size_t i = 0; i < job->n; i++) {
		const struct store_enc *enc = &job->enc[i];
		uint64_t *cnt;
		int ins;

		if (u64map_find(&s->counted_series, (uint64_t)enc->series_id))
			continue;
		cnt = u64map_insert(&s->tenant_series, (uint64_t)enc->tenant_id, &ins);
		if (*cnt >= s->max_series) {
			job->status = STORE_ELIMIT;
			return err_set(&job->err, "the tenant has reached its limit of %llu series",
				       (unsigned long long)s->max_series);
		}
		(*cnt)++;
		u64map_insert(&s->counted_series, (uint64_t)enc->series_id, &ins);
	}
	return 0;
}

struct part_stmts {
	sqlite3_stmt *profile, *ref, *pseries;
};

static void part_stmts_free(struct part_stmts *ps)
{
	sqlite3_finalize(ps->profile);
	sqlite3_finalize(ps->ref);
	sqlite3_finalize(ps->pseries);
	memset(ps, 0, sizeof(*ps));
}

static int part_stmts_init(struct sq_wpart *p, struct part_stmts *ps, struct err *e)
{
	memset(ps, 0, sizeof(*ps));
	if (sqlite3_prepare_v2(p->db, "INSERT INTO profiles(series, time_ns, until_ns, total, data)"
				      " VALUES (?, ?, ?, ?, ?)", -1, &ps->profile, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(p->db, "INSERT INTO stack_ref(series, local, stack) VALUES (?, ?, ?)", -1, &ps->ref,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(p->db, "INSERT INTO pseries(series, n, first_ns, last_ns) VALUES (?1, 1, ?2, ?2)"
				      " ON CONFLICT(series) DO UPDATE SET n = n + 1, first_ns = min(first_ns, ?2),"
				      " last_ns = max(last_ns, ?2)", -1, &ps->pseries, NULL) != SQLITE_OK) {
		sq_err(p->db, "preparing a partition", e);
		part_stmts_free(ps);
		return -1;
	}
	return 0;
}

struct local_pair {
	int64_t local, value;
};

SORT_BY_KEY(sort_local, struct local_pair, local)

static int write_profile(struct sq_store *s, struct sq_wpart *p, struct part_stmts *ps, const struct store_enc *enc,
			 struct err *e)
{
	struct local_pair *lp = xcalloc(enc->npairs ? enc->npairs : 1, sizeof(*lp));
	int64_t *ids = xcalloc(enc->npairs ? enc->npairs : 1, sizeof(*ids));
	int64_t *vals = xcalloc(enc->npairs ? enc->npairs : 1, sizeof(*vals));
	struct buf packed = BUF_INIT;
	int ret = -1;

	for (size_t i = 0; i < enc->npairs; i++) {
		uint64_t k = stack_key(enc->tenant_id, enc->pairs[i].stack);
		int ins;
		uint64_t *local = u64map_insert(&p->local, local_key(enc->series_id, k), &ins);

		if (ins) {
			int64_t seq = store_keys_find(&s->known_stacks, k, s->next_stack);

			/* Stacks of store_write.pairs come without their nodes: they must be stored already. (A
			 * failed write drops the partition's map of local ids, this new one with it.) */
			if (!seq) {
				err_set(e, "the profile names a stack that the store does not hold");
				goto out;
			}
			*local = ++*u64map_insert(&p->last_local, (uint64_t)enc->series_id, &ins);
			sqlite3_bind_int64(ps->ref, 1, enc->series_id);
			sqlite3_bind_int64(ps->ref, 2, (int64_t)*local);
			sqlite3_bind_int64(ps->ref, 3, seq);
			if (step_done(p->db, ps->ref, "storing a stack id", e))
				goto out;
		}
		lp[i] = (struct local_pair){ (int64_t)*local, enc->pairs[i].value };
	}
	sort_local(lp, enc->npairs);
	for (size_t i = 0; i < enc->npairs; i++) {
		ids[i] = lp[i].local;
		vals[i] = lp[i].value;
	}
	store_pack(&packed, ids, vals, enc->npairs);
	/*
	 * The row id is the next one (one writer owns the partition, and rows are only ever dropped with it): rows
	 * append to the table's B-tree instead of splitting its pages at random places.
	 */
	sqlite3_bind_int64(ps->profile, 1, enc->series_id);
	sqlite3_bind_int64(ps->profile, 2, enc->from_ns);
	sqlite3_bind_int64(ps->profile, 3, enc->until_ns);
	sqlite3_bind_int64(ps->profile, 4, enc->total);
	sqlite3_bind_blob(ps->profile, 5, packed.buf, (int)packed.len, SQLITE_STATIC);
	if (step_done(p->db, ps->profile, "storing a profile", e))
		goto out;
	/* Late for hours (or a day) already rolled up: one more rollup row of each. */
	if (enc->from_ns < s->hour_until &&
	    sq_rollup_add(p->db, enc->series_id, 1, store_floor_to(enc->from_ns, STORE_HOUR_NS), 1, enc->total,
			  &packed, e))
		goto out;
	if (enc->from_ns < s->day_until &&
	    sq_rollup_add(p->db, enc->series_id, 2, store_floor_to(enc->from_ns, STORE_DAY_NS), 1, enc->total,
			  &packed, e))
		goto out;
	sq_note_write(s, enc->from_ns);
	sqlite3_bind_int64(ps->pseries, 1, enc->series_id);
	sqlite3_bind_int64(ps->pseries, 2, enc->from_ns);
	if (step_done(p->db, ps->pseries, "indexing a series", e))
		goto out;
	ret = 0;
out:
	buf_release(&packed);
	free(lp);
	free(ids);
	free(vals);
	return ret;
}

static void fail_jobs(struct sq_job **jobs, size_t n, const struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		if (jobs[i]->status)
			continue;
		jobs[i]->status = -1;
		jobs[i]->err = *e;
	}
}

/* Writes the profiles of `day` of every admitted job in one transaction of its partition. */
static int write_day(struct sq_store *s, struct sq_job **jobs, size_t njobs, int64_t day, struct err *e)
{
	struct sq_wpart *p = sq_wpart_get(s, day, e);
	struct part_stmts ps;

	if (!p)
		return -1;
	if (part_stmts_init(p, &ps, e))
		return -1;
	if (sq_exec(p->db, "BEGIN IMMEDIATE", e))
		goto fail;
	for (size_t j = 0; j < njobs; j++) {
		if (jobs[j]->status)
			continue;
		for (size_t i = 0; i < jobs[j]->n; i++)
			if (sq_day_of(jobs[j]->enc[i].from_ns) == day && write_profile(s, p, &ps, &jobs[j]->enc[i], e))
				goto rollback;
	}
	part_stmts_free(&ps);
	if (sq_exec(p->db, "COMMIT", e)) {
		sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
		sq_wpart_close(p); /* its local-id map holds ids that were not committed */
		return -1;
	}
	return 0;
rollback:
	sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
fail:
	part_stmts_free(&ps);
	sq_wpart_close(p);
	return -1;
}

static int write_batch_meta(struct sq_store *s, struct sq_job **jobs, size_t njobs, struct err *e)
{
	struct meta_stmts m = { 0 };
	int64_t next_stack = s->next_stack;
	sqlite3 *db = s->wdb;
	int ret = -1;

	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO tenants(id, name) VALUES (?, ?)", -1, &m.tenant,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO frames VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &m.frame,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO stacks(seq, up, frame, tenant) VALUES (?1, ?1 - ?2, ?3, ?4)", -1, &m.stack, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO series VALUES (?, ?, ?, ?)", -1, &m.series, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO series_labels VALUES (?, ?, ?, ?)", -1, &m.label, NULL) !=
		    SQLITE_OK) {
		sq_err(db, "preparing the index", e);
		goto out;
	}
	if (sq_exec(db, "BEGIN IMMEDIATE", e))
		goto out;
	for (size_t j = 0; j < njobs; j++) {
		if (jobs[j]->status)
			continue;
		for (size_t i = 0; i < jobs[j]->n; i++)
			if (write_meta(s, &m, &jobs[j]->enc[i], e)) {
				sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
				goto out;
			}
	}
	if (sq_exec(db, "COMMIT", e)) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	ret = 0;
out:
	if (ret) {
		/* Nothing of the batch is stored: its numbers are free again, and its frames unknown. */
		s->next_stack = next_stack;
		sq_load_frames(s, NULL, NULL, &(struct err)ERR_INIT);
	}
	sqlite3_finalize(m.tenant);
	sqlite3_finalize(m.frame);
	sqlite3_finalize(m.stack);
	sqlite3_finalize(m.series);
	sqlite3_finalize(m.label);
	return ret;
}

/*
 * One group commit: the index first (frames, stacks, series), then each day's profiles. A crash in between
 * leaves index rows no profile uses yet, never a profile whose stacks are missing.
 */
static void write_batch(struct sq_store *s, struct sq_job **jobs, size_t njobs)
{
	struct err e = ERR_INIT;
	int64_t *days = NULL;
	size_t ndays = 0, alloc = 0;

	for (size_t j = 0; j < njobs; j++)
		admit_series(s, jobs[j]);
	if (write_batch_meta(s, jobs, njobs, &e)) {
		fail_jobs(jobs, njobs, &e);
		return;
	}
	for (size_t j = 0; j < njobs; j++)
		if (!jobs[j]->status)
			for (size_t i = 0; i < jobs[j]->n; i++)
				remember_meta(s, &jobs[j]->enc[i]);
	for (size_t j = 0; j < njobs; j++) {
		if (jobs[j]->status)
			continue;
		for (size_t i = 0; i < jobs[j]->n; i++) {
			int64_t d = sq_day_of(jobs[j]->enc[i].from_ns);
			size_t k;

			for (k = 0; k < ndays && days[k] != d; k++)
				;
			if (k == ndays) {
				ALLOC_GROW(days, ndays + 1, alloc);
				days[ndays++] = d;
			}
		}
	}
	for (size_t k = 0; k < ndays; k++) {
		if (!write_day(s, jobs, njobs, days[k], &e))
			continue;
		/* The jobs with a profile on that day failed; others may already be committed elsewhere. */
		for (size_t j = 0; j < njobs; j++)
			for (size_t i = 0; !jobs[j]->status && i < jobs[j]->n; i++)
				if (sq_day_of(jobs[j]->enc[i].from_ns) == days[k]) {
					jobs[j]->status = -1;
					jobs[j]->err = e;
				}
	}
	free(days);
}

/* A retention job; it runs in the writer so that no partition it drops is in use. */
static int drop_days(struct sq_store *s, int64_t before_day, struct err *e)
{
	int64_t *days;
	size_t n;
	int dropped = 0;

	if (sq_list_days(s, &days, &n, e))
		return -1;
	for (size_t i = 0; i < n && days[i] < before_day; i++) {
		char *path = sq_part_path(s, days[i]);
		struct buf b = BUF_INIT;

		for (int k = 0; k < SQ_WPARTS; k++)
			if (s->wparts[k].day == days[i])
				sq_wpart_close(&s->wparts[k]);
		/* Readers that still have the file open keep reading their copy; new ones no longer see it. */
		if (unlink(path) && errno != ENOENT) {
			err_errno(e, "cannot remove '%s'", path);
			free(path);
			free(days);
			return -1;
		}
		buf_addf(&b, "%s-wal", path);
		unlink(b.buf);
		buf_reset(&b);
		buf_addf(&b, "%s-shm", path);
		unlink(b.buf);
		buf_release(&b);
		free(path);
		dropped++;
	}
	free(days);
	return dropped;
}

static void checkpoint_idle(struct sq_store *s)
{
	sqlite3_wal_checkpoint_v2(s->wdb, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	for (int i = 0; i < SQ_WPARTS; i++)
		if (s->wparts[i].day >= 0)
			sqlite3_wal_checkpoint_v2(s->wparts[i].db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}

void *sq_writer_main(void *arg)
{
	struct sq_store *s = arg;
	struct sq_job **batch = NULL;
	size_t alloc = 0;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct sq_job *list;
		size_t n = 0;

		while (!s->head && !s->stop)
			pthread_cond_wait(&s->work, &s->lock);
		if (!s->head && s->stop)
			break;
		list = s->head;
		s->head = s->tail = NULL;
		pthread_mutex_unlock(&s->lock);

		for (struct sq_job *j = list; j; j = j->next) {
			if (j->kind == JOB_RETAIN) {
				j->status = drop_days(s, j->arg, &j->err);
				continue;
			}
			if (j->kind == JOB_COMPACT) {
				j->status = sq_compact_run(s, j->arg, &j->err);
				continue;
			}
			ALLOC_GROW(batch, n + 1, alloc);
			batch[n++] = j;
		}
		if (n)
			write_batch(s, batch, n);

		/* The job lives in its caller's frame, which may be gone as soon as the job is posted. */
		for (struct sq_job *j = list, *next; j; j = next) {
			next = j->next;
			sem_post(&j->done);
		}
		pthread_mutex_lock(&s->lock);
		if (!s->head) {
			/* Idle: move the WAL into the database files now, while nobody waits on a commit. */
			pthread_mutex_unlock(&s->lock);
			checkpoint_idle(s);
			pthread_mutex_lock(&s->lock);
		}
	}
	pthread_mutex_unlock(&s->lock);
	free(batch);
	return NULL;
}

/* Queues a job and waits for the writer to finish it. */
static int run_job(struct sq_store *s, struct sq_job *job)
{
	pthread_mutex_lock(&s->lock);
	if (s->stop) {
		pthread_mutex_unlock(&s->lock);
		job->status = -1;
		return err_set(&job->err, "the store is closing");
	}
	sem_init(&job->done, 0, 0);
	job->next = NULL;
	if (s->tail)
		s->tail->next = job;
	else
		s->head = job;
	s->tail = job;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->lock);
	while (sem_wait(&job->done) && errno == EINTR)
		;
	sem_destroy(&job->done);
	return job->status;
}

int sq_ingest(struct store *st, const struct store_write *w, size_t n, struct err *e)
{
	struct sq_store *s = (struct sq_store *)st;
	struct sq_job job = { 0 };
	size_t i;
	int ret = -1;

	if (s->read_only)
		return err_set(e, "the store is read-only");
	job.enc = xcalloc(n ? n : 1, sizeof(*job.enc));
	for (i = 0; i < n; i++) {
		if (store_encode(&w[i], &job.enc[i], e))
			goto out;
		if (s->retention_ns && w[i].from_ns < (int64_t)time(NULL) * 1000000000LL - s->retention_ns) {
			err_set(e, "the profile is older than the retention period");
			ret = STORE_ELIMIT;
			i++;
			goto out;
		}
	}
	job.n = n;
	if (!n) {
		ret = 0;
		goto out;
	}
	ret = run_job(s, &job);
	if (ret)
		*e = job.err;
out:
	for (size_t k = 0; k < i; k++)
		store_enc_release(&job.enc[k]);
	free(job.enc);
	return ret;
}

int sq_enforce_retention(struct store *st, int64_t now_ns, struct err *e)
{
	struct sq_store *s = (struct sq_store *)st;
	struct sq_job job = { 0 };

	if (!s->retention_ns || s->read_only)
		return 0;
	/* Whole days only: a day is dropped once all of it is older than the retention. */
	job.kind = JOB_RETAIN;
	job.arg = sq_day_of(now_ns - s->retention_ns);
	if (run_job(s, &job) < 0) {
		*e = job.err;
		return -1;
	}
	return job.status;
}


/* At most this many rollup steps (an hour or a day of every series) per call: a backfill's settle in 48. */
#define MAX_STEPS_PER_CALL 48

int sq_compact(struct store *st, int64_t now_ns, struct err *e)
{
	struct sq_store *s = (struct sq_store *)st;
	int steps = 0;

	if (s->read_only)
		return 0;
	/* One step per job: the requests that arrive meanwhile are written between steps, not after all of them
	 * (48 steps in one job held acknowledgements back for seconds during a backfill). */
	while (steps < MAX_STEPS_PER_CALL) {
		struct sq_job job = { .kind = JOB_COMPACT, .arg = now_ns };

		if (run_job(s, &job) < 0) {
			*e = job.err;
			return -1;
		}
		if (!job.status)
			break;
		steps++;
	}
	return steps;
}
