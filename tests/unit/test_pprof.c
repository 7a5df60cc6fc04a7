/* Unit tests for src/formats/pprof.c: model -> pprof -> model round trips, inline grouping, legacy CPU profiles,
 * and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "profile.pb-c.h"

#include "core/buf.h"
#include "core/err.h"
#include "formats/format.h"
#include "formats/input.h"
#include "profile/profile.h"

/* Serialises `p` with format `name` into a heap buffer. */
static unsigned char *write_mem(const struct profile *p, const char *name, size_t *len)
{
	const struct format *f = format_by_name(name);
	struct format_write_opts o = { -1 };
	struct err e = ERR_INIT;
	char *data = NULL;
	FILE *fp = open_memstream(&data, len);

	assert_non_null(f);
	assert_non_null(fp);
	if (f->write(p, fp, &o, &e))
		fail_msg("write failed: %s", e.msg);
	assert_int_equal(fclose(fp), 0);
	return (unsigned char *)data;
}

static int read_mem(struct profile *p, const char *name, const void *data, size_t len, struct err *e)
{
	struct input in;
	int ret;

	input_from_memory(&in, data, len, "<test>");
	ret = format_by_name(name)->read(p, &in, &(struct format_read_opts){ 0 }, e);
	input_close(&in);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A canonical text form of a profile: metadata, then one sorted line per sample with its whole stack. */
static char *dump(const struct profile *p)
{
	struct buf b = BUF_INIT, line = BUF_INIT;
	char **lines = calloc(p->rows_nr + 1, sizeof(*lines));
	uint32_t stack[256];

	for (size_t c = 0; c < p->ncolumns; c++)
		buf_addf(&b, "column %s/%s\n", profile_str(p, p->columns[c].type), profile_str(p, p->columns[c].unit));
	buf_addf(&b, "default %d\n", profile_default_column(p));
	buf_addf(&b, "period %s/%s %" PRId64 "\n", profile_str(p, p->period_type.type),
		 profile_str(p, p->period_type.unit), p->period);
	buf_addf(&b, "time %" PRId64 " %" PRId64 "\n", p->time_nanos, p->duration_nanos);
	for (size_t i = 0; i < p->comments_nr; i++)
		buf_addf(&b, "comment %s\n", profile_str(p, p->comments[i]));
	for (size_t i = 0; i < p->meta.build_ids_nr; i++)
		buf_addf(&b, "build-id %s %s\n", profile_str(p, p->meta.build_ids[i].module),
			 profile_str(p, p->meta.build_ids[i].id));
	for (size_t i = 0; i < p->meta.mappings_nr; i++) {
		const struct meta_mapping *m = &p->meta.mappings[i];

		buf_addf(&b, "mapping %" PRIx64 " %" PRIx64 " %" PRIx64 " %s\n", m->start, m->limit, m->offset,
			 profile_str(p, m->module));
	}
	for (size_t r = 0; r < p->rows_nr; r++) {
		size_t n = profile_stack(p, p->rows[r].node, stack, 256), nl;
		buf_reset(&line);
		for (size_t i = 0; i < n; i++) {
			const struct frame *f = &p->frames[stack[i]];
			buf_addf(&line, "%s@%s:%u(%s,%s,0x%" PRIx64 ");", profile_str(p, f->function),
				 profile_str(p, f->file), f->line, profile_str(p, f->module), frame_kind_name(f->kind),
				 f->addr);
		}
		const struct label *l = profile_labelset_get(p, p->rows[r].labelset, &nl);
		for (size_t i = 0; i < nl; i++)
			buf_addf(&line, " %s=%s%" PRId64 "%s", profile_str(p, l[i].key), profile_str(p, l[i].str),
				 l[i].str ? 0 : l[i].num, profile_str(p, l[i].num_unit));
		for (size_t c = 0; c < p->ncolumns; c++)
			buf_addf(&line, " %" PRId64, profile_row_values(p, r)[c]);
		lines[r] = strdup(line.buf);
	}
	qsort(lines, p->rows_nr, sizeof(*lines), cmp_str);
	for (size_t r = 0; r < p->rows_nr; r++) {
		buf_addf(&b, "%s\n", lines[r]);
		free(lines[r]);
	}
	free(lines);
	buf_release(&line);
	return buf_detach(&b, NULL);
}

static uint32_t frame(struct profile *p, const char *fn, const char *file, uint32_t line, const char *module,
		      uint64_t addr, enum frame_kind kind)
{
	struct frame f = { 0 };

	f.function = profile_intern_str(p, fn);
	f.file = profile_intern_str(p, file);
	f.line = line;
	f.module = profile_intern_str(p, module);
	f.addr = addr;
	f.kind = kind;
	return profile_frame(p, &f);
}

static uint32_t push(struct profile *p, const uint32_t *frames, size_t n)
{
	uint32_t node = 0;

	for (size_t i = 0; i < n; i++)
		node = profile_node(p, node, frames[i]);
	return node;
}

/* A profile with two columns, labels, metadata and a 3-deep inline chain. */
static struct profile *sample_profile(void)
{
	struct profile *p = profile_new(0);
	uint32_t main_f = frame(p, "main", "main.c", 10, "/usr/bin/app", 0x1000, FRAME_NATIVE);
	uint32_t outer = frame(p, "outer", "lib.c", 20, "/usr/lib/libx.so", 0x2000, FRAME_NATIVE);
	uint32_t mid = frame(p, "mid", "lib.h", 30, "/usr/lib/libx.so", 0x2000, FRAME_INLINED);
	uint32_t inner = frame(p, "inner", "lib.h", 40, "/usr/lib/libx.so", 0x2000, FRAME_INLINED);
	uint32_t leaf = frame(p, "leaf", "leaf.c", 50, "/usr/bin/app", 0x1100, FRAME_NATIVE);
	uint32_t kern = frame(p, "do_syscall_64", "", 0, "[kernel.kallsyms]", 0xffff, FRAME_KERNEL);
	uint32_t s1[] = { main_f, outer, mid, inner };
	uint32_t s2[] = { main_f, leaf };
	uint32_t s3[] = { main_f, outer, mid, inner, leaf, kern };
	struct label l1[] = {
		{ .key = profile_intern_str(p, "pid"), .num = 42, .num_unit = profile_intern_str(p, "pid") },
		{ .key = profile_intern_str(p, "tid"), .num = 43 },
		{ .key = profile_intern_str(p, "comm"), .str = profile_intern_str(p, "app") },
	};
	int64_t v1[] = { 3, 30000000 }, v2[] = { 5, 50000000 }, v3[] = { 1, 10000000 };

	profile_add_column(p, "samples", "count");
	profile_add_column(p, "cpu", "nanoseconds");
	p->default_column = 1;
	p->period_type.type = profile_intern_str(p, "cpu");
	p->period_type.unit = profile_intern_str(p, "nanoseconds");
	p->period = 10000000;
	p->time_nanos = 1700000000123456789;
	p->duration_nanos = 2500000000;
	profile_add_comment(p, "recorded by a test");
	profile_set_build_id(p, "/usr/bin/app", "0123abcd");
	uint32_t ls = profile_labelset(p, l1, 3);
	profile_add_sample(p, push(p, s1, 4), ls, v1);
	profile_add_sample(p, push(p, s2, 2), 0, v2);
	profile_add_sample(p, push(p, s3, 6), ls, v3);
	return p;
}

static void roundtrip(const char *fmt)
{
	struct profile *p = sample_profile(), *q = profile_new(0);
	struct err e = ERR_INIT;
	size_t len;
	unsigned char *data = write_mem(p, fmt, &len);

	if (!strcmp(fmt, "pprof"))
		assert_true(len > 2 && data[0] == 0x1f && data[1] == 0x8b);
	else
		assert_int_not_equal(data[0], 0x1f);
	if (read_mem(q, "pprof", data, len, &e))
		fail_msg("read failed: %s", e.msg);
	char *a = dump(p), *b = dump(q);
	assert_string_equal(a, b);
	free(a);
	free(b);
	free(data);
	profile_free(p);
	profile_free(q);
}

static void test_roundtrip_gzip(void **state)
{
	(void)state;
	roundtrip("pprof");
}

static void test_roundtrip_plain(void **state)
{
	(void)state;
	roundtrip("pprof-raw");
}

static const char *pb_str(const Perftools__Profiles__Profile *pb, int64_t i)
{
	assert_true(i >= 0 && (size_t)i < pb->n_string_table);
	return pb->string_table[i];
}

static const Perftools__Profiles__Function *pb_fn(const Perftools__Profiles__Profile *pb, uint64_t id)
{
	for (size_t i = 0; i < pb->n_function; i++)
		if (pb->function[i]->id == id)
			return pb->function[i];
	fail_msg("no function %" PRIu64, id);
	return NULL;
}

/* The encoded message follows profile.proto: "" first, nonzero ids, leaf-first samples, inline lines. */
static void test_encoding(void **state)
{
	struct profile *p = sample_profile();
	size_t len;
	unsigned char *data = write_mem(p, "pprof-raw", &len);
	Perftools__Profiles__Profile *pb = perftools__profiles__profile__unpack(NULL, len, data);

	(void)state;
	assert_non_null(pb);
	assert_true(pb->n_string_table > 0);
	assert_string_equal(pb->string_table[0], "");
	assert_int_equal(pb->n_sample_type, 2);
	assert_string_equal(pb_str(pb, pb->sample_type[1]->type), "cpu");
	assert_string_equal(pb_str(pb, pb->default_sample_type), "cpu");
	assert_int_equal(pb->period, 10000000);
	assert_int_equal(pb->time_nanos, 1700000000123456789);
	assert_int_equal(pb->duration_nanos, 2500000000);
	assert_int_equal(pb->n_comment, 1);
	assert_string_equal(pb_str(pb, pb->comment[0]), "recorded by a test");
	for (size_t i = 0; i < pb->n_function; i++)
		assert_int_not_equal(pb->function[i]->id, 0);
	for (size_t i = 0; i < pb->n_mapping; i++) {
		assert_int_not_equal(pb->mapping[i]->id, 0);
		if (!strcmp(pb_str(pb, pb->mapping[i]->filename), "/usr/bin/app"))
			assert_string_equal(pb_str(pb, pb->mapping[i]->build_id), "0123abcd");
	}
	assert_int_equal(pb->n_mapping, 3);

	/* The sample with only the inline chain: main + one location with 3 lines, leaf first. */
	bool found = false;
	for (size_t s = 0; s < pb->n_sample; s++) {
		const Perftools__Profiles__Sample *smp = pb->sample[s];
		if (smp->value[0] != 3)
			continue;
		found = true;
		assert_int_equal(smp->n_location_id, 2);
		const Perftools__Profiles__Location *loc = NULL;
		for (size_t i = 0; i < pb->n_location; i++) {
			assert_int_not_equal(pb->location[i]->id, 0);
			if (pb->location[i]->id == smp->location_id[0])
				loc = pb->location[i];
		}
		assert_non_null(loc);
		assert_int_equal(loc->n_line, 3);
		assert_string_equal(pb_str(pb, pb_fn(pb, loc->line[0]->function_id)->name), "inner");
		assert_string_equal(pb_str(pb, pb_fn(pb, loc->line[1]->function_id)->name), "mid");
		assert_string_equal(pb_str(pb, pb_fn(pb, loc->line[2]->function_id)->name), "outer");
		assert_int_equal(loc->line[0]->line, 40);
		assert_int_equal(loc->line[2]->line, 20);
		assert_int_equal(loc->address, 0x2000);
		assert_int_equal(smp->n_label, 3);
		for (size_t i = 0; i < smp->n_label; i++) {
			const char *k = pb_str(pb, smp->label[i]->key);
			if (!strcmp(k, "pid")) {
				assert_int_equal(smp->label[i]->num, 42);
				assert_string_equal(pb_str(pb, smp->label[i]->num_unit), "pid");
			} else if (!strcmp(k, "comm")) {
				assert_string_equal(pb_str(pb, smp->label[i]->str), "app");
			} else {
				assert_string_equal(k, "tid");
				assert_int_equal(smp->label[i]->num, 43);
			}
		}
	}
	assert_true(found);
	/* The deep sample shares the inline location: 4 locations (kernel, leaf, inline group, main). */
	for (size_t s = 0; s < pb->n_sample; s++)
		if (pb->sample[s]->value[0] == 1)
			assert_int_equal(pb->sample[s]->n_location_id, 4);
	perftools__profiles__profile__free_unpacked(pb, NULL);
	free(data);
	profile_free(p);
}

static void expect_error(const void *data, size_t len, const char *needle)
{
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;

	assert_int_equal(read_mem(p, "pprof", data, len, &e), -1);
	if (!strstr(e.msg, needle))
		fail_msg("error '%s' lacks '%s'", e.msg, needle);
	profile_free(p);
}

static void test_hostile(void **state)
{
	struct profile *p = sample_profile();
	size_t len, rlen;
	unsigned char *gz = write_mem(p, "pprof", &len), *raw = write_mem(p, "pprof-raw", &rlen);

	(void)state;
	expect_error(gz, len / 2, "truncated");
	expect_error(raw, rlen - 3, "not a valid profile.proto");
	expect_error("", 0, "empty");
	expect_error("\x0a\x04\x08\x01\x10\x02", 6, "string"); /* sample type names string 1 of 0 */
	/* Corrupt a byte in the middle of the gzip stream. */
	gz[len / 2] ^= 0x55;
	struct profile *q = profile_new(0);
	struct err e = ERR_INIT;
	int r = read_mem(q, "pprof", gz, len, &e);
	assert_true(r == -1 || r == 0); /* must not crash; deflate may or may not notice */
	profile_free(q);

	/* A sample naming a location that does not exist. */
	Perftools__Profiles__Profile pb = PERFTOOLS__PROFILES__PROFILE__INIT;
	Perftools__Profiles__ValueType vt = PERFTOOLS__PROFILES__VALUE_TYPE__INIT, *vtp = &vt;
	Perftools__Profiles__Sample smp = PERFTOOLS__PROFILES__SAMPLE__INIT, *smpp = &smp;
	char *strings[] = { "", "samples", "count" };
	uint64_t loc = 7;
	int64_t val = 1;
	vt.type = 1;
	vt.unit = 2;
	smp.n_location_id = 1;
	smp.location_id = &loc;
	smp.n_value = 1;
	smp.value = &val;
	pb.n_sample_type = 1;
	pb.sample_type = &vtp;
	pb.n_sample = 1;
	pb.sample = &smpp;
	pb.n_string_table = 3;
	pb.string_table = strings;
	unsigned char buf[256];
	size_t n = perftools__profiles__profile__pack(&pb, buf);
	expect_error(buf, n, "missing location 7");
	/* Wrong number of values. */
	loc = 0;
	smp.n_location_id = 0;
	smp.n_value = 0;
	n = perftools__profiles__profile__pack(&pb, buf);
	expect_error(buf, n, "0 values for 1 sample types");
	/* A string index out of range. */
	smp.n_value = 1;
	vt.unit = 99;
	n = perftools__profiles__profile__pack(&pb, buf);
	expect_error(buf, n, "string 99 of 3");

	free(gz);
	free(raw);
	profile_free(p);
}

static void put64(unsigned char **pp, uint64_t v)
{
	memcpy(*pp, &v, 8); /* the test host is little-endian x86_64 like the profiles it reads */
	*pp += 8;
}

static void test_legacy(void **state)
{
	unsigned char data[1024], *w = data;
	const char *maps = "00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/app\n"
			   "7f0000000000-7f0000100000 r-xp 00010000 08:02 42 /lib/libc.so.6\n";
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;

	(void)state;
	put64(&w, 0);
	put64(&w, 3);
	put64(&w, 0);
	put64(&w, 10000); /* 10 ms */
	put64(&w, 0);
	put64(&w, 5); /* 5 samples of a 3-deep stack, leaf first */
	put64(&w, 3);
	put64(&w, 0x7f0000000100);
	put64(&w, 0x401235);
	put64(&w, 0xdead);
	put64(&w, 2);
	put64(&w, 1);
	put64(&w, 0x401000);
	put64(&w, 0); /* trailer */
	put64(&w, 1);
	put64(&w, 0);
	memcpy(w, maps, strlen(maps));
	w += strlen(maps);

	assert_true(format_by_name("pprof")->probe(data, (size_t)(w - data)) >= 90);
	if (read_mem(p, "pprof", data, (size_t)(w - data), &e))
		fail_msg("read failed: %s", e.msg);
	char *d = dump(p);
	const char *want = "column samples/count\n"
			   "column cpu/nanoseconds\n"
			   "default 1\n"
			   "period cpu/nanoseconds 10000000\n"
			   "time 0 0\n"
			   "mapping 400000 452000 0 /usr/bin/app\n"
			   "mapping 7f0000000000 7f0000100000 10000 /lib/libc.so.6\n"
			   "@:0(,unknown,0xdeac);@:0(/usr/bin/app,native,0x1234);"
			   "@:0(/lib/libc.so.6,native,0x10100); 5 50000000\n"
			   "@:0(/usr/bin/app,native,0x1000); 2 20000000\n";
	assert_string_equal(d, want);
	free(d);

	/*
	 * Addresses stay unsymbolized in pprof output: no Function, no Line, the absolute address, and the mapping's
	 * real range, so that pprof can symbolize them as it does the original.
	 */
	size_t len;
	unsigned char *enc = write_mem(p, "pprof-raw", &len);
	Perftools__Profiles__Profile *pb = perftools__profiles__profile__unpack(NULL, len, enc);
	bool app = false, libc = false;

	assert_non_null(pb);
	assert_int_equal(pb->n_function, 0);
	for (size_t i = 0; i < pb->n_comment; i++)
		assert_null(strstr(pb_str(pb, pb->comment[i]), "kiln:"));
	for (size_t i = 0; i < pb->n_location; i++) {
		const Perftools__Profiles__Location *loc = pb->location[i];

		assert_int_equal(loc->n_line, 0);
		for (size_t m = 0; m < pb->n_mapping; m++) {
			const Perftools__Profiles__Mapping *map = pb->mapping[m];

			if (map->id != loc->mapping_id)
				continue;
			if (!strcmp(pb_str(pb, map->filename), "/usr/bin/app") && loc->address == 0x401234) {
				assert_int_equal(map->memory_start, 0x400000);
				assert_int_equal(map->memory_limit, 0x452000);
				assert_int_equal(map->file_offset, 0);
				app = true;
			}
			if (!strcmp(pb_str(pb, map->filename), "/lib/libc.so.6")) {
				assert_int_equal(loc->address, 0x7f0000000100);
				assert_int_equal(map->memory_start, 0x7f0000000000);
				assert_int_equal(map->file_offset, 0x10000);
				libc = true;
			}
		}
	}
	assert_true(app && libc);
	perftools__profiles__profile__free_unpacked(pb, NULL);
	free(enc);

	/* Without its trailer the profile is truncated. */
	profile_free(p);
	p = profile_new(0);
	assert_int_equal(read_mem(p, "pprof", data, 14 * 8, &e), -1);
	assert_non_null(strstr(e.msg, "trailer"));
	/* A record longer than the file. */
	unsigned char bad[7 * 8], *b = bad;
	put64(&b, 0);
	put64(&b, 3);
	put64(&b, 0);
	put64(&b, 100);
	put64(&b, 0);
	put64(&b, 1);
	put64(&b, 1000000);
	profile_free(p);
	p = profile_new(0);
	assert_int_equal(read_mem(p, "pprof", bad, sizeof(bad), &e), -1);
	profile_free(p);
}

/* 32-bit slots, big-endian: the slot size and byte order come from the header. */
static void test_legacy_32be(void **state)
{
	static const uint32_t words[] = { 0, 3, 0, 1000, 0, 4, 2, 0x08048123, 0x08048456, 0, 1, 0 };
	const char *maps = "08048000-08050000 r-xp 00000000 08:02 1 /bin/app32\n";
	unsigned char data[256];
	size_t n = 0;
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		data[n++] = (unsigned char)(words[i] >> 24);
		data[n++] = (unsigned char)(words[i] >> 16);
		data[n++] = (unsigned char)(words[i] >> 8);
		data[n++] = (unsigned char)words[i];
	}
	memcpy(data + n, maps, strlen(maps));
	n += strlen(maps);
	if (read_mem(p, "pprof", data, n, &e))
		fail_msg("read failed: %s", e.msg);
	char *d = dump(p);
	/* One record: as pprof does, its second frame is taken for the signal handler's and dropped. */
	assert_non_null(strstr(d, "\n@:0(/bin/app32,native,0x123); 4 4000000\n"));
	free(d);
	profile_free(p);
}

/* A real Go profile (go test -cpuprofile) checked in as a fixture. */
static void test_go_fixture(void **state)
{
	struct profile *p = profile_new(0);
	struct err e = ERR_INIT;

	(void)state;
	if (profile_read_path(p, "tests/fixtures/pprof/go-cpu.pb.gz", NULL, NULL, &e)) {
		profile_free(p);
		if (strstr(e.msg, "No such file"))
			skip();
		fail_msg("%s", e.msg);
	}
	assert_int_equal(p->ncolumns, 2);
	assert_string_equal(profile_str(p, p->columns[1].type), "cpu");
	assert_int_equal(profile_total(p, 0) * p->period, profile_total(p, 1));
	assert_true(profile_total(p, 0) > 10);
	/* square() was inlined into sumSquares(): it must come back as an inlined frame. */
	bool inlined = false;
	for (size_t i = 0; i < p->frames_nr; i++)
		if (p->frames[i].kind == FRAME_INLINED &&
		    strstr(profile_str(p, p->frames[i].function), "square"))
			inlined = true;
	assert_true(inlined);
	/* Physical Go frames are recognised by their source files. */
	for (size_t i = 0; i < p->frames_nr; i++)
		if (!strcmp(profile_str(p, p->frames[i].function), "example.com/burn.fib"))
			assert_int_equal(p->frames[i].kind, FRAME_GO);
	profile_free(p);
}

/* Adds one sample whose stack is `frames` (root first) with `n` samples. */
static void add_stack(struct profile *p, const uint32_t *frames, size_t depth, int64_t n)
{
	uint32_t node = 0;

	for (size_t i = 0; i < depth; i++)
		node = profile_node(p, node, frames[i]);
	profile_add_sample1(p, node, 0, n);
}

static uint32_t place_frame(struct profile *p, const char *fn, const char *file, uint32_t line, enum frame_kind k)
{
	struct frame f = { 0 };

	f.function = profile_intern_str(p, fn);
	f.file = profile_intern_str(p, file);
	f.line = line;
	f.kind = k;
	return profile_frame(p, &f);
}

/*
 * Frame identity (docs/runtimes.md): interpreted functions of one name are told apart by file and first line.
 * pprof gets one Function each (with its start_line) and reads them back apart; folded names them
 * "name (file:line)", with the whole path when two files share a base name.
 */
static void test_identity(void **state)
{
	struct profile *p = profile_new(0), *back = profile_new(0);
	uint32_t top = place_frame(p, "<module>", "/app/main.py", 1, FRAME_PYTHON);
	uint32_t fns[] = {
		place_frame(p, "work", "/app/a/jobs.py", 4, FRAME_PYTHON),
		place_frame(p, "work", "/app/b/jobs.py", 4, FRAME_PYTHON),
		place_frame(p, "work", "/app/a/jobs.py", 9, FRAME_PYTHON),
		place_frame(p, "(anonymous)", "/app/cpu.js", 1, FRAME_JS),
		place_frame(p, "(anonymous)", "/app/cpu.js", 8, FRAME_JS),
	};
	size_t len, flen;
	struct err e = ERR_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		add_stack(p, (uint32_t[]){ top, fns[i] }, 2, (int64_t)(i + 1));

	unsigned char *data = write_mem(p, "pprof-raw", &len);
	Perftools__Profiles__Profile *pb = perftools__profiles__profile__unpack(NULL, len, data);
	assert_non_null(pb);
	assert_int_equal(pb->n_function, 6);
	for (size_t i = 0; i < pb->n_function; i++)
		assert_true(pb->function[i]->start_line == 1 || pb->function[i]->start_line == 4 ||
			    pb->function[i]->start_line == 8 || pb->function[i]->start_line == 9);
	perftools__profiles__profile__free_unpacked(pb, NULL);

	assert_int_equal(read_mem(back, "pprof-raw", data, len, &e), 0);
	assert_int_equal(back->frames_nr, 6);
	char *folded = (char *)write_mem(back, "folded", &flen);
	assert_string_equal(folded, "<module> (main.py:1);(anonymous) (cpu.js:1) 4\n"
				    "<module> (main.py:1);(anonymous) (cpu.js:8) 5\n"
				    "<module> (main.py:1);work (/app/a/jobs.py:4) 1\n"
				    "<module> (main.py:1);work (/app/b/jobs.py:4) 2\n"
				    "<module> (main.py:1);work (jobs.py:9) 3\n");
	free(folded);
	free(data);
	profile_free(back);
	profile_free(p);
}

static void test_probe(void **state)
{
	struct profile *p = sample_profile();
	size_t len, rlen;
	unsigned char *gz = write_mem(p, "pprof", &len), *raw = write_mem(p, "pprof-raw", &rlen);
	const struct format *f = format_by_name("pprof");

	(void)state;
	assert_true(f->probe(gz, len) >= 90);
	assert_true(f->probe(gz, 64) >= 40);
	assert_true(f->probe(gz, 200) >= 90);
	assert_true(f->probe(raw, rlen) >= 50);
	assert_true(format_detect(raw, rlen) == f);
	assert_int_equal(f->probe((const unsigned char *)"main;foo 1\n", 11), 0);
	assert_int_equal(f->probe((const unsigned char *)"{\"a\":1}", 7), 0);
	free(gz);
	free(raw);
	profile_free(p);
}

/* The comments of a pprof file, in order, one per line. */
static char *file_comments(const unsigned char *data, size_t len)
{
	Perftools__Profiles__Profile *pb = perftools__profiles__profile__unpack(NULL, len, data);
	struct buf b = BUF_INIT;

	assert_non_null(pb);
	for (size_t i = 0; i < pb->n_comment; i++)
		buf_addf(&b, "%s\n", pb_str(pb, pb->comment[i]));
	perftools__profiles__profile__free_unpacked(pb, NULL);
	return buf_detach(&b, NULL);
}

/*
 * Typed metadata in pprof: a file as the current kiln writes it (its heap scalars, histogram, event and sample
 * count are comments of reserved forms) reads into typed fields, and is written back the same.
 */
static void test_meta_on_disk(void **state)
{
	static const char *const disk =
		"a note\n"
		"event: cycles\n"
		"samples: 7\n"
		"kiln-heap: peak_bytes=5000\n"
		"kiln-heap: peak_time_ns=0\n"
		"kiln-heap: processes=2\n"
		"kiln-heap: histogram=3:2,10:1\n";
	struct profile *old = sample_profile(), *p = profile_new(0), *q = profile_new(0);
	struct err e = ERR_INIT;
	unsigned char *data, *again;
	size_t len, len2;
	int64_t v;
	char *c;

	(void)state;
	/* the file of an earlier kiln: the metadata were plain comments of the profile */
	old->comments_nr = 0;
	for (const char *l = disk, *nl; (nl = strchr(l, '\n')); l = nl + 1) {
		char *one = strndup(l, (size_t)(nl - l));
		profile_add_comment(old, one);
		free(one);
	}
	data = write_mem(old, "pprof-raw", &len);
	c = file_comments(data, len);
	assert_string_equal(c, disk);
	free(c);

	if (read_mem(p, "pprof-raw", data, len, &e))
		fail_msg("read failed: %s", e.msg);
	assert_int_equal(p->comments_nr, 1);
	assert_string_equal(profile_str(p, p->comments[0]), "a note");
	assert_string_equal(profile_str(p, p->meta.event), "cycles");
	assert_int_equal(p->meta.samples, 7);
	assert_true(profile_heap_get(p, HEAP_PEAK_BYTES, &v) && v == 5000);
	assert_true(profile_heap_get(p, HEAP_PEAK_TIME_NS, &v) && v == 0);
	assert_true(profile_heap_get(p, HEAP_PROCESSES, &v) && v == 2);
	assert_false(profile_heap_get(p, HEAP_PEAK_BLOCKS, &v));
	assert_true(p->meta.heap.has_hist);
	assert_int_equal(p->meta.heap.hist[3], 2);
	assert_int_equal(p->meta.heap.hist[10], 1);
	assert_int_equal(p->meta.build_ids_nr, 1);
	assert_string_equal(profile_str(p, profile_build_id(p, profile_intern_str(p, "/usr/bin/app"))), "0123abcd");

	/* written back: the same comments, and the typed fields survive another round */
	again = write_mem(p, "pprof-raw", &len2);
	c = file_comments(again, len2);
	assert_string_equal(c, disk);
	free(c);
	if (read_mem(q, "pprof-raw", again, len2, &e))
		fail_msg("read failed: %s", e.msg);
	char *a = dump(p), *b = dump(q);
	assert_string_equal(a, b);
	assert_true(profile_heap_get(q, HEAP_PROCESSES, &v) && v == 2);
	assert_int_equal(q->meta.samples, 7);
	free(a);
	free(b);
	free(data);
	free(again);
	profile_free(old);
	profile_free(p);
	profile_free(q);
}

/* A comment that only looks like metadata stays a comment: nothing is lost on the way through. */
static void test_meta_lookalikes(void **state)
{
	struct profile *p = sample_profile(), *q = profile_new(0);
	struct err e = ERR_INIT;
	unsigned char *data;
	size_t len;

	(void)state;
	p->comments_nr = 0;
	profile_add_comment(p, "kiln-heap: peak_bytes=lots");
	profile_add_comment(p, "kiln-heap: colour=blue");
	profile_add_comment(p, "samples: none");
	data = write_mem(p, "pprof", &len);
	if (read_mem(q, "pprof", data, len, &e))
		fail_msg("read failed: %s", e.msg);
	assert_int_equal(q->comments_nr, 3);
	assert_int_equal(q->meta.heap.known, 0);
	assert_int_equal(q->meta.samples, 0);
	free(data);
	profile_free(p);
	profile_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meta_on_disk),
		cmocka_unit_test(test_meta_lookalikes),
		cmocka_unit_test(test_roundtrip_gzip),
		cmocka_unit_test(test_roundtrip_plain),
		cmocka_unit_test(test_encoding),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_legacy),
		cmocka_unit_test(test_legacy_32be),
		cmocka_unit_test(test_go_fixture),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_identity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
