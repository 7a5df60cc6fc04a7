/*
 * What to tell a user whose language runtime comes out without names (docs/runtimes.md): a --language that
 * contradicts the program, a Node.js or Java process attached without what kiln needs to name its JIT code,
 * a Python version kiln cannot read. Library code: the texts are returned, the caller prints them.
 */
#ifndef KILN_RT_HINTS_H
#define KILN_RT_HINTS_H

#include <stddef.h>
#include <stdint.h>

#include "runtime.h"

struct err;
struct profile;

/* "Python", "Node.js", "Java", "Go", "native code". */
const char *rt_lang_display(enum rt_lang lang);

/*
 * Before recording: `asked` (a --language other than auto and native) against what the command `argv0` (NULL
 * when attaching) or the processes `pids` are. Returns -1 with `e` set when one of them is certainly another
 * runtime (a Python, Node.js or Java interpreter, a Go program); native programs and scripts may start the
 * runtime themselves (sh -c, make, npm), so they pass here and rt_language_missing() looks at the result.
 */
int rt_check_language(enum rt_lang asked, const char *argv0, const uint32_t *pids, size_t npids, struct err *e);

/*
 * After recording: when `asked` is a runtime and `p` has no frame of it, what was detected instead (malloc'd
 * text for a warning), else NULL.
 */
char *rt_language_missing(enum rt_lang asked, const struct profile *p, const char *argv0, const uint32_t *pids,
			  size_t npids);

/*
 * Attaching to process `pid`: how to get its functions named when kiln cannot (Node.js without a perf map, Java
 * without -XX:+PreserveFramePointer, Python 3.14+ without -X perf). Malloc'd text, or NULL when nothing is
 * missing.
 */
char *rt_attach_hint(uint32_t pid);

/* Why Python `major`.`minor` is not read and what would name its functions (static text). */
const char *rt_python_version_hint(unsigned major, unsigned minor);

#endif
