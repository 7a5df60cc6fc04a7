/*
 * Benchmark results as `kiln compare` sees them, whatever tool produced them: a set of series, one per
 * (benchmark name, metric), each holding raw samples when the input has them and a summary otherwise.
 * Values are in canonical units: time in seconds ("s"), memory in bytes ("B"), rates per second.
 * The importers (bench_import_*) detect the input format from content and fill a set.
 */
#ifndef KILN_BENCH_RESULT_H
#define KILN_BENCH_RESULT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/hash.h"

struct err;

struct bench_series {
	char *name;            /* benchmark name, owned */
	char *metric;          /* "time", "cpu", "user", "system", "max-rss", "B/op", "allocs/op", "MB/s", ... owned */
	char *unit;            /* canonical unit: "s", "B", "B/s", "" ..., owned */
	bool higher_is_better; /* throughput-like metrics */
	bool secondary;        /* compared only when asked for by name (kiln's user, system, max-rss) */
	double *samples;       /* raw samples, owned; may be empty */
	size_t n, alloc;
	/* The summary: computed from the samples by bench_set_finish(), or given by a summary-only input. */
	size_t count;          /* size of the sample the summary describes; 0 when unknown */
	double mean, stddev, median, min, max;
	double sem;            /* standard error of the mean given by the input (Criterion), NAN otherwise */
};

struct bench_set {
	const char *format;    /* "kiln", "hyperfine", "gbench", "pytest-benchmark", "go", "criterion"; static */
	struct bench_series *v;
	size_t nr, alloc;
	struct u64map index;   /* hash(name, metric) -> index + 1 (first of that hash) */
	char **warnings;       /* what the importer worked around, for the command to print; owned */
	size_t nwarnings, awarnings;
	/* The environment the input names (go test's goos, goarch, pkg, cpu lines), in order; owned. */
	char **env_keys, **env_values;
	size_t nenv, aenv;
};

#define BENCH_SET_INIT { NULL, NULL, 0, 0, U64MAP_INIT, NULL, 0, 0, NULL, NULL, 0, 0 }

/* Records a warning (printf-style) for the command to show. */
void bench_set_warn(struct bench_set *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records an environment entry; a key seen before keeps its first value. */
void bench_set_env(struct bench_set *s, const char *key, const char *value, size_t vlen);
/* The value of an environment key, or NULL. */
const char *bench_set_env_get(const struct bench_set *s, const char *key);

void bench_set_release(struct bench_set *s);
/* The series for (name, metric), or NULL. */
struct bench_series *bench_set_find(const struct bench_set *s, const char *name, const char *metric);
/* Finds or appends the series for (name, metric); unit and direction are set on creation. */
struct bench_series *bench_set_get(struct bench_set *s, const char *name, const char *metric, const char *unit,
				   bool higher_is_better);
/* True when `name` has any series in `s`. */
bool bench_set_has_name(const struct bench_set *s, const char *name);
void bench_series_add(struct bench_series *b, double v);
/* Computes the summary of every series that has samples; drops series with neither samples nor a mean. */
void bench_set_finish(struct bench_set *s);

/*
 * Reads benchmark results from `path` (a file, `-` for stdin, or a Criterion.rs output directory), detecting
 * the format from the content. Returns 0, or -1 with `e` set (the message names the file).
 */
int bench_import_path(struct bench_set *s, const char *path, struct err *e);
/* Parses an in-memory input; `name_hint` names the benchmark for Criterion files (may be NULL). */
int bench_import_buf(struct bench_set *s, const char *data, size_t len, const char *name_hint, struct err *e);

/* The importers behind bench_import_buf(); each returns 0, or -1 with `e` set. */
int bench_import_go(struct bench_set *s, const char *data, size_t len, struct err *e);
/* True when the text looks like `go test -bench` output (a "Benchmark..." result line). */
bool bench_probe_go(const char *data, size_t len);

#endif
