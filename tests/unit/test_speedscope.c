/* Unit tests for src/formats/speedscope.c and cpuprofile.c: the written JSON's structure, reading sampled and
 * evented speedscope profiles, Chrome/Node .cpuprofile trees, and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "formats/format.h"
#include "formats/input.h"
#include "profile/profile.h"

static char *write_mem(const struct profile *p, const char *name, int column)
{
	struct format_write_opts o = { column };
	struct err e = ERR_INIT;
	char *data = NULL;
	size_t len;
	FILE *fp = open_memstream(&data, &len);

	if (format_by_name(name)->write(p, fp, &o, &e))
		fail_msg("write failed: %s", e.msg);
	assert_int_equal(fclose(fp), 0);
	return data;
}

static int read_str(struct profile *p, const char *name, const char *data, struct err *e)
{
	struct input in;
	int ret;

	input_from_memory(&in, data, strlen(data), "<test>");
	ret = format_by_name(name)->read(p, &in, &(struct format_read_opts){ 0 }, e);
	input_close(&in);
	return ret;
}

/* "a;b;c v" lines for one column, sorted, with labels appended as " [k=v]". */
static char *folded(const struct profile *p, int col)
{
	struct buf b = BUF_INIT;
	char *lines[256];
	uint32_t st[64];

	assert_true(p->rows_nr < 256);
	for (size_t r = 0; r < p->rows_nr; r++) {
		struct buf l = BUF_INIT;
		size_t n = profile_stack(p, p->rows[r].node, st, 64), nl;
		for (size_t i = 0; i < n; i++)
			buf_addf(&l, "%s%s", i ? ";" : "", profile_str(p, p->frames[st[i]].function));
		buf_addf(&l, " %" PRId64, profile_row_values(p, r)[col]);
		const struct label *ls = profile_labelset_get(p, p->rows[r].labelset, &nl);
		char lab[8][128];
		assert_true(nl <= 8);
		for (size_t i = 0; i < nl; i++) {
			if (ls[i].str)
				snprintf(lab[i], sizeof(lab[i]), " [%s=%s]", profile_str(p, ls[i].key),
					 profile_str(p, ls[i].str));
			else
				snprintf(lab[i], sizeof(lab[i]), " [%s=%" PRId64 "]", profile_str(p, ls[i].key), ls[i].num);
		}
		qsort(lab, nl, sizeof(lab[0]), (int (*)(const void *, const void *))strcmp);
		for (size_t i = 0; i < nl; i++)
			buf_adds(&l, lab[i]);
		lines[r] = buf_detach(&l, NULL);
	}
	for (size_t i = 1; i < p->rows_nr; i++)
		for (size_t k = i; k > 0 && strcmp(lines[k - 1], lines[k]) > 0; k--) {
			char *t = lines[k];
			lines[k] = lines[k - 1];
			lines[k - 1] = t;
		}
	for (size_t r = 0; r < p->rows_nr; r++) {
		buf_addf(&b, "%s\n", lines[r]);
		free(lines[r]);
	}
	return buf_detach(&b, NULL);
}

static uint32_t stack(struct profile *p, const char *names)
{
	uint32_t node = 0;
	char *copy = strdup(names), *save = NULL;

	for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save))
		node = profile_node(p, node, profile_frame_named(p, t, strlen(t), FRAME_NATIVE));
	free(copy);
	return node;
}

static uint32_t thread(struct profile *p, const char *comm, int64_t tid)
{
	struct label l[2] = {
		{ .key = profile_intern_str(p, "comm"), .str = profile_intern_str(p, comm) },
		{ .key = profile_intern_str(p, "tid"), .num = tid },
	};
	return profile_labelset(p, l, 2);
}

static void test_write_threads(void **state)
{
	struct profile *p = profile_new(0), *q = profile_new(0);
	struct err e = ERR_INIT;
	json_error_t jerr;

	(void)state;
	profile_add_column(p, "cpu", "nanoseconds");
	profile_add_sample1(p, stack(p, "main;work;hot"), thread(p, "app", 11), 300);
	profile_add_sample1(p, stack(p, "main;work"), thread(p, "app", 11), 100);
	profile_add_sample1(p, stack(p, "start;worker;hot"), thread(p, "pool-1", 12), 50);
	char *s = write_mem(p, "speedscope", -1);
	json_t *root = json_loads(s, 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "$schema")),
			    "https://www.speedscope.app/file-format-schema.json");
	assert_string_equal(json_string_value(json_object_get(root, "exporter")), "kiln");
	assert_int_equal(json_integer_value(json_object_get(root, "activeProfileIndex")), 0);
	json_t *frames = json_object_get(json_object_get(root, "shared"), "frames");
	assert_int_equal(json_array_size(frames), 5); /* main work hot start worker */
	json_t *profiles = json_object_get(root, "profiles");
	assert_int_equal(json_array_size(profiles), 2);
	json_t *p0 = json_array_get(profiles, 0), *p1 = json_array_get(profiles, 1);
	assert_string_equal(json_string_value(json_object_get(p0, "type")), "sampled");
	assert_string_equal(json_string_value(json_object_get(p0, "name")), "app tid=11");
	assert_string_equal(json_string_value(json_object_get(p1, "name")), "pool-1 tid=12");
	assert_string_equal(json_string_value(json_object_get(p0, "unit")), "nanoseconds");
	assert_int_equal(json_integer_value(json_object_get(p0, "endValue")), 400);
	assert_int_equal(json_integer_value(json_object_get(p1, "endValue")), 50);
	json_t *samples = json_object_get(p0, "samples");
	assert_int_equal(json_array_size(samples), 2);
	/* Root first: the first frame of every sample of thread 11 is "main". */
	json_t *first = json_array_get(json_array_get(samples, 0), 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(frames, json_integer_value(first)),
							      "name")),
			    "main");
	assert_int_equal(json_array_size(json_object_get(p0, "weights")), 2);
	json_decref(root);

	/* Reading it back gives the same stacks, weights and thread labels. */
	if (read_str(q, "speedscope", s, &e))
		fail_msg("read failed: %s", e.msg);
	char *a = folded(p, 0), *b = folded(q, 0);
	assert_string_equal(a, b);
	free(a);
	free(b);
	free(s);
	profile_free(p);
	profile_free(q);
}

static void test_write_counts(void **state)
{
	struct profile *p = profile_new(0);
	json_error_t jerr;

	(void)state;
	profile_add_column(p, "samples", "count");
	profile_add_column(p, "alloc_space", "bytes");
	int64_t v[] = { 2, 4096 };
	profile_add_sample(p, stack(p, "a;b"), 0, v);
	char *s = write_mem(p, "speedscope", 0);
	json_t *root = json_loads(s, 0, &jerr);
	json_t *p0 = json_array_get(json_object_get(root, "profiles"), 0);
	assert_string_equal(json_string_value(json_object_get(p0, "unit")), "none");
	assert_int_equal(json_integer_value(json_array_get(json_object_get(p0, "weights"), 0)), 2);
	json_decref(root);
	free(s);
	s = write_mem(p, "speedscope", -1); /* the default column: the last */
	root = json_loads(s, 0, &jerr);
	p0 = json_array_get(json_object_get(root, "profiles"), 0);
	assert_string_equal(json_string_value(json_object_get(p0, "unit")), "bytes");
	assert_int_equal(json_integer_value(json_array_get(json_object_get(p0, "weights"), 0)), 4096);
	json_decref(root);
	free(s);
	profile_free(p);
}

static void test_read_evented(void **state)
{
	const char *doc = "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
			  "\"shared\":{\"frames\":[{\"name\":\"a\"},{\"name\":\"b\",\"file\":\"x.js\",\"line\":3},"
			  "{\"name\":\"c\"}]},"
			  "\"profiles\":[{\"type\":\"evented\",\"name\":\"one\",\"unit\":\"milliseconds\","
			  "\"startValue\":0,\"endValue\":10,\"events\":["
			  "{\"type\":\"O\",\"frame\":0,\"at\":0},{\"type\":\"O\",\"frame\":1,\"at\":1},"
			  "{\"type\":\"O\",\"frame\":2,\"at\":2},{\"type\":\"C\",\"frame\":2,\"at\":5.5},"
			  "{\"type\":\"C\",\"frame\":1,\"at\":6},{\"type\":\"C\",\"frame\":0,\"at\":10}]}]}";
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(format_by_name("speedscope")->probe((const unsigned char *)doc, strlen(doc)), 100);
	if (read_str(p, "speedscope", doc, &e))
		fail_msg("read failed: %s", e.msg);
	assert_string_equal(profile_str(p, p->columns[0].unit), "nanoseconds");
	char *f = folded(p, 0);
	assert_string_equal(f, "a 5000000\n"
			       "a;b 1500000\n"
			       "a;b;c 3500000\n");
	free(f);
	profile_free(p);
}

static void test_read_sampled(void **state)
{
	const char *doc = "{\"shared\":{\"frames\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
			  "\"profiles\":[{\"type\":\"sampled\",\"name\":\"x\",\"unit\":\"none\",\"startValue\":0,"
			  "\"endValue\":3,\"samples\":[[0,1],[0],[0,1]],\"weights\":[1,1,1]}]}";
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;

	(void)state;
	if (read_str(p, "speedscope", doc, &e))
		fail_msg("read failed: %s", e.msg);
	char *f = folded(p, 0);
	assert_string_equal(f, "a 1\na;b 2\n");
	free(f);
	profile_free(p);
}

static void expect_error(const char *fmt, const char *doc, const char *needle)
{
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;

	assert_int_equal(read_str(p, fmt, doc, &e), -1);
	if (!strstr(e.msg, needle))
		fail_msg("error '%s' lacks '%s'", e.msg, needle);
	profile_free(p);
}

static void test_bad_speedscope(void **state)
{
	(void)state;
	expect_error("speedscope", "{\"shared\":", "invalid JSON");
	expect_error("speedscope", "[]", "not an object");
	expect_error("speedscope", "{\"profiles\":[]}", "shared.frames");
	expect_error("speedscope",
		     "{\"shared\":{\"frames\":[{\"name\":\"a\"}]},\"profiles\":[{\"type\":\"sampled\","
		     "\"samples\":[[0,1]],\"weights\":[1]}]}",
		     "frame index");
	expect_error("speedscope",
		     "{\"shared\":{\"frames\":[{\"name\":\"a\"}]},\"profiles\":[{\"type\":\"sampled\","
		     "\"samples\":[[0]],\"weights\":[1,2]}]}",
		     "1 samples but 2 weights");
	expect_error("speedscope",
		     "{\"shared\":{\"frames\":[{\"name\":\"a\"},{\"name\":\"b\"}]},\"profiles\":[{\"type\":\"evented\","
		     "\"events\":[{\"type\":\"O\",\"frame\":0,\"at\":0},{\"type\":\"C\",\"frame\":1,\"at\":1}]}]}",
		     "not the innermost open one");
	expect_error("speedscope",
		     "{\"shared\":{\"frames\":[{\"name\":\"a\"}]},\"profiles\":[{\"type\":\"evented\","
		     "\"events\":[{\"type\":\"O\",\"frame\":0,\"at\":5},{\"type\":\"C\",\"frame\":0,\"at\":1}]}]}",
		     "earlier");
	expect_error("speedscope", "{\"shared\":{\"frames\":[]},\"profiles\":[{\"type\":\"flame\"}]}",
		     "unknown type");
}

static const char cpuprofile[] =
	"{\"nodes\":["
	"{\"id\":1,\"callFrame\":{\"functionName\":\"(root)\",\"scriptId\":\"0\",\"url\":\"\",\"lineNumber\":-1,"
	"\"columnNumber\":-1},\"hitCount\":0,\"children\":[2,3,5]},"
	"{\"id\":2,\"callFrame\":{\"functionName\":\"(program)\",\"scriptId\":\"0\",\"url\":\"\",\"lineNumber\":-1,"
	"\"columnNumber\":-1},\"hitCount\":1},"
	"{\"id\":3,\"callFrame\":{\"functionName\":\"main\",\"scriptId\":\"7\",\"url\":\"file:///app.js\","
	"\"lineNumber\":0,\"columnNumber\":0},\"hitCount\":0,\"children\":[4]},"
	"{\"id\":4,\"callFrame\":{\"functionName\":\"\",\"scriptId\":\"7\",\"url\":\"file:///app.js\","
	"\"lineNumber\":9,\"columnNumber\":4},\"hitCount\":2},"
	"{\"id\":5,\"callFrame\":{\"functionName\":\"(garbage collector)\",\"scriptId\":\"0\",\"url\":\"\","
	"\"lineNumber\":-1,\"columnNumber\":-1},\"hitCount\":1}],"
	"\"startTime\":1000,\"endTime\":1100,\"samples\":[2,4,4,5],\"timeDeltas\":[5,10,20,30]}";

static void test_cpuprofile(void **state)
{
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;

	(void)state;
	assert_true(format_by_name("cpuprofile")->probe((const unsigned char *)cpuprofile, sizeof(cpuprofile) - 1) >
		    format_by_name("speedscope")->probe((const unsigned char *)cpuprofile, sizeof(cpuprofile) - 1));
	if (read_str(p, "cpuprofile", cpuprofile, &e))
		fail_msg("read failed: %s", e.msg);
	assert_int_equal(p->ncolumns, 2);
	assert_string_equal(profile_str(p, p->columns[1].unit), "microseconds");
	/* Ticks at 1005, 1015, 1035, 1065; each lasts to the next, the last to endTime 1100. */
	char *f = folded(p, 1);
	assert_string_equal(f, "(garbage collector) 35\n"
			       "(program) 10\n"
			       "main;(anonymous) 50\n");
	free(f);
	f = folded(p, 0);
	assert_string_equal(f, "(garbage collector) 1\n(program) 1\nmain;(anonymous) 2\n");
	free(f);
	assert_int_equal(p->duration_nanos, 100000);
	for (size_t i = 0; i < p->frames_nr; i++) {
		const struct frame *fr = &p->frames[i];
		if (!strcmp(profile_str(p, fr->function), "(anonymous)")) {
			assert_int_equal(fr->kind, FRAME_JS);
			assert_int_equal(fr->line, 10); /* 0-based 9 */
			assert_string_equal(profile_str(p, fr->file), "file:///app.js");
		}
	}
	profile_free(p);
}

static void test_bad_cpuprofile(void **state)
{
	(void)state;
	expect_error("cpuprofile", "{\"nodes\":5}", "nodes");
	expect_error("cpuprofile", "{\"nodes\":[{\"id\":1}]}", "callFrame");
	expect_error("cpuprofile",
		     "{\"nodes\":[{\"id\":1,\"callFrame\":{},\"children\":[2]},{\"id\":2,\"callFrame\":{},"
		     "\"children\":[1]}],\"samples\":[1],\"timeDeltas\":[1]}",
		     "cycle");
	expect_error("cpuprofile", "{\"nodes\":[{\"id\":1,\"callFrame\":{}}],\"samples\":[9],\"timeDeltas\":[1]}",
		     "not a node id");
	expect_error("cpuprofile", "{\"nodes\":[{\"id\":1,\"callFrame\":{}}],\"samples\":[1],\"timeDeltas\":[]}",
		     "1 samples but 0 timeDeltas");
	expect_error("cpuprofile",
		     "{\"nodes\":[{\"id\":1,\"callFrame\":{}}],\"samples\":[1,1],"
		     "\"timeDeltas\":[9223372036854775807,9223372036854775807]}",
		     "overflows");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_threads),  cmocka_unit_test(test_write_counts),
		cmocka_unit_test(test_read_evented),   cmocka_unit_test(test_read_sampled),
		cmocka_unit_test(test_bad_speedscope), cmocka_unit_test(test_cpuprofile),
		cmocka_unit_test(test_bad_cpuprofile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
