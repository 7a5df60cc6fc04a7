/* The document of `kiln analyze` (see document.h). */
#include "document.h"

#include <string.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../core/json.h"
#include "../profile/profile.h"
#include "analysis.h"
#include "heap_report.h"
#include "io_report.h"
#include "report.h"
#include "runs.h"

int analyze_doc_format_named(const char *name)
{
	if (!strcmp(name, "text"))
		return ANALYZE_DOC_TEXT;
	if (!strcmp(name, "json"))
		return ANALYZE_DOC_JSON;
	if (!strcmp(name, "markdown"))
		return ANALYZE_DOC_MARKDOWN;
	return -1;
}

/* Ten rows per heap or I/O table at most: those reports sit above the analysis, not instead of it. */
static size_t report_top(const struct analyze_doc_opts *o)
{
	return o->top < 10 ? o->top : 10;
}

static int add_runs(struct buf *out, struct jw *j, struct profile *const *ps, size_t n,
		    const struct analyze_doc_opts *o, struct err *e)
{
	struct runs r;

	if (runs_compute(ps, n, o->value, &r, e))
		return -1;
	if (j)
		runs_format_json(&r, j, o->files, o->threshold, o->top);
	else
		runs_format_text(&r, out, o->files, o->threshold, o->top, o->format == ANALYZE_DOC_MARKDOWN);
	runs_release(&r);
	return 0;
}

static int format_json(struct buf *out, const struct analysis *a, const struct heap_report *heap,
		       struct profile *const *ps, size_t n, const struct analyze_doc_opts *o, struct err *e)
{
	struct jw j;

	jw_init(&j, out, true);
	jw_object_begin(&j);
	jw_kv_str(&j, "schema", "kiln-analyze/1");
	jw_key(&j, "files");
	jw_array_begin(&j);
	for (size_t i = 0; i < n; i++)
		jw_string(&j, o->files[i]);
	jw_array_end(&j);
	jw_key(&j, "formats");
	jw_array_begin(&j);
	for (size_t i = 0; i < n; i++)
		jw_string(&j, o->formats[i]);
	jw_array_end(&j);
	analysis_format_json(a, &j);
	if (n > 1 && add_runs(out, &j, ps, n, o, e))
		return -1;
	/* The heap report's members (peak_bytes, leaks, ...) sit beside the hotspots at the top level. */
	if (heap)
		heap_report_json_fields(&j, a->p, heap, report_top(o));
	/* The I/O summary is one member, the document kiln profile --mode io --json writes. */
	if (io_report_applies(a->p)) {
		jw_key(&j, "io");
		io_report_format_json(&j, a->p);
	}
	jw_object_end(&j);
	buf_addch(out, '\n');
	return 0;
}

static int format_text(struct buf *out, const struct analysis *a, const struct heap_report *heap,
		       struct profile *const *ps, size_t n, const struct analyze_doc_opts *o, struct err *e)
{
	bool md = o->format == ANALYZE_DOC_MARKDOWN;

	if (md)
		buf_addf(out, "## kiln analyze: %s\n\n", n == 1 ? o->files[0] : "several runs");
	else if (n == 1)
		buf_addf(out, "%s (%s)\n", o->files[0], o->formats[0]);
	else
		buf_addf(out, "%zu profiles merged\n", n);
	if (heap) {
		heap_report_format_text(out, a->p, heap, report_top(o));
		buf_addf(out, "\n%s analysis of the %s values:\n", md ? "###" : "Allocation-site",
			 profile_str(a->p, a->p->columns[a->column].type));
	}
	if (io_report_applies(a->p)) {
		buf_addf(out, "%sI/O summary: ", md ? "### " : "");
		io_report_format_summary(out, a->p);
		buf_addf(out, "\n%s", md ? "\n```\n" : "");
		io_report_format_text(out, a->p, (long long)report_top(o));
		buf_addf(out, "%s\n%s analysis of the %s values:\n", md ? "```\n" : "", md ? "###" : "System call",
			 profile_str(a->p, a->p->columns[a->column].type));
	}
	analysis_format_text(a, out, o->color && !md, md);
	return n > 1 ? add_runs(out, NULL, ps, n, o, e) : 0;
}

int analyze_document(struct profile *const *ps, size_t n, const struct analyze_doc_opts *o, struct buf *out,
		     bool *saturated, struct err *e)
{
	struct analyze_opts ao = { o->threshold, o->top, o->detailed, o->value };
	struct profile *merged = NULL;
	struct heap_report heap;
	bool have_heap = false;
	struct analysis a;
	int ret = -1;

	if (n > 1) {
		merged = profile_new(0);
		for (size_t i = 0; i < n; i++)
			if (profile_merge(merged, ps[i], e)) {
				err_wrap(e, "cannot merge '%s'", o->files[i]);
				goto out;
			}
	}
	if (analysis_run(merged ? merged : ps[0], &ao, &a, e)) {
		err_wrap(e, "cannot analyse '%s'", o->files[0]);
		goto out;
	}
	if (saturated)
		*saturated = a.saturated;
	if (heap_report_applies(a.p)) {
		struct heap_report_opts hopts = { .top = report_top(o) };

		have_heap = true;
		if (heap_report_compute(a.p, &hopts, &heap, e)) {
			err_wrap(e, "cannot analyse '%s'", o->files[0]);
			goto release;
		}
	}
	if (o->format == ANALYZE_DOC_JSON)
		ret = format_json(out, &a, have_heap ? &heap : NULL, ps, n, o, e);
	else
		ret = format_text(out, &a, have_heap ? &heap : NULL, ps, n, o, e);
release:
	if (have_heap)
		heap_report_release(&heap);
	analysis_release(&a);
out:
	profile_free(merged);
	return ret;
}
