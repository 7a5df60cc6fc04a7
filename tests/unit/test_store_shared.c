/*
 * Unit tests for what the storage backends share (src/server/store.c, store_impl.h): the stack rebuilder (shared
 * nodes, missing nodes and frames, parent loops), summing, the two forms of packed vectors, the compaction plan; and properties of
 * the SQLite layout that the fleet figures rest on: a fleet's profile packs into about two bytes per stack, a
 * restarted store goes on numbering stack nodes where it stopped, and a store of another format is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/buf.h"
#include "core/err.h"
#include "profile/profile.h"
#include "server/series.h"
#include "server/store.h"
#include "server/store_impl.h"

#define SEC 1000000000LL
#define PTYPE "process_cpu:cpu:nanoseconds:cpu:nanoseconds"

/* A stored world of nodes: id -> (parent, frame); frame f is named "f<f>". 0 in a slot: missing. */
struct world {
	int64_t parent[16], frame[16];
	int frames_asked, nodes_asked;
	int64_t missing_frame;
};

static int w_node(void *arg, int64_t id, int64_t *parent, int64_t *frame, struct err *e)
{
	struct world *w = arg;

	w->nodes_asked++;
	if (id < 0 || id >= 16 || !w->frame[id])
		return 1;
	*parent = w->parent[id];
	*frame = w->frame[id];
	return 0;
}

/* The world and its rebuilder, so that w_frame finds the output profile. */
struct rig {
	struct world w; /* first: the callbacks' argument */
	struct store_rebuild b;
};

static int w_frame(void *arg, int64_t frame, uint32_t *idx, struct err *e)
{
	struct rig *r = arg;
	char name[16];

	r->w.frames_asked++;
	if (frame == r->w.missing_frame)
		return 1;
	snprintf(name, sizeof(name), "f%lld", (long long)frame);
	*idx = profile_frame_named(r->b.out, name, strlen(name), FRAME_NATIVE);
	return 0;
}

static void rig_init(struct rig *r, struct profile *out)
{
	memset(r, 0, sizeof(*r));
	r->b.out = out;
	r->b.node = w_node;
	r->b.frame = w_frame;
	r->b.arg = r;
	r->w.missing_frame = -1;
}

/* The stack of `node`, root first, as "a;b;c". */
static char *stack_text(const struct profile *p, uint32_t node)
{
	struct buf b = BUF_INIT;
	uint32_t path[64];
	size_t n = 0;

	for (; node && n < 64; node = p->nodes[node].parent)
		path[n++] = node;
	while (n--)
		buf_addf(&b, "%s%s", profile_str(p, p->frames[p->nodes[path[n]].frame].function), n ? ";" : "");
	return buf_detach(&b, NULL);
}

static void test_rebuild(void **state)
{
	struct profile *out = profile_new(0);
	struct rig r;
	struct err e = ERR_INIT;
	uint32_t n3, n4, again;
	char *t;

	rig_init(&r, out);
	/* 1 <- 2 <- 3 and 2 <- 4: two stacks sharing a prefix; frames 7 and 8 repeat. */
	r.w.frame[1] = 7, r.w.frame[2] = 8, r.w.parent[2] = 1;
	r.w.frame[3] = 7, r.w.parent[3] = 2;
	r.w.frame[4] = 9, r.w.parent[4] = 2;
	assert_int_equal(store_rebuild_stack(&r.b, 3, &n3, &e), 0);
	assert_string_equal(t = stack_text(out, n3), "f7;f8;f7");
	free(t);
	assert_int_equal(store_rebuild_stack(&r.b, 4, &n4, &e), 0);
	assert_string_equal(t = stack_text(out, n4), "f7;f8;f9");
	free(t);
	assert_int_equal(out->nodes[n3].parent, out->nodes[n4].parent);
	/* Every stored node and frame was asked for once: 4 nodes, 3 frames. */
	assert_int_equal(r.w.nodes_asked, 4);
	assert_int_equal(r.w.frames_asked, 3);
	assert_int_equal(store_rebuild_stack(&r.b, 3, &again, &e), 0);
	assert_int_equal(again, n3);
	assert_int_equal(r.w.nodes_asked, 4);

	/* A missing node, a missing frame: 1, and the message names it. */
	assert_int_equal(store_rebuild_stack(&r.b, 5, &again, &e), 1);
	assert_non_null(strstr(e.msg, "stack 5 is missing"));
	r.w.frame[6] = 11, r.w.parent[6] = 4;
	r.w.missing_frame = 11;
	assert_int_equal(store_rebuild_stack(&r.b, 6, &again, &e), 1);
	assert_non_null(strstr(e.msg, "frame 11 is missing"));
	store_rebuild_release(&r.b);

	/* A parent loop (damaged rows) ends in an error, not an endless walk. */
	rig_init(&r, out);
	r.w.frame[1] = 7, r.w.parent[1] = 2;
	r.w.frame[2] = 8, r.w.parent[2] = 1;
	assert_int_equal(store_rebuild_stack(&r.b, 1, &again, &e), -1);
	assert_non_null(strstr(e.msg, "loops"));
	store_rebuild_release(&r.b);
	profile_free(out);
}

static int collect(void *arg, int64_t id, int64_t value)
{
	buf_addf(arg, "%lld=%lld ", (long long)id, (long long)value);
	return 0;
}

static void test_sums(void **state)
{
	struct store_sums s = STORE_SUMS_INIT;
	struct buf packed = BUF_INIT, out = BUF_INIT;

	store_sums_add(&s, 9, 30);
	store_sums_add(&s, 2, 10);
	store_sums_add(&s, 9, 12);
	store_sums_add(&s, 5, 4);
	store_sums_add(&s, 5, -4); /* sums to 0: not packed */
	assert_int_equal(s.n, 3);
	assert_int_equal(s.ids[0], 9); /* first-seen order */
	assert_int_equal(store_sums_pack(&s, &packed), 52);
	assert_int_equal(store_unpack((unsigned char *)packed.buf, packed.len, collect, &out), 0);
	assert_string_equal(out.buf, "2=10 9=42 ");
	store_sums_release(&s);
	buf_release(&packed);
	buf_release(&out);
}

/*
 * The two forms of a packed vector: a fleet's profile takes the bit-packed one (13 bits a pair here, where
 * varints take 16), outliers keep varints; both decode to what was packed, and every truncation or stray
 * trailing byte is refused.
 */
static void test_pack_forms(void **state)
{
	int64_t ids[200], v[200], big[] = { 1, 2, 900, 1LL << 40 },
			      bigv[] = { 20000000, -40000000, 60000000, 4000000000000000000LL };
	uint64_t r = 7;
	struct buf packed = BUF_INIT, out = BUF_INIT, want = BUF_INIT;

	for (int i = 0; i < 200; i++) {
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		ids[i] = (i ? ids[i - 1] : 0) + 1 + (int64_t)(r % 40);
		v[i] = (int64_t)(1 + (r >> 20) % 50) * 10000000;
		buf_addf(&want, "%lld=%lld ", (long long)ids[i], (long long)v[i]);
	}
	store_pack(&packed, ids, v, 200);
	assert_true(packed.buf[0] == 0 && packed.buf[1] == 0); /* the bit-packed form */
	print_message("fleet vector: %zu bytes for 200 pairs\n", packed.len);
	assert_true(packed.len <= 200 * 13 / 8 + 16);
	assert_int_equal(store_unpack((unsigned char *)packed.buf, packed.len, collect, &out), 0);
	assert_string_equal(out.buf, want.buf);
	for (size_t cut = 0; cut < packed.len; cut++) {
		buf_reset(&out);
		assert_int_equal(store_unpack((unsigned char *)packed.buf, cut, collect, &out), -1);
	}
	buf_addch(&packed, 0);
	assert_int_equal(store_unpack((unsigned char *)packed.buf, packed.len, collect, &out), -1);

	buf_reset(&packed);
	buf_reset(&out);
	store_pack(&packed, big, bigv, 4);
	assert_true(packed.buf[0] != 0); /* varints: one huge value would widen every value of the bit form */
	assert_int_equal(store_unpack((unsigned char *)packed.buf, packed.len, collect, &out), 0);
	assert_string_equal(out.buf, "1=20000000 2=-40000000 900=60000000 1099511627776=4000000000000000000 ");
	buf_release(&packed);
	buf_release(&out);
	buf_release(&want);
}

/*
 * Vectors of every shape come back as packed: ids with gaps of every magnitude (a content id's are 55 bits; a gap
 * far above the others takes the Rice code's escape), values of every width and sign, lengths that end the bit
 * stream at every offset (the reader takes eight bytes at a time, a byte at a time near the end). Every cut of a
 * vector is refused.
 */
static void test_pack_shapes(void **state)
{
	int64_t ids[300], v[300];
	uint64_t r = 99;
	struct buf packed = BUF_INIT, out = BUF_INIT, want = BUF_INIT;
	int bitform = 0;

	(void)state;
	for (int round = 0; round < 400; round++) {
		size_t n = 1 + (size_t)(round * 7 % 300);
		unsigned gap_bits = (unsigned)(round % 56), value_bits = (unsigned)(round * 3 % 62) + 1;

		buf_reset(&want);
		for (size_t i = 0; i < n; i++) {
			r ^= r << 13, r ^= r >> 7, r ^= r << 17;
			ids[i] = (i ? ids[i - 1] : (int64_t)(r % 1000)) + 1 + (int64_t)((r >> 3) & ((1ull << gap_bits) - 1));
			if (round % 5 == 0 && i == n / 2 && gap_bits < 20) /* an outlier gap: the escape */
				ids[i] += 1LL << (gap_bits + 40);
			v[i] = (int64_t)((r >> 11) & ((1ull << value_bits) - 1)) * (round % 3 ? 1 : 1000);
			if (round % 4 == 1 && (r & 1))
				v[i] = -v[i];
			buf_addf(&want, "%lld=%lld ", (long long)ids[i], (long long)v[i]);
		}
		buf_reset(&packed);
		store_pack(&packed, ids, v, n);
		bitform += packed.buf[0] == 0 && packed.len > 1 && packed.buf[1] == 0;
		buf_reset(&out);
		assert_int_equal(store_unpack((unsigned char *)packed.buf, packed.len, collect, &out), 0);
		assert_string_equal(out.buf ? out.buf : "", want.buf);
		for (size_t cut = round % 10 ? packed.len - 1 : 0; cut < packed.len; cut++) {
			buf_reset(&out);
			assert_int_equal(store_unpack((unsigned char *)packed.buf, cut, collect, &out), -1);
		}
	}
	print_message("%d of 400 vectors bit-packed\n", bitform);
	assert_true(bitform > 100 && bitform < 400); /* both forms were read */
	buf_release(&packed);
	buf_release(&out);
	buf_release(&want);
}

static void test_compact_plan(void **state)
{
	const int64_t H = STORE_HOUR_NS, D = STORE_DAY_NS, day = 20400 * D;
	struct store_compact_plan p;

	/* Never compacted, data from 10:00, now 13:30: roll up 10:00; days start at that day. */
	assert_true(store_compact_next(0, 0, day + 10 * H, day + 13 * H + 30 * 60 * SEC, &p));
	assert_int_equal(p.hour, day + 10 * H);
	assert_int_equal(p.hour_until, day + 11 * H);
	assert_int_equal(p.day_from, day);
	assert_int_equal(p.day_until, day);
	/* The hour before now is still open (grace period): nothing but the watermark moves to what has closed. */
	assert_true(store_compact_next(day + 11 * H, day, day + 13 * H, day + 14 * H + 60 * SEC, &p));
	assert_int_equal(p.hour, -1);
	assert_int_equal(p.hour_until, day + 13 * H);
	/* Up to date: nothing to do. */
	assert_false(store_compact_next(day + 13 * H, day, -1, day + 13 * H + 60 * SEC, &p));
	/* The last hour of a day completes it; with data in a later, open hour, the empty days between close too. */
	assert_true(store_compact_next(day + 23 * H, day, day + 23 * H, day + 3 * D + H, &p));
	assert_int_equal(p.hour, day + 23 * H);
	assert_int_equal(p.day_from, day);
	assert_int_equal(p.day_until, day + D);
	assert_false(store_compact_next(day + D, day + D, -1, day + 3 * D + H, &p)); /* no data: stays */
	assert_true(store_compact_next(day + D, day + D, day + 3 * D, day + 3 * D + H, &p)); /* data in an open hour */
	assert_int_equal(p.hour, -1);
	assert_int_equal(p.hour_until, day + 3 * D);
	assert_int_equal(p.day_until, day + 3 * D);
}

static char dir[64];

static struct store *open_dir(struct err *e)
{
	struct store_opts o = { .location = dir };

	return store_open(&o, e);
}

/* A fleet's profile: 200 stacks of a service's 2,000, 10 frames deep, 1 to 50 samples of 10 ms each. */
static struct profile *fleet_profile(int service, int k)
{
	struct profile *p = profile_new(0);
	uint64_t r = (uint64_t)(k * 7919 + service) | 1;

	profile_add_column(p, "cpu", "nanoseconds");
	for (int i = 0; i < 200; i++) {
		int stack, depth = 10;
		uint32_t node = 0;
		char name[48];

		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		stack = (int)(r % 2000);
		for (int d = 0; d < depth; d++) {
			/* Frames 3 and 4 tell the 2,000 stacks apart; deeper ones repeat across stacks. */
			snprintf(name, sizeof(name), "svc%d::fn%d", service,
				 d < 3 ? d : d == 3 ? 10 + stack / 50 : d == 4 ? 100 + stack % 50 : (stack * 31 + d) % 500);
			node = profile_node(p, node, profile_frame_named(p, name, strlen(name), FRAME_NATIVE));
		}
		profile_add_sample1(p, node, 0, (int64_t)(1 + r % 50) * 10000000);
	}
	return p;
}

#define ROUND 10 /* profiles per service before and after a restart */

static int64_t blob_bytes(const char *db_path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;

	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT sum(length(data)), count(*) FROM profiles", -1, &st, NULL),
			 SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 1) == 2 * ROUND * 20)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/*
 * 20 services interleaved, as a fleet pushes: each profile's vector takes about two bytes per stack (ids local
 * to the series, a byte apart), whatever the other services stored that day. A restart goes on numbering
 * stack nodes where it stopped: merges after it read what was stored before and after.
 */
static void test_fleet_layout(void **state)
{
	const int64_t day0 = 20400LL * 86400 * SEC;
	struct err e = ERR_INIT;
	struct store *s;
	struct buf path = BUF_INIT;
	int64_t bytes, total = 0, want = 0;

	strcpy(dir, "/tmp/kiln-store-XXXXXX");
	assert_non_null(mkdtemp(dir));
	for (int round = 0; round < 2; round++) {
		assert_non_null(s = open_dir(&e));
		/* a step of the fleet is one batch (one commit, as the server's group commit makes it), services interleaved */
		for (int k = 0; k < ROUND; k++) {
			char v[20][16];
			struct label_pair l[20];
			struct store_write w[20];

			for (int svc = 0; svc < 20; svc++) {
				struct profile *p = fleet_profile(svc, round * ROUND + k);

				snprintf(v[svc], sizeof(v[svc]), "svc%d", svc);
				l[svc] = (struct label_pair){ "service_name", v[svc] };
				w[svc] = (struct store_write){ .tenant = "", .profile_type = PTYPE, .labels = &l[svc],
							       .nlabels = 1, .from_ns = day0 + (round * ROUND + k) * 10 * SEC,
							       .until_ns = day0 + (round * ROUND + k + 1) * 10 * SEC, .prof = p };
				for (size_t i = 0; i < p->rows_nr; i++)
					want += profile_row_values(p, i)[0];
			}
			if (store_ingest(s, w, 20, &e))
				fail_msg("%s", e.msg);
			for (int svc = 0; svc < 20; svc++)
				profile_free((struct profile *)w[svc].prof);
		}
		store_close(s);
	}
	buf_addf(&path, "%s/p-20251108.db", dir);
	bytes = blob_bytes(path.buf);
	assert_true(bytes > 0);
	/* ~200 distinct stacks (a few drawn twice) at under 2 bytes each (bit-packed), and a short header. */
	print_message("packed vector: %.0f bytes per profile of 200 stacks\n", (double)bytes / (2 * ROUND * 20));
	assert_true(bytes / (2 * ROUND * 20) <= 2 * 200 + 8);

	assert_non_null(s = open_dir(&e));
	{
		struct store_query q = { "", PTYPE, NULL, day0, day0 + 86400 * SEC };
		struct profile *out = profile_new(0);

		assert_int_equal(store_select_merge(s, &q, out, &e), 0);
		for (size_t i = 0; i < out->rows_nr; i++)
			total += profile_row_values(out, i)[0];
		profile_free(out);
	}
	assert_int_equal(total, want);
	/* After the restart, stacks stored before are known: storing one of the first profiles again adds none. */
	{
		struct store_stats before, after;
		struct label_pair l[] = { { "service_name", "svc0" } };
		struct profile *p = fleet_profile(0, 0);
		struct store_write w = { .tenant = "", .profile_type = PTYPE, .labels = l, .nlabels = 1,
					 .from_ns = day0 + 3600 * SEC, .until_ns = day0 + 3610 * SEC, .prof = p };

		assert_int_equal(store_stats(s, &before, &e), 0);
		assert_int_equal(store_ingest(s, &w, 1, &e), 0);
		assert_int_equal(store_stats(s, &after, &e), 0);
		assert_true(before.stacks > 0);
		assert_int_equal(after.stacks, before.stacks);
		profile_free(p);
	}
	store_close(s);

	/* Another format's meta.db (user_version) is refused with a message, not misread. */
	buf_reset(&path);
	buf_addf(&path, "%s/meta.db", dir);
	{
		sqlite3 *db;

		assert_int_equal(sqlite3_open(path.buf, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	assert_null(s = open_dir(&e));
	assert_non_null(strstr(e.msg, "another format"));
	buf_reset(&path);
	buf_addf(&path, "rm -rf '%s'", dir);
	assert_int_equal(system(path.buf), 0);
	buf_release(&path);
}

/* With settle_ns, an hour still being written is not rolled up (its later profiles would each be stored again as
 * late rollup rows); once it has settled, it is, and the merge reads the same either way. */
static void test_settle(void **state)
{
	const int64_t day0 = 20400LL * 86400 * SEC;
	struct store_opts o = { .location = dir, .settle_ns = 1 * SEC };
	struct label_pair l[] = { { "service_name", "svc" } };
	struct profile *p = fleet_profile(1, 1);
	struct store_write w = { .tenant = "", .profile_type = PTYPE, .labels = l, .nlabels = 1, .from_ns = day0,
				 .until_ns = day0 + 10 * SEC, .prof = p };
	struct store_query q = { "", PTYPE, NULL, day0, day0 + 86400 * SEC };
	struct err e = ERR_INIT;
	struct store *s;
	struct buf cmd = BUF_INIT;

	strcpy(dir, "/tmp/kiln-store-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_non_null(s = store_open(&o, &e));
	assert_int_equal(store_ingest(s, &w, 1, &e), 0);
	assert_int_equal(store_compact(s, day0 + 3 * 86400 * SEC, &e), 0);
	sleep(2);
	assert_true(store_compact(s, day0 + 3 * 86400 * SEC, &e) >= 1);
	{
		struct profile *out = profile_new(0);
		int64_t got = 0, want = 0;

		assert_int_equal(store_select_merge(s, &q, out, &e), 0);
		for (size_t i = 0; i < out->rows_nr; i++)
			got += profile_row_values(out, i)[0];
		for (size_t i = 0; i < p->rows_nr; i++)
			want += profile_row_values(p, i)[0];
		assert_int_equal(got, want);
		profile_free(out);
	}
	store_close(s);
	profile_free(p);
	buf_addf(&cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd.buf), 0);
	buf_release(&cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rebuild),
		cmocka_unit_test(test_sums),
		cmocka_unit_test(test_pack_forms),
		cmocka_unit_test(test_pack_shapes),
		cmocka_unit_test(test_compact_plan),
		cmocka_unit_test(test_fleet_layout),
		cmocka_unit_test(test_settle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
