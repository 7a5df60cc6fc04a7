/* Unit tests for src/record/rt_hints.c: --language against the program, the Python version hint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "profile/profile.h"
#include "record/rt_hints.h"

static void test_python_version_hint(void **state)
{
	(void)state;
	/* 3.10 and older have no perf map support at all: never advise -X perf for them */
	for (unsigned mi = 6; mi <= 10; mi++)
		assert_non_null(strstr(rt_python_version_hint(3, mi), "-X perf came with 3.12"));
	assert_non_null(strstr(rt_python_version_hint(2, 7), "Python 3.11 or newer"));
	assert_non_null(strstr(rt_python_version_hint(3, 14), "python3 -X perf"));
	assert_null(strstr(rt_python_version_hint(3, 14), "came with"));
}

static void test_check_language(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	/* auto and native never contradict; a native program or shell may start the runtime itself */
	assert_int_equal(rt_check_language(RT_AUTO, "/bin/sh", NULL, 0, &e), 0);
	assert_int_equal(rt_check_language(RT_NATIVE, "/bin/sh", NULL, 0, &e), 0);
	assert_int_equal(rt_check_language(RT_PYTHON, "/bin/sh", NULL, 0, &e), 0);
	assert_int_equal(rt_check_language(RT_GO, "/bin/sh", NULL, 0, &e), 0);
	if (access("/usr/bin/python3", X_OK))
		skip();
	assert_int_equal(rt_check_language(RT_PYTHON, "/usr/bin/python3", NULL, 0, &e), 0);
	assert_int_equal(rt_check_language(RT_GO, "/usr/bin/python3", NULL, 0, &e), -1);
	assert_string_equal(e.msg, "--language go does not fit '/usr/bin/python3': it is Python (from its executable); "
				   "give --language python, or auto");
	/* this process is native: a --pid check passes */
	uint32_t self = (uint32_t)getpid();
	assert_int_equal(rt_check_language(RT_JAVA, NULL, &self, 1, &e), 0);
}

static void test_language_missing(void **state)
{
	struct profile *p = profile_new(0);
	struct frame f = { 0 };

	(void)state;
	f.function = profile_intern_str(p, "main");
	f.kind = FRAME_NATIVE;
	profile_frame(p, &f);
	assert_null(rt_language_missing(RT_AUTO, p, "/bin/true", NULL, 0));
	char *m = rt_language_missing(RT_JAVA, p, "/bin/true", NULL, 0);
	assert_non_null(m);
	assert_non_null(strstr(m, "--language java, but the profile has no Java frames: '/bin/true' is native code"));
	free(m);
	f.function = profile_intern_str(p, "Hot.hot(int)");
	f.kind = FRAME_JAVA;
	profile_frame(p, &f);
	assert_null(rt_language_missing(RT_JAVA, p, "/bin/true", NULL, 0));
	m = rt_language_missing(RT_PYTHON, p, "/bin/true", NULL, 0);
	assert_non_null(m);
	free(m);
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_python_version_hint),
		cmocka_unit_test(test_check_language),
		cmocka_unit_test(test_language_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
