/* kiln serve: a Pyroscope-compatible continuous-profiling server (src/server/), until Ctrl-C or SIGTERM. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/err.h"
#include "../core/options.h"
#include "../core/util.h"
#include "../server/bench_store.h"
#include "../server/http.h"
#include "../server/server.h"
#include "../server/store.h"
#include "../server/stack_cache.h"
#include "cmds.h"

struct serve_opts {
	const char *listen, *storage, *read_from, *retention, *auth_file;
	long long max_body, max_samples, max_labels, max_series;
	double rate;
	long long bench_samples, bench_runs, benchmarks, stack_cache;
};

static const struct cmd_help serve_help = {
	.name = "serve",
	.usage = "kiln serve [--listen 127.0.0.1:4040] [--storage DIR|postgres://...] [--retention 30d]\n"
		 "           [--read-from postgres://...] [--auth-file FILE] [LIMITS]",
	.description = "Stores profiles pushed by Pyroscope's clients unchanged (POST /ingest with folded, lines, "
		       "pprof or speedscope bodies, gzip or not, raw or multipart) and by 'kiln profile --push', "
		       "and answers queries. Storage is SQLite files under DIR, one per day, so retention deletes "
		       "whole days. A request is acknowledged only once its profiles are on disk. Listens on "
		       "127.0.0.1 unless told otherwise; with --auth-file every push and query needs a bearer "
		       "token, each scoped to a tenant (X-Scope-OrgID) and roles. /metrics has Prometheus "
		       "counters, /ready says when the server accepts requests. Ctrl-C or SIGTERM stops it "
		       "cleanly: requests in flight finish first.",
	.examples = "kiln serve --storage /var/lib/kiln\n"
		    "kiln serve --listen 0.0.0.0:4040 --auth-file tokens.txt --retention 7d\n"
		    "printf 'main;work 10\\n' | curl --data-binary @- 'http://127.0.0.1:4040/ingest?name=app'\n"
		    "# tokens.txt: one 'TOKEN TENANT push,read' per line",
};

/* "30d", "12h", "90m", "3600s", "2w", or "0" for no limit. */
static int parse_retention(const char *s, int64_t *out, struct err *e)
{
	char *end;
	long long n = strtoll(s, &end, 10);
	int64_t unit;

	if (end == s || n < 0)
		return err_set(e, "invalid --retention '%s' (e.g. 30d, 12h, 0 for none)", s);
	switch (*end) {
	case '\0': unit = n ? -1 : 0; break;
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: unit = -1; break;
	}
	if (unit < 0 || (*end && end[1]) || n > INT64_MAX / 1000000000LL / (unit ? unit : 1))
		return err_set(e, "invalid --retention '%s' (e.g. 30d, 12h, 0 for none)", s);
	*out = (int64_t)n * unit * 1000000000LL;
	return 0;
}

/*
 * Runs until SIGINT or SIGTERM: every 10 s, compaction (rollups of the hours that have settled, so that long
 * queries read pre-merged data; when there is none to do, a look at the watermarks: a backfill's last hours are
 * rolled up within seconds of settling, not up to a minute later); at start and every hour, retention.
 */
static void serve_loop(struct store *store, const sigset_t *stop)
{
	struct timespec tick = { 10, 0 };
	struct err e = ERR_INIT;
	int64_t next_retention = 0;

	for (;;) {
		struct timespec now;
		int64_t wall_ns;
		int sig;
		uint64_t t0 = now_ns();
		int dropped;

		clock_gettime(CLOCK_REALTIME, &now);
		wall_ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
		if (wall_ns >= next_retention) {
			dropped = store_enforce_retention(store, wall_ns, &e);
			if (dropped < 0)
				warning_msg("retention: %s", e.msg);
			else if (dropped > 0)
				fprintf(stderr, "kiln: retention dropped %d day%s in %.1f ms\n", dropped,
					dropped == 1 ? "" : "s", (double)(now_ns() - t0) / 1e6);
			next_retention = wall_ns + 3600 * 1000000000LL;
		}
		if (store_compact(store, wall_ns, &e) < 0)
			warning_msg("compaction: %s", e.msg);
		sig = sigtimedwait(stop, NULL, &tick);
		if (sig == SIGINT || sig == SIGTERM)
			return;
		if (sig < 0 && errno != EAGAIN && errno != EINTR)
			return;
	}
}

int cmd_serve(int argc, char **argv)
{
	struct serve_opts o = { "127.0.0.1:4040", "kiln-data", NULL, "30d", NULL, 4 << 20, 16000, 30, 0, 0, 100000, 100000, 1000,
				1 << 20 };
	struct bench_limits bl;
	struct server srv = { .limits = SERVER_LIMITS_DEFAULT };
	struct store_opts so = { 0 };
	struct http_server *http = NULL;
	struct err e = ERR_INIT;
	sigset_t stop;
	int ret = EXIT_USAGE;

	const struct option opts[] = {
		OPT_STRING(0, "listen", &o.listen, "HOST:PORT", "address to listen on (default 127.0.0.1:4040)"),
		OPT_STRING(0, "storage", &o.storage, "DIR|URL", "SQLite directory (default ./kiln-data) or a postgres:// URL"),
		OPT_STRING(0, "read-from", &o.read_from, "URL",
			   "with PostgreSQL storage: answer queries from this streaming replica"),
		OPT_STRING(0, "retention", &o.retention, "DURATION", "keep profiles this long (default 30d; 0: forever)"),
		OPT_STRING(0, "auth-file", &o.auth_file, "FILE", "bearer tokens: 'TOKEN TENANT push,read' per line"),
		OPT_GROUP("Limits"),
		OPT_INT(0, "max-body", &o.max_body, "BYTES", "request body, and profile after gunzip (413)", 1024,
			1LL << 32),
		OPT_INT(0, "max-samples", &o.max_samples, "N", "samples per profile (400)", 1, 1LL << 30),
		OPT_INT(0, "max-labels", &o.max_labels, "N", "labels per series (400)", 1, 1000),
		OPT_INT(0, "max-series", &o.max_series, "N", "series per tenant, 0: no limit (429)", 0, 1LL << 40),
		OPT_DOUBLE(0, "rate-limit", &o.rate, "N", "requests per second per tenant, 0: no limit (429)", 0, 1e9),
		OPT_INT(0, "max-bench-samples", &o.bench_samples, "N", "samples per benchmark run, 0: no limit (400)", 0,
			1LL << 40),
		OPT_INT(0, "max-bench-runs", &o.bench_runs, "N", "benchmark runs per tenant, 0: no limit (429)", 0, 1LL << 40),
		OPT_INT(0, "max-benchmarks", &o.benchmarks, "N", "benchmark names per tenant, 0: no limit (429)", 0, 1LL << 40),
		OPT_GROUP("Memory"),
		OPT_INT(0, "stack-cache", &o.stack_cache, "N",
			"folded stacks kept for a fast ingest, 32 bytes each (default 1048576; 0: none)",
			0, 1LL << 30),
		OPT_END(),
	};

	argc = parse_options(argc, argv, opts, &serve_help, 0);
	if (argc < 0)
		return argc == PARSE_HELP ? 0 : EXIT_USAGE;
	if (argc > 0)
		return usage_error(&serve_help, "unexpected argument '%s'", argv[0]);
	if (parse_retention(o.retention, &so.retention_ns, &e))
		return usage_error(&serve_help, "%s", e.msg);
	so.location = o.storage;
	so.read_location = o.read_from;
	so.max_series = (uint64_t)o.max_series;
	so.settle_ns = 30 * 1000000000LL; /* hours still being written (a backfill) are rolled up once they settle */
	srv.limits = (struct server_limits){ (size_t)o.max_body, (size_t)o.max_samples, (size_t)o.max_labels,
					     (uint64_t)o.max_series, o.rate };
	srv.retention_ns = so.retention_ns;
	srv.started_ns = now_ns();

	/* Signals are taken by sigtimedwait() in this thread only: every thread started below inherits the mask. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (o.auth_file && !(srv.auth = auth_load(o.auth_file, &e)))
		goto fail;
	if (o.rate > 0)
		srv.rate = ratelimit_new(o.rate);
	if (!(srv.store = store_open(&so, &e)))
		goto fail;
	/* A fleet's stacks by their folded text. (SQLite only for now: the PostgreSQL writer is being reworked.) */
	if (o.stack_cache && !store_is_postgres(o.storage))
		srv.stacks = stack_cache_new((size_t)o.stack_cache);
	/* Benchmark runs are an extra: when their store cannot open, their endpoints answer 501 with why. */
	bl = (struct bench_limits){ (size_t)o.bench_samples, (uint64_t)o.bench_runs, (uint64_t)o.benchmarks,
				    so.retention_ns / 1000000000 };
	if (!(srv.bench = bench_store_open(o.storage, &bl, &e)))
		snprintf(srv.bench_note, sizeof(srv.bench_note), "%.255s", e.msg);
	e = (struct err)ERR_INIT;
	http = http_start(&(struct http_server_opts){ .listen = o.listen, .max_body = (size_t)o.max_body,
						      .handler = router_handle, .arg = &srv }, &e);
	if (!http)
		goto fail;
	fprintf(stderr, "kiln: serving on http://%s (storage '%s')\n", http_address(http), o.storage);
	serve_loop(srv.store, &stop);
	fprintf(stderr, "kiln: stopping\n");
	ret = 0;
	goto out;
fail:
	error_msg("%s", e.msg);
out:
	http_stop(http); /* waits for the requests in flight, so that each acknowledged write is done */
	store_close(srv.store);
	stack_cache_free(srv.stacks);
	bench_store_close(srv.bench);
	auth_free(srv.auth);
	ratelimit_free(srv.rate);
	return ret;
}
