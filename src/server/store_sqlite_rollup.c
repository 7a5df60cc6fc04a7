/*
 * Rollups of the SQLite backend (store_sqlite.h), as in the PostgreSQL one (store_pg_rollup.c): a merged
 * profile per series per hour (level 1) and per day (level 2) in the `rollups` table of the day's partition,
 * in the local stack ids of its series, so that a query over a week reads a few hundred pre-merged rows.
 *
 * One writer thread owns the directory, and compaction runs as one of its jobs: the watermarks (every hour
 * before `hour_until` and every day before `day_until` is rolled up) are one row of meta.db for all tenants,
 * and no ingest can interleave with a compaction step. A profile that arrives for an hour already rolled up is
 * added as one more rollup row of its hour (and day) in the transaction that stores it; queries sum every row
 * of a bucket. Rollups are committed in the partition before the watermarks move in meta.db, and a query reads
 * the watermarks before the partitions, so it never reads a bucket that is not there yet; a step that a crash
 * interrupted is done again, its leftover rows deleted first (a bucket above the watermark has no late rows).
 */
#include "server/store_sqlite.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/array.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "profile/profile.h"

int sq_read_watermarks(sqlite3 *meta, int64_t *hour_until, int64_t *day_until, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*hour_until = *day_until = 0;
	if (sqlite3_prepare_v2(meta, "SELECT hour_until, day_until FROM compaction", -1, &st, NULL) != SQLITE_OK)
		return sq_err(meta, "reading the rollup watermarks", e);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*hour_until = sqlite3_column_int64(st, 0);
		*day_until = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sq_err(meta, "reading the rollup watermarks", e);
}

int sq_rollup_add(sqlite3 *db, int64_t series, int level, int64_t bucket, int64_t profiles, int64_t total,
		  const struct buf *data, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	/* Prepared per row: next to a rollup's merge that costs nothing, and late profiles are rare. */
	if (sqlite3_prepare_v2(db, "INSERT INTO rollups(series, level, bucket, profiles, total, data)"
				   " VALUES (?, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return sq_err(db, "storing a rollup", e);
	sqlite3_bind_int64(st, 1, series);
	sqlite3_bind_int(st, 2, level);
	sqlite3_bind_int64(st, 3, bucket);
	sqlite3_bind_int64(st, 4, profiles);
	sqlite3_bind_int64(st, 5, total);
	sqlite3_bind_blob(st, 6, data->buf, (int)data->len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sq_err(db, "storing a rollup", e);
}

/*
 * Rolls up one hour (from raw profiles) or one day (from its hour rollups) of every series with data in the
 * partition, in the partition's open transaction.
 */
static int compact_bucket(sqlite3 *db, int level, int64_t start, struct err *e)
{
	int64_t end = start + (level == 1 ? STORE_HOUR_NS : STORE_DAY_NS);
	sqlite3_stmt *ser = NULL, *rows = NULL, *del = NULL;
	int rc, ret = -1;

	if (sqlite3_prepare_v2(db, "SELECT series FROM pseries WHERE last_ns >= ? AND first_ns < ? ORDER BY series",
			       -1, &ser, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, level == 1 ? "SELECT data, 1 FROM profiles WHERE series = ? AND time_ns >= ?"
						" AND time_ns < ?"
					      : "SELECT data, profiles FROM rollups WHERE series = ? AND level = 1"
						" AND bucket >= ? AND bucket < ?",
			       -1, &rows, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM rollups WHERE level = ? AND bucket = ?", -1, &del, NULL) != SQLITE_OK) {
		sq_err(db, "rolling up", e);
		goto out;
	}
	sqlite3_bind_int(del, 1, level);
	sqlite3_bind_int64(del, 2, start);
	if (sqlite3_step(del) != SQLITE_DONE) {
		sq_err(db, "rolling up", e);
		goto out;
	}
	sqlite3_bind_int64(ser, 1, start);
	sqlite3_bind_int64(ser, 2, end);
	while ((rc = sqlite3_step(ser)) == SQLITE_ROW) {
		int64_t series = sqlite3_column_int64(ser, 0), profiles = 0, total;
		struct store_sums sum = STORE_SUMS_INIT;
		struct buf data = BUF_INIT;

		sqlite3_bind_int64(rows, 1, series);
		sqlite3_bind_int64(rows, 2, start);
		sqlite3_bind_int64(rows, 3, end);
		while ((rc = sqlite3_step(rows)) == SQLITE_ROW) {
			profiles += sqlite3_column_int64(rows, 1);
			if (store_unpack(sqlite3_column_blob(rows, 0), (size_t)sqlite3_column_bytes(rows, 0),
					 store_sums_add, &sum))
				break;
		}
		sqlite3_reset(rows);
		if (rc == SQLITE_ROW)
			err_set(e, "the store is damaged: a profile of series %lld does not decode", (long long)series);
		else if (rc != SQLITE_DONE)
			sq_err(db, "rolling up", e);
		if (rc == SQLITE_DONE && profiles) {
			total = store_sums_pack(&sum, &data);
			rc = sq_rollup_add(db, series, level, start, profiles, total, &data, e) ? SQLITE_ERROR
												: SQLITE_DONE;
		}
		store_sums_release(&sum);
		buf_release(&data);
		if (rc != SQLITE_DONE)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		sq_err(db, "rolling up", e);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(ser);
	sqlite3_finalize(rows);
	sqlite3_finalize(del);
	return ret;
}

/* The start of the first hour at or after `t` with a profile, or -1 when there is none; -2 on error. */
static int64_t next_data_hour(struct sq_store *s, int64_t t, struct err *e)
{
	int64_t *days = NULL, next = -1;
	size_t n;

	if (sq_list_days(s, &days, &n, e))
		return -2;
	for (size_t i = 0; i < n && next < 0; i++) {
		struct sq_wpart *p;
		sqlite3_stmt *st = NULL;

		if (days[i] < sq_day_of(t))
			continue;
		if (!(p = sq_wpart_get(s, days[i], e))) {
			next = -2;
			break;
		}
		/* One index probe per series of the day: the table has no index on time alone. */
		if (sqlite3_prepare_v2(p->db, "SELECT min((SELECT min(time_ns) FROM profiles p WHERE p.series ="
					      " s.series AND p.time_ns >= ?1)) FROM pseries s WHERE s.last_ns >= ?1",
				       -1, &st, NULL) != SQLITE_OK) {
			next = sq_err(p->db, "rolling up", e) - 1;
			break;
		}
		sqlite3_bind_int64(st, 1, t);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			next = store_floor_to(sqlite3_column_int64(st, 0), STORE_HOUR_NS);
		sqlite3_finalize(st);
	}
	free(days);
	return next;
}

/* Rolls up one bucket in its partition, in a transaction of its own (a missing partition has nothing to do). */
static int compact_in_part(struct sq_store *s, int level, int64_t start, struct err *e)
{
	int64_t day = sq_day_of(start);
	struct sq_wpart *p;
	char *path = sq_part_path(s, day);
	bool exists = !access(path, F_OK);

	free(path);
	if (!exists)
		return 0;
	if (!(p = sq_wpart_get(s, day, e)) || sq_exec(p->db, "BEGIN IMMEDIATE", e))
		return -1;
	if (compact_bucket(p->db, level, start, e) || sq_exec(p->db, "COMMIT", e)) {
		sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

static int save_watermarks(struct sq_store *s, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->wdb, "INSERT INTO compaction(id, hour_until, day_until) VALUES (0, ?1, ?2)"
				      " ON CONFLICT(id) DO UPDATE SET hour_until = ?1, day_until = ?2",
			       -1, &st, NULL) != SQLITE_OK)
		return sq_err(s->wdb, "saving the rollup watermarks", e);
	sqlite3_bind_int64(st, 1, s->hour_until);
	sqlite3_bind_int64(st, 2, s->day_until);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sq_err(s->wdb, "saving the rollup watermarks", e);
}

void sq_note_write(struct sq_store *s, int64_t from_ns)
{
	if (s->settle_ns)
		store_note_write(&s->last_write, from_ns);
}

/* One step (store_compact_next): 1 when it did something, 0 when the store is up to date, -1 on error. */
static int compact_step(struct sq_store *s, int64_t now_ns, struct err *e)
{
	struct store_compact_plan p;
	int64_t hour = next_data_hour(s, s->hour_until, e);

	if (hour == -2)
		return -1;
	/* Data still arriving for the next hour (a backfill, a burst of old data): wait for it to settle. */
	if (hour >= 0 && s->settle_ns && !store_hour_settled(&s->last_write, hour, s->settle_ns))
		return 0;
	if (!store_compact_next(s->hour_until, s->day_until, hour, now_ns, &p))
		return 0;
	if (p.hour >= 0 && compact_in_part(s, 1, p.hour, e))
		return -1;
	for (int64_t day = p.day_from; day < p.day_until; day += STORE_DAY_NS)
		if (compact_in_part(s, 2, day, e))
			return -1;
	s->hour_until = p.hour_until;
	s->day_until = p.day_until;
	return save_watermarks(s, e) ? -1 : 1;
}

int sq_compact_run(struct sq_store *s, int64_t now_ns, struct err *e)
{
	int64_t hour_until = s->hour_until, day_until = s->day_until;
	int rc = compact_step(s, now_ns, e);

	if (rc < 0) {
		/* What is committed in partitions is done again next time; the watermarks did not move. */
		s->hour_until = hour_until;
		s->day_until = day_until;
	}
	return rc;
}
