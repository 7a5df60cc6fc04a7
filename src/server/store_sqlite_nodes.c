/*
 * The SQLite backend's copy of meta.db's stack node table for queries (store_nodes.h), read on demand.
 */
#include "server/store_sqlite.h"

#include "core/err.h"

int sq_nodes_refresh(struct store_nodes *c, sqlite3 *meta, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;

	pthread_rwlock_wrlock(&c->lock);
	if (sqlite3_prepare_v2(meta, "SELECT s.seq, s.seq - s.up, f.id FROM stacks s LEFT JOIN frames f ON f.seq = s.frame"
				     " WHERE s.seq >= ? ORDER BY s.seq", -1, &st, NULL) != SQLITE_OK) {
		ret = sq_err(meta, "reading stacks", e);
		goto out;
	}
	sqlite3_bind_int64(st, 1, c->n ? (int64_t)c->n : 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0), parent = sqlite3_column_int64(st, 1);
		int64_t frame = sqlite3_column_int64(st, 2);

		/* A parent numbered before its child is what makes every walk up end (and sums by number work). */
		if (seq < 1 || seq > INT32_MAX || parent < 0 || parent >= seq || !frame) {
			ret = err_set(e, "the store is damaged: stack node %lld", (long long)seq);
			break;
		}
		store_nodes_put(c, seq, parent, frame);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = sq_err(meta, "reading stacks", e);
out:
	sqlite3_finalize(st);
	pthread_rwlock_unlock(&c->lock);
	return ret;
}

