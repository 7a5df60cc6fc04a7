/*
 * The storage interface of kiln serve (store.h), the same checks for both backends: what goes in comes back
 * out merged, filtered, listed and summed over time exactly; both backends answer every query alike; retention
 * drops whole days; concurrent writers of two stores on one database neither deadlock nor lose a profile;
 * rollups answer what raw profiles answer; damaged rows are errors, not crashes.
 *
 * PostgreSQL runs in a throw-away cluster that the test starts (scripts/pg-cluster.sh); without PostgreSQL's
 * server binaries those tests say skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "profile/profile.h"
#include "server/store.h"
#include "server/store_pg.h"
#include "store_graph.h"

#define SEC 1000000000LL
#define DAY (86400 * SEC)
#define BASE (20423 * DAY) /* 2025-12-01 00:00 UTC */
#define CPU "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
#define MEM "memory:alloc_space:bytes:space:bytes"

static char pg_dir[64];
static char pg_url[256];
static char pg_url2[300]; /* a second database of the same cluster */

/* ---- profiles to store ---- */

static uint32_t push(struct profile *p, const char *stack)
{
	uint32_t node = 0;
	char *copy = strdup(stack), *save = NULL;

	for (char *name = strtok_r(copy, ";", &save); name; name = strtok_r(NULL, ";", &save)) {
		struct frame f = { 0 };

		f.function = profile_intern_str(p, name);
		f.file = profile_intern_str(p, "src/app.c");
		f.module = profile_intern_str(p, "/usr/bin/app");
		f.line = (uint32_t)strlen(name) * 10;
		f.kind = FRAME_NATIVE;
		node = profile_node(p, node, profile_frame(p, &f));
	}
	free(copy);
	return node;
}

/* A profile from "stack value" lines, one column of `type`/`unit`. */
static struct profile *make(const char *type, const char *unit, const char *lines)
{
	struct profile *p = profile_new(0);
	char *copy = strdup(lines), *save = NULL;

	profile_add_column(p, type, unit);
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(l, ' ');

		*sp = 0;
		profile_add_sample1(p, push(p, l), 0, atoll(sp + 1));
	}
	free(copy);
	return p;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The profile as sorted "a;b;c value" lines (equal stacks summed by the model already). */
static char *folded(const struct profile *p)
{
	char **lines = calloc(p->rows_nr + 1, sizeof(*lines));
	struct buf out = BUF_INIT;
	size_t n = 0;

	for (size_t r = 0; r < p->rows_nr; r++) {
		uint32_t frames[256];
		size_t depth = profile_stack(p, p->rows[r].node, frames, 256);
		struct buf l = BUF_INIT;

		for (size_t i = 0; i < depth; i++) {
			const struct frame *f = &p->frames[frames[i]];

			buf_addf(&l, "%s%s:%u", i ? ";" : "", profile_str(p, f->function), f->line);
		}
		buf_addf(&l, " %lld", (long long)profile_row_values(p, r)[0]);
		lines[n++] = buf_detach(&l, NULL);
	}
	qsort(lines, n, sizeof(*lines), cmp_line);
	for (size_t i = 0; i < n; i++) {
		buf_addf(&out, "%s\n", lines[i]);
		free(lines[i]);
	}
	free(lines);
	return buf_detach(&out, NULL);
}

static const char prof_a[] = "main;work;leaf 10\nmain;work 5\nmain;idle 3\n";
static const char prof_b[] = "main;work;leaf 7\nmain;other 2\n";

static struct store *open_store(const char *location, int64_t retention)
{
	struct store_opts o = { .location = location, .retention_ns = retention };
	struct err e = ERR_INIT;
	struct store *s = store_open(&o, &e);

	if (!s)
		fail_msg("store_open: %s", e.msg);
	return s;
}

static void put(struct store *s, const char *type, const struct label_pair *l, size_t nl, int64_t from,
		const struct profile *p)
{
	struct store_write w = { "", type, l, nl, from, from + 10 * SEC, p, 0, false, 0, NULL, 0 };
	struct err e = ERR_INIT;

	if (store_ingest(s, &w, 1, &e))
		fail_msg("store_ingest: %s", e.msg);
}

static char *merged(struct store *s, const char *type, const struct selector *sel, int64_t from, int64_t until)
{
	struct store_query q = { "", type, sel, from, until };
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	char *text;

	if (store_select_merge(s, &q, p, &e))
		fail_msg("store_select_merge: %s", e.msg);
	text = folded(p);
	profile_free(p);
	return text;
}

static const struct label_pair prod[] = { { "env", "prod" }, { "service_name", "api" } };
static const struct label_pair dev[] = { { "env", "dev" }, { "service_name", "api" } };
static const struct label_pair db[] = { { "service_name", "db" } };

/* Fills a fresh store with the same small world every backend test starts from. */
static void fill(struct store *s)
{
	struct profile *a = make("cpu", "nanoseconds", prof_a), *b = make("cpu", "nanoseconds", prof_b);
	struct profile *m = make("alloc_space", "bytes", prof_b);

	put(s, CPU, prod, 2, BASE + 10 * SEC, a);
	put(s, CPU, prod, 2, BASE + 20 * SEC, b);
	put(s, CPU, dev, 2, BASE + DAY + 5 * SEC, a);
	put(s, MEM, db, 1, BASE + 30 * SEC, m);
	profile_free(a);
	profile_free(b);
	profile_free(m);
}

/* ---- the checks, for any backend ---- */

struct strings {
	char v[16][64];
	size_t n;
};

static int collect(void *arg, const char *s)
{
	struct strings *out = arg;

	if (out->n < 16)
		snprintf(out->v[out->n++], sizeof(out->v[0]), "%s", s);
	return 0;
}

static int collect_series(void *arg, const char *type, const struct label_pair *l, size_t n)
{
	struct strings *out = arg;
	struct buf b = BUF_INIT;

	buf_adds(&b, type);
	for (size_t i = 0; i < n; i++)
		buf_addf(&b, " %s=%s", l[i].name, l[i].value);
	if (out->n < 16)
		snprintf(out->v[out->n++], sizeof(out->v[0]), "%s", b.buf);
	buf_release(&b);
	return 0;
}

struct points {
	char text[512];
};

static int collect_points(void *arg, const struct label_pair *g, size_t ng, const struct store_point *p, size_t np)
{
	struct points *out = arg;
	size_t len = strlen(out->text);

	snprintf(out->text + len, sizeof(out->text) - len, "[%s]", ng ? g[0].value : "");
	for (size_t i = 0; i < np; i++) {
		len = strlen(out->text);
		snprintf(out->text + len, sizeof(out->text) - len, " %lld=%lld", (long long)((p[i].time_ns - BASE) / SEC),
			 (long long)p[i].value);
	}
	return 0;
}

struct refs {
	struct store_profile_ref v[8];
	size_t n;
};

static int collect_refs(void *arg, const struct store_profile_ref *r)
{
	struct refs *out = arg;

	if (out->n < 8) {
		out->v[out->n] = *r;
		out->v[out->n].labels = NULL; /* valid only during the call */
		out->v[out->n].profile_type = NULL;
		out->n++;
	}
	return 0;
}

static void check_merges(struct store *s)
{
	char *t;

	/* One series over its day: A + B, stacks and lines as ingested. */
	t = merged(s, CPU, NULL, BASE, BASE + 3600 * SEC);
	assert_string_equal(t, "main:40;idle:40 3\nmain:40;other:50 2\nmain:40;work:40 5\nmain:40;work:40;leaf:40 17\n");
	free(t);
	/* Two days: the dev series' A joins. */
	t = merged(s, CPU, NULL, BASE, BASE + 2 * DAY);
	assert_string_equal(t, "main:40;idle:40 6\nmain:40;other:50 2\nmain:40;work:40 10\nmain:40;work:40;leaf:40 27\n");
	free(t);
	/* A profile belongs to the range its start falls in: [15 s, 1 h) holds only B. */
	t = merged(s, CPU, NULL, BASE + 15 * SEC, BASE + 3600 * SEC);
	assert_string_equal(t, "main:40;other:50 2\nmain:40;work:40;leaf:40 7\n");
	free(t);
	/* Another type is another series. */
	t = merged(s, MEM, NULL, BASE, BASE + 2 * DAY);
	assert_string_equal(t, "main:40;other:50 2\nmain:40;work:40;leaf:40 7\n");
	free(t);
	/* Nothing there: empty, not an error. */
	t = merged(s, CPU, NULL, BASE + 5 * DAY, BASE + 6 * DAY);
	assert_string_equal(t, "");
	free(t);
}

static void check_listing(struct store *s)
{
	struct store_query q = { "", CPU, NULL, BASE, BASE + 2 * DAY };
	struct strings names = { 0 }, values = { 0 }, types = { 0 }, series = { 0 };
	struct err e = ERR_INIT;

	assert_int_equal(store_label_names(s, &q, collect, &names, &e), 0);
	assert_int_equal(names.n, 2);
	assert_string_equal(names.v[0], "env");
	assert_string_equal(names.v[1], "service_name");
	assert_int_equal(store_label_values(s, &q, "env", collect, &values, &e), 0);
	assert_int_equal(values.n, 2);
	assert_string_equal(values.v[0], "dev");
	assert_string_equal(values.v[1], "prod");

	q.profile_type = NULL;
	assert_int_equal(store_profile_types(s, &q, collect, &types, &e), 0);
	assert_int_equal(types.n, 2);
	assert_string_equal(types.v[0], MEM);
	assert_string_equal(types.v[1], CPU);
	assert_int_equal(store_series(s, &q, collect_series, &series, &e), 0);
	assert_int_equal(series.n, 3);
	/* Only the first day: the dev series has no profile there. */
	q.until_ns = BASE + DAY;
	memset(&series, 0, sizeof(series));
	assert_int_equal(store_series(s, &q, collect_series, &series, &e), 0);
	assert_int_equal(series.n, 2);
	/* A range inside a day that holds none of its profiles lists nothing. */
	q.from_ns = BASE + 40 * SEC;
	q.until_ns = BASE + 50 * SEC;
	memset(&series, 0, sizeof(series));
	assert_int_equal(store_series(s, &q, collect_series, &series, &e), 0);
	assert_int_equal(series.n, 0);
}

static void check_timeline(struct store *s)
{
	struct store_query q = { "", CPU, NULL, BASE, BASE + 60 * SEC };
	const char *by[] = { "env" };
	struct points pts = { "" };
	struct err e = ERR_INIT;

	/* Totals per 10 s step: A (18) at 10 s, B (9) at 20 s; the dev series has nothing in the range. */
	assert_int_equal(store_select_series(s, &q, by, 1, 10 * SEC, collect_points, &pts, &e), 0);
	assert_string_equal(pts.text, "[prod] 10=18 20=9");
	/* Two days in 1-day steps, grouped by env: a profile counts at the first boundary at or after its time
	 * (6.4), so those at 10 s and 20 s count at the end of the first day and dev's at 86405 s at the second's. */
	q.until_ns = BASE + 2 * DAY;
	memset(&pts, 0, sizeof(pts));
	assert_int_equal(store_select_series(s, &q, by, 1, DAY, collect_points, &pts, &e), 0);
	assert_string_equal(pts.text, "[dev] 172800=18[prod] 86400=27");
	/* No group: one line. */
	memset(&pts, 0, sizeof(pts));
	assert_int_equal(store_select_series(s, &q, NULL, 0, DAY, collect_points, &pts, &e), 0);
	assert_string_equal(pts.text, "[] 86400=27 172800=18");
	/* A 1 ns step over two days: points only where profiles are, not 1.7e14 empty ones. */
	memset(&pts, 0, sizeof(pts));
	assert_int_equal(store_select_series(s, &q, NULL, 0, 1, collect_points, &pts, &e), 0);
	assert_string_equal(pts.text, "[] 10=18 20=9 86405=18");
}

static void check_single(struct store *s)
{
	struct store_query q = { "", CPU, NULL, BASE, BASE + DAY };
	struct refs refs = { .n = 0 };
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	char *t;

	assert_int_equal(store_list_profiles(s, &q, 10, collect_refs, &refs, &e), 0);
	assert_int_equal(refs.n, 2);
	/* Newest first. */
	assert_true(refs.v[0].from_ns == BASE + 20 * SEC && refs.v[0].total == 9);
	assert_true(refs.v[1].from_ns == BASE + 10 * SEC && refs.v[1].total == 18);
	assert_true(refs.v[0].until_ns == BASE + 30 * SEC);
	assert_int_equal(store_get_profile(s, "", refs.v[0].id, p, &e), 0);
	t = folded(p);
	assert_string_equal(t, "main:40;other:50 2\nmain:40;work:40;leaf:40 7\n");
	free(t);
	assert_string_equal(profile_str(p, p->columns[0].type), "cpu");
	assert_string_equal(profile_str(p, p->columns[0].unit), "nanoseconds");
	assert_string_equal(profile_str(p, p->frames[p->nodes[1].frame].file), "src/app.c");
	assert_string_equal(profile_str(p, p->frames[p->nodes[1].frame].module), "/usr/bin/app");
	profile_free(p);

	refs.n = 0;
	assert_int_equal(store_list_profiles(s, &q, 1, collect_refs, &refs, &e), 0);
	assert_int_equal(refs.n, 1);
	p = profile_new(0);
	e.msg[0] = 0;
	assert_int_equal(store_get_profile(s, "", "no-such-profile", p, &e), -1);
	assert_non_null(strstr(e.msg, "no-such-profile"));
	assert_int_equal(store_get_profile(s, "other-tenant", refs.v[0].id, p, &e), -1);
	profile_free(p);
}

static void check_tenants(struct store *s)
{
	struct profile *a = make("cpu", "nanoseconds", prof_a);
	struct store_write w = { "team-b", CPU, prod, 2, BASE + 10 * SEC, BASE + 20 * SEC, a, 0, false, 0, NULL, 0 };
	struct store_query q = { "team-b", CPU, NULL, BASE, BASE + DAY };
	struct profile *out = profile_new(0);
	struct err e = ERR_INIT;
	char *t;

	assert_int_equal(store_ingest(s, &w, 1, &e), 0);
	assert_int_equal(store_select_merge(s, &q, out, &e), 0);
	t = folded(out);
	assert_string_equal(t, "main:40;idle:40 3\nmain:40;work:40 5\nmain:40;work:40;leaf:40 10\n");
	free(t);
	/* The default tenant does not see it. */
	t = merged(s, CPU, NULL, BASE, BASE + 3600 * SEC);
	assert_string_equal(t, "main:40;idle:40 3\nmain:40;other:50 2\nmain:40;work:40 5\nmain:40;work:40;leaf:40 17\n");
	free(t);
	/* Bad writes are refused whole. */
	w.from_ns = -5;
	assert_int_equal(store_ingest(s, &w, 1, &e), -1);
	w.from_ns = BASE;
	w.column = 3;
	assert_int_equal(store_ingest(s, &w, 1, &e), -1);
	profile_free(out);
	profile_free(a);
}

/* ---- concurrent writers ---- */

struct writer {
	const char *location;
	struct store *shared; /* NULL: a store of its own, as another server process would have */
	int id;
	int rc;
	char msg[1100];
};

static void *write_many(void *arg)
{
	struct writer *wr = arg;
	struct store_opts o = { .location = wr->location };
	struct err e = ERR_INIT;
	struct store *s = wr->shared ? wr->shared : store_open(&o, &e);

	if (!s) {
		wr->rc = -1;
		snprintf(wr->msg, sizeof(wr->msg), "%s", e.msg);
		return NULL;
	}
	for (int i = 0; i < 40 && !wr->rc; i++) {
		char lines[256];
		struct profile *p;
		struct store_write w[2];

		/* Shared stacks (every writer) and stacks of this writer only, in batches of two. */
		snprintf(lines, sizeof(lines), "root;shared;hot 1\nroot;w%d;s%d 2\n", wr->id, i % 7);
		p = make("cpu", "nanoseconds", lines);
		for (int k = 0; k < 2; k++)
			w[k] = (struct store_write){ "", CPU, prod, 2, BASE + 2 * DAY + (i * 2 + k) * SEC,
						     BASE + 2 * DAY + (i * 2 + k + 1) * SEC, p, 0, false, 0, NULL, 0 };
		if (store_ingest(s, w, 2, &e)) {
			wr->rc = -1;
			snprintf(wr->msg, sizeof(wr->msg), "%s", e.msg);
		}
		profile_free(p);
	}
	if (!wr->shared)
		store_close(s);
	return NULL;
}

/* Four writers at once: with their own stores (`shared` NULL: PostgreSQL, several servers on one database),
 * or on one store from four threads (SQLite: one server owns its directory). */
static void check_concurrent(const char *location, struct store *reader, struct store *shared)
{
	pthread_t t[4];
	struct writer w[4];
	char *text;

	for (int i = 0; i < 4; i++) {
		w[i] = (struct writer){ location, shared, i % 2, 0, "" };
		pthread_create(&t[i], NULL, write_many, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		if (w[i].rc)
			fail_msg("writer %d: %s", i, w[i].msg);
	}
	/* 4 writers x 40 batches x 2 profiles; writers 0 and 2 share "w0", 1 and 3 share "w1". */
	text = merged(reader, CPU, NULL, BASE + 2 * DAY, BASE + 3 * DAY);
	assert_string_equal(text, "root:40;shared:60;hot:30 320\n"
				  "root:40;w0:20;s0:20 48\nroot:40;w0:20;s1:20 48\nroot:40;w0:20;s2:20 48\n"
				  "root:40;w0:20;s3:20 48\nroot:40;w0:20;s4:20 48\nroot:40;w0:20;s5:20 40\n"
				  "root:40;w0:20;s6:20 40\n"
				  "root:40;w1:20;s0:20 48\nroot:40;w1:20;s1:20 48\nroot:40;w1:20;s2:20 48\n"
				  "root:40;w1:20;s3:20 48\nroot:40;w1:20;s4:20 48\nroot:40;w1:20;s5:20 40\n"
				  "root:40;w1:20;s6:20 40\n");
	free(text);
}

/* Everything a query can ask, as one text, to compare a store before and after compaction. */
static char *answers(struct store *s)
{
	static const int64_t ranges[][2] = {
		{ BASE, BASE + 3600 * SEC },	       { BASE, BASE + 2 * DAY },
		{ BASE + 15 * SEC, BASE + 3600 * SEC }, { BASE + 15 * SEC, BASE + DAY + 3600 * SEC },
		{ BASE + 3600 * SEC, BASE + 2 * DAY }, { BASE - 3600 * SEC, BASE + 4 * DAY },
		{ BASE + DAY, BASE + 3 * DAY },
	};
	static const int64_t steps[] = { 10 * SEC, 3600 * SEC, DAY };
	const char *by[] = { "env" };
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		for (int t = 0; t < 2; t++) {
			char *m = merged(s, t ? MEM : CPU, NULL, ranges[i][0], ranges[i][1]);

			buf_addf(&out, "merge %zu %d:\n%s", i, t, m);
			free(m);
		}
		for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			struct store_query q = { "", CPU, NULL, ranges[i][0], ranges[i][1] };
			struct points pts = { "" };

			if (ranges[i][1] - ranges[i][0] > 2 * DAY && steps[k] < 3600 * SEC)
				continue;
			if (store_select_series(s, &q, by, 1, steps[k], collect_points, &pts, &e))
				fail_msg("store_select_series: %s", e.msg);
			buf_addf(&out, "series %zu %zu: %s\n", i, k, pts.text);
		}
	}
	return buf_detach(&out, NULL);
}

/*
 * Rollups answer exactly what the raw profiles answer, late profiles join them, and they are really read:
 * after compaction, damaging the raw rows of a rolled-up day does not change a query over whole hours.
 */
static void check_rollups(struct store *s, const char *location)
{
	char *before = answers(s), *after, *t;
	struct profile *a = make("cpu", "nanoseconds", prof_a);
	struct err e = ERR_INIT;
	PGconn *c;
	PGresult *r;

	/* Before the data: the watermarks move up to it (empty hours need no rows), and then there is nothing to do. */
	assert_true(store_compact(s, BASE, &e) >= 0);
	assert_int_equal(store_compact(s, BASE, &e), 0);
	assert_true(store_compact(s, BASE + 3 * DAY + 3600 * SEC, &e) >= 3);
	assert_int_equal(store_compact(s, BASE + 3 * DAY + 3600 * SEC, &e), 0);
	after = answers(s);
	if (strcmp(after, before)) {
		FILE *f = fopen("/tmp/kiln-store-before.txt", "w");

		fputs(before, f);
		fclose(f);
		f = fopen("/tmp/kiln-store-after.txt", "w");
		fputs(after, f);
		fclose(f);
		fail_msg("answers differ after compaction: diff /tmp/kiln-store-before.txt /tmp/kiln-store-after.txt");
	}
	free(before);
	free(after);

	put(s, CPU, prod, 2, BASE + 40 * SEC, a);
	t = merged(s, CPU, NULL, BASE, BASE + 2 * DAY);
	assert_string_equal(t, "main:40;idle:40 9\nmain:40;other:50 2\nmain:40;work:40 15\nmain:40;work:40;leaf:40 37\n");
	free(t);
	profile_free(a);

	c = PQconnectdb(location);
	r = PQexec(c, "UPDATE kiln_profiles SET data = '\\x05ff' WHERE from_ns < " "1764633600000000000");
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(c);
	t = merged(s, CPU, NULL, BASE, BASE + DAY);
	assert_string_equal(t, "main:40;idle:40 6\nmain:40;other:50 2\nmain:40;work:40 10\nmain:40;work:40;leaf:40 27\n");
	free(t);
	{
		struct store_query q = { "", CPU, NULL, BASE + 15 * SEC, BASE + DAY };
		struct profile *p = profile_new(0);

		assert_int_equal(store_select_merge(s, &q, p, &e), -1);
		profile_free(p);
	}
}

static void check_retention(const char *location)
{
	struct store *s = open_store(location, DAY);
	struct store_stats st;
	struct err e = ERR_INIT;
	char *t;

	assert_int_equal(store_stats(s, &st, &e), 0);
	assert_true(st.partitions >= 3);
	assert_true(st.series >= 3);
	/* At BASE + 3 days + 1 h with a 1-day retention, days 0 (BASE) and 1 are wholly older: dropped; day 2 is not. */
	assert_int_equal(store_enforce_retention(s, BASE + 3 * DAY + 3600 * SEC, &e), 2);
	t = merged(s, CPU, NULL, BASE, BASE + 2 * DAY);
	assert_string_equal(t, "");
	free(t);
	t = merged(s, CPU, NULL, BASE + 2 * DAY, BASE + 3 * DAY);
	assert_non_null(strstr(t, "hot:30 320"));
	free(t);
	assert_int_equal(store_enforce_retention(s, BASE + 3 * DAY + 3600 * SEC, &e), 0);
	/* The dropped days can be written again. */
	fill(s);
	t = merged(s, MEM, NULL, BASE, BASE + DAY);
	assert_string_equal(t, "main:40;other:50 2\nmain:40;work:40;leaf:40 7\n");
	free(t);
	store_close(s);
}

/* ---- PostgreSQL ---- */

static int pg_setup(void **state)
{
	char cmd[512];
	FILE *f;
	const char *root = getenv("KILN_ROOT");

	(void)state;
	snprintf(pg_dir, sizeof(pg_dir), "/tmp/kiln-pg.XXXXXX");
	if (!mkdtemp(pg_dir))
		return 0;
	snprintf(cmd, sizeof(cmd), "chmod 755 %s && %s/scripts/pg-cluster.sh start %s/cluster", pg_dir,
		 root ? root : ".", pg_dir);
	f = popen(cmd, "r");
	if (!f || !fgets(pg_url, sizeof(pg_url), f))
		pg_url[0] = 0;
	if (f)
		pclose(f);
	pg_url[strcspn(pg_url, "\n")] = 0;
	if (pg_url[0]) {
		/* A second, empty database on the same server. */
		PGconn *c = PQconnectdb(pg_url);

		PQclear(PQexec(c, "CREATE DATABASE kiln2"));
		PQfinish(c);
		const char *name = strstr(pg_url, "/kiln?");

		if (name)
			snprintf(pg_url2, sizeof(pg_url2), "%.*s/kiln2%s", (int)(name - pg_url), pg_url, name + 5);
	}
	return 0;
}

/* ---- group commit ---- */

struct group_writer {
	struct store *s;
	int id, ok, failed;
};

static void *write_group(void *arg)
{
	struct group_writer *g = arg;
	char lines[64];

	snprintf(lines, sizeof(lines), "gc;g%d 1\n", g->id);
	for (int i = 0; i < 20; i++) {
		struct profile *p = make("cpu", "nanoseconds", lines);
		/* Writer 0's profiles are all refused (before 1970): in a group with others' they must fail alone. */
		int64_t from = g->id ? BASE + 9 * DAY + (g->id * 20 + i) * SEC : -SEC;
		struct store_write w = { "", CPU, db, 1, from, from + SEC, p, 0, false, 0, NULL, 0 };
		struct err e = ERR_INIT;

		if (store_ingest(g->s, &w, 1, &e))
			g->failed++;
		else
			g->ok++;
		profile_free(p);
	}
	return NULL;
}

/* Six threads ingest through one store at once, so that requests are committed in groups (store_pg_commit.c):
 * each bad request fails, every good one is stored once. */
static void check_group_commit(struct store *s)
{
	pthread_t t[6];
	struct group_writer g[6];
	char *text;

	for (int i = 0; i < 6; i++) {
		g[i] = (struct group_writer){ s, i, 0, 0 };
		pthread_create(&t[i], NULL, write_group, &g[i]);
	}
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(g[0].failed, 20);
	assert_int_equal(g[0].ok, 0);
	for (int i = 1; i < 6; i++) {
		assert_int_equal(g[i].ok, 20);
		assert_int_equal(g[i].failed, 0);
	}
	text = merged(s, CPU, NULL, BASE + 9 * DAY, BASE + 10 * DAY);
	/* folded() prints each frame as name:line, and push() makes a line 10 x the name's length */
	assert_string_equal(text, "gc:20;g1:20 20\ngc:20;g2:20 20\ngc:20;g3:20 20\ngc:20;g4:20 20\ngc:20;g5:20 20\n");
	free(text);
}

static int pg_teardown(void **state)
{
	char cmd[512];
	const char *root = getenv("KILN_ROOT");

	(void)state;
	if (!pg_dir[0])
		return 0;
	snprintf(cmd, sizeof(cmd), "%s/scripts/pg-cluster.sh stop %s/cluster; rm -rf %s", root ? root : ".", pg_dir,
		 pg_dir);
	return system(cmd) ? 0 : 0;
}

static void test_pg_store(void **state)
{
	struct store *s;

	(void)state;
	if (!pg_url[0]) {
		print_message("skip - PostgreSQL: the throw-away cluster did not start (see scripts/pg-cluster.sh)\n");
		skip();
	}
	s = open_store(pg_url, 0);
	fill(s);
	check_merges(s);
	check_listing(s);
	check_timeline(s);
	check_single(s);
	check_tenants(s);
	check_concurrent(pg_url, s, NULL);
	check_rollups(s, pg_url);
	check_group_commit(s);
	store_close(s);
	check_retention(pg_url);
}

static void exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
}

/* The CPU merge of day 0 on a new store of `url`, folded; NULL when it fails with an error containing `err`. */
static char *cpu_merge(const char *url, const char *err)
{
	struct store *s = open_store(url, 0);
	struct store_query q = { "", CPU, NULL, BASE, BASE + DAY };
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;
	char *out = NULL;

	if (err) {
		assert_int_equal(store_select_merge(s, &q, p, &e), -1);
		assert_non_null(strstr(e.msg, err));
	} else {
		assert_int_equal(store_select_merge(s, &q, p, &e), 0);
		out = folded(p);
	}
	profile_free(p);
	store_close(s);
	return out;
}

static void test_pg_damaged(void **state)
{
	struct store *s;
	struct err e = ERR_INIT;
	PGconn *c;
	PGresult *r;
	struct profile *p;

	(void)state;
	if (!pg_url[0])
		skip();
	s = open_store(pg_url, 0);
	fill(s);
	/* One more before 15 s, so that the range below is not widened to the start of its day (its rollups). */
	p = make("alloc_space", "bytes", prof_b);
	put(s, MEM, db, 1, BASE + 5 * SEC, p);
	profile_free(p);
	/* A profile row whose body is not a packed vector: the merge fails with a message. */
	c = PQconnectdb(pg_url);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	r = PQexec(c, "UPDATE kiln_profiles SET data = '\\x05ff' WHERE series IN"
		      " (SELECT id FROM kiln_series WHERE profile_type = '" MEM "')");
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	p = profile_new(0);
	{
		/* From 15 s: the edge up to the first whole hour is read raw, whatever has been rolled up. */
		struct store_query q = { "", MEM, NULL, BASE + 15 * SEC, BASE + DAY };

		assert_int_equal(store_select_merge(s, &q, p, &e), -1);
		assert_non_null(strstr(e.msg, "damaged"));
	}
	/* Stack rows whose frame ids are not whole 8-byte ids (a byte more, or none): the merge fails with a
	 * message; with the rows restored, it answers as before. Each merge on a store of its own, so that no cache
	 * holds the stacks already. */
	{
		static const char *const damage[] = { "UPDATE kiln_stacks SET frames = frames || '\\x01'::bytea",
						      "UPDATE kiln_stacks SET frames = ''::bytea" };
		char *before = cpu_merge(pg_url, 0), *after;

		assert_true(strlen(before) > 0);
		exec_ok(c, "CREATE TEMP TABLE saved_stacks AS SELECT * FROM kiln_stacks");
		for (int k = 0; k < 2; k++) {
			exec_ok(c, damage[k]);
			assert_null(cpu_merge(pg_url, "damaged"));
			exec_ok(c, "UPDATE kiln_stacks k SET frames = s.frames FROM saved_stacks s"
				   " WHERE k.tenant = s.tenant AND k.id = s.id");
			after = cpu_merge(pg_url, 0);
			assert_string_equal(after, before);
			free(after);
		}
		free(before);
	}
	profile_free(p);
	PQfinish(c);
	/* A server that is gone: an error naming PostgreSQL, not a crash. */
	{
		struct store_opts o = { .location = "postgresql://nobody@/kiln?host=/nonexistent&connect_timeout=2" };

		assert_null(store_open(&o, &e));
		assert_non_null(strstr(e.msg, "PostgreSQL"));
	}
	store_close(s);
}

/* The same world in SQLite: the same answers, before and after compaction (a no-op there). */
/* The tenant's hour watermark, from the database. */
static int64_t hour_until_of(const char *tenant)
{
	PGconn *c = PQconnectdb(pg_url);
	const char *v[] = { tenant };
	PGresult *r = PQexecParams(c, "SELECT hour_until FROM kiln_compaction WHERE tenant = $1", 1, NULL, v, NULL,
				   NULL, 0);
	int64_t h = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;

	PQclear(r);
	PQfinish(c);
	return h;
}

/* An hour still being written (a backfill of a closed hour) is rolled up only once it has settled. */
static void test_pg_settle(void **state)
{
	struct store_opts o = { .location = pg_url, .settle_ns = 2 * SEC };
	struct label_pair l[] = { { "service_name", "settle" } };
	struct profile *p = make("cpu", "nanoseconds", prof_a);
	struct err e = ERR_INIT;
	struct store *s;
	int64_t hour = BASE + 20 * DAY + 5 * 3600 * SEC;
	struct store_write w = { "settle", CPU, l, 1, hour + 60 * SEC, hour + 70 * SEC, p, 0, false, 0, NULL, 0 };

	(void)state;
	if (!pg_url[0]) {
		print_message("skip - PostgreSQL: the throw-away cluster did not start (see scripts/pg-cluster.sh)\n");
		skip();
	}
	s = store_open(&o, &e);
	assert_non_null(s);
	assert_int_equal(store_ingest(s, &w, 1, &e), 0);
	/* written just now: not rolled up, though the hour closed long ago */
	assert_true(store_compact(s, hour + 2 * DAY, &e) >= 0);
	assert_true(hour_until_of("settle") <= hour);
	sleep(3);
	assert_true(store_compact(s, hour + 2 * DAY, &e) >= 1);
	assert_int_equal(hour_until_of("settle"), hour + 3600 * SEC);
	store_close(s);
	profile_free(p);
}

static void test_sqlite_same_answers(void **state)
{
	char dir[] = "/tmp/kiln-sqlite.XXXXXX", cmd[64];
	struct store *sq, *pg;
	char *a, *b;
	struct err e = ERR_INIT;

	(void)state;
	if (!pg_url[0])
		skip();
	assert_non_null(mkdtemp(dir));
	sq = open_store(dir, 0);
	fill(sq);
	check_merges(sq);
	check_listing(sq);
	check_timeline(sq);
	check_single(sq);
	check_tenants(sq);
	check_concurrent(dir, sq, sq);
	assert_true(store_compact(sq, BASE + 3 * DAY + 3600 * SEC, &e) >= 0);
	/* The PostgreSQL database holds the same world plus a late profile and damaged raw rows of day 0 by now:
	 * compare on a fresh database instead. */
	pg = open_store(pg_url2, 0);
	fill(pg);
	check_tenants(pg);
	check_concurrent(pg_url2, pg, NULL);
	assert_true(store_compact(pg, BASE + 3 * DAY + 3600 * SEC, &e) >= 3);
	a = answers(sq);
	b = answers(pg);
	assert_string_equal(a, b);
	free(a);
	free(b);
	store_close(pg);
	store_close(sq);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/*
 * PostgreSQL's merge for a flame graph of at most maxNodes nodes (the stacks numbered in the reader's memory,
 * store_pg_nodes.c) gives the graph of the whole merge for every maxNodes: on the writer, on a reader that read
 * some of the stacks before others were written, and on a reader whose tables are full at every merge (emptied
 * and read again). Its own tenant: the other tests' data stays out.
 */
static void test_pg_graph(void **state)
{
	static const int64_t max_nodes[] = { 1, 2, 5, 17, 60, 100000 };
	struct store_query q = { "graph", CPU, NULL, BASE, BASE + DAY };
	struct store *s, *r;
	struct buf text = BUF_INIT;
	struct err e = ERR_INIT;
	unsigned seed = 11;
	int64_t want = 0;
	char total[64];

	(void)state;
	if (!pg_url[0])
		skip();
	s = open_store(pg_url, 0);
	r = open_store(pg_url, 0);
	/* Stacks up to 7 deep from 5 names a level, values 1..100 (a repeated stack adds up), an empty stack too. */
	for (int k = 0; k < 4; k++) {
		struct profile *p;
		struct store_write w = { "graph", CPU, prod, 2, BASE + k * 10 * SEC, BASE + (k + 1) * 10 * SEC, NULL, 0,
					 false, 0, NULL, 0 };

		buf_reset(&text);
		for (int i = 0; i < 300; i++) {
			int depth = 1 + (int)(rand_r(&seed) % 7);
			int64_t v = 1 + rand_r(&seed) % 100;

			for (int d = 0; d < depth; d++)
				buf_addf(&text, "%sf%d_%u", d ? ";" : "", d, rand_r(&seed) % 5);
			buf_addf(&text, " %lld\n", (long long)v);
			want += v;
		}
		p = make("cpu", "nanoseconds", text.buf);
		profile_add_sample1(p, 0, 0, 9); /* no frames */
		want += 9;
		w.prof = p;
		if (store_ingest(s, &w, 1, &e))
			fail_msg("store_ingest: %s", e.msg);
		profile_free(p);
		if (k == 1) /* the reader numbers the first two profiles' stacks now, the others' later */
			free(graph_of(r, &q, 17, true));
	}
	snprintf(total, sizeof(total), " total %lld", (long long)want);
	for (size_t i = 0; i < sizeof(max_nodes) / sizeof(max_nodes[0]); i++) {
		char *whole = graph_of(s, &q, max_nodes[i], false), *cut = graph_of(s, &q, max_nodes[i], true);
		char *cut_r = graph_of(r, &q, max_nodes[i], true);

		assert_string_equal(cut, whole);
		assert_string_equal(cut_r, whole);
		assert_non_null(strstr(cut, total));
		free(whole);
		free(cut);
		free(cut_r);
	}
	/* Full at every merge: each one empties the tables, reads its stacks again, and answers the same. */
	((struct pg_store *)r)->nodes_max = 1;
	for (int i = 0; i < 3; i++) {
		char *whole = graph_of(s, &q, 60, false), *cut = graph_of(r, &q, 60, true), *all = graph_of(r, &q, 60, false);

		assert_string_equal(cut, whole);
		assert_string_equal(all, whole);
		free(whole);
		free(cut);
		free(all);
	}
	buf_release(&text);
	store_close(r);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pg_store),
		cmocka_unit_test(test_pg_damaged),
		cmocka_unit_test(test_pg_settle),
		cmocka_unit_test(test_pg_graph),
		cmocka_unit_test(test_sqlite_same_answers),
	};

	return cmocka_run_group_tests(tests, pg_setup, pg_teardown);
}
