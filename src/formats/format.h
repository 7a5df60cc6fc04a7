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

/*
 * The column a single-value output (folded, speedscope) carries when the user did not pick one: in a CPU
 * profile (samples/count beside a default cpu column) the samples, as perf's and stackcollapse's folded files
 * count them, so `kiln profile -o x.folded` and `kiln convert x.pb.gz -o x.folded` write the same numbers;
 * else -1 (the profile's default column).
 */
int format_value_column(const struct profile *p);

/*
 * A format with a probe and neither `read` nor `write` is one kiln recognises but does not read (unread.c):
 * detection refuses such an input by its description ("a gperftools heap profile") instead of letting a loose
 * text reader misread it.
 */
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
/* The format that claims an input most surely, readable or not (see above), or NULL; ties go to the first. */
const struct format *format_claim(const unsigned char *head, size_t len);
/* The most likely readable format of an input, or NULL when nothing readable claims it. */
const struct format *format_detect(const unsigned char *head, size_t len);
/*
 * The reader for an input whose first bytes are `head`, or NULL with `e` set to one line: "'NAME': a gperftools
 * heap profile, which kiln does not read" when a format kiln does not read claims it, else "cannot detect the
 * format of 'NAME'".
 */
const struct format *format_detect_input(const unsigned char *head, size_t len, const char *name, struct err *e);

/*
 * Text readers skip lines they cannot parse, and say so in a warning ("ignored 3 lines with invalid format");
 * a reader that would skip more than a small fraction of the lines it saw refuses the file instead: it is
 * some other format. True when `skipped` of `lines` (non-empty, non-comment) is too many: more than one, and
 * more than one in ten.
 */
bool format_skipped_too_many(uint64_t skipped, uint64_t lines);

/*
 * True when `p` has no sample with a non-zero value in `column` (-1: in any column): an empty result, which
 * every command treats as an error ("no samples in 'x'", exit 2) rather than writing an empty output.
 */
bool profile_is_empty(const struct profile *p, int column);

/*
 * --type names, one table in format.c for every command that reads a profile: a registered format's name, or an
 * alias naming one or more formats whose content picks among them ("perf": perf script text or a perf.data
 * file; "pprof": gzipped or plain; "py-spy", "pyspy", "collapsed": folded stacks; "node": a .cpuprofile).
 */
bool format_type_known(const char *type);
/* Sets `e` to "unknown profile type 'TYPE' (known: ...)" and returns -1. */
int format_type_unknown(const char *type, struct err *e);

/*
 * The reader for an open input, by --type `type` (NULL: detected from the content; see format_detect_input()).
 * An alias picks the candidate whose probe scores highest, its first candidate when none claims the content,
 * unless a format kiln does not read claims it. NULL with `e` set to one line naming the input otherwise.
 */
const struct format *format_pick(struct input *in, const char *type, struct err *e);

/*
 * Reads `path` ("-" = stdin) into `p` through format_pick(); `*format` (when non-NULL) receives the reader's
 * name (static). Errors name the file and the problem.
 */
int profile_load(struct profile *p, const char *path, const char *type, const struct format_read_opts *o,
		 const char **format, struct err *e);
/* profile_load() without the format's name. */
int profile_read_path(struct profile *p, const char *path, const char *type, const struct format_read_opts *o,
		      struct err *e);

/* Writes `p` to `path` ("-" = stdout) atomically in format `f`. */
int profile_write_path(const struct profile *p, const char *path, const struct format *f,
		       const struct format_write_opts *o, struct err *e);

#endif
