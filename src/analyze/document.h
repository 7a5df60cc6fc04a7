/*
 * The document `kiln analyze` prints, built from profiles already read: text for a terminal, Markdown for
 * pull-request comments or JSON (docs/analyze-json.md). Heap profiles get the heap report (heap_report.h) ahead
 * of the analysis of their default column; several profiles are merged for the analysis and each function's share
 * per run is added (runs.h). A server builds the same document from the same profiles: nothing here prints.
 */
#ifndef KILN_ANALYZE_DOCUMENT_H
#define KILN_ANALYZE_DOCUMENT_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct err;
struct profile;

enum analyze_doc_format { ANALYZE_DOC_TEXT, ANALYZE_DOC_JSON, ANALYZE_DOC_MARKDOWN };

struct analyze_doc_opts {
	enum analyze_doc_format format;
	bool color;                  /* ANSI colours in the text document */
	double threshold;            /* percent (see struct analyze_opts) */
	size_t top;
	bool detailed;
	const char *value;           /* value column type, NULL for each profile's default */
	const char *const *files;    /* the profiles' names as the document shows them, one per profile */
	const char *const *formats;  /* the names of the formats they were read as, one per profile */
};

/* The document's format for a name ("text", "json", "markdown"); -1 for anything else. */
int analyze_doc_format_named(const char *name);

/*
 * Appends the document of the `n` profiles `ps` (n >= 1; merged into a new profile when several) to `out`.
 * `*saturated` (when non-NULL) tells whether a total saturated at 2^63-1, so that shares are approximate.
 * Returns 0, or -1 with `e` set to one line naming the first file.
 */
int analyze_document(struct profile *const *ps, size_t n, const struct analyze_doc_opts *o, struct buf *out,
		     bool *saturated, struct err *e);

#endif
