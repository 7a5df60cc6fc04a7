/*
 * Driver of bench/store.sh: a fleet's profiles through kiln serve's storage interface (store.h), for any
 * backend. SERIES series (10 per service) each store one CPU profile every INTERVAL seconds for HOURS hours
 * of simulated time; a profile holds STACKS stacks drawn from the service's POOL stacks. W writer threads
 * ingest it as fast as they can in batches of BATCH profiles: on PostgreSQL each with its own store handle (as
 * separate server processes would be), on SQLite all through one handle (one server owns a directory, and its
 * request threads share the store); the ack latency is a store_ingest() call, as a request waits for it. Then:
 * compaction, merged queries of one service over 1 h and over the whole span (p50 of REPEAT runs each), all
 * series over the whole span, bytes per profile, the time retention takes to drop a day and the peak RSS.
 * Prints one JSON object.
 *
 * usage: store_bench LOCATION [series hours interval stacks pool writers batch repeat]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include "core/err.h"
#include "profile/profile.h"
#include "server/series.h"
#include "server/store.h"

#define SEC 1000000000LL
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)
#define BASE (20400 * DAY)

static const char *location;
static struct store *shared; /* SQLite: the one handle of every writer */
static int nseries = 100, hours = 6, interval = 10, nstacks = 200, pool = 5000, writers = 2, batch = 1,
	   repeat = 5;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Stack `i` of service `svc`: a deterministic path of 8..31 frames from a vocabulary of 2,000 names. */
static uint32_t pool_stack(struct profile *p, int svc, int i)
{
	uint64_t s = (uint64_t)(svc * 100003 + i) * 0x9e3779b97f4a7c15ULL | 1;
	int depth = 8 + (int)(rnd(&s) % 24);
	uint32_t node = 0;
	char name[48];

	for (int d = 0; d < depth; d++) {
		/* Shallow frames are shared widely, deep ones are not: like real call trees. */
		unsigned f = d < 4 ? (unsigned)(svc * 10 + d) : (unsigned)(rnd(&s) % (d < 10 ? 200 : 2000));

		snprintf(name, sizeof(name), "svc%d::fn_%u", d < 4 ? svc : 0, f);
		node = profile_node(p, node, profile_frame_named(p, name, strlen(name), FRAME_NATIVE));
	}
	return node;
}

static struct profile *make_profile(int series, int64_t t)
{
	struct profile *p = profile_new(0);
	uint64_t s = (uint64_t)(series * 7919 + t / SEC) | 1;

	profile_add_column(p, "cpu", "nanoseconds");
	for (int i = 0; i < nstacks; i++)
		profile_add_sample1(p, pool_stack(p, series / 10, (int)(rnd(&s) % (uint64_t)pool)), 0,
				    (int64_t)(1 + rnd(&s) % 50) * 10000000);
	return p;
}

struct writer {
	int id;
	double *lat; /* seconds per store_ingest call */
	size_t nlat;
	long stored;
	char err[1024];
};

static void labels_of(int series, char *svc, char *inst, struct label_pair *l)
{
	snprintf(svc, 32, "svc%d", series / 10);
	snprintf(inst, 32, "host%d", series % 10);
	l[0] = (struct label_pair){ "instance", inst };
	l[1] = (struct label_pair){ "service_name", svc };
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct store_opts o = { location, 0, false };
	struct err e = ERR_INIT;
	struct store *s = shared ? shared : store_open(&o, &e);
	long steps = (long)hours * 3600 / interval;
	struct store_write *wr = calloc((size_t)batch, sizeof(*wr));
	struct label_pair (*l)[2] = calloc((size_t)batch, sizeof(*l));
	char (*svc)[32] = calloc((size_t)batch, 32), (*inst)[32] = calloc((size_t)batch, 32);
	int n = 0;

	if (!s) {
		snprintf(w->err, sizeof(w->err), "%s", e.msg);
		return NULL;
	}
	w->lat = calloc((size_t)(steps * nseries / batch + 2), sizeof(double));
	/* Writer k takes the series k, k + W, ...: every series has one writer, like one agent per process. */
	for (long step = 0; step < steps; step++) {
		for (int series = w->id; series < nseries; series += writers) {
			int64_t t = BASE + step * interval * SEC;

			labels_of(series, svc[n], inst[n], l[n]);
			wr[n] = (struct store_write){ "", "process_cpu:cpu:nanoseconds:cpu:nanoseconds", l[n], 2, t,
						      t + interval * SEC, make_profile(series, t), 0 };
			if (++n < batch)
				continue;
			double t0 = now_s();

			if (store_ingest(s, wr, (size_t)n, &e)) {
				snprintf(w->err, sizeof(w->err), "%s", e.msg);
				goto out;
			}
			w->lat[w->nlat++] = now_s() - t0;
			w->stored += n;
			for (int i = 0; i < n; i++)
				profile_free((struct profile *)wr[i].prof);
			n = 0;
		}
	}
out:
	for (int i = 0; i < n; i++)
		profile_free((struct profile *)wr[i].prof);
	free(wr), free(l), free(svc), free(inst);
	if (s != shared)
		store_close(s);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double p)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(size_t)((double)(n - 1) * p)];
}

/* p50 seconds of a merged query; `samples` receives the merged total. */
static double query_p50(struct store *s, const struct selector *sel, int64_t from, int64_t until, int64_t *total)
{
	double t[64];
	struct err e = ERR_INIT;

	for (int i = 0; i < repeat && i < 64; i++) {
		struct store_query q = { "", "process_cpu:cpu:nanoseconds:cpu:nanoseconds", sel, from, until };
		struct profile *p = profile_new(0);
		double t0 = now_s();

		if (store_select_merge(s, &q, p, &e)) {
			fprintf(stderr, "store_bench: query: %s\n", e.msg);
			exit(1);
		}
		t[i] = now_s() - t0;
		*total = profile_total(p, 0);
		profile_free(p);
	}
	return pct(t, (size_t)(repeat < 64 ? repeat : 64), 0.5);
}

static double peak_rss_mb(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) ? 0 : (double)ru.ru_maxrss / 1024;
}

int main(int argc, char **argv)
{
	int *params[] = { &nseries, &hours, &interval, &nstacks, &pool, &writers, &batch, &repeat };
	pthread_t th[64];
	struct writer w[64];
	double t0, ingest_s, *lat, compact_s, drop_s;
	size_t nlat = 0;
	long stored = 0;
	struct err e = ERR_INIT;
	struct store *s;
	struct store_stats st;
	struct label_matcher m = { "service_name", "svc0", MATCH_EQ, NULL };
	struct selector one = { &m, 1, NULL };
	int64_t end, tot1, tot_all, tot_fleet;

	if (argc < 2) {
		fprintf(stderr, "usage: store_bench LOCATION [series hours interval stacks pool writers batch repeat]\n");
		return 2;
	}
	location = argv[1];
	for (int i = 2; i < argc && i - 2 < 8; i++)
		*params[i - 2] = atoi(argv[i]);
	if (writers < 0 || writers > 64 || batch < 1)
		return 2;
	if (strncmp(location, "postgres", 8)) {
		shared = store_open(&(struct store_opts){ location, 0, false }, &e);
		if (!shared) {
			fprintf(stderr, "store_bench: %s\n", e.msg);
			return 1;
		}
	}
	t0 = now_s();
	for (int i = 0; i < writers; i++) {
		w[i] = (struct writer){ i, NULL, 0, 0, "" };
		pthread_create(&th[i], NULL, writer_main, &w[i]);
	}
	for (int i = 0; i < writers; i++)
		pthread_join(th[i], NULL);
	ingest_s = now_s() - t0;
	store_close(shared);
	lat = calloc(1, sizeof(double));
	for (int i = 0; i < writers; i++) {
		if (w[i].err[0]) {
			fprintf(stderr, "store_bench: writer %d: %s\n", i, w[i].err);
			return 1;
		}
		lat = realloc(lat, (nlat + w[i].nlat + 1) * sizeof(double));
		memcpy(lat + nlat, w[i].lat, w[i].nlat * sizeof(double));
		nlat += w[i].nlat;
		stored += w[i].stored;
		free(w[i].lat);
	}

	s = store_open(&(struct store_opts){ location, DAY, false }, &e);
	if (!s) {
		fprintf(stderr, "store_bench: %s\n", e.msg);
		return 1;
	}
	end = BASE + (int64_t)hours * HOUR;
	t0 = now_s();
	while (store_compact(s, end + HOUR, &e) > 0)
		;
	compact_s = now_s() - t0;
	double q1 = query_p50(s, &one, end - HOUR, end, &tot1);
	double qall = query_p50(s, &one, BASE, end, &tot_all);
	double qfleet = query_p50(s, NULL, BASE, end, &tot_fleet);

	if (store_stats(s, &st, &e)) {
		fprintf(stderr, "store_bench: %s\n", e.msg);
		return 1;
	}
	/* Retention: a day later than the data's first day plus the retention drops that first day. */
	t0 = now_s();
	int dropped = store_enforce_retention(s, BASE + 2 * DAY + HOUR, &e);
	drop_s = now_s() - t0;
	printf("{\"location\":\"%s\",\"profiles\":%ld,\"ingest_s\":%.3f,\"profiles_per_s\":%.0f,"
	       "\"ack_p50_ms\":%.2f,\"ack_p99_ms\":%.2f,\"compact_s\":%.3f,\"query_1h_p50_ms\":%.1f,"
	       "\"query_span_p50_ms\":%.1f,\"query_fleet_span_p50_ms\":%.1f,\"total_1h\":%lld,\"total_span\":%lld,"
	       "\"total_fleet\":%lld,\"bytes_per_profile\":%.0f,\"retention_dropped\":%d,\"retention_drop_ms\":%.1f,"
	       "\"peak_rss_mb\":%.1f}\n",
	       location, stored, ingest_s, (double)stored / ingest_s, pct(lat, nlat, 0.5) * 1e3,
	       pct(lat, nlat, 0.99) * 1e3, compact_s, q1 * 1e3, qall * 1e3, qfleet * 1e3, (long long)tot1,
	       (long long)tot_all, (long long)tot_fleet, st.profiles ? (double)st.bytes / (double)st.profiles : 0,
	       dropped, drop_s * 1e3, peak_rss_mb());
	free(lat);
	store_close(s);
	return 0;
}
