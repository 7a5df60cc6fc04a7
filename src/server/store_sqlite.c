/* The SQLite backend (store_sqlite.h): opening and closing, files and partitions, counters. */
#include "server/store_sqlite.h"

#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/xalloc.h"

static const char meta_schema[] =
	"CREATE TABLE IF NOT EXISTS tenants(id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS frames(seq INTEGER PRIMARY KEY, tenant INTEGER, id INTEGER, function TEXT,"
	" module TEXT, file TEXT, line INTEGER, addr INTEGER, kind INTEGER);"
	"CREATE UNIQUE INDEX IF NOT EXISTS frames_id ON frames(tenant, id);"
	"CREATE TABLE IF NOT EXISTS stacks(seq INTEGER PRIMARY KEY, up INTEGER, frame INTEGER, tenant INTEGER);"
	"CREATE TABLE IF NOT EXISTS series(id INTEGER PRIMARY KEY, tenant INTEGER, ptype TEXT, labels TEXT);"
	"CREATE INDEX IF NOT EXISTS series_tenant ON series(tenant, ptype);"
	"CREATE TABLE IF NOT EXISTS series_labels(tenant INTEGER, name TEXT, value TEXT, series INTEGER,"
	" PRIMARY KEY(tenant, name, value, series)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS compaction(id INTEGER PRIMARY KEY CHECK (id = 0), hour_until INTEGER,"
	" day_until INTEGER);";

int sq_err(sqlite3 *db, const char *what, struct err *e)
{
	return err_set(e, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

int sq_exec(sqlite3 *db, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, "sqlite: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int sq_open(const char *path, bool write, sqlite3 **db, struct err *e)
{
	int flags = write ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;

	flags |= SQLITE_OPEN_NOMUTEX; /* a connection is used by one thread at a time */
	if (sqlite3_open_v2(path, db, flags, NULL) != SQLITE_OK) {
		err_set(e, "cannot open '%s': %s", path, *db ? sqlite3_errmsg(*db) : "out of memory");
		sqlite3_close(*db);
		*db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(*db, 10000);
	/*
	 * Writers checkpoint when the queue is idle (sq_checkpoint_idle) rather than inside a commit that requests
	 * wait for; the automatic checkpoint stays, far off, as a bound on the WAL under endless load.
	 */
	if (write && sq_exec(*db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-4096;"
				  " PRAGMA wal_autocheckpoint=20000;", e)) {
		sqlite3_close(*db);
		*db = NULL;
		return err_wrap(e, "'%s'", path);
	}
	return 0;
}

char *sq_part_path(const struct sq_store *s, int64_t day)
{
	time_t t = (time_t)(day * 86400);
	struct tm tm;
	struct buf b = BUF_INIT;

	gmtime_r(&t, &tm);
	buf_addf(&b, "%s/p-%04d%02d%02d.db", s->dir, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	return buf_detach(&b, NULL);
}

static int64_t day_of_name(const char *name)
{
	struct tm tm = { 0 };
	int y, m, d;
	char tail[8];

	if (sscanf(name, "p-%4d%2d%2d%7s", &y, &m, &d, tail) != 4 || strcmp(tail, ".db"))
		return -1;
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	return (int64_t)timegm(&tm) / 86400;
}

static int day_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int sq_list_days(const struct sq_store *s, int64_t **days, size_t *n, struct err *e)
{
	DIR *d = opendir(s->dir);
	struct dirent *de;
	size_t alloc = 0;

	*days = NULL;
	*n = 0;
	if (!d)
		return err_errno(e, "cannot read '%s'", s->dir);
	while ((de = readdir(d))) {
		int64_t day = day_of_name(de->d_name);

		if (day < 0)
			continue;
		ALLOC_GROW(*days, *n + 1, alloc);
		(*days)[(*n)++] = day;
	}
	closedir(d);
	if (*n)
		qsort(*days, *n, sizeof(**days), day_cmp);
	return 0;
}

static int sq_stats(struct store *st, struct store_stats *out, struct err *e)
{
	struct sq_store *s = (struct sq_store *)st;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int64_t *days = NULL;
	size_t n;
	struct buf path = BUF_INIT;
	struct stat sb;
	int ret = -1;

	buf_addf(&path, "%s/meta.db", s->dir);
	if (sq_open(path.buf, false, &db, e))
		goto out;
	if (sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM stacks), (SELECT count(*) FROM series)", -1, &q,
			       NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW) {
		sq_err(db, "counting", e);
		goto out;
	}
	out->stacks = (uint64_t)sqlite3_column_int64(q, 0);
	out->series = (uint64_t)sqlite3_column_int64(q, 1);
	if (!stat(path.buf, &sb))
		out->bytes += (uint64_t)sb.st_size;
	if (sq_list_days(s, &days, &n, e))
		goto out;
	out->partitions = n;
	for (size_t i = 0; i < n; i++) {
		char *pp = sq_part_path(s, days[i]);
		sqlite3 *pdb = NULL;
		sqlite3_stmt *c = NULL;

		if (!stat(pp, &sb))
			out->bytes += (uint64_t)sb.st_size;
		if (!sq_open(pp, false, &pdb, e) &&
		    sqlite3_prepare_v2(pdb, "SELECT coalesce(sum(n), 0) FROM pseries", -1, &c, NULL) == SQLITE_OK &&
		    sqlite3_step(c) == SQLITE_ROW)
			out->profiles += (uint64_t)sqlite3_column_int64(c, 0);
		sqlite3_finalize(c);
		sqlite3_close(pdb);
		free(pp);
	}
	ret = 0;
out:
	free(days);
	sqlite3_finalize(q);
	sqlite3_close(db);
	buf_release(&path);
	return ret;
}

static void sq_close(struct store *st)
{
	struct sq_store *s = (struct sq_store *)st;

	if (s->writer_started) {
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_cond_signal(&s->work);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->writer, NULL);
	}
	for (int i = 0; i < SQ_WPARTS; i++)
		if (s->wparts[i].day >= 0)
			sq_wpart_close(&s->wparts[i]);
	sqlite3_close(s->wdb);
	store_keys_release(&s->known_stacks);
	u64map_release(&s->known_frames);
	u64map_release(&s->known_series);
	u64map_release(&s->known_tenants);
	u64map_release(&s->counted_series);
	u64map_release(&s->last_write);
	u64map_release(&s->tenant_series);
	pthread_mutex_destroy(&s->lock);
	pthread_rwlock_destroy(&s->cache.lock);
	store_nodes_release(&s->cache);
	pthread_cond_destroy(&s->work);
	free(s->dir);
	free(s);
}

static const struct store_backend sqlite_backend = {
	.name = "sqlite",
	.close = sq_close,
	.ingest = sq_ingest,
	.select_merge = sq_select_merge,
	.select_merge_graph = sq_select_merge_graph,
	.series = sq_series,
	.label_names = sq_label_names,
	.label_values = sq_label_values,
	.profile_types = sq_profile_types,
	.select_series = sq_select_series,
	.list_profiles = sq_list_profiles,
	.get_profile = sq_get_profile,
	.enforce_retention = sq_enforce_retention,
	.stats = sq_stats,
	.compact = sq_compact,
};

/*
 * meta.db's format: 3 numbers stack nodes (their parents are node numbers, partitions refer to them) and keeps
 * neither their content ids nor, below the root, their tenant: both follow from the parent's. 4 numbers frames
 * too: a node names its frame by number (2 or 3 bytes where a content id took 8; nodes are most of meta.db),
 * and its parent by how far up it is (`up` = seq - parent; a root's is its own number): a new stack's nodes are
 * numbered one after the other, and SQLite stores the 1 of a node under the previous one in no byte at all.
 */
#define META_VERSION 4
#define STR_(x) #x
#define STR(x) STR_(x)

static int check_version(struct sq_store *s, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int version = -1, tables = -1;

	if (sqlite3_prepare_v2(s->wdb, "SELECT (SELECT user_version FROM pragma_user_version),"
				       " (SELECT count(*) FROM sqlite_schema)", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		version = sqlite3_column_int(st, 0);
		tables = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	if (version < 0)
		return sq_err(s->wdb, "reading the store's format", e);
	if (tables && version != META_VERSION)
		return err_set(e, "'%s' holds a store of another format (%d, this kiln writes %d); start a new directory",
			       s->dir, version, META_VERSION);
	return tables ? 0 : sq_exec(s->wdb, "PRAGMA user_version = " STR(META_VERSION), e);
}

/*
 * Every stored stack node, by content: a node's content id is made from its parent's and its frame's (as
 * store.c makes it) and its tenant is its root's, so a node row holds neither. Nodes come after their parents.
 */
/*
 * Every stored frame: the writer's map of (tenant, content id) -> frame number, and (when `ids` is not NULL)
 * each number's content id, by number. The map is the truth of what is stored: a frame not in it is written
 * with the next number.
 */
int sq_load_frames(struct sq_store *s, int64_t **ids, size_t *nids, struct err *e)
{
	sqlite3_stmt *st = NULL;
	size_t alloc = 0;
	int64_t next = 1;
	int rc;

	u64map_release(&s->known_frames);
	if (ids)
		*ids = NULL, *nids = 0;
	if (sqlite3_prepare_v2(s->wdb, "SELECT seq, tenant, id FROM frames ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return sq_err(s->wdb, "reading frames", e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0), key[2] = { sqlite3_column_int64(st, 1),
								      sqlite3_column_int64(st, 2) };
		int ins;

		if (seq < 1 || seq > INT32_MAX || !key[1]) {
			sqlite3_finalize(st);
			return err_set(e, "the store is damaged: frame %lld", (long long)seq);
		}
		*u64map_insert(&s->known_frames, (uint64_t)store_id_of(key, sizeof(key)), &ins) = (uint64_t)seq;
		if (ids) {
			size_t had = alloc;

			ALLOC_GROW(*ids, (size_t)seq + 1, alloc);
			memset(*ids + had, 0, (alloc - had) * sizeof(**ids));
			(*ids)[seq] = key[1];
			*nids = (size_t)seq + 1;
		}
		next = seq + 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sq_err(s->wdb, "reading frames", e);
	/* on failure the numbers go on from where they were: a number is never given twice */
	s->next_frame = next;
	return 0;
}

static int load_stacks(struct sq_store *s, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int64_t (*node)[2] = NULL; /* by number: content id, tenant */
	int64_t *frame_ids;
	size_t alloc = 0, nframes;
	int rc;

	if (sq_load_frames(s, &frame_ids, &nframes, e))
		return -1;

	s->next_stack = 1;
	if (sqlite3_prepare_v2(s->wdb, "SELECT seq, seq - up, frame, tenant FROM stacks ORDER BY seq", -1, &st, NULL) !=
	    SQLITE_OK) {
		free(frame_ids);
		return sq_err(s->wdb, "reading stacks", e);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0), parent = sqlite3_column_int64(st, 1), key[2];
		int64_t fseq = sqlite3_column_int64(st, 2);
		size_t had = alloc;

		if (seq < 1 || parent < 0 || parent >= seq || seq > INT32_MAX || fseq < 1 || (size_t)fseq >= nframes ||
		    !frame_ids[fseq]) {
			sqlite3_finalize(st);
			free(node);
			free(frame_ids);
			return err_set(e, "the store is damaged: stack node %lld", (long long)seq);
		}
		ALLOC_GROW(node, (size_t)seq + 1, alloc);
		memset(node + had, 0, (alloc - had) * sizeof(*node));
		if (parent && !node[parent][0]) {
			sqlite3_finalize(st);
			free(node);
			free(frame_ids);
			return err_set(e, "the store is damaged: stack node %lld has no parent", (long long)seq);
		}
		key[0] = parent ? node[parent][0] : 0;
		key[1] = frame_ids[fseq];
		node[seq][0] = store_id_of(key, sizeof(key));
		node[seq][1] = parent ? node[parent][1] : sqlite3_column_int64(st, 3);
		key[0] = node[seq][1];
		key[1] = node[seq][0];
		store_keys_add(&s->known_stacks, (uint64_t)store_id_of(key, sizeof(key)), seq);
		/* the queries' copy too, while the table is read anyway: the first query after a start would read it */
		store_nodes_put(&s->cache, seq, parent, frame_ids[fseq]);
		s->next_stack = seq + 1;
	}
	sqlite3_finalize(st);
	free(node);
	free(frame_ids);
	return rc == SQLITE_DONE ? 0 : sq_err(s->wdb, "reading stacks", e);
}

/* The series counts per tenant, for the limit (a series is counted once, when first stored). */
static int load_series_counts(struct sq_store *s, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->wdb, "SELECT id, tenant FROM series", -1, &st, NULL) != SQLITE_OK)
		return sq_err(s->wdb, "reading series", e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int ins;

		u64map_insert(&s->counted_series, (uint64_t)sqlite3_column_int64(st, 0), &ins);
		u64map_insert(&s->known_series, (uint64_t)sqlite3_column_int64(st, 0), &ins);
		(*u64map_insert(&s->tenant_series, (uint64_t)sqlite3_column_int64(st, 1), &ins))++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sq_err(s->wdb, "reading series", e);
}

struct store *store_sqlite_open(const struct store_opts *o, struct err *e)
{
	struct sq_store *s = xcalloc(1, sizeof(*s));
	struct buf path = BUF_INIT;

	s->base.be = &sqlite_backend;
	s->dir = xstrdup(o->location);
	s->retention_ns = o->retention_ns;
	s->max_series = o->max_series;
	s->settle_ns = o->settle_ns;
	s->read_only = o->read_only;
	pthread_mutex_init(&s->lock, NULL);
	pthread_rwlock_init(&s->cache.lock, NULL);
	pthread_cond_init(&s->work, NULL);
	for (int i = 0; i < SQ_WPARTS; i++)
		s->wparts[i].day = -1;
	if (!s->read_only && mkdir(s->dir, 0755) && errno != EEXIST) {
		err_errno(e, "cannot create '%s'", s->dir);
		goto fail;
	}
	buf_addf(&path, "%s/meta.db", s->dir);
	if (s->read_only) {
		if (access(path.buf, R_OK)) {
			err_errno(e, "cannot open '%s'", path.buf);
			goto fail;
		}
	} else {
		if (sq_open(path.buf, true, &s->wdb, e) || check_version(s, e) || sq_exec(s->wdb, meta_schema, e) ||
		    load_series_counts(s, e) || load_stacks(s, e) || sq_read_watermarks(s->wdb, &s->hour_until, &s->day_until, e))
			goto fail;
		if (pthread_create(&s->writer, NULL, sq_writer_main, s)) {
			err_set(e, "cannot start the store's writer thread");
			goto fail;
		}
		s->writer_started = true;
	}
	buf_release(&path);
	return &s->base;
fail:
	buf_release(&path);
	sq_close(&s->base);
	return NULL;
}
