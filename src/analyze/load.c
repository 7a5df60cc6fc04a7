/* Reading a profile by path with --type aliases, detecting the format from content otherwise. */
#include "load.h"

#include <stdio.h>
#include <string.h>

#include "../core/err.h"
#include "../formats/format.h"
#include "../formats/input.h"
#include "../profile/profile.h"

#define PROBE_BYTES 65536

struct alias {
	const char *name;
	const char *formats[3]; /* candidates, best guess first; the content picks among them */
};

static const struct alias aliases[] = {
	{ "perf", { "perf-script", "perf.data", NULL } },
	{ "perf-data", { "perf.data", NULL, NULL } },
	{ "pprof", { "pprof", "pprof-raw", NULL } },
	{ "py-spy", { "folded", NULL, NULL } },
	{ "pyspy", { "folded", NULL, NULL } },
	{ "collapsed", { "folded", NULL, NULL } },
	{ "node", { "cpuprofile", NULL, NULL } },
};

static const struct alias *find_alias(const char *type)
{
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (!strcmp(aliases[i].name, type))
			return &aliases[i];
	return NULL;
}

int analyze_type_known(const char *type)
{
	const struct format *f = format_by_name(type);

	return find_alias(type) || (f && f->read);
}

static int known_types(struct err *e, const char *type)
{
	char list[512];
	size_t len = 0;

	list[0] = 0;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]) && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", len ? ", " : "", aliases[i].name);
	for (size_t i = 0; formats[i] && len < sizeof(list); i++)
		if (formats[i]->read)
			len += (size_t)snprintf(list + len, sizeof(list) - len, ", %s", formats[i]->name);
	return err_set(e, "unknown profile type '%s' (known: %s)", type, list);
}

int analyze_load(struct profile *p, const char *path, const char *type, const char **format, struct err *e)
{
	static const struct format_read_opts ro;
	const struct format *f = NULL;
	const unsigned char *head;
	const char *shown = strcmp(path, "-") ? path : "<stdin>";
	struct input in;
	size_t n;
	int ret;

	if (type && !analyze_type_known(type))
		return known_types(e, type);
	if (input_open(&in, path, e))
		return -1;
	n = input_peek(&in, PROBE_BYTES, &head, e);
	if (!n) {
		input_close(&in);
		if (e && e->msg[0])
			return -1;
		return err_set(e, "cannot read '%s': the input is empty", shown);
	}
	if (type && !find_alias(type)) {
		f = format_by_name(type);
	} else if (type) {
		const struct alias *al = find_alias(type);
		int best = 0;

		for (size_t i = 0; i < 3 && al->formats[i]; i++) {
			const struct format *c = format_by_name(al->formats[i]);
			int s;

			if (!c || !c->read)
				continue;
			if (!f)
				f = c; /* the default when nothing claims the content: its reader explains why */
			s = c->probe ? c->probe(head, n) : 0;
			if (s > best) {
				best = s;
				f = c;
			}
		}
		if (!f) {
			input_close(&in);
			return err_set(e, "no reader for profile type '%s' in this build", type);
		}
	} else {
		f = format_detect_input(head, n, shown, e);
		if (!f) {
			input_close(&in);
			return -1;
		}
	}
	if (format)
		*format = f->name;
	input_show_progress(&in, "reading");
	ret = f->read(p, &in, &ro, e);
	if (ret)
		err_wrap(e, "cannot read '%s' as %s", shown, f->name);
	input_close(&in);
	return ret;
}
