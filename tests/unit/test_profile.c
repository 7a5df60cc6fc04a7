/* Unit tests for the profile model: interning, the stack trie, columns, labels, merge, memory growth, folded I/O. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "formats/format.h"
#include "profile/profile.h"

static uint32_t push(struct profile *p, const char *const *names, size_t n)
{
	uint32_t node = 0;

	for (size_t i = 0; i < n; i++)
		node = profile_node(p, node, profile_frame_named(p, names[i], strlen(names[i]), FRAME_NATIVE));
	return node;
}

static void test_interning(void **state)
{
	struct profile *p = profile_new(0);
	struct frame f = { 0 };
	uint32_t a, b, c;

	(void)state;
	assert_int_equal(profile_intern_str(p, ""), 0);
	assert_string_equal(profile_str(p, 0), "");
	f.function = profile_intern_str(p, "main");
	f.module = profile_intern_str(p, "/bin/prog");
	f.line = 10;
	a = profile_frame(p, &f);
	b = profile_frame(p, &f);
	assert_int_equal(a, b);
	f.line = 11;
	c = profile_frame(p, &f);
	assert_int_not_equal(a, c);
	f.line = 10;
	f.kind = FRAME_INLINED;
	assert_int_not_equal(profile_frame(p, &f), a);
	assert_int_equal(p->frames_nr, 3);
	profile_free(p);
	profile_free(NULL);
}

static void test_trie_and_samples(void **state)
{
	static const char *const s1[] = { "main", "foo", "bar" };
	static const char *const s2[] = { "main", "foo", "baz" };
	static const char *const s3[] = { "main", "foo" };
	struct profile *p = profile_new(0);
	uint32_t n1, n2, n3, stack[8];
	int col;

	(void)state;
	col = profile_add_column(p, "samples", "count");
	assert_int_equal(col, 0);
	assert_int_equal(profile_add_column(p, "samples", "count"), 0);
	n1 = push(p, s1, 3);
	n2 = push(p, s2, 3);
	n3 = push(p, s3, 2);
	/* main, main;foo, main;foo;bar, main;foo;baz plus the root. */
	assert_int_equal(p->nodes_nr, 5);
	assert_int_equal(p->nodes[n1].parent, n3);
	assert_int_equal(p->nodes[n2].parent, n3);
	assert_int_equal(p->nodes[n1].depth, 3);
	profile_add_sample1(p, n1, 0, 5);
	profile_add_sample1(p, n1, 0, 2);
	profile_add_sample1(p, n2, 0, 1);
	assert_int_equal(p->rows_nr, 2);
	assert_int_equal(profile_total(p, 0), 8);
	assert_int_equal(profile_stack(p, n1, stack, 8), 3);
	assert_string_equal(profile_str(p, p->frames[stack[0]].function), "main");
	assert_string_equal(profile_str(p, p->frames[stack[2]].function), "bar");
	/* A short buffer keeps the root end of the stack. */
	assert_int_equal(profile_stack(p, n1, stack, 2), 2);
	assert_string_equal(profile_str(p, p->frames[stack[1]].function), "foo");
	assert_int_equal(profile_node_find(p, 0, 999), UINT32_MAX);
	profile_free(p);
}

static void test_columns_widen(void **state)
{
	static const char *const s[] = { "a" };
	struct profile *p = profile_new(0);
	int64_t v2[2] = { 3, 4 };
	uint32_t n;

	(void)state;
	n = push(p, s, 1);
	profile_add_sample1(p, n, 0, 10);
	/* Adding a column later keeps existing values and starts the new column at zero. */
	assert_int_equal(profile_add_column(p, "cpu", "nanoseconds"), 1);
	assert_int_equal(profile_row_values(p, 0)[0], 10);
	assert_int_equal(profile_row_values(p, 0)[1], 0);
	profile_add_sample(p, n, 0, v2);
	assert_int_equal(profile_row_values(p, 0)[0], 13);
	assert_int_equal(profile_row_values(p, 0)[1], 4);
	assert_int_equal(profile_default_column(p), 1);
	assert_int_equal(profile_find_column(p, "cpu"), 1);
	assert_int_equal(profile_find_column(p, "nope"), -1);
	profile_free(p);
}

static void test_labels(void **state)
{
	static const char *const s[] = { "a" };
	struct profile *p = profile_new(0);
	struct label l1[2], l2[2];
	uint32_t a, b, n;
	int64_t v;

	(void)state;
	memset(l1, 0, sizeof(l1));
	l1[0].key = profile_intern_str(p, "pid");
	l1[0].num = 42;
	l1[1].key = profile_intern_str(p, "comm");
	l1[1].str = profile_intern_str(p, "prog");
	l2[0] = l1[1];
	l2[1] = l1[0];
	a = profile_labelset(p, l1, 2);
	b = profile_labelset(p, l2, 2);
	assert_int_equal(a, b); /* order does not matter */
	assert_int_not_equal(a, 0);
	assert_int_equal(profile_labelset(p, NULL, 0), 0);
	assert_true(profile_label_num(p, a, "pid", &v));
	assert_int_equal(v, 42);
	assert_string_equal(profile_str(p, profile_label_str(p, a, "comm")), "prog");
	assert_false(profile_label_num(p, a, "tid", &v));
	n = push(p, s, 1);
	profile_add_sample1(p, n, a, 1);
	profile_add_sample1(p, n, 0, 1);
	assert_int_equal(p->rows_nr, 2); /* different label sets stay apart */
	profile_free(p);
}

static void test_keep_order(void **state)
{
	static const char *const a[] = { "a" }, *const b[] = { "b" };
	struct profile *p = profile_new(PROFILE_KEEP_ORDER);
	uint32_t na, nb;

	(void)state;
	na = push(p, a, 1);
	nb = push(p, b, 1);
	profile_add_sample1(p, na, 0, 1);
	profile_add_sample1(p, na, 0, 1);
	profile_add_sample1(p, nb, 0, 1);
	profile_add_sample1(p, na, 0, 1);
	assert_int_equal(p->rows_nr, 3);
	assert_int_equal(profile_row_values(p, 0)[0], 2);
	profile_free(p);
}

static void test_merge(void **state)
{
	static const char *const s1[] = { "main", "foo" }, *const s2[] = { "main", "bar" };
	struct profile *a = profile_new(0), *b = profile_new(0);
	struct err e = ERR_INIT;
	struct label l = { 0 };
	uint32_t ls;

	(void)state;
	profile_add_sample1(a, push(a, s1, 2), 0, 3);
	profile_add_column(b, "cpu", "nanoseconds");
	l.key = profile_intern_str(b, "tid");
	l.num = 7;
	ls = profile_labelset(b, &l, 1);
	{
		int64_t v = 100;

		profile_add_sample(b, push(b, s1, 2), ls, &v);
		profile_add_sample(b, push(b, s2, 2), 0, &v);
	}
	assert_int_equal(profile_merge(a, b, &e), 0);
	assert_int_equal(a->ncolumns, 2);
	assert_int_equal(profile_total(a, 0), 3);
	assert_int_equal(profile_total(a, 1), 200);
	/* main, main;foo, main;bar: the shared prefix is one node. */
	assert_int_equal(a->nodes_nr, 4);
	assert_int_equal(a->rows_nr, 3);
	{
		int64_t v;
		bool found = false;

		for (size_t r = 0; r < a->rows_nr; r++)
			if (profile_label_num(a, a->rows[r].labelset, "tid", &v) && v == 7)
				found = true;
		assert_true(found);
	}
	profile_free(a);
	profile_free(b);
}

/* Typed metadata merges: build ids and ranges united, event and count kept where known on both sides. */
static void test_merge_meta(void **state)
{
	static const char *const s1[] = { "main", "foo" };
	struct profile *m = profile_new(0), *a = profile_new(0), *b = profile_new(0);
	struct err e = ERR_INIT;
	int64_t v;

	(void)state;
	profile_add_sample1(a, push(a, s1, 2), 0, 3);
	profile_add_sample1(b, push(b, s1, 2), 0, 4);
	a->meta.event = profile_intern_str(a, "cycles");
	b->meta.event = profile_intern_str(b, "cycles");
	a->meta.samples = 3;
	b->meta.samples = 2;
	profile_set_build_id(a, "/bin/a", "aa");
	profile_set_build_id(b, "/bin/b", "bb");
	profile_set_build_id(b, "/bin/a", "aa");
	profile_add_mapping(a, 0x1000, 0x2000, 0, "/bin/a");
	profile_add_mapping(b, 0x1000, 0x2000, 0, "/bin/a");
	profile_add_mapping(b, 0x5000, 0x6000, 0x1000, "/bin/b");
	profile_heap_set(a, HEAP_PEAK_BYTES, 10);
	profile_heap_set(b, HEAP_PEAK_BYTES, 20);
	profile_heap_set(a, HEAP_PROCESSES, 1);

	assert_int_equal(profile_merge(m, a, &e), 0);
	assert_int_equal(profile_merge(m, b, &e), 0);
	assert_string_equal(profile_str(m, m->meta.event), "cycles");
	assert_int_equal(m->meta.samples, 5);
	assert_int_equal(m->meta.build_ids_nr, 2);
	assert_string_equal(profile_str(m, profile_build_id(m, profile_intern_str(m, "/bin/b"))), "bb");
	assert_int_equal(m->meta.mappings_nr, 2);
	assert_string_equal(profile_str(m, m->meta.mappings[1].module), "/bin/b");
	assert_true(profile_heap_get(m, HEAP_PEAK_BYTES, &v) && v == 20);
	assert_true(profile_heap_get(m, HEAP_PROCESSES, &v) && v == 1);
	assert_false(profile_heap_get(m, HEAP_PEAK_BLOCKS, &v));

	/* a third part that does not know its count or names another event makes both unknown */
	b->meta.samples = 0;
	b->meta.event = profile_intern_str(b, "instructions");
	assert_int_equal(profile_merge(m, b, &e), 0);
	assert_int_equal(m->meta.samples, 0);
	assert_int_equal(m->meta.event, 0);
	profile_free(m);
	profile_free(a);
	profile_free(b);
}

/* Memory grows with unique stacks, not with the number of samples. */
static void test_memory_bounded(void **state)
{
	static const char *const s[] = { "main", "work", "inner" };
	struct profile *p = profile_new(0);
	uint32_t n = push(p, s, 3);
	size_t before;

	(void)state;
	profile_add_sample1(p, n, 0, 1);
	before = profile_memory(p);
	for (int i = 0; i < 1000000; i++)
		profile_add_sample1(p, push(p, s, 3), 0, 1);
	assert_int_equal(profile_memory(p), before);
	assert_int_equal(profile_total(p, 0), 1000001);
	profile_free(p);
}

static void test_folded_roundtrip(void **state)
{
	static const char text[] = "main;foo;bar 3\nmain;foo 2\nmain;foo;bar 4\nmain;foo::bar 1\r\n"
				   "garbage-without-count\nmain;a_[k] 1\n";
	struct profile *p = profile_new(0);
	const struct format *f = format_by_name("folded");
	struct format_read_opts o = { 0 };
	struct format_write_opts w = { -1 };
	struct err e = ERR_INIT;
	struct input in;
	char *out = NULL;
	size_t outlen = 0;
	FILE *fp;

	(void)state;
	assert_non_null(f);
	assert_true(f->probe((const unsigned char *)text, sizeof(text) - 1) > 0);
	input_from_memory(&in, text, sizeof(text) - 1, "test");
	assert_int_equal(f->read(p, &in, &o, &e), 0);
	fp = open_memstream(&out, &outlen);
	assert_int_equal(f->write(p, fp, &w, &e), 0);
	fclose(fp);
	assert_string_equal(out, "main;a_[k] 1\nmain;foo 2\nmain;foo::bar 1\nmain;foo;bar 7\n");
	free(out);
	profile_free(p);
}

/*
 * A name is one frame wherever it appears (the reader caches frames by name), its kind follows from its
 * suffix, the count is split at the last blank or tab, and a line with two counts fills before and after.
 */
static void test_folded_frames(void **state)
{
	static const char text[] = "a;b;c 1\nb;a;c\t2\nc;b;a 3\nx;a_[k];a 4\n";
	static const char two[] = "a;b 1 2\nb\t3\t4\n";
	struct profile *p = profile_new(0);
	struct format_read_opts o = { 0 };
	struct err e = ERR_INIT;
	struct input in;
	size_t kernel = 0;

	(void)state;
	input_from_memory(&in, text, sizeof(text) - 1, "test");
	assert_int_equal(format_by_name("folded")->read(p, &in, &o, &e), 0);
	/* a, b, c, x and a_[k]: five frames; nodes: a b c, b a c, c b a, x a_[k] a (root included) */
	assert_int_equal(p->frames_nr, 5);
	assert_int_equal(p->nodes_nr, 1 + 3 + 3 + 3 + 3);
	for (size_t i = 0; i < p->frames_nr; i++)
		kernel += p->frames[i].kind == FRAME_KERNEL;
	assert_int_equal(kernel, 1);
	assert_int_equal(p->rows_nr, 4);
	assert_int_equal(profile_total(p, 0), 10);
	profile_free(p);

	p = profile_new(0);
	input_from_memory(&in, two, sizeof(two) - 1, "test");
	assert_int_equal(format_by_name("folded")->read(p, &in, &o, &e), 0);
	assert_int_equal(p->ncolumns, 2);
	assert_int_equal(profile_total(p, profile_default_column(p)), 6);
	assert_int_equal(profile_total(p, 1 - profile_default_column(p)), 4);
	profile_free(p);
}

/* A reserve is a hint: the trie and rows it sized grow past it as before. */
static void test_reserve(void **state)
{
	struct profile *p = profile_new(0);
	uint32_t node = 0;

	(void)state;
	/* beyond the first allocation, so that every per-node array must grow with it (ASan checks the writes) */
	profile_reserve(p, 1000, 2);
	assert_true(p->nodes_alloc >= 1001);
	for (int i = 0; i < 100; i++)
		node = profile_node(p, node, profile_frame_named(p, "f", 1, FRAME_NATIVE));
	profile_add_sample1(p, node, 0, 5);
	assert_int_equal(p->nodes_nr, 101);
	assert_int_equal(profile_node_find(p, 0, 0), 1);
	assert_int_equal(profile_total(p, 0), 5);
	profile_free(p);
}

static void test_folded_errors(void **state)
{
	struct profile *p = profile_new(0);
	struct format_read_opts o = { 0 };
	struct err e = ERR_INIT;
	struct input in;

	(void)state;
	input_from_memory(&in, "no counts here\nnor here\n", 24, "test");
	assert_int_equal(format_by_name("folded")->read(p, &in, &o, &e), -1);
	assert_non_null(strstr(e.msg, "no stacks"));
	assert_int_equal(format_by_name("folded")->probe((const unsigned char *)"\x7f" "ELF\x02\x01", 6), 0);
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interning),  cmocka_unit_test(test_trie_and_samples),
		cmocka_unit_test(test_columns_widen), cmocka_unit_test(test_labels),
		cmocka_unit_test(test_keep_order), cmocka_unit_test(test_merge), cmocka_unit_test(test_merge_meta),
		cmocka_unit_test(test_memory_bounded), cmocka_unit_test(test_folded_roundtrip),
		cmocka_unit_test(test_folded_errors),	 cmocka_unit_test(test_folded_frames),
		cmocka_unit_test(test_reserve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
