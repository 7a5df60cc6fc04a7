/*
 * Unit tests for the storage interface (src/server/store.h) on its SQLite backend: what is ingested is read back
 * with the same stacks and totals (merged, listed, fetched one by one), tenants and selectors separate series,
 * label queries and totals over time see exactly what was stored, concurrent writers all land (group commit),
 * limits refuse as documented, retention deletes whole days, and the packed vectors round-trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/buf.h"
#include "core/err.h"
#include "formats/format.h"
#include "profile/profile.h"
#include "server/flamebearer.h"
#include "server/series.h"
#include "server/store.h"
#include "server/store_impl.h"
#include "server/store_sqlite.h"
#include "store_graph.h"

#define SEC 1000000000LL
#define PTYPE "process_cpu:cpu:nanoseconds:cpu:nanoseconds"

static char dir[64];

static struct store *open_store(int64_t retention_ns, uint64_t max_series)
{
	struct store_opts o = { .location = dir, .retention_ns = retention_ns, .max_series = max_series };
	struct err e = ERR_INIT;
	struct store *s;

	strcpy(dir, "/tmp/kiln-store-XXXXXX");
	assert_non_null(mkdtemp(dir));
	s = store_open(&o, &e);
	if (!s)
		fail_msg("%s", e.msg);
	return s;
}

static void rm_store(struct store *s)
{
	struct buf cmd = BUF_INIT;

	store_close(s);
	buf_addf(&cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd.buf), 0);
	buf_release(&cmd);
}

/* A profile from folded text, through kiln's own reader. */
static struct profile *folded(const char *text)
{
	struct profile *p = profile_new(0);
	struct input in;
	struct err e = ERR_INIT;

	input_from_memory(&in, text, strlen(text), "test");
	if (format_by_name("folded")->read(p, &in, &(struct format_read_opts){ 0 }, &e))
		fail_msg("%s", e.msg);
	input_close(&in);
	return p;
}

/* The profile as sorted folded text, for comparing stacks and values. */
static char *as_folded(const struct profile *p)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct err e = ERR_INIT;

	if (format_by_name("folded")->write(p, f, &(struct format_write_opts){ .column = 0 }, &e))
		fail_msg("%s", e.msg);
	fclose(f);
	return out;
}

static void ingest(struct store *s, const char *tenant, const struct label_pair *l, size_t n, int64_t t,
		   const struct profile *p)
{
	struct store_write w = { .tenant = tenant, .profile_type = PTYPE, .labels = l, .nlabels = n,
				 .from_ns = t, .until_ns = t + 10 * SEC, .prof = p, .column = 0 };
	struct err e = ERR_INIT;

	if (store_ingest(s, &w, 1, &e))
		fail_msg("%s", e.msg);
}

static struct selector sel_of(const char *text)
{
	struct selector sel;
	struct err e = ERR_INIT;

	if (selector_parse(text, &sel, &e))
		fail_msg("%s", e.msg);
	return sel;
}

static char *merged(struct store *s, const char *tenant, const char *selector, int64_t from, int64_t until)
{
	struct selector sel = sel_of(selector);
	struct store_query q = { tenant, PTYPE, &sel, from, until };
	struct profile *out = profile_new(0);
	struct err e = ERR_INIT;
	char *text;

	if (store_select_merge(s, &q, out, &e))
		fail_msg("%s", e.msg);
	text = as_folded(out);
	profile_free(out);
	selector_free(&sel);
	return text;
}

static const struct label_pair api_prod[] = { { "env", "prod" }, { "service_name", "api" } };
static const struct label_pair api_dev[] = { { "env", "dev" }, { "service_name", "api" } };
static const struct label_pair db_prod[] = { { "env", "prod" }, { "service_name", "db" } };

static void test_round_trip_and_selectors(void **state)
{
	struct store *s = open_store(0, 0);
	int64_t t = (int64_t)time(NULL) * SEC;
	struct profile *a = folded("main;work;leaf 30\nmain;work 5\nmain;idle 7\n");
	struct profile *b = folded("main;work;leaf 1\nmain;other 2\n");
	char *got;

	ingest(s, "", api_prod, 2, t, a);
	ingest(s, "", api_prod, 2, t + 10 * SEC, a);
	ingest(s, "", api_dev, 2, t, b);
	ingest(s, "acme", db_prod, 2, t, b);

	got = merged(s, "", "{service_name=\"api\", env=\"prod\"}", t, t + 60 * SEC);
	assert_string_equal(got, "main;idle 14\nmain;work 10\nmain;work;leaf 60\n");
	free(got);
	got = merged(s, "", "{service_name=\"api\"}", t, t + 60 * SEC);
	assert_string_equal(got, "main;idle 14\nmain;other 2\nmain;work 10\nmain;work;leaf 61\n");
	free(got);
	got = merged(s, "", "{env=~\"pr.*\"}", t, t + 5 * SEC); /* only the first profile is in range */
	assert_string_equal(got, "main;idle 7\nmain;work 5\nmain;work;leaf 30\n");
	free(got);
	got = merged(s, "", "{env!=\"prod\"}", t, t + 60 * SEC);
	assert_string_equal(got, "main;other 2\nmain;work;leaf 1\n");
	free(got);
	/* Another tenant's data is invisible, and its own is there. */
	got = merged(s, "", "{service_name=\"db\"}", t, t + 60 * SEC);
	assert_string_equal(got, "");
	free(got);
	got = merged(s, "acme", "{}", t, t + 60 * SEC);
	assert_string_equal(got, "main;other 2\nmain;work;leaf 1\n");
	free(got);
	profile_free(a);
	profile_free(b);
	rm_store(s);
}

static int add_string(void *arg, const char *str)
{
	buf_addf(arg, "%s,", str);
	return 0;
}

static int add_series(void *arg, const char *ptype, const struct label_pair *l, size_t n)
{
	buf_addf(arg, "%s{", ptype);
	for (size_t i = 0; i < n; i++)
		buf_addf(arg, "%s=%s;", l[i].name, l[i].value);
	buf_adds(arg, "}\n");
	return 0;
}

static int add_group(void *arg, const struct label_pair *g, size_t ng, const struct store_point *p, size_t np)
{
	for (size_t i = 0; i < ng; i++)
		buf_addf(arg, "%s=%s ", g[i].name, g[i].value);
	for (size_t i = 0; i < np; i++)
		buf_addf(arg, "%lld:%lld ", (long long)(p[i].time_ns / SEC % 1000), (long long)p[i].value);
	buf_adds(arg, "\n");
	return 0;
}

static void test_labels_series_and_totals(void **state)
{
	struct store *s = open_store(0, 0);
	int64_t t = ((int64_t)time(NULL) / 1000 * 1000) * SEC; /* a multiple of 1000 s: readable step times */
	struct profile *a = folded("a;b 3\n");
	struct store_query q = { "", NULL, NULL, t, t + 100 * SEC };
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	const char *env[] = { "env" };

	ingest(s, "", api_prod, 2, t, a);
	ingest(s, "", api_prod, 2, t + 20 * SEC, a);
	ingest(s, "", api_dev, 2, t + 25 * SEC, a);
	ingest(s, "", db_prod, 2, t + 200 * SEC, a); /* out of the range */

	assert_int_equal(store_label_names(s, &q, add_string, &out, &e), 0);
	assert_string_equal(out.buf, "env,service_name,");
	buf_reset(&out);
	assert_int_equal(store_label_values(s, &q, "service_name", add_string, &out, &e), 0);
	assert_string_equal(out.buf, "api,");
	buf_reset(&out);
	assert_int_equal(store_profile_types(s, &q, add_string, &out, &e), 0);
	assert_string_equal(out.buf, PTYPE ",");
	buf_reset(&out);
	assert_int_equal(store_series(s, &q, add_series, &out, &e), 0);
	assert_non_null(strstr(out.buf, PTYPE "{env=dev;service_name=api;}\n"));
	assert_non_null(strstr(out.buf, PTYPE "{env=prod;service_name=api;}\n"));
	assert_null(strstr(out.buf, "db"));
	buf_reset(&out);
	/* Steps of 10 s from t: a profile counts at the first boundary at or after its time (as in Pyroscope), so
	 * the api/prod profiles at 0 and 20 are on theirs and the dev one at 25 counts at 30. */
	q.profile_type = PTYPE;
	assert_int_equal(store_select_series(s, &q, env, 1, 10 * SEC, add_group, &out, &e), 0);
	assert_string_equal(out.buf, "env=dev 30:3 \nenv=prod 0:3 20:3 \n");
	buf_reset(&out);
	assert_int_equal(store_select_series(s, &q, NULL, 0, 10 * SEC, add_group, &out, &e), 0);
	assert_string_equal(out.buf, "0:3 20:3 30:3 \n");
	buf_reset(&out);
	/* From 1 ns before t, every profile lies just after a boundary: the one at t counts at t - 1 ns + 10 s
	 * (printed in whole seconds, 9) and those at 20 and 25 at t - 1 ns + 30 s (29). */
	q.from_ns = t - 1;
	assert_int_equal(store_select_series(s, &q, NULL, 0, 10 * SEC, add_group, &out, &e), 0);
	assert_string_equal(out.buf, "9:3 29:6 \n");
	q.from_ns = t;
	buf_release(&out);
	profile_free(a);
	rm_store(s);
}

/* What add_group prints for series k of test_totals_both_ways over [from, until) by `step`: Pyroscope's boundary
 * rule (a profile counts at the first step boundary at or after its time), from the values as ingested. */
#define TB_SERIES 16
#define TB_PROFILES 10
static int64_t tb_value(int k, int j)
{
	return (k * 7 + j) % TB_PROFILES + 1;
}

static void tb_expect(struct buf *out, int k, int64_t t, int64_t from, int64_t until, int64_t step, bool grouped)
{
	int64_t sums[TB_PROFILES + 2] = { 0 };
	int64_t top = 0;

	for (int j = 0; j < TB_PROFILES; j++) {
		int64_t at = t + j * 10 * SEC, idx;

		if (at < from || at >= until)
			continue;
		idx = store_step_index(at, from, step);
		sums[idx] += tb_value(k, j);
		top = idx + 1 > top ? idx + 1 : top;
	}
	if (!top)
		return;
	if (grouped)
		buf_addf(out, "service_name=s%02d ", k);
	for (int64_t i = 0; i < top; i++)
		if (sums[i])
			buf_addf(out, "%lld:%lld ", (long long)((from + i * step) / SEC % 1000), (long long)sums[i]);
	buf_adds(out, "\n");
}

/*
 * Totals over time read a partition profile by profile through the series index (a few series of many) or in
 * one pass over all its profiles (most of them): both give the totals as ingested, per series and grouped, over
 * the whole range and a cut one.
 */
static void test_totals_both_ways(void **state)
{
	struct store *s = open_store(0, 0);
	int64_t t = ((int64_t)time(NULL) / 1000 * 1000) * SEC;
	const int64_t ranges[][2] = { { t, t + 100 * SEC }, { t + 25 * SEC, t + 75 * SEC }, { t - 1, t + 91 * SEC } };
	struct label_pair labels[TB_SERIES][1];
	struct store_write w[TB_SERIES * TB_PROFILES];
	struct profile *p[TB_PROFILES];
	char names[TB_SERIES][16];
	const char *by[] = { "service_name" };
	struct buf got = BUF_INIT, want = BUF_INIT, text = BUF_INIT;
	struct err e = ERR_INIT;

	for (int j = 0; j < TB_PROFILES; j++) {
		buf_reset(&text);
		buf_addf(&text, "a;b %d\n", j + 1);
		p[j] = folded(text.buf);
	}
	for (int k = 0; k < TB_SERIES; k++) {
		snprintf(names[k], sizeof(names[k]), "s%02d", k); /* groups come in their names' order */
		labels[k][0] = (struct label_pair){ "service_name", names[k] };
	}
	/* as a fleet stores them: every series' profile of a step beside the others' */
	for (int j = 0; j < TB_PROFILES; j++)
		for (int k = 0; k < TB_SERIES; k++)
			w[j * TB_SERIES + k] = (struct store_write){ .tenant = "", .profile_type = PTYPE,
								     .labels = labels[k], .nlabels = 1,
								     .from_ns = t + j * 10 * SEC,
								     .until_ns = t + (j + 1) * 10 * SEC,
								     .prof = p[tb_value(k, j) - 1] };
	if (store_ingest(s, w, TB_SERIES * TB_PROFILES, &e))
		fail_msg("%s", e.msg);
	for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
		struct store_query q = { "", PTYPE, NULL, ranges[r][0], ranges[r][1] };

		for (int k = 0; k < TB_SERIES; k++) {
			struct selector sel;

			buf_reset(&text);
			buf_addf(&text, "{service_name=\"%s\"}", names[k]);
			sel = sel_of(text.buf);
			q.sel = &sel;
			buf_reset(&got);
			buf_reset(&want);
			assert_int_equal(store_select_series(s, &q, NULL, 0, 30 * SEC, add_group, &got, &e), 0);
			tb_expect(&want, k, t, q.from_ns, q.until_ns, 30 * SEC, false);
			assert_string_equal(got.buf, want.buf);
			selector_free(&sel);
		}
		q.sel = NULL;
		buf_reset(&got);
		buf_reset(&want);
		assert_int_equal(store_select_series(s, &q, by, 1, 30 * SEC, add_group, &got, &e), 0);
		for (int k = 0; k < TB_SERIES; k++)
			tb_expect(&want, k, t, q.from_ns, q.until_ns, 30 * SEC, true);
		assert_string_equal(got.buf, want.buf);
	}
	for (int j = 0; j < TB_PROFILES; j++)
		profile_free(p[j]);
	buf_release(&got);
	buf_release(&want);
	buf_release(&text);
	rm_store(s);
}

struct listing {
	char ids[8][40];
	int64_t from[8], total[8];
	int n;
};

static int add_ref(void *arg, const struct store_profile_ref *r)
{
	struct listing *l = arg;

	strcpy(l->ids[l->n], r->id);
	l->from[l->n] = r->from_ns;
	l->total[l->n++] = r->total;
	return 0;
}

static void test_list_and_get(void **state)
{
	struct store *s = open_store(0, 0);
	int64_t t = (int64_t)time(NULL) * SEC;
	struct profile *a = folded("x;y 4\nx 1\n"), *b = folded("x;z 9\n"), *got;
	struct store_query q = { "", PTYPE, NULL, t - 3 * 86400 * SEC, t + 100 * SEC };
	struct listing l = { 0 };
	struct err e = ERR_INIT;
	char *text;

	ingest(s, "", api_prod, 2, t - 2 * 86400 * SEC, a); /* two days earlier: another partition */
	ingest(s, "", api_prod, 2, t, b);
	assert_int_equal(store_list_profiles(s, &q, 10, add_ref, &l, &e), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.from[0], t); /* newest first */
	assert_int_equal(l.total[0], 9);
	assert_int_equal(l.total[1], 5);
	got = profile_new(0);
	assert_int_equal(store_get_profile(s, "", l.ids[1], got, &e), 0);
	text = as_folded(got);
	assert_string_equal(text, "x 1\nx;y 4\n");
	assert_int_equal(got->time_nanos, t - 2 * 86400 * SEC);
	assert_int_equal(got->duration_nanos, 10 * SEC);
	free(text);
	profile_free(got);
	/* Another tenant cannot fetch it; a malformed id is an error, not a crash. */
	got = profile_new(0);
	assert_int_equal(store_get_profile(s, "acme", l.ids[1], got, &e), -1);
	assert_int_equal(store_get_profile(s, "", "nonsense", got, &e), -1);
	profile_free(got);
	/* A limit of 1 gives the newest. */
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_list_profiles(s, &q, 1, add_ref, &l, &e), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.total[0], 9);
	profile_free(a);
	profile_free(b);
	rm_store(s);
}

struct writer_arg {
	struct store *s;
	const struct profile *p;
	int64_t t;
	int k;
};

static void *writer(void *arg)
{
	struct writer_arg *w = arg;
	char v[16];
	struct label_pair l[2] = { { "service_name", "svc" }, { "thread", v } };

	snprintf(v, sizeof(v), "%d", w->k);
	/* Labels must be sorted by name: "service_name" < "thread". */
	for (int i = 0; i < 50; i++)
		ingest(w->s, "", l, 2, w->t + i * SEC, w->p);
	return NULL;
}

static void test_concurrent_writers(void **state)
{
	struct store *s = open_store(0, 0);
	struct profile *a = folded("a;b 2\n");
	struct writer_arg w[4];
	pthread_t th[4];
	char *got;
	int64_t t = (int64_t)time(NULL) * SEC;
	struct store_stats st;
	struct err e = ERR_INIT;

	for (int k = 0; k < 4; k++) {
		w[k] = (struct writer_arg){ s, a, t, k };
		pthread_create(&th[k], NULL, writer, &w[k]);
	}
	for (int k = 0; k < 4; k++)
		pthread_join(th[k], NULL);
	got = merged(s, "", "{service_name=\"svc\"}", t, t + 100 * SEC);
	assert_string_equal(got, "a;b 400\n");
	free(got);
	assert_int_equal(store_stats(s, &st, &e), 0);
	assert_int_equal(st.profiles, 200);
	assert_int_equal(st.series, 4);
	assert_int_equal(st.stacks, 2);
	profile_free(a);
	rm_store(s);
}

static void test_limits_and_retention(void **state)
{
	struct store *s = open_store(7 * 86400 * SEC, 2);
	struct profile *a = folded("a 1\n");
	int64_t now = (int64_t)time(NULL) * SEC;
	struct store_write w = { .tenant = "", .profile_type = PTYPE, .labels = db_prod, .nlabels = 2,
				 .from_ns = now, .until_ns = now, .prof = a };
	struct store_stats st;
	struct err e = ERR_INIT;
	char *got;

	ingest(s, "", api_prod, 2, now - 5 * 86400 * SEC, a);
	ingest(s, "", api_dev, 2, now, a);
	/* A third series is over the limit of 2 for this tenant, not for another. */
	assert_int_equal(store_ingest(s, &w, 1, &e), STORE_ELIMIT);
	assert_non_null(strstr(e.msg, "limit"));
	ingest(s, "", api_dev, 2, now, a);
	ingest(s, "other", db_prod, 2, now, a);
	/* Older than the retention: refused. */
	w.labels = api_prod;
	w.from_ns = w.until_ns = now - 8 * 86400 * SEC;
	assert_int_equal(store_ingest(s, &w, 1, &e), STORE_ELIMIT);
	/* Three days later the partition of now - 5 d is older than 7 d and goes, as a whole file. */
	assert_int_equal(store_stats(s, &st, &e), 0);
	assert_int_equal(st.partitions, 2);
	assert_int_equal(store_enforce_retention(s, now, &e), 0);
	assert_int_equal(store_enforce_retention(s, now + 3 * 86400 * SEC, &e), 1);
	assert_int_equal(store_stats(s, &st, &e), 0);
	assert_int_equal(st.partitions, 1);
	got = merged(s, "", "{}", now - 6 * 86400 * SEC, now + SEC);
	assert_string_equal(got, "a 2\n");
	free(got);
	profile_free(a);
	rm_store(s);
}

static int collect_pairs(void *arg, int64_t id, int64_t value)
{
	buf_addf(arg, "%lld=%lld ", (long long)id, (long long)value);
	return 0;
}

static void test_pack(void **state)
{
	int64_t ids[] = { 1, 2, 900, 1LL << 40 }, vals[] = { 20000000, -40000000, 60000000, INT64_MAX / 10000000 * 10000000 };
	struct buf packed = BUF_INIT, out = BUF_INIT;
	char want[200];

	store_pack(&packed, ids, vals, 4);
	assert_int_equal(store_unpack((unsigned char *)packed.buf, packed.len, collect_pairs, &out), 0);
	snprintf(want, sizeof(want), "1=20000000 2=-40000000 900=60000000 %lld=%lld ", 1LL << 40,
		 (long long)(INT64_MAX / 10000000 * 10000000));
	assert_string_equal(out.buf, want);
	/* The common divisor keeps values short: 4 pairs of sampled CPU time in a few bytes each. */
	assert_true(packed.len < 40);
	/* Every truncation is refused. */
	for (size_t cut = 0; cut < packed.len; cut++) {
		buf_reset(&out);
		assert_int_equal(store_unpack((unsigned char *)packed.buf, cut, collect_pairs, &out), -1);
	}
	buf_release(&packed);
	buf_release(&out);
}

/* Merges over ranges that cut hours, cover hours, and cover days, with raw edges on either side. */
static char *rollup_answers(struct store *s, int64_t base)
{
	static const int64_t h = 3600 * SEC, d = 86400 * SEC;
	const int64_t ranges[][2] = {
		{ base, base + h },	    { base, base + 2 * d },	{ base + 15 * SEC, base + h },
		{ base + 15 * SEC, base + d + h }, { base + h, base + 2 * d }, { base - h, base + 4 * d },
		{ base + d, base + 3 * d }, { base + 7 * h + 5 * SEC, base + d + 3 * h + 20 * SEC },
		/* past the last profile of day 0 (at 23:00) but not to its end: read as the whole day */
		{ base - h, base + d - 600 * SEC }, { base + 30 * SEC, base + d - 600 * SEC },
	};
	struct buf out = BUF_INIT;

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		for (int sel = 0; sel < 2; sel++) {
			char *m = merged(s, "", sel ? "{service_name=\"api\"}" : "{}", ranges[i][0], ranges[i][1]);

			buf_addf(&out, "range %zu %d:\n%s", i, sel, m);
			free(m);
		}
	}
	return buf_detach(&out, NULL);
}

static void fill_rollup_world(struct store *s, int64_t base, const struct profile *a, const struct profile *b)
{
	for (int k = 0; k < 30; k++) {
		int64_t t = base + k * 5400 * SEC + (k % 4) * 600 * SEC;

		ingest(s, "", k % 3 ? api_prod : db_prod, 2, t, k % 2 ? a : b);
		ingest(s, "t2", api_dev, 2, t, a);
	}
}

/*
 * Rollups answer exactly what the raw profiles answer (a store that was never compacted is the reference),
 * late profiles join them, and they are really read: after compaction, damaging the raw rows of a rolled-up
 * day does not change a merge over its whole hours (or over a range that holds all the day's profiles, widened
 * to the whole day), while a merge with a raw edge in that day fails.
 */
static void test_rollups(void **state)
{
	const int64_t base = 20400LL * 86400 * SEC, now = base + 3 * 86400 * SEC + 3600 * SEC;
	struct profile *a = folded("main;work;leaf 3\nmain;idle 2\n"), *b = folded("main;work 1\nmain;other;x 4\n");
	struct store *s = open_store(0, 0), *ref;
	char s_dir[64], *want, *got, *path;
	struct store_query q = { "", PTYPE, NULL, base + 45 * SEC, base + 86400 * SEC };
	struct profile *p;
	struct err e = ERR_INIT;
	sqlite3 *db;

	fill_rollup_world(s, base, a, b);
	strcpy(s_dir, dir);
	ref = open_store(0, 0); /* the reference, in a directory of its own: `dir` now names it */
	fill_rollup_world(ref, base, a, b);
	want = rollup_answers(ref, base);
	/* Before the data: the watermarks move up to it, then there is nothing to do. */
	assert_true(store_compact(s, base, &e) >= 0);
	assert_int_equal(store_compact(s, base, &e), 0);
	assert_true(store_compact(s, now, &e) >= 3);
	assert_int_equal(store_compact(s, now, &e), 0);
	got = rollup_answers(s, base);
	assert_string_equal(got, want);
	free(got);
	free(want);

	/* Late profiles in a rolled-up hour and day. */
	for (int k = 0; k < 2; k++) {
		ingest(s, "", api_prod, 2, base + (40 + k * 10) * SEC, a);
		ingest(ref, "", api_prod, 2, base + (40 + k * 10) * SEC, a);
	}
	want = rollup_answers(ref, base);
	got = rollup_answers(s, base);
	assert_string_equal(got, want);
	free(got);
	free(want);

	/* Damage every raw profile of day 0: whole hours and days still read, from rollups. */
	path = malloc(strlen(s_dir) + 32);
	sprintf(path, "%s/p-20251108.db", s_dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE profiles SET data = x'05ff'", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	free(path);
	for (int k = 0; k < 2; k++) {
		/* whole days, and a range that holds all of day 0's data without reaching its end */
		int64_t until = k ? base + 86400 * SEC - 600 * SEC : base + 2 * 86400 * SEC;

		got = merged(s, "", "{}", base - 3600 * SEC, until);
		want = merged(ref, "", "{}", base - 3600 * SEC, until);
		assert_string_equal(got, want);
		free(got);
		free(want);
	}
	/* the raw edge [45 s, 1 h) holds the late profile at 50 s of a series with one before it, at 40 s */
	p = profile_new(0);
	assert_int_equal(store_select_merge(s, &q, p, &e), -1);
	assert_non_null(strstr(e.msg, "damaged"));
	profile_free(p);
	profile_free(a);
	profile_free(b);
	rm_store(ref);
	strcpy(dir, s_dir);
	rm_store(s);
}

/* A postgres:// location selects PostgreSQL (tested against a real server in test_server_pg.c): one that
 * cannot be reached is an error naming it, not a SQLite directory of that name. */
static void test_postgres_unreachable(void **state)
{
	struct store_opts o = { .location = "postgres://nobody@/kiln?host=/nonexistent&connect_timeout=2" };
	struct err e = ERR_INIT;

	(void)state;
	assert_null(store_open(&o, &e));
	assert_non_null(strstr(e.msg, "PostgreSQL"));
}

/*
 * The writer's set of stored stack nodes: every key is found by its number through growths, an absent key is
 * not, and numbers taken back with a failed batch (the limit lowered) stop naming their keys, also once they
 * are handed out again to other keys.
 */
static void test_known_stacks(void **state)
{
	struct store_keys k = { 0 };
	const int64_t n = 200000;
	int64_t limit;

	for (int64_t seq = 1; seq <= n; seq++)
		store_keys_add(&k, store_id_of(&seq, sizeof(seq)) | 1, seq);
	limit = n + 1;
	for (int64_t seq = 1; seq <= n; seq++)
		if (store_keys_find(&k, store_id_of(&seq, sizeof(seq)) | 1, limit) != seq)
			fail_msg("node %lld not found", (long long)seq);
	/* the keys above are odd: an even one is absent */
	assert_int_equal(store_keys_find(&k, 2, limit), 0);
	assert_true((k.mask + 1) * 3 >= k.nr * 4);
	/* A failed batch had numbered n - 9 .. n: they are taken back, and 5 of them go to other keys. */
	limit = n - 9;
	for (int64_t seq = n - 9; seq <= n; seq++)
		assert_int_equal(store_keys_find(&k, store_id_of(&seq, sizeof(seq)) | 1, limit), 0);
	for (int64_t seq = n - 9; seq < n - 4; seq++)
		store_keys_add(&k, (uint64_t)seq << 1, seq);
	limit = n - 4;
	for (int64_t seq = n - 9; seq < n - 4; seq++) {
		assert_int_equal(store_keys_find(&k, (uint64_t)seq << 1, limit), seq);
		assert_int_equal(store_keys_find(&k, store_id_of(&seq, sizeof(seq)) | 1, limit), 0);
	}
	assert_int_equal(store_keys_find(&k, store_id_of(&(int64_t){ n - 9 - 1 }, 8) | 1, limit), n - 10);
	store_keys_release(&k);
}

/*
 * A merge for a flame graph of at most maxNodes nodes leaves out what the graph folds into "other", in the store:
 * the graph is the one of the whole merge, for every maxNodes (here each stack node has one name, as with folded
 * input), its total the sum of all values, and the merged profile holds fewer nodes.
 */
static void test_merge_for_graph(void **state)
{
	struct store *s = open_store(0, 0);
	int64_t t = (int64_t)time(NULL) * SEC, want = 0;
	const int64_t max_nodes[] = { 1, 2, 5, 17, 60, 100000 };
	struct store_query q = { "", PTYPE, NULL, t - 3600 * SEC, t + 3600 * SEC };
	struct buf text = BUF_INIT;
	struct err e = ERR_INIT;
	struct selector sel;
	unsigned seed = 7;

	/* Three profiles of stacks up to 6 deep from 4 names a level, values 1..100 (a repeated stack adds up). */
	for (int k = 0; k < 3; k++) {
		struct profile *p;

		buf_reset(&text);
		for (int i = 0; i < 150; i++) {
			int depth = 1 + (int)(rand_r(&seed) % 6);
			int64_t v = 1 + rand_r(&seed) % 100;

			for (int d = 0; d < depth; d++)
				buf_addf(&text, "%sf%d_%u", d ? ";" : "", d, rand_r(&seed) % 4);
			buf_addf(&text, " %lld\n", (long long)v);
			want += v;
		}
		p = folded(text.buf);
		ingest(s, "", api_prod, 2, t + k * 10 * SEC, p);
		profile_free(p);
	}
	/* Another service with many more stack nodes: a query of the first sees few of the store's nodes (and is
	 * rebuilt whole, where a query of both is truncated in the store): the same graphs either way. */
	{
		struct profile *p;

		buf_reset(&text);
		for (int i = 0; i < 30000; i++)
			buf_addf(&text, "db_main;db_%d;db_leaf 1\n", i);
		p = folded(text.buf);
		ingest(s, "", db_prod, 2, t, p);
		profile_free(p);
	}
	sel = sel_of("{service_name=\"api\"}");
	q.sel = &sel;
	for (size_t i = 0; i < sizeof(max_nodes) / sizeof(max_nodes[0]); i++) {
		for (int both = 0; both < 2; both++) {
			char *whole, *cut, total[64];

			q.sel = both ? NULL : &sel;
			whole = graph_of(s, &q, max_nodes[i], false);
			cut = graph_of(s, &q, max_nodes[i], true);
			assert_string_equal(cut, whole);
			snprintf(total, sizeof(total), " total %lld", (long long)want + (both ? 30000 : 0));
			assert_non_null(strstr(cut, total));
			free(whole);
			free(cut);
		}
	}
	q.sel = NULL;
	/* The truncated merge itself: at most max_nodes nodes of the stacks, one "other" per parent beside them. */
	{
		struct profile *all = profile_new(0), *cut = profile_new(0);

		assert_int_equal(store_select_merge(s, &q, all, &e), 0);
		assert_int_equal(store_select_merge_graph(s, &q, 17, cut, &e), 0);
		assert_true(cut->nodes_nr < all->nodes_nr);
		assert_true(cut->nodes_nr <= 1 + 2 * 17);
		profile_free(all);
		profile_free(cut);
	}
	buf_release(&text);
	selector_free(&sel);
	rm_store(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_and_selectors),
		cmocka_unit_test(test_labels_series_and_totals),
		cmocka_unit_test(test_totals_both_ways),
		cmocka_unit_test(test_list_and_get),
		cmocka_unit_test(test_concurrent_writers),
		cmocka_unit_test(test_limits_and_retention),
		cmocka_unit_test(test_pack),
		cmocka_unit_test(test_known_stacks),
		cmocka_unit_test(test_merge_for_graph),
		cmocka_unit_test(test_rollups),
		cmocka_unit_test(test_postgres_unreachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
