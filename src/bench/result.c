/* Benchmark result sets: series lookup by (name, metric), samples, summaries. */
#include "bench/result.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/stats.h"
#include "core/array.h"
#include "core/xalloc.h"

static uint64_t series_key(const char *name, const char *metric)
{
	uint64_t h = hash_bytes(name, strlen(name));

	h = hash_u64(h ^ hash_bytes(metric, strlen(metric)));
	return h == U64MAP_EMPTY ? 0 : h;
}

void bench_set_release(struct bench_set *s)
{
	size_t i;

	for (i = 0; i < s->nr; i++) {
		free(s->v[i].name);
		free(s->v[i].metric);
		free(s->v[i].unit);
		free(s->v[i].samples);
	}
	free(s->v);
	u64map_release(&s->index);
	for (i = 0; i < s->nwarnings; i++)
		free(s->warnings[i]);
	free(s->warnings);
	for (i = 0; i < s->nenv; i++) {
		free(s->env_keys[i]);
		free(s->env_values[i]);
	}
	free(s->env_keys);
	free(s->env_values);
	s->warnings = s->env_keys = s->env_values = NULL;
	s->nwarnings = s->awarnings = s->nenv = s->aenv = 0;
	s->v = NULL;
	s->nr = s->alloc = 0;
}

void bench_set_warn(struct bench_set *s, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	ALLOC_GROW(s->warnings, s->nwarnings + 1, s->awarnings);
	s->warnings[s->nwarnings++] = msg;
}

void bench_set_env(struct bench_set *s, const char *key, const char *value, size_t vlen)
{
	size_t old = s->aenv;

	if (bench_set_env_get(s, key))
		return;
	ALLOC_GROW(s->env_keys, s->nenv + 1, s->aenv);
	if (s->aenv != old)
		s->env_values = xrealloc(s->env_values, s->aenv * sizeof(*s->env_values));
	s->env_keys[s->nenv] = xstrdup(key);
	s->env_values[s->nenv++] = xstrndup(value, vlen);
}

const char *bench_set_env_get(const struct bench_set *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->nenv; i++)
		if (!strcmp(s->env_keys[i], key))
			return s->env_values[i];
	return NULL;
}

struct bench_series *bench_set_find(const struct bench_set *s, const char *name, const char *metric)
{
	uint64_t *slot = u64map_find(&s->index, series_key(name, metric));
	size_t i;

	if (!slot)
		return NULL;
	i = *slot - 1;
	if (!strcmp(s->v[i].name, name) && !strcmp(s->v[i].metric, metric))
		return &s->v[i];
	/* A hash collision: rare, so a scan is fine. */
	for (i = 0; i < s->nr; i++)
		if (!strcmp(s->v[i].name, name) && !strcmp(s->v[i].metric, metric))
			return &s->v[i];
	return NULL;
}

bool bench_set_has_name(const struct bench_set *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		if (!strcmp(s->v[i].name, name))
			return true;
	return false;
}

struct bench_series *bench_set_get(struct bench_set *s, const char *name, const char *metric, const char *unit,
				   bool higher_is_better)
{
	struct bench_series *b = bench_set_find(s, name, metric);
	uint64_t *slot;
	int inserted;

	if (b)
		return b;
	ALLOC_GROW(s->v, s->nr + 1, s->alloc);
	b = &s->v[s->nr++];
	memset(b, 0, sizeof(*b));
	b->name = xstrdup(name);
	b->metric = xstrdup(metric);
	b->unit = xstrdup(unit);
	b->higher_is_better = higher_is_better;
	b->mean = b->stddev = b->median = b->min = b->max = b->sem = NAN;
	slot = u64map_insert(&s->index, series_key(name, metric), &inserted);
	if (inserted)
		*slot = s->nr;
	return b;
}

void bench_series_add(struct bench_series *b, double v)
{
	ALLOC_GROW(b->samples, b->n + 1, b->alloc);
	b->samples[b->n++] = v;
}

void bench_set_finish(struct bench_set *s)
{
	size_t i, j = 0;
	struct u64map index = U64MAP_INIT;

	for (i = 0; i < s->nr; i++) {
		struct bench_series *b = &s->v[i];

		if (b->n) {
			struct stats_summary sum;

			stats_summarize(b->samples, b->n, &sum);
			b->count = sum.n;
			b->mean = sum.mean;
			b->stddev = sum.stddev;
			b->median = sum.median;
			b->min = sum.min;
			b->max = sum.max;
		}
		if (!b->n && !isfinite(b->mean)) {
			free(b->name);
			free(b->metric);
			free(b->unit);
			free(b->samples);
			continue;
		}
		s->v[j++] = *b;
	}
	s->nr = j;
	for (i = 0; i < s->nr; i++) {
		int inserted;
		uint64_t *slot = u64map_insert(&index, series_key(s->v[i].name, s->v[i].metric), &inserted);

		if (inserted)
			*slot = i + 1;
	}
	u64map_release(&s->index);
	s->index = index;
}
