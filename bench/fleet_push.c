/*
 * The fleet of bench/serve-fleet.py: generates SERIES services' profiles and pushes them to a kiln serve (or any
 * Pyroscope-compatible server) over CONNECTIONS keep-alive connections, as fast as the server acknowledges.
 * In C, so that on a 2-core machine the figure is the server's and not the load generator's (a Python client
 * spent more CPU building and sending requests than the server spent storing them).
 *
 * Series s is service "svcS" (label pod=pS) with STACKS distinct stacks: root-to-leaf paths of a random call
 * tree (callers share prefixes, as in real programs), 5 to 17 frames deep, over 400 function names. Every 10 s
 * of simulated time from START, each series pushes one folded CPU profile of PER_PROFILE of its stacks, each
 * with 1 to 50 samples; requests go out in time order, all series of a step before the next step. Everything
 * is a function of (series, step), whichever connection sends it.
 *
 * Prints "ingest N OK ERRORS SECONDS", "latency P50 P99 MAX" (seconds, per request) and per series
 * "sum S SAMPLES" (the samples sent, for the queries' check).
 *
 * usage: fleet_push URL SERIES STEPS START STACKS PER_PROFILE CONNECTIONS
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#define DEPTH_MIN 5
#define DEPTH_MAX 17
#define NAMES 400

static const char *url;
static int nseries, steps, nstacks, per_profile, conns;
static long long start;
static char ***stacks; /* [series][stack] folded text */
static size_t next_job, total_jobs;
static double *lat; /* per job; < 0: failed */
static long long *sums;
static pthread_mutex_t sums_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t rnd(uint64_t *s)
{
	/* splitmix64: good enough, and the same on every machine */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The stacks of series s: distinct paths of the tree (a path is its last node: node = 6 * parent + 1..6). */
static void make_stacks(int s)
{
	uint64_t seed = (uint64_t)s * 1000003 + 17, *seen;
	size_t cap = 1, mask, n = 0;
	char buf[4096];

	while (cap < (size_t)nstacks * 2)
		cap *= 2;
	mask = cap - 1;
	seen = calloc(cap, sizeof(*seen));
	stacks[s] = calloc((size_t)nstacks, sizeof(char *));
	while (n < (size_t)nstacks) {
		int depth = DEPTH_MIN + (int)(rnd(&seed) % (DEPTH_MAX - DEPTH_MIN + 1)), len;
		uint64_t node = 0, h;
		size_t at;

		len = snprintf(buf, sizeof(buf), "main");
		for (int d = 1; d < depth; d++) {
			node = node * 6 + rnd(&seed) % 6 + 1;
			h = node * 0x9e3779b97f4a7c15ULL ^ (uint64_t)s;
			len += snprintf(buf + len, sizeof(buf) - (size_t)len, ";svc%d::fn%u", s,
					(unsigned)((h >> 17) % NAMES));
		}
		for (at = node & mask; seen[at] && seen[at] != node + 1; at = (at + 1) & mask)
			;
		if (seen[at])
			continue;
		seen[at] = node + 1;
		stacks[s][n++] = strdup(buf);
	}
	free(seen);
}

struct body {
	char *buf;
	size_t len, alloc;
};

static void add(struct body *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->alloc) {
		b->alloc = (b->len + n + 1) * 2;
		b->buf = realloc(b->buf, b->alloc);
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

/* The folded profile of series s at step `step`; returns its samples. */
static long long make_body(int s, int step, int *idx, struct body *b)
{
	uint64_t seed = ((uint64_t)s << 32) ^ (uint64_t)step ^ 0x5bd1e995;
	long long samples = 0;
	char num[32];

	b->len = 0;
	for (int i = 0; i < nstacks; i++)
		idx[i] = i;
	for (int i = 0; i < per_profile; i++) {
		int j = i + (int)(rnd(&seed) % (uint64_t)(nstacks - i)), t = idx[i], v = 1 + (int)(rnd(&seed) % 50);

		idx[i] = idx[j];
		idx[j] = t;
		add(b, stacks[s][idx[i]], strlen(stacks[s][idx[i]]));
		add(b, num, (size_t)snprintf(num, sizeof(num), " %d\n", v));
		samples += v;
	}
	return samples;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	return size * n;
}

static void *pusher(void *arg)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdr = curl_slist_append(NULL, "Expect:"); /* no 100-continue round trip */
	struct body b = { 0 };
	int *idx = calloc((size_t)nstacks, sizeof(*idx));
	char target[512];

	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	for (;;) {
		size_t j = __atomic_fetch_add(&next_job, 1, __ATOMIC_RELAXED);
		int s, step;
		long long t, samples;
		long status = 0;
		double t0;

		if (j >= total_jobs)
			break;
		s = (int)(j % (size_t)nseries);
		step = (int)(j / (size_t)nseries);
		t = start + 10LL * step;
		samples = make_body(s, step, idx, &b);
		snprintf(target, sizeof(target), "%s/ingest?name=svc%d.cpu%%7Bpod%%3Dp%d%%7D&from=%lld&until=%lld", url, s,
			 s, t, t + 10);
		curl_easy_setopt(c, CURLOPT_URL, target);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, b.buf);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)b.len);
		t0 = now_s();
		if (curl_easy_perform(c) == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		lat[j] = status == 200 ? now_s() - t0 : -1;
		if (status == 200) {
			pthread_mutex_lock(&sums_lock);
			sums[s] += samples;
			pthread_mutex_unlock(&sums_lock);
		}
	}
	free(idx);
	free(b.buf);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	pthread_t *th;
	size_t ok = 0;
	double t0, dt;

	if (argc != 8) {
		fprintf(stderr, "usage: fleet_push URL SERIES STEPS START STACKS PER_PROFILE CONNECTIONS\n");
		return 2;
	}
	url = argv[1];
	nseries = atoi(argv[2]);
	steps = atoi(argv[3]);
	start = atoll(argv[4]);
	nstacks = atoi(argv[5]);
	per_profile = atoi(argv[6]);
	conns = atoi(argv[7]);
	if (nseries < 1 || steps < 1 || nstacks < 1 || per_profile < 1 || per_profile > nstacks || conns < 1) {
		fprintf(stderr, "fleet_push: bad arguments\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	stacks = calloc((size_t)nseries, sizeof(*stacks));
	for (int s = 0; s < nseries; s++)
		make_stacks(s);
	total_jobs = (size_t)nseries * (size_t)steps;
	lat = calloc(total_jobs, sizeof(*lat));
	sums = calloc((size_t)nseries, sizeof(*sums));
	th = calloc((size_t)conns, sizeof(*th));
	t0 = now_s();
	for (int i = 0; i < conns; i++)
		pthread_create(&th[i], NULL, pusher, NULL);
	for (int i = 0; i < conns; i++)
		pthread_join(th[i], NULL);
	dt = now_s() - t0;
	for (size_t j = 0; j < total_jobs; j++)
		if (lat[j] >= 0)
			lat[ok++] = lat[j];
	qsort(lat, ok, sizeof(*lat), cmp_double);
	printf("ingest %zu %zu %zu %.3f\n", total_jobs, ok, total_jobs - ok, dt);
	if (ok)
		printf("latency %.6f %.6f %.6f\n", lat[ok / 2], lat[ok * 99 / 100], lat[ok - 1]);
	for (int s = 0; s < nseries; s++)
		printf("sum %d %lld\n", s, sums[s]);
	curl_global_cleanup();
	return ok == total_jobs ? 0 : 1;
}
