/*
 * Profile formats behind one interface (STYLE.md 4): each format is one file in src/formats/ with a `probe`
 * that sniffs content, a `read` that fills the profile model and a `write` that prints it; all are registered in
 * the table in format.c, so a new format is one new file and one line there.
 */
#ifndef KILN_FORMAT_H
#define KILN_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "input.h"

struct err;
struct profile;

/* Reader options; zero means default. The perf-script ones mirror stackcollapse-perf.pl's flags. */
struct format_read_opts {
	bool pid;          /* process frame is "comm-PID" */
	bool tid;          /* process frame is "comm-PID/TID" */
	bool kernel;       /* annotate kernel frames with _[k] */
	bool jit;          /* annotate JIT frames with _[j] */
	bool all;          /* kernel + jit */
	bool addrs;        /* show raw addresses for unknown symbols */
	bool no_inline;    /* do not expand inline annotations */
	bool keep_order;   /* flame charts: keep sample order */
	bool labels;       /* attach pid/tid/comm labels where the input has them */
	const char *event; /* perf script: only this event name, NULL = first seen */
};

struct format_write_opts {
	int column; /* value column for single-value formats; -1 = the profile's default */
};

struct format {
	const char *name;                 /* "folded", "perf-script", "pprof", ... (for --type / --to) */
	const char *description;
	const char *const *extensions;    /* NULL-terminated; output format by the -o extension */
	/* Returns a confidence 0..100 that `head` (the first bytes of the input) is this format. */
	int (*probe)(const unsigned char *head, size_t len);
	int (*read)(struct profile *p, struct input *in, const struct format_read_opts *o, struct err *e);
	int (*write)(const struct profile *p, FILE *out, const struct format_write_opts *o, struct err *e);
};

/* The registered formats, NULL-terminated. */
extern const struct format *const formats[];

const struct format *format_by_name(const char *name);
/* The writable format for an output path's extension, or NULL. */
const struct format *format_for_path(const char *path);
/* The most likely format of an input, or NULL when nothing claims it. */
const struct format *format_detect(const unsigned char *head, size_t len);

/*
 * Reads `path` ("-" = stdin) into `p`, detecting its format from content unless `type` names one.
 * Errors name the file and the problem.
 */
int profile_read_path(struct profile *p, const char *path, const char *type, const struct format_read_opts *o,
		      struct err *e);

/* Writes `p` to `path` ("-" = stdout) atomically in format `f`. */
int profile_write_path(const struct profile *p, const char *path, const struct format *f,
		       const struct format_write_opts *o, struct err *e);

#endif
