/*
 * The fleet of bench/serve-fleet.py: generates SERIES services' profiles and pushes them to a kiln serve (or any
 * Pyroscope-compatible server) over CONNECTIONS keep-alive connections, as fast as the server acknowledges.
 * In C, so that on a 2-core machine the figure is the server's and not the load generator's (a Python client
 * spent more CPU building and sending requests than the server spent storing them), and over plain sockets:
 * libcurl took 0.17 ms of CPU a request, a third of what the server took to store it, on the same two cores.
 * Each connection is HTTP/1.1 keep-alive, one request in flight, reconnecting after an error.
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
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define DEPTH_MIN 5
#define DEPTH_MAX 17
#define NAMES 400

static char host[256], port[16], prefix[256]; /* from the URL: http://HOST:PORT/PREFIX */
static int nseries, steps, nstacks, per_profile, conns;
static long long start;
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

/*
 * The stacks of series s: distinct paths of the tree, each kept as its last node (node = 6 * parent + 1..6, so
 * the path is the node's ancestors), and its text made when a body needs it from the series' 400 names: the
 * texts of 100 x 5,000 stacks would take 70 MB, and reading 200 of them at random per request made the
 * client's CPU a request mostly cache misses.
 */
static uint64_t **leaf;           /* [series][stack] */
static char (**names)[32];        /* [series][name] */
static size_t **name_len;

static unsigned name_of(int s, uint64_t node)
{
	uint64_t h = node * 0x9e3779b97f4a7c15ULL ^ (uint64_t)s;

	return (unsigned)((h >> 17) % NAMES);
}

static void make_stacks(int s)
{
	uint64_t seed = (uint64_t)s * 1000003 + 17, *seen;
	size_t cap = 1, mask, n = 0;

	names[s] = calloc(NAMES, sizeof(*names[s]));
	name_len[s] = calloc(NAMES, sizeof(size_t));
	for (int k = 0; k < NAMES; k++)
		name_len[s][k] = (size_t)snprintf(names[s][k], sizeof(names[s][k]), ";svc%d::fn%u", s, (unsigned)k);
	while (cap < (size_t)nstacks * 2)
		cap *= 2;
	mask = cap - 1;
	seen = calloc(cap, sizeof(*seen));
	leaf[s] = calloc((size_t)nstacks, sizeof(*leaf[s]));
	while (n < (size_t)nstacks) {
		int depth = DEPTH_MIN + (int)(rnd(&seed) % (DEPTH_MAX - DEPTH_MIN + 1));
		uint64_t node = 0;
		size_t at;

		for (int d = 1; d < depth; d++)
			node = node * 6 + rnd(&seed) % 6 + 1;
		for (at = node & mask; seen[at] && seen[at] != node + 1; at = (at + 1) & mask)
			;
		if (seen[at])
			continue;
		seen[at] = node + 1;
		leaf[s][n++] = node;
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

/* "main;svcS::fnA;svcS::fnB;..." down to `node`. */
static void add_stack(struct body *b, int s, uint64_t node)
{
	uint64_t path[DEPTH_MAX];
	int n = 0;

	for (; node; node = (node - 1) / 6)
		path[n++] = node;
	add(b, "main", 4);
	while (n--) {
		unsigned k = name_of(s, path[n]);

		add(b, names[s][k], name_len[s][k]);
	}
}

/*
 * The folded profile of series s at step `step`; returns its samples. PER_PROFILE distinct stacks by a partial
 * Fisher-Yates shuffle of `idx` (the identity permutation), whose swaps are undone after, in reverse.
 */
static long long make_body(int s, int step, int *idx, int *swaps, struct body *b)
{
	uint64_t seed = ((uint64_t)s << 32) ^ (uint64_t)step ^ 0x5bd1e995;
	long long samples = 0;
	char num[32];

	b->len = 0;
	for (int i = 0; i < per_profile; i++) {
		int j = i + (int)(rnd(&seed) % (uint64_t)(nstacks - i)), t = idx[i], v = 1 + (int)(rnd(&seed) % 50);

		idx[i] = idx[j];
		idx[j] = t;
		swaps[i] = j;
		add_stack(b, s, leaf[s][idx[i]]);
		add(b, num, (size_t)snprintf(num, sizeof(num), " %d\n", v));
		samples += v;
	}
	for (int i = per_profile - 1; i >= 0; i--) {
		int j = swaps[i], t = idx[i];

		idx[i] = idx[j];
		idx[j] = t;
	}
	return samples;
}

static int connect_server(void)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;
	int fd = -1, one = 1;

	if (getaddrinfo(host, port, &hints, &ai))
		return -1;
	for (a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		if (!connect(fd, a->ai_addr, a->ai_addrlen))
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int write_all(int fd, struct iovec *iov, int n)
{
	while (n) {
		ssize_t w = writev(fd, iov, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		while (n && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++, n--;
		}
		if (n) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/*
 * Reads one response: the status line and headers, then Content-Length bytes of body (kiln serve and Pyroscope
 * answer an ingest with a length, 0 on success). Returns the status, or -1 when the connection failed or will
 * be closed (`*keep` = 0).
 */
static int read_response(int fd, int *keep)
{
	char buf[8192];
	size_t have = 0;
	char *end = NULL;
	long status = -1, clen = 0;

	*keep = 0;
	while (!end) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = 0;
		end = strstr(buf, "\r\n\r\n");
		if (!end && have == sizeof(buf) - 1)
			return -1;
	}
	if (strncmp(buf, "HTTP/1.", 7) || have < 12)
		return -1;
	status = strtol(buf + 9, NULL, 10);
	*keep = buf[7] == '1';
	for (char *l = strstr(buf, "\r\n") + 2; l < end; l = strstr(l, "\r\n") + 2) {
		if (!strncasecmp(l, "Content-Length:", 15))
			clen = strtol(l + 15, NULL, 10);
		else if (!strncasecmp(l, "Connection:", 11))
			*keep = !strncasecmp(l + 11 + strspn(l + 11, " "), "keep-alive", 10) ||
				(*keep && strncasecmp(l + 11 + strspn(l + 11, " "), "close", 5));
	}
	for (long left = clen - (long)(have - (size_t)(end + 4 - buf)); left > 0;) {
		ssize_t r = read(fd, buf, left < (long)sizeof(buf) ? (size_t)left : sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		left -= r;
	}
	return (int)status;
}

static void *pusher(void *unused)
{
	struct body b = { 0 };
	int *idx = calloc((size_t)nstacks, sizeof(*idx)), *swaps = calloc((size_t)per_profile, sizeof(*swaps));
	int fd = -1, keep;
	char head[1024];

	for (int i = 0; i < nstacks; i++)
		idx[i] = i;
	for (;;) {
		size_t j = __atomic_fetch_add(&next_job, 1, __ATOMIC_RELAXED);
		int s, step, status = -1;
		long long t, samples;
		double t0;

		if (j >= total_jobs)
			break;
		s = (int)(j % (size_t)nseries);
		step = (int)(j / (size_t)nseries);
		t = start + 10LL * step;
		samples = make_body(s, step, idx, swaps, &b);
		struct iovec iov[2] = {
			{ head, (size_t)snprintf(head, sizeof(head),
						 "POST %s/ingest?name=svc%d.cpu%%7Bpod%%3Dp%d%%7D&from=%lld&until=%lld"
						 " HTTP/1.1\r\nHost: %s:%s\r\nContent-Length: %zu\r\n\r\n",
						 prefix, s, s, t, t + 10, host, port, b.len) },
			{ b.buf, b.len },
		};
		t0 = now_s();
		if (fd < 0)
			fd = connect_server();
		if (fd >= 0 && !write_all(fd, iov, 2))
			status = read_response(fd, &keep);
		if (fd >= 0 && (status < 0 || !keep)) {
			close(fd);
			fd = -1;
		}
		lat[j] = status == 200 ? now_s() - t0 : -1;
		if (status == 200) {
			pthread_mutex_lock(&sums_lock);
			sums[s] += samples;
			pthread_mutex_unlock(&sums_lock);
		}
	}
	if (fd >= 0)
		close(fd);
	free(idx);
	free(swaps);
	free(b.buf);
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
	if (sscanf(argv[1], "http://%255[^:/]:%15[0-9]%255s", host, port, prefix) < 2) {
		fprintf(stderr, "fleet_push: the URL must be http://HOST:PORT[/PATH]\n");
		return 2;
	}
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
	leaf = calloc((size_t)nseries, sizeof(*leaf));
	names = calloc((size_t)nseries, sizeof(*names));
	name_len = calloc((size_t)nseries, sizeof(*name_len));
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
	return ok == total_jobs ? 0 : 1;
}
