/*
 * The uploader of `kiln profile --push` (src/agent/push.c) against a stand-in server
 * (tests/helpers/fake_ingest.py): the wire format of Pyroscope's Go client, retries on 503 with backoff, no
 * retry on 400, the oldest windows dropped when the server is away, and every window accounted for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/push.h"
#include "core/err.h"
#include "profile/profile.h"

struct server {
	pid_t pid;
	int port;
	char log[64];
};

static int start_server(struct server *s, const char *extra)
{
	char cmd[512];
	char portfile[80];
	const char *root = getenv("KILN_ROOT");

	snprintf(s->log, sizeof(s->log), "/tmp/kiln-push-test.XXXXXX");
	close(mkstemp(s->log));
	snprintf(portfile, sizeof(portfile), "%s.port", s->log);
	s->pid = fork();
	if (s->pid == 0) {
		snprintf(cmd, sizeof(cmd), "exec python3 %s/tests/helpers/fake_ingest.py %s %s", root ? root : ".",
			 s->log, extra);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	s->port = 0;
	for (int i = 0; i < 300 && !s->port; i++) {
		FILE *f = fopen(portfile, "r");

		if (f) {
			if (fscanf(f, "%d", &s->port) != 1)
				s->port = 0;
			fclose(f);
		} else {
			usleep(20000);
		}
	}
	unlink(portfile);
	return s->port ? 0 : -1;
}

static void stop_server(struct server *s)
{
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	unlink(s->log);
}

/* The logged requests, as a JSON array. */
static json_t *requests(const struct server *s)
{
	FILE *f = fopen(s->log, "r");
	json_t *all = json_array();
	char line[65536];

	while (f && fgets(line, sizeof(line), f))
		json_array_append_new(all, json_loads(line, 0, NULL));
	if (f)
		fclose(f);
	return all;
}

static const char *query(json_t *req, const char *key)
{
	json_t *q = json_object_get(req, "query");
	size_t i;
	json_t *kv;

	json_array_foreach(q, i, kv)
		if (!strcmp(json_string_value(json_array_get(kv, 0)), key))
			return json_string_value(json_array_get(kv, 1));
	return NULL;
}

static struct profile *small_profile(void)
{
	struct profile *p = profile_new(0);
	uint32_t n = profile_node(p, 0, profile_frame_named(p, "main", 4, FRAME_NATIVE));

	profile_add_column(p, "samples", "count");
	profile_add_column(p, "cpu", "nanoseconds");
	profile_add_sample(p, profile_node(p, n, profile_frame_named(p, "work", 4, FRAME_NATIVE)), 0,
			   (int64_t[]){ 3, 30000000 });
	return p;
}

static void push_n(struct pusher *p, int n, int64_t first)
{
	struct profile *prof = small_profile();
	struct err e = ERR_INIT;

	for (int i = 0; i < n; i++)
		assert_int_equal(pusher_push(p, prof, first + i * 10000000000LL, first + (i + 1) * 10000000000LL, NULL, 0,
					     &e),
				 0);
	profile_free(prof);
}

static void test_wire_format(void **state)
{
	struct server s;
	char url[64];
	struct push_tag tags[] = { { "host", "box1" }, { "env", "test,a}b" } };
	struct push_opts o = { url, "my app", tags, 2, NULL, "team-a", "s3cret", 97, 0, 5000, 200, NULL };
	struct push_tag extra[] = { { "pid", "42" } };
	struct err e = ERR_INIT;
	struct pusher *p;
	struct push_stats st;
	struct profile *prof = small_profile();
	json_t *log, *r, *part;

	(void)state;
	assert_int_equal(start_server(&s, ""), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s.port);
	p = pusher_start(&o, &e);
	assert_non_null(p);
	assert_int_equal(pusher_push(p, prof, 1700000000000000000LL, 1700000010000000000LL, extra, 1, &e), 0);
	push_n(p, 2, 1700000010000000000LL);
	pusher_stop(p, 5000, &st);
	assert_int_equal(st.queued, 3);
	assert_int_equal(st.sent, 3);
	assert_int_equal(st.dropped + st.rejected + st.retries, 0);

	log = requests(&s);
	assert_int_equal(json_array_size(log), 3);
	r = json_array_get(log, 0);
	assert_string_equal(json_string_value(json_object_get(r, "path")), "/ingest");
	/* Pyroscope's name grammar has no escapes: characters it cannot carry became '_'. */
	assert_string_equal(query(r, "name"), "my_app{host=box1,env=test_a_b,pid=42}");
	assert_string_equal(query(r, "from"), "1700000000000000000");
	assert_string_equal(query(r, "until"), "1700000010000000000");
	assert_string_equal(query(r, "sampleRate"), "97");
	assert_string_equal(query(r, "spyName"), "kiln");
	assert_string_equal(query(r, "aggregationType"), "sum");
	/* Sorted keys, as pyroscope-go sends them. */
	assert_string_equal(json_string_value(json_array_get(json_array_get(json_object_get(r, "query"), 0), 0)),
			    "aggregationType");
	assert_string_equal(json_string_value(json_object_get(r, "tenant")), "team-a");
	assert_string_equal(json_string_value(json_object_get(r, "auth")), "Bearer s3cret");
	assert_int_equal(json_array_size(json_object_get(r, "parts")), 1);
	part = json_array_get(json_object_get(r, "parts"), 0);
	assert_string_equal(json_string_value(json_object_get(part, "name")), "profile");
	assert_string_equal(json_string_value(json_object_get(part, "filename")), "profile.pprof");
	assert_string_equal(json_string_value(json_object_get(part, "type")), "application/octet-stream");
	assert_true(json_is_true(json_object_get(part, "gzip")));
	assert_true(json_integer_value(json_object_get(part, "pprof_size")) > 20);
	/* The later windows abut. */
	assert_string_equal(query(json_array_get(log, 2), "from"), "1700000020000000000");
	assert_string_equal(query(json_array_get(log, 1), "name"), "my_app{host=box1,env=test_a_b}");
	json_decref(log);
	profile_free(prof);
	stop_server(&s);
}

/* Pushes `n` windows to a stand-in server started with `args` and stops the pusher (draining for up to 10 s). */
static void push_windows(struct server *s, const char *args, int n, struct push_stats *st)
{
	char url[64];
	struct push_opts o = { url, "app", NULL, 0, NULL, NULL, NULL, 0, 0, 5000, 100, NULL };
	struct err e = ERR_INIT;
	struct pusher *p;

	assert_int_equal(start_server(s, args), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", s->port);
	p = pusher_start(&o, &e);
	assert_non_null(p);
	push_n(p, n, 1700000000000000000LL);
	pusher_stop(p, 10000, st);
}

static void test_retry_then_sent(void **state)
{
	struct server s;
	struct push_stats st;
	json_t *log;

	(void)state;
	push_windows(&s, "--fail 2", 3, &st);
	/* Two 503s, each retried: everything arrives, in order. */
	assert_int_equal(st.sent, 3);
	assert_int_equal(st.retries, 2);
	assert_int_equal(st.dropped, 0);
	assert_non_null(strstr(st.last_error, "HTTP 503"));
	log = requests(&s);
	assert_int_equal(json_array_size(log), 5);
	assert_string_equal(query(json_array_get(log, 2), "from"), "1700000000000000000");
	assert_string_equal(query(json_array_get(log, 4), "from"), "1700000020000000000");
	json_decref(log);
	stop_server(&s);
}

static void test_rejected_not_retried(void **state)
{
	struct server s;
	struct push_stats st;

	(void)state;
	push_windows(&s, "--status 400 --message 'bad name'", 2, &st);
	assert_int_equal(st.rejected, 2);
	assert_int_equal(st.sent + st.retries + st.dropped, 0);
	assert_string_equal(st.last_error, "HTTP 400: bad name");
	stop_server(&s);
}

static void test_server_away(void **state)
{
	struct server s;
	char url[64];
	struct push_opts o = { url, "app", NULL, 0, NULL, NULL, NULL, 0, 4, 2000, 100, NULL };
	struct err e = ERR_INIT;
	struct pusher *p;
	struct push_stats st;

	(void)state;
	/* A port nobody listens on: the server we started and stopped. */
	assert_int_equal(start_server(&s, ""), 0);
	stop_server(&s);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
	p = pusher_start(&o, &e);
	push_n(p, 10, 1700000000000000000LL);
	usleep(300000);
	pusher_stats(p, &st);
	assert_int_equal(st.queued, 10);
	/* At most the queue (4) plus the window in flight wait; the oldest went first. */
	assert_true(st.dropped >= 5);
	pusher_stop(p, 0, &st);
	assert_int_equal(st.sent, 0);
	assert_int_equal(st.queued, st.sent + st.dropped + st.rejected);
	assert_true(st.retries >= 1);
	assert_non_null(strstr(st.last_error, "onnect"));
}

/* A heap or off-CPU upload (units ""), as pyroscope-go uploads heap profiles: no sampleRate, units or
 * aggregationType (the pprof says what its values are); the other parameters still sorted. */
static void test_no_units(void **state)
{
	struct server s;
	char url[64];
	struct push_opts o = { url, "heap", NULL, 0, NULL, NULL, NULL, 0, 0, 5000, 200, "" };
	struct err e = ERR_INIT;
	struct pusher *p;
	struct push_stats st;
	json_t *log, *r, *q;

	(void)state;
	assert_int_equal(start_server(&s, ""), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
	p = pusher_start(&o, &e);
	assert_non_null(p);
	push_n(p, 1, 1700000000000000000LL);
	pusher_stop(p, 5000, &st);
	assert_int_equal(st.sent, 1);
	log = requests(&s);
	r = json_array_get(log, 0);
	assert_null(query(r, "sampleRate"));
	assert_null(query(r, "units"));
	assert_null(query(r, "aggregationType"));
	assert_string_equal(query(r, "until"), "1700000010000000000");
	q = json_object_get(r, "query");
	assert_int_equal(json_array_size(q), 4);
	assert_string_equal(json_string_value(json_array_get(json_array_get(q, 0), 0)), "from");
	assert_string_equal(json_string_value(json_array_get(json_array_get(q, 3), 0)), "until");
	json_decref(log);
	stop_server(&s);
}

static void test_bad_options(void **state)
{
	struct push_opts o = { "ftp://x", "app", NULL, 0, NULL, NULL, NULL, 0, 0, 0, 0, NULL };
	struct err e = ERR_INIT;

	(void)state;
	assert_null(pusher_start(&o, &e));
	assert_non_null(strstr(e.msg, "not http"));
	o.url = "http://127.0.0.1:1";
	o.app = "";
	assert_null(pusher_start(&o, &e));
	assert_non_null(strstr(e.msg, "service name"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_format),	     cmocka_unit_test(test_retry_then_sent),
		cmocka_unit_test(test_rejected_not_retried), cmocka_unit_test(test_server_away),
		cmocka_unit_test(test_no_units),	     cmocka_unit_test(test_bad_options),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
