/*
 * One table-driven option parser for every command (git's parse-options): the table that parses is the table
 * that prints --help, so the two never disagree.
 *
 *   static const struct option opts[] = {
 *           OPT_STRING('o', "output", &o.output, "FILE", "write to FILE instead of stdout"),
 *           OPT_INT(0, "width", &o.width, "PX", "image width", 1, 1000000),
 *           OPT_BOOL(0, "inverted", &o.inverted, "draw an icicle graph"),
 *           OPT_END(),
 *   };
 *   argc = parse_options(argc, argv, opts, &help, 0);
 *
 * Long options take `--name VALUE` or `--name=VALUE`, short ones `-x VALUE` or `-xVALUE`; boolean short
 * options bundle (`-ab`); `--no-NAME` clears a boolean; `--` ends options. A number out of range or not a
 * number is an error that names the flag and the value.
 */
#ifndef KILN_OPTIONS_H
#define KILN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;
struct option;

enum opt_type {
	OPTION_END = 0,
	OPTION_GROUP,    /* a heading in --help */
	OPTION_BOOL,     /* bool *, set true (or false by --no-NAME) */
	OPTION_COUNT,    /* int *, incremented per use (-v -v) */
	OPTION_INT,      /* long long * in [min, max] */
	OPTION_DOUBLE,   /* double * in [min, max] */
	OPTION_STRING,   /* const char ** (points into argv) */
	OPTION_LIST,     /* struct opt_list *: every use appends */
	OPTION_CHOICE,   /* const char ** limited to `choices` (a NULL-terminated list) */
	OPTION_CALLBACK, /* cb(opt, arg, err); arg NULL when the option takes none */
	OPTION_ARGS,     /* cb_args(opt, flag, args, err) with the `min` values after the option (-P NAME MIN MAX) */
};

/* Flags. */
#define OPT_NOARG  1  /* callback option that takes no argument */
#define OPT_HIDDEN 2  /* not listed in --help */
#define OPT_NONEG  4  /* boolean without a --no- form */
/*
 * What an option applies to, as bits the command defines (e.g. the modes of kiln profile), kept in the flags
 * above bit 8 and given as the optional last argument of the OPT_* macros:
 *   OPT_BOOL(0, "no-files", &o.no_files, "no per-file bytes", OPT_TAGS(MODE_IO))
 * The command checks them after parsing against the options given (parse_options_given());
 * usage_print_tagged() lists only those that apply. No tags: the option always applies.
 */
#define OPT_TAGS(t) ((int)((unsigned)(t) << 8))
#define OPT_TAGS_OF(o) ((unsigned)(o)->flags >> 8)

struct option {
	enum opt_type type;
	int short_name;
	const char *long_name;
	void *value;
	const char *argh;
	const char *help;
	int flags;
	double min, max;
	const char *const *choices;
	union {
		int (*cb)(const struct option *opt, const char *arg, struct err *e);
		/* `flag` is the option as spelt ("-P" or "--parameter-scan"), for messages. */
		int (*cb_args)(const struct option *opt, const char *flag, const char *const *args, struct err *e);
	};
};

/* The most values an OPTION_ARGS option takes. */
#define OPT_ARGS_MAX 8

/* Repeated options collect here (e.g. -L NAME a,b). */
struct opt_list {
	const char **v;
	size_t nr, alloc;
};

#define OPT_END() { OPTION_END, 0, NULL, NULL, NULL, NULL, 0, 0, 0, NULL, { NULL } }
#define OPT_GROUP(h) { OPTION_GROUP, 0, NULL, NULL, NULL, (h), 0, 0, 0, NULL, { NULL } }
#define OPT_BOOL(s, l, v, h, ...) { OPTION_BOOL, (s), (l), (v), NULL, (h), (0 __VA_OPT__(| (__VA_ARGS__))), 0, 0, NULL, { NULL } }
#define OPT_COUNT(s, l, v, h, ...) { OPTION_COUNT, (s), (l), (v), NULL, (h), (OPT_NONEG __VA_OPT__(| (__VA_ARGS__))), 0, 0, NULL, { NULL } }
#define OPT_INT(s, l, v, a, h, lo, hi, ...) { OPTION_INT, (s), (l), (v), (a), (h), (0 __VA_OPT__(| (__VA_ARGS__))), (lo), (hi), NULL, { NULL } }
#define OPT_DOUBLE(s, l, v, a, h, lo, hi, ...) { OPTION_DOUBLE, (s), (l), (v), (a), (h), (0 __VA_OPT__(| (__VA_ARGS__))), (lo), (hi), NULL, { NULL } }
#define OPT_STRING(s, l, v, a, h, ...) { OPTION_STRING, (s), (l), (v), (a), (h), (0 __VA_OPT__(| (__VA_ARGS__))), 0, 0, NULL, { NULL } }
#define OPT_LIST(s, l, v, a, h, ...) { OPTION_LIST, (s), (l), (v), (a), (h), (0 __VA_OPT__(| (__VA_ARGS__))), 0, 0, NULL, { NULL } }
#define OPT_CHOICE(s, l, v, a, h, c, ...) { OPTION_CHOICE, (s), (l), (v), (a), (h), (0 __VA_OPT__(| (__VA_ARGS__))), 0, 0, (c), { NULL } }
#define OPT_CALLBACK(s, l, v, a, h, f, cb, ...) { OPTION_CALLBACK, (s), (l), (v), (a), (h), ((f) __VA_OPT__(| (__VA_ARGS__))), 0, 0, NULL, { (cb) } }
/* An option followed by `n` values, the first of which may be attached (`--opt=V1 V2`, `-oV1 V2`). */
#define OPT_ARGS(s, l, v, a, h, n, cb, ...) { OPTION_ARGS, (s), (l), (v), (a), (h), (0 __VA_OPT__(| (__VA_ARGS__))), (n), (n), NULL, { .cb_args = (cb) } }
#define OPT_HIDDEN_BOOL(s, l, v, ...) { OPTION_BOOL, (s), (l), (v), NULL, NULL, (OPT_HIDDEN __VA_OPT__(| (__VA_ARGS__))), 0, 0, NULL, { NULL } }

/* The --help page of a command, around the generated option list. */
struct cmd_help {
	const char *name;        /* "collapse" */
	const char *usage;       /* "kiln collapse [OPTIONS] [FILE|-]", several lines allowed */
	const char *description; /* a paragraph */
	const char *examples;    /* lines of examples, shown last */
};

/* parse_options() flags. */
#define PARSE_STOP_AT_NON_OPTION 1 /* `kiln profile -F 99 ./prog -x`: stop at the command */
#define PARSE_HELP_LAST 2 /* --help does not print: parsing goes on and PARSE_HELP is returned at the end, so that
			   * the command prints the page of what the other options chose (`--help --mode mem`) */
#define PARSE_KEEP_DASHDASH 4 /* keep the `--` that ends the options among the arguments returned, so that the
			       * command can tell what came after it (`kiln bench 'a' -- ./prog ARGS`) */

/* Return values besides the remaining argument count. */
#define PARSE_HELP  (-1) /* --help was given and printed; exit 0 */
#define PARSE_ERROR (-2) /* a usage error was printed; exit 2 */
#define PARSE_DOC   (-3) /* with PARSE_HELP_LAST: --help-man / --help-completion printed their page; exit 0 */

/*
 * Parses argv[1..argc-1] (argv[0] is the command name). Non-option arguments are moved to argv[0..n-1] and n
 * is returned. Prints the help page or a one-line usage error to stderr itself (the parser is cmd/ layer).
 * Two hidden options print what the build installs, from the same table, and return PARSE_HELP: `--help-man`
 * (the command's man page) and `--help-completion=bash|zsh|fish` (its part of a completion script).
 */
int parse_options(int argc, char **argv, const struct option *opts, const struct cmd_help *help, int flags);
/*
 * parse_options() that also lists the options given, in their order, as pointers into `opts` (`given` has room
 * for argc entries), for checks that depend on several options (an option that does not apply to the mode
 * another one chose).
 */
int parse_options_given(int argc, char **argv, const struct option *opts, const struct cmd_help *help, int flags,
			const struct option **given, size_t *ngiven);
/* True when the option takes a value (not a boolean, a counter or a no-argument callback). */
bool option_takes_value(const struct option *o);
/* Prints the --help page to stdout. */
void usage_print(const struct option *opts, const struct cmd_help *help);
/* The --help page with only the options whose tags are none or share a bit with `tags`. */
void usage_print_tagged(const struct option *opts, const struct cmd_help *help, unsigned tags);
/* Prints "kiln: MSG" and a hint to see --help to stderr; returns 2 (the usage exit status). */
int usage_error(const struct cmd_help *help, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Man pages and completion scripts (options_doc.c). */
struct cmd_summary {
	const char *name;    /* "profile" */
	const char *summary; /* one line */
};

/* The one-line summary of the command being run, for its man page's NAME line (main.c sets it). */
void options_set_summary(const char *summary);
/* Prints `what` ("man", "bash", "zsh" or "fish") for one command's table; -1 for an unknown `what`. */
int options_print_doc(const char *what, const struct option *opts, const struct cmd_help *help);
/* Prints kiln(1): the command list and what all commands share. */
void options_man_top(const struct cmd_summary *cmds, size_t n, const char *description);
/*
 * A completion script is the beginning (the command list), each command's options_print_doc() part, and the
 * end (the completion function). begin returns -1 for an unknown shell.
 */
int options_completion_begin(const char *shell, const struct cmd_summary *cmds, size_t n);
void options_completion_end(const char *shell);

#endif
