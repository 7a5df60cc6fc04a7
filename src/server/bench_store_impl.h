/*
 * The backends of the benchmark-run store (bench_store.h): SQLite (bench_store_sqlite.c, DIR/bench.db) and
 * PostgreSQL (bench_store_pg.c, tables of the profile store's database). bench_store.c holds what does not
 * depend on the database: the limits, the listing's JSON, the history, the ids. The SQL it hands a backend
 * is written for both: parameters are $1..$n, given as text (NULL for SQL NULL), which both databases convert
 * to the column's type.
 */
#ifndef KILN_SERVER_BENCH_STORE_IMPL_H
#define KILN_SERVER_BENCH_STORE_IMPL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "server/bench_store.h"

struct bench_row {
	const char *id, *ext; /* ext: the profile's file extension, NULL without a profile */
	const char *doc;
	size_t len;
};

typedef int (*bench_row_fn)(const struct bench_row *row, void *arg, struct err *e);

struct bench_backend {
	const char *begin;    /* the statement that starts a write transaction */
	/* Runs `sql` (statements separated by ';' when n == 0). Returns 0, or -1 with `e` set. */
	int (*exec)(struct bench_store *b, const char *sql, int n, const char *const *vals, struct err *e);
	/* The first column of the first row of `sql` as an integer. Returns 0, or -1 with `e` set. */
	int (*count)(struct bench_store *b, const char *sql, int n, const char *const *vals, int64_t *out,
		     struct err *e);
	/* Calls `fn` for each row of `sql`, which selects id, profile_ext, doc. Returns 0, -1 or fn's error. */
	int (*rows)(struct bench_store *b, const char *sql, int n, const char *const *vals, bench_row_fn fn, void *arg,
		    struct err *e);
	/*
	 * Inserts a run: `vals` are tenant, id, time, commit, branch, machine, doc; the profile (`prof`, `plen`,
	 * `ext`) or NULL. Returns 0, 1 when the id is taken, or -1 with `e` set.
	 */
	int (*insert)(struct bench_store *b, const char *const vals[7], const void *prof, size_t plen, const char *ext,
		      struct err *e);
	/* Run `id`'s profile into `out`: 0, 1 when there is none, -1 with `e` set. */
	int (*profile)(struct bench_store *b, const char *tenant, const char *id, struct buf *out, struct err *e);
	void (*close)(struct bench_store *b);
};

struct bench_store {
	const struct bench_backend *be;
	void *db;              /* the backend's connection */
	pthread_mutex_t lock;  /* one connection: one request at a time (runs come a few per CI job) */
	struct bench_limits lim;
};

/* Open the backends' connections and set up their tables: 0, or -1 with `e` set. */
int bench_sqlite_open(struct bench_store *b, const char *dir, struct err *e);
int bench_pg_open(struct bench_store *b, const char *url, struct err *e);

#endif
