/*
 * The table-driven option parser and --help generator shared by every command. It lives in core/ but, being the
 * command-line layer's helper, it prints usage errors and help pages itself.
 */
#include "options.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "buf.h"
#include "err.h"
#include "util.h"

int usage_error(const struct cmd_help *help, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "kiln %s: ", help && help->name ? help->name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (help && help->name)
		fprintf(stderr, " (see 'kiln %s --help')", help->name);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

bool option_takes_value(const struct option *o)
{
	switch (o->type) {
	case OPTION_BOOL:
	case OPTION_COUNT:
		return false;
	case OPTION_CALLBACK:
		return !(o->flags & OPT_NOARG);
	default:
		return true;
	}
}

static void opt_name(char *out, size_t n, const struct option *o, bool is_long)
{
	if (is_long)
		snprintf(out, n, "--%s", o->long_name);
	else
		snprintf(out, n, "-%c", o->short_name);
}

static int set_value(const struct option *o, const char *arg, bool neg, bool is_long, const struct cmd_help *help)
{
	struct err e = ERR_INIT;
	char name[128];

	opt_name(name, sizeof(name), o, is_long);
	switch (o->type) {
	case OPTION_BOOL:
		*(bool *)o->value = !neg;
		return 0;
	case OPTION_COUNT:
		(*(int *)o->value)++;
		return 0;
	case OPTION_INT: {
		long long v;

		if (parse_ll(arg, (long long)o->min, (long long)o->max, name, &v, &e))
			goto fail;
		*(long long *)o->value = v;
		return 0;
	}
	case OPTION_DOUBLE: {
		double v;

		if (parse_double(arg, o->min, o->max, name, &v, &e))
			goto fail;
		*(double *)o->value = v;
		return 0;
	}
	case OPTION_STRING:
		*(const char **)o->value = arg;
		return 0;
	case OPTION_LIST: {
		struct opt_list *l = o->value;

		ALLOC_GROW(l->v, l->nr + 1, l->alloc);
		l->v[l->nr++] = arg;
		return 0;
	}
	case OPTION_CHOICE:
		for (const char *const *c = o->choices; *c; c++) {
			if (!strcmp(*c, arg)) {
				*(const char **)o->value = *c;
				return 0;
			}
		}
		{
			struct buf b = BUF_INIT;

			for (const char *const *c = o->choices; *c; c++)
				buf_addf(&b, "%s%s", c == o->choices ? "" : ", ", *c);
			err_set(&e, "%s expects one of %s, got '%s'", name, b.buf, arg);
			buf_release(&b);
		}
		goto fail;
	case OPTION_CALLBACK:
		if (o->cb(o, arg, &e)) {
			if (!e.msg[0])
				err_set(&e, "bad value for %s: '%s'", name, arg ? arg : "");
			goto fail;
		}
		return 0;
	default:
		BUG("option type %d", o->type);
	}
fail:
	usage_error(help, "%s", e.msg);
	return -1;
}

/* An option with several values: the first may be attached (`first`), the others are the next arguments. */
static int take_args(const struct option *o, const char *first, char **argv, int argc, int *i, bool is_long,
		     const struct cmd_help *help)
{
	const char *args[OPT_ARGS_MAX];
	size_t n = (size_t)o->min, k = 0;
	struct err e = ERR_INIT;
	char name[128];

	if (n < 1 || n > OPT_ARGS_MAX)
		BUG("option '%s' takes %zu values", o->long_name, n);
	opt_name(name, sizeof(name), o, is_long);
	if (first)
		args[k++] = first;
	/* `--` ends the options, so it is no value: `-P n 1 -- ./prog` lacks one. */
	for (; k < n && *i + 1 < argc && strcmp(argv[*i + 1], "--"); k++)
		args[k] = argv[++*i];
	if (k < n) {
		usage_error(help, "%s needs %s", name, o->argh);
		return -1;
	}
	if (o->cb_args(o, name, args, &e)) {
		usage_error(help, "%s", e.msg[0] ? e.msg : "bad values");
		return -1;
	}
	return 0;
}

/* With PARSE_KEEP_DASHDASH, `--` separates and is no option's value (`--prepare -- ./prog` lacks one). */
static bool sep(const char *arg, int flags)
{
	return (flags & PARSE_KEEP_DASHDASH) && !strcmp(arg, "--");
}

static const struct option *find_long(const struct option *opts, const char *name, size_t len, bool *neg)
{
	*neg = false;
	for (const struct option *o = opts; o->type != OPTION_END; o++) {
		if (o->long_name && strlen(o->long_name) == len && !strncmp(o->long_name, name, len))
			return o;
	}
	if (len > 3 && !strncmp(name, "no-", 3)) {
		for (const struct option *o = opts; o->type != OPTION_END; o++) {
			if (o->long_name && o->type == OPTION_BOOL && !(o->flags & OPT_NONEG) &&
			    strlen(o->long_name) == len - 3 && !strncmp(o->long_name, name + 3, len - 3)) {
				*neg = true;
				return o;
			}
		}
	}
	return NULL;
}

static const struct option *find_short(const struct option *opts, int c)
{
	for (const struct option *o = opts; o->type != OPTION_END; o++)
		if (o->short_name == c && o->type != OPTION_GROUP)
			return o;
	return NULL;
}

int parse_options(int argc, char **argv, const struct option *opts, const struct cmd_help *help, int flags)
{
	size_t ngiven;

	return parse_options_given(argc, argv, opts, help, flags, NULL, &ngiven);
}

int parse_options_given(int argc, char **argv, const struct option *opts, const struct cmd_help *help, int flags,
			const struct option **given, size_t *ngiven)
{
	int nargs = 0, i;
	bool want_help = false;

	*ngiven = 0;

	for (i = 1; i < argc; i++) {
		char *arg = argv[i];

		if (!strcmp(arg, "--")) {
			if (!(flags & PARSE_KEEP_DASHDASH))
				i++;
			break;
		}
		if (arg[0] != '-' || !arg[1]) {
			if (flags & PARSE_STOP_AT_NON_OPTION)
				break;
			argv[nargs++] = arg;
			continue;
		}
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			if (flags & PARSE_HELP_LAST) {
				want_help = true;
				continue;
			}
			usage_print(opts, help);
			return PARSE_HELP;
		}
		if (!strcmp(arg, "--help-man") || !strncmp(arg, "--help-completion=", 18)) {
			if (options_print_doc(!strcmp(arg, "--help-man") ? "man" : arg + 18, opts, help)) {
				usage_error(help, "--help-completion expects bash, zsh or fish, got '%s'", arg + 18);
				return PARSE_ERROR;
			}
			/* A caller that prints --help itself (PARSE_HELP_LAST) must not add it to the page. */
			return flags & PARSE_HELP_LAST ? PARSE_DOC : PARSE_HELP;
		}
		if (arg[1] == '-') {
			const char *name = arg + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const struct option *o;
			const char *val = NULL;
			bool neg;

			o = find_long(opts, name, len, &neg);
			if (!o) {
				usage_error(help, "unknown option '--%.*s'", (int)len, name);
				return PARSE_ERROR;
			}
			if (o->type == OPTION_ARGS) {
				if (take_args(o, eq ? eq + 1 : NULL, argv, argc, &i, true, help))
					return PARSE_ERROR;
				if (given)
					given[(*ngiven)++] = o;
				continue;
			}
			if (option_takes_value(o)) {
				if (eq) {
					val = eq + 1;
				} else if (i + 1 < argc && !sep(argv[i + 1], flags)) {
					val = argv[++i];
				} else {
					usage_error(help, "option '--%s' requires a value", o->long_name);
					return PARSE_ERROR;
				}
			} else if (eq) {
				usage_error(help, "option '--%s' takes no value", o->long_name);
				return PARSE_ERROR;
			}
			if (set_value(o, val, neg, true, help))
				return PARSE_ERROR;
			if (given)
				given[(*ngiven)++] = o;
			continue;
		}
		/* A bundle of short options: -ab, -F99, -F 99. */
		for (const char *p = arg + 1; *p; p++) {
			const struct option *o = find_short(opts, (unsigned char)*p);

			if (!o) {
				usage_error(help, "unknown option '-%c'", *p);
				return PARSE_ERROR;
			}
			if (o->type == OPTION_ARGS) {
				if (take_args(o, p[1] ? p + 1 : NULL, argv, argc, &i, false, help))
					return PARSE_ERROR;
				if (given)
					given[(*ngiven)++] = o;
				break;
			}
			if (option_takes_value(o)) {
				const char *val;

				if (p[1])
					val = p + 1;
				else if (i + 1 < argc && !sep(argv[i + 1], flags))
					val = argv[++i];
				else {
					usage_error(help, "option '-%c' requires a value", *p);
					return PARSE_ERROR;
				}
				if (set_value(o, val, false, false, help))
					return PARSE_ERROR;
				if (given)
					given[(*ngiven)++] = o;
				break;
			}
			if (set_value(o, NULL, false, false, help))
				return PARSE_ERROR;
			if (given)
				given[(*ngiven)++] = o;
		}
	}
	for (; i < argc; i++)
		argv[nargs++] = argv[i];
	argv[nargs] = NULL;
	return want_help ? PARSE_HELP : nargs;
}

void usage_print(const struct option *opts, const struct cmd_help *help)
{
	usage_print_tagged(opts, help, ~0u);
}

void usage_print_tagged(const struct option *opts, const struct cmd_help *help, unsigned tags)
{
	struct buf b = BUF_INIT;
	const char *u = help->usage;

	/* Each usage line gets the "usage: " column. */
	for (int first = 1; u && *u; first = 0) {
		const char *nl = strchr(u, '\n');
		size_t len = nl ? (size_t)(nl - u) : strlen(u);

		buf_addf(&b, "%s%.*s\n", first ? "usage: " : "   or: ", (int)len, u);
		u += len + (nl ? 1 : 0);
	}
	if (help->description)
		buf_addf(&b, "\n%s\n", help->description);
	buf_adds(&b, "\nOptions:\n");
	for (const struct option *o = opts; o->type != OPTION_END; o++) {
		struct buf left = BUF_INIT;

		if (o->type == OPTION_GROUP) {
			buf_addf(&b, "\n%s\n", o->help);
			continue;
		}
		if ((o->flags & OPT_HIDDEN) || (OPT_TAGS_OF(o) && !(OPT_TAGS_OF(o) & tags)))
			continue;
		buf_adds(&left, "    ");
		if (o->short_name)
			buf_addf(&left, "-%c%s", o->short_name, o->long_name ? ", " : "");
		else
			buf_adds(&left, "    ");
		if (o->long_name)
			buf_addf(&left, "--%s%s", (o->type == OPTION_BOOL && !(o->flags & OPT_NONEG) && 0) ? "[no-]" : "",
				 o->long_name);
		if (option_takes_value(o)) {
			if (o->type == OPTION_CHOICE && !o->argh) {
				buf_adds(&left, " ");
				for (const char *const *c = o->choices; *c; c++)
					buf_addf(&left, "%s%s", c == o->choices ? "" : "|", *c);
			} else {
				buf_addf(&left, " %s", o->argh ? o->argh : "VALUE");
			}
		}
		if (left.len < 30)
			buf_addf(&b, "%-30s%s\n", left.buf, o->help ? o->help : "");
		else
			buf_addf(&b, "%s\n%30s%s\n", left.buf, "", o->help ? o->help : "");
		buf_release(&left);
	}
	buf_addf(&b, "    -h, --help                show this help\n");
	if (help->examples)
		buf_addf(&b, "\nExamples:\n%s%s", help->examples,
			 help->examples[strlen(help->examples) - 1] == '\n' ? "" : "\n");
	fwrite(b.buf, 1, b.len, stdout);
	buf_release(&b);
}
