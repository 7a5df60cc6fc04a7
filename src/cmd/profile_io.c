/* The report of kiln profile --mode io: the I/O report (analyze/io_report.h) on stderr and --json. */
#include <stdio.h>

#include "../analyze/io_report.h"
#include "../core/atomicfile.h"
#include "../core/buf.h"
#include "../core/err.h"
#include "../core/json.h"
#include "../core/util.h"
#include "../profile/profile.h"
#include "../record/run.h"
#include "profile_common.h"

int profile_report_io(const struct profile_opts *o, struct profile *p, const struct record_result *res)
{
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	int ret = 0;

	(void)res;
	if (o->json) {
		struct jw j;

		jw_init(&j, &b, true);
		io_report_format_json(&j, p);
		buf_addch(&b, '\n');
		if (afile_write_all(o->json, b.buf, b.len, &e) < 0) {
			error_msg("%s", e.msg);
			ret = -1;
		}
		buf_reset(&b);
	}
	if (!o->quiet) {
		io_report_format_summary(&b, p);
		fprintf(stderr, "kiln: %s", b.buf);
		profile_print_ending(res);
		fputc('\n', stderr);
		buf_reset(&b);
		io_report_format_text(&b, p, o->top);
		fputs(b.buf, stderr);
	}
	buf_release(&b);
	return ret;
}
