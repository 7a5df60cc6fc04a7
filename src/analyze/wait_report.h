/*
 * The wait-sites table of `kiln profile --mode offcpu|wall`: per wait, the innermost function of the program
 * itself and its caller, with the innermost user frame in brackets ("reader <- main [read]"), the heaviest first.
 * Where the thread left the CPU in the program's own terms: the kernel frames below are the same few scheduler
 * functions everywhere. In a Python stack the program's own functions are its Python frames: the innermost one
 * and its Python caller ("sleeper (app.py:4) <- main (app.py:9) [clock_nanosleep]"), not the interpreter's C
 * functions. A stack without user frames (a kernel thread of a system-wide trace) is "[kernel] COMM".
 */
#ifndef KILN_WAIT_REPORT_H
#define KILN_WAIT_REPORT_H

#include <stddef.h>

struct buf;
struct profile;

struct wait_report_opts {
	int column;             /* the waited time (nanoseconds) */
	int count_column;       /* the number of waits, -1 when the profile has none */
	size_t top;             /* rows shown; 0 writes nothing */
	const char *what;       /* the time column's heading: "off-CPU", "wall" */
	const char *count_name; /* the count column's heading: "switches", "samples" */
};

/* Appends the table (a heading line, then at most `top` rows) to `out`; nothing when there are no samples. */
void wait_report_format(struct buf *out, const struct profile *p, const struct wait_report_opts *o);

#endif
