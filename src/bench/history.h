/*
 * The offline benchmark history: a directory that lives in a repository (a gh-pages-style store), one JSON file
 * per run under DIR/runs/, written once and never rewritten (append-only: concurrent CI jobs never lose each
 * other's runs, and a merge of two branches of the store is a union of files). A run holds every series of a
 * result set with its raw samples (or its summary when the input had only that), the commit, branch, machine
 * and time it was measured at, free labels, and optionally a CPU profile stored beside it under DIR/profiles/.
 *
 *   struct hist_meta m = { .commit = sha, .branch = "main", .machine = host, .time = now };
 *   hist_append(dir, &m, &set, "cpu.pb.gz", NULL, 0, &e);   // writes DIR/runs/STEM.json (+ the profile)
 *   struct hist h = HIST_INIT;
 *   hist_load(&h, dir, &e);                                  // all runs, oldest first
 */
#ifndef KILN_BENCH_HISTORY_H
#define KILN_BENCH_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/result.h"

struct buf;
struct err;

#define HIST_SCHEMA "kiln-bench-run/1"

struct hist_meta {
	const char *commit;  /* required */
	const char *branch;  /* required */
	const char *machine; /* required */
	int64_t time;        /* seconds since the epoch (UTC) */
	const char *const *label_keys, *const *label_values; /* free labels, `nlabels` of each */
	size_t nlabels;
};

struct hist_run {
	char *stem;          /* file name under DIR/runs/ without ".json", owned */
	char *commit, *branch, *machine; /* owned */
	int64_t time;
	char *profile;       /* path of the stored profile relative to DIR, or NULL; owned */
	char *source_format; /* the importer the samples came through ("hyperfine", "go", ...), owned */
	struct bench_set set;
};

struct hist {
	char *dir;           /* owned */
	bool temp_dir;       /* `dir` is a private download of a server's history: hist_release() removes it */
	struct hist_run *v;  /* oldest first: by time, then by file name */
	size_t nr, alloc;
};

#define HIST_INIT { NULL, false, NULL, 0, 0 }

/*
 * Appends a run of `set` to the store at `dir` (created with runs/ and profiles/ when missing). When
 * `profile_path` is set, that file is copied into DIR/profiles/ with the run (its extension kept, so readers
 * still detect it). The stem of the new file is returned in `stem` (may be NULL) of size `stemsz`. Returns 0,
 * or -1 with `e` set; the store is never left with a partial file.
 */
int hist_append(const char *dir, const struct hist_meta *m, const struct bench_set *set, const char *profile_path,
		char *stem, size_t stemsz, struct err *e);
/* Serializes a run (the file's content) into `out`. */
void hist_format_run(struct buf *out, const struct hist_meta *m, const struct bench_set *set, const char *profile);
/* Parses one run file's content; returns 0, or -1 with `e` set (the message names `name`). */
int hist_parse_run(struct hist_run *r, const char *data, size_t len, const char *name, struct err *e);
/* Loads every run of the store. A directory without runs/ is an error; an empty runs/ is an empty history. */
int hist_load(struct hist *h, const char *dir, struct err *e);
void hist_run_release(struct hist_run *r);
void hist_release(struct hist *h);
/* The absolute (or DIR-relative) path of a run's profile, newly allocated; NULL when the run has none. */
char *hist_profile_path(const struct hist *h, const struct hist_run *r);

/*
 * A history on kiln serve (history_http.c): `url` is the server's base URL (user:password@ in it is Basic
 * authentication; $KILN_TOKEN is sent as a Bearer token, $KILN_TENANT as X-Scope-OrgID).
 */
bool hist_is_url(const char *where);
/* Pushes a run (and the profile at `profile_path`, may be NULL); the server's id for it goes into `id`. */
int hist_push_url(const char *url, const struct hist_meta *m, const struct bench_set *set, const char *profile_path,
		  char *id, size_t idsz, struct err *e);
/* Loads the runs of the server (of `branch` only, when not NULL) with their profiles, as hist_load() does. */
int hist_load_url(struct hist *h, const char *url, const char *branch, struct err *e);
/* hist_load_url() for an http(s):// URL, hist_load() for a directory (which ignores `branch`). */
int hist_open(struct hist *h, const char *where, const char *branch, struct err *e);
/* Removes a downloaded history's directory (hist_release() calls it for a `temp_dir`). */
void hist_remove_temp(const char *dir);

#endif
