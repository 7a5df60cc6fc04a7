/* Unit tests for the report builders below cmd/: the analyze document and the wait-sites table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analysis.h"
#include "analyze/document.h"
#include "analyze/io_report.h"
#include "analyze/report.h"
#include "analyze/wait_report.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/err.h"
#include "core/util.h"
#include "formats/format.h"
#include "formats/input.h"
#include "formats/pprof_meta.h"
#include "profile/profile.h"

/* Adds samples of "a;b;c" (root first); a frame "k:NAME" is a kernel frame, "M@NAME" one of module M. */
static void add(struct profile *p, const char *stack, const int64_t *values, uint32_t labelset)
{
	char tmp[4096];
	uint32_t node = 0;
	char *save = NULL;

	snprintf(tmp, sizeof(tmp), "%s", stack);
	for (char *tok = strtok_r(tmp, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		struct frame f = { 0 };
		char *at = strchr(tok, '@');

		f.kind = FRAME_NATIVE;
		if (!strncmp(tok, "k:", 2)) {
			f.kind = FRAME_KERNEL;
			tok += 2;
		} else if (!strncmp(tok, "py:", 3)) {
			f.kind = FRAME_PYTHON;
			tok += 3;
			f.file = profile_intern_str(p, "app.py");
			f.line = 4;
		}
		if (at) {
			*at = 0;
			f.module = profile_intern_str(p, tok);
			tok = at + 1;
		}
		f.function = profile_intern_str(p, tok);
		node = profile_node(p, node, profile_frame(p, &f));
	}
	profile_add_sample(p, node, labelset, values);
}

static struct profile *cpu_profile(int64_t scale)
{
	struct profile *p = profile_new(0);
	int64_t v;

	profile_add_column(p, "samples", "count");
	v = 60 * scale;
	add(p, "main;parse;lex", &v, 0);
	v = 30 * scale;
	add(p, "main;parse", &v, 0);
	v = 10 * scale;
	add(p, "main;emit", &v, 0);
	return p;
}

static const char *const files2[] = { "a.folded", "b.folded" };
static const char *const formats2[] = { "folded", "folded" };

static struct analyze_doc_opts doc_opts(enum analyze_doc_format f)
{
	struct analyze_doc_opts o = { .format = f, .threshold = 5.0, .top = 20, .files = files2,
				      .formats = formats2 };
	return o;
}

/* The text document of one profile is its heading and the analysis' own text, nothing else. */
static void test_document_text(void **state)
{
	struct profile *p = cpu_profile(1);
	struct analyze_doc_opts o = doc_opts(ANALYZE_DOC_TEXT);
	struct analyze_opts ao = ANALYZE_OPTS_INIT;
	struct buf doc = BUF_INIT, want = BUF_INIT;
	struct err e = ERR_INIT;
	struct analysis a;
	bool sat = true;

	(void)state;
	assert_int_equal(analyze_document(&p, 1, &o, &doc, &sat, &e), 0);
	assert_false(sat);
	assert_int_equal(analysis_run(p, &ao, &a, &e), 0);
	buf_adds(&want, "a.folded (folded)\n");
	analysis_format_text(&a, &want, false, false);
	assert_string_equal(doc.buf, want.buf);
	analysis_release(&a);

	buf_reset(&doc);
	o.format = ANALYZE_DOC_MARKDOWN;
	assert_int_equal(analyze_document(&p, 1, &o, &doc, NULL, &e), 0);
	assert_true(!strncmp(doc.buf, "## kiln analyze: a.folded\n\n", 27));
	buf_release(&doc);
	buf_release(&want);
	profile_free(p);
}

/* JSON of two runs: the schema, both files, the merged total, and each function's share per run. */
static void test_document_json_runs(void **state)
{
	struct profile *ps[2] = { cpu_profile(1), cpu_profile(3) };
	struct analyze_doc_opts o = doc_opts(ANALYZE_DOC_JSON);
	struct buf doc = BUF_INIT;
	struct err e = ERR_INIT;
	json_error_t jerr;
	json_t *root, *runs;

	(void)state;
	assert_int_equal(analyze_document(ps, 2, &o, &doc, NULL, &e), 0);
	root = json_loads(doc.buf, 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "schema")), "kiln-analyze/1");
	assert_string_equal(json_string_value(json_array_get(json_object_get(root, "files"), 1)), "b.folded");
	assert_int_equal(json_integer_value(json_object_get(root, "total")), 400);
	runs = json_object_get(root, "runs");
	assert_int_equal(json_integer_value(json_object_get(runs, "count")), 2);
	assert_null(json_object_get(root, "peak_bytes")); /* no heap report for a CPU profile */
	json_decref(root);

	/* The inputs are left as they were: the merge is the builder's own profile. */
	assert_int_equal(profile_total(ps[0], 0), 100);
	assert_int_equal(profile_total(ps[1], 0), 300);
	buf_reset(&doc);
	o.format = ANALYZE_DOC_TEXT;
	assert_int_equal(analyze_document(ps, 2, &o, &doc, NULL, &e), 0);
	assert_true(!strncmp(doc.buf, "2 profiles merged\n", 18));
	buf_release(&doc);
	profile_free(ps[0]);
	profile_free(ps[1]);
}

/* A value column the profile lacks: -1 and one line naming the file, nothing half-built is kept by the caller. */
static void test_document_error(void **state)
{
	struct profile *p = cpu_profile(1);
	struct analyze_doc_opts o = doc_opts(ANALYZE_DOC_JSON);
	struct buf doc = BUF_INIT;
	struct err e = ERR_INIT;

	(void)state;
	o.value = "alloc_space";
	assert_int_equal(analyze_document(&p, 1, &o, &doc, NULL, &e), -1);
	assert_true(!strncmp(e.msg, "cannot analyse 'a.folded': ", 27));
	assert_null(strchr(e.msg, '\n'));
	buf_release(&doc);
	profile_free(p);
}

/* A heap profile: the heap report comes first, then the allocation-site analysis of the default column. */
static void test_document_heap(void **state)
{
	struct profile *p = profile_new(0);
	struct analyze_doc_opts o = doc_opts(ANALYZE_DOC_TEXT);
	struct buf doc = BUF_INIT;
	struct err e = ERR_INIT;
	int64_t v1[] = { 3, 3000, 1, 1000 }, v2[] = { 1, 500, 0, 0 };
	json_error_t jerr;
	json_t *root;
	const char *heap, *sites;

	(void)state;
	profile_add_column(p, "alloc_objects", "count");
	profile_add_column(p, "alloc_space", "bytes");
	profile_add_column(p, "inuse_objects", "count");
	profile_add_column(p, "inuse_space", "bytes");
	p->default_column = 1;
	add(p, "main;load;malloc", v1, 0);
	add(p, "main;parse;malloc", v2, 0);
	assert_int_equal(analyze_document(&p, 1, &o, &doc, NULL, &e), 0);
	heap = strstr(doc.buf, "Heap profile");
	sites = strstr(doc.buf, "Allocation-site analysis of the alloc_space values:");
	assert_non_null(heap);
	assert_non_null(sites);
	assert_true(heap < sites);
	assert_non_null(strstr(doc.buf, "1,000 bytes in 1 block allocated in load"));

	buf_reset(&doc);
	o.format = ANALYZE_DOC_JSON;
	assert_int_equal(analyze_document(&p, 1, &o, &doc, NULL, &e), 0);
	root = json_loads(doc.buf, 0, &jerr);
	assert_non_null(root);
	assert_int_equal(json_integer_value(json_object_get(root, "total_allocated_bytes")), 3500);
	assert_int_equal(json_integer_value(json_object_get(root, "leaked_bytes")), 1000);
	json_decref(root);
	buf_release(&doc);
	profile_free(p);
}

static const char *row_of(const char *table, const char *name)
{
	const char *s = strstr(table, name);

	while (s && s > table && s[-1] != '\n')
		s--;
	return s;
}

/* Wait sites: the program's innermost function and its caller, the innermost user frame in brackets. */
static void test_wait_report(void **state)
{
	struct profile *p = profile_new(0);
	struct label comm = { .key = profile_intern_str(p, "comm"), .str = profile_intern_str(p, "kworker/0") };
	struct wait_report_opts o = { 0, 1, 10, "off-CPU", "switches" };
	struct buf t = BUF_INIT;
	int64_t v[][2] = { { 3000000000, 3 }, { 500000000, 5 }, { 400000000, 1 }, { 100000000, 2 }, { 1, 1 } };
	const char *r;

	(void)state;
	profile_add_column(p, "off_cpu", "nanoseconds");
	profile_add_column(p, "samples", "count");
	add(p, "main;reader;/lib/x86_64-linux-gnu/libc.so.6@read;k:__schedule", v[0], 0);
	add(p, "py:main;py:sleeper;/usr/bin/python3@PyEval;/lib/libc.so.6@clock_nanosleep;k:schedule", v[1], 0);
	add(p, "k:kthread;k:__schedule", v[2], profile_labelset(p, &comm, 1));
	add(p, "main;worker;/lib/libc.so.6@pthread_cond_wait;k:schedule", v[3], 0);
	/* a second stack of the same site adds to its row */
	add(p, "main;reader;/lib/x86_64-linux-gnu/libc.so.6@read;k:__schedule;k:finish_task_switch", v[4], 0);
	wait_report_format(&t, p, &o);
	assert_true(!strncmp(t.buf, "off-CPU           %   switches  where: function <- caller [innermost user frame]\n",
			     81));
	r = row_of(t.buf, "reader <- main [read]");
	assert_non_null(r);
	assert_true(r == strchr(t.buf, '\n') + 1); /* the heaviest first */
	assert_non_null(strstr(r, " 75.0% "));
	assert_non_null(strstr(r, "4  reader")); /* 3 + 1 switches */
	assert_non_null(row_of(t.buf, "sleeper (app.py:4) <- main (app.py:4) [clock_nanosleep]\n"));
	assert_non_null(row_of(t.buf, "[kernel] kworker/0\n"));
	assert_non_null(row_of(t.buf, "worker <- main [pthread_cond_wait]\n"));

	/* top rows only; none at all with top 0 */
	buf_reset(&t);
	o.top = 1;
	wait_report_format(&t, p, &o);
	assert_null(strstr(t.buf, "worker"));
	assert_int_equal(strchr(strchr(t.buf, '\n') + 1, '\n')[1], '\0');
	buf_reset(&t);
	o.top = 0;
	wait_report_format(&t, p, &o);
	assert_int_equal(t.len, 0);
	buf_release(&t);
	profile_free(p);
}

/* An I/O summary of known numbers: 3 writes (one failed) and 1 read, one slow call, two files, block reads. */
static struct profile *io_profile(void)
{
	struct profile *p = profile_new(0);
	struct io_meta *io = &p->meta.io;
	struct io_meta_syscall *s;
	struct io_meta_slowcall *sc;
	struct io_meta_file *f;
	int64_t v[] = { 3, 3000 };

	profile_add_column(p, "syscalls", "count");
	profile_add_column(p, "latency", "nanoseconds");
	p->default_column = 1;
	add(p, "main;writer;write", v, 0);
	s = profile_io_add_syscall(p);
	s->nr = 1;
	s->name = profile_intern_str(p, "write");
	s->count = 3;
	s->errors = 1;
	s->total_ns = 3000;
	s->max_ns = 2000;
	s->hist[9] = 2;  /* [512, 1024) ns */
	s->hist[10] = 1; /* [1024, 2048) ns */
	s = profile_io_add_syscall(p);
	s->nr = 400; /* no name: the table says syscall_400, the JSON null */
	s->count = 1;
	s->total_ns = 100;
	s->max_ns = 100;
	s->hist[6] = 1;
	sc = profile_io_add_slowcall(p);
	sc->lat_ns = 2000;
	sc->nr = 1;
	sc->name = profile_intern_str(p, "write");
	sc->tgid = 7;
	sc->tid = 8;
	sc->arg0 = 3;
	sc->ret = -9; /* EBADF */
	sc->where = profile_intern_str(p, "writer <- main");
	f = profile_io_add_file(p);
	f->tgid = 7;
	f->path = profile_intern_str(p, "/tmp/a file, with spaces");
	f->writes = 2;
	f->wbytes = 4096;
	f->write_ns = 1000;
	io->files_traced = true;
	io->block = true;
	io->blk[IO_BLOCK_READ].count = 2;
	io->blk[IO_BLOCK_READ].bytes = 8192;
	io->blk[IO_BLOCK_READ].total_ns = 4000000;
	io->blk[IO_BLOCK_READ].max_ns = 3000000;
	io->blk[IO_BLOCK_READ].hist[21] = 2;
	io->duration_ns = 2000000000;
	io->calls = 4;
	io->errors = 1;
	io->total_ns = 3100;
	return p;
}

static char *io_text(const struct profile *p)
{
	struct buf b = BUF_INIT;

	io_report_format_summary(&b, p);
	buf_addch(&b, '\n');
	io_report_format_text(&b, p, 10);
	return buf_detach(&b, NULL);
}

static char *io_json(const struct profile *p)
{
	struct buf b = BUF_INIT;
	struct jw j;

	jw_init(&j, &b, false);
	io_report_format_json(&j, p);
	return buf_detach(&b, NULL);
}

/* The I/O report from the typed summary: its numbers, and the same report after a pprof round trip. */
static void test_io_report(void **state)
{
	struct profile *p = io_profile(), *q = profile_new(0);
	char *text = io_text(p), *json = io_json(p), *text2, *json2, *data = NULL;
	const struct format *pprof = format_by_name("pprof");
	struct format_write_opts wo = { -1 };
	struct err e = ERR_INIT;
	struct input in;
	size_t len = 0;
	FILE *fp;

	(void)state;
	assert_non_null(strstr(text, "4 system calls in 2.00 s of recording, 3.1 us in them\n"));
	assert_non_null(strstr(text, "write                         3        1       3.0 us     1.0 us     2.0 us\n"));
	assert_non_null(strstr(text, "syscall_400 "));
	assert_non_null(strstr(text, "latency of write:\n"));
	assert_non_null(strstr(text, "write(3, ...) = -9 Bad file descriptor  pid 7 tid 8  at writer <- main\n"));
	assert_non_null(strstr(text, "/tmp/a file, with spaces\n"));
	assert_non_null(strstr(text, "  read           2 requests   8.00 KiB  mean 2.0 ms  max 3.0 ms\n"));
	assert_non_null(strstr(json, "\"calls\":4,\"errors\":1,\"total_ns\":3100"));
	assert_non_null(strstr(json, "{\"name\":null,\"nr\":400,"));
	assert_non_null(strstr(json, "{\"ge_ns\":512,\"lt_ns\":1024,\"count\":2}"));
	assert_non_null(strstr(json, "\"stack\":\"writer <- main\""));

	fp = open_memstream(&data, &len);
	assert_int_equal(pprof->write(p, fp, &wo, &e), 0);
	assert_int_equal(fclose(fp), 0);
	input_from_memory(&in, data, len, "<test>");
	assert_int_equal(pprof->read(q, &in, &(struct format_read_opts){ 0 }, &e), 0);
	input_close(&in);
	assert_true(io_report_applies(q));
	assert_int_equal(q->comments_nr, 0); /* every kiln-io comment read back as metadata */
	text2 = io_text(q);
	json2 = io_json(q);
	assert_string_equal(text, text2);
	assert_string_equal(json, json2);

	/* A damaged form stays a comment; a profile without any has no summary. */
	profile_free(q);
	q = profile_new(0);
	assert_false(io_report_applies(q));
	pprof_meta_read_comment(q, "kiln-io: syscall=1 write 3 x");
	pprof_meta_read_comment(q, "kiln-io: file=7 1 2 3 4 5 6");
	pprof_meta_read_comment(q, "kiln-io: block_sideways=1 2 3 4 -");
	assert_false(io_report_applies(q));
	assert_int_equal(q->comments_nr, 3);
	pprof_meta_read_comment(q, "kiln-io: calls=5");
	assert_true(io_report_applies(q));
	assert_int_equal(q->meta.io.calls, 5);
	free(text2);
	free(json2);
	free(data);
	free(text);
	free(json);
	profile_free(q);
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_document_text),  cmocka_unit_test(test_document_json_runs),
		cmocka_unit_test(test_document_error), cmocka_unit_test(test_document_heap),
		cmocka_unit_test(test_wait_report),    cmocka_unit_test(test_io_report),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
