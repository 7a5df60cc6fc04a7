/*
 * Benchmark runs in kiln serve (issue 21): the server side of the benchmark history (bench/history.h). A run
 * is the directory store's run document (schema kiln-bench-run/1), kept as pushed, with an optional profile
 * stored beside it, per tenant: with the SQLite store in a file of its own in the storage directory (bench.db;
 * the profile store's files are another module's, and runs are few and small next to profiles), with the
 * PostgreSQL store in tables of its database (bench_store_impl.h has both backends).
 *
 *   struct bench_store *b = bench_store_open("/var/lib/kiln", &limits, &e);
 *   bench_store_add(b, tenant, &run, doc, len, prof, plen, ".pb.gz", id, sizeof(id), &e);
 *   bench_store_list(b, tenant, "main", NULL, NULL, &json, &e);   // {"runs":[{"id","profile","run":{...}}]}
 *
 * Every function is safe to call from several threads (one connection behind a mutex; runs arrive a few per CI
 * job, not thousands a second).
 */
#ifndef KILN_SERVER_BENCH_STORE_H
#define KILN_SERVER_BENCH_STORE_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct err;
struct hist;
struct hist_run;
struct bench_store;

/* What a tenant may store; 0 in a field: no limit. */
struct bench_limits {
	size_t max_samples;        /* samples of one run, all its series together (400) */
	uint64_t max_runs;         /* runs per tenant (429) */
	uint64_t max_benchmarks;   /* distinct benchmark names per tenant (429) */
	int64_t retention_s;       /* runs measured longer ago are refused (400), hidden and dropped */
};

/*
 * Opens (creating) DIR/bench.db, or the tables in the database of a postgres:// or postgresql:// URL, with the
 * limits `lim` (NULL: none), and drops the runs past its retention. NULL with `e` set.
 */
struct bench_store *bench_store_open(const char *location, const struct bench_limits *lim, struct err *e);
void bench_store_close(struct bench_store *b); /* NULL is a no-op */

/*
 * Stores the run `r` (parsed from `doc`, which is kept as it is) and its profile (`prof` of `plen` bytes with
 * the file extension `ext`, or NULL), first dropping the runs past the retention. The new run's id goes into
 * `id`. Returns 0; 400 (too many samples, older than the retention) or 429 (the tenant's runs or benchmarks
 * at their limit) with `e` set, the run not stored; or -1 with `e` set on a storage fault.
 */
int bench_store_add(struct bench_store *b, const char *tenant, const struct hist_run *r, const char *doc,
		    size_t len, const void *prof, size_t plen, const char *ext, char *id, size_t idsz, struct err *e);

/*
 * Appends the runs of the tenant (of `branch` and `machine` when not NULL), oldest first, as JSON
 * {"runs":[{"id":ID,"profile":"profiles/ID.EXT" or null,"run":DOC}]} to `out`; with `id`, only that run (the
 * array is then empty when there is none). Returns 0, or -1 with `e` set.
 */
int bench_store_list(struct bench_store *b, const char *tenant, const char *branch, const char *machine,
		     const char *id, struct buf *out, struct err *e);

/*
 * The runs of the tenant (of `branch` and `machine` when not NULL), oldest first, as a history (bench/history.h)
 * without a directory: each run's stem is its id, its profile "profiles/ID.EXT" (read it with
 * bench_store_profile). `h` is released by the caller, also after an error. Returns 0, or -1 with `e` set.
 */
int bench_store_hist(struct bench_store *b, const char *tenant, const char *branch, const char *machine,
		     struct hist *h, struct err *e);

/* The profile of run `id` into `out`; 0, 1 when the run or its profile does not exist, -1 with `e` set. */
int bench_store_profile(struct bench_store *b, const char *tenant, const char *id, struct buf *out, struct err *e);

#endif
