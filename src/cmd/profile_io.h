/* The report of kiln profile --mode io (profile_io.c). */
#ifndef KILN_CMD_PROFILE_IO_H
#define KILN_CMD_PROFILE_IO_H

#include <stdint.h>

struct err;
struct io_result;

/* The summary tables on stderr; `top` rows per table (0: totals only). */
void profile_io_print(const struct io_result *res, long long top);
/* The summary as JSON to `path` ('-' for stdout), written atomically. Returns 0, or -1 with `e` set. */
int profile_io_write_json(const struct io_result *res, const char *path, uint64_t duration_ns, struct err *e);

#endif
