/* kiln convert: reads a profile in any readable format and writes it in any writable one, through the model. */
#include <stdio.h>
#include <string.h>

#include "../core/err.h"
#include "../core/options.h"
#include "../core/util.h"
#include "../formats/format.h"
#include "../profile/profile.h"
#include "cmds.h"

struct convert_opts {
	const char *output;
	const char *to;
	const char *type;
	const char *value;
	bool list;
};

static const struct cmd_help convert_help = {
	.name = "convert",
	.usage = "kiln convert FILE -o OUT [--to FORMAT] [--type FORMAT]\n"
		 "kiln convert --list",
	.description = "Reads a profile (its format detected from its content unless --type names it) and writes it "
		       "to OUT in the format that OUT's extension names (.pb.gz pprof, .pb plain pprof, .folded, "
		       ".json speedscope, ...) unless --to names one. FILE and OUT may be '-' for stdin and stdout "
		       "(stdout needs --to). Readable inputs include pprof (gzipped or not, and gperftools' legacy "
		       "CPU profiles), pprof's legacy text profiles, speedscope, Chrome/Node .cpuprofile and trace "
		       "events, .heapprofile, Firefox profiles, Java Flight Recordings, callgrind, stackprof, perf "
		       "script, perf.data and folded stacks; --list shows them all.",
	.examples = "kiln convert cpu.prof -o cpu.json                 # pprof to speedscope\n"
		    "kiln convert app.cpuprofile -o app.pb.gz          # Node profile to pprof\n"
		    "kiln convert stacks.folded -o - --to pprof > p.pb.gz\n"
		    "kiln convert heap.pb.gz --value alloc_space -o heap.folded\n"
		    "kiln convert rec.jfr -o rec.pb.gz                 # Java Flight Recorder to pprof\n"
		    "kiln convert callgrind.out.1234 -o cg.folded      # callgrind's first event as folded stacks\n"
		    "kiln convert --list",
};

static void list_formats(void)
{
	printf("%-12s %-5s %-5s %-28s %s\n", "FORMAT", "READ", "WRITE", "EXTENSIONS", "DESCRIPTION");
	for (size_t i = 0; formats[i]; i++) {
		const struct format *f = formats[i];
		char ext[128] = "";
		size_t len = 0;

		if (!f->read && !f->write)
			continue; /* recognised only to be refused by name */
		for (const char *const *x = f->extensions; x && *x && len + strlen(*x) + 2 < sizeof(ext); x++)
			len += (size_t)snprintf(ext + len, sizeof(ext) - len, "%s%s", len ? " " : "", *x);
		printf("%-12s %-5s %-5s %-28s %s\n", f->name, f->read ? "yes" : "-", f->write ? "yes" : "-",
		       len ? ext : "-", f->description);
	}
}

int cmd_convert(int argc, char **argv)
{
	struct convert_opts o = { 0 };
	struct format_write_opts wo = { .column = -1 };
	struct err e = ERR_INIT;
	struct profile *p = NULL;
	const struct format *out_fmt;
	int ret = EXIT_USAGE;

	const struct option opts[] = {
		OPT_STRING('o', "output", &o.output, "OUT", "write the converted profile to OUT ('-' = stdout)"),
		OPT_STRING(0, "to", &o.to, "FORMAT", "output format (default: from OUT's extension)"),
		OPT_STRING(0, "type", &o.type, "TYPE", "input format: perf, pprof, folded, py-spy, speedscope, ... (default: detected from the content)"),
		OPT_STRING(0, "value", &o.value, "TYPE",
			   "value column for single-value outputs such as folded (default: samples when the profile has them, else the profile's default)"),
		OPT_BOOL(0, "list", &o.list, "list the formats and what kiln can do with each"),
		OPT_END(),
	};

	argc = parse_options(argc, argv, opts, &convert_help, 0);
	if (argc == PARSE_HELP)
		return EXIT_OK;
	if (argc < 0)
		return EXIT_USAGE;
	if (o.list) {
		list_formats();
		return EXIT_OK;
	}
	if (argc != 1)
		return usage_error(&convert_help, argc ? "convert takes one input FILE" : "no input FILE given");
	if (!o.output)
		return usage_error(&convert_help, "no output given: use -o OUT");
	if (o.type && !format_type_known(o.type)) {
		format_type_unknown(o.type, &e);
		return usage_error(&convert_help, "%s", e.msg);
	}
	if (o.to) {
		out_fmt = format_by_name(o.to);
		if (!out_fmt || !out_fmt->write)
			return usage_error(&convert_help,
					   "unknown output format '%s' for --to; 'kiln convert --list' shows the formats",
					   o.to);
	} else {
		out_fmt = strcmp(o.output, "-") ? format_for_path(o.output) : NULL;
		if (!out_fmt)
			return usage_error(&convert_help, "cannot tell the output format of '%s': use --to FORMAT",
					   o.output);
	}

	p = profile_new(0);
	if (profile_read_path(p, argv[0], o.type, NULL, &e)) {
		error_msg("%s", e.msg);
		goto out;
	}
	if (o.value) {
		wo.column = profile_find_column(p, o.value);
		if (wo.column < 0) {
			error_msg("cannot convert '%s': it has no '%s' values", argv[0], o.value);
			goto out;
		}
	} else {
		wo.column = format_value_column(p);
	}
	/* An empty output would look like a profile of an idle program: refuse it, as analyze does. */
	if (profile_is_empty(p, wo.column)) {
		if (o.value)
			error_msg("no '%s' samples in '%s'", o.value, strcmp(argv[0], "-") ? argv[0] : "<stdin>");
		else
			error_msg("no samples in '%s'", strcmp(argv[0], "-") ? argv[0] : "<stdin>");
		goto out;
	}
	print_read_warnings(p, argv[0]);
	if (profile_write_path(p, o.output, out_fmt, &wo, &e)) {
		error_msg("%s", e.msg);
		goto out;
	}
	ret = EXIT_OK;
out:
	profile_free(p);
	return ret;
}
