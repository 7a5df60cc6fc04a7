/*
 * Man pages and shell completion generated from the option tables that parse and print --help, so the three
 * never disagree (`kiln CMD --help-man`, `kiln CMD --help-completion=bash|zsh|fish`; the build writes them to
 * build/man and build/completions). Like the rest of the parser, this is the command-line layer and prints.
 */
#include "options.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"

static const char *cmd_summary;

void options_set_summary(const char *summary)
{
	cmd_summary = summary;
}

static bool listed(const struct option *o)
{
	return o->type != OPTION_GROUP && !(o->flags & OPT_HIDDEN) && (o->long_name || o->short_name);
}

/* The first word of a help page's name: "profile --mode mem" is the profile command. */
static void cmd_word(struct buf *b, const struct cmd_help *help)
{
	const char *n = help->name ? help->name : "";

	buf_add(b, n, strcspn(n, " "));
}

/* roff text: backslashes and hyphens escaped, a leading '.' or '\'' neutralized on every line. */
static void roff(struct buf *b, const char *s)
{
	bool bol = true;

	for (; s && *s; s++) {
		if (bol && (*s == '.' || *s == '\''))
			buf_adds(b, "\\&");
		bol = *s == '\n';
		if (*s == '\\')
			buf_adds(b, "\\e");
		else if (*s == '-')
			buf_adds(b, "\\-");
		else
			buf_addch(b, *s);
	}
}

static void man_header(struct buf *b, const char *page, const char *name, const char *summary)
{
	const char *p;

	buf_adds(b, ".TH ");
	for (p = page; *p; p++)
		buf_addch(b, (char)toupper((unsigned char)*p));
	buf_addf(b, " 1 \"\" \"kiln %s\" \"kiln manual\"\n.SH NAME\n", KILN_VERSION);
	roff(b, name);
	buf_adds(b, " \\- ");
	roff(b, summary ? summary : "");
	buf_addch(b, '\n');
}

static void man_lines(struct buf *b, const char *section, const char *text)
{
	buf_addf(b, ".SH %s\n.nf\n", section);
	roff(b, text);
	if (text[0] && text[strlen(text) - 1] != '\n')
		buf_addch(b, '\n');
	buf_adds(b, ".fi\n");
}

static void man_option(struct buf *b, const struct option *o)
{
	buf_adds(b, ".TP\n");
	if (o->short_name)
		buf_addf(b, "\\fB\\-%c\\fR%s", o->short_name, o->long_name ? ", " : "");
	if (o->long_name) {
		buf_adds(b, "\\fB\\-\\-");
		roff(b, o->long_name);
		buf_adds(b, "\\fR");
	}
	if (option_takes_value(o)) {
		buf_adds(b, " \\fI");
		if (o->type == OPTION_CHOICE && !o->argh) {
			for (const char *const *c = o->choices; *c; c++) {
				buf_adds(b, c == o->choices ? "" : "|");
				roff(b, *c);
			}
		} else {
			roff(b, o->argh ? o->argh : "VALUE");
		}
		buf_adds(b, "\\fR");
	}
	buf_addch(b, '\n');
	roff(b, o->help ? o->help : "");
	if (o->type == OPTION_CHOICE && o->argh) {
		buf_adds(b, " (one of: ");
		for (const char *const *c = o->choices; *c; c++) {
			buf_adds(b, c == o->choices ? "" : ", ");
			roff(b, *c);
		}
		buf_adds(b, ")");
	}
	buf_addch(b, '\n');
}

static void man_page(struct buf *b, const struct option *opts, const struct cmd_help *help)
{
	struct buf page = BUF_INIT, name = BUF_INIT;

	buf_adds(&page, "kiln-");
	cmd_word(&page, help);
	buf_adds(&name, "kiln ");
	cmd_word(&name, help);
	man_header(b, page.buf, page.buf, cmd_summary);
	man_lines(b, "SYNOPSIS", help->usage ? help->usage : name.buf);
	if (help->description) {
		buf_adds(b, ".SH DESCRIPTION\n");
		roff(b, help->description);
		buf_addch(b, '\n');
	}
	buf_adds(b, ".SH OPTIONS\n");
	for (const struct option *o = opts; o->type != OPTION_END; o++) {
		if (o->type == OPTION_GROUP) {
			buf_adds(b, ".SS ");
			roff(b, o->help);
			buf_addch(b, '\n');
		} else if (listed(o)) {
			man_option(b, o);
		}
	}
	buf_adds(b, ".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nshow the help page (the same as this manual page)\n");
	if (help->examples)
		man_lines(b, "EXAMPLES", help->examples);
	buf_adds(b, ".SH SEE ALSO\n\\fBkiln\\fR(1)\n");
	buf_release(&page);
	buf_release(&name);
}

void options_man_top(const struct cmd_summary *cmds, size_t n, const char *description)
{
	struct buf b = BUF_INIT;
	size_t i;

	man_header(&b, "kiln", "kiln", "a Linux performance toolkit");
	buf_adds(&b, ".SH SYNOPSIS\n\\fBkiln\\fR [\\-\\-version] [\\-\\-help] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] "
		     "[\\fIARGS\\fR]\n.SH DESCRIPTION\n");
	roff(&b, description);
	buf_adds(&b, "\n.SH COMMANDS\n");
	for (i = 0; i < n; i++) {
		buf_adds(&b, ".TP\n\\fBkiln\\-");
		roff(&b, cmds[i].name);
		buf_adds(&b, "\\fR(1)\n");
		roff(&b, cmds[i].summary);
		buf_addch(&b, '\n');
	}
	buf_adds(&b, ".SH EXIT STATUS\n0 success; 1 the verdict a command exists to give was negative (a regression "
		     "found by \\fBkiln compare\\fR); 2 usage or input error, with a one\\-line message. \\fBkiln "
		     "profile\\fR mirrors the profiled command's status (128+N for a signal N), uses 125 for its own "
		     "failures and 126/127 when the command cannot be run or found.\n"
		     ".SH ENVIRONMENT\n.TP\n.B NO_COLOR\nwhen set and not empty, no colour is used\n"
		     ".TP\n.B KILN_HEAP_LIB\nthe heap profiler's preload library (default: libkiln\\-heap.so beside "
		     "the binary, in ../lib or ../lib/kiln)\n"
		     ".TP\n.B DEBUGINFOD_URLS\ndebuginfod servers asked for missing debug information\n"
		     ".SH SEE ALSO\n");
	for (i = 0; i < n; i++) {
		buf_addf(&b, "%s\\fBkiln\\-", i ? ",\n" : "");
		roff(&b, cmds[i].name);
		buf_adds(&b, "\\fR(1)");
	}
	buf_adds(&b, "\n");
	fwrite(b.buf, 1, b.len, stdout);
	buf_release(&b);
}

/* A shell variable name part: [A-Za-z0-9_] only. */
static void ident(struct buf *b, const char *s)
{
	for (; *s; s++)
		buf_addch(b, isalnum((unsigned char)*s) ? *s : '_');
}

/* A single-quoted shell word. */
static void squote(struct buf *b, const char *s)
{
	buf_addch(b, '\'');
	for (; s && *s; s++) {
		if (*s == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addch(b, *s);
	}
	buf_addch(b, '\'');
}

static void bash_fragment(struct buf *b, const struct option *opts, const struct cmd_help *help)
{
	struct buf word = BUF_INIT, name = BUF_INIT, all = BUF_INIT, vals = BUF_INIT;

	cmd_word(&word, help);
	ident(&name, word.buf);
	buf_release(&word);
	for (const struct option *o = opts; o->type != OPTION_END; o++) {
		if (!listed(o))
			continue;
		if (o->long_name)
			buf_addf(&all, "--%s ", o->long_name);
		if (o->short_name)
			buf_addf(&all, "-%c ", o->short_name);
		if (option_takes_value(o)) {
			if (o->long_name)
				buf_addf(&vals, "--%s ", o->long_name);
			if (o->short_name)
				buf_addf(&vals, "-%c ", o->short_name);
		}
		if (o->type == OPTION_CHOICE && o->long_name) {
			struct buf ch = BUF_INIT;

			for (const char *const *c = o->choices; *c; c++)
				buf_addf(&ch, "%s%s", c == o->choices ? "" : " ", *c);
			buf_addf(b, "_kiln_choices_%s__", name.buf);
			ident(b, o->long_name);
			buf_addch(b, '=');
			squote(b, ch.buf);
			buf_addch(b, '\n');
			buf_release(&ch);
		}
	}
	buf_adds(&all, "--help -h");
	buf_addf(b, "_kiln_opts_%s=", name.buf);
	squote(b, all.buf);
	buf_addf(b, "\n_kiln_args_%s=", name.buf);
	squote(b, vals.buf);
	buf_addch(b, '\n');
	buf_release(&name);
	buf_release(&all);
	buf_release(&vals);
}

/* Text inside a zsh _arguments description: no brackets, single quotes escaped by the caller. */
static void zsh_desc(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '[' || *s == ']')
			buf_addch(b, *s == '[' ? '(' : ')');
		else if (*s == '\'')
			buf_adds(b, "'\\''");
		else if (*s == ':' || *s == '\\')
			buf_addf(b, "\\%c", *s);
		else
			buf_addch(b, *s);
	}
}

static void zsh_spec(struct buf *b, const struct option *o, const char *flag)
{
	buf_addf(b, "    '%s%s[", flag, option_takes_value(o) ? (flag[1] == '-' ? "=" : "+") : "");
	zsh_desc(b, o->help);
	buf_adds(b, "]");
	if (option_takes_value(o)) {
		buf_adds(b, ":");
		zsh_desc(b, o->argh ? o->argh : "value");
		if (o->type == OPTION_CHOICE) {
			buf_adds(b, ":(");
			for (const char *const *c = o->choices; *c; c++)
				buf_addf(b, "%s%s", c == o->choices ? "" : " ", *c);
			buf_adds(b, ")");
		} else {
			buf_adds(b, ":_files");
		}
	}
	buf_adds(b, "' \\\n");
}

static void zsh_fragment(struct buf *b, const struct option *opts, const struct cmd_help *help)
{
	struct buf name = BUF_INIT;

	cmd_word(&name, help);
	buf_adds(b, "_kiln_");
	ident(b, name.buf);
	buf_adds(b, "() {\n  _arguments -s \\\n");
	for (const struct option *o = opts; o->type != OPTION_END; o++) {
		char flag[128];

		if (!listed(o))
			continue;
		if (o->short_name) {
			snprintf(flag, sizeof(flag), "-%c", o->short_name);
			zsh_spec(b, o, flag);
		}
		if (o->long_name) {
			snprintf(flag, sizeof(flag), "--%s", o->long_name);
			zsh_spec(b, o, flag);
		}
	}
	buf_adds(b, "    '(- *)'{-h,--help}'[show the help page]' \\\n    '*:file:_files'\n}\n");
	buf_release(&name);
}

static void fish_fragment(struct buf *b, const struct option *opts, const struct cmd_help *help)
{
	struct buf name = BUF_INIT;

	cmd_word(&name, help);
	for (const struct option *o = opts; o->type != OPTION_END; o++) {
		if (!listed(o))
			continue;
		buf_addf(b, "complete -c kiln -n '__fish_seen_subcommand_from %s'", name.buf);
		if (o->short_name)
			buf_addf(b, " -s %c", o->short_name);
		if (o->long_name)
			buf_addf(b, " -l %s", o->long_name);
		if (o->type == OPTION_CHOICE) {
			struct buf ch = BUF_INIT;

			for (const char *const *c = o->choices; *c; c++)
				buf_addf(&ch, "%s%s", c == o->choices ? "" : " ", *c);
			buf_adds(b, " -x -a ");
			squote(b, ch.buf);
			buf_release(&ch);
		} else if (option_takes_value(o)) {
			buf_adds(b, " -r");
		}
		buf_adds(b, " -d ");
		squote(b, o->help ? o->help : "");
		buf_addch(b, '\n');
	}
	/* Every command has --help, as bash's and zsh's parts say. */
	buf_addf(b, "complete -c kiln -n '__fish_seen_subcommand_from %s' -s h -l help -d 'show the help page'\n",
		 name.buf);
	buf_release(&name);
}

int options_print_doc(const char *what, const struct option *opts, const struct cmd_help *help)
{
	struct buf b = BUF_INIT;

	if (!strcmp(what, "man"))
		man_page(&b, opts, help);
	else if (!strcmp(what, "bash"))
		bash_fragment(&b, opts, help);
	else if (!strcmp(what, "zsh"))
		zsh_fragment(&b, opts, help);
	else if (!strcmp(what, "fish"))
		fish_fragment(&b, opts, help);
	else
		return -1;
	fwrite(b.buf, 1, b.len, stdout);
	buf_release(&b);
	return 0;
}

/*
 * The parts of a completion script around the commands' fragments. bash: the first non-option word is the
 * command; after an option that takes a value, its choices or file names; after '-', the command's options.
 */
static const char bash_body[] =
	"_kiln() {\n"
	"\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd= i v\n"
	"\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	"\t\tcase ${COMP_WORDS[i]} in -*) ;; *) cmd=${COMP_WORDS[i]}; break ;; esac\n"
	"\tdone\n"
	"\tif [ -z \"$cmd\" ]; then\n"
	"\t\tCOMPREPLY=($(compgen -W \"$_kiln_commands --help --version\" -- \"$cur\"))\n"
	"\t\treturn\n"
	"\tfi\n"
	"\tcase \" $_kiln_commands \" in *\" $cmd \"*) ;; *) COMPREPLY=($(compgen -f -- \"$cur\")); return ;; esac\n"
	"\tif [ \"$cmd\" = help ]; then\n"
	"\t\tCOMPREPLY=($(compgen -W \"$_kiln_commands\" -- \"$cur\"))\n"
	"\t\treturn\n"
	"\tfi\n"
	"\tlocal id=${cmd//-/_}\n"
	"\tv=_kiln_args_$id\n"
	"\tcase \" ${!v-} \" in\n"
	"\t*\" $prev \"*)\n"
	"\t\tif [[ $prev == --* ]]; then\n"
	"\t\t\tv=${prev#--}; v=_kiln_choices_${id}__${v//-/_}\n"
	"\t\t\tif [ -n \"${!v-}\" ]; then COMPREPLY=($(compgen -W \"${!v}\" -- \"$cur\")); return; fi\n"
	"\t\tfi\n"
	"\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	"\t\treturn ;;\n"
	"\tesac\n"
	"\tv=_kiln_opts_$id\n"
	"\tif [[ $cur == -* ]]; then\n"
	"\t\tCOMPREPLY=($(compgen -W \"${!v-}\" -- \"$cur\"))\n"
	"\telse\n"
	"\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	"\tfi\n"
	"}\n"
	"complete -o filenames -F _kiln kiln\n";

static const char zsh_body[] =
	"_kiln() {\n"
	"  if (( CURRENT == 2 )); then\n"
	"    _describe 'kiln command' _kiln_commands\n"
	"    return\n"
	"  fi\n"
	"  local cmd=${words[2]//-/_}\n"
	"  shift words\n"
	"  (( CURRENT-- ))\n"
	"  if (( $+functions[_kiln_$cmd] )); then _kiln_$cmd; else _files; fi\n"
	"}\n"
	"_kiln \"$@\"\n";

int options_completion_begin(const char *shell, const struct cmd_summary *cmds, size_t n)
{
	size_t i;

	if (!strcmp(shell, "bash")) {
		printf("# bash completion for kiln, generated by 'kiln --help-completion=bash'\n_kiln_commands='");
		for (i = 0; i < n; i++)
			printf("%s%s", i ? " " : "", cmds[i].name);
		printf("'\n");
	} else if (!strcmp(shell, "zsh")) {
		struct buf b = BUF_INIT;

		buf_adds(&b, "#compdef kiln\n# zsh completion for kiln, generated by 'kiln --help-completion=zsh'\n"
			     "_kiln_commands=(\n");
		for (i = 0; i < n; i++) {
			struct buf item = BUF_INIT;

			buf_addf(&item, "%s:", cmds[i].name);
			zsh_desc(&item, cmds[i].summary);
			buf_adds(&b, "  '");
			buf_add(&b, item.buf, item.len);
			buf_adds(&b, "'\n");
			buf_release(&item);
		}
		buf_adds(&b, ")\n");
		fwrite(b.buf, 1, b.len, stdout);
		buf_release(&b);
	} else if (!strcmp(shell, "fish")) {
		struct buf b = BUF_INIT;

		buf_adds(&b, "# fish completion for kiln, generated by 'kiln --help-completion=fish'\n");
		for (i = 0; i < n; i++) {
			buf_addf(&b, "complete -c kiln -n __fish_use_subcommand -f -a %s -d ", cmds[i].name);
			squote(&b, cmds[i].summary);
			buf_addch(&b, '\n');
		}
		fwrite(b.buf, 1, b.len, stdout);
		buf_release(&b);
	} else {
		return -1;
	}
	return 0;
}

void options_completion_end(const char *shell)
{
	if (!strcmp(shell, "bash"))
		fputs(bash_body, stdout);
	else if (!strcmp(shell, "zsh"))
		fputs(zsh_body, stdout);
}
