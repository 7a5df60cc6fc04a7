/*
 * Detection is positive (docs/formats.md): real files of formats kiln does not read are claimed by neither the
 * folded nor the perf-script probe, and are refused by what they are; the text readers count what they skip;
 * every writer names unsymbolized frames by one rule.
 */
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
#include "formats/input.h"
#include "profile/frame_name.h"
#include "profile/profile.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *d;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	d = malloc((size_t)n + 1);
	assert_non_null(d);
	assert_int_equal(fread(d, 1, (size_t)n, f), (size_t)n);
	d[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return d;
}

/* Real files whose lines end in numbers: each is its own format's, never the loose text readers'. */
static const struct {
	const char *path;
	const char *format; /* the reader that must claim it */
} numeric[] = {
	{ "tests/fixtures/pprof-legacy/gperftools-two-paths.heap", "pprof-legacy" },
	{ "tests/fixtures/pprof-legacy/go-legacy.heap", "pprof-legacy" },
	{ "tests/fixtures/pprof-legacy/go.threadcreate", "pprof-legacy" },
	{ "tests/fixtures/callgrind/small.callgrind", "callgrind" },
	{ "@/pprof-legacy/cppbench.small.contention", "pprof-legacy" },
	{ "@/pprof-legacy/cppbench.thread", "pprof-legacy" },
	{ "@/callgrind/callgrind.example.log", "callgrind" },
	{ "@/callgrind/pprof.cpu.callgrind", "callgrind" },
	{ "@/stackprof/simple-stackprof.json", "stackprof" },
	{ "@/stackprof/object-stackprof.json", "stackprof" },
	{ "@/firefox/Firefox-63-simple-firefox.json", "firefox" },
	{ "@/chrome-trace/Chrome-141-no-arg-data.json", "trace-event" },
	{ "@/chrome-trace/trace-event-simple.json", "trace-event" },
};

static void test_numeric_formats_detected(void **state)
{
	const struct format *folded = format_by_name("folded"), *ps = format_by_name("perf-script");
	size_t tested = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++) {
		const char *shared = getenv("KILN_SHARED");
		const struct format *f;
		char path[4096];
		size_t len;
		char *d;
		struct err e = ERR_INIT;
		size_t n;

		/* "@/" is the shared corpus (KILN_SHARED, as tests/run.sh sets it), which may be absent. */
		if (numeric[i].path[0] == '@')
			snprintf(path, sizeof(path), "%s/fixtures/formats%s", shared ? shared : "../shared",
				 numeric[i].path + 1);
		else
			snprintf(path, sizeof(path), "%s", numeric[i].path);
		d = slurp(path, &len);
		if (!d) {
			assert_true(numeric[i].path[0] == '@');
			continue;
		}
		n = len < 65536 ? len : 65536;
		/* Neither loose text reader claims it. */
		if (folded->probe((const unsigned char *)d, n) || ps->probe((const unsigned char *)d, n))
			fail_msg("%s: folded %d, perf script %d", path,
				 folded->probe((const unsigned char *)d, n), ps->probe((const unsigned char *)d, n));
		f = format_detect_input((const unsigned char *)d, n, "x", &e);
		if (!f || strcmp(f->name, numeric[i].format))
			fail_msg("%s: detected as %s (%s), not %s", path, f ? f->name : "nothing", e.msg,
				 numeric[i].format);
		free(d);
		tested++;
	}
	assert_true(tested >= 4);
}

/* Formats recognised and refused by name. */
static void test_unread_formats_refused(void **state)
{
	static const char jemalloc[] = "heap_v2/524288\n  t*: 28106: 56637512 [0: 0]\n";
	struct err e = ERR_INIT;

	(void)state;
	assert_null(format_detect_input((const unsigned char *)jemalloc, sizeof(jemalloc) - 1, "j.heap", &e));
	assert_string_equal(e.msg, "'j.heap': a jemalloc heap profile, which kiln does not read");
}

static void test_undetectable(void **state)
{
	static const char text[] = "this is\nsome text\nwithout counts\n";
	struct err e = ERR_INIT;

	(void)state;
	assert_null(format_detect_input((const unsigned char *)text, sizeof(text) - 1, "notes.txt", &e));
	assert_string_equal(e.msg, "cannot detect the format of 'notes.txt'");
}

static struct profile *read_as(const char *fmt, const char *text, struct err *e)
{
	struct profile *p = profile_new(0);
	struct format_read_opts o = { 0 };
	struct input in;

	input_from_memory(&in, text, strlen(text), "test");
	if (format_by_name(fmt)->read(p, &in, &o, e)) {
		profile_free(p);
		return NULL;
	}
	return p;
}

/* A stray line is a warning, never a comment; more than one line in ten makes the reader refuse the file. */
static void test_skipped_lines(void **state)
{
	struct err e = ERR_INIT;
	struct profile *p;
	struct buf many = BUF_INIT;

	(void)state;
	p = read_as("folded", "a;b 1\na;c 2\nnot a stack line\na;d 3\n", &e);
	assert_non_null(p);
	assert_int_equal(p->warnings_nr, 1);
	assert_string_equal(profile_str(p, p->warnings[0]), "ignored 1 line with invalid format (the first is line 3)");
	assert_int_equal(p->comments_nr, 0);
	profile_free(p);

	/* 20 good lines, 2 bad: within one in ten. */
	for (int i = 0; i < 20; i++)
		buf_addf(&many, "main;f%d %d\n", i, i + 1);
	buf_adds(&many, "bad line\nanother bad line\n");
	p = read_as("folded", many.buf, &e);
	assert_non_null(p);
	assert_string_equal(profile_str(p, p->warnings[0]), "ignored 2 lines with invalid format (the first is line 21)");
	profile_free(p);
	/* One more: refused. */
	buf_adds(&many, "a third bad line\n");
	assert_null(read_as("folded", many.buf, &e));
	assert_non_null(strstr(e.msg, "3 of 23 lines"));
	buf_release(&many);

	/* perf script: the same rule. */
	p = read_as("perf-script", "p 1 1.0: 1 cycles:\n\t1 f (/bin/x)\n\ngarbage\n", &e);
	assert_non_null(p);
	assert_int_equal(p->warnings_nr, 1);
	assert_string_equal(profile_str(p, p->warnings[0]), "ignored 1 line with invalid format (the first is line 4)");
	profile_free(p);
	assert_null(read_as("perf-script", "p 1 1.0: 1 cycles:\n\t1 f (/bin/x)\n\ngarbage\nmore\n", &e));
	assert_non_null(strstr(e.msg, "not perf script text"));
}

/* The one naming rule, and folded and speedscope output follow it. */
static void test_frame_names(void **state)
{
	struct profile *p = profile_new(0);
	struct frame f[5];
	static const char *const want[] = { "main", "[libc.so.6+0x27249]", "[libc.so.6]", "0x7f3a2c1d0e41", "[unknown]" };
	uint32_t node = 0;
	char *out = NULL;
	size_t outlen = 0;
	FILE *fp;
	struct err e = ERR_INIT;
	struct format_write_opts wo = { -1 };

	(void)state;
	memset(f, 0, sizeof(f));
	f[0].function = profile_intern_str(p, "main");
	f[1].module = profile_intern_str(p, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	f[1].addr = 0x27249;
	f[2].module = f[1].module;
	f[3].addr = 0x7f3a2c1d0e41;
	f[3].kind = FRAME_UNKNOWN;
	f[4].kind = FRAME_UNKNOWN;
	profile_add_column(p, "samples", "count");
	for (int i = 0; i < 5; i++) {
		struct buf b = BUF_INIT;
		uint32_t id = profile_frame(p, &f[i]);

		profile_frame_name(&b, p, id);
		assert_string_equal(b.buf, want[i]);
		buf_release(&b);
		node = profile_node(p, node, id);
	}
	profile_add_sample1(p, node, 0, 3);

	fp = open_memstream(&out, &outlen);
	assert_int_equal(format_by_name("folded")->write(p, fp, &wo, &e), 0);
	fclose(fp);
	assert_string_equal(out, "main;[libc.so.6+0x27249];[libc.so.6];0x7f3a2c1d0e41;[unknown] 3\n");
	free(out);
	out = NULL;
	fp = open_memstream(&out, &outlen);
	assert_int_equal(format_by_name("speedscope")->write(p, fp, &wo, &e), 0);
	fclose(fp);
	for (int i = 0; i < 5; i++) {
		char key[64];

		snprintf(key, sizeof(key), "\"name\":\"%s\"", want[i]);
		if (!strstr(out, key))
			fail_msg("speedscope output lacks %s", key);
	}
	free(out);
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numeric_formats_detected),
		cmocka_unit_test(test_unread_formats_refused),
		cmocka_unit_test(test_undetectable),
		cmocka_unit_test(test_skipped_lines),
		cmocka_unit_test(test_frame_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
