/* /metrics (Prometheus text exposition format) and /ready of kiln serve. */
#include "server/server.h"
#include "server/stack_cache.h"

#include "core/err.h"
#include "core/util.h"
#include "server/store.h"

static const double ack_bounds_ms[METRICS_LATENCY_BUCKETS] = { 1, 2.5, 5, 10, 25, 50, 100, 250, 1000, 5000 };

static uint64_t get(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

void metrics_ack(struct server *srv, uint64_t ns, size_t bytes, size_t profiles)
{
	struct server_metrics *m = &srv->metrics;
	int i;

	for (i = 0; i < METRICS_LATENCY_BUCKETS - 1 && (double)ns / 1e6 > ack_bounds_ms[i]; i++)
		;
	if ((double)ns / 1e6 <= ack_bounds_ms[i])
		__atomic_add_fetch(&m->ack_le[i], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m->ack_count, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m->ack_sum_us, ns / 1000, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m->ingest_requests, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m->ingest_bytes, bytes, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m->ingested_profiles, profiles, __ATOMIC_RELAXED);
}

static void counter(struct buf *b, const char *name, const char *help, uint64_t v)
{
	buf_addf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, (unsigned long long)v);
}

static void gauge(struct buf *b, const char *name, const char *help, uint64_t v)
{
	buf_addf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n", name, help, name, name, (unsigned long long)v);
}

void metrics_handle(struct server *srv, struct http_request *req, struct http_response *res)
{
	const struct server_metrics *m = &srv->metrics;
	struct store_stats st;
	struct err e = ERR_INIT;
	struct buf *b = &res->body;
	uint64_t cum = 0;

	res->content_type = "text/plain; version=0.0.4; charset=utf-8";
	buf_adds(b, "# HELP kiln_http_requests_total HTTP requests answered, by status class.\n"
		    "# TYPE kiln_http_requests_total counter\n");
	for (int c = 1; c <= 5; c++)
		buf_addf(b, "kiln_http_requests_total{code=\"%dxx\"} %llu\n", c,
			 (unsigned long long)get(&m->requests[c]));
	buf_adds(b, "# HELP kiln_ingest_rejected_total Ingest requests refused, by status class.\n"
		    "# TYPE kiln_ingest_rejected_total counter\n");
	for (int c = 4; c <= 5; c++)
		buf_addf(b, "kiln_ingest_rejected_total{code=\"%dxx\"} %llu\n", c,
			 (unsigned long long)get(&m->rejected[c]));
	counter(b, "kiln_ingest_requests_total", "Ingest requests acknowledged.", get(&m->ingest_requests));
	counter(b, "kiln_ingest_bytes_total", "Request bytes of acknowledged ingests.", get(&m->ingest_bytes));
	counter(b, "kiln_ingested_profiles_total", "Profiles stored (one per series and sample type).",
		get(&m->ingested_profiles));
	buf_adds(b, "# HELP kiln_ingest_ack_seconds Time from a complete ingest request to its acknowledgement.\n"
		    "# TYPE kiln_ingest_ack_seconds histogram\n");
	for (int i = 0; i < METRICS_LATENCY_BUCKETS; i++) {
		cum += get(&m->ack_le[i]);
		buf_addf(b, "kiln_ingest_ack_seconds_bucket{le=\"%g\"} %llu\n", ack_bounds_ms[i] / 1000,
			 (unsigned long long)cum);
	}
	buf_addf(b, "kiln_ingest_ack_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)get(&m->ack_count));
	buf_addf(b, "kiln_ingest_ack_seconds_sum %.6f\n", (double)get(&m->ack_sum_us) / 1e6);
	buf_addf(b, "kiln_ingest_ack_seconds_count %llu\n", (unsigned long long)get(&m->ack_count));
	if (srv->stacks) {
		counter(b, "kiln_ingest_cached_bodies_total", "Folded bodies read by the stack cache, without parsing.",
			get(&m->cached_bodies));
		gauge(b, "kiln_stack_cache_entries", "Stacks in the stack cache.", stack_cache_size(srv->stacks));
	}
	if (!store_stats(srv->store, &st, &e)) {
		gauge(b, "kiln_store_profiles", "Profiles in the store.", st.profiles);
		gauge(b, "kiln_store_series", "Series in the store.", st.series);
		gauge(b, "kiln_store_stacks", "Distinct stacks in the store.", st.stacks);
		gauge(b, "kiln_store_bytes", "Bytes of the store's files.", st.bytes);
		gauge(b, "kiln_store_partitions", "Day partitions in the store.", st.partitions);
	}
	gauge(b, "kiln_uptime_seconds", "Seconds since the server started.", (now_ns() - srv->started_ns) / 1000000000);
}

void ready_handle(struct server *srv, struct http_request *req, struct http_response *res)
{
	res->content_type = "text/plain; charset=utf-8";
	buf_adds(&res->body, "ready\n");
}
