/* The format table, content detection, and reading/writing a profile by path. */
#include "format.h"

#include <string.h>

#include "../core/atomicfile.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../profile/profile.h"

extern const struct format format_folded;
extern const struct format format_perf_script;
extern const struct format format_pprof, format_pprof_raw, format_speedscope, format_cpuprofile;
extern const struct format format_perfdata;
extern const struct format format_heapprofile;
extern const struct format format_traceevent;
extern const struct format format_firefox;
extern const struct format format_pprof_legacy, format_pprof_java, format_callgrind, format_stackprof;
extern const struct format format_jfr;
/* Recognised, not read (unread.c). */
extern const struct format format_unread_jemalloc_heap;

/*
 * One line per format; a new format is one new file and one line here. Formats kiln recognises but does not
 * read come last, so that a reader scoring as high as one of them wins (and its entry can go).
 */
const struct format *const formats[] = {
	&format_folded,
	&format_perf_script,
	&format_pprof, &format_pprof_raw, &format_speedscope, &format_cpuprofile,
	&format_perfdata,
	&format_heapprofile,
	&format_traceevent,
	&format_firefox,
	&format_pprof_legacy, &format_pprof_java, &format_callgrind, &format_stackprof,
	&format_jfr,
	&format_unread_jemalloc_heap,
	NULL,
};

const struct format *format_by_name(const char *name)
{
	for (size_t i = 0; formats[i]; i++)
		if (!strcmp(formats[i]->name, name))
			return formats[i];
	return NULL;
}

int format_value_column(const struct profile *p)
{
	int col = profile_find_column(p, "samples"), def = profile_default_column(p);

	/* A CPU profile (pprof's samples/count beside cpu/nanoseconds, as Go and kiln write it): count samples. */
	if (col < 0 || def < 0 || strcmp(profile_str(p, p->columns[col].unit), "count") ||
	    strcmp(profile_str(p, p->columns[def].type), "cpu"))
		return -1;
	return col;
}

const struct format *format_for_path(const char *path)
{
	size_t plen = strlen(path);
	const struct format *best = NULL;
	size_t best_len = 0;

	/* The longest matching extension wins, so ".pb.gz" beats ".gz". */
	for (size_t i = 0; formats[i]; i++) {
		if (!formats[i]->write || !formats[i]->extensions)
			continue;
		for (const char *const *x = formats[i]->extensions; *x; x++) {
			size_t xl = strlen(*x);

			if (xl <= plen && xl > best_len && !strcasecmp(path + plen - xl, *x)) {
				best = formats[i];
				best_len = xl;
			}
		}
	}
	return best;
}

const struct format *format_claim(const unsigned char *head, size_t len)
{
	const struct format *best = NULL;
	int best_score = 0;

	for (size_t i = 0; formats[i]; i++) {
		int s;

		if (!formats[i]->probe || (!formats[i]->read && formats[i]->write))
			continue;
		s = formats[i]->probe(head, len);
		if (s > best_score) {
			best_score = s;
			best = formats[i];
		}
	}
	return best;
}

const struct format *format_detect(const unsigned char *head, size_t len)
{
	const struct format *f = format_claim(head, len);

	return f && f->read ? f : NULL;
}

const struct format *format_detect_input(const unsigned char *head, size_t len, const char *name, struct err *e)
{
	const struct format *f = format_claim(head, len);

	if (f && f->read)
		return f;
	if (f)
		err_set(e, "'%s': %s, which kiln does not read", name, f->description);
	else
		err_set(e, "cannot detect the format of '%s'", name);
	return NULL;
}

bool format_skipped_too_many(uint64_t skipped, uint64_t lines)
{
	/* A stray line is a damaged file; more than one line in ten is a different format. */
	return skipped > 1 && skipped * 10 > lines;
}

bool profile_is_empty(const struct profile *p, int column)
{
	for (size_t r = 0; r < p->rows_nr; r++)
		for (size_t c = 0; c < p->ncolumns; c++)
			if ((column < 0 || (size_t)column == c) && profile_row_values(p, r)[c])
				return false;
	return true;
}

#define PROBE_BYTES 65536

/* The --type aliases: the candidates of each, the default first (its reader explains a refusal best). */
static const struct type_alias {
	const char *name;
	const char *formats[3];
} type_aliases[] = {
	{ "perf", { "perf-script", "perf.data", NULL } },
	{ "perf-data", { "perf.data", NULL, NULL } },
	{ "pprof", { "pprof", "pprof-raw", NULL } },
	{ "py-spy", { "folded", NULL, NULL } },
	{ "pyspy", { "folded", NULL, NULL } },
	{ "collapsed", { "folded", NULL, NULL } },
	{ "node", { "cpuprofile", NULL, NULL } },
};

static const struct type_alias *find_alias(const char *type)
{
	for (size_t i = 0; i < sizeof(type_aliases) / sizeof(type_aliases[0]); i++)
		if (!strcmp(type_aliases[i].name, type))
			return &type_aliases[i];
	return NULL;
}

bool format_type_known(const char *type)
{
	const struct format *f = format_by_name(type);

	return find_alias(type) || (f && f->read);
}

int format_type_unknown(const char *type, struct err *e)
{
	struct buf list = BUF_INIT;
	int ret;

	for (size_t i = 0; i < sizeof(type_aliases) / sizeof(type_aliases[0]); i++)
		buf_addf(&list, "%s%s", list.len ? ", " : "", type_aliases[i].name);
	for (size_t i = 0; formats[i]; i++)
		if (formats[i]->read)
			buf_addf(&list, ", %s", formats[i]->name);
	ret = err_set(e, "unknown profile type '%s' (known: %s)", type, list.buf);
	buf_release(&list);
	return ret;
}

static const struct format *pick_alias(const struct type_alias *al, const unsigned char *head, size_t n,
				       const char *name, struct err *e)
{
	const struct format *f = NULL, *claim;
	int best = 0;

	for (size_t i = 0; i < 3 && al->formats[i]; i++) {
		const struct format *c = format_by_name(al->formats[i]);
		int s;

		if (!c || !c->read)
			continue;
		if (!f)
			f = c;
		s = c->probe ? c->probe(head, n) : 0;
		if (s > best) {
			best = s;
			f = c;
		}
	}
	if (!f) {
		err_set(e, "no reader for profile type '%s' in this build", al->name);
		return NULL;
	}
	/* Nothing of the alias claims it, and a format kiln recognises but does not read does: refused by name. */
	claim = best ? NULL : format_claim(head, n);
	if (claim && !claim->read) {
		err_set(e, "'%s': %s, which kiln does not read", name, claim->description);
		return NULL;
	}
	return f;
}

const struct format *format_pick(struct input *in, const char *type, struct err *e)
{
	const struct type_alias *al = type ? find_alias(type) : NULL;
	const unsigned char *head;
	size_t n;

	if (type && !format_type_known(type)) {
		format_type_unknown(type, e);
		return NULL;
	}
	n = input_peek(in, PROBE_BYTES, &head, e);
	if (!n) {
		if (!e || !e->msg[0])
			err_set(e, "cannot read '%s': the input is empty", in->name);
		return NULL;
	}
	if (type && !al)
		return format_by_name(type);
	return al ? pick_alias(al, head, n, in->name, e) : format_detect_input(head, n, in->name, e);
}

int profile_load(struct profile *p, const char *path, const char *type, const struct format_read_opts *o,
		 const char **format, struct err *e)
{
	static const struct format_read_opts defaults;
	const struct format *f;
	struct input in;
	int ret;

	if (type && !format_type_known(type))
		return format_type_unknown(type, e);
	if (input_open(&in, path, e))
		return -1;
	f = format_pick(&in, type, e);
	if (!f) {
		input_close(&in);
		return -1;
	}
	if (format)
		*format = f->name;
	input_show_progress(&in, "reading");
	ret = f->read(p, &in, o ? o : &defaults, e);
	if (ret)
		err_wrap(e, "cannot read '%s' as %s", in.name, f->name);
	input_close(&in);
	return ret;
}

int profile_read_path(struct profile *p, const char *path, const char *type, const struct format_read_opts *o,
		      struct err *e)
{
	return profile_load(p, path, type, o, NULL, e);
}

int profile_write_path(const struct profile *p, const char *path, const struct format *f,
		       const struct format_write_opts *o, struct err *e)
{
	static const struct format_write_opts defaults = { -1 };
	struct afile af;

	if (!f || !f->write)
		return err_set(e, "cannot write '%s': no writable format for this file name", path);
	if (!o)
		o = &defaults;
	if (afile_open(&af, path, e))
		return -1;
	if (f->write(p, af.fp, o, e)) {
		afile_abort(&af);
		return -1;
	}
	return afile_commit(&af, e);
}
