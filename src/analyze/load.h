/*
 * Reading a profile for analysis, with the seeds' --type names: "perf" is perf script text or a perf.data
 * file, "pprof" gzipped or plain pprof, "py-spy" and "collapsed" folded stacks; any registered format name is
 * accepted as well. Without a type the format is detected from the content.
 */
#ifndef KILN_ANALYZE_LOAD_H
#define KILN_ANALYZE_LOAD_H

struct err;
struct profile;

/*
 * Reads `path` ("-" = stdin) into `p`. `*format` (when non-NULL) receives the name of the format used (static).
 * Returns 0, or -1 with `e` set; an unknown `type` is reported with the accepted names.
 */
int analyze_load(struct profile *p, const char *path, const char *type, const char **format, struct err *e);

/* True when `type` is a name analyze_load() accepts. */
int analyze_type_known(const char *type);

#endif
