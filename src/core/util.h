/* Small shared helpers: number parsing with range checks, terminal/colour detection, time, messages. */
#ifndef KILN_UTIL_H
#define KILN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h" /* now_ns(), which callers of this header used before clock.h existed */

struct err;

/* Exit statuses of the command-line contract (DESIGN.md). */
#define EXIT_OK 0
#define EXIT_VERDICT 1   /* the verdict a command exists to give was negative */
#define EXIT_USAGE 2     /* usage or input error */
#define EXIT_INTERNAL 125 /* kiln profile: kiln's own failure */

/* Parses a whole string as a number in [min, max]; errors name `what` (e.g. "--width") and the value. */
int parse_ll(const char *s, long long min, long long max, const char *what, long long *out, struct err *e);
int parse_double(const char *s, double min, double max, const char *what, double *out, struct err *e);

/* True when colour may be used on `fd`: a terminal and NO_COLOR unset or empty. */
bool use_color(int fd);

/*
 * The report format a file name asks for by its extension (case-insensitive): "json" (.json), "markdown" (.md,
 * .markdown), "html" (.html, .htm), or NULL for anything else (text). Used when -o is given without --format.
 */
const char *report_format_for_path(const char *path);


/* Messages from cmd/ and main.c: "kiln: ..." on stderr. */
void error_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warning_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Broken invariant: prints and aborts. */
#define BUG(...) bug_fl(__FILE__, __LINE__, __VA_ARGS__)
void bug_fl(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4), noreturn));

/* Formats a count with thousands separators into `out` (>= 32 bytes). */
const char *fmt_count(char *out, uint64_t v);
/* Formats a byte size ("1.5 MiB") into `out` (>= 32 bytes). */
const char *fmt_bytes(char *out, double bytes);
/* Formats nanoseconds ("12.3 ms") into `out` (>= 32 bytes). */
const char *fmt_ns(char *out, double ns);

#endif
